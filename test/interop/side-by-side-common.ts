// Shared pieces of the side-by-side tests (side-by-side-*.test.ts): the database, the PV list,
// the mapping between pyepics' JSON (test/interop/py/common.py) and our values, a differ.
import assert from 'node:assert/strict';
import path from 'node:path';
import { CaError } from '../../src/client/errors.js';
import { REPO_ROOT } from '../helpers/ioc-process.js';

export const SBS_DB = path.join(REPO_ROOT, 'test', 'interop', 'fixtures', 'side-by-side.db');

/** pyepics' snake_case metadata keys and ours. */
export const SNAKE: Record<string, string> = {
  pvname: 'pvname',
  value: 'value',
  char_value: 'charValue',
  status: 'status',
  severity: 'severity',
  ftype: 'ftype',
  type: 'type',
  typefull: 'typefull',
  chid: 'chid',
  host: 'host',
  count: 'count',
  nelm: 'nelm',
  access: 'access',
  read_access: 'readAccess',
  write_access: 'writeAccess',
  timestamp: 'timestamp',
  posixseconds: 'posixseconds',
  nanoseconds: 'nanoseconds',
  precision: 'precision',
  units: 'units',
  enum_strs: 'enumStrs',
  monitor_delta: 'monitorDelta',
  upper_disp_limit: 'upperDispLimit',
  lower_disp_limit: 'lowerDispLimit',
  upper_alarm_limit: 'upperAlarmLimit',
  lower_alarm_limit: 'lowerAlarmLimit',
  upper_warning_limit: 'upperWarningLimit',
  lower_warning_limit: 'lowerWarningLimit',
  upper_ctrl_limit: 'upperCtrlLimit',
  lower_ctrl_limit: 'lowerCtrlLimit',
  cb_info: 'cbInfo',
};

/** numpy dtype of each typed array kind. */
const DTYPE = new Map<unknown, string>([
  [Float64Array, 'float64'],
  [Float32Array, 'float32'],
  [Int32Array, 'int32'],
  [Uint32Array, 'uint32'],
  [Int16Array, 'int16'],
  [Uint16Array, 'uint16'],
  [Int8Array, 'int8'],
  [Uint8Array, 'uint8'],
]);

/** Our value in the JSON shape test/interop/py/common.py gives pyepics' values. */
export function toJson(v: unknown): unknown {
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN';
    if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
    return v;
  }
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    const dtype = DTYPE.get(v.constructor);
    assert.ok(dtype, `unexpected array kind ${v.constructor.name}`);
    return { dtype, values: Array.from(v as unknown as ArrayLike<number>, toJson) };
  }
  if (Array.isArray(v)) return v.map(toJson);
  if (v instanceof CaError) return { error: v.name };
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined && typeof x !== 'function') o[k] = toJson(x);
    return o;
  }
  return v === undefined ? null : v;
}

/** Our camelCase metadata as pyepics' snake_case (undefined keys dropped, as pyepics omits them). */
export function toSnake(o: Record<string, unknown>): Record<string, unknown> {
  const back = new Map(Object.entries(SNAKE).map(([s, c]) => [c, s]));
  const r: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    r[back.get(k) ?? k] = toJson(v);
  }
  return r;
}

/** Runs f, turning a rejection into {error: name} (pyepics' None / exception, recorded the same way). */
export async function attempt(f: () => Promise<unknown>): Promise<unknown> {
  try {
    return toJson(await f());
  } catch (e) {
    if (e instanceof CaError) return { error: e.name, eca: e.eca };
    return { error: e instanceof Error ? e.name : String(e) };
  }
}

export const NAMES = [
  'SBS:ai',
  'SBS:alarm',
  'SBS:ao',
  'SBS:ao:big',
  'SBS:bi',
  'SBS:bo',
  'SBS:mbbi',
  'SBS:mbbo',
  'SBS:li',
  'SBS:lo',
  'SBS:si',
  'SBS:so',
  'SBS:wf:d',
  'SBS:wf:f',
  'SBS:wf:l',
  'SBS:wf:ul',
  'SBS:wf:s',
  'SBS:wf:us',
  'SBS:wf:uc',
  'SBS:wf:c',
  'SBS:wf:str',
  'SBS:sub',
  'SBS:cnt',
];

/** Waveform contents written before reading (the .db leaves them empty). */
export const WAVEFORMS: [string, unknown][] = [
  ['SBS:wf:d', [1.5, -2.25, 3.125, 4, 5.5]],
  ['SBS:wf:f', [0.5, 1.25, -3.75]],
  ['SBS:wf:l', [1, -2, 2147483647, -2147483648]],
  ['SBS:wf:ul', [1, 4294967295, 7]],
  ['SBS:wf:s', [1, -2, 32767, -32768]],
  ['SBS:wf:us', [1, 65535, 3]],
  ['SBS:wf:uc', [0, 1, 255, 128]],
  ['SBS:wf:c', 'hello tsepics'],
  ['SBS:wf:str', ['one', 'two', 'three']],
];

export type Row = Record<string, unknown>;
export interface PyReads {
  pv: Record<string, Row>;
  ca: Record<string, Row>;
  caget_many: unknown[];
  caget_many_str: unknown[];
}

/** Differences between pyepics' JSON and ours (floats compared with a relative tolerance). */
export function diff(py: unknown, ours: unknown, where: string, out: string[], tol = 0): void {
  if (typeof py === 'number' && typeof ours === 'number') {
    if (py === ours) return;
    if (tol > 0 && Math.abs(py - ours) <= tol * Math.max(1, Math.abs(py))) return;
    out.push(`${where}: pyepics ${py} ours ${ours}`);
    return;
  }
  if (Array.isArray(py) && Array.isArray(ours)) {
    if (py.length !== ours.length) {
      out.push(`${where}: pyepics ${JSON.stringify(py)} ours ${JSON.stringify(ours)}`);
      return;
    }
    py.forEach((x, i) => diff(x, ours[i], `${where}[${i}]`, out, tol));
    return;
  }
  if (py && ours && typeof py === 'object' && typeof ours === 'object' && !Array.isArray(py)) {
    const a = py as Row;
    const b = ours as Row;
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      if (!(k in a)) out.push(`${where}.${k}: only ours (${JSON.stringify(b[k])})`);
      else if (!(k in b)) out.push(`${where}.${k}: only pyepics (${JSON.stringify(a[k])})`);
      else diff(a[k], b[k], `${where}.${k}`, out, tol);
    }
    return;
  }
  if (py !== ours) out.push(`${where}: pyepics ${JSON.stringify(py)} ours ${JSON.stringify(ours)}`);
}
