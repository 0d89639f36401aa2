/** subArray: NELM elements starting at INDX of the array read from INP (at most MALM). */
import { AlarmStatus, DBE } from '../../protocol/constants.js';
import type { NativeArray } from '../../protocol/values.js';
import type { FieldDef } from '../fields.js';
import { DbRecord, type ArrayField, type ProcessContext } from '../record.js';
import { defineRecordType } from '../record-type.js';
import { arrayValField, ensureArrayValue, isFloatFtvl, type ArrayValue } from './array-value.js';

const SPEC = `VAL NOACCESS pp; PREC SHORT prop; FTVL MENU ro menu=menuFtype; INP INLINK; EGU STRING size=16 prop;
HOPR DOUBLE prop; LOPR DOUBLE prop; MALM ULONG ro init=1; NELM ULONG pp init=1; INDX ULONG pp; BUSY SHORT ro;
NORD LONG ro; BPTR NOACCESS ro`;

export class SubArrayRecord extends DbRecord {
  private av?: ArrayValue;
  private lastNord = 0;

  /** The array storage (MALM elements of FTVL), (re)made when they differ. */
  private array(): ArrayValue {
    return (this.av = ensureArrayValue(this.av, this.num('FTVL'), Math.max(1, this.num('MALM'))));
  }

  override arrayField(name: string): ArrayField | undefined {
    return name === 'VAL' ? arrayValField(this, this.array()) : undefined;
  }

  override isFloatArray(): boolean {
    return isFloatFtvl(this.num('FTVL'));
  }

  override special(fd: FieldDef): void {
    if (fd.name === 'NELM' && this.num('NELM') > this.num('MALM')) this.set('NELM', this.num('MALM'));
  }

  override initRecord(): void {
    if (this.num('MALM') <= 0) this.set('MALM', 1);
    if (this.num('FTVL') > 11) this.set('FTVL', 2);
    if (this.num('NELM') > this.num('MALM')) this.set('NELM', this.num('MALM'));
    this.array();
    this.set('NORD', 0);
  }

  protected processRecord(ctx: ProcessContext | undefined): boolean {
    const av = this.array();
    const malm = av.nelm;
    if (this.num('NELM') > malm) this.set('NELM', malm);
    if (this.num('INDX') >= malm) this.set('INDX', malm - 1);
    const indx = this.num('INDX');
    const nelm = this.num('NELM');
    let nRequest = Math.min(indx + nelm, malm);
    const inp = this.link('INP');
    let src: NativeArray | undefined;
    if (!inp.isReadable()) nRequest = av.nord;
    else {
      src = inp.getArray(av.nativeType, nRequest, ctx);
      nRequest = src ? src.length : 0;
    }
    let ecount = nRequest - indx;
    if (ecount > 0) {
      if (ecount > nelm) ecount = nelm;
      if (src)
        av.copyIn(
          Array.isArray(src) ? src.slice(indx, indx + ecount) : src.subarray(indx, indx + ecount),
          0,
          ecount,
        );
      else
        av.copyIn(
          Array.isArray(av.data) ? av.data.slice(indx, indx + ecount) : av.data.slice(indx, indx + ecount),
          0,
          ecount,
        );
    } else ecount = 0;
    av.nord = ecount;
    this.set('NORD', ecount);
    this.stamp();
    // subArrayRecord.c readValue: no element read (NORD 0) is a failed read, so UDF and its alarm
    this.set('UDF', ecount > 0 ? 0 : 1);
    if (ecount <= 0) this.setSevr(AlarmStatus.UDF, this.num('UDFS'));
    const mask = this.resetAlarms() | DBE.VALUE | DBE.LOG;
    this.post('VAL', mask);
    if (ecount !== this.lastNord) {
      this.lastNord = ecount;
      this.post('NORD', DBE.VALUE | DBE.LOG);
    }
    this.fwdLink(ctx);
    return false;
  }
}

export const subArrayRecordType = defineRecordType('subArray', SPEC, SubArrayRecord, ['Soft Channel']);
