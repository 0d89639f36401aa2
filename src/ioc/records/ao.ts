/** ao: analog output (OMSL/DOL, OIF, DRVH/DRVL clamping, IVOA, OUT link). */
import { checkLimitAlarms } from '../alarm.js';
import { SIM_OUT, type FieldDef } from '../fields.js';
import { DbRecord, type ProcessContext } from '../record.js';
import { defineRecordType } from '../record-type.js';
import { DbrNative } from '../../protocol/constants.js';
import { closedLoopNumber, driveOutput, initFromConstant } from './record-common.js';
import { limitFields, monitorValue, postChanged } from './analog-common.js';

const SPEC = `VAL DOUBLE pp; OVAL DOUBLE; OUT OUTLINK; OROC DOUBLE; DOL INLINK; OMSL MENU menu=menuOmsl; OIF MENU menu=aoOIF;
PREC SHORT prop; LINR MENU pp menu=menuConvert; EGUF DOUBLE pp; EGUL DOUBLE pp; EGU STRING size=16 prop; ROFF ULONG pp;
EOFF DOUBLE pp; ESLO DOUBLE pp init=1; DRVH DOUBLE pp prop; DRVL DOUBLE pp prop; HOPR DOUBLE prop; LOPR DOUBLE prop;
AOFF DOUBLE pp; ASLO DOUBLE pp; ${limitFields('DOUBLE')}; RVAL LONG pp; ORAW LONG ro; RBV LONG ro; ORBV LONG ro;
PVAL DOUBLE ro; PBRK NOACCESS ro; INIT SHORT ro; LBRK SHORT ro; ${SIM_OUT}; IVOA MENU menu=menuIvoa; IVOV DOUBLE; OMOD UCHAR ro`;

/** Clamp to DRVL..DRVH when DRVH > DRVL. */
export function clampDrive(rec: DbRecord, v: number): number {
  const h = rec.v.DRVH as number;
  const l = rec.v.DRVL as number;
  if (h > l) {
    if (v > h) return h;
    if (v < l) return l;
  }
  return v;
}

export class AoRecord extends DbRecord {
  protected processRecord(ctx: ProcessContext | undefined): boolean {
    // fields by name (rec.v.X): one fixed slot each, see the field store in record.ts
    const f = this.v;
    const x = closedLoopNumber(this, ctx);
    if (x !== undefined) {
      f.VAL = f.OIF === 1 ? (f.VAL as number) + x : x;
      f.UDF = 0;
    }
    const value = clampDrive(this, f.VAL as number);
    f.VAL = value;
    // aoRecord.c: every process leaves UDF = isnan(VAL)
    f.UDF = Number.isNaN(value) ? 1 : 0;
    f.PVAL = value;
    const oldOval = f.OVAL as number;
    f.OVAL = value;
    // convert(): LINEAR/SLOPE engineering conversion, then AOFF/ASLO, rounded away from 0, less ROFF
    let rval = value;
    const linr = f.LINR as number;
    if (linr === 1 || linr === 2) {
      if (f.ESLO === 0) f.ESLO = 1;
      rval = (rval - (f.EOFF as number)) / (f.ESLO as number);
    }
    rval -= f.AOFF as number;
    if (f.ASLO !== 0) rval /= f.ASLO as number;
    rval = Math.trunc(rval >= 0 ? rval + 0.5 : rval - 0.5) - (f.ROFF as number);
    f.RVAL = Number.isFinite(rval) ? rval | 0 : 0;
    checkLimitAlarms(this, value, !!f.UDF);
    driveOutput(this, 'OVAL', DbrNative.DOUBLE, ctx);
    this.stamp();
    monitorValue(this);
    postChanged(this, 'OVAL', f.OVAL as number, oldOval);
    f.ORAW = postChanged(this, 'RVAL', f.RVAL as number, f.ORAW as number);
    this.fwdLink(ctx);
    return false;
  }

  /** get_units: EGU, but none for the conversion fields ASLO and AOFF. */
  override hasUnits(fd: FieldDef): boolean {
    return fd.name !== 'ASLO' && fd.name !== 'AOFF';
  }

  override initRecord(): void {
    initFromConstant(this, 'DOL', (c) => c);
    this.set('PVAL', this.num('VAL'));
    this.set('OVAL', this.num('VAL'));
    // init_record: the monitor/alarm deadband references start at VAL (a VAL from the .db)
    for (const f of ['MLST', 'ALST', 'LALM']) this.set(f, this.num('VAL'));
  }
}

export const aoRecordType = defineRecordType('ao', SPEC, AoRecord, [
  'Soft Channel',
  'Raw Soft Channel',
  'Async Soft Channel',
]);
