/**
 * getopt(3) as the catools use it: single-character options, clustered flags (`-ta`), option
 * arguments attached (`-w2`, `-0x`, `-F,`, `-#3`) or separate (`-w 2`), `--` ends the options.
 * `permute` = GNU behaviour (options may follow operands: caget, camonitor, cainfo); without it
 * parsing stops at the first operand (POSIXLY_CORRECT, as caput sets it, so `caput PV -5` works).
 * With a leading ':' in the option string, a missing argument is reported as ':' instead of '?'.
 */

/** One parsed option, in command-line order. `opt` is '?' (unknown) or ':' (missing argument) on errors. */
export interface GetoptItem {
  opt: string;
  /** The argument of an option that takes one. */
  arg?: string;
  /** The offending option character for '?' and ':'. */
  optopt?: string;
}

export interface GetoptResult {
  options: GetoptItem[];
  operands: string[];
}

export interface GetoptOptions {
  permute?: boolean;
}

/** Parse `args` (without the program name) against an optstring like `":taicnhsSVe:f:w:"`. */
export function getopt(args: readonly string[], optstring: string, opts: GetoptOptions = {}): GetoptResult {
  const colonMode = optstring.startsWith(':');
  const spec = colonMode ? optstring.slice(1) : optstring;
  const takesArg = (c: string): boolean | undefined => {
    if (c === ':') return undefined;
    const i = spec.indexOf(c);
    if (i < 0) return undefined;
    return spec[i + 1] === ':';
  };
  const options: GetoptItem[] = [];
  const operands: string[] = [];
  let i = 0;
  while (i < args.length) {
    const a = args[i];
    if (a === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (a.length < 2 || a[0] !== '-') {
      if (!opts.permute) {
        operands.push(...args.slice(i));
        break;
      }
      operands.push(a);
      i++;
      continue;
    }
    i++;
    // a cluster of options: -abc, -w2, -w 2
    for (let k = 1; k < a.length; k++) {
      const c = a[k];
      const ta = takesArg(c);
      if (ta === undefined) {
        options.push({ opt: '?', optopt: c });
        continue;
      }
      if (!ta) {
        options.push({ opt: c });
        continue;
      }
      if (k + 1 < a.length) {
        options.push({ opt: c, arg: a.slice(k + 1) });
      } else if (i < args.length) {
        options.push({ opt: c, arg: args[i] });
        i++;
      } else {
        options.push({ opt: colonMode ? ':' : '?', optopt: c });
      }
      break;
    }
  }
  return { options, operands };
}

/** sscanf("%d"): leading blanks, optional sign, digits; undefined when no digits. Trailing text ignored. */
export function scanInt(s: string): number | undefined {
  const m = /^\s*([+-]?\d+)/.exec(s);
  if (!m) return undefined;
  const v = parseInt(m[1], 10);
  // out-of-range %d is undefined behaviour in C; clamp to the 32-bit range
  return Math.max(-2147483648, Math.min(2147483647, v));
}

/** sscanf("%u"): like %d, negative values wrap as unsigned. */
export function scanUnsigned(s: string): number | undefined {
  const v = scanInt(s);
  return v === undefined ? undefined : v >>> 0;
}

/**
 * epicsScanDouble: strtod over the whole string (leading blanks allowed, trailing text allowed as in
 * sscanf "%lf"); undefined when no number was read.
 */
export function scanDouble(s: string): number | undefined {
  const r = strtod(s);
  return r.end === 0 ? undefined : r.value;
}

/**
 * C strtod: parses the longest prefix that is a number (decimal, hex `0x1p3`, `inf`, `infinity`,
 * `nan`); `end` is the number of characters consumed (0 when nothing was parsed).
 */
export function strtod(s: string): { value: number; end: number } {
  const m =
    /^(\s*)([+-]?)(?:(0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?\d+)?)|((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(inf(?:inity)?)|(nan(?:\([0-9A-Za-z_]*\))?))/i.exec(
      s,
    );
  if (!m) return { value: 0, end: 0 };
  const sign = m[2] === '-' ? -1 : 1;
  let value: number;
  if (m[3] !== undefined) value = parseHexFloat(m[3]);
  else if (m[4] !== undefined) value = parseFloat(m[4]);
  else if (m[5] !== undefined) value = Infinity;
  else value = NaN;
  return { value: sign * value, end: m[0].length };
}

function parseHexFloat(s: string): number {
  const m = /^0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)(?:[pP]([+-]?\d+))?$/.exec(s);
  if (!m) return NaN;
  const intDigits = m[1];
  const fracDigits = m[2];
  const exp = m[3] ? parseInt(m[3], 10) : 0;
  let v = 0;
  for (const c of intDigits) v = v * 16 + parseInt(c, 16);
  let scale = 1 / 16;
  for (const c of fracDigits) {
    v += parseInt(c, 16) * scale;
    scale /= 16;
  }
  return v * 2 ** exp;
}
