/**
 * Conversions between CA value types as an EPICS IOC does them (dbFastLinkConv.c / dbConvert.c,
 * epicsStdlib.c, cvtFast.c in EPICS base 7.0), so that a tsepics IOC answers exactly as softIoc:
 *
 * - string -> integer: leading whitespace, optional sign, base-10 digits; the rest is ignored
 *   ("12.7" -> 12, "7abc" -> 7, "0x10" -> 0); no digits or out of range -> ECA_PUTFAIL; "" -> 0.
 * - string -> float: C strtod (hex floats, inf, nan, trailing text ignored); overflow / underflow
 *   -> ECA_PUTFAIL; "" -> 0.
 * - string -> enum: exact state string, else a whole-string decimal index < number of states.
 * - float -> string: cvtDoubleToString / cvtFloatToString with the record's precision (6 if none).
 * - float -> integer: C cast on x86-64 (truncation; NaN and out of range give 0x80000000, then the
 *   low bits for narrower types); integer -> narrower integer keeps the low bits (123456 -> CHAR 64).
 */
import { ECA } from './constants.js';
import type { NativeType } from './constants.js';
import type { NativeArray } from './values.js';
import { formatExp, formatFixed, formatGeneral, formatNanSigned } from './printf.js';

/** A value that cannot be converted. `eca` is the status to report (ECA_PUTFAIL for bad strings). */
export class ConversionError extends Error {
  constructor(
    message: string,
    readonly eca: number = ECA.PUTFAIL,
  ) {
    super(message);
    this.name = 'ConversionError';
  }
}

export interface ConvertOptions {
  /** Precision for float -> string (the record's PREC); absent -> 6, as EPICS without get_precision. */
  precision?: number;
  /** Enum state strings for enum <-> string. */
  enumStrs?: string[];
  /** String for an enum index outside `enumStrs` ("Illegal_Value" for bi/bo, "" for mbbi/mbbo). Default "". */
  enumUndefinedString?: string;
}

/** Integer targets of string parsing, as epicsParseInt8..UInt32. */
export type IntegerKind = 'i8' | 'u8' | 'i16' | 'u16' | 'i32' | 'u32';

const INT_RANGE: Record<IntegerKind, { min: number; max: number; unsigned: boolean }> = {
  i8: { min: -0x80, max: 0x7f, unsigned: false },
  u8: { min: 0, max: 0xff, unsigned: true },
  i16: { min: -0x8000, max: 0x7fff, unsigned: false },
  u16: { min: 0, max: 0xffff, unsigned: true },
  i32: { min: -0x80000000, max: 0x7fffffff, unsigned: false },
  u32: { min: 0, max: 0xffffffff, unsigned: true },
};

/** The integer kind a CA value type parses into (CA CHAR is unsigned, ENUM u16). */
function kindOf(t: NativeType): IntegerKind {
  switch (t) {
    case 1:
      return 'i16';
    case 3:
      return 'u16';
    case 4:
      return 'u8';
    default:
      return 'i32';
  }
}

const LEADING_INT = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)/;
const TWO64 = 18446744073709551616;

function quote(s: string): string {
  return JSON.stringify(s);
}

/**
 * Parse a string for an integer field (epicsParseInt32 and friends with base 10, trailing text
 * ignored). `""` gives 0. Throws ConversionError (ECA_PUTFAIL) when there are no digits or the value
 * does not fit `kind` (default 'i32'). Unsigned kinds accept "-N" as C strtoul does (wrapping) when
 * that stays in range of the C check ("-1" -> 255 for 'u8').
 */
export function parseIntegerString(s: string, kind: IntegerKind = 'i32'): number {
  if (s.length === 0) return 0;
  const m = LEADING_INT.exec(s);
  if (!m) throw new ConversionError(`no integer in ${quote(s)}`);
  const neg = m[1] === '-';
  const mag = Number(m[2]); // exact below 2^53; larger values are out of range anyway
  const r = INT_RANGE[kind];
  if (!r.unsigned) {
    const v = neg ? -mag : mag;
    if (mag > 2 ** 63 || v < r.min || v > r.max) throw new ConversionError(`${quote(s)} is out of range`);
    return v === 0 ? 0 : v;
  }
  if (mag >= TWO64) throw new ConversionError(`${quote(s)} is out of range`);
  if (!neg || mag === 0) {
    if (mag > r.max) throw new ConversionError(`${quote(s)} is out of range`);
    return mag;
  }
  // strtoul("-N") = 2^64 - N; EPICS rejects it unless it lies in the top `max` values.
  if (mag > r.max) throw new ConversionError(`${quote(s)} is out of range`);
  return r.max + 1 - mag;
}

