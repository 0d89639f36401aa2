/** protocol/printf.ts: C printf %e/%f/%g with glibc's rounding, the one formatter behind convert.ts, pv.ts and the CLI. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatDouble,
  formatExp,
  formatFixed,
  formatGeneral,
  formatNanSigned,
} from '../../src/protocol/printf.js';
import { cFormatExp, cFormatFixed, cFormatGeneral } from '../../src/protocol/convert.js';
import * as pv from '../../src/client/pv.js';
import * as cliFormat from '../../src/cli/format.js';

test('exact ties round half to even (glibc), other values as the exact decimal', () => {
  assert.equal(formatFixed(0.125, 2), '0.12');
  assert.equal(formatFixed(0.375, 2), '0.38');
  assert.equal(formatFixed(2.5, 0), '2');
  assert.equal(formatFixed(3.5, 0), '4');
  assert.equal(formatFixed(2.675, 2), '2.67'); // 2.67499999...
  assert.equal(formatFixed(-0, 3), '-0.000');
  assert.equal(formatExp(125, 1), '1.2e+02');
  assert.equal(formatExp(0, 2), '0.00e+00');
  assert.equal(formatExp(1e-300, 3), '1.000e-300');
  assert.equal(formatGeneral(0.125, 2), '0.12');
  assert.equal(formatGeneral(0.000125, 2), '0.00013'); // 1.25000000000000002602e-4
  assert.equal(formatGeneral(1234567, 6), '1.23457e+06');
  assert.equal(formatGeneral(100000, 6), '100000');
  assert.equal(formatGeneral(1.5, 6, true), '1.50000');
});

test('large magnitudes and precisions: %f and %g print every digit', () => {
  assert.equal(formatFixed(1e21, 2), '1000000000000000000000.00');
  assert.equal(formatFixed(1.5, 120), '1.5' + '0'.repeat(119));
  assert.equal(formatGeneral(1e21, 25), '1000000000000000000000');
  assert.equal(formatGeneral(1.5e21, 30), '1500000000000000000000');
  assert.equal(formatFixed(5e-324, 3), '0.000');
  assert.equal(formatExp(5e-324, 2), '4.94e-324');
});

/** Reference %.{p}f: the exact binary value, rounded half to even with BigInt arithmetic. */
function referenceFixed(x: number, p: number): string {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x);
  const bits = dv.getBigUint64(0);
  const neg = bits >> 63n === 1n;
  const bexp = Number((bits >> 52n) & 0x7ffn);
  let m = bits & 0xfffffffffffffn;
  let e = -1074;
  if (bexp !== 0) {
    m |= 1n << 52n;
    e = bexp - 1075;
  }
  // |x| * 10^p = num / den
  let num = m * 10n ** BigInt(p);
  let den = 1n;
  if (e >= 0) num <<= BigInt(e);
  else den <<= BigInt(-e);
  let q = num / den;
  const r2 = 2n * (num - q * den);
  if (r2 > den || (r2 === den && q & 1n)) q += 1n;
  let s = q.toString().padStart(p + 1, '0');
  if (p > 0) s = `${s.slice(0, s.length - p)}.${s.slice(s.length - p)}`;
  return (neg ? '-' : '') + s;
}

test('%f (fast toFixed path and exact-digit path) matches an exact BigInt reference', () => {
  let seed = 7;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (let i = 0; i < 3000; i++) {
    const k = i % 3;
    const x =
      k === 0
        ? (rnd() - 0.5) * 10 ** Math.floor(rnd() * 40 - 12)
        : k === 1
          ? Math.floor(rnd() * 4096) / 2 ** Math.floor(rnd() * 12) // many exact ties
          : (rnd() - 0.5) * 1e25;
    for (const p of [0, 1, 2, 3, 6, 9, 17, 105]) {
      assert.equal(formatFixed(x, p), referenceFixed(x, p), `${x} %.${p}f`);
    }
  }
});

test('NaN and infinities: nan/inf, and glibc -nan for a negative NaN in the C wrappers', () => {
  const negNan = new Float64Array(new BigUint64Array([0xfff8000000000000n]).buffer)[0]!;
  assert.equal(formatFixed(NaN, 2), 'nan');
  assert.equal(formatGeneral(Infinity), 'inf');
  assert.equal(formatExp(-Infinity, 2), '-inf');
  assert.equal(formatNanSigned(NaN), 'nan');
  assert.equal(formatNanSigned(negNan), '-nan');
  assert.equal(cFormatFixed(negNan, 2), '-nan');
  assert.equal(cFormatExp(NaN, 2), 'nan');
  assert.equal(cFormatGeneral(1.5, 3), '1.5');
});

test('formatDouble: width, left alignment and plus sign', () => {
  assert.equal(formatDouble(1.5, { conv: 'f', prec: 2, width: 8 }), '    1.50');
  assert.equal(formatDouble(1.5, { conv: 'e', prec: 1, width: 10, left: true }), '1.5e+00   ');
  assert.equal(formatDouble(2, { conv: 'g', prec: 6, plus: true }), '+2');
  assert.equal(formatDouble(NaN, { conv: 'g', prec: 6, plus: true }), 'nan');
});

test('client/pv.ts and cli/format.ts re-export the same functions', () => {
  assert.equal(pv.formatFixed, formatFixed);
  assert.equal(pv.formatGeneral, formatGeneral);
  assert.equal(pv.formatExp, formatExp);
  assert.equal(pv.formatDouble, formatDouble);
  assert.equal(cliFormat.formatFixed, formatFixed);
  assert.equal(cliFormat.formatDouble, formatDouble);
});
