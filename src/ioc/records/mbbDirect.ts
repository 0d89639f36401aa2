/** mbbiDirect/mbboDirect: a LONG value and its 32 bits B0..B1F as separate fields. */
import { DBE, DbrNative } from '../../protocol/constants.js';
import { AlarmStatus } from '../../protocol/constants.js';
import { SIM_IN, SIM_OUT, type FieldDef } from '../fields.js';
import { DbRecord, type ProcessContext } from '../record.js';
import { defineRecordType } from '../record-type.js';
import {
  closedLoopNumber,
  constantInput,
  driveOutput,
  initFromConstant,
  readLinkNumber,
} from './record-common.js';

const BITS = Array.from({ length: 32 }, (_, i) => `B${i.toString(16).toUpperCase()}`);
const BIT_SPEC = BITS.map((b) => `${b} UCHAR pp`).join('; ');
const MBBID_SPEC = `VAL LONG pp; NOBT SHORT ro; INP INLINK; RVAL ULONG pp; ORAW ULONG ro; MASK ULONG ro; MLST LONG ro; SHFT USHORT;
SVAL LONG; ${SIM_IN}; ${BIT_SPEC}`;
const MBBOD_SPEC = `VAL LONG pp; OMSL MENU pp menu=menuOmsl; NOBT SHORT ro; DOL INLINK; OUT OUTLINK; RVAL ULONG ro; ORAW ULONG ro;
RBV ULONG ro; ORBV ULONG ro; MASK ULONG ro; MLST LONG ro; OBIT LONG ro; SHFT USHORT; ${SIM_OUT}; IVOA MENU menu=menuIvoa;
IVOV LONG; ${BIT_SPEC}`;

abstract class DirectRecord extends DbRecord {
  /** Set B0..B1F from VAL, posting the bits that changed. */
  protected valToBits(post: boolean): void {
    const val = this.num('VAL') >>> 0;
    for (let i = 0; i < 32; i++) {
      const b = (val >>> i) & 1;
      if (this.num(BITS[i]!) !== b) {
        this.set(BITS[i]!, b);
        if (post) this.post(BITS[i]!, DBE.VALUE | DBE.LOG);
      }
    }
  }
  protected monitor(): void {
    let mask = this.resetAlarms();
    if (this.num('MLST') !== this.num('VAL')) {
      mask |= DBE.VALUE | DBE.LOG;
      this.set('MLST', this.num('VAL'));
    }
    if (mask) this.post('VAL', mask);
    this.valToBits(true);
  }
  protected checkUdf(): void {
    if (this.num('UDF')) this.setSevr(AlarmStatus.UDF, this.num('UDFS'));
  }
}

export class MbbiDirectRecord extends DirectRecord {
  protected processRecord(ctx: ProcessContext | undefined): boolean {
    const x = readLinkNumber(this, 'INP', ctx);
    if (x !== undefined) {
      this.set('VAL', Math.trunc(x) | 0);
      this.set('UDF', 0);
    } else if (constantInput(this)) this.set('UDF', 0);
    this.stamp();
    this.checkUdf();
    this.monitor();
    this.fwdLink(ctx);
    return false;
  }
  override initRecord(): void {
    initFromConstant(this, 'INP', (c) => Math.trunc(c) | 0);
    this.valToBits(false);
  }
}

export class MbboDirectRecord extends DirectRecord {
  override special(fd: FieldDef): void {
    const i = BITS.indexOf(fd.name);
    if (i < 0 || this.num('OMSL') !== 0) return;
    const bit = (1 << i) >>> 0;
    const val = this.num('VAL') >>> 0;
    this.set('VAL', (this.num(fd.name) ? val | bit : val & ~bit) | 0);
    this.set('UDF', 0);
  }
  protected processRecord(ctx: ProcessContext | undefined): boolean {
    const x = closedLoopNumber(this, ctx);
    if (x !== undefined) {
      this.set('VAL', Math.trunc(x) | 0);
      this.set('UDF', 0);
    }
    // mbboDirectRecord.c: an undefined VAL (not from a closed loop) skips the conversion and the time stamp
    const undefinedVal = x === undefined && this.num('UDF') !== 0;
    this.checkUdf();
    if (!undefinedVal) this.set('RVAL', (this.num('VAL') << this.num('SHFT')) >>> 0);
    driveOutput(this, 'VAL', DbrNative.LONG, ctx);
    if (!undefinedVal) this.stamp();
    this.monitor();
    this.fwdLink(ctx);
    return false;
  }
  override initRecord(): void {
    initFromConstant(this, 'DOL', (c) => Math.trunc(c) | 0);
    this.valToBits(false);
  }
}

export const mbbiDirectRecordType = defineRecordType('mbbiDirect', MBBID_SPEC, MbbiDirectRecord, [
  'Soft Channel',
  'Raw Soft Channel',
  'Async Soft Channel',
]);
export const mbboDirectRecordType = defineRecordType('mbboDirect', MBBOD_SPEC, MbboDirectRecord, [
  'Soft Channel',
  'Raw Soft Channel',
  'Async Soft Channel',
]);
