/**
 * The calc engine against EPICS base's own test suite (modules/libcom/test/epicsCalcTest.cpp):
 * the same expressions, inputs A..L = 1..12, and the results base expects.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileCalc, resetCalcRandom } from '../../src/ioc/calc/index.js';

const Inf = Infinity;
const a = 1,
  b = 2,
  c = 3,
  d = 4,
  e = 5,
  f = 6,
  g = 7,
  h = 8,
  i = 9,
  j = 10,
  k = 11,
  l = 12;

/** Evaluate with the closure tree and with the postfix interpreter; both must agree exactly. */
function run(expr: string, val = 0): number {
  const args1 = Float64Array.from([a, b, c, d, e, f, g, h, i, j, k, l]);
  const args2 = Float64Array.from(args1);
  const r1 = compileCalc(expr).evaluate(args1, val);
  const r2 = compileCalc(expr, { mode: 'interpreter' }).evaluate(args2, val);
  assert.ok(
    Object.is(r1, r2) || (Number.isNaN(r1) && Number.isNaN(r2)),
    `${expr}: tree ${r1} vs interpreter ${r2}`,
  );
  assert.deepEqual(args1, args2, `${expr}: stores differ`);
  return r1;
}

function check(expr: string, expected: number | boolean): void {
  const want = typeof expected === 'boolean' ? (expected ? 1 : 0) : expected;
  const got = run(expr);
  if (Number.isFinite(want) && Number.isFinite(got)) {
    assert.ok(Math.abs(want - got) < 1e-8, `${expr}: expected ${want}, got ${got}`);
  } else if (Number.isNaN(want)) {
    assert.ok(Number.isNaN(got), `${expr}: expected NaN, got ${got}`);
  } else {
    assert.equal(got, want, `${expr}`);
  }
}

/** Result as epicsUInt32, like testUInt32Calc. */
function checkU32(expr: string, expected: number): void {
  const r = run(expr);
  const u = r < 0 ? (r | 0) >>> 0 : r >>> 0;
  assert.equal(u, expected >>> 0, `${expr}: got 0x${u.toString(16)}`);
}

const NINT = (x: number): number => Math.trunc(x >= 0 ? x + 0.5 : x - 0.5);
const pow = Math.pow;
const fmod = (x: number, y: number): number => x % y;
const jsMax = (...xs: number[]): number => (xs.some(Number.isNaN) ? NaN : Math.max(...xs));
const jsMin = (...xs: number[]): number => (xs.some(Number.isNaN) ? NaN : Math.min(...xs));

test('literals', () => {
  for (let n = 0; n <= 9; n++) check(String(n), n);
  check('.1', 0.1);
  check('0.1', 0.1);
  check('0X0', 0);
  check('0x10', 16);
  check('0x7fffffff', 0x7fffffff);
  check('0x80000000', -2147483648);
  check('0xffffffff', -1);
  check('Inf', Inf);
  check('Infinity', Inf);
  check('NaN', NaN);
  check('1e3', 1000);
  check('1.5E-3', 0.0015);
  check('5.', 5);
  check('010', 10); // decimal, not octal (strtod)
});

test('operands and constants', () => {
  const names = 'abcdefghijkl';
  for (let n = 0; n < 12; n++) {
    check(names[n], n + 1);
    check(names[n].toUpperCase(), n + 1);
  }
  check('PI', Math.PI);
  check('D2R', Math.PI / 180);
  check('R2D', 180 / Math.PI);
  check('S2R', Math.PI / 180 / 3600);
  check('R2S', (180 * 3600) / Math.PI);
  assert.equal(run('VAL', 42.5), 42.5);
  assert.equal(run('VAL+1'), 1);
  resetCalcRandom();
  const rndm = compileCalc('rndm');
  for (let n = 0; n < 100; n++) {
    const r = rndm.evaluate(new Float64Array(12));
    assert.ok(r >= 0 && r <= 1, `rndm ${r}`);
  }
  // base's LCG from its initial seed: seed = seed*1533 + 0x3141 (16 bits)
  resetCalcRandom();
  const args = new Float64Array(12);
  assert.equal(compileCalc('RNDM').evaluate(args), ((0xa3bf * 1533 + 0x3141) & 0xffff) / 65535);
  resetCalcRandom();
  assert.equal(
    compileCalc('RNDM', { mode: 'interpreter' }).evaluate(args),
    ((0xa3bf * 1533 + 0x3141) & 0xffff) / 65535,
  );
});

