/**
 * catools string escaping: bytes and strings shown with C escapes (as EPICS base's epicsStrnEscapedFromRaw)
 * and command-line arguments decoded from them (as epicsStrnRawFromEscaped).
 */
const ESCAPES: Readonly<Record<number, string>> = {
  7: '\\a',
  8: '\\b',
  12: '\\f',
  10: '\\n',
  13: '\\r',
  9: '\\t',
  11: '\\v',
  92: '\\\\',
  39: "\\'",
  34: '\\"',
};

const HEX = '0123456789abcdef';

/** epicsStrnEscapedFromRaw over bytes: C escapes, other non-printables as `\xHH`. */
export function escapeBytes(b: Uint8Array, start = 0, end = b.length): string {
  let out = '';
  let plainFrom = start;
  for (let i = start; i < end; i++) {
    const c = b[i];
    if (c >= 0x20 && c < 0x7f && c !== 92 && c !== 39 && c !== 34) continue;
    if (i > plainFrom) out += latin1(b, plainFrom, i);
    plainFrom = i + 1;
    const e = ESCAPES[c];
    out += e !== undefined ? e : c === 0 ? '\\0' : '\\x' + HEX[c >> 4] + HEX[c & 15];
  }
  if (end > plainFrom) out += latin1(b, plainFrom, end);
  return out;
}

function latin1(b: Uint8Array, s: number, e: number): string {
  return Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('latin1');
}

/** Escape a (UTF-8) JS string as catools print it: its UTF-8 bytes through escapeBytes. */
export function escapeString(s: string): string {
  // fast path: printable ASCII without quotes and backslashes
  let simple = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c >= 0x7f || c === 92 || c === 39 || c === 34) {
      simple = false;
      break;
    }
  }
  if (simple) return s;
  return escapeBytes(Buffer.from(s, 'utf8'));
}

/**
 * epicsStrnRawFromEscaped (EPICS base 7.0.8) into bytes: `\a \b \f \n \r \t \v \\ \' \"`, `\0` (one NUL
 * byte; there are no other octal escapes: `\101` is the characters `101`), `\xH` / `\xHH`; any other
 * escaped character stands for itself. A `\x` without a hex digit is dropped (the character after it
 * is read as usual); a trailing `\` or `\x` ends the text.
 */
export function unescapeToBytes(s: string): Uint8Array {
  const src = Buffer.from(s, 'utf8');
  const out = Buffer.alloc(src.length);
  let n = 0;
  let i = 0;
  const isHex = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
  const hexVal = (c: number): number => (c <= 57 ? c - 48 : (c | 0x20) - 87);
  while (i < src.length) {
    const c = src[i++];
    if (c === 0) break;
    if (c !== 92) {
      out[n++] = c;
      continue;
    }
    if (i >= src.length || src[i] === 0) break;
    const e = src[i++];
    switch (e) {
      case 97: out[n++] = 7; break; // prettier-ignore
      case 98: out[n++] = 8; break; // prettier-ignore
      case 102: out[n++] = 12; break; // prettier-ignore
      case 110: out[n++] = 10; break; // prettier-ignore
      case 114: out[n++] = 13; break; // prettier-ignore
      case 116: out[n++] = 9; break; // prettier-ignore
      case 118: out[n++] = 11; break; // prettier-ignore
      case 48: out[n++] = 0; break; // prettier-ignore
      case 120: {
        // \xH or \xHH; the end of the text right after \x ends the decoding
        if (i >= src.length || src[i] === 0) return new Uint8Array(out.buffer, out.byteOffset, n);
        if (!isHex(src[i])) break; // \x dropped, the next character is read as usual
        let u = hexVal(src[i++]);
        if (i < src.length && isHex(src[i])) u = (u << 4) | hexVal(src[i++]);
        out[n++] = u;
        break;
      }
      default:
        out[n++] = e; // \\, \', \", digits 1-9 and unknown escapes: the character itself
    }
  }
  return new Uint8Array(out.buffer, out.byteOffset, n);
}
