/** Shared constructor options of the record devices (ai, ao, bi, bo, scaler, mca, ...). */
import { Device } from './device.js';
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

/** Display fields every analog/binary record device has (pyepics' order). */
export const DISPLAY_FIELDS = ['VAL', 'EGU', 'HOPR', 'LOPR', 'PREC', 'NAME', 'DESC', 'DTYP'] as const;
/** Raw <-> engineering unit conversion fields of ai/ao. */
export const CONVERSION_FIELDS = [
  'LINR',
  'RVAL',
  'ROFF',
  'EGUF',
  'EGUL',
  'AOFF',
  'ASLO',
  'ESLO',
  'EOFF',
] as const;
/** Alarm limit fields of ai/ao. */
export const ALARM_FIELDS = ['HIHI', 'LOLO', 'HIGH', 'LOW', 'HHSV', 'LLSV', 'HSV', 'LSV', 'HYST'] as const;

/** A Device over one record's fields (`prefix` is the record name; `.VAL` or `.` stripped). */
export class RecordDevice extends Device {
  constructor(prefix: string, attrs: readonly string[], opts: RecordDeviceOptions = {}) {
    super(recordName(prefix), { ...opts, delim: '.', attrs });
  }
}