test('unary minus and unary operators', () => {
  check('-1', -1);
  check('-Inf', -Inf);
  check('- -1', 1);
  check('-0x80000000', 2147483648);
  check('(1)', 1);
  check('!0', 1);
  check('!1', 0);
  check('!!0', 0);
  check('ABS(1.0)', 1);
  check('ABS(-1.)', 1);
  check('acos(1.)', Math.acos(1));
  check('asin(0.5)', Math.asin(0.5));
  check('atan(0.5)', Math.atan(0.5));
  check('ATAN2(1., 2.)', Math.atan2(2, 1));
  check('ceil(0.5)', 1);
  check('cos(0.5)', Math.cos(0.5));
  check('cosh(0.5)', Math.cosh(0.5));
  check('exp(1.)', Math.E);
  check('floor(1.5)', 1);
  check('fmod(1.5, 1.0)', fmod(1.5, 1));
  check('fmod(-1.5, 1.0)', fmod(-1.5, 1));
  check('fmod(1.5, -1.0)', fmod(1.5, -1));
  check('fmod(-1.5, -1.0)', fmod(-1.5, -1));
  check('fmod(1.5, 0.0)', NaN);
  check('finite(0.)', 1);
  check('finite(Inf)', 0);
  check('finite(-Inf)', 0);
  check('finite(NaN)', 0);
  check('finite(0,1,2)', 1);
  check('finite(0,1,NaN)', 0);
  check('finite(0,NaN,2)', 0);
  check('finite(NaN,1,2)', 0);
  check('finite(0,1,Inf)', 0);
  check('finite(0,Inf,2)', 0);
  check('finite(Inf,1,2)', 0);
  check('finite(0,1,-Inf)', 0);
  check('finite(0,-Inf,2)', 0);
  check('finite(-Inf,1,2)', 0);
  check('isinf(0.)', 0);
  check('isinf(Inf)', 1);
  check('!!isinf(-Inf)', 1);
  check('isinf(NaN)', 0);
  check('isnan(0.)', 0);
  check('isnan(Inf)', 0);
  check('isnan(-Inf)', 0);
  check('!!isnan(NaN)', 1);
  check('isnan(0,1,2)', 0);
  check('isnan(0,1,NaN)', 1);
  check('isnan(0,NaN,2)', 1);
  check('isnan(NaN,1,2)', 1);
  check('isnan(0,1,Inf)', 0);
  check('isnan(-Inf,1,2)', 0);
  check('LN(5.)', Math.log(5));
  check('LOG(5.)', Math.log10(5));
  check('LOGE(2.)', Math.log(2));
  check('NINT(0.4)', 0);
  check('NINT(0.6)', 1);
  check('NINT(-0.4)', 0);
  check('NINT(-0.6)', -1);
  check('NINT(2.5)', NINT(2.5));
  check('sin(0.5)', Math.sin(0.5));
  check('sinh(0.5)', Math.sinh(0.5));
  check('SQR(10.)', Math.sqrt(10));
  check('sqrt(16.)', 4);
  check('tan(0.5)', Math.tan(0.5));
  check('tanh(0.5)', Math.tanh(0.5));
  check('~5', ~5);
  check('~~5', 5);
  check('NOT 5', ~5);
});

