/**
 * EPICS macro substitution as macLib does it for dbLoadRecords: `$(NAME)`, `${NAME}`, defaults
 * `$(NAME=default)`, scoped definitions `$(NAME,A=1)`, nesting (`$(P$(N))`, values that reference
 * other macros) and `\$` for a literal dollar. Undefined macros are left in the text as written
 * (`$(P)`) and reported, as softIoc does ("macro P is undefined").
 */

/** Thrown for malformed macro definition strings (`-m` arguments). */
export class MacroError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MacroError';
  }
}

export type MacroMap = ReadonlyMap<string, string>;

/** Result of an expansion: the text and the names of macros that had no value. */
export interface ExpandResult {
  text: string;
  undefinedNames: string[];
}

const MAX_DEPTH = 32;

/**
 * Parse a macro definition string `"P=X:,R=Y"` (macParseDefns): comma separated NAME=VALUE pairs,
 * values may be quoted with '' or "", backslash escapes the next character, whitespace around
 * names and unquoted values is trimmed. `NAME=` defines an empty value.
 */
export function parseMacroString(defs: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  const n = defs.length;
  while (i < n) {
    while (i < n && (defs[i] === ',' || /\s/.test(defs[i]!))) i++;
    if (i >= n) break;
    let name = '';
    while (i < n && defs[i] !== '=' && defs[i] !== ',') name += defs[i++];
    name = name.trim();
    if (!name) throw new MacroError(`macro definition without a name in "${defs}"`);
    if (!/^[A-Za-z0-9_\-+:.[\]<>;]+$/.test(name))
      throw new MacroError(`bad macro name "${name}" in "${defs}"`);
    if (i >= n || defs[i] === ',') throw new MacroError(`macro "${name}" has no '=value' in "${defs}"`);
    i++; // '='
    let value = '';
    let keep = 0; // length of value that must not be trimmed (quoted or escaped text)
    while (i < n && /[ \t]/.test(defs[i]!)) i++;
    while (i < n && defs[i] !== ',') {
      const c = defs[i]!;
      if (c === '"' || c === "'") {
        const q = c;
        i++;
        while (i < n && defs[i] !== q) {
          if (defs[i] === '\\' && i + 1 < n) i++;
          value += defs[i++];
        }
        if (i >= n) throw new MacroError(`unterminated quote in macro "${name}" of "${defs}"`);
        i++;
        keep = value.length;
      } else if (c === '\\' && i + 1 < n) {
        value += defs[i + 1];
        i += 2;
        keep = value.length;
      } else {
        value += c;
        i++;
      }
    }
    out.set(name, value.slice(0, keep) + value.slice(keep).trimEnd());
  }
  return out;
}

/** Find the index of the bracket closing the one opened at `start` (which holds '(' or '{'). */
function findClose(text: string, start: number): number {
  const open = text[start];
  const close = open === '(' ? ')' : '}';
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '(' || c === '{') depth++;
    else if (c === ')' || c === '}') {
      depth--;
      if (depth === 0) return c === close ? i : -1;
    }
  }
  return -1;
}

/** Split `NAME=default,A=1` at top-level commas. */
function splitTop(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\' && i + 1 < body.length) {
      cur += c + body[i + 1];
      i++;
      continue;
    }
    if (c === '(' || c === '{') depth++;
    else if (c === ')' || c === '}') depth--;
    if (c === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

function expandInto(
  text: string,
  macros: MacroMap,
  undef: Set<string>,
  depth: number,
  stack: string[],
): string {
  if (depth > MAX_DEPTH)
    throw new MacroError(`macro expansion too deep (recursive definition of ${stack.join(' -> ')}?)`);
  if (text.indexOf('$') < 0 && text.indexOf('\\') < 0) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && text[i + 1] === '$') {
      out += '$';
      i++;
      continue;
    }
    if (c !== '$' || (text[i + 1] !== '(' && text[i + 1] !== '{')) {
      out += c;
      continue;
    }
    const end = findClose(text, i + 1);
    if (end < 0) {
      // Unterminated reference: keep the rest verbatim (macLib does the same).
      out += text.slice(i);
      undef.add(text.slice(i + 2));
      break;
    }
    const raw = text.slice(i + 2, end);
    const parts = splitTop(raw);
    const head = parts[0]!;
    const eq = head.indexOf('=');
    const nameRaw = eq >= 0 ? head.slice(0, eq) : head;
    const name = expandInto(nameRaw, macros, undef, depth + 1, stack);
    let scope: MacroMap = macros;
    if (parts.length > 1) {
      const m = new Map(macros);
      for (const p of parts.slice(1)) {
        const k = p.indexOf('=');
        if (k > 0) m.set(p.slice(0, k).trim(), expandInto(p.slice(k + 1), macros, undef, depth + 1, stack));
      }
      scope = m;
    }
    const value = scope.get(name);
    if (value !== undefined) {
      if (stack.includes(name))
        throw new MacroError(`recursive macro definition: ${[...stack, name].join(' -> ')}`);
      out += expandInto(value, scope, undef, depth + 1, [...stack, name]);
    } else if (eq >= 0) {
      out += expandInto(head.slice(eq + 1), scope, undef, depth + 1, stack);
    } else {
      undef.add(name);
      out += text.slice(i, end + 1);
    }
    i = end;
  }
  return out;
}

/** Expand every macro reference in `text`. Undefined ones stay as written and are listed. */
export function expandMacros(text: string, macros: MacroMap): ExpandResult {
  const undef = new Set<string>();
  const out = expandInto(text, macros, undef, 0, []);
  return { text: out, undefinedNames: [...undef] };
}

/** Normalise a macro argument: a string is parsed, a map or record is copied. */
export function toMacroMap(m: string | MacroMap | Record<string, string> | undefined): Map<string, string> {
  if (m === undefined) return new Map();
  if (typeof m === 'string') return parseMacroString(m);
  if (m instanceof Map) return new Map(m);
  return new Map(Object.entries(m as Record<string, string>));
}
