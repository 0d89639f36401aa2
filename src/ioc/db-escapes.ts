/**
 * Quoted field and info values of a .db file as EPICS base reads them: its lexer takes them in
 * JSON mode (a backslash may not be followed by 1-9, `\x` needs two hex digits and `\u` four, no
 * control characters), then dbTranslateEscape (epicsStrnRawFromEscaped) turns the escapes into
 * the characters they stand for.
 */

const HEX = /^[0-9a-fA-F]$/;

/**
 * Why `body` (the text between the quotes) is no JSON string in base's lexer, or undefined when it
 * is one.
 */
export function jsonStringError(body: string): string | undefined {
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c < 0x20) return 'control character in a quoted value';
    if (body[i] !== '\\') continue;
    const n = body[i + 1];
    if (n === undefined) return 'backslash at the end of a quoted value';
    if (n === 'x' || n === 'u') {
      const digits = n === 'x' ? 2 : 4;
      for (let k = 1; k <= digits; k++)
        if (!HEX.test(body[i + 1 + k] ?? '')) return `bad \\${n} escape in a quoted value`;
      i += 1 + digits;
    } else if (n >= '1' && n <= '9') return `bad escape \\${n} in a quoted value`;
    else i++;
  }
  return undefined;
}

const SIMPLE: Readonly<Record<string, string>> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/**
 * epicsStrnRawFromEscaped: C escapes to characters; `\0` ends the string, `\x` takes one or two
 * hex digits, any other escaped character stands for itself.
 */
export function rawFromEscaped(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\0') break;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = s[++i];
    if (n === undefined || n === '\0') break;
    if (n === '0') break; // OUT('\0'): the C string ends here
    if (n === 'x') {
      let u = 0;
      let k = 0;
      while (k < 2 && HEX.test(s[i + 1] ?? '')) {
        u = (u << 4) | parseInt(s[++i]!, 16);
        k++;
      }
      if (k === 0) continue; // "\x" then a non-digit: the character is read again as input
      if (u === 0) break;
      out += String.fromCharCode(u);
      continue;
    }
    out += SIMPLE[n] ?? n;
  }
  return out;
}
