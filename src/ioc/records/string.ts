/** stringin/stringout: 40-character string records. */
import { AlarmStatus, DBE, DbrNative, Severity } from '../../protocol/constants.js';
import { fitString, SIM_IN, SIM_OUT } from '../fields.js';
import { DbRecord, type ProcessContext } from '../record.js';
import { defineRecordType } from '../record-type.js';

const SI_SPEC = `VAL STRING pp size=40; OVAL STRING ro size=40; INP INLINK; MPST MENU menu=postOnChangeFirst;
APST MENU menu=postOnChangeFirst; SVAL STRING pp size=40; ${SIM_IN}`;
const SO_SPEC = `VAL STRING pp size=40; OVAL STRING ro size=40; DOL INLINK; OMSL MENU menu=menuOmsl; OUT OUTLINK;
MPST MENU menu=postOnChangeFirst; APST MENU menu=postOnChangeFirst; ${SIM_OUT}; IVOA MENU menu=menuIvoa; IVOV STRING size=40`;

/** monitor() of string records: MPST/APST "On Change" or "Always". */
export function monitorString(rec: DbRecord): void {
  let mask = rec.resetAlarms();
  const changed = rec.str('VAL') !== rec.str('OVAL');
  if (changed || rec.num('MPST') === 1) mask |= DBE.VALUE;
  if (changed || rec.num('APST') === 1) mask |= DBE.LOG;
  if (changed) rec.set('OVAL', rec.str('VAL'));
  if (mask) rec.post('VAL', mask);
}

export class StringinRecord extends DbRecord {
  protected processRecord(ctx: ProcessContext | undefined): boolean {
    const inp = this.link('INP');
    if (inp.isReadable()) {
      const s = inp.getString(ctx);
      if (s !== undefined) {
        this.set('VAL', fitString(s, 40));
        this.set('UDF', 0);
      }
    }
    this.stamp();
    monitorString(this);
    this.fwdLink(ctx);
    return false;
  }
  override initRecord(): void {
    const c = this.link('INP').constString();
    if (c !== undefined) {
      this.set('VAL', fitString(c, 40));
      this.set('UDF', 0);
    }
    this.set('OVAL', this.str('VAL')); // init_record: strcpy(oval, val)
  }
}

export class StringoutRecord extends DbRecord {
  protected processRecord(ctx: ProcessContext | undefined): boolean {
    const dol = this.link('DOL');
    if (this.num('OMSL') === 1 && dol.isReadable()) {
      const s = dol.getString(ctx);
      if (s !== undefined) {
        this.set('VAL', fitString(s, 40));
        this.set('UDF', 0);
      }
    }
    if (this.num('UDF')) this.setSevr(AlarmStatus.UDF, this.num('UDFS'));
    const out = this.link('OUT');
    const ivoa = this.num('IVOA');
    if (this.num('NSEV') >= Severity.INVALID && ivoa !== 0) {
      if (ivoa === 2) {
        this.set('VAL', this.str('IVOV'));
        out.put([this.str('VAL')], DbrNative.STRING, ctx);
      }
    } else if (this.num('DTYP') === 2) process.stdout.write(`${this.str('VAL')}\n`);
    else out.put([this.str('VAL')], DbrNative.STRING, ctx);
    this.stamp();
    monitorString(this);
    this.fwdLink(ctx);
    return false;
  }
  override initRecord(): void {
    const c = this.link('DOL').constString();
    if (c !== undefined) {
      this.set('VAL', fitString(c, 40));
      this.set('UDF', 0);
    }
    this.set('OVAL', this.str('VAL')); // init_record: strcpy(oval, val)
  }
}

export const stringinRecordType = defineRecordType('stringin', SI_SPEC, StringinRecord, [
  'Soft Channel',
  'Async Soft Channel',
  'Soft Timestamp',
  'General Time',
  'getenv',
]);
export const stringoutRecordType = defineRecordType('stringout', SO_SPEC, StringoutRecord, [
  'Soft Channel',
  'Async Soft Channel',
  'stdio',
]);
