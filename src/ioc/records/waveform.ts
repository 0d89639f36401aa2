/** waveform, aai, aao: array records (FTVL/NELM/NORD; INP, or DOL/OUT for aao). */
import { DBE } from '../../protocol/constants.js';
import type { NativeArray } from '../../protocol/values.js';
import { SIM_IN, SIM_OUT } from '../fields.js';
import { DbRecord, type ArrayField, type ProcessContext } from '../record.js';
import { defineRecordType } from '../record-type.js';
import { arrayValField, ensureArrayValue, isFloatFtvl, sameArray, type ArrayValue } from './array-value.js';

const COMMON = `VAL NOACCESS pp; PREC SHORT prop; EGU STRING size=16 prop; HOPR DOUBLE prop; LOPR DOUBLE prop;
NELM ULONG ro init=1; FTVL MENU ro menu=menuFtype; NORD ULONG ro; BPTR NOACCESS ro; MPST MENU menu=postAlwaysFirst;
APST MENU menu=postAlwaysFirst; HASH ULONG`;
const WF_SPEC = `${COMMON}; RARM SHORT pp; INP INLINK; BUSY SHORT ro; ${SIM_IN}`;
const AAI_SPEC = `${COMMON}; INP INLINK; ${SIM_IN}`;
const AAO_SPEC = `${COMMON}; OUT OUTLINK; DOL INLINK; OMSL MENU menu=menuOmsl; ${SIM_OUT}`;

export abstract class ArrayRecord extends DbRecord {
  protected av?: ArrayValue;
  private lastPosted?: NativeArray;
  private lastNord = 0;

  /** The array storage, (re)made when FTVL/NELM differ. */
  protected array(): ArrayValue {
    return (this.av = ensureArrayValue(this.av, this.num('FTVL'), Math.max(1, this.num('NELM'))));
  }

  override arrayField(name: string): ArrayField | undefined {
    return name === 'VAL' ? arrayValField(this, this.array()) : undefined;
  }

  override isFloatArray(): boolean {
    return isFloatFtvl(this.num('FTVL'));
  }

  /** Load a constant JSON array link into VAL at init. */
  protected loadConst(linkName: string): void {
    const lnk = this.link(linkName);
    const c = lnk.constArray();
    if (!c || !c.length) return;
    const av = this.array();
    const ftvl = this.num('FTVL');
    const first = c[0];
    if (!lnk.constIsArray() && typeof first === 'string' && (ftvl === 1 || ftvl === 2)) {
      // As base's lnkConst: a string constant loads a CHAR/UCHAR array as the string's bytes.
      const bytes = new TextEncoder().encode(first);
      const n = Math.min(bytes.length, av.nelm - 1);
      const chars = new Array<string>(n + 1).fill('0');
      for (let i = 0; i < n; i++) chars[i] = String(ftvl === 1 ? (bytes[i]! << 24) >> 24 : bytes[i]!);
      av.nord = av.copyIn(chars, 0, chars.length);
    } else {
      try {
        av.nord = av.copyIn(
          c.map((x) => (Object.is(x, -0) ? '-0' : String(x))),
          0,
          c.length,
        );
      } catch {
        // Base's dbConvertJSON rejects the constant (e.g. a string where numbers are expected).
        return;
      }
    }
    this.set('NORD', av.nord);
    this.set('UDF', 0);
  }

  /** Read an input link into VAL (NORD = elements read). */
  protected readInto(linkName: string, ctx: ProcessContext | undefined): void {
    const l = this.link(linkName);
    if (!l.isReadable()) return;
    const av = this.array();
    const src = l.getArray(av.nativeType, av.nelm, ctx);
    if (!src) return;
    av.nord = av.copyIn(src, 0, src.length);
    this.set('NORD', av.nord);
    this.set('UDF', 0);
  }

  protected monitorArray(): void {
    const av = this.array();
    let mask = this.resetAlarms();
    const onChange = this.num('MPST') === 1 || this.num('APST') === 1;
    let changed = true;
    if (onChange) {
      // compared with the live values; copied (into the previous copy's memory) only on a change
      const cur = av.valid();
      changed = !sameArray(this.lastPosted, cur);
      if (changed) this.lastPosted = av.snapshotCopy(this.lastPosted);
    }
    if (this.num('MPST') === 0 || changed) mask |= DBE.VALUE;
    if (this.num('APST') === 0 || changed) mask |= DBE.LOG;
    if (mask) this.post('VAL', mask);
    if (av.nord !== this.lastNord) {
      this.lastNord = av.nord;
      this.post('NORD', DBE.VALUE | DBE.LOG);
    }
  }

  override initRecord(): void {
    this.array();
    this.set('NORD', this.av!.nord);
  }
}

export class WaveformRecord extends ArrayRecord {
  protected processRecord(ctx: ProcessContext | undefined): boolean {
    this.readInto('INP', ctx);
    this.set('UDF', 0);
    this.stamp();
    this.monitorArray();
    this.fwdLink(ctx);
    return false;
  }
  override initRecord(): void {
    super.initRecord();
    this.loadConst('INP');
  }
}

export class AaoRecord extends ArrayRecord {
  protected processRecord(ctx: ProcessContext | undefined): boolean {
    if (this.num('OMSL') === 1) this.readInto('DOL', ctx);
    const av = this.array();
    const { value } = av.get();
    this.link('OUT').put(Array.isArray(value) ? value.slice(0, av.nord) : value, av.nativeType, ctx);
    this.set('UDF', 0);
    this.stamp();
    this.monitorArray();
    this.fwdLink(ctx);
    return false;
  }
  override initRecord(): void {
    super.initRecord();
    this.loadConst('DOL');
  }
}

export const waveformRecordType = defineRecordType('waveform', WF_SPEC, WaveformRecord, [
  'Soft Channel',
  'Raw Soft Channel',
]);
export const aaiRecordType = defineRecordType('aai', AAI_SPEC, WaveformRecord, ['Soft Channel']);
export const aaoRecordType = defineRecordType('aao', AAO_SPEC, AaoRecord, ['Soft Channel']);
