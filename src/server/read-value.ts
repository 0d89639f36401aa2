/**
 * Turn a channel snapshot (native type) into the DbrData of a requested DBR type and count, as RSRV's
 * read path does: count 0 means the current length, elements beyond the current length are zero,
 * values are converted to the requested value type with the channel's precision and enum strings.
 * Failures throw CaStatusError (ECA_GETFAIL / the conversion's code).
 */
import { DBR, DbrNative, ECA } from '../protocol/constants.js';
import { dbrValueType } from '../protocol/dbr.js';
import { convertValues, doubleToFloat } from '../protocol/convert.js';
import type { DbrData, NativeArray } from '../protocol/values.js';
import { CaStatusError } from './provider.js';
import type { ChannelSnapshot, ScalarState, ServedChannel, StringEnumRead } from './provider.js';

/** Long-string flags an IOC channel adds to its snapshots (src/ioc/channel.ts IocSnapshot). */
interface LongStringFlags {
  nulTerminated?: boolean;
  linkChars?: boolean;
}

/**
 * Whether a count-0 long-string (`.FIELD$`) read of this DBR type answers strlen + 1 elements: only
 * DBR_CHAR and DBR_TIME_CHAR, which db_access.c reads as dbr CHAR (dbGet's long-string truncation);
 * the STS, GR and CTRL forms read as UCHAR and answer the whole field, as every other type does.
 */
function truncatesLongString(dbrType: number): boolean {
  return dbrType === DBR.CHAR || dbrType === DBR.TIME_CHAR;
}

/**
 * Element count a read of `requested` elements of `dbrType` answers with (0 = current length, which
 * for a long-string channel depends on the type as in base's dbGet).
 */
export function replyCount(
  requested: number,
  snap: ChannelSnapshot,
  dbrType: number,
  elementCount: number,
): number {
  if (requested !== 0) return requested;
  const f = snap as LongStringFlags;
  if (f.linkChars) {
    // getLinkValue: a string or a double is one element; characters are the text + NUL
    const vt = dbrValueType(dbrType);
    return vt === DbrNative.STRING || vt === DbrNative.DOUBLE ? 1 : snap.count;
  }
  if (f.nulTerminated) return truncatesLongString(dbrType) ? snap.count : elementCount;
  return snap.count;
}

function head(value: NativeArray, n: number): NativeArray {
  if (value.length <= n) return value;
  return Array.isArray(value) ? value.slice(0, n) : value.subarray(0, n);
}

/**
 * DbrData for `dbrType` with `count` elements (already resolved from 0). The value may be shorter
 * than `count`: the encoder zero-fills the rest.
 */
export function readData(
  channel: ServedChannel,
  snap: ChannelSnapshot,
  dbrType: number,
  count: number,
): DbrData {
  if (dbrType === DBR.PUT_ACKT || dbrType === DBR.PUT_ACKS) {
    throw new CaStatusError(ECA.GETFAIL, 'write-only DBR type');
  }
  if (dbrType === DBR.CLASS_NAME) return { value: [channel.className] };
  const native = channel.nativeType;
  const vt = dbrValueType(dbrType);
  let valid = Math.min(count, snap.count, snap.value.length);
  let value = head(snap.value, valid);
  const f = snap as LongStringFlags;
  if (f.linkChars && native === DbrNative.CHAR) return linkCharsData(snap, vt, count);
  if (f.nulTerminated && native === DbrNative.CHAR) {
    // dbGet of a long string: the NUL-padded buffer; a short read of any CHAR form still ends with
    // the NUL (other types convert the bytes as they are)
    valid = Math.min(count, channel.elementCount);
    const chars = new Uint8Array(valid);
    chars.set((snap.value as Uint8Array).subarray(0, valid));
    if (valid > 0 && vt === DbrNative.CHAR) chars[valid - 1] = 0;
    value = chars;
  }
  if ((snap as { linkText?: boolean }).linkText && native === DbrNative.STRING && vt !== native) {
    return linkTextData(snap, vt, count, Buffer.from(String(snap.value[0] ?? ''), 'latin1'));
  }
  if (vt !== native && native === DbrNative.CHAR && (snap as { signedChars?: boolean }).signedChars) {
    // an IOC's signed CHAR elements (waveform FTVL CHAR) convert as C's signed char does
    const u = value as Uint8Array;
    value = new Int8Array(u.buffer, u.byteOffset, u.length) as unknown as NativeArray;
  }
  if (vt !== native && channel.integerValues && isIntegerType(vt)) {
    // a ULONG/INT64/UINT64 value (served as DOUBLE) cast to a narrower C integer keeps its low bits
    value = integerCast(value as Float64Array, vt);
  } else if (vt !== native) {
    if (native === DbrNative.ENUM && vt === DbrNative.STRING && snap.enumStrs === undefined && valid > 0) {
      // base's dbGet: an ENUM field of a record without get_enum_str (waveform FTVL=ENUM) has no text
      throw new CaStatusError(ECA.GETFAIL, 'no enum strings for an ENUM value');
    }
    const stringEnum =
      native === DbrNative.STRING && vt === DbrNative.ENUM ? channel.stringEnumRead?.(snap.count) : undefined;
    if (stringEnum !== undefined) {
      return { ...snap, value: stringsAsEnum(value as string[], stringEnum), enumStrs: undefined };
    }
    if (native === DbrNative.STRING && vt === DbrNative.ENUM && (value as string[]).includes('')) {
      throw new CaStatusError(ECA.GETFAIL, 'an empty string is no enum index');
    }
    if (
      native === DbrNative.STRING &&
      vt !== DbrNative.STRING &&
      vt !== DbrNative.ENUM &&
      (value as string[]).includes('')
    ) {
      // base's dbConvert (getStringDouble ...): an empty string reads as 0 (but not as an ENUM)
      value = (value as string[]).map((x) => (x === '' ? '0' : x));
    }
    try {
      value = convertValues(value, native, vt, {
        precision: snap.precision,
        enumStrs: snap.enumStrs,
        enumUndefinedString: snap.enumUndefinedString,
      });
    } catch (e) {
      throw new CaStatusError(ECA.GETFAIL, (e as Error).message);
    }
  }
  if (native !== DbrNative.ENUM && snap.enumStrs !== undefined) {
    // GR/CTRL_ENUM of a non-enum channel: no states.
    return { ...snap, value, enumStrs: undefined };
  }
  const data: DbrData = { ...snap, value };
  if (dbrType >= DBR.GR_STRING && isIntegerType(vt) && vt !== DbrNative.ENUM) integerLimits(data);
  return data;
}

