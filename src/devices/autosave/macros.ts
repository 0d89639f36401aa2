/**
 * Macro definitions and `$(NAME)` / `${NAME}` expansion as EPICS macLib does it for autosave request
 * files: `$(NAME=default)` gives a default, values may themselves refer to outer macros.
 */

export type Macros = Readonly<Record<string, string>>;

/** Thrown by the helpers here; the request-file parser wraps it with file and line. */
export class MacroError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MacroError';
  }
}

/**
 * Parse `P=X:,Q=Y` (also `;` separated, values optionally in single or double quotes) into a map.
 * Whitespace around names and unquoted values is ignored. An empty string gives no macros.
 */
export function parseMacros(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && (text[i] === ',' || text[i] === ';' || text[i] === ' ' || text[i] === '\t')) i++;
    if (i >= n) break;
    let name = '';
    while (i < n && text[i] !== '=' && text[i] !== ',' && text[i] !== ';') name += text[i++];
    name = name.trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new MacroError(`bad macro name '${name}' in '${text}'`);
    }
    if (text[i] !== '=') throw new MacroError(`macro '${name}' has no '=value' in '${text}'`);
    i++;
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    let value = '';
    const q = text[i];
    if (q === '"' || q === "'") {
      i++;
      while (i < n && text[i] !== q) {
        if (text[i] === '\\' && i + 1 < n) i++;
        value += text[i++];
      }
      if (i >= n) throw new MacroError(`unterminated quote in macro '${name}'`);
      i++;
    } else {
      // Unquoted: up to the next separator, but keep $(...) / ${...} references whole.
      let depth = 0;
      while (i < n) {
        const c = text[i];
        if (c === '(' || c === '{') depth++;
        else if ((c === ')' || c === '}') && depth > 0) depth--;
        else if (depth === 0 && (c === ',' || c === ';')) break;
        value += c;
        i++;
      }
      value = value.trim();
    }
    out[name] = value;
  }
  return out;
}

/**
 * Expand `$(NAME)`, `${NAME}` and `$(NAME=default)` in `text`. References inside defaults and
 * values are expanded recursively (with a depth limit against self-reference). An undefined macro
 * without a default throws a MacroError naming it.
 */
export function expandMacros(text: string, macros: Macros, depth = 0): string {
  if (!text.includes('$')) return text;
  if (depth > 20) throw new MacroError(`macro expansion too deep (recursive definition?) in '${text}'`);
  let out = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === '$' && (text[i + 1] === '(' || text[i + 1] === '{')) {
      const close = text[i + 1] === '(' ? ')' : '}';
      const open = text[i + 1];
      // find the matching close, allowing nested references in a default
      let j = i + 2;
      let level = 1;
      while (j < n) {
        if (text[j] === open) level++;
        else if (text[j] === close && --level === 0) break;
        j++;
      }
      if (j >= n) throw new MacroError(`unterminated macro reference in '${text}'`);
      const inner = text.slice(i + 2, j);
      const eq = inner.indexOf('=');
      const name = expandMacros(eq >= 0 ? inner.slice(0, eq) : inner, macros, depth + 1).trim();
      if (Object.prototype.hasOwnProperty.call(macros, name)) {
        out += expandMacros(macros[name], macros, depth + 1);
      } else if (eq >= 0) {
        out += expandMacros(inner.slice(eq + 1), macros, depth + 1);
      } else {
        throw new MacroError(`undefined macro $(${name})`);
      }
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}
