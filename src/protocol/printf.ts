/**
 * C printf-compatible number formatting: %e, %f, %g (and %#g) with glibc's exact rounding (the
 * decimal value of the double rounded half to even, which JS toFixed/toPrecision do not do on exact
 * ties), any precision. The one implementation behind the IOC's cvtDoubleToString (convert.ts),
 * pyepics' char_value (client/pv.ts) and the catools output (cli/format.ts).
 *
 * NaN prints as `nan` (see `formatNanSigned` for glibc's `-nan`), infinities as `inf` / `-inf`.
 */

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Shortest round-trip digits of ax > 0: [digits, decimal exponent of the first digit]. */
function shortestDigits(ax: number): [string, number] {
  const s = ax.toExponential();
  return splitExp(s);
}

export function splitExp(s: string): [string, number] {
  const ei = s.indexOf('e');
  const mant = s.charCodeAt(1) === 46 /* . */ ? s[0] + s.slice(2, ei) : s.slice(0, ei);
  return [mant, +s.slice(ei + 1)];
}

/** ax = m * 2^be exactly (ax finite, > 0). */
function decompose(ax: number): [bigint, number] {
  F64[0] = ax;
  const hi = LITTLE ? U32[1] : U32[0];
  const lo = LITTLE ? U32[0] : U32[1];
  const bexp = (hi >>> 20) & 0x7ff;
  const fracHi = hi & 0xfffff;
  let m = (BigInt(fracHi) << 32n) | BigInt(lo);
  if (bexp === 0) return [m, -1074];
  m |= 1n << 52n;
  return [m, bexp - 1075];
}

/** The exact decimal expansion of ax > 0: [digits without trailing zeros, exponent of first digit]. */
function exactDigits(ax: number): [string, number] {
  const [m, be] = decompose(ax);
  let digits: string;
  let exp: number;
  if (be >= 0) {
    digits = (m << BigInt(be)).toString();
    exp = digits.length - 1;
  } else {
    digits = (m * 5n ** BigInt(-be)).toString();
    exp = digits.length - 1 + be;
  }
  let end = digits.length;
  while (end > 1 && digits.charCodeAt(end - 1) === 48) end--;
  return [digits.slice(0, end), exp];
}

/** True when digits × 10^(exp-len+1) equals ax exactly. */
function isExactly(digits: string, exp: number, ax: number): boolean {
  const L = digits.length;
  const q0 = exp - L + 1;
  if (L <= 15) {
    // digits are ax's shortest text, so ax equals that decimal iff the decimal is a double:
    // D × 10^q with q < 0 is one iff 5^-q divides D (D < 2^53)
    const D = Number(digits);
    if (q0 < 0 && q0 >= -22) return D % 5 ** -q0 === 0;
    if (q0 >= 0 && q0 <= 22 && D * 10 ** q0 <= 2 ** 53) return D * 10 ** q0 === ax;
  }
  const [m, be] = decompose(ax);
  const q = exp - digits.length + 1;
  let left = m; // m * 2^be * 10^-q  vs  D
  let right = BigInt(digits);
  if (q >= 0) right *= 10n ** BigInt(q);
  else left *= 10n ** BigInt(-q);
  if (be >= 0) left <<= BigInt(be);
  else right <<= BigInt(-be);
  return left === right;
}

/** Add one unit in the last place of a digit string; returns [digits, carriedOut]. */
function incrementDigits(d: string): [string, boolean] {
  if (d.length <= 15) {
    const n = String(Number(d) + 1);
    return n.length > d.length ? [n.slice(0, -1), true] : [n, false];
  }
  const a = d.split('');
  let i = a.length - 1;
  while (i >= 0) {
    if (a[i] === '9') {
      a[i] = '0';
      i--;
    } else {
      a[i] = String.fromCharCode(a[i].charCodeAt(0) + 1);
      return [a.join(''), false];
    }
  }
  return ['1' + a.join('').slice(0, -1), true];
}

