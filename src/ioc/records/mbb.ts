/** mbbi and mbbo: multi-bit binary records with up to 16 named states. */
import { AlarmStatus, DBE, DbrNative, Severity } from '../../protocol/constants.js';
import { SIM_IN, SIM_OUT, type FieldDef } from '../fields.js';
import { DbRecord, type ProcessContext } from '../record.js';
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

export const STATE_PREFIXES = [
  'ZR',
  'ON',
  'TW',
  'TH',
  'FR',
  'FV',
  'SX',
  'SV',
  'EI',
  'NI',
  'TE',
  'EL',
  'TV',
  'TT',
  'FT',
  'FF',
];
const VL = STATE_PREFIXES.map((p) => `${p}VL ULONG pp`).join('; ');
const ST = STATE_PREFIXES.map((p) => `${p}ST STRING pp size=26`).join('; ');
const SV = STATE_PREFIXES.map((p) => `${p}SV MENU pp menu=menuAlarmSevr`).join('; ');
const STRINGS = STATE_PREFIXES.map((p) => `${p}ST`);

const MBBI_SPEC = `VAL ENUM pp; NOBT USHORT ro; INP INLINK; ${VL}; ${ST}; ${SV}; AFTC DOUBLE; AFVL DOUBLE ro;
UNSV MENU pp menu=menuAlarmSevr; COSV MENU pp menu=menuAlarmSevr; RVAL ULONG pp; ORAW ULONG ro; MASK ULONG ro;
MLST USHORT ro; LALM USHORT ro; SDEF SHORT ro; SHFT USHORT; SVAL ULONG; ${SIM_IN}`;

const MBBO_SPEC = `VAL ENUM pp; DOL INLINK; OMSL MENU menu=menuOmsl; NOBT USHORT ro; OUT OUTLINK; ${VL}; ${ST}; ${SV};
UNSV MENU pp menu=menuAlarmSevr; COSV MENU pp menu=menuAlarmSevr; RVAL ULONG pp; ORAW ULONG ro; RBV ULONG ro; ORBV ULONG ro;
MASK ULONG ro; MLST USHORT ro; LALM USHORT ro; SDEF SHORT ro; SHFT USHORT; ${SIM_OUT}; IVOA MENU menu=menuIvoa; IVOV USHORT`;

abstract class MbbRecord extends DbRecord {
  override enumStrings(_fd: FieldDef): string[] {
    let n = 0;
    const all = STRINGS.map((f, i) => {
      const s = this.str(f);
      if (s) n = i + 1;
      return s;
    });
    return all.slice(0, n);
  }

  /** mbbi/mbbo get_enum_str: an empty state reads as "", a value above 15 as "Illegal Value". */
  override enumUndefined(value?: number): string {
    return value !== undefined && value >= STRINGS.length ? 'Illegal Value' : '';
  }

  /** Any of ZRVL..FFVL non-zero or ZRST..FFST non-empty (SDEF, as base's init_common). */
  protected statesDefined(): boolean {
    return STATE_PREFIXES.some((p) => this.num(`${p}VL`) !== 0 || this.str(`${p}ST`) !== '');
  }

  override special(fd: FieldDef): void {
    if (/^(..)(ST|VL)$/.test(fd.name) && STATE_PREFIXES.includes(fd.name.slice(0, 2))) {
      this.set('SDEF', this.statesDefined() ? 1 : 0);
      if (fd.name.endsWith('ST')) this.post('VAL', DBE.PROPERTY);
    }
  }

  protected checkAlarms(): void {
    if (this.num('UDF')) {
      this.setSevr(AlarmStatus.UDF, this.num('UDFS'));
      return;
    }
    const val = this.num('VAL');
    if (val > 15) this.setSevr(AlarmStatus.STATE, this.num('UNSV'));
    else this.setSevr(AlarmStatus.STATE, this.num(`${STATE_PREFIXES[val]}SV`));
    changeOfStateAlarm(this, val);
  }

  protected monitor(): void {
    enumMonitor(this);
  }

  override initRecord(): void {
    this.set('SDEF', this.statesDefined() ? 1 : 0);
    // init_record: MASK from NOBT when not set
    const nobt = this.num('NOBT');
    if (this.num('MASK') === 0 && nobt <= 32) this.set('MASK', nobt === 32 ? 0xffffffff : 2 ** nobt - 1);
  }
}

export class MbbiRecord extends MbbRecord {
  protected processRecord(ctx: ProcessContext | undefined): boolean {
    const x = readLinkNumber(this, 'INP', ctx);
    if (x !== undefined) {
      if (this.num('DTYP') === 1) {
        const rval = (x >>> 0) >>> this.num('SHFT');
        this.set('RVAL', rval);
        if (this.statesDefined()) {
          const i = STATE_PREFIXES.findIndex((p) => this.num(`${p}VL`) === rval);
          this.set('VAL', i >= 0 ? i : 65535);
        } else this.set('VAL', rval & 0xffff);
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
    super.initRecord();
    initFromConstant(this, 'INP', (c) => Math.trunc(c) & 0xffff);
  }
}

/** mbbo's VAL as a channel serves it when no state is defined (cvt_dbaddr: DBF_USHORT). */
const VAL_USHORT = new WeakMap<FieldDef, FieldDef>();

export class MbboRecord extends MbbRecord {
  override servedField(fd: FieldDef): FieldDef {
    if (fd.name !== 'VAL' || this.num('SDEF')) return fd;
    let u = VAL_USHORT.get(fd);
    if (!u) VAL_USHORT.set(fd, (u = { ...fd, dbf: 'USHORT' }));
    return u;
  }

  protected processRecord(ctx: ProcessContext | undefined): boolean {
    const x = closedLoopNumber(this, ctx);
    if (x !== undefined) {
      this.set('VAL', Math.trunc(x) & 0xffff);
      this.set('UDF', 0);
    }
    // mbboRecord.c: an undefined VAL (not from a closed loop) skips the conversion and the time stamp
    const undefinedVal = x === undefined && this.num('UDF') !== 0;
    if (!undefinedVal) this.convert();
    this.checkAlarms();
    driveOutput(this, 'VAL', DbrNative.ENUM, ctx);
    if (!undefinedVal) this.stamp();
    this.monitor();
    this.fwdLink(ctx);
    return false;
  }

  /** convert(): VAL to RVAL through the state values (a VAL past them: SOFT alarm, RVAL kept), then SHFT. */
  private convert(): void {
    const val = this.num('VAL');
    let rval = val;
    if (this.num('SDEF')) {
      if (val > 15) {
        this.setSevr(AlarmStatus.SOFT, Severity.INVALID);
        return;
      }
      rval = this.num(`${STATE_PREFIXES[val]}VL`);
    }
    this.set('RVAL', (rval << this.num('SHFT')) >>> 0);
  }

  override initRecord(): void {
    super.initRecord();
    initFromConstant(this, 'DOL', (c) => Math.trunc(c) & 0xffff);
    // the initial RVAL, and change detection from VAL/RVAL
    this.convert();
    this.set('MLST', this.num('VAL'));
    this.set('LALM', this.num('VAL'));
    this.set('ORAW', this.num('RVAL'));
  }
}

export const mbbiRecordType = defineRecordType('mbbi', MBBI_SPEC, MbbiRecord, [
  'Soft Channel',
  'Raw Soft Channel',
  'Async Soft Channel',
]);
export const mbboRecordType = defineRecordType('mbbo', MBBO_SPEC, MbboRecord, [
  'Soft Channel',
  'Raw Soft Channel',
  'Async Soft Channel',
]);
