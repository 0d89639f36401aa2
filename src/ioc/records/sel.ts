/** sel: selects one of A..L (Specified by SELN/NVL) or the High/Low/Median signal. */
import { AlarmStatus, Severity } from '../../protocol/constants.js';
import { checkLimitAlarms } from '../alarm.js';
import { DBE } from '../../protocol/constants.js';
import { DbRecord, type ProcessContext } from '../record.js';
import { defineRecordType } from '../record-type.js';
import { limitFields, monitorValue } from './analog-common.js';
import { INPUTS, LETTERS } from './calc.js';

const SPEC = `VAL DOUBLE ro; SELM MENU menu=selSELM; SELN USHORT; PREC SHORT; NVL INLINK; ${INPUTS.map((i) => `${i} INLINK`).join('; ')};
EGU STRING size=16 prop; HOPR DOUBLE prop; LOPR DOUBLE prop; ${limitFields('DOUBLE')};
${LETTERS.map((l) => `${l} DOUBLE pp`).join('; ')}; ${LETTERS.map((l) => `L${l} DOUBLE ro`).join('; ')}; NLST USHORT ro`;

export class SelRecord extends DbRecord {
  protected processRecord(ctx: ProcessContext | undefined): boolean {
    const nvl = this.link('NVL');
    if (nvl.isReadable()) {
      const x = nvl.getNumber(ctx);
      if (x !== undefined) this.set('SELN', Math.trunc(x) & 0xffff);
    }
    for (let i = 0; i < 12; i++) {
      const l = this.link(INPUTS[i]!);
      if (!l.isReadable()) continue;
      const x = l.getNumber(ctx);
      if (x !== undefined) this.set(LETTERS[i]!, x);
    }
    const vals = LETTERS.map((l) => this.num(l));
    const seln = this.num('SELN');
    let val: number | undefined;
    switch (this.num('SELM')) {
      case 0:
        if (seln >= 12) this.setSevr(AlarmStatus.SOFT, Severity.INVALID);
        else val = vals[seln];
        break;
      default: {
        const ok = vals.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
        if (ok.length === 0) break;
        const m = this.num('SELM');
        val = m === 1 ? ok[ok.length - 1] : m === 2 ? ok[0] : ok[Math.floor(ok.length / 2)];
      }
    }
    if (val !== undefined) this.set('VAL', val);
    this.set('UDF', Number.isNaN(this.num('VAL')) || val === undefined ? 1 : 0);
    this.stamp();
    checkLimitAlarms(this, this.num('VAL'), !!this.num('UDF'));
    monitorValue(this);
    for (const l of LETTERS) {
      if (!Object.is(this.num(l), this.num(`L${l}`))) {
        this.set(`L${l}`, this.num(l));
        this.post(l, DBE.VALUE | DBE.LOG);
      }
    }
    if (this.num('NLST') !== seln) {
      this.set('NLST', seln);
      this.post('SELN', DBE.VALUE | DBE.LOG);
    }
    this.fwdLink(ctx);
    return false;
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

export const selRecordType = defineRecordType('sel', SPEC, SelRecord, ['Soft Channel']);
