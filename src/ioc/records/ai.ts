/** ai: analog input (Soft Channel: INP read as double, ASLO/AOFF, SMOO; Raw Soft Channel: RVAL). */
import { checkLimitAlarms } from '../alarm.js';
import { SIM_IN, type FieldDef } from '../fields.js';
import { DbRecord, type ProcessContext } from '../record.js';
import { defineRecordType } from '../record-type.js';
import { initFromConstant } from './record-common.js';
import { limitFields, monitorValue, postIfChanged } from './analog-common.js';

const SPEC = `VAL DOUBLE pp; INP INLINK; PREC SHORT prop; LINR MENU pp menu=menuConvert; EGUF DOUBLE pp; EGUL DOUBLE pp;
EGU STRING size=16 prop; HOPR DOUBLE prop; LOPR DOUBLE prop; AOFF DOUBLE pp; ASLO DOUBLE pp init=1; SMOO DOUBLE;
${limitFields('DOUBLE')}; AFTC DOUBLE; AFVL DOUBLE ro; ESLO DOUBLE pp init=1; EOFF DOUBLE pp; ROFF ULONG pp;
PBRK NOACCESS ro; INIT SHORT ro; LBRK SHORT ro; RVAL LONG pp; ORAW LONG ro; SVAL DOUBLE; ${SIM_IN}`;

export class AiRecord extends DbRecord {
  private smoothed = false;

  protected processRecord(ctx: ProcessContext | undefined): boolean {
    const inp = this.link('INP');
    const raw = this.num('DTYP') === 1;
    let failed = false;
    if (inp.isReadable()) {
      const x = inp.getNumber(ctx);
      if (x === undefined) failed = true;
      else {
        if (raw) {
          this.set('RVAL', x | 0);
          this.convertRaw();
        } else {
          let val = x;
          if (this.num('ASLO') !== 0) val *= this.num('ASLO');
          val += this.num('AOFF');
          const smoo = this.num('SMOO');
          const old = this.num('VAL');
          this.set(
            'VAL',
            smoo !== 0 && this.smoothed && Number.isFinite(old) ? val * (1 - smoo) + old * smoo : val,
          );
          this.smoothed = true;
          this.set('UDF', Number.isNaN(this.num('VAL')) ? 1 : 0);
        }
      }
    } else if (raw && inp.kind === 'const') this.convertRaw();
    // aiRecord.c: a process whose read did not fail sets UDF from the value (a constant or empty INP
    // too), so a processed ai is defined
    if (!failed) this.set('UDF', Number.isNaN(this.num('VAL')) ? 1 : 0);
    this.stamp();
    checkLimitAlarms(this, this.num('VAL'), !!this.num('UDF'));
    monitorValue(this);
    this.set('ORAW', postIfChanged(this, 'RVAL', this.num('ORAW')));
    this.fwdLink(ctx);
    return false;
  }

  private convertRaw(): void {
    let val = this.num('RVAL') + this.num('ROFF');
    if (this.num('ASLO') !== 0) val *= this.num('ASLO');
    val += this.num('AOFF');
    if (this.num('LINR') === 1 || this.num('LINR') === 2) val = val * this.num('ESLO') + this.num('EOFF');
    this.set('VAL', val);
    this.set('UDF', Number.isNaN(val) ? 1 : 0);
  }

  /** get_units: EGU, but none for the conversion fields ASLO, AOFF, SMOO. */
  override hasUnits(fd: FieldDef): boolean {
    return fd.name !== 'ASLO' && fd.name !== 'AOFF' && fd.name !== 'SMOO';
  }

  override initRecord(): void {
    initFromConstant(this, 'INP', (c) => c);
  }
}

export const aiRecordType = defineRecordType('ai', SPEC, AiRecord, [
  'Soft Channel',
  'Raw Soft Channel',
  'Async Soft Channel',
  'Soft Timestamp',
  'General Time',
]);
