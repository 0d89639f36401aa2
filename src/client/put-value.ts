/**
 * Conversion of JS values to the NativeArray a put sends (pyepics' rules, ca-layer §5.7):
 * - typed arrays are sent as they are, in the DBR type of their element type;
 * - a string to a CHAR array becomes its UTF-8 bytes + NUL (capped at the element count);
 * - a string to an ENUM becomes the index of the matching state string (else a numeric index,
 *   else it is sent as DBR_STRING for the server to match);
 * - numbers to a STRING channel become their String();
 * - JS arrays are converted element by element; an empty array writes elementCount zeros;
 *   longer input is cut at elementCount.
 */
import { DBR, ECA, MAX_STRING_SIZE } from '../protocol/constants.js';
import type { NativeType } from '../protocol/constants.js';
import { NUMERIC_CTORS } from '../protocol/dbr.js';
import type { NativeArray } from '../protocol/values.js';
import { CaError } from './errors.js';

export interface ToNativeOptions {
  /** Enum state strings (for string → ENUM index). */
  enumStrs?: string[];
  /** The channel's element count: caps arrays, sizes empty ones. */
  elementCount?: number;
}

export interface PutValue {
  dbrType: number;
  value: NativeArray;
}

function badValue(msg: string, eca: number = ECA.BADTYPE): CaError {
  return new CaError(msg, { eca });
}

/** Parse a string as a number the way pyepics does (int(v, 0) for integers, float() otherwise). */
export function parseNumberString(s: string, integer: boolean): number {
  const t = s.trim();
  if (t === '') throw badValue(`cannot convert an empty string to a number`, ECA.BADSTR);
  if (integer) {
    const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|\d+)$/.exec(t);
    if (m) {
      const v = Number(m[2]!.replace(/^0([oObB])/, (_x, p: string) => `0${p.toLowerCase()}`));
      return m[1] === '-' ? -v : v;
    }
  }
  const v = Number(t);
  if (Number.isNaN(v) && !/^[+-]?nan$/i.test(t))
    throw badValue(`cannot convert '${s}' to a number`, ECA.BADSTR);
  return integer ? Math.trunc(v) : v;
}

function checkString(s: string): string {
  if (Buffer.byteLength(s, 'utf8') >= MAX_STRING_SIZE) {
    throw badValue(
      `string of ${Buffer.byteLength(s, 'utf8')} bytes does not fit a DBR_STRING (39 max)`,
      ECA.BADSTR,
    );
  }
  return s;
}

