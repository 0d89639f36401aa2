/**
 * Steps several record types share: a constant input link at init_record, the output records'
 * invalid-output action (IVOA), and the monitor / change-of-state alarm of the enumerated records
 * (bi, bo, mbbi, mbbo).
 */
import { AlarmStatus, DBE, Severity } from '../../protocol/constants.js';
import type { DbRecord } from '../record.js';

/**
 * init_record with a constant input link (INP or DOL): VAL = `convert(constant)`, UDF cleared.
 * Nothing happens when the link is not a numeric constant.
 */
export function initFromConstant(rec: DbRecord, linkName: string, convert: (c: number) => number): void {
  const c = rec.link(linkName).constNumber();
  if (c !== undefined) {
    rec.set('VAL', convert(c));
    rec.set('UDF', 0);
  }
}

/**
 * What an output record does with its output when its new severity is INVALID (menuIvoa):
 * `'write'` (no INVALID alarm, or IVOA = Continue normally), `'skip'` (Don't drive outputs) or
 * `'ivov'` (Set output to IVOV, then write it).
 */
export function invalidOutputAction(rec: DbRecord): 'write' | 'skip' | 'ivov' {
  const ivoa = rec.num('IVOA');
  if (rec.num('NSEV') >= Severity.INVALID && ivoa !== 0) return ivoa === 2 ? 'ivov' : 'skip';
  return 'write';
}

/** monitor() of the enumerated records: VAL on change (MLST) or alarm change, RVAL on change (ORAW). */
export function enumMonitor(rec: DbRecord): void {
  let mask = rec.resetAlarms();
  const val = rec.num('VAL');
  if (rec.num('MLST') !== val) {
    mask |= DBE.VALUE | DBE.LOG;
    rec.set('MLST', val);
  }
  if (mask) rec.post('VAL', mask);
  if (rec.num('ORAW') !== rec.num('RVAL')) {
    rec.post('RVAL', DBE.VALUE | DBE.LOG);
    rec.set('ORAW', rec.num('RVAL'));
  }
}

/** The change-of-state alarm (COSV) when VAL differs from the last alarmed value LALM. */
export function changeOfStateAlarm(rec: DbRecord, val: number): void {
  if (val === rec.num('LALM')) return;
  rec.setSevr(AlarmStatus.COS, rec.num('COSV'));
  rec.set('LALM', val);
}