const FLT_MIN = 1.1754943508222875e-38;
const FLT_MAX = 3.4028234663852886e38;
const DBL_MIN = 2.2250738585072014e-308;

const HEX_FLOAT = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?/;
const INF_NAN = /^([+-]?)(?:(inf(?:inity)?)|(nan(?:\([0-9A-Za-z_]*\))?))/i;
const DECIMAL = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/;

/** C strtod on the start of `s` (after whitespace): the value, or undefined if nothing parses. */
function strtod(s: string): number | undefined {
  const hx = HEX_FLOAT.exec(s);
  if (hx && (hx[2].length > 0 || (hx[3] ?? '').length > 0)) {
    const intPart = hx[2];
    const frac = hx[3] ?? '';
    const digits = (intPart + frac).replace(/^0+/, '');
    let v = 0;
    if (digits.length > 0) {
      // Keep at most 15 significant hex digits (60 bits) exactly enough for a double.
      const kept = digits.slice(0, 15);
      const dropped = digits.length - kept.length;
      v = parseInt(kept, 16) * 2 ** (4 * dropped - 4 * frac.length + Number(hx[4] ?? 0));
    }
    return hx[1] === '-' ? -v : v;
  }
  const inf = INF_NAN.exec(s);
  if (inf) {
    if (inf[2]) return inf[1] === '-' ? -Infinity : Infinity;
    return NaN;
  }
  const dec = DECIMAL.exec(s);
  if (dec) return Number(dec[0]);
  return undefined;
}

/**
 * Parse a string for a floating point field (epicsParseFloat64 / epicsParseFloat32 with trailing text
 * ignored): strtod syntax, "0x10" -> 16, "inf", "nan", "1,5" -> 1. `""` gives 0. Throws
 * ConversionError (ECA_PUTFAIL) for no number, overflow ("1e400") or underflow ("1e-400").
 * With `float32`, the range checks of epicsParseFloat apply and the result is rounded to f32.
 */
export function parseFloatString(s: string, float32 = false): number {
  if (s.length === 0) return 0;
  const t = s.replace(/^[ \t\n\v\f\r]+/, '');
  const v = strtod(t);
  if (v === undefined) throw new ConversionError(`no number in ${quote(s)}`);
  if (!Number.isNaN(v)) {
    const literalInf = /^[+-]?inf/i.test(t);
    const a = Math.abs(v);
    if (!Number.isFinite(v) && !literalInf) throw new ConversionError(`${quote(s)} overflows`);
    if (a < DBL_MIN && !isZeroLiteral(t)) throw new ConversionError(`${quote(s)} underflows`);
    if (float32) {
      if (v > 0 && a <= FLT_MIN) throw new ConversionError(`${quote(s)} underflows a float`);
      if (Number.isFinite(v) && a >= FLT_MAX) throw new ConversionError(`${quote(s)} overflows a float`);
      return Math.fround(v);
    }
  }
  return v;
}

/** Whether the number at the start of `t` is written with only zero digits (so 0 is exact). */
function isZeroLiteral(t: string): boolean {
  const hx = HEX_FLOAT.exec(t);
  if (hx && (hx[2].length > 0 || (hx[3] ?? '').length > 0)) return /^0*$/.test(hx[2] + (hx[3] ?? ''));
  const m = /^[+-]?([0-9]*)\.?([0-9]*)/.exec(t);
  return m !== null && /^0*$/.test(m[1] + m[2]);
}

/**
 * Parse a string for an enum field: an exact state string gives its index; otherwise the whole
 * string (surrounding whitespace allowed) must be a decimal index below the number of states.
 * Throws ConversionError (ECA_PUTFAIL).
 */
export function parseEnumString(s: string, enumStrs: string[]): number {
  const i = enumStrs.indexOf(s);
  if (i >= 0) return i;
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)[ \t\n\v\f\r]*$/.exec(s);
  if (m) {
    const mag = Number(m[2]);
    let v = m[1] === '-' && mag !== 0 ? (mag <= 0xffff ? 0x10000 - mag : -1) : mag;
    if (mag >= TWO64) v = -1;
    if (v >= 0 && v < enumStrs.length) return v;
  }
  throw new ConversionError(`${quote(s)} is not a state of this enum`);
}

