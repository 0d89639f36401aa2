/**
 * transform (synApps calc module, transformRecord.c v5.8): sixteen rows A..P, each with a value,
 * an input link INPx, an expression CLCx, an output link OUTx and a comment CMTx.
 *
 * process(): read every non-constant input link into its value; then, in order A..P, evaluate the
 * row's expression (when it has one and it compiled) into the row's value: with COPT "Conditional"
 * only for rows without an input link whose value was not just written (changed since the last
 * processing or marked in MAP by a put), with COPT "Always" for every row; then write every
 * non-constant output link; post the values that changed. Expressions read A..P (all sixteen) and
 * VAL (the row's own value), and may assign with `:=`. A comment beginning with `$name` makes
 * `$name` a synonym of its row's letter in expressions (as the real record's macros).
 *
 * Differences from the C record: expressions use the EPICS base calc engine (src/ioc/calc), not
 * sCalcPerform's string extensions, and one expression can use at most twelve distinct variables
 * (the engine has twelve argument slots; the variables an expression names are mapped onto them).
 */
import { AlarmStatus, DBE, DbrNative, ECA, Severity } from '../../protocol/constants.js';
import { CaStatusError } from '../../server/provider.js';
import { CALC_NARGS, compileCalc, type CompiledCalc } from '../calc/index.js';
import { MENUS, type FieldDef } from '../fields.js';
import { DbRecord, type FieldMeta, type FieldValue, type ProcessContext } from '../record.js';
import { defineRecordType } from '../record-type.js';

export const TRANSFORM_LETTERS = [...'ABCDEFGHIJKLMNOP'];
const N = TRANSFORM_LETTERS.length;
const INFIX_SIZE = 120;
const COMMENT_SIZE = 39;

/** Link status menu of IAV..IPV / OAV..OPV. */
export const IAV_EXT_NC = 0;
export const IAV_EXT = 1;
export const IAV_LOC = 2;
export const IAV_CON = 3;

for (const [k, v] of Object.entries({
  transformIAV: ['Ext PV NC', 'Ext PV OK', 'Local PV', 'Constant'],
  transformIVLA: ['Ignore error', 'Do Nothing'],
  transformCOPT: ['Conditional', 'Always'],
}))
  if (!MENUS[k]) MENUS[k] = v;

const L = TRANSFORM_LETTERS;
const SPEC = [
  'VERS FLOAT ro init=5.8; RPVT NOACCESS ro; IVLA MENU menu=transformIVLA; COPT MENU menu=transformCOPT',
  'VAL DOUBLE',
  ...L.map((l) => `CLC${l} STRING size=${INFIX_SIZE}`),
  ...L.map((l) => `C${l}V LONG`),
  ...L.map((l) => `INP${l} INLINK`),
  ...L.map((l) => `OUT${l} OUTLINK`),
  'EGU STRING size=16 prop; PREC SHORT prop',
  ...L.map((l) => `${l} DOUBLE pp`),
  ...L.map((l) => `L${l} DOUBLE ro`),
  ...L.map((l) => `CMT${l} STRING size=${COMMENT_SIZE}`),
  'MAP SHORT',
  ...L.map((l) => `I${l}V MENU ro menu=transformIAV init=1`),
  ...L.map((l) => `O${l}V MENU ro menu=transformIAV init=1`),
].join('; ');

/** An expression compiled for the transform record: its variables mapped onto the engine's slots. */
export interface TransformCalc {
  readonly calc: CompiledCalc;
  /** slotRow[s] = the row (0 = A .. 15 = P) held in argument slot s. */
  readonly slotRow: Int8Array;
}

function isIdentStart(c: string): boolean {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c === '_';
}
function isIdentChar(c: string): boolean {
  return isIdentStart(c) || (c >= '0' && c <= '9');
}

/** Replace `$name` synonyms (longest first, case-insensitive) by their letters. */
export function replaceMacros(expr: string, macros: readonly { name: string; letter: string }[]): string {
  if (macros.length === 0 || !expr.includes('$')) return expr;
  let out = '';
  for (let i = 0; i < expr.length;) {
    let taken = false;
    if (expr[i] === '$') {
      for (const m of macros) {
        if (expr.substr(i, m.name.length).toUpperCase() === m.name.toUpperCase()) {
          out += m.letter;
          i += m.name.length;
          taken = true;
          break;
        }
      }
    }
    if (!taken) out += expr[i++];
  }
  return out;
}

/**
 * Compile a transform expression: the single-letter variables A..P it names are given argument
 * slots of the calc engine (A..L keep their own slot when the expression names only those).
 * Throws CalcError on a bad expression, RangeError when it names more than twelve variables.
 */