/** Round exact digits (no trailing zeros) to nsig >= 1 significant digits, half to even. */
function roundDigits(d: string, e: number, nsig: number): [string, number] {
  if (d.length <= nsig) return [d.padEnd(nsig, '0'), e];
  const keep = d.slice(0, nsig);
  const next = d.charCodeAt(nsig) - 48;
  const more = d.length > nsig + 1; // d has no trailing zeros, so anything after is non-zero
  const odd = (keep.charCodeAt(nsig - 1) - 48) % 2 === 1;
  if (next > 5 || (next === 5 && (more || odd))) {
    const [inc, carry] = incrementDigits(keep);
    return carry ? [inc, e + 1] : [inc, e];
  }
  return [keep, e];
}

/** Round ax > 0 (finite) to nsig >= 1 significant digits as C does: [digits (length nsig), exponent]. */
function roundSig(ax: number, nsig: number): [string, number] {
  if (nsig <= 14 && ax >= 2.2250738585072014e-308) {
    // normal doubles: the shortest digits are within 2^-53 relative of the exact value
    const [d, e] = shortestDigits(ax);
    if (d.length <= nsig) return [d.padEnd(nsig, '0'), e];
    if (d.length === nsig + 1 && d.charCodeAt(nsig) === 53 && isExactly(d, e, ax))
      return roundDigits(d, e, nsig);
    return splitExp(ax.toExponential(nsig - 1));
  }
  const [d, e] = exactDigits(ax);
  return roundDigits(d, e, nsig);
}

/**
 * NaN as glibc's printf writes it: `-nan` when the sign bit is set. (The formatters above write every
 * NaN as `nan`, as Python and the catools output we match do.)
 */
export function formatNanSigned(x: number): string {
  F64[0] = x;
  return ((LITTLE ? U32[1] : U32[0]) & 0x80000000) !== 0 ? '-nan' : 'nan';
}

function specialNumber(x: number): string | undefined {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  return undefined;
}

function isNegative(x: number): boolean {
  return x < 0 || Object.is(x, -0);
}

/** Digits d (d0.d1d2... × 10^e) written in fixed notation with `prec` decimals (d already rounded there). */
export function fixedFromDigits(d: string, e: number, prec: number): string {
  let intPart: string;
  let frac: string;
  if (e >= 0) {
    intPart = d.length > e + 1 ? d.slice(0, e + 1) : d.padEnd(e + 1, '0');
    frac = d.slice(e + 1);
  } else {
    intPart = '0';
    frac = '0'.repeat(-e - 1) + d;
  }
  if (prec <= 0) return intPart;
  frac = frac.length >= prec ? frac.slice(0, prec) : frac.padEnd(prec, '0');
  return intPart + '.' + frac;
}

/** C `%.{prec}f`. */
export function formatFixed(x: number, prec = 6): string {
  const sp = specialNumber(x);
  if (sp !== undefined) return sp;
  const sign = isNegative(x) ? '-' : '';
  const ax = Math.abs(x);
  if (ax < 1e21 && prec >= 0 && prec <= 100) return sign + fixedHalfEven(ax, prec);
  if (ax === 0) return sign + (prec > 0 ? '0.' + '0'.repeat(prec) : '0');
  const [, e0] = shortestDigits(ax);
  const nsig = e0 + 1 + prec;
  if (nsig >= 1 && nsig <= 14) {
    const [d, e] = roundSig(ax, nsig);
    return sign + fixedFromDigits(d, e, prec);
  }
  const [d, e] = exactDigits(ax);
  const n = e + 1 + prec;
  if (n >= 1) {
    const [rd, re] = roundDigits(d, e, n);
    return sign + fixedFromDigits(rd, re, prec);
  }
  // |x| < 10^-prec: rounds to 0 or to one unit in the last place (a tie goes to the even 0)
  const up = n === 0 && (d.charCodeAt(0) > 53 || (d.charCodeAt(0) === 53 && d.length > 1));
  return sign + fixedFromDigits(up ? '1' : '0', up ? -prec : 0, prec);
}

export function expSuffix(e: number): string {
  const a = Math.abs(e);
  return (e < 0 ? 'e-' : 'e+') + (a < 10 ? '0' + a : String(a));
}

/** C `%.{prec}e`. */
export function formatExp(x: number, prec = 6): string {
  const sp = specialNumber(x);
  if (sp !== undefined) return sp;
  const sign = isNegative(x) ? '-' : '';
  const ax = Math.abs(x);
  if (ax === 0) return sign + (prec > 0 ? '0.' + '0'.repeat(prec) : '0') + 'e+00';
  const [d, e] = roundSig(ax, prec + 1);
  return sign + d[0] + (prec > 0 ? '.' + d.slice(1) : '') + expSuffix(e);
}