test('MAX and MIN (variadic, NaN propagates)', () => {
  const sets: number[][] = [
    [-99],
    [1, 2],
    [1, Inf],
    [1, -Inf],
    [1, NaN],
    [Inf, 1],
    [-Inf, 1],
    [NaN, 1],
    [1, 2, 3],
    [3, 1, 2],
    [2, 3, 1],
    [1, 2, NaN],
    [1, NaN, 2],
    [NaN, 1, 2],
    [1, 2, 4, 3],
    [4, 2, 3, 1],
    [1, 2, NaN, 3],
    [1, 5, 3, 4, 2],
    [1, 2, 3, 4, NaN],
    [6, 2, 3, 4, 5, 1],
    [1, NaN, 3, 4, 5, 2],
    [1, 2, 3, 4, 5, Inf],
    [1, 2, 3, 4, 5, -Inf],
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
    [5, 4, 3, 2, 1, 0, -1, -2, -3, -4, -5, -6],
    [-1, 1, 0],
  ];
  const lit = (x: number): string =>
    Number.isNaN(x) ? 'NaN' : x === Inf ? 'Inf' : x === -Inf ? '-Inf' : String(x);
  for (const s of sets) {
    check(`MAX(${s.map(lit).join(',')})`, jsMax(...s));
    check(`MIN(${s.map(lit).join(', ')})`, jsMin(...s));
  }
  check('MAX(MIN(0,2),MAX(0),MIN(3,2,1))', 1);
  check('MAX A', 1); // a vararg operator without parentheses takes one argument
  check('max(a,b,c)+min(d,e)', 7);
});

test('binary operators', () => {
  check('0 != 1', 1);
  check('0 != 0', 0);
  check('1 != 0 != 2', 1);
  check('NaN != NaN', 1);
  check('Inf != Inf', 0);
  check('0 # 1', 1);
  check('0 # 0', 0);
  check('1 # 0 # 2', 1);
  check('7 % 4', 3);
  check('-7 % 4', -3);
  check('63 % 16 % 6', (63 % 16) % 6);
  check('1 % 0', NaN);
  check('7.9 % 4.2', 3); // integer operands
  check('7 & 4', 4);
  check('0 && 0', 0);
  check('0 && 1', 0);
  check('1 && 0', 0);
  check('1 && 1', 1);
  check('NaN && 1', 1); // NaN is true in C
  check('2 * 2', 4);
  check('0.0 * Inf', NaN);
  check('Inf * -Inf', -Inf);
  check('2 ** 0.2', pow(2, 0.2));
  check('2 ** -0.2', pow(2, -0.2));
  check('-0.2 ** 2', pow(-0.2, 2));
  check('-0.2 ** -2', pow(-0.2, -2));
  check('2 ** 2 ** 3', pow(pow(2, 2), 3));
  check('1 ** NaN', 1); // C pow()
  check('0 + 1', 1);
  check('Inf + -Inf', NaN);
  check('0 - 1 - 2', -3);
  check('2.0 / 3.0', 2 / 3);
  check('1.0 / 2.0 / 3.0', 1 / 2 / 3);
  check('1 / 0', Inf);
  check('0 / 0', NaN);
  check('0 < 1', 1);
  check('2 < 0 < 2', 1);
  check('NaN < NaN', 0);
  check('1 << 2', 4);
  check('1 << 3 << 2', 32);
  check('3 <= 2 <= 3', 1);
  check('0 = 1', 0);
  check('0 = 0', 1);
  check('2 = 2 = 1', 1);
  check('0 == 0', 1);
  check('NaN == NaN', 0);
  check('2 > 0 > 2', 0);
  check('3 >= 2 >= 3', 0);
  check('8 >> 1', 4);
  check('8 >>> 1', 4);
  check('64 >> 2 >> 1', 8);
  check('64 >>> 2 >>> 1', 8);
  check('1 <<< 4', 16);
  check('7 AND 4', 4);
  check('1 OR 8', 9);
  check('3 XOR 9', 10);
  check('2 ^ 0.2', pow(2, 0.2));
  check('(-0.2) ^ -2', pow(-0.2, -2));
  check('2 ^ 2 ^ 3', 64);
  check('1 | 8', 9);
  check('0 || 0', 0);
  check('0 || 1', 1);
  check('1 || 1', 1);
});

