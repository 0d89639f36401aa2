/**
 * Steps several record types share: a constant input link at init_record, the output records'
 * invalid-output action (IVOA), and the monitor / change-of-state alarm of the enumerated records
 * (bi, bo, mbbi, mbbo).
 */
import { AlarmStatus, DBE, DbrNative, Severity } from '../../protocol/constants.js';
import type { DbRecord, ProcessContext } from '../record.js';

/**
 * init_record with a constant input link (INP or DOL): VAL = `convert(constant)`, UDF cleared.
 * Nothing happens when the link is not a numeric constant.
 */
export function initFromConstant(rec: DbRecord, linkName: string, convert: (c: number) => number): void {
  // an empty link (text '') holds no constant: no link object made for it
  if (rec.v[linkName] === '') return;
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
  const ivoa = rec.v.IVOA as number;
  if ((rec.v.NSEV as number) >= Severity.INVALID && ivoa !== 0) return ivoa === 2 ? 'ivov' : 'skip';
  return 'write';
}

/**
 * The number a readable input link (INP, DOL...) gives; undefined when the link is not readable
 * (constant or empty) or gives no value.
 */
export function readLinkNumber(
  rec: DbRecord,
  linkName: string,
  ctx: ProcessContext | undefined,
): number | undefined {
  const link = rec.link(linkName);
  return link.isReadable() ? link.getNumber(ctx) : undefined;
}

/**
 * Soft Channel input device support reading an empty or constant INP: dbGetLink succeeds without
 * giving a value, so the record counts as defined (UDF cleared) though VAL is unchanged.
 */
export function constantInput(rec: DbRecord, linkName = 'INP'): boolean {
  return rec.link(linkName).isConstant();
}

/** An output record's closed-loop input: DOL's number when OMSL = closed_loop, else undefined. */
export function closedLoopNumber(rec: DbRecord, ctx: ProcessContext | undefined): number | undefined {
  return rec.v.OMSL === 1 ? readLinkNumber(rec, 'DOL', ctx) : undefined;
}

/**
 * An output record's write: the IVOA action (IVOV into `field` for "Set output to IVOV"), then
 * `field` written to OUT as one element of `type`. Returns false when IVOA skipped the write.
 */
export function driveOutput(
  rec: DbRecord,
  field: string,
  type: typeof DbrNative.ENUM | typeof DbrNative.LONG | typeof DbrNative.DOUBLE,
  ctx: ProcessContext | undefined,
): boolean {
  const action = invalidOutputAction(rec);
  if (action === 'skip') return false;
  if (action === 'ivov') rec.set(field, rec.num('IVOV'));
  // an empty or constant OUT takes the write and does nothing with it: no value to build
  if (rec.v.OUT === '') return true;
  const link = rec.link('OUT');
  if (link.isConstant()) return true;
  const v = rec.num(field);
  const value =
    type === DbrNative.ENUM
      ? Uint16Array.of(v)
      : type === DbrNative.LONG
        ? Int32Array.of(v)
        : Float64Array.of(v);
  link.put(value, type, ctx);
  return true;
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
