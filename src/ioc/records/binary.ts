/** bi and bo: two-state records (ZNAM/ONAM, ZSV/OSV/COSV; bo HIGH momentary, OMSL/DOL, IVOA). */
import { AlarmStatus, DbrNative } from '../../protocol/constants.js';
import { SIM_IN, SIM_OUT, type FieldDef } from '../fields.js';
import { DbRecord, type FieldMeta, type ProcessContext } from '../record.js';
import { defineRecordType } from '../record-type.js';
import {
  changeOfStateAlarm,
  closedLoopNumber,
  constantInput,
  driveOutput,
  enumMonitor,
  initFromConstant,
  readLinkNumber,
} from './record-common.js';

const BI_SPEC = `INP INLINK; VAL ENUM pp; ZSV MENU pp menu=menuAlarmSevr; OSV MENU pp menu=menuAlarmSevr;
COSV MENU pp menu=menuAlarmSevr; ZNAM STRING pp size=26 prop; ONAM STRING pp size=26 prop; RVAL ULONG pp; ORAW ULONG ro;
MASK ULONG ro; LALM USHORT ro; MLST USHORT ro; SVAL ULONG; ${SIM_IN}`;

const BO_SPEC = `VAL ENUM pp; OMSL MENU menu=menuOmsl; DOL INLINK; OUT OUTLINK; HIGH DOUBLE; ZNAM STRING pp size=26 prop;
ONAM STRING pp size=26 prop; RVAL ULONG pp; ORAW ULONG ro; MASK ULONG ro; RPVT NOACCESS ro; WDPT NOACCESS ro;
ZSV MENU pp menu=menuAlarmSevr; OSV MENU pp menu=menuAlarmSevr; COSV MENU pp menu=menuAlarmSevr; RBV ULONG ro; ORBV ULONG ro;
MLST USHORT ro; LALM USHORT ro; ${SIM_OUT}; IVOA MENU menu=menuIvoa; IVOV USHORT`;

abstract class BinaryRecord extends DbRecord {
  /** get_enum_strs: two states, or one when only ZNAM is set (no_str = 1). */
  override enumStrings(_fd: FieldDef): string[] {
    const znam = this.str('ZNAM');
    const onam = this.str('ONAM');
    return znam !== '' && onam === '' ? [znam] : [znam, onam];
  }
  /** put_enum_str: ZNAM or ONAM, even when ONAM is not counted as a state (so "" can mean 1). */
  override putEnumStrings(_fd: FieldDef): string[] {
    return [this.str('ZNAM'), this.str('ONAM')];
  }
  /** get_enum_str: 1 reads as ONAM even when it is not counted as a state, anything else past them "Illegal_Value". */
  override enumUndefined(value?: number): string {
    return value === 1 ? this.str('ONAM') : 'Illegal_Value';
  }

  protected checkAlarms(): void {
    const val = this.num('VAL');
    if (this.num('UDF')) {
      this.setSevr(AlarmStatus.UDF, this.num('UDFS'));
      return;
    }
    if (val > 1) return;
    this.setSevr(AlarmStatus.STATE, val === 0 ? this.num('ZSV') : this.num('OSV'));
    changeOfStateAlarm(this, val);
  }

  protected monitor(): void {
    enumMonitor(this);
  }
}

export class BiRecord extends BinaryRecord {
  protected processRecord(ctx: ProcessContext | undefined): boolean {
    const x = readLinkNumber(this, 'INP', ctx);
    if (x !== undefined) {
      if (this.num('DTYP') === 1) {
        this.set('RVAL', x >>> 0);
        this.set('VAL', this.num('RVAL') === 0 ? 0 : 1);
      } else this.set('VAL', Math.trunc(x) & 0xffff);
      this.set('UDF', 0);
    } else if (constantInput(this)) this.set('UDF', 0);
    this.stamp();
    this.checkAlarms();
    this.monitor();
    this.fwdLink(ctx);
    return false;
  }

  override initRecord(): void {
    initFromConstant(this, 'INP', (c) => Math.trunc(c) & 0xffff);
    // init_record: change detection starts from VAL (a VAL from the .db)
    this.set('MLST', this.num('VAL'));
    this.set('LALM', this.num('VAL'));
  }
}

export class BoRecord extends BinaryRecord {
  private cancelHigh?: () => void;

  protected processRecord(ctx: ProcessContext | undefined): boolean {
    const x = closedLoopNumber(this, ctx);
    if (x !== undefined) {
      this.set('VAL', x !== 0 ? 1 : 0);
      this.set('UDF', 0);
    }
    this.set('RVAL', this.rawFromVal());
    this.checkAlarms();
    driveOutput(this, 'VAL', DbrNative.ENUM, ctx);
    const high = this.num('HIGH');
    if (high > 0 && this.num('VAL') === 1) {
      this.cancelHigh?.();
      this.cancelHigh = this.env.schedule(() => {
        this.cancelHigh = undefined;
        this.set('VAL', 0);
        this.scanProcess();
      }, high);
    }
    this.stamp();
    this.monitor();
    this.fwdLink(ctx);
    return false;
  }

  /** get_units / get_precision / get_control_double of HIGH: seconds, 2 digits, 0..100000. */
  override meta(fd: FieldDef): FieldMeta {
    const m = super.meta(fd);
    if (fd.name !== 'HIGH' || !m.limits) return m;
    return {
      ...m,
      units: 's',
      precision: 2,
      limits: { ...m.limits, lowerCtrlLimit: 0, upperCtrlLimit: 100000 },
    };
  }

  /** "convert val to rval": MASK when VAL is non-zero and MASK is set, else VAL itself (MASK 0). */
  private rawFromVal(): number {
    const val = this.num('VAL');
    const mask = this.num('MASK');
    return mask !== 0 ? (val === 0 ? 0 : mask) : val >>> 0;
  }

  override initRecord(): void {
    initFromConstant(this, 'DOL', (c) => (c !== 0 ? 1 : 0));
    // init_record: RVAL from VAL (MASK 0: 0/1), ORAW, and change detection starting from VAL
    this.set('RVAL', this.rawFromVal());
    this.set('ORAW', this.num('RVAL'));
    this.set('MLST', this.num('VAL'));
    this.set('LALM', this.num('VAL'));
  }
}

export const biRecordType = defineRecordType('bi', BI_SPEC, BiRecord, [
  'Soft Channel',
  'Raw Soft Channel',
  'Async Soft Channel',
  'Db State',
]);
export const boRecordType = defineRecordType('bo', BO_SPEC, BoRecord, [
  'Soft Channel',
  'Raw Soft Channel',
  'Async Soft Channel',
  'General Time',
  'Db State',
]);
