/**
 * Alarm helpers shared by record types: limit alarms with hysteresis (HIHI/HIGH/LOW/LOLO, HYST,
 * LALM) and monitor deadbands (MDEL/ADEL), as EPICS base's record support does them.
 */
import { AlarmStatus, DBE } from '../protocol/constants.js';

/** The subset of a record the limit-alarm check needs. */
export interface AlarmTarget {
  num(field: string): number;
  set(field: string, v: number): void;
  setSevr(stat: number, sevr: number): boolean;
}

/**
 * checkAlarms of ai/ao/calc/longin...: UDF first, then HIHI, LOLO, HIGH, LOW in that order with
 * hysteresis around the last alarm level LALM.
 */
export function checkLimitAlarms(rec: AlarmTarget, val: number, udf: boolean): void {
  if (udf) {
    rec.setSevr(AlarmStatus.UDF, rec.num('UDFS'));
    return;
  }
  const hyst = rec.num('HYST');
  const lalm = rec.num('LALM');
  const hihi = rec.num('HIHI');
  const hhsv = rec.num('HHSV');
  if (hhsv && (val >= hihi || (lalm === hihi && val >= hihi - hyst))) {
    if (rec.setSevr(AlarmStatus.HIHI, hhsv)) rec.set('LALM', hihi);
    return;
  }
  const lolo = rec.num('LOLO');
  const llsv = rec.num('LLSV');
  if (llsv && (val <= lolo || (lalm === lolo && val <= lolo + hyst))) {
    if (rec.setSevr(AlarmStatus.LOLO, llsv)) rec.set('LALM', lolo);
    return;
  }
  const high = rec.num('HIGH');
  const hsv = rec.num('HSV');
  if (hsv && (val >= high || (lalm === high && val >= high - hyst))) {
    if (rec.setSevr(AlarmStatus.HIGH, hsv)) rec.set('LALM', high);
    return;
  }
  const low = rec.num('LOW');
  const lsv = rec.num('LSV');
  if (lsv && (val <= low || (lalm === low && val <= low + hyst))) {
    if (rec.setSevr(AlarmStatus.LOW, lsv)) rec.set('LALM', low);
    return;
  }
  rec.set('LALM', val);
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
  let mask = 0;
  const m = deadbandBits(rec.num('MLST'), val, rec.num('MDEL'), DBE.VALUE);
  if (m) {
    mask |= m;
    rec.set('MLST', val);
  }
  const a = deadbandBits(rec.num('ALST'), val, rec.num('ADEL'), DBE.LOG);
  if (a) {
    mask |= a;
    rec.set('ALST', val);
  }
  return mask;
}
