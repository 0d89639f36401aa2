/**
 * DBR structures (ca-protocol.md §7): sizes, layouts, encode and decode for every type 0..38.
 * Pure functions over bytes.
 *
 * Strings: EPICS strings are byte strings. tsepics maps them to JS strings with **UTF-8** (as pyepics
 * does by default). Encoding cuts a string that does not fit its slot (39 bytes for a 40-byte value
 * slot, 7 for units, 25 for an enum state) at a UTF-8 character boundary, so the slot always holds a
 * terminating NUL. Decoding cuts each slot at its first NUL: the bytes after it may be stale (the
 * slot helpers: dbr-strings.ts).
 *
 * Numeric arrays are converted with one bulk copy and an in-place byte swap (`Buffer#swapNN`),
 * never element by element.
 */
import { MAX_ENUM_STATES, MAX_ENUM_STRING_SIZE, MAX_STRING_SIZE, MAX_UNITS_SIZE } from './constants.js';
import type { Family, NativeType } from './constants.js';
import { ProtocolError } from './header.js';
import { POOL_MIN_SIZE, primeLargeAllocations, type BufferPool } from './buffer-pool.js';
import type { DbrData, EpicsTimeStamp, NativeArray } from './values.js';
import {
  asBuffer,
  encodeShortString,
  readSlotString,
  shortStringLength,
  writeSlotString,
} from './dbr-strings.js';
export { encodeShortString } from './dbr-strings.js';
import { endianness } from 'node:os';

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/** Options for encoding. */
export interface EncodeDbrOptions {
  /**
   * Send a single DBR_STRING value (plain type 0, count 1) in its short form: strlen + 1 bytes
   * instead of the full 40-byte slot (what catools' caput sends and what RSRV's legacy READ does).
   */
  shortString?: boolean;
}

/** Element size of each value type, indexed by NativeType. */
const NATIVE_ELEMENT_SIZE = [MAX_STRING_SIZE, 2, 4, 2, 1, 4, 8] as const;

/** Value offsets (bytes before the first value) per family, indexed by native type. */
const VALUE_OFFSET: readonly (readonly number[])[] = [
  [0, 0, 0, 0, 0, 0, 0], // plain
  [4, 4, 4, 4, 5, 4, 8], // STS
  [12, 14, 12, 14, 15, 12, 16], // TIME
  [4, 24, 40, 422, 19, 36, 64], // GR
  [4, 28, 48, 422, 21, 44, 80], // CTRL
];

/** Per DBR type 0..38: value offset and value type (lookup tables for the hot paths). */
const META_OF: readonly number[] = Array.from({ length: 39 }, (_, t) =>
  t <= 34 ? VALUE_OFFSET[Math.floor(t / 7)][t % 7] : t === 37 ? 8 : 0,
);
const VT_OF: readonly NativeType[] = Array.from({ length: 39 }, (_, t) =>
  t <= 34 ? ((t % 7) as NativeType) : t === 35 || t === 36 ? 3 : 0,
);

/** Arrays up to this many elements are converted element by element (cheaper than a swap setup). */
const SMALL_ARRAY = 16;

const STSACK_STRING = 37;
const CLASS_NAME = 38;

/** Whether `t` is a DBR type code (0..38). */
export function isValidDbrType(t: number): boolean {
  return Number.isInteger(t) && t >= 0 && t <= CLASS_NAME;
}

function checkType(t: number): void {
  if (!isValidDbrType(t)) throw new ProtocolError(`invalid DBR type ${t}`);
}

/** The value type of a DBR type. PUT_ACKT/PUT_ACKS carry a u16 (ENUM); STSACK_STRING and CLASS_NAME strings. */
export function dbrValueType(dbrType: number): NativeType {
  checkType(dbrType);
  return VT_OF[dbrType];
}

/** The family (plain, STS, TIME, GR, CTRL) of a DBR type; undefined for 35..38. */
export function dbrFamily(dbrType: number): Family | undefined {
  checkType(dbrType);
  if (dbrType > 34) return undefined;
  return Math.floor(dbrType / 7) as Family;
}

/** The DBR type code of a value type in a family: native + 7 * family. */
export function dbrPlainType(native: NativeType, family: Family): number {
  return native + 7 * family;
}

/** Bytes before the first value (the value offset). */
export function dbrMetaSize(dbrType: number): number {
  checkType(dbrType);
  return META_OF[dbrType];
}

/** Size of one value element of a DBR type. */
export function dbrElementSize(dbrType: number): number {
  return NATIVE_ELEMENT_SIZE[dbrValueType(dbrType)];
}

