/** Shared constructor options of the record devices (ai, ao, bi, bo, scaler, mca, ...). */
import type { PvFactory } from './pv-like.js';

export interface RecordDeviceOptions {
  /** Connection timeout, seconds. */
  timeout?: number;
  pvFactory?: PvFactory;
  /** Create PVs for unknown capitalised attributes on first use (default true). */
  mutable?: boolean;
}

/** Strip a trailing `.VAL` / `.` from a record name. */
export function recordName(prefix: string): string {
  let p = prefix.trim();
  if (p.endsWith('.VAL')) p = p.slice(0, -4);
  if (p.endsWith('.')) p = p.slice(0, -1);
  return p;
}
