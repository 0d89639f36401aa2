/** fanout (LNK0..LNKF forward links, SELM All/Specified/Mask) and dfanout (value to OUTA..OUTH). */
import { AlarmStatus, DBE, DbrNative, Severity } from '../../protocol/constants.js';
import { checkLimitAlarms } from '../alarm.js';
import { DbRecord, type ProcessContext } from '../record.js';
import { defineRecordType } from '../record-type.js';
import { limitFields, monitorValue } from './analog-common.js';
import { closedLoopNumber } from './record-common.js';

const HEX = '0123456789ABCDEF';
const FAN_LINKS = [...HEX].map((c) => `LNK${c}`);
const FANOUT_SPEC = `VAL LONG pp; SELM MENU menu=SELM; SELN USHORT init=1; SELL INLINK; OFFS SHORT init=0; SHFT SHORT init=-1;
${FAN_LINKS.map((l) => `${l} FWDLINK`).join('; ')}`;

const OUTS = [...'ABCDEFGH'].map((c) => `OUT${c}`);
const DFANOUT_SPEC = `VAL DOUBLE pp; SELM MENU menu=SELM; SELN USHORT init=1; SELL INLINK; ${OUTS.map((o) => `${o} OUTLINK`).join('; ')};
DOL INLINK; OMSL MENU menu=menuOmsl; EGU STRING size=16 prop; PREC SHORT prop; HOPR DOUBLE prop; LOPR DOUBLE prop;
${limitFields('DOUBLE')}`;

/** Which of n links a SELM/SELN/OFFS/SHFT selection picks; undefined = bad selection. */
function selected(rec: DbRecord, n: number, specifiedBase: number): number[] | undefined {
  const seln = rec.num('SELN');
  switch (rec.num('SELM')) {
    case 0:
      return [...Array(n).keys()];
    case 1: {
      const i = seln + specifiedBase;
      return i < 0 || i >= n ? undefined : [i];
    }
    case 2: {
      const shft = rec.def.fieldMap.has('SHFT') ? rec.num('SHFT') : 0;
      if (shft < -15 || shft > 15) return undefined;
      let bits = shft >= 0 ? seln >> shft : (seln << -shft) & 0xffff;
      const out: number[] = [];
      for (let i = 0; i < n && bits; i++, bits >>= 1) if (bits & 1) out.push(i);
      return out;
    }
    default:
      return undefined;
  }
}

export class FanoutRecord extends DbRecord {
  protected processRecord(ctx: ProcessContext | undefined): boolean {
    const oldn = this.num('SELN');
    const sell = this.link('SELL');
    if (sell.isReadable()) {
      const x = sell.getNumber(ctx);
      if (x !== undefined) this.set('SELN', Math.trunc(x) & 0xffff);
    }
    const sel = selected(this, 16, this.num('OFFS'));
    if (!sel) this.setSevr(AlarmStatus.SOFT, Severity.INVALID);
    else for (const i of sel) this.link(FAN_LINKS[i]!).forward(ctx);
    this.set('UDF', 0);
    this.stamp();
    const events = this.resetAlarms();
    if (events) this.post('VAL', events);
    if (this.num('SELN') !== oldn) this.post('SELN', events | DBE.VALUE | DBE.LOG);
    this.fwdLink(ctx);
    return false;
  }
}

export class DfanoutRecord extends DbRecord {
  protected processRecord(ctx: ProcessContext | undefined): boolean {
    const x = closedLoopNumber(this, ctx);
    if (x !== undefined) {
      this.set('VAL', x);
      this.set('UDF', 0);
    }
    const sell = this.link('SELL');
    if (sell.isReadable()) {
      const x = sell.getNumber(ctx);
      if (x !== undefined) this.set('SELN', Math.trunc(x) & 0xffff);
    }
    checkLimitAlarms(this, this.num('VAL'), !!this.num('UDF'));
    const sel = selected(this, 8, -1);
    if (!sel) this.setSevr(AlarmStatus.SOFT, Severity.INVALID);
    else {
      const v = Float64Array.of(this.num('VAL'));
      for (const i of sel) this.link(OUTS[i]!).put(v, DbrNative.DOUBLE, ctx);
    }
    this.stamp();
    monitorValue(this);
    this.fwdLink(ctx);
    return false;
  }
}

export const fanoutRecordType = defineRecordType('fanout', FANOUT_SPEC, FanoutRecord, []);
export const dfanoutRecordType = defineRecordType('dfanout', DFANOUT_SPEC, DfanoutRecord, []);