/**
 * Unpadded payload size for `count` elements. Count 0 gives the metadata only (size - elem = the value
 * offset, as libca's dbr_size_n).
 */
export function dbrSize(dbrType: number, count: number): number {
  checkType(dbrType);
  checkCount(count);
  // sizeof(struct) is always value offset + one element for these structs, so size - elem = offset.
  return META_OF[dbrType] + count * NATIVE_ELEMENT_SIZE[VT_OF[dbrType]];
}

function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 0 || count > 0xffffffff) {
    throw new ProtocolError(`invalid element count ${count}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Numeric arrays

/** The typed array constructor of a numeric native type. */
export type NumericCtor =
  | Int16ArrayConstructor
  | Float32ArrayConstructor
  | Uint16ArrayConstructor
  | Uint8ArrayConstructor
  | Int32ArrayConstructor
  | Float64ArrayConstructor;

/** The typed array constructor of each numeric native type (SHORT .. DOUBLE). */
export const NUMERIC_CTORS: Readonly<Record<Exclude<NativeType, 0>, NumericCtor>> = {
  1: Int16Array,
  2: Float32Array,
  3: Uint16Array,
  4: Uint8Array,
  5: Int32Array,
  6: Float64Array,
};

/** Big-endian elements of `elem` bytes to host order, in place (a no-op on a big-endian host). */
export function swapInPlace(b: Buffer, elem: number): void {
  if (!LITTLE_ENDIAN_HOST) return;
  if (elem === 2) b.swap16();
  else if (elem === 4) b.swap32();
  else if (elem === 8) b.swap64();
}

/**
 * The value of a plain numeric DBR payload (DBR_SHORT .. DBR_DOUBLE, `count` elements) decoded
 * where it lies: its elements are put in host byte order in place and viewed, so `payload`'s bytes
 * are changed and the array shares its memory. Undefined when that is not possible (a string or
 * metadata type, fewer bytes than `count` elements, memory not aligned for the element type): then
 * `payload` is untouched.
 */
export function decodePlainInPlace(dbrType: number, count: number, payload: Buffer): NativeArray | undefined {
  if (dbrType < 1 || dbrType > 6 || count < 1) return undefined;
  const elem = NATIVE_ELEMENT_SIZE[dbrType as NativeType];
  const bytes = count * elem;
  if (payload.length < bytes || payload.byteOffset % elem !== 0) return undefined;
  if (elem > 1) swapInPlace(payload.subarray(0, bytes), elem);
  const ctor = NUMERIC_CTORS[dbrType as Exclude<NativeType, 0>];
  return new ctor(payload.buffer as ArrayBuffer, payload.byteOffset, count);
}

/**
 * Decode `count` big-endian elements at `offset` into a fresh typed array (bulk copy + swap), or,
 * with `pool`, into memory taken from it when the array is large enough to be pooled.
 */
function decodeNumeric(
  type: NativeType,
  payload: Uint8Array,
  offset: number,
  count: number,
  pool: BufferPool | undefined,
): NativeArray {
  const ctor = NUMERIC_CTORS[type as Exclude<NativeType, 0>];
  const elem = NATIVE_ELEMENT_SIZE[type];
  if (count <= SMALL_ARRAY) return decodeSmall(type, asBuffer(payload), offset, count);
  const bytes = count * elem;
  if (bytes >= POOL_MIN_SIZE) primeLargeAllocations();
  const out = pool && bytes >= pool.minSize ? pool.take(bytes) : Buffer.allocUnsafeSlow(bytes);
  out.set(payload.subarray(offset, offset + bytes));
  if (elem > 1) swapInPlace(out, elem);
  return new ctor(out.buffer as ArrayBuffer, out.byteOffset, count);
}

function decodeSmall(type: NativeType, b: Buffer, o: number, count: number): NativeArray {
  switch (type) {
    case 1: {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = b.readInt16BE(o + 2 * i);
      return out;
    }
    case 2: {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = b.readFloatBE(o + 4 * i);
      return out;
    }
    case 3: {
      const out = new Uint16Array(count);
      for (let i = 0; i < count; i++) out[i] = b.readUInt16BE(o + 2 * i);
      return out;
    }
    case 4:
      return new Uint8Array(b.subarray(o, o + count));
    case 5: {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = b.readInt32BE(o + 4 * i);
      return out;
    }
    default: {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = b.readDoubleBE(o + 8 * i);
      return out;
    }
  }
}

/** Write n elements of `src` (already of the value type's array class) one by one. */
function encodeSmall(
  buf: Buffer,
  o: number,
  type: NativeType,
  src: Exclude<NativeArray, string[]>,
  n: number,
): void {
  switch (type) {
    case 1:
      for (let i = 0; i < n; i++) buf.writeInt16BE(src[i], o + 2 * i);
      break;
    case 2:
      for (let i = 0; i < n; i++) buf.writeFloatBE(src[i], o + 4 * i);
      break;
    case 3:
      for (let i = 0; i < n; i++) buf.writeUInt16BE(src[i], o + 2 * i);
      break;
    case 4:
      for (let i = 0; i < n; i++) buf[o + i] = src[i];
      break;
    case 5:
      for (let i = 0; i < n; i++) buf.writeInt32BE(src[i], o + 4 * i);
      break;
    default:
      for (let i = 0; i < n; i++) buf.writeDoubleBE(src[i], o + 8 * i);
      break;
  }
}

/**
 * Write `count` elements of `value` big-endian at `offset` (truncated or zero-filled to `count`).
 * A numeric array of another type is converted with typed-array semantics (integers wrap, NaN -> 0).
 */
function encodeNumeric(
  buf: Buffer,
  offset: number,
  type: NativeType,
  count: number,
  value: NativeArray,
): void {
  const ctor = NUMERIC_CTORS[type as Exclude<NativeType, 0>];
  const elem = NATIVE_ELEMENT_SIZE[type];
  if (Array.isArray(value)) {
    throw new ProtocolError(`cannot encode string values as DBR value type ${type}; convert them first`);
  }
  const n = Math.min(count, value.length);
  let src: Exclude<NativeArray, string[]>;
  if (value instanceof ctor) {
    src = value;
  } else {
    const conv = new ctor(n);
    conv.set(n === value.length ? value : value.subarray(0, n));
    src = conv;
  }
  const bytes = n * elem;
  if (bytes >= POOL_MIN_SIZE) primeLargeAllocations();
  if (n <= SMALL_ARRAY) {
    encodeSmall(buf, offset, type, src, n);
  } else {
    buf.set(new Uint8Array(src.buffer, src.byteOffset, bytes), offset);
    if (elem > 1) swapInPlace(buf.subarray(offset, offset + bytes), elem);
  }
  const total = count * elem;
  if (total > bytes) buf.fill(0, offset + bytes, offset + total);
}

// ---------------------------------------------------------------------------------------------
// Metadata helpers

function num(v: number | undefined): number {
  return v === undefined ? 0 : v;
}

function writeStamp(buf: Buffer, o: number, stamp: EpicsTimeStamp | undefined): void {
  buf.writeUInt32BE((stamp ? stamp.secPastEpoch : 0) >>> 0, o);
  buf.writeUInt32BE((stamp ? stamp.nsec : 0) >>> 0, o + 4);
}

/** Integer conversion of a limit as C does for in-range values: truncate; NaN/inf -> 0; then wrap. */
function intLimit(v: number | undefined): number {
  if (v === undefined || !Number.isFinite(v)) return 0;
  return Math.trunc(v);
}

/** The eight limit fields of DBR_GR/DBR_CTRL data, in wire order (GR carries the first six). */
export const LIMIT_KEYS = [
  'upperDispLimit',
  'lowerDispLimit',
  'upperAlarmLimit',
  'upperWarningLimit',
  'lowerWarningLimit',
  'lowerAlarmLimit',
  'upperCtrlLimit',
  'lowerCtrlLimit',
] as const;

/** Write the six (GR) or eight (CTRL) limits at `o` with element type `type`. */
function writeLimits(buf: Buffer, o: number, type: NativeType, data: DbrData, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = data[LIMIT_KEYS[i]];
    switch (type) {
      case 1:
        buf.writeInt16BE((intLimit(v) << 16) >> 16, o + 2 * i);
        break;
      case 4:
        buf.writeUInt8(intLimit(v) & 0xff, o + i);
        break;
      case 5:
        buf.writeInt32BE(intLimit(v) | 0, o + 4 * i);
        break;
      case 2:
        buf.writeFloatBE(num(v), o + 4 * i);
        break;
      case 6:
        buf.writeDoubleBE(num(v), o + 8 * i);
        break;
      default:
        break;
    }
  }
}

function readLimits(buf: Buffer, o: number, type: NativeType, out: DbrData, n: number): void {
  for (let i = 0; i < n; i++) {
    let v: number;
    switch (type) {
      case 1:
        v = buf.readInt16BE(o + 2 * i);
        break;
      case 4:
        v = buf.readUInt8(o + i);
        break;
      case 5:
        v = buf.readInt32BE(o + 4 * i);
        break;
      case 2:
        v = buf.readFloatBE(o + 4 * i);
        break;
      default:
        v = buf.readDoubleBE(o + 8 * i);
        break;
    }
    out[LIMIT_KEYS[i]] = v;
  }
}

/** Offset of the units field and the limits for GR/CTRL numeric types. */
function grLayout(type: NativeType): { units: number; limits: number; precision: boolean } {
  switch (type) {
    case 2:
    case 6:
      return { units: 8, limits: 16, precision: true };
    default:
      return { units: 4, limits: 12, precision: false };
  }
}

/** Write status/severity and the metadata of `dbrType` into [offset, offset + meta size). */
function writeMeta(buf: Buffer, offset: number, dbrType: number, data: DbrData): void {
  const meta = META_OF[dbrType];
  if (meta === 0) return;
  buf.fill(0, offset, offset + meta);
  buf.writeUInt16BE(num(data.status) & 0xffff, offset);
  buf.writeUInt16BE(num(data.severity) & 0xffff, offset + 2);
  if (dbrType === STSACK_STRING) {
    buf.writeUInt16BE(num(data.ackt) & 0xffff, offset + 4);
    buf.writeUInt16BE(num(data.acks) & 0xffff, offset + 6);
    return;
  }
  const family = Math.floor(dbrType / 7);
  const type = (dbrType % 7) as NativeType;
  if (family === 2) {
    writeStamp(buf, offset + 4, data.stamp);
    return;
  }
  if (family < 3 || type === 0) return; // STS (and GR/CTRL_STRING = STS_STRING): nothing more
  if (type === 3) {
    const strs = data.enumStrs ?? [];
    const nStr = Math.min(strs.length, MAX_ENUM_STATES);
    buf.writeInt16BE(nStr, offset + 4);
    for (let i = 0; i < nStr; i++) {
      writeSlotString(buf, offset + 6 + i * MAX_ENUM_STRING_SIZE, MAX_ENUM_STRING_SIZE, strs[i]);
    }
    return;
  }
  const lay = grLayout(type);
  if (lay.precision) buf.writeInt16BE((num(data.precision) << 16) >> 16, offset + 4);
  writeSlotString(buf, offset + lay.units, MAX_UNITS_SIZE, data.units ?? '');
  writeLimits(buf, offset + lay.limits, type, data, family === 4 ? 8 : 6);
}

function readMeta(buf: Buffer, offset: number, dbrType: number, out: DbrData): void {
  if (META_OF[dbrType] === 0) return;
  out.status = buf.readUInt16BE(offset);
  out.severity = buf.readUInt16BE(offset + 2);
  if (dbrType === STSACK_STRING) {
    out.ackt = buf.readUInt16BE(offset + 4);
    out.acks = buf.readUInt16BE(offset + 6);
    return;
  }
  const family = Math.floor(dbrType / 7);
  const type = (dbrType % 7) as NativeType;
  if (family === 2) {
    out.stamp = { secPastEpoch: buf.readUInt32BE(offset + 4), nsec: buf.readUInt32BE(offset + 8) };
    return;
  }
  if (family < 3 || type === 0) return;
  if (type === 3) {
    const nStr = Math.max(0, Math.min(buf.readInt16BE(offset + 4), MAX_ENUM_STATES));
    const strs: string[] = new Array<string>(nStr);
    for (let i = 0; i < nStr; i++) {
      const o = offset + 6 + i * MAX_ENUM_STRING_SIZE;
      strs[i] = readSlotString(buf, o, o + MAX_ENUM_STRING_SIZE);
    }
    out.enumStrs = strs;
    return;
  }
  const lay = grLayout(type);
  if (lay.precision) out.precision = buf.readInt16BE(offset + 4);
  out.units = readSlotString(buf, offset + lay.units, offset + lay.units + MAX_UNITS_SIZE);
  readLimits(buf, offset + lay.limits, type, out, family === 4 ? 8 : 6);
}

// ---------------------------------------------------------------------------------------------
// Encode / decode

/** Whether this call encodes a short-form single string. */
function isShortString(dbrType: number, count: number, opts?: EncodeDbrOptions): boolean {
  return opts?.shortString === true && dbrType === 0 && count === 1;
}

/**
 * Encode a DBR payload (unpadded) of `count` elements. The value is truncated or zero-filled to
 * `count`. Metadata fields missing from `data` encode as zero / empty.
 */
export function encodeDbr(dbrType: number, count: number, data: DbrData, opts?: EncodeDbrOptions): Buffer {
  checkType(dbrType);
  checkCount(count);
  if (isShortString(dbrType, count, opts)) {
    const v = data.value;
    return encodeShortString(Array.isArray(v) && v.length > 0 ? v[0] : '');
  }
  const buf = Buffer.allocUnsafe(dbrSize(dbrType, count));
  encodeDbrInto(buf, 0, dbrType, count, data);
  return buf;
}

/** Size `encodeDbr(dbrType, count, data, opts)` will produce (unpadded). */
export function encodedDbrSize(
  dbrType: number,
  count: number,
  data: DbrData,
  opts?: EncodeDbrOptions,
): number {
  if (isShortString(dbrType, count, opts)) {
    const v = data.value;
    return shortStringLength(Array.isArray(v) && v.length > 0 ? v[0] : '') + 1;
  }
  return dbrSize(dbrType, count);
}

/**
 * Encode a DBR payload into `buf` at `offset`; returns the bytes written (unpadded size). With
 * `{shortString: true}` a single plain string is written in short form.
 */
export function encodeDbrInto(
  buf: Buffer,
  offset: number,
  dbrType: number,
  count: number,
  data: DbrData,
  opts?: EncodeDbrOptions,
): number {
  checkType(dbrType);
  checkCount(count);
  const value = data.value;
  if (isShortString(dbrType, count, opts)) {
    const s = Array.isArray(value) && value.length > 0 ? value[0] : '';
    const n = shortStringLength(s);
    if (offset + n + 1 > buf.length) throw new RangeError('buffer too small for the DBR payload');
    buf.write(s, offset, n, 'utf8');
    buf[offset + n] = 0;
    return n + 1;
  }
  const size = META_OF[dbrType] + count * NATIVE_ELEMENT_SIZE[VT_OF[dbrType]];
  if (offset + size > buf.length) throw new RangeError('buffer too small for the DBR payload');
  writeMeta(buf, offset, dbrType, data);
  const meta = META_OF[dbrType];
  const type = VT_OF[dbrType];
  const vo = offset + meta;
  if (type === 0) {
    if (!Array.isArray(value)) {
      throw new ProtocolError(`DBR type ${dbrType} needs string values, got a ${value.constructor.name}`);
    }
    const n = Math.min(count, value.length);
    for (let i = 0; i < n; i++)
      writeSlotString(buf, vo + i * MAX_STRING_SIZE, MAX_STRING_SIZE, String(value[i]));
    if (count > n) buf.fill(0, vo + n * MAX_STRING_SIZE, vo + count * MAX_STRING_SIZE);
  } else if (count > 0) {
    encodeNumeric(buf, vo, type, count, value);
  }
  return size;
}

/**
 * Decode a DBR payload of `count` elements. Extra bytes (padding) are ignored. Throws ProtocolError
 * when the payload is too short. A single string (plain, count 1) may be in short form.
 *
 * With `pool`, a large numeric value is decoded into memory taken from that pool (no fresh pages):
 * the caller gives it back (`pool.give(data.value as Uint8Array-like)`) once nothing uses the value,
 * or lets it be garbage collected.
 */
export function decodeDbr(dbrType: number, count: number, payload: Uint8Array, pool?: BufferPool): DbrData {
  checkType(dbrType);
  checkCount(count);
  const buf = asBuffer(payload);
  const meta = META_OF[dbrType];
  const type = VT_OF[dbrType];
  const elem = NATIVE_ELEMENT_SIZE[type];
  const need = meta + (type === 0 ? Math.max(0, count - 1) * elem : count * elem);
  if (buf.length < need) {
    throw new ProtocolError(
      `DBR type ${dbrType} with ${count} elements needs ${type === 0 ? 'at least ' : ''}${need} bytes, got ${buf.length}`,
    );
  }
  const out: DbrData = { value: [] };
  readMeta(buf, 0, dbrType, out);
  if (type === 0) {
    const strs = new Array<string>(count);
    for (let i = 0; i < count; i++) {
      const o = meta + i * elem;
      strs[i] = readSlotString(buf, o, Math.min(o + elem, buf.length));
    }
    out.value = strs;
  } else {
    out.value = decodeNumeric(type, buf, meta, count, pool);
  }
  return out;
}