// ---------------------------------------------------------------------------------------------
// Number -> string

const FRAC_MULTIPLIER = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000];
/** C printf("%.*e", p, v) (glibc): round half to even, exponent with at least two digits. */
export function cFormatExp(v: number, p: number): string {
  return Number.isNaN(v) ? formatNanSigned(v) : formatExp(v, p);
}

/** C printf("%.*f", p, v) (glibc): round half to even. */
export function cFormatFixed(v: number, p: number): string {
  return Number.isNaN(v) ? formatNanSigned(v) : formatFixed(v, p);
}

/** C printf("%.*g", p, v) (glibc): %e or %f style by the exponent, trailing zeros removed. */
export function cFormatGeneral(v: number, p = 6): string {
  return Number.isNaN(v) ? formatNanSigned(v) : formatGeneral(v, p);
}

function padStart(s: string, width: number): string {
  return s.length >= width ? s : ' '.repeat(width - s.length) + s;
}

function fixedDigits(neg: boolean, whole: number, fraction: number, precision: number): string {
  let out = neg ? '-' : '';
  out += String(whole);
  if (precision > 0) out += '.' + String(fraction).padStart(precision, '0');
  return out;
}

/** EPICS cvtDoubleToString (libCom cvtFast.c): a double as an IOC writes it into a DBR_STRING. */
export function cvtDoubleToString(value: number, precision: number): string {
  let p = precision & 0xffff; // (unsigned short)
  if (Number.isNaN(value) || p > 8 || value > 10000000.0 || value < -10000000.0) {
    if (p > 8 || value > 1e16 || value < -1e16) {
      if (p > 17) p = 17;
      return padStart(cFormatExp(value, p), p + 7);
    }
    if (p > 3) p = 3;
    return cFormatFixed(value, p);
  }
  let v = value;
  const neg = v < 0;
  if (neg) v = -v;
  let whole = Math.trunc(v);
  const ftemp = v - whole;
  const fplace = FRAC_MULTIPLIER[p];
  let fraction = Math.trunc(ftemp * fplace * 10);
  fraction = Math.trunc((fraction + 5) / 10);
  if (Math.trunc(fraction / fplace) >= 1) {
    whole++;
    fraction -= fplace;
  }
  return fixedDigits(neg, whole, fraction, p);
}

/** EPICS cvtFloatToString: a float (single precision arithmetic) as an IOC writes it into a DBR_STRING. */
export function cvtFloatToString(value: number, precision: number): string {
  const f = Math.fround;
  let p = precision & 0xffff;
  const fv = f(value);
  if (Number.isNaN(fv) || p > 8 || fv > 10000000.0 || fv < -10000000.0) {
    if (p > 8 || fv >= 1e8 || fv <= -1e8) {
      if (p > 12) p = 12;
      return padStart(cFormatExp(fv, p), p + 6);
    }
    if (p > 3) p = 3;
    return cFormatFixed(fv, p);
  }
  let v = fv;
  const neg = v < 0;
  if (neg) v = -v;
  let whole = Math.trunc(v);
  const ftemp = f(v - f(whole));
  const fplace = FRAC_MULTIPLIER[p];
  let fraction = Math.trunc(f(f(ftemp * fplace) * 10));
  fraction = Math.trunc((fraction + 5) / 10);
  if (Math.trunc(fraction / fplace) >= 1) {
    whole++;
    fraction -= fplace;
  }
  return fixedDigits(neg, whole, fraction, p);
}

/**
 * A number of value type `from` as the IOC writes it into a DBR_STRING: integers in decimal, FLOAT
 * and DOUBLE with cvtFloatToString / cvtDoubleToString and `precision` (default 6).
 */
export function formatNumber(v: number, from: NativeType, precision?: number): string {
  switch (from) {
    case 2:
      return cvtFloatToString(v, precision ?? 6);
    case 6:
      return cvtDoubleToString(v, precision ?? 6);
    default:
      return Number.isFinite(v) ? String(Math.trunc(v)) : String(v);
  }
}

// ---------------------------------------------------------------------------------------------
// Char arrays

const utf8 = new TextDecoder('utf-8');

/** The text in a CHAR array, up to the first NUL (UTF-8). */
export function charArrayToString(a: Uint8Array): string {
  const z = a.indexOf(0);
  return utf8.decode(z < 0 ? a : a.subarray(0, z));
}

