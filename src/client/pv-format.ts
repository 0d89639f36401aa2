/**
 * Python-compatible text of PV numbers: repr() of a float and pyepics' char_value of a double.
 */
import { expSuffix, fixedFromDigits, formatFixed, formatGeneral, splitExp } from '../protocol/printf.js';

/** Python's repr() of a float. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // integral values below 1e16 (the common case): repr is the integer's digits and '.0'
  if (Number.isInteger(x) && x < 1e16 && x > -1e16) return `${x}.0`;
  const sign = x < 0 ? '-' : '';
  const [d, e] = splitExp(Math.abs(x).toExponential());
  if (e < -4 || e >= 16) {
    return sign + d[0] + (d.length > 1 ? '.' + d.slice(1) : '') + expSuffix(e);
  }
  const s = fixedFromDigits(d, e, Math.max(0, d.length - 1 - e));
  return sign + (s.includes('.') ? s : s + '.0');
}

/** pyepics' char_value of a double: '%.{prec}f', or '%.{prec}g' for magnitudes beyond 1e±5. */
export function floatCharValue(v: number, precision: number | undefined): string {
  if (precision === undefined || precision === null || !Number.isFinite(precision)) return pyFloatRepr(v);
  const p = Math.max(0, Math.trunc(precision));
  let big = false;
  const l = Math.log10(Math.abs(v + 1e-9));
  if (Number.isFinite(l)) big = Math.abs(Math.trunc(l)) > 4;
  return big ? formatGeneral(v, p) : formatFixed(v, p);
}