function stringsAsEnum(value: string[], how: StringEnumRead): NativeArray {
  if (how === 'zero') return new Uint16Array(0);
  if (how === 'fail') throw new CaStatusError(ECA.GETFAIL, 'no put_enum_str for a string read as ENUM');
  const out = new Uint16Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const s = value[i]!;
    if (how === 'array') {
      if (s === '') continue;
      out[i] = convertOne(s);
    } else {
      const n = /^\s*\+?\d+\s*$/.test(s) ? convertOne(s) : how;
      if (n >= how) throw new CaStatusError(ECA.GETFAIL, `"${s}" is no state index`);
      out[i] = n;
    }
  }
  return out;
}

/** epicsParseUInt16 of a string (GETFAIL when it does not parse). */
function convertOne(s: string): number {
  try {
    return convertValues([s], DbrNative.STRING, DbrNative.ENUM)[0] as number;
  } catch (e) {
    throw new CaStatusError(ECA.GETFAIL, (e as Error).message);
  }
}

function isIntegerType(vt: number): boolean {
  return vt === DbrNative.SHORT || vt === DbrNative.ENUM || vt === DbrNative.CHAR || vt === DbrNative.LONG;
}

/** Integers held in a Float64Array as the integer value type `vt` (a typed-array store wraps). */
function integerCast(src: Float64Array, vt: number): NativeArray {
  const out =
    vt === DbrNative.SHORT
      ? new Int16Array(src.length)
      : vt === DbrNative.ENUM
        ? new Uint16Array(src.length)
        : vt === DbrNative.CHAR
          ? new Uint8Array(src.length)
          : new Int32Array(src.length);
  out.set(src);
  return out;
}

/**
 * The limits of a GR/CTRL read of an integer type: base's dbAccess get_graphics / get_control /
 * get_alarm store the record support's double limits with a C (epicsInt32 ...) cast, which on
 * x86-64 gives INT32_MIN for anything out of range (the encoder keeps the low bits of the result);
 * a limit that is not finite (NaN: no get_alarm_double) reads as 0.
 */
function integerLimits(d: DbrData): void {
  if (d.upperDispLimit === undefined) return;
  d.upperDispLimit = intLimit(d.upperDispLimit);
  d.lowerDispLimit = intLimit(d.lowerDispLimit);
  d.upperAlarmLimit = intLimit(d.upperAlarmLimit);
  d.upperWarningLimit = intLimit(d.upperWarningLimit);
  d.lowerWarningLimit = intLimit(d.lowerWarningLimit);
  d.lowerAlarmLimit = intLimit(d.lowerAlarmLimit);
  d.upperCtrlLimit = intLimit(d.upperCtrlLimit);
  d.lowerCtrlLimit = intLimit(d.lowerCtrlLimit);
}