/**
 * A string as a NUL-terminated CHAR array (UTF-8). Without `count`: strlen + 1 bytes (as `caput -S`).
 * With `count`: exactly `count` bytes, zero-filled, the text cut to `count - 1` bytes (at a character
 * boundary) so that it stays NUL-terminated.
 */
export function stringToCharArray(s: string, count?: number): Uint8Array {
  const bytes = Buffer.from(s, 'utf8');
  if (count === undefined) {
    const out = new Uint8Array(bytes.length + 1);
    out.set(bytes);
    return out;
  }
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`invalid count ${count}`);
  const out = new Uint8Array(count);
  if (count === 0) return out;
  let n = Math.min(bytes.length, count - 1);
  while (n > 0 && n < bytes.length && (bytes[n] & 0xc0) === 0x80) n--; // do not split a character
  out.set(bytes.subarray(0, n));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Array conversion

type NumArray = Exclude<NativeArray, string[]>;

function allocNumeric(t: NativeType, n: number): NumArray {
  switch (t) {
    case 1:
      return new Int16Array(n);
    case 2:
      return new Float32Array(n);
    case 3:
      return new Uint16Array(n);
    case 4:
      return new Uint8Array(n);
    case 5:
      return new Int32Array(n);
    default:
      return new Float64Array(n);
  }
}

/** C (int32) cast of a double on x86-64: truncation, NaN / out of range -> INT32_MIN. */
function cInt32(d: number): number {
  if (!(d > -2147483649 && d < 2147483648)) return -2147483648;
  return Math.trunc(d);
}

/**
 * A double as a C float, as base's epicsConvertDoubleToFloat (dbConvert's DOUBLE -> FLOAT): zero and
 * non-finite values as they are, magnitudes beyond FLT_MAX clamp to it, below FLT_MIN to FLT_MIN.
 */
export function doubleToFloat(d: number): number {
  if (d === 0 || !Number.isFinite(d)) return d;
  const a = Math.abs(d);
  if (a >= FLT_MAX) return d > 0 ? FLT_MAX : -FLT_MAX;
  if (a <= FLT_MIN) return d > 0 ? FLT_MIN : -FLT_MIN;
  return d;
}

function isFloatType(t: NativeType): boolean {
  return t === 2 || t === 6;
}

/**
 * Convert `src` (in the array type of value type `from`) to value type `to`, element by element as
 * the IOC does. Returns an array of the same length; when `from === to` the same array is returned.
 * Throws ConversionError (ECA_PUTFAIL) when a string does not parse.
 */
export function convertValues(
  src: NativeArray,
  from: NativeType,
  to: NativeType,
  opts?: ConvertOptions,
): NativeArray {
  if (from === to) return src;
  const n = src.length;
  if (from === 0) {
    if (!Array.isArray(src))
      throw new ConversionError('string conversion of a non-string array', ECA.BADTYPE);
    const out = allocNumeric(to, n);
    if (to === 3) {
      const strs = opts?.enumStrs;
      for (let i = 0; i < n; i++)
        out[i] = strs ? parseEnumString(src[i], strs) : parseIntegerString(src[i], 'u16');
    } else if (isFloatType(to)) {
      const f32 = to === 2;
      for (let i = 0; i < n; i++) out[i] = parseFloatString(src[i], f32);
    } else {
      const kind = kindOf(to);
      for (let i = 0; i < n; i++) out[i] = parseIntegerString(src[i], kind);
    }
    return out;
  }
  if (Array.isArray(src)) throw new ConversionError(`value type ${from} needs a typed array`, ECA.BADTYPE);
  if (to === 0) {
    const out = new Array<string>(n);
    if (from === 3) {
      const strs = opts?.enumStrs ?? [];
      const undef = opts?.enumUndefinedString ?? '';
      for (let i = 0; i < n; i++) {
        const v = src[i];
        out[i] = v < strs.length ? strs[v] : undef;
      }
    } else {
      const p = opts?.precision;
      for (let i = 0; i < n; i++) out[i] = formatNumber(src[i], from, p);
    }
    return out;
  }
  const out = allocNumeric(to, n);
  if (isFloatType(from) && !isFloatType(to)) {
    // C float -> integer cast (x86-64): through int32, then the low bits.
    for (let i = 0; i < n; i++) out[i] = cInt32(src[i]);
  } else if (from === 6 && to === 2) {
    for (let i = 0; i < n; i++) out[i] = doubleToFloat(src[i]);
  } else {
    // integer -> integer keeps the low bits; anything -> float is exact or rounds to nearest.
    out.set(src);
  }
  return out;
}
