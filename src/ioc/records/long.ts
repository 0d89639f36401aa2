/** longin/longout and int64in/int64out: integer records with limits, alarms, deadbands, OOPT. */
import { DbrNative } from '../../protocol/constants.js';
import { checkLimitAlarms } from '../alarm.js';
import { coerceToDbf, SIM_IN, SIM_OUT, type Dbf, type FieldDef } from '../fields.js';
import { DbRecord, type FieldMeta, type ProcessContext } from '../record.js';
import { defineRecordType } from '../record-type.js';
import { limitFields, monitorValue } from './analog-common.js';
import { initFromConstant, invalidOutputAction } from './record-common.js';
import { clampDrive } from './ao.js';

function inSpec(t: string): string {
  return `VAL ${t} pp; INP INLINK; EGU STRING size=16 prop; HOPR ${t} prop; LOPR ${t} prop; ${limitFields(t, false)};
AFTC DOUBLE; AFVL DOUBLE ro; SVAL ${t}; ${SIM_IN}`;
}
function outSpec(t: string): string {
  return `VAL ${t} pp; OUT OUTLINK; DOL INLINK; OMSL MENU menu=menuOmsl; EGU STRING size=16 prop; DRVH ${t} pp prop;
DRVL ${t} pp prop; HOPR ${t} prop; LOPR ${t} prop; ${limitFields(t, false)}; ${SIM_OUT}; IVOA MENU menu=menuIvoa; IVOV ${t};
PVAL ${t}; OUTPVT NOACCESS ro; OOCH MENU menu=menuYesNo init=1; OOPT MENU menu=OOPT init=0`;
}

/** Output decision of OOPT (longout/calcout): Every Time, On Change, When Zero, When Non-zero, transitions. */
export function ooptSays(oopt: number, val: number, pval: number, mdel = 0): boolean {
  switch (oopt) {
    case 0:
      return true;
    case 1:
      return Math.abs(pval - val) > mdel || Number.isNaN(val) !== Number.isNaN(pval);
    case 2:
      return val === 0;
    case 3:
      return val !== 0;
    case 4:
      return pval !== 0 && val === 0;
    case 5:
      return pval === 0 && val !== 0;
    default:
      return false;
  }
}

/**
 * get_alarm_double of int64in/int64out: VAL reports HIHI/HIGH/LOW/LOLO whatever their severities
 * (longin/longout give NaN for a limit without one).
 */
function int64AlarmMeta(rec: DbRecord, fd: FieldDef, m: FieldMeta): FieldMeta {
  if (fd.name !== 'VAL' || !m.limits) return m;
  const limits = {
    ...m.limits,
    upperAlarmLimit: rec.num('HIHI'),
    upperWarningLimit: rec.num('HIGH'),
    lowerWarningLimit: rec.num('LOW'),
    lowerAlarmLimit: rec.num('LOLO'),
  };
  return { ...m, limits };
}

function makeIn(t: Dbf) {
  return class extends DbRecord {
    protected processRecord(ctx: ProcessContext | undefined): boolean {
      const inp = this.link('INP');
      if (inp.isReadable()) {
        const x = inp.getNumber(ctx);
        if (x !== undefined) {
          this.set('VAL', coerceToDbf(t, x));
          this.set('UDF', 0);
        }
      } else this.set('UDF', 0); // an empty or constant INP reads successfully (no value)
      this.stamp();
      checkLimitAlarms(this, this.num('VAL'), !!this.num('UDF'));
      monitorValue(this);
      this.fwdLink(ctx);
      return false;
    }
    override meta(fd: FieldDef): FieldMeta {
      const m = super.meta(fd);
      return t === 'INT64' ? int64AlarmMeta(this, fd, m) : m;
    }
    override initRecord(): void {
      initFromConstant(this, 'INP', (c) => coerceToDbf(t, c));
      // init_record: the monitor/alarm deadband references start at VAL (a VAL from the .db)
      for (const f of ['MLST', 'ALST', 'LALM']) this.set(f, this.num('VAL'));
    }
  };
}

function makeOut(t: Dbf) {
  const wire = t === 'LONG' ? DbrNative.LONG : DbrNative.DOUBLE;
  return class extends DbRecord {
    private first = true;
    protected processRecord(ctx: ProcessContext | undefined): boolean {
      const dol = this.link('DOL');
      if (this.num('OMSL') === 1 && dol.isReadable()) {
        const x = dol.getNumber(ctx);
        if (x !== undefined) {
          this.set('VAL', coerceToDbf(t, x));
          this.set('UDF', 0);
        }
      }
      this.set('VAL', clampDrive(this, this.num('VAL')));
      checkLimitAlarms(this, this.num('VAL'), !!this.num('UDF'));
      const val = this.num('VAL');
      const doOut = this.first || ooptSays(this.num('OOPT'), val, this.num('PVAL'));
      this.first = false;
      const action = invalidOutputAction(this);
      if (action === 'ivov') this.set('VAL', this.num('IVOV'));
      if (action === 'ivov' || (action === 'write' && doOut)) {
        const v = this.num('VAL');
        this.link('OUT').put(wire === DbrNative.LONG ? Int32Array.of(v) : Float64Array.of(v), wire, ctx);
      }
      this.set('PVAL', this.num('VAL'));
      this.stamp();
      monitorValue(this);
      this.fwdLink(ctx);
      return false;
    }
    override meta(fd: FieldDef): FieldMeta {
      const m = super.meta(fd);
      return t === 'INT64' ? int64AlarmMeta(this, fd, m) : m;
    }
    override initRecord(): void {
      initFromConstant(this, 'DOL', (c) => coerceToDbf(t, c));
      // init_record: the monitor/alarm deadband references start at VAL (a VAL from the .db)
      for (const f of ['MLST', 'ALST', 'LALM']) this.set(f, this.num('VAL'));
    }
  };
}

export const longinRecordType = defineRecordType('longin', inSpec('LONG'), makeIn('LONG'), [
  'Soft Channel',
  'Async Soft Channel',
  'General Time',
]);
export const longoutRecordType = defineRecordType('longout', outSpec('LONG'), makeOut('LONG'), [
  'Soft Channel',
  'Async Soft Channel',
]);
export const int64inRecordType = defineRecordType('int64in', inSpec('INT64'), makeIn('INT64'), [
  'Soft Channel',
  'Async Soft Channel',
]);
export const int64outRecordType = defineRecordType('int64out', outSpec('INT64'), makeOut('INT64'), [
  'Soft Channel',
  'Async Soft Channel',
]);
