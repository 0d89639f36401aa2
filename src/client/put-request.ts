/**
 * A channel's put request (WRITE / WRITE_NOTIFY): checking that the value's array type matches the
 * DBR type, and encoding header and value into one buffer from the large-buffer pool (the circuit
 * gives it back once written).
 */
import { ECA } from '../protocol/constants.js';
import type { NativeType } from '../protocol/constants.js';
import { NUMERIC_CTORS, dbrValueType, encodeDbrInto, encodedDbrSize } from '../protocol/dbr.js';
import {
  EXTENDED_HEADER_SIZE,
  HEADER_SIZE,
  needsExtendedHeader,
  padTo8,
  writeHeader,
} from '../protocol/header.js';
import { largeBuffers } from '../protocol/buffer-pool.js';
import type { DbrData, NativeArray } from '../protocol/values.js';
import { CaError } from './errors.js';
import { put32 } from './request-batch.js';

/** Whether `value` is the array type of native type `t` (strings: a string array). */
function valueMatchesType(value: NativeArray, t: NativeType): boolean {
  return t === 0 ? Array.isArray(value) : value instanceof NUMERIC_CTORS[t];
}

/** Throw CaError (ECA_BADTYPE) unless `dbrType` can be put (0-6, 35, 36) and `value` is its array type. */
export function checkPutValue(value: NativeArray, dbrType: number, pvname: string): void {
  if (!(Number.isInteger(dbrType) && ((dbrType >= 0 && dbrType <= 6) || dbrType === 35 || dbrType === 36))) {
    throw new CaError(`invalid DBR type ${String(dbrType)} for a put (0-6, 35, 36)`, {
      eca: ECA.BADTYPE,
      pvname,
    });
  }
  const vt = dbrValueType(dbrType);
  if (value === null || typeof value !== 'object' || !valueMatchesType(value, vt)) {
    throw new CaError(`value does not match DBR type ${dbrType}`, { eca: ECA.BADTYPE, pvname });
  }
}

/**
 * The whole request (`command` WRITE or WRITE_NOTIFY) for `count` elements of `value`, in a buffer
 * from `largeBuffers` of exactly its size. A WRITE_NOTIFY's ioid may be set later with setPutIoid.
 */
export function encodePutRequest(
  command: number,
  dbrType: number,
  count: number,
  value: NativeArray,
  sid: number,
  parameter2: number,
): Buffer {
  const data: DbrData = { value };
  const sopts = { shortString: true };
  const raw = encodedDbrSize(dbrType, count, data, sopts);
  const size = padTo8(raw);
  const ext = needsExtendedHeader(size, count);
  const hlen = ext ? EXTENDED_HEADER_SIZE : HEADER_SIZE;
  // a large array's request goes back to the pool once written (its pages stay mapped for the next)
  const buf = largeBuffers.take(hlen + size);
  encodeDbrInto(buf, hlen, dbrType, count, data, sopts);
  if (size > raw) buf.fill(0, hlen + raw, hlen + size);
  writeHeader(buf, 0, {
    command,
    payloadSize: size,
    dataType: dbrType,
    dataCount: count,
    parameter1: sid,
    parameter2,
  });
  return buf;
}

/** Set parameter 2 (a WRITE_NOTIFY's ioid) of a request encoded by encodePutRequest (same offset in both header forms). */
export function setPutIoid(buf: Buffer, ioid: number): void {
  put32(buf, 12, ioid);
}