function intLimit(x: number | undefined): number {
  return x !== undefined && Number.isFinite(x) ? cInt32(x) : 0;
}

/**
 * base's getLinkValue (dbGet of a link field) for any type but DBR_STRING: DBR_CHAR/UCHAR give the
 * text (at most count-1 characters and a NUL), DBR_DOUBLE succeeds as NaN (no alarm limits either),
 * anything else fails.
 */
function linkTextData(snap: ChannelSnapshot, vt: number, count: number, text: Buffer): DbrData {
  if (vt === DbrNative.DOUBLE) {
    // one NaN (*nRequest = 1): the rest of a longer read is zero-filled
    const value = new Float64Array(1).fill(NaN);
    const limits = {
      upperAlarmLimit: NaN,
      upperWarningLimit: NaN,
      lowerWarningLimit: NaN,
      lowerAlarmLimit: NaN,
    };
    return { ...snap, ...limits, value };
  }
  if (vt !== DbrNative.CHAR) throw new CaStatusError(ECA.GETFAIL, 'a link field reads only as a string');
  const chars = new Uint8Array(Math.max(count, 1));
  chars.set(text.subarray(0, Math.max(count - 1, 0)));
  return { ...snap, value: chars };
}

/** A link field read as a long string (`.INPA$`): as a string it is one string of the text (<= 39 chars). */
function linkCharsData(snap: ChannelSnapshot, vt: number, count: number): DbrData {
  const bytes = snap.value as Uint8Array;
  const end = bytes.indexOf(0);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, end < 0 ? bytes.length : end);
  if (vt === DbrNative.STRING) return { ...snap, value: [text.subarray(0, 39).toString('latin1')] };
  return linkTextData(snap, vt, count, text);
}

// Scratch state of the scalar fast path (used synchronously, never kept by anyone).
const SCALAR: ScalarState = { value: 0, status: 0, severity: 0, secPastEpoch: 0, nsec: 0 };
const SCALAR_STAMP = { secPastEpoch: 0, nsec: 0 };
const SCALAR_DATA: DbrData = { value: new Float64Array(1), status: 0, severity: 0, stamp: SCALAR_STAMP };
/** One-element arrays of each numeric native type (SHORT, FLOAT, CHAR, LONG, DOUBLE). */
const scalarArrays = (): (Exclude<NativeArray, string[]> | undefined)[] => [
  undefined,
  new Int16Array(1),
  new Float32Array(1),
  undefined,
  new Uint8Array(1),
  new Int32Array(1),
  new Float64Array(1),
];
/** The channel's value in its native type, and the value converted to the requested type. */
const SCALAR_SRC = scalarArrays();
const SCALAR_DST = scalarArrays();

/** C (int32) cast of a double on x86-64, as protocol/convert's float -> integer conversion. */
function cInt32(d: number): number {
  if (!(d > -2147483649 && d < 2147483648)) return -2147483648;
  return Math.trunc(d);
}

/**
 * The DbrData of a one-element read of `dbrType` (plain, STS or TIME family of a numeric, not ENUM,
 * value type) from a channel's `readScalar`, converted as `readData` would; undefined when the fast
 * path does not apply (the caller then goes through `snapshot()`).
 */
export function readScalarData(ch: ServedChannel, dbrType: number): DbrData | undefined {
  if (dbrType > 20 || !ch.readScalar) return undefined;
  const vt = dbrType % 7;
  const native = ch.nativeType;
  const dst = SCALAR_DST[vt];
  const src = SCALAR_SRC[native];
  if (!dst || !src || ch.elementCount !== 1 || !ch.readScalar(SCALAR)) return undefined;
  // stored in the native type first (as the snapshot's typed array does), then converted as
  // convertValues does between numeric types: float -> integer through a C int32 cast, then the
  // low bits; anything else by a plain store (exact, or float rounding to nearest)
  src[0] = SCALAR.value;
  const d = SCALAR_DATA;
  if (vt === native) d.value = src;
  else {
    const fromFloat = native === DBR.FLOAT || native === DBR.DOUBLE;
    const toFloat = vt === DBR.FLOAT || vt === DBR.DOUBLE;
    dst[0] =
      fromFloat && !toFloat
        ? ch.integerValues
          ? src[0]! // a wide integer: the typed-array store keeps the low bits, as a C integer cast
          : cInt32(src[0]!)
        : native === DBR.DOUBLE && vt === DBR.FLOAT
          ? doubleToFloat(src[0]!)
          : src[0]!;
    d.value = dst;
  }
  d.status = SCALAR.status;
  d.severity = SCALAR.severity;
  SCALAR_STAMP.secPastEpoch = SCALAR.secPastEpoch;
  SCALAR_STAMP.nsec = SCALAR.nsec;
  return d;
}
