/**
 * Field specs shared by the analog-like records (alarm limits, deadbands) and their monitor step.
 */
import { DBE } from '../../protocol/constants.js';
import { analogMonitorMask } from '../alarm.js';
import type { DbRecord } from '../record.js';

/** Alarm limit, severity and deadband fields of a record whose value type is `t`. */
export function limitFields(t: string, sevProp = true): string {
  const p = sevProp ? ' prop' : '';
  return `HIHI ${t} pp prop; LOLO ${t} pp prop; HIGH ${t} pp prop; LOW ${t} pp prop;
HHSV MENU pp${p} menu=menuAlarmSevr; LLSV MENU pp${p} menu=menuAlarmSevr; HSV MENU pp${p} menu=menuAlarmSevr;
LSV MENU pp${p} menu=menuAlarmSevr; HYST ${t}; ADEL ${t}; MDEL ${t}; LALM ${t} ro; ALST ${t} ro; MLST ${t} ro`;
}

/** monitor() of analog-like records: alarm reset plus MDEL/ADEL deadbands on VAL. */
export function monitorValue(rec: DbRecord): number {
  let mask = rec.resetAlarms();
  mask |= analogMonitorMask(rec, rec.v.VAL as number);
  if (mask) rec.post('VAL', mask);
  return mask;
}

/** Post a field when it differs from a remembered value; returns the new remembered value. */
export function postIfChanged(
  rec: DbRecord,
  field: string,
  last: number,
  mask = DBE.VALUE | DBE.LOG,
): number {
  return postChanged(rec, field, rec.num(field), last, mask);
}

/** postIfChanged with the field's current value `v` already read; returns `v`. */
export function postChanged(
  rec: DbRecord,
  field: string,
  v: number,
  last: number,
  mask = DBE.VALUE | DBE.LOG,
): number {
  if (v !== last && !(Number.isNaN(v) && Number.isNaN(last))) rec.post(field, mask);
  return v;
}
