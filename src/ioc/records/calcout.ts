/** calcout: calc with a conditional output (OOPT, DOPT/OCAL, ODLY delayed = asynchronous, IVOA). */
import { DBE, DbrNative } from '../../protocol/constants.js';
import { checkLimitAlarms } from '../alarm.js';
import type { ProcessContext } from '../record.js';
import { defineRecordType } from '../record-type.js';
import { limitFields, monitorValue, postIfChanged } from './analog-common.js';
import { CalcBase, INPUTS, LETTERS } from './calc.js';
import { ooptSays } from './long.js';
import { driveOutput } from './record-common.js';

const INAV = LETTERS.map((l) => `IN${l}V MENU ro menu=calcoutINAV init=1`).join('; ');
const SPEC = `RPVT NOACCESS ro; VAL DOUBLE; PVAL DOUBLE; CALC STRING pp size=80 init=0; CLCV LONG;
${INPUTS.map((i) => `${i} INLINK`).join('; ')}; OUT OUTLINK; ${INAV}; OUTV MENU ro menu=calcoutINAV;
OOPT MENU menu=OOPT; ODLY DOUBLE; DLYA USHORT ro; DOPT MENU menu=calcoutDOPT; OCAL STRING pp size=80 init=0; OCLV LONG;
OEVT STRING size=40; EPVT NOACCESS ro; IVOA MENU menu=menuIvoa; IVOV DOUBLE; EGU STRING size=16 prop; PREC SHORT prop;
HOPR DOUBLE prop; LOPR DOUBLE prop; ${limitFields('DOUBLE')}; ${LETTERS.map((l) => `${l} DOUBLE pp`).join('; ')}; OVAL DOUBLE;
${LETTERS.map((l) => `L${l} DOUBLE ro`).join('; ')}; POVL DOUBLE; RPCL NOACCESS ro; ORPC NOACCESS ro`;

export class CalcoutRecord extends CalcBase {
  protected processRecord(ctx: ProcessContext | undefined): boolean {
    this.calculate(ctx);
    checkLimitAlarms(this, this.num('VAL'), !!this.num('UDF'));
    const doOutput = ooptSays(this.num('OOPT'), this.num('VAL'), this.num('PVAL'), this.num('MDEL'));
    this.set('PVAL', this.num('VAL'));
    if (doOutput) {
      const odly = this.num('ODLY');
      if (odly > 0) {
        this.set('DLYA', 1);
        this.stamp();
        this.post('DLYA', DBE.VALUE);
        this.goAsync(ctx, odly, (sub) => {
          this.set('DLYA', 0);
          this.stamp();
          this.post('DLYA', DBE.VALUE);
          this.execOutput(sub);
          this.finish(sub);
        });
        return true;
      }
      this.execOutput(ctx);
    }
    this.stamp();
    this.finish(ctx);
    return false;
  }

  private finish(ctx: ProcessContext | undefined): void {
    monitorValue(this);
    this.monitorArgs();
    this.set('POVL', postIfChanged(this, 'OVAL', this.num('POVL')));
    this.fwdLink(ctx);
  }

  private execOutput(ctx: ProcessContext | undefined): void {
    if (this.num('DOPT') === 1) {
      const o = this.evaluate('OCAL');
      if (o !== undefined) this.set('OVAL', o);
    } else this.set('OVAL', this.num('VAL'));
    if (!driveOutput(this, 'OVAL', DbrNative.DOUBLE, ctx)) return;
    const evnt = this.str('OEVT');
    if (evnt) this.env.postEvent(evnt);
  }

  override initRecord(): void {
    super.initRecord();
    this.compileAt('OCAL');
    for (let i = 0; i < 12; i++) {
      const l = this.link(INPUTS[i]!);
      this.set(`IN${LETTERS[i]}V`, l.kind === 'db' ? 2 : l.kind === 'unresolved' ? 0 : 3);
    }
    const out = this.link('OUT');
    this.set('OUTV', out.kind === 'db' ? 2 : out.kind === 'unresolved' ? 0 : 3);
  }
}

export const calcoutRecordType = defineRecordType('calcout', SPEC, CalcoutRecord, [
  'Soft Channel',
  'Async Soft Channel',
]);
