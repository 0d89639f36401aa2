/** seq: up to 16 delayed DOLn -> DOn -> LNKn transfers (asynchronous when a delay is set). */
import { AlarmStatus, DBE, DbrNative, Severity } from '../../protocol/constants.js';
import { DbRecord, ProcessContext } from '../record.js';
import { defineRecordType } from '../record-type.js';

const IDS = [...'0123456789ABCDEF'];
const GROUPS = IDS.map((c) => `DLY${c} DOUBLE; DOL${c} INLINK; DO${c} DOUBLE; LNK${c} OUTLINK`).join('; ');
const SPEC = `VAL LONG pp; SELM MENU menu=SELM; SELN USHORT init=1; SELL INLINK; OFFS SHORT init=0; SHFT SHORT init=-1;
OLDN USHORT; PREC SHORT; ${GROUPS}`;

export class SeqRecord extends DbRecord {
  private selectedGroups(): number[] | undefined {
    const seln = this.num('SELN');
    const used = (i: number): boolean =>
      this.link(`DOL${IDS[i]}`).kind !== 'empty' || this.link(`LNK${IDS[i]}`).kind !== 'empty';
    switch (this.num('SELM')) {
      case 0:
        return IDS.map((_, i) => i).filter(used);
      case 1: {
        const i = seln + this.num('OFFS');
        return i < 0 || i >= 16 ? undefined : [i];
      }
      case 2: {
        const shft = this.num('SHFT');
        if (shft < -15 || shft > 15) return undefined;
        let bits = shft >= 0 ? seln >> shft : (seln << -shft) & 0xffff;
        const out: number[] = [];
        for (let i = 0; i < 16 && bits; i++, bits >>= 1) if (bits & 1) out.push(i);
        return out;
      }
      default:
        return undefined;
    }
  }

  private step(i: number, ctx: ProcessContext | undefined): void {
    const id = IDS[i]!;
    const dol = this.link(`DOL${id}`);
    if (dol.isReadable()) {
      const x = dol.getNumber(ctx);
      if (x !== undefined) this.set(`DO${id}`, x);
    }
    this.link(`LNK${id}`).put(Float64Array.of(this.num(`DO${id}`)), DbrNative.DOUBLE, ctx);
  }

  private finish(ctx: ProcessContext | undefined): void {
    this.set('UDF', 0);
    this.stamp();
    const mask = this.resetAlarms() | DBE.VALUE | DBE.LOG;
    this.post('VAL', mask);
    this.fwdLink(ctx);
  }

  protected processRecord(ctx: ProcessContext | undefined): boolean {
    const sell = this.link('SELL');
    if (sell.isReadable()) {
      const x = sell.getNumber(ctx);
      if (x !== undefined) this.set('SELN', Math.trunc(x) & 0xffff);
    }
    const groups = this.selectedGroups();
    if (!groups) {
      this.setSevr(AlarmStatus.SOFT, Severity.INVALID);
      this.finish(ctx);
      return false;
    }
    let k = 0;
    const runUntilDelay = (c: ProcessContext | undefined): void => {
      while (k < groups.length && !(this.num(`DLY${IDS[groups[k]!]}`) > 0)) this.step(groups[k++]!, c);
    };
    runUntilDelay(ctx);
    if (k >= groups.length) {
      this.finish(ctx);
      return false;
    }
    const sub = new ProcessContext();
    const p = new Promise<void>((resolve) => {
      const next = (): void => {
        this.env.schedule(
          () => {
            this.step(groups[k++]!, sub);
            runUntilDelay(sub);
            if (k < groups.length) return next();
            this.finish(sub);
            this.endAsync(sub);
            sub.done().then(resolve, resolve);
          },
          this.num(`DLY${IDS[groups[k]!]}`),
          () => {
            this.pact = false;
            resolve();
          },
        );
      };
      next();
    });
    this.asyncDone = p;
    ctx?.add(p);
    return true;
  }

  override initRecord(): void {
    for (const id of IDS) {
      const c = this.link(`DOL${id}`).constNumber();
      if (c !== undefined) this.set(`DO${id}`, c);
    }
  }
}

export const seqRecordType = defineRecordType('seq', SPEC, SeqRecord, []);
