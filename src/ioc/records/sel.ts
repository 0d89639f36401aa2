/** sel: selects one of A..L (Specified by SELN/NVL) or the High/Low/Median signal. */
import { AlarmStatus, Severity } from '../../protocol/constants.js';
import { checkLimitAlarms } from '../alarm.js';
import { DBE } from '../../protocol/constants.js';
import type { FieldDef } from '../fields.js';
import { DbRecord, type FieldMeta, type ProcessContext } from '../record.js';
import { defineRecordType } from '../record-type.js';
import { limitFields, monitorValue } from './analog-common.js';
import { INPUTS, LETTERS } from './calc.js';

const SPEC = `VAL DOUBLE ro; SELM MENU menu=selSELM; SELN USHORT; PREC SHORT; NVL INLINK; ${INPUTS.map((i) => `${i} INLINK`).join('; ')};
EGU STRING size=16 prop; HOPR DOUBLE prop; LOPR DOUBLE prop; ${limitFields('DOUBLE')};
${LETTERS.map((l) => `${l} DOUBLE pp`).join('; ')}; ${LETTERS.map((l) => `L${l} DOUBLE ro`).join('; ')}; NLST USHORT ro`;

export class SelRecord extends DbRecord {
  protected processRecord(ctx: ProcessContext | undefined): boolean {
    const specified = this.num('SELM') === 0;
    const nvl = this.link('NVL');
    if (specified && nvl.isReadable()) {
      const x = nvl.getNumber(ctx);
      if (x !== undefined) this.set('SELN', Math.trunc(x) & 0xffff);
    }
    // Specified: only the selected input is fetched (fetch_values)
    for (let i = 0; i < 12; i++) {
      if (specified && i !== this.num('SELN')) continue;
      const l = this.link(INPUTS[i]!);
      if (!l.isReadable()) continue;
      const x = l.getNumber(ctx);
      if (x !== undefined) this.set(LETTERS[i]!, x);
    }
    const val = this.select();
    if (val !== undefined) {
      this.set('VAL', val);
      this.set('UDF', Number.isNaN(val) ? 1 : 0);
    }
    this.stamp();
    checkLimitAlarms(this, this.num('VAL'), !!this.num('UDF'));
    monitorValue(this);
    for (const l of LETTERS) {
      if (!Object.is(this.num(l), this.num(`L${l}`))) {
        this.set(`L${l}`, this.num(l));
        this.post(l, DBE.VALUE | DBE.LOG);
      }
    }
    const seln = this.num('SELN');
    if (this.num('NLST') !== seln) {
      this.set('NLST', seln);
      this.post('SELN', DBE.VALUE | DBE.LOG);
    }
    this.fwdLink(ctx);
    return false;
  }
  /**
   * do_sel: the selected value, or undefined (VAL unchanged) with an INVALID alarm. High/Low set SELN
   * to the index of the (first) largest/smallest non-NaN input, Median to the number of them.
   */
  private select(): number | undefined {
    const vals = LETTERS.map((l) => this.num(l));
    const selm = this.num('SELM');
    if (selm === 0) {
      const seln = this.num('SELN');
      if (seln < 12) return vals[seln];
      this.setSevr(AlarmStatus.SOFT, Severity.INVALID);
      return undefined;
    }
    if (selm === 1 || selm === 2) {
      let val = selm === 1 ? -Infinity : Infinity;
      vals.forEach((v, i) => {
        if (!Number.isNaN(v) && (selm === 1 ? val < v : val > v)) {
          val = v;
          this.set('SELN', i);
        }
      });
      return val;
    }
    if (selm === 3) {
      const ok = vals.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
      this.set('SELN', ok.length);
      return ok.length === 0 ? NaN : ok[Math.floor(ok.length / 2)];
    }
    this.setSevr(AlarmStatus.CALC, Severity.INVALID);
    return undefined;
  }

  /** get_graphic_double / get_control_double: A..L and LA..LL report HOPR/LOPR, as VAL does. */
  override meta(fd: FieldDef): FieldMeta {
    const m = super.meta(fd);
    const n = fd.name;
    const arg =
      n.length === 1 ? LETTERS.includes(n) : n.length === 2 && n[0] === 'L' && LETTERS.includes(n[1]!);
    if (!arg || !m.limits) return m;
    const hopr = this.num('HOPR');
    const lopr = this.num('LOPR');
    return {
      ...m,
      limits: {
        ...m.limits,
        upperDispLimit: hopr,
        lowerDispLimit: lopr,
        upperCtrlLimit: hopr,
        lowerCtrlLimit: lopr,
      },
    };
  }

  override initRecord(): void {
    for (let i = 0; i < 12; i++) {
      const c = this.link(INPUTS[i]!).constNumber();
      this.set(LETTERS[i]!, c ?? NaN);
    }
    const n = this.link('NVL').constNumber();
    if (n !== undefined) this.set('SELN', n);
  }
}

export const selRecordType = defineRecordType('sel', SPEC, SelRecord, []);
