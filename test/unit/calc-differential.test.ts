/**
 * Differential test of the calc engine's two evaluators: random well-formed expressions (and
 * random token soup) must give identical results and identical A..L stores from the closure tree
 * and the postfix interpreter, and errors must be CalcErrors, never crashes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CalcError, compileCalc, resetCalcRandom } from '../../src/ioc/calc/index.js';

/** Deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BIN = [
  '+',
  '-',
  '*',
  '/',
  '%',
  '^',
  '**',
  '<',
  '<=',
  '>',
  '>=',
  '=',
  '==',
  '!=',
  '#',
  '&&',
  '||',
  '&',
  '|',
  'AND',
  'OR',
  'XOR',
  '>>',
  '<<',
  '>>>',
];
const UN = [
  '-',
  '!',
  '~',
  'NOT ',
  'ABS',
  'SQRT',
  'EXP',
  'LOG',
  'LN',
  'SIN',
  'COS',
  'ATAN',
  'CEIL',
  'FLOOR',
  'NINT',
  'ISINF',
  'TANH',
];
const VAR = ['MAX', 'MIN', 'FINITE', 'ISNAN'];
const LIT = [
  '0',
  '1',
  '2',
  '0.5',
  '3.25',
  '1e3',
  '.75',
  '0x10',
  '0xffffffff',
  'NAN',
  'INF',
  'PI',
  'D2R',
  'VAL',
  '-7',
  '1e10',
];
const ARGS = 'ABCDEFGHIJKL';

function genExpr(r: () => number, depth: number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  if (depth <= 0 || r() < 0.25) return r() < 0.5 ? pick(ARGS.split('')) : pick(LIT);
  const k = r();
  if (k < 0.45) return `${genExpr(r, depth - 1)}${pick(BIN)}${genExpr(r, depth - 1)}`;
  if (k < 0.6) return `${pick(UN)}(${genExpr(r, depth - 1)})`;
  if (k < 0.7) {
    const n = 1 + Math.floor(r() * 4);
    return `${pick(VAR)}(${Array.from({ length: n }, () => genExpr(r, depth - 1)).join(',')})`;
  }
  if (k < 0.82) return `(${genExpr(r, depth - 1)}?${genExpr(r, depth - 1)}:${genExpr(r, depth - 1)})`;
  if (k < 0.9) return `(${genExpr(r, depth - 1)})`;
  if (k < 0.95) return `ATAN2(${genExpr(r, depth - 1)},${genExpr(r, depth - 1)})`;
  return `FMOD(${genExpr(r, depth - 1)},${genExpr(r, depth - 1)})`;
}

function genProgram(r: () => number): string {
  // a value left on the stack across a later store: "expr; X:=expr"
  if (r() < 0.08) return `${genExpr(r, 3)};${ARGS[Math.floor(r() * 12)]}:=${genExpr(r, 3)}`;
  const stmts: string[] = [];
  const n = Math.floor(r() * 3);
  for (let i = 0; i < n; i++) stmts.push(`${ARGS[Math.floor(r() * 12)]}:=${genExpr(r, 3)}`);
  stmts.push(r() < 0.1 && stmts.length === 0 ? 'A:=1;A' : genExpr(r, 4));
  return stmts.join(';');
}

function randomArgs(r: () => number): Float64Array {
  const a = new Float64Array(12);
  const specials = [0, -0, 1, -1, NaN, Infinity, -Infinity, 2147483648, -2147483649, 4294967296.5, 0.5];
  for (let i = 0; i < 12; i++)
    a[i] = r() < 0.3 ? specials[Math.floor(r() * specials.length)]! : (r() - 0.5) * 2000;
  return a;
}

const same = (x: number, y: number): boolean => Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y));

test('closure tree and interpreter agree on random expressions', () => {
  const r = prng(20261125);
  let compiled = 0;
  let fallbacks = 0;
  let errors = 0;
  for (let n = 0; n < 4000; n++) {
    const expr = genProgram(r);
    let tree;
    let interp;
    try {
      tree = compileCalc(expr);
      interp = compileCalc(expr, { mode: 'interpreter' });
    } catch (e) {
      assert.ok(e instanceof CalcError, `${expr}: ${String(e)}`);
      errors++;
      continue;
    }
    if (tree.compiled) compiled++;
    else fallbacks++;
    for (let k = 0; k < 3; k++) {
      const a1 = randomArgs(r);
      const a2 = Float64Array.from(a1);
      const val = (r() - 0.5) * 100;
      resetCalcRandom(k);
      const x = tree.evaluate(a1, val);
      resetCalcRandom(k);
      const y = interp.evaluate(a2, val);
      assert.ok(same(x, y), `${expr} with [${a2.join(',')}]: tree ${x}, interpreter ${y}`);
      for (let i = 0; i < 12; i++) assert.ok(same(a1[i]!, a2[i]!), `${expr}: store to ${ARGS[i]} differs`);
    }
  }
  assert.ok(compiled > 3000, `compiled ${compiled}, fallbacks ${fallbacks}, errors ${errors}`);
  assert.ok(fallbacks > 0, 'some programs need the interpreter');
});

test('random token soup never crashes the compiler', () => {
  const r = prng(7);
  const toks = [
    ...BIN,
    ...UN,
    ...VAR,
    ...LIT,
    ...ARGS.split(''),
    '(',
    ')',
    ',',
    '?',
    ':',
    ':=',
    ';',
    ' ',
    'Q',
    '$',
    '.',
    'e',
    '0x',
  ];
  for (let n = 0; n < 5000; n++) {
    const len = 1 + Math.floor(r() * 12);
    let s = '';
    for (let i = 0; i < len; i++) s += toks[Math.floor(r() * toks.length)];
    try {
      const c = compileCalc(s);
      const v = c.evaluate(new Float64Array(12));
      assert.equal(typeof v, 'number');
    } catch (e) {
      assert.ok(e instanceof CalcError, `${JSON.stringify(s)}: ${String(e)}`);
    }
  }
});

test('A;A:=0 keeps the old A (interpreter fallback)', () => {
  const c = compileCalc('A; A:=0');
  assert.equal(c.compiled, false);
  const args = Float64Array.from([5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(c.evaluate(args), 5);
  assert.equal(args[0], 0);
  assert.equal(compileCalc('A:=A+1;A*2').compiled, true);
});