function stripZeros(s: string): string {
  if (s.indexOf('.') < 0) return s;
  let end = s.length;
  while (s.charCodeAt(end - 1) === 48) end--;
  if (s.charCodeAt(end - 1) === 46) end--;
  return s.slice(0, end);
}

/** C `%.{prec}g` (and `%#.{prec}g` with alt = true: trailing zeros kept). */
export function formatGeneral(x: number, prec = 6, alt = false): string {
  if (!alt && prec === 6 && Number.isInteger(x) && x < 1e6 && x > -1e6 && !Object.is(x, -0)) return String(x);
  if (!alt && prec >= 1) {
    const fast = fastGeneral(x, prec);
    if (fast !== undefined) return fast;
  }
  const sp = specialNumber(x);
  if (sp !== undefined) return sp;
  const sign = isNegative(x) ? '-' : '';
  const P = prec === 0 ? 1 : prec;
  const ax = Math.abs(x);
  if (ax === 0) return sign + (alt ? '0.' + '0'.repeat(P - 1) : '0');
  const [d, X] = roundSig(ax, P);
  if (P > X && X >= -4) {
    const s = fixedFromDigits(d, X, P - 1 - X);
    return sign + (alt ? s : stripZeros(s));
  }
  const mant = d[0] + (P > 1 ? '.' + d.slice(1) : '');
  return sign + (alt ? mant : stripZeros(mant)) + expSuffix(X);
}

/**
 * %g without the digit machinery for the common case 1e-4 <= |x| < 10^P, P <= 8: toPrecision is exact
 * except on exact ties (glibc rounds those half to even), which are sent the slow way.
 */
function fastGeneral(x: number, P: number): string | undefined {
  const ax = Math.abs(x);
  if (P > 8 || !(ax >= 1e-4 && ax < POW10[P]) || Object.is(x, -0)) return undefined;
  const X = Math.floor(Math.log10(ax));
  const scaled = ax * POW10[P - 1 - X];
  if (Math.abs(scaled - Math.floor(scaled) - 0.5) < 1e-7) return undefined; // maybe a tie
  const t = x.toPrecision(P);
  if (t.indexOf('e') >= 0) return undefined;
  return stripZeros(t);
}

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16];

/** A parsed printf conversion for doubles, e.g. `%g`, `%-.3f`, `%+12.6f`. */
export interface DoubleFormat {
  conv: 'e' | 'f' | 'g';
  prec: number;
  width?: number;
  plus?: boolean;
  left?: boolean;
}

/** Format one double with a DoubleFormat. */
export function formatDouble(x: number, f: DoubleFormat): string {
  let s =
    f.conv === 'g'
      ? formatGeneral(x, f.prec)
      : f.conv === 'f'
        ? formatFixed(x, f.prec)
        : formatExp(x, f.prec);
  if (f.plus && s[0] !== '-' && s !== 'nan') s = '+' + s;
  if (f.width !== undefined && s.length < f.width) s = f.left ? s.padEnd(f.width) : s.padStart(f.width);
  return s;
}

/** Digits of the integer `n` with a decimal point before the last `p` of them. */
function scaledDigits(n: bigint, p: number): string {
  const s = n.toString().padStart(p + 1, '0');
  return p > 0 ? `${s.slice(0, s.length - p)}.${s.slice(s.length - p)}` : s;
}

/**
 * `a.toFixed(p)` with glibc's rounding: JS rounds an exact tie up, glibc to even. A tie needs
 * a * 2^(p+1) to be an integer, so the exact check (BigInt) runs only then.
 */
function fixedHalfEven(a: number, p: number): string {
  const sc = a * 2 ** (p + 1);
  if (sc !== 0 && Number.isInteger(sc)) {
    const x = BigInt(sc) * 5n ** BigInt(p); // = 2 * a * 10^p exactly
    if (x & 1n) {
      let n = (x - 1n) / 2n;
      if (n & 1n) n += 1n;
      return scaledDigits(n, p);
    }
  }
  return a.toFixed(p);
}
