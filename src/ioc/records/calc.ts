/** calc: VAL = CALC(A..L) with inputs from INPA..INPL. */
import { AlarmStatus, DBE, ECA, Severity } from '../../protocol/constants.js';
import { CaStatusError } from '../../server/provider.js';
import { compileCalc, type CompiledCalc } from '../calc/index.js';
import { checkLimitAlarms } from '../alarm.js';
import type { FieldDef } from '../fields.js';
import { DbRecord, type FieldMeta, type ProcessContext } from '../record.js';
import { defineRecordType } from '../record-type.js';
import { limitFields, monitorValue } from './analog-common.js';

export const LETTERS = [...'ABCDEFGHIJKL'];
export const INPUTS = LETTERS.map((l) => `INP${l}`);
const ARGS = LETTERS.map((l) => `${l} DOUBLE pp`).join('; ');
const LAST = LETTERS.map((l) => `L${l} DOUBLE ro`).join('; ');

const SPEC = `VAL DOUBLE; CALC STRING pp size=80 init=0; ${INPUTS.map((i) => `${i} INLINK`).join('; ')};
EGU STRING size=16 prop; PREC SHORT prop; HOPR DOUBLE prop; LOPR DOUBLE prop; ${limitFields('DOUBLE')};
AFTC DOUBLE; AFVL DOUBLE ro; ${ARGS}; ${LAST}; RPCL NOACCESS ro`;

/** Compile a CALC/OCAL field value, turning a bad expression into ECA_PUTFAIL. */
export function compileField(rec: DbRecord, field: string, expr: string): CompiledCalc {
  try {
    return compileCalc(expr);
  } catch (e) {
    throw new CaStatusError(ECA.PUTFAIL, `${rec.name}.${field}: ${(e as Error).message}`);
  }
}

/** Shared by calc and calcout: inputs, argument array, evaluation, A..L monitors. */
export abstract class CalcBase extends DbRecord {
  protected readonly args = new Float64Array(12);
  protected compiled = new Map<string, CompiledCalc | undefined>();

  protected compileAt(field: string): void {
    try {
      this.compiled.set(field, compileCalc(this.str(field)));
    } catch {
      this.compiled.set(field, undefined);
    }
  }

  /**
   * As base's special(): the expression text is stored even when it does not compile; the put then
   * fails (S_db_badField) and the record computes with a bad expression (CALC alarm) until fixed.
   */
  override special(fd: FieldDef): void {
    if (fd.name === 'CALC' || fd.name === 'OCAL') {
      this.compileAt(fd.name);
      if (!this.compiled.get(fd.name)) compileField(this, fd.name, this.str(fd.name));
    }
  }

  /**
   * get_units / get_precision / get_graphic_double / get_alarm_double of calc and calcout: A..L and
   * LA..LL describe the target of their input link (dbGetUnits(&prec->inpa + n) ...); without a
   * database link they have no units, PREC, display limits 0. OVAL has the default limits.
   */
  override meta(fd: FieldDef): FieldMeta {
    const m = super.meta(fd);
    const name = fd.name;
    if (name === 'OVAL' && m.limits) {
      const r = {
        upperDispLimit: 1e300,
        lowerDispLimit: -1e300,
        upperCtrlLimit: 1e300,
        lowerCtrlLimit: -1e300,
      };
      return { ...m, limits: { ...m.limits, ...r } };
    }
    const i =
      name.length === 1
        ? LETTERS.indexOf(name)
        : name.length === 2 && name[0] === 'L'
          ? LETTERS.indexOf(name[1]!)
          : -1;
    if (i < 0 || !m.limits) return m;
    const l = this.link(INPUTS[i]!);
    if (l.kind === 'db' && l.target && l.field) {
      const t = l.target.meta(l.field);
      const tl = t.limits;
      return {
        ...m,
        units: t.units ?? '',
        precision: t.precision ?? 0,
        limits: {
          ...m.limits,
          upperDispLimit: tl?.upperDispLimit ?? 0,
          lowerDispLimit: tl?.lowerDispLimit ?? 0,
          upperAlarmLimit: tl?.upperAlarmLimit ?? NaN,
          upperWarningLimit: tl?.upperWarningLimit ?? NaN,
          lowerWarningLimit: tl?.lowerWarningLimit ?? NaN,
          lowerAlarmLimit: tl?.lowerAlarmLimit ?? NaN,
        },
      };
    }
    return { ...m, units: '', limits: { ...m.limits, upperDispLimit: 0, lowerDispLimit: 0 } };
  }

  /** Read INPA..INPL into A..L (every one, as fetch_values); false when any read failed. */
  protected fetchInputs(ctx: ProcessContext | undefined): boolean {
    let ok = true;
    for (let i = 0; i < 12; i++) {
      const l = this.link(INPUTS[i]!);
      if (!l.isReadable()) continue;
      const x = l.getNumber(ctx);
      if (x !== undefined) this.set(LETTERS[i]!, x);
      else ok = false;
    }
    return ok;
  }

  /** Evaluate an expression field on A..L; undefined (and a CALC alarm) on failure. */
  protected evaluate(field: string): number | undefined {
    const c = this.compiled.get(field);
    if (!c) {
      this.setSevr(AlarmStatus.CALC, Severity.INVALID);
      return undefined;
    }
    const a = this.args;
    for (let i = 0; i < 12; i++) a[i] = this.num(LETTERS[i]!);
    let r: number;
    try {
      r = c.evaluate(a, this.num('VAL'));
    } catch {
      this.setSevr(AlarmStatus.CALC, Severity.INVALID);
      return undefined;
    }
    if (c.inputsStored)
      for (let i = 0; i < 12; i++) if (c.inputsStored & (1 << i)) this.set(LETTERS[i]!, a[i]!);
    return r;
  }

  /**
   * Read the inputs and evaluate CALC into VAL (UDF when NaN); VAL is kept when CALC fails, and
   * CALC is not evaluated at all when an input link failed (process: `if (fetch_values(prec) == 0)`).
   */
  protected calculate(ctx: ProcessContext | undefined): void {
    if (!this.fetchInputs(ctx)) return;
    const r = this.evaluate('CALC');
    if (r !== undefined) {
      this.set('VAL', r);
      this.set('UDF', Number.isNaN(r) ? 1 : 0);
    }
  }

  /** Post A..L that changed since the last monitor. */
  protected monitorArgs(): void {
    for (const l of LETTERS) {
      const v = this.num(l);
      const last = this.num(`L${l}`);
      if (v !== last && !(Number.isNaN(v) && Number.isNaN(last))) {
        this.set(`L${l}`, v);
        this.post(l, DBE.VALUE | DBE.LOG);
      }
    }
  }

  override initRecord(): void {
    for (let i = 0; i < 12; i++) {
      const c = this.link(INPUTS[i]!).constNumber();
      if (c !== undefined) this.set(LETTERS[i]!, c);
    }
    this.compileAt('CALC');
  }
}

export class CalcRecord extends CalcBase {
  protected processRecord(ctx: ProcessContext | undefined): boolean {
    this.calculate(ctx);
    this.stamp();
    checkLimitAlarms(this, this.num('VAL'), !!this.num('UDF'));
    monitorValue(this);
    this.monitorArgs();
    this.fwdLink(ctx);
    return false;
  }
}

export const calcRecordType = defineRecordType('calc', SPEC, CalcRecord, []);
