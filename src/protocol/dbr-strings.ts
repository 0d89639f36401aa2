/**
 * The string slots of DBR structures (ca-protocol.md §7): NUL-terminated byte strings in fixed-size
 * slots (40-byte values, 8-byte units, 26-byte enum states), mapped to JS strings with UTF-8 (as
 * pyepics does by default). Pure functions over bytes.
 */
import { MAX_STRING_SIZE } from './constants.js';

/** Write `s` as a NUL-terminated string in a slot of `slot` bytes (cut at a UTF-8 boundary). */
export function writeSlotString(buf: Buffer, offset: number, slot: number, s: string): void {
  const max = slot - 1;
  let n: number;
  if (s.length <= max && isAscii(s)) {
    n = buf.write(s, offset, 'latin1');
  } else {
    n = buf.write(s, offset, max, 'utf8'); // Buffer#write never writes partial characters
  }
  buf.fill(0, offset + n, offset + slot);
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** Read a NUL-terminated string from [offset, end). */
export function readSlotString(buf: Uint8Array, offset: number, end: number): string {
  const b = asBuffer(buf);
  const z = b.subarray(offset, end).indexOf(0);
  return b.toString('utf8', offset, z < 0 ? end : offset + z);
}

export function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/** Bytes `s` takes in UTF-8, cut to fit a 40-byte slot (at most 39). */
export function shortStringLength(s: string): number {
  const len = Buffer.byteLength(s, 'utf8');
  if (len <= MAX_STRING_SIZE - 1) return len;
  const tmp = Buffer.alloc(MAX_STRING_SIZE - 1);
  return tmp.write(s, 0, 'utf8');
}

/**
 * Encode one DBR_STRING value in its short form: the string, a NUL, no padding (strlen + 1 bytes,
 * at most 40). `encodeMessage` pads it to 8.
 */
export function encodeShortString(s: string): Buffer {
  const n = shortStringLength(s);
  const buf = Buffer.alloc(n + 1);
  buf.write(s, 0, n, 'utf8');
  return buf;
}
