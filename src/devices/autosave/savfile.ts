/**
 * Autosave `.sav` files in the format of synApps autosave (save_restore.c):
 *
 *   # save/restore V5.10	Automatically generated - DO NOT MODIFY - 261125-113500
 *   ! 1 channel(s) not connected - or not all gets were successful
 *   IOC:m1.VAL 1.25
 *   #IOC:m2.VAL Search Issued
 *   IOC:wave @array@ { "1" "2" "3" }
 *   <END>
 *
 * Values are the rest of the line after one separator. Arrays are `@array@ { "v1" "v2" }` with `\"`
 * and `\\` escaped inside elements; pyepics' JSON form `@array@ [1, 2]` is accepted on reading.
 */
import { AutosaveError } from './errors.js';

export const SAV_VERSION = 'V5.10';
export const ARRAY_MARKER = '@array@';

export type SavValue = string | string[];

export interface SavEntry {
  pvname: string;
  /** The value as text (scalars) or the element texts (arrays). */
  value: SavValue;
  /** Line in the file (1-based). */
  line: number;
}

export interface SavFile {
  /** The header line, or '' when the file has none. */
  header: string;
  entries: SavEntry[];
  /** PVs written as not connected (`#NAME Search Issued`). */
  notConnected: string[];
  /** True when the `<END>` terminator was present (synApps treats its absence as corruption). */
  complete: boolean;
}

/** `yymmdd-HHMMSS` in local time, as autosave stamps its files. */
export function savTimestamp(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getFullYear() % 100)}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

function quoteElement(s: string): string {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

export interface FormatEntry {
  pvname: string;
  /** undefined / null: PV not connected or get failed (written as a `#... Search Issued` line). */
  value: SavValue | null | undefined;
}

/** Produce the text of a .sav file. */
export function formatSavFile(entries: readonly FormatEntry[], date: Date = new Date()): string {
  const lines: string[] = [
    `# save/restore ${SAV_VERSION}\tAutomatically generated - DO NOT MODIFY - ${savTimestamp(date)}`,
  ];
  const bad = entries.filter((e) => e.value === null || e.value === undefined).length;
  if (bad > 0) lines.push(`! ${bad} channel(s) not connected - or not all gets were successful`);
  for (const e of entries) {
    if (e.value === null || e.value === undefined) {
      lines.push(`#${e.pvname} Search Issued`);
    } else if (Array.isArray(e.value)) {
      lines.push(`${e.pvname} ${ARRAY_MARKER} { ${e.value.map(quoteElement).join(' ')} }`);
    } else {
      if (/[\r\n]/.test(e.value)) throw new AutosaveError(`value of ${e.pvname} contains a newline`, '<sav>');
      lines.push(`${e.pvname} ${e.value}`);
    }
  }
  lines.push('<END>');
  return lines.join('\n') + '\n';
}

function parseBraceArray(text: string, file: string, line: number): string[] {
  // text starts after '{'
  const out: string[] = [];
  let i = 0;
  const n = text.length;
  for (;;) {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    if (i >= n) throw new AutosaveError("array value without closing '}'", file, line);
    if (text[i] === '}') {
      if (text.slice(i + 1).trim() !== '')
        throw new AutosaveError("text after array's closing '}'", file, line);
      return out;
    }
    if (text[i] === '"') {
      i++;
      let s = '';
      while (i < n && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < n) i++;
        s += text[i++];
      }
      if (i >= n) throw new AutosaveError('unterminated quoted array element', file, line);
      i++;
      out.push(s);
    } else {
      // unquoted element (tolerated)
      let s = '';
      while (i < n && text[i] !== ' ' && text[i] !== '\t' && text[i] !== '}') s += text[i++];
      out.push(s);
    }
  }
}

function parseArrayValue(text: string, file: string, line: number): string[] {
  const t = text.trim();
  if (t.startsWith('{')) return parseBraceArray(t.slice(1), file, line);
  if (t.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(t);
    } catch {
      throw new AutosaveError('bad JSON array value', file, line);
    }
    if (!Array.isArray(parsed)) throw new AutosaveError('bad JSON array value', file, line);
    return parsed.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  }
  throw new AutosaveError(`${ARRAY_MARKER} not followed by '{' or '['`, file, line);
}

/** Parse the text of a .sav file; `file` names it in errors. */
export function parseSavFile(text: string, file: string): SavFile {
  const lines = text.split('\n');
  const result: SavFile = { header: '', entries: [], notConnected: [], complete: false };
  for (let k = 0; k < lines.length; k++) {
    const lineNo = k + 1;
    let raw = lines[k];
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    if (result.complete) {
      if (raw.trim() !== '') throw new AutosaveError('text after <END>', file, lineNo);
      continue;
    }
    if (raw.trim() === '') continue;
    if (raw.startsWith('<END>')) {
      result.complete = true;
      continue;
    }
    if (raw.startsWith('#')) {
      if (
        k === 0 ||
        (result.header === '' && result.entries.length === 0 && raw.startsWith('# save/restore'))
      ) {
        if (result.header === '') result.header = raw;
        continue;
      }
      const m = /^#\s*(\S+)\s+Search Issued/.exec(raw);
      if (m) result.notConnected.push(m[1]);
      continue;
    }
    if (raw.startsWith('!')) continue;
    const m = /^(\S+)(?:[ \t](.*))?$/.exec(raw);
    if (!m) throw new AutosaveError('unparsable line', file, lineNo);
    const pvname = m[1];
    const rest = m[2] ?? '';
    if (rest.trimStart().startsWith(ARRAY_MARKER)) {
      const after = rest.trimStart().slice(ARRAY_MARKER.length);
      result.entries.push({ pvname, value: parseArrayValue(after, file, lineNo), line: lineNo });
    } else {
      result.entries.push({ pvname, value: rest, line: lineNo });
    }
  }
  return result;
}
