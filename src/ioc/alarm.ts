/**
 * Alarm helpers shared by record types: limit alarms with hysteresis (HIHI/HIGH/LOW/LOLO, HYST,
 * LALM) and monitor deadbands (MDEL/ADEL), as EPICS base's record support does them.
 */
import { AlarmStatus, DBE } from '../protocol/constants.js';

/** The subset of a record the limit-alarm check needs. */
export interface AlarmTarget {
  /** The record's field store (fields read by name: fixed slots, see record.ts). */
  readonly v: Record<string, number | string>;
  setSevr(stat: number, sevr: number): boolean;
}

/**
 * checkAlarms of ai/ao/calc/longin...: UDF first, then HIHI, LOLO, HIGH, LOW in that order with
 * hysteresis around the last alarm level LALM.
 */
export function checkLimitAlarms(rec: AlarmTarget, val: number, udf: boolean): void {
  const f = rec.v;
  if (udf) {
    rec.setSevr(AlarmStatus.UDF, f.UDFS as number);
    return;
  }
  const hyst = f.HYST as number;
  const lalm = f.LALM as number;
  const hihi = f.HIHI as number;
  const hhsv = f.HHSV as number;
  if (hhsv && (val >= hihi || (lalm === hihi && val >= hihi - hyst))) {
    if (rec.setSevr(AlarmStatus.HIHI, hhsv)) f.LALM = hihi;
    return;
  }
  const lolo = f.LOLO as number;
  const llsv = f.LLSV as number;
  if (llsv && (val <= lolo || (lalm === lolo && val <= lolo + hyst))) {
    if (rec.setSevr(AlarmStatus.LOLO, llsv)) f.LALM = lolo;
    return;
  }
  const high = f.HIGH as number;
  const hsv = f.HSV as number;
  if (hsv && (val >= high || (lalm === high && val >= high - hyst))) {
    if (rec.setSevr(AlarmStatus.HIGH, hsv)) f.LALM = high;
    return;
  }
  const low = f.LOW as number;
  const lsv = f.LSV as number;
  if (lsv && (val <= low || (lalm === low && val <= low + hyst))) {
    if (rec.setSevr(AlarmStatus.LOW, lsv)) f.LALM = low;
    return;
  }
  f.LALM = val;
}

/**
 * recGblCheckDeadband: returns `bits` when `val` moved more than `deadband` from `last` (NaN and
 * infinities count as changes, deadband < 0 posts always), else 0.
 */
export function deadbandBits(last: number, val: number, deadband: number, bits: number): number {
  let delta = 0;
  if (Number.isFinite(val) && Number.isFinite(last)) delta = Math.abs(last - val);
  else if (!(Number.isNaN(val) && Number.isNaN(last)) && !(val === last)) delta = Infinity;
  return delta <= deadband ? 0 : bits;
}

/** Value monitor of analog-like records: MDEL against MLST, ADEL against ALST. */
export function analogMonitorMask(rec: AlarmTarget, val: number): number {
  const f = rec.v;
  let mask = 0;
  const m = deadbandBits(f.MLST as number, val, f.MDEL as number, DBE.VALUE);
  if (m) {
    mask |= m;
    f.MLST = val;
  }
  const a = deadbandBits(f.ALST as number, val, f.ADEL as number, DBE.LOG);
  if (a) {
    mask |= a;
    f.ALST = val;
  }
  return mask;
}