function isTypedArray(v: unknown): v is ArrayBufferView & ArrayLike<number | bigint> {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

function typedToNative(v: ArrayBufferView & ArrayLike<number | bigint>): PutValue {
  if (v instanceof Float64Array) return { dbrType: DBR.DOUBLE, value: v };
  if (v instanceof Int32Array) return { dbrType: DBR.LONG, value: v };
  if (v instanceof Int16Array) return { dbrType: DBR.SHORT, value: v };
  if (v instanceof Float32Array) return { dbrType: DBR.FLOAT, value: v };
  if (v instanceof Uint16Array) return { dbrType: DBR.ENUM, value: v };
  if (v instanceof Uint8Array)
    return {
      dbrType: DBR.CHAR,
      value: v instanceof Buffer ? new Uint8Array(v.buffer, v.byteOffset, v.length) : v,
    };
  if (v instanceof Uint8ClampedArray)
    return { dbrType: DBR.CHAR, value: new Uint8Array(v.buffer, v.byteOffset, v.length) };
  if (v instanceof Int8Array) return { dbrType: DBR.SHORT, value: Int16Array.from(v) };
  // Uint32, BigInt64, BigUint64, Float16...: doubles lose nothing that CA could carry otherwise.
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = Number(v[i]);
  return { dbrType: DBR.DOUBLE, value: out };
}

function cap<T extends NativeArray>(v: T, n: number | undefined): T {
  if (n === undefined || v.length <= n) return v;
  return (Array.isArray(v) ? v.slice(0, n) : v.subarray(0, n)) as T;
}

function scalarNumber(x: unknown, integer: boolean): number {
  if (typeof x === 'number') return x;
  if (typeof x === 'boolean') return x ? 1 : 0;
  if (typeof x === 'bigint') return Number(x);
  if (typeof x === 'string') return parseNumberString(x, integer);
  throw badValue(`cannot put a ${x === null ? 'null' : typeof x} value`);
}

function enumIndex(x: unknown, enumStrs: string[] | undefined): number | undefined {
  if (typeof x !== 'string') return undefined;
  if (enumStrs) {
    const i = enumStrs.indexOf(x);
    if (i >= 0) return i;
  }
  return undefined;
}

/**
 * Convert `value` to what a put to a channel of `nativeType` sends. Throws CaError (ECA_BADTYPE,
 * ECA_BADSTR, ECA_BADCOUNT) for values that cannot be converted.
 */
export function toNativeArray(value: unknown, nativeType: NativeType, opts: ToNativeOptions = {}): PutValue {
  const nelm = opts.elementCount;
  if (!(nativeType >= 0 && nativeType <= 6 && Number.isInteger(nativeType)))
    throw badValue(`invalid native type ${String(nativeType)}`);
  if (value === null || value === undefined) throw badValue(`cannot put ${String(value)}`);
  // Typed arrays: as they are.
  if (isTypedArray(value)) {
    if (value.length === 0) return emptyArray(nativeType, nelm);
    const p = typedToNative(value);
    return { dbrType: p.dbrType, value: cap(p.value, nelm) };
  }
  if (typeof value === 'string') {
    switch (nativeType) {
      case 0:
        return { dbrType: DBR.STRING, value: [checkString(value)] };
      case 4:
        if (nelm === undefined || nelm > 1) {
          const bytes = Buffer.from(value + '\0', 'utf8');
          const n = nelm === undefined ? bytes.length : Math.min(bytes.length, nelm);
          return { dbrType: DBR.CHAR, value: new Uint8Array(bytes.buffer, bytes.byteOffset, n) };
        }
        return { dbrType: DBR.CHAR, value: Uint8Array.of(parseNumberString(value, true)) };
      case 3: {
        const i = enumIndex(value, opts.enumStrs);
        if (i !== undefined) return { dbrType: DBR.ENUM, value: Uint16Array.of(i) };
        if (/^\s*[+-]?\d+\s*$/.test(value))
          return { dbrType: DBR.ENUM, value: Uint16Array.of(Number(value)) };
        return { dbrType: DBR.STRING, value: [checkString(value)] };
      }
      default:
        return {
          dbrType: nativeType,
          value: NUMERIC_CTORS[nativeType].of(parseNumberString(value, nativeType === 1 || nativeType === 5)),
        };
    }
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    const x = scalarNumber(value, false);
    if (nativeType === 0) return { dbrType: DBR.STRING, value: [String(value)] };
    return { dbrType: nativeType, value: NUMERIC_CTORS[nativeType].of(x) };
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return emptyArray(nativeType, nelm);
    const items = nelm !== undefined && value.length > nelm ? value.slice(0, nelm) : value;
    if (nativeType === 0) return { dbrType: DBR.STRING, value: items.map((x) => checkString(String(x))) };
    if (nativeType === 3 && items.some((x) => typeof x === 'string')) {
      const idx = items.map((x) =>
        typeof x === 'string' ? enumIndex(x, opts.enumStrs) : scalarNumber(x, true),
      );
      if (idx.every((i) => i !== undefined))
        return { dbrType: DBR.ENUM, value: Uint16Array.from(idx as number[]) };
      return { dbrType: DBR.STRING, value: items.map((x) => checkString(String(x))) };
    }
    const integer = nativeType !== 2 && nativeType !== 6;
    const out = new NUMERIC_CTORS[nativeType](items.length);
    for (let i = 0; i < items.length; i++) out[i] = scalarNumber(items[i], integer);
    return { dbrType: nativeType, value: out };
  }
  if (typeof value === 'object' && Symbol.iterator in (value as object)) {
    return toNativeArray(Array.from(value as Iterable<unknown>), nativeType, opts);
  }
  throw badValue(`cannot put a value of type ${typeof value}`);
}

function emptyArray(nativeType: NativeType, nelm: number | undefined): PutValue {
  if (nelm === undefined || nelm <= 0)
    throw badValue('cannot put an empty array without an element count', ECA.BADCOUNT);
  if (nativeType === 0) return { dbrType: DBR.STRING, value: new Array<string>(nelm).fill('') };
  return { dbrType: nativeType, value: new NUMERIC_CTORS[nativeType](nelm) };
}
