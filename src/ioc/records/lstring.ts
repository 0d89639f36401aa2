/** lsi/lso: long string records (VAL up to SIZV-1 characters; `.VAL$` serves all of it as CHAR). */
import { AlarmStatus, DBE, DbrNative, Severity } from '../../protocol/constants.js';
import { fitString, SIM_IN, SIM_OUT, type FieldDef } from '../fields.js';
import { DbRecord, type ProcessContext } from '../record.js';
import { defineRecordType } from '../record-type.js';

const COMMON = `VAL STRING pp size=65535; OVAL STRING ro size=65535; SIZV USHORT ro init=41; LEN ULONG ro; OLEN ULONG ro;
MPST MENU menu=menuPost; APST MENU menu=menuPost`;
const LSI_SPEC = `${COMMON}; INP INLINK; ${SIM_IN}`;
const LSO_SPEC = `${COMMON}; DOL INLINK; IVOA MENU menu=menuIvoa; IVOV STRING size=40; OMSL MENU menu=menuOmsl; OUT OUTLINK; ${SIM_OUT}`;

abstract class LongStringRecord extends DbRecord {
  override fieldSize(fd: FieldDef): number {
    if (fd.name === 'VAL' || fd.name === 'OVAL')
      return Math.max(16, Math.min(this.num('SIZV') || 41, 0x7fff));
    return fd.size;
  }

  /** get_array_info: VAL has LEN elements, OVAL OLEN (0 until a value was set). */
  override stringElements(fd: FieldDef): number | undefined {
    if (fd.name === 'VAL') return this.num('LEN');
    if (fd.name === 'OVAL') return this.num('OLEN');
    return undefined;
  }

  protected setVal(s: string): void {
    const v = fitString(s, this.fieldSize(this.def.fieldMap.get('VAL')!));
    this.set('VAL', v);
    this.set('LEN', v.length + 1);
    this.set('UDF', 0);
  }

  override special(fd: FieldDef): void {
    if (fd.name === 'VAL') this.set('LEN', this.str('VAL').length + 1);
  }

  /** init_record: SIZV clamped to 16..0x7fff; a value loaded from the link also becomes OVAL/OLEN. */
  protected initLs(c: string | undefined): void {
    const sizv = this.num('SIZV');
    if (sizv < 16) this.set('SIZV', 16);
    else if (sizv > 0x7fff) this.set('SIZV', 0x7fff);
    if (c !== undefined) this.setVal(c);
    if (this.num('LEN')) {
      this.set('OVAL', this.str('VAL'));
      this.set('OLEN', this.num('LEN'));
      this.set('UDF', 0);
    }
  }

  protected monitorLs(): void {
    let mask = this.resetAlarms();
    const changed = this.str('VAL') !== this.str('OVAL');
    if (changed || this.num('MPST') === 1) mask |= DBE.VALUE;
    if (changed || this.num('APST') === 1) mask |= DBE.LOG;
    if (mask) this.post('VAL', mask);
    if (changed) {
      this.set('OVAL', this.str('VAL'));
      if (this.num('LEN') !== this.num('OLEN')) {
        this.set('OLEN', this.num('LEN'));
        this.post('LEN', DBE.VALUE | DBE.LOG);
      }
    }
  }
}

export class LsiRecord extends LongStringRecord {
  protected processRecord(ctx: ProcessContext | undefined): boolean {
    const inp = this.link('INP');
    if (inp.isReadable()) {
      const s = inp.getString(ctx);
      if (s !== undefined) this.setVal(s);
    }
    this.stamp();
    this.monitorLs();
    this.fwdLink(ctx);
    return false;
  }
  override initRecord(): void {
    this.initLs(this.link('INP').constString());
  }
}

export class LsoRecord extends LongStringRecord {
  protected processRecord(ctx: ProcessContext | undefined): boolean {
    const dol = this.link('DOL');
    if (this.num('OMSL') === 1 && dol.isReadable()) {
      const s = dol.getString(ctx);
      if (s !== undefined) this.setVal(s);
    }
    if (this.num('UDF')) this.setSevr(AlarmStatus.UDF, Severity.INVALID);
    const ivoa = this.num('IVOA');
    const out = this.link('OUT');
    if (this.num('NSEV') >= Severity.INVALID && ivoa !== 0) {
      if (ivoa === 2) {
        this.setVal(this.str('IVOV'));
        out.put([this.str('VAL')], DbrNative.STRING, ctx);
      }
    } else if (this.num('DTYP') === 2) process.stdout.write(`${this.str('VAL')}\n`);
    else out.put([this.str('VAL')], DbrNative.STRING, ctx);
    this.stamp();
    this.monitorLs();
    this.fwdLink(ctx);
    return false;
  }
  override initRecord(): void {
    this.initLs(this.link('DOL').constString());
  }
}

export const lsiRecordType = defineRecordType('lsi', LSI_SPEC, LsiRecord, ['Soft Channel', 'getenv']);
export const lsoRecordType = defineRecordType('lso', LSO_SPEC, LsoRecord, [
  'Soft Channel',
  'Async Soft Channel',
  'stdio',
]);