export function compileTransformCalc(expr: string): TransformCalc {
  // find the single-letter identifiers (skipping quoted text and number literals)
  const spans: { at: number; row: number }[] = [];
  for (let i = 0; i < expr.length;) {
    const c = expr[i]!;
    if (c === '"' || c === "'") {
      const j = expr.indexOf(c, i + 1);
      i = j < 0 ? expr.length : j + 1;
    } else if (c >= '0' && c <= '9') {
      while (i < expr.length && (isIdentChar(expr[i]!) || expr[i] === '.')) i++;
    } else if (isIdentStart(c)) {
      let j = i + 1;
      while (j < expr.length && isIdentChar(expr[j]!)) j++;
      if (j === i + 1) {
        const row = TRANSFORM_LETTERS.indexOf(c.toUpperCase());
        if (row >= 0) spans.push({ at: i, row });
      }
      i = j;
    } else i++;
  }
  const used = [...new Set(spans.map((s) => s.row))];
  let slotRow: Int8Array;
  let text = expr;
  if (used.every((r) => r < CALC_NARGS)) {
    slotRow = Int8Array.from({ length: CALC_NARGS }, (_, i) => i);
  } else {
    if (used.length > CALC_NARGS)
      throw new RangeError(`expression names ${used.length} variables, at most ${CALC_NARGS} are supported`);
    slotRow = Int8Array.from(used);
    const slotOf = new Map(used.map((r, s) => [r, s]));
    let out = '';
    let last = 0;
    for (const s of spans) {
      out += expr.slice(last, s.at) + TRANSFORM_LETTERS[slotOf.get(s.row)!]!;
      last = s.at + 1;
    }
    text = out + expr.slice(last);
  }
  return { calc: compileCalc(text), slotRow };
}

export class TransformRecord extends DbRecord {
  private readonly compiled: (TransformCalc | undefined)[] = new Array<TransformCalc | undefined>(N);
  private readonly args = new Float64Array(CALC_NARGS);
  private firstCalcPosted = false;
  /**
   * Value of each row last sent to monitors. A put posts the written value at once, so a row whose
   * expression then overwrites it is posted again even when it equals LA (the C record compares
   * with LA only and leaves monitors showing the written value).
   */
  private readonly posted = new Float64Array(N).fill(NaN);
  private macros: { name: string; letter: string }[] = [];

  /** getMacros: comments beginning with `$name` define synonyms, longest first. */
  private readMacros(): void {
    const m: { name: string; letter: string }[] = [];
    for (let i = 0; i < N; i++) {
      const c = this.str(`CMT${L[i]}`).slice(0, COMMENT_SIZE - 1);
      if (c[0] !== '$') continue;
      const name = /^\$\S*/.exec(c)![0];
      m.push({ name, letter: L[i]! });
    }
    m.sort((a, b) => b.name.length - a.name.length);
    this.macros = m;
  }

  /** (Re)compile row i's expression; returns its CxV (0 ok or empty, 1 invalid). */
  private compileRow(i: number): number {
    const text = this.str(`CLC${L[i]}`);
    this.compiled[i] = undefined;
    if (!text) return 0;
    try {
      this.compiled[i] = compileTransformCalc(replaceMacros(text, this.macros));
      return 0;
    } catch {
      return 1;
    }
  }

  private linkStatus(field: string): number {
    const l = this.link(field);
    if (l.isConstant()) return IAV_CON;
    return l.kind === 'db' ? IAV_LOC : IAV_EXT_NC;
  }

  override initRecord(): void {
    this.set('VAL', 0);
    this.set('MAP', 0);
    this.readMacros();
    for (let i = 0; i < N; i++) {
      const l = L[i]!;
      const inp = this.link(`INP${l}`);
      if (inp.isConstant()) {
        const c = inp.constNumber();
        if (c !== undefined) this.set(l, c);
      }
      this.set(`I${l}V`, this.linkStatus(`INP${l}`));
      this.set(`O${l}V`, this.linkStatus(`OUT${l}`));
      this.set(`C${l}V`, this.compileRow(i));
      this.set(`L${l}`, this.num(l));
    }
  }

  /** special(before): a value field with an input link cannot be written. */
  override checkPut(fd: FieldDef, _value: FieldValue): void {
    const i = fd.name.length === 1 ? L.indexOf(fd.name) : -1;
    if (i >= 0 && !this.link(`INP${fd.name}`).isConstant())
      throw new CaStatusError(ECA.PUTFAIL, `${this.name}.${fd.name} has an input link`);
  }

