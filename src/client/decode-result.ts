/**
 * Replies and monitor updates decoded into GetResults: a large owned array viewed in place, a
 * one-element plain / STS / TIME value read straight from the circuit's read buffer, anything else by
 * decodeDbr.
 */
import type { NativeType } from '../protocol/constants.js';
import { NUMERIC_CTORS, dbrMetaSize, decodeDbr, swapInPlace } from '../protocol/dbr.js';
import { ScalarDbr, decodeScalarInto, isScalarDbr } from '../protocol/dbr-scalar.js';
import type { Message } from '../protocol/header.js';
import type { NativeArray } from '../protocol/values.js';
import type { GetResult } from './channel.js';
import { FramedMessage } from './stream-framer.js';

const ELEMENT_SIZE = [40, 2, 4, 2, 1, 4, 8];

/**
 * Decode a reply into a GetResult. When the payload is a buffer of its own (`owned`, large arrays),
 * numeric values are byte-swapped in place and returned as a view of it: no copy.
 */
export function decodeResult(m: Message, owned: boolean): GetResult {
  const type = m.dataType;
  const count = m.dataCount;
  if (owned && type <= 34 && count > 1) {
    const vt = type % 7;
    const elem = ELEMENT_SIZE[vt]!;
    const p = m.payload;
    const meta = dbrMetaSize(type);
    if (vt !== 0 && meta % elem === 0 && p.byteOffset === 0 && meta + count * elem <= p.length) {
      const r = decodeDbr(type, 0, p.subarray(0, meta)) as GetResult;
      const bytes = p.subarray(meta, meta + count * elem);
      swapInPlace(bytes, elem);
      r.value = new NUMERIC_CTORS[vt as Exclude<NativeType, 0>](p.buffer as ArrayBuffer, meta, count);
      r.dbrType = type;
      r.count = count;
      return r;
    }
  }
  if (isScalarDbr(type, count)) {
    const ok =
      m instanceof FramedMessage
        ? decodeScalarInto(type, m.data, m.start, m.payloadSize, RESULT_SCALAR)
        : decodeScalarInto(type, m.payload, 0, m.payload.length, RESULT_SCALAR);
    if (ok) return scalarResult(RESULT_SCALAR, count);
    // too short: decodeDbr throws the usual error
  }
  const r = decodeDbr(type, count, m.payload) as GetResult;
  r.dbrType = type;
  r.count = count;
  return r;
}

/** Scratch for decodeResult's one-element replies (read out at once). */
const RESULT_SCALAR = new ScalarDbr();

/**
 * The GetResult of a one-element plain / STS / TIME reply, as decodeDbr + dbrType + count make it
 * (same keys, same order), built as one object literal: no fields added afterwards.
 */
function scalarResult(s: ScalarDbr, count: number): GetResult {
  const t = s.dbrType;
  const vt = t % 7;
  const v = s.value;
  const value: NativeArray =
    vt === 0
      ? [v as string]
      : vt === 6
        ? Float64Array.of(v as number)
        : vt === 2
          ? Float32Array.of(v as number)
          : vt === 5
            ? Int32Array.of(v as number)
            : vt === 1
              ? Int16Array.of(v as number)
              : vt === 3
                ? Uint16Array.of(v as number)
                : Uint8Array.of(v as number);
  if (!s.hasAlarm) return { value, dbrType: t, count };
  if (!s.hasStamp) return { value, status: s.status, severity: s.severity, dbrType: t, count };
  return {
    value,
    status: s.status,
    severity: s.severity,
    stamp: { secPastEpoch: s.secPastEpoch, nsec: s.nsec },
    dbrType: t,
    count,
  };
}