test('conditionals', () => {
  check('0 ? 1 : 2', 2);
  check('1 ? 1 : 2', 1);
  check('Inf ? 1 : 2', 1);
  check('NaN ? 1 : 2', 1);
  check('0 ? 0 ? 2 : 3 : 4', 4);
  check('0 ? 1 ? 2 : 3 : 4', 4);
  check('1 ? 0 ? 2 : 3 : 4', 3);
  check('1 ? 1 ? 2 : 3 : 4', 2);
  check('0 ? 2 : 0 ? 3 : 4', 4);
  check('0 ? 2 : 1 ? 3 : 4', 3);
  check('1 ? 2 : 0 ? 3 : 4', 2);
  check('1 ? 2 : 1 ? 3 : 4', 2);
  check('A>B?A:B', 2);
  check('B>A?B:A', 2);
  check('(A<B)?(C<D?10:20):30', 10);
  check('A ? MAX(1,2,3) : MIN(4,5)', 3);
  check('0 ? MAX(1,2,3) : MIN(4,5)', 4);
});

test('assignments and multiple expressions', () => {
  const names = 'abcdefghijkl';
  for (let n = 0; n < 12; n++) {
    check(`${names[n]} := 0; ${names[n]}`, 0);
    check(`${names[n]}; ${names[n]} := 0`, n + 1);
  }
  const args = Float64Array.from([5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const calc = compileCalc('A:=A+1;A*2');
  assert.equal(calc.evaluate(args), 12);
  assert.equal(args[0], 6);
  assert.equal(calc.evaluate(args), 14);
  assert.equal(args[0], 7);
  const swap = compileCalc('C:=A;A:=B;B:=C;A');
  const s = Float64Array.from([1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(swap.evaluate(s), 2);
  assert.deepEqual([s[0], s[1], s[2]], [2, 1, 1]);
  // assignment of a conditional's value
  check('B:=A?10:20;B', 10);
});

test('relative precedences (as C)', () => {
  check('0 ? 1 : 2 | 4', 6);
  check('1 ? 1 : 2 | 4', 1);
  check('0 ? 2 | 4 : 1', 1);
  check('1 ? 2 | 4 : 1', 6);
  check('0 ? 1 : 2 & 3', 2);
  check('1 ? 2 & 3 : 1', 2);
  check('0 ? 2 : 3 >= 1', 1);
  check('1 ? 0 == 1 : 2', 0);
  check('0 ? 1 : 2 + 4', 6);
  check('1 ? 2 + 4 : 1', 6);
  check('0 ? 1 : 2 * 4', 8);
  check('0 ? 1 : 2 ** 3', 8);
  check('1 ? 2 ** 3 : 1', 8);
  check('1 | 3 XOR 1', (1 | 3) ^ 1);
  check('1 XOR 3 | 1', (1 ^ 3) | 1);
  check('3 | 1 & 2', 3 | (1 & 2));
  check('2 | 4 > 3', 2 | 1);
  check('2 OR 4 > 3', 3);
  check('2 XOR 3 >= 0', 2 ^ 1);
  check('2 | 1 - 3', 2 | -2);
  check('2 | 4 / 2', 2);
  check('1 | 2 ** 3', 9);
  check('3 << 2 & 10', (3 << 2) & 10);
  check('18 & 6 << 2', (18 & 6) << 2);
  check('36 >> 2 & 10', (36 >> 2) & 10);
  check('36 >>> 2 & 10', (36 >>> 2) & 10);
  check('18 & 20 >> 2', (18 & 20) >> 2);
  check('18 & 20 >>> 2', (18 & 20) >>> 2);
  check('3 & 4 == 4', 3 & 1);
  check('3 AND 4 == 4', 1);
  check('1 << 2 != 4', 1 << 1);
  check('16 >> 2 != 4', 16 >> 1);
  check('16 >>> 2 != 4', 8);
  check('3 AND -2', 3 & -2);
  check('0 < 1 ? 2 : 3', 2);
  check('1 <= 0 ? 2 : 3', 3);
  check('0 + -1', -1);
  check('0 - -1', 1);
  check('10 + 10 * 2', 30);
  check('20 + 20 / 2', 30);
  check('-1 + 1', 0);
  check('-1 - 2', -3);
  check('-2 ** 2', 4);
  check('-2 ^ 2', 4);
  check('(1 | 2) ** 3', 27);
  check('1+(1|2)**3', 28);
  check('1+(1?(1<2):(1>2))*2', 3);
  check('(A+1)%1000', 2);
  check('A+B*C', 7);
  check('(A+B)*C', 9);
  check('SIN 0+1', 1); // a function binds tighter than +: SIN(0)+1
  check('ABS -A', 1);
  check('AANDB', 1 & 2); // no word boundaries, as base
  check('abs(-3)+Sqrt(16)', 7);
});

test('argument usage (calcArgUsage)', () => {
  const usage = (expr: string): [number, number] => {
    const cc = compileCalc(expr);
    return [cc.inputsUsed, cc.inputsStored];
  };
  assert.deepEqual(usage('a'), [1, 0]);
  assert.deepEqual(usage('L'), [0x800, 0]);
  assert.deepEqual(usage('A+B+C+D+E+F+G+H+I+J+K+L'), [0xfff, 0]);
  assert.deepEqual(usage('0.1;A:=0'), [0, 1]);
  assert.deepEqual(usage('11.1;L:=0'), [0, 0x800]);
  assert.deepEqual(usage('12.1;A:=0;B:=A;C:=B;D:=C'), [0, 0xf]);
  assert.deepEqual(usage('13.1;B:=A;A:=B;C:=D;D:=C'), [0x9, 0xf]);
  assert.equal(compileCalc('VAL+1').usesVal, true);
  assert.equal(compileCalc('A+1').usesVal, false);
  assert.equal(compileCalc('RNDM').usesRandom, true);
});

test('bit 31 handling (lp:1514520)', () => {
  checkU32('0xaaaaaaaa AND 0xffff0000', 0xaaaa0000);
  checkU32('0xaaaaaaaa OR 0xffff0000', 0xffffaaaa);
  checkU32('0xaaaaaaaa XOR 0xffff0000', 0x5555aaaa);
  checkU32('~0xaaaaaaaa', 0x55555555);
  checkU32('~~0xaaaaaaaa', 0xaaaaaaaa);
  checkU32('0xaaaaaaaa >> 8', 0xffaaaaaa);
  checkU32('0x55555555 >> 8', 0x00555555);
  checkU32('0xaaaaaaaa >>> 8', 0x00aaaaaa);
  checkU32('0x55555555 >>> 8', 0x00555555);
  checkU32('0xaaaaaaaa << 8', 0xaaaaaa00);
  checkU32('0x55555555 << 8', 0x55555500);
  checkU32('a:=0xaaaaaaaa; b:=0xffff0000; a AND b', 0xaaaa0000);
  checkU32('a:=0xaaaaaaaa; b:=0xffff0000; a OR b', 0xffffaaaa);
  checkU32('a:=0xaaaaaaaa; b:=0xffff0000; a XOR b', 0x5555aaaa);
  checkU32('a:=0xaaaaaaaa; ~a', 0x55555555);
  checkU32('a:=0xaaaaaaaa; a >> 8', 0xffaaaaaa);
  checkU32('a:=0xaaaaaaaa; a >>> 8', 0x00aaaaaa);
  checkU32('a:=0xaaaaaaaa; a << 8', 0xaaaaaa00);
  checkU32('a:=0x55555555; a >>> 8', 0x00555555);
  checkU32('-1431655766.1 OR 0', 0xaaaaaaaa);
  checkU32('2863311530.1 OR 0', 0xaaaaaaaa);
  checkU32('0 OR -1431655766.1', 0xaaaaaaaa);
  checkU32('0 XOR 2863311530.1', 0xaaaaaaaa);
  checkU32('-1431655766.1 AND 0xffffffff', 0xaaaaaaaa);
  checkU32('0xffffffff AND 2863311530.1', 0xaaaaaaaa);
  checkU32('~ -1431655766.1', 0x55555555);
  checkU32('~ 2863311530.1', 0x55555555);
  checkU32('-1431655766.1 >> 0', 0xaaaaaaaa);
  checkU32('-1431655766.1 >>> 0', 0xaaaaaaaa);
  checkU32('2863311530.1 >> 0.1', 0xaaaaaaaa);
  checkU32('2863311530.1 >>> 0.1', 0xaaaaaaaa);
  checkU32('-1431655766.1 << 0', 0xaaaaaaaa);
  checkU32('2863311530.1 << 0.1', 0xaaaaaaaa);
});