  override special(fd: FieldDef): void {
    const name = fd.name;
    if (name.length === 4 && name.startsWith('CLC')) {
      const i = L.indexOf(name[3]!);
      if (i < 0) return;
      this.readMacros();
      const st = this.compileRow(i);
      if (this.num(`C${L[i]}V`) !== st) {
        this.set(`C${L[i]}V`, st);
        this.post(`C${L[i]}V`, DBE.VALUE | DBE.LOG);
      }
      return;
    }
    if (name.length === 1) {
      const i = L.indexOf(name);
      if (i >= 0) {
        if (!this.pact) this.set('MAP', this.num('MAP') | (1 << i));
        this.posted[i] = this.num(name);
      }
      return;
    }
    if (name.length === 4 && (name.startsWith('INP') || name.startsWith('OUT'))) {
      const l = name[3]!;
      if (!L.includes(l)) return;
      const isInput = name.startsWith('INP');
      const lk = this.link(name);
      if (isInput && lk.isConstant()) {
        const c = lk.constNumber();
        if (c !== undefined) {
          this.set(l, c);
          this.post(l, DBE.VALUE | DBE.LOG);
          this.posted[L.indexOf(l)] = c;
        }
      }
      const f = isInput ? `I${l}V` : `O${l}V`;
      this.set(f, this.linkStatus(name));
      this.post(f, DBE.VALUE | DBE.LOG);
    }
  }

  override meta(fd: FieldDef): FieldMeta {
    const m = super.meta(fd);
    return { ...m, precision: fd.name === 'VERS' ? 2 : this.num('PREC') };
  }

  /** Evaluate row i's expression into its value; false on failure. */
  private evaluateRow(i: number, tc: TransformCalc): boolean {
    const a = this.args;
    const slots = tc.slotRow;
    for (let s = 0; s < slots.length; s++) a[s] = this.num(L[slots[s]!]!);
    let r: number;
    try {
      r = tc.calc.evaluate(a, this.num(L[i]!));
    } catch {
      return false;
    }
    const stored = tc.calc.inputsStored;
    if (stored) for (let s = 0; s < slots.length; s++) if (stored & (1 << s)) this.set(L[slots[s]!]!, a[s]!);
    this.set(L[i]!, r);
    return true;
  }

  protected processRecord(ctx: ProcessContext | undefined): boolean {
    this.set('UDF', 0);
    let udf = false;
    for (let i = 0; i < N; i++) {
      const lk = this.link(`INP${L[i]}`);
      if (lk.isConstant()) continue;
      this.set(L[i]!, lk.getNumber(ctx) ?? 0);
    }
    if (this.num('NSEV') >= Severity.INVALID && this.num('IVLA') === 1) {
      this.stamp();
      this.resetAlarms();
      return false;
    }
    const always = this.num('COPT') === 1;
    const map = this.num('MAP');
    for (let i = 0; i < N; i++) {
      const tc = this.compiled[i];
      if (!tc) continue;
      const l = L[i]!;
      const v = this.num(l);
      const lv = this.num(`L${l}`);
      const same = (v === 0 && lv === 0) || Object.is(v, lv);
      const newValue = !same || (map & (1 << i)) !== 0;
      const noInlink = this.link(`INP${l}`).isConstant();
      if ((noInlink && !newValue) || always) {
        if (!this.evaluateRow(i, tc)) {
          this.setSevr(AlarmStatus.CALC, Severity.INVALID);
          udf = true;
        }
      }
    }
    this.set('MAP', 0);
    for (let i = 0; i < N; i++) {
      const lk = this.link(`OUT${L[i]}`);
      if (lk.isConstant()) continue;
      lk.put(Float64Array.of(this.num(L[i]!)), DbrNative.DOUBLE, ctx);
    }
    this.stamp();
    if (udf) {
      this.set('UDF', 1);
      this.setSevr(AlarmStatus.UDF, this.num('UDFS'));
    }
    this.resetAlarms();
    for (let i = 0; i < N; i++) {
      const l = L[i]!;
      const v = this.num(l);
      if (v !== this.num(`L${l}`) || !Object.is(v, this.posted[i]) || !this.firstCalcPosted) {
        this.post(l, DBE.VALUE | DBE.LOG);
        this.set(`L${l}`, v);
        this.posted[i] = v;
      }
    }
    this.firstCalcPosted = true;
    this.fwdLink(ctx);
    return false;
  }
}

export const transformRecordType = defineRecordType('transform', SPEC, TransformRecord, ['Soft Channel']);
