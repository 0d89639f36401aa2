/**
 * One-element DBR values of the plain, STS and TIME families (the monitor hot path) decoded into a
 * reusable object: no value array, no time stamp object, no result object per value. Reads exactly
 * what `decodeDbr` reads for these types (dbr.ts), as plain numbers.
 */
import type { NativeType } from './constants.js';

/** Bytes before the value, per family (plain, STS, TIME) and value type (dbr.ts VALUE_OFFSET). */
const SCALAR_META: readonly (readonly number[])[] = [
  [0, 0, 0, 0, 0, 0, 0],
  [4, 4, 4, 4, 5, 4, 8],
  [12, 14, 12, 14, 15, 12, 16],
];
const ELEMENT_SIZE = [40, 2, 4, 2, 1, 4, 8] as const;

/** The fields of a decoded one-element plain / STS / TIME DBR (refilled by `decodeScalarInto`). */
export class ScalarDbr {
  /** DBR type decoded (0-20). */
  dbrType = 0;
  /** The value: a number, or a string for the STRING types (decodeDbr's value[0]). */
  value: number | string = 0;
  /** Whether the type has status and severity (STS, TIME). */
  hasAlarm = false;
  status = 0;
  severity = 0;
  /** Whether the type has a time stamp (TIME). */
  hasStamp = false;
  secPastEpoch = 0;
  nsec = 0;
}

/** Whether `decodeScalarInto` handles this DBR type and count. */
export function isScalarDbr(dbrType: number, count: number): boolean {
  return count === 1 && dbrType >= 0 && dbrType <= 20 && Number.isInteger(dbrType);
}

/**
 * Decode a one-element DBR of type `dbrType` (0-20: see isScalarDbr) from the `size` bytes of `buf`
 * at `offset` into `out`. Returns false, leaving `out` in an undefined state, when the bytes are too
 * few (where decodeDbr throws). A STRING value may be in short form, as in decodeDbr.
 */
export function decodeScalarInto(
  dbrType: number,
  buf: Buffer,
  offset: number,
  size: number,
  out: ScalarDbr,
): boolean {
  const family = (dbrType / 7) | 0;
  const type = (dbrType - family * 7) as NativeType;
  const meta = SCALAR_META[family]![type]!;
  if (size < (type === 0 ? meta : meta + ELEMENT_SIZE[type])) return false;
  out.dbrType = dbrType;
  out.hasAlarm = family > 0;
  if (family > 0) {
    out.status = buf.readUInt16BE(offset);
    out.severity = buf.readUInt16BE(offset + 2);
  }
  out.hasStamp = family === 2;
  if (family === 2) {
    out.secPastEpoch = buf.readUInt32BE(offset + 4);
    out.nsec = buf.readUInt32BE(offset + 8);
  }
  const o = offset + meta;
  switch (type) {
    case 0: {
      const end = Math.min(o + ELEMENT_SIZE[0], offset + size);
      let z = o;
      while (z < end && buf[z] !== 0) z++;
      out.value = buf.toString('utf8', o, z);
      break;
    }
    case 1:
      out.value = buf.readInt16BE(o);
      break;
    case 2:
      out.value = buf.readFloatBE(o);
      break;
    case 3:
      out.value = buf.readUInt16BE(o);
      break;
    case 4:
      out.value = buf[o]!;
      break;
    case 5:
      out.value = buf.readInt32BE(o);
      break;
    default:
      out.value = buf.readDoubleBE(o);
  }
  return true;
}
