/**
 * Autosave request files (`.req`): one PV name per line, `#` comments, and
 * `file "other.req" P=X:,Q=Y` includes whose macros apply to the included file. `$(NAME)` and
 * `${NAME}` are expanded with the macros in force; included files are looked up relative to the
 * including file, then in `searchPath`.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { AutosaveError } from './errors.js';
import { expandMacros, MacroError, parseMacros, type Macros } from './macros.js';

export interface RequestEntry {
  /** The PV name after macro expansion. */
  pvname: string;
  /** The request file it came from, and its line. */
  file: string;
  line: number;
}

export interface RequestOptions {
  /** Macros for the top-level file. */
  macros?: Macros;
  /** Extra directories searched for included files (after the including file's directory). */
  searchPath?: readonly string[];
  /** Reads a file (default: UTF-8 from disk). Lets tests supply an in-memory file system. */
  readFile?: (path: string) => string;
  /** Keep duplicate PV names (default: drop later duplicates). */
  keepDuplicates?: boolean;
}

const MAX_DEPTH = 32;
const PV_NAME = /^[A-Za-z0-9_\-+:[\]<>;{}.$()]+$/;

function stripComment(line: string): string {
  // '#' starts a comment at the start of a line or after whitespace ('#' inside a name is kept)
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '#' && (i === 0 || line[i - 1] === ' ' || line[i - 1] === '\t')) return line.slice(0, i);
  }
  return line;
}

/** Split `file "name" , MACROS` into the file name and the (unexpanded) macro text. */
function splitInclude(rest: string, file: string, lineNo: number): { name: string; macroText: string } {
  let s = rest.trim();
  let name: string;
  if (s.startsWith('"') || s.startsWith("'")) {
    const q = s[0];
    const end = s.indexOf(q, 1);
    if (end < 0) throw new AutosaveError('unterminated quote in file include', file, lineNo);
    name = s.slice(1, end);
    s = s.slice(end + 1);
  } else {
    const m = /^[^\s,]+/.exec(s);
    if (!m) throw new AutosaveError('file include without a file name', file, lineNo);
    name = m[0];
    s = s.slice(name.length);
  }
  s = s.trim();
  if (s.startsWith(',')) s = s.slice(1).trim();
  // the macro list may itself be quoted: file x.req "P=A:,Q=B"
  if (s.length >= 2 && (s[0] === '"' || s[0] === "'") && s[s.length - 1] === s[0]) s = s.slice(1, -1);
  if (name === '') throw new AutosaveError('file include without a file name', file, lineNo);
  return { name, macroText: s };
}

function locate(
  name: string,
  fromFile: string,
  searchPath: readonly string[],
  exists: (p: string) => boolean,
): string {
  if (isAbsolute(name)) return name;
  const candidates = [resolve(dirname(fromFile), name), ...searchPath.map((d) => resolve(d, name))];
  for (const c of candidates) if (exists(c)) return c;
  return candidates[0];
}

/**
 * Parse request-file text. `file` names it in errors and is the base for relative includes.
 * Returns the PV names in file order (includes expanded in place).
 */
export function parseRequestText(text: string, file: string, opts: RequestOptions = {}): RequestEntry[] {
  const out: RequestEntry[] = [];
  const seen = new Set<string>();
  const readFile = opts.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  const searchPath = opts.searchPath ?? [];
  const exists = (p: string): boolean => {
    try {
      readFile(p);
      return true;
    } catch {
      return false;
    }
  };
  const walk = (src: string, srcFile: string, macros: Macros, stack: string[]): void => {
    const lines = src.split(/\r?\n/);
    for (let k = 0; k < lines.length; k++) {
      const lineNo = k + 1;
      const line = stripComment(lines[k]).trim();
      if (line === '') continue;
      let expanded: string;
      try {
        if (/^file\s/.test(line) || line === 'file') {
          const { name, macroText } = splitInclude(line.slice(4), srcFile, lineNo);
          const newDefs = parseMacros(macroText);
          const inner: Record<string, string> = { ...macros };
          for (const [key, v] of Object.entries(newDefs)) inner[key] = expandMacros(v, macros);
          const incName = expandMacros(name, macros);
          const path = locate(incName, srcFile, searchPath, exists);
          if (stack.includes(path)) {
            throw new AutosaveError(`recursive include of ${incName}`, srcFile, lineNo);
          }
          if (stack.length >= MAX_DEPTH)
            throw new AutosaveError('includes nested too deeply', srcFile, lineNo);
          let incText: string;
          try {
            incText = readFile(path);
          } catch (e) {
            throw new AutosaveError(
              `cannot read included file ${incName}: ${(e as Error).message}`,
              srcFile,
              lineNo,
            );
          }
          walk(incText, path, inner, [...stack, path]);
          continue;
        }
        expanded = expandMacros(line.split(/\s+/)[0], macros);
      } catch (e) {
        if (e instanceof MacroError) throw new AutosaveError(e.message, srcFile, lineNo);
        throw e;
      }
      if (!PV_NAME.test(expanded)) {
        throw new AutosaveError(`invalid PV name '${expanded}'`, srcFile, lineNo);
      }
      if (!opts.keepDuplicates) {
        if (seen.has(expanded)) continue;
        seen.add(expanded);
      }
      out.push({ pvname: expanded, file: srcFile, line: lineNo });
    }
  };
  walk(text, file, opts.macros ?? {}, [resolve(file)]);
  return out;
}

/** Read and parse a request file from disk (see parseRequestText). */
export function readRequestFile(path: string, opts: RequestOptions = {}): RequestEntry[] {
  const readFile = opts.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  let text: string;
  try {
    text = readFile(path);
  } catch (e) {
    throw new AutosaveError(`cannot read request file: ${(e as Error).message}`, path);
  }
  return parseRequestText(text, path, opts);
}
