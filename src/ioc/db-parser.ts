/**
 * Parser for EPICS database (.db) files: record()/grecord(), field(), info(), alias() inside and
 * outside records, include "file", path/addpath, # comments, quoted, bare and JSON values.
 * Macros are expanded line by line first (as dbLoadRecords does). Pure: the caller supplies a
 * function that reads included files.
 */
import { jsonStringError, rawFromEscaped } from './db-escapes.js';
import { expandMacros, type MacroMap } from './macros.js';

/** A syntax or load error, with `file:line:` in its message. */
export class ParseError extends Error {
  constructor(
    public readonly file: string,
    public readonly line: number,
    public readonly detail: string,
  ) {
    super(`${file}${line > 0 ? `:${line}` : ''}: ${detail}`);
    this.name = 'ParseError';
  }
}

export interface DbFieldItem {
  name: string;
  value: string;
  line: number;
}

export interface DbRecordItem {
  kind: 'record';
  /** Record type, or '*' (modify an existing record of any type). */
  type: string;
  name: string;
  fields: DbFieldItem[];
  infos: { name: string; value: string }[];
  aliases: string[];
  file: string;
  line: number;
}

export interface DbAliasItem {
  kind: 'alias';
  target: string;
  alias: string;
  file: string;
  line: number;
}

export type DbItem = DbRecordItem | DbAliasItem;

export interface ParseOptions {
  /** Name used in error messages and for resolving relative includes. */
  file?: string;
  macros?: MacroMap;
  /** Reads an included file; returns its text. Receives the candidate path. Throw if missing. */
  readFile?: (path: string) => string;
  /** Directories searched for includes after the including file's directory. */
  includePath?: string[];
  /** Collects non-fatal problems (undefined macros in values ...). */
  warnings?: string[];
}

export interface ParseResult {
  items: DbItem[];
  warnings: string[];
}

const BARE = /[A-Za-z0-9_\-+:.[\]<>;*]/;
const MAX_INCLUDE_DEPTH = 20;

function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '.' : i === 0 ? '/' : p.slice(0, i);
}

function joinPath(dir: string, f: string): string {
  if (f.startsWith('/')) return f;
  if (dir === '.' || dir === '') return f;
  return dir.endsWith('/') ? dir + f : `${dir}/${f}`;
}

class Parser {
  private pos = 0;
  private line = 1;
  private readonly text: string;

  constructor(
    src: string,
    private readonly file: string,
    private readonly opts: ParseOptions,
    private readonly items: DbItem[],
    private readonly warnings: string[],
    private readonly depth: number,
    private readonly searchPath: string[],
  ) {
    const macros = opts.macros ?? new Map<string, string>();
    const lines = src.split(/\r?\n/);
    const out: string[] = [];
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i]!;
      if (l.indexOf('$') < 0 || /^\s*#/.test(l)) {
        out.push(l);
        continue;
      }
      const r = expandMacros(l, macros);
      for (const u of r.undefinedNames) warnings.push(`${file}:${i + 1}: macro ${u} is undefined`);
      out.push(r.text);
    }
    this.text = out.join('\n');
  }

  private err(msg: string, line = this.line): never {
    throw new ParseError(this.file, line, msg);
  }

  private skipWs(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t[this.pos]!;
      if (c === '\n') {
        this.line++;
        this.pos++;
      } else if (c === ' ' || c === '\t' || c === '\r') this.pos++;
      else if (c === '#') {
        while (this.pos < t.length && t[this.pos] !== '\n') this.pos++;
      } else break;
    }
  }

  private peek(): string | undefined {
    this.skipWs();
    return this.text[this.pos];
  }

  private expect(c: string, what: string): void {
    const got = this.peek();
    if (got !== c)
      this.err(`expected '${c}' ${what}, found ${got === undefined ? 'end of file' : `'${got}'`}`);
    this.pos++;
  }

  private quoted(): string {
    const t = this.text;
    const startLine = this.line;
    this.pos++; // opening quote
    let out = '';
    while (this.pos < t.length) {
      const c = t[this.pos]!;
      if (c === '"') {
        this.pos++;
        return out;
      }
      if (c === '\n') this.err('newline in quoted string', startLine);
      if (c === '\\' && this.pos + 1 < t.length) {
        const n = t[this.pos + 1]!;
        this.pos += 2;
        switch (n) {
          case 'n':
            out += '\n';
            break;
          case 't':
            out += '\t';
            break;
          case 'r':
            out += '\r';
            break;
          case '"':
          case '\\':
          case "'":
            out += n;
            break;
          default:
            out += '\\' + n;
        }
        continue;
      }
      out += c;
      this.pos++;
    }
    this.err('unterminated quoted string', startLine);
  }

  private json(): string {
    const t = this.text;
    const start = this.pos;
    const startLine = this.line;
    let depth = 0;
    while (this.pos < t.length) {
      const c = t[this.pos]!;
      if (c === '"') {
        this.pos++;
        while (this.pos < t.length && t[this.pos] !== '"') {
          if (t[this.pos] === '\\') this.pos++;
          if (t[this.pos] === '\n') this.line++;
          this.pos++;
        }
        this.pos++;
        continue;
      }
      if (c === '\n') this.line++;
      if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) {
          this.pos++;
          return t.slice(start, this.pos);
        }
      }
      this.pos++;
    }
    this.err('unterminated JSON value', startLine);
  }

  private bare(): string {
    const t = this.text;
    const start = this.pos;
    while (this.pos < t.length && BARE.test(t[this.pos]!)) this.pos++;
    return t.slice(start, this.pos);
  }

  /** A value: quoted string, bare word, or (when allowed) a JSON object/array. */
  private value(what: string, allowJson: boolean): string {
    const c = this.peek();
    if (c === '"') return this.quoted();
    if (allowJson && (c === '{' || c === '[')) return this.json();
    if (c !== undefined && BARE.test(c)) return this.bare();
    this.err(`expected ${what}, found ${c === undefined ? 'end of file' : `'${c}'`}`);
  }

  /**
   * A field or info value: base's lexer reads it in JSON mode, so a quoted value may also be in
   * single quotes, must be a JSON string, and has its escapes translated (db-escapes.ts).
   */
  private fieldValue(what: string): string {
    const q = this.peek();
    if (q !== '"' && q !== "'") return this.value(what, true);
    const t = this.text;
    const startLine = this.line;
    const start = ++this.pos;
    while (this.pos < t.length && t[this.pos] !== q && t[this.pos] !== '\n') {
      if (t[this.pos] === '\\') this.pos++;
      this.pos++;
    }
    if (t[this.pos] === '\n') this.err('newline in quoted string', startLine);
    if (this.pos >= t.length) this.err('unterminated quoted string', startLine);
    const body = t.slice(start, this.pos);
    this.pos++;
    const bad = jsonStringError(body);
    if (bad) this.err(bad, startLine);
    return rawFromEscaped(body);
  }

  private word(): string {
    this.skipWs();
    const t = this.text;
    const start = this.pos;
    while (this.pos < t.length && /[A-Za-z0-9_]/.test(t[this.pos]!)) this.pos++;
    return t.slice(start, this.pos);
  }

  parse(): void {
    for (;;) {
      const c = this.peek();
      if (c === undefined) return;
      const line = this.line;
      const kw = this.word();
      if (!kw) this.err(`unexpected character '${c}'`);
      switch (kw) {
        case 'record':
        case 'grecord':
          this.record(line);
          break;
        case 'alias': {
          this.expect('(', 'after alias');
          const target = this.value('record name', false);
          this.expect(',', 'in alias(record, alias)');
          const alias = this.value('alias name', false);
          this.expect(')', 'to close alias(');
          this.items.push({ kind: 'alias', target, alias, file: this.file, line });
          break;
        }
        case 'include': {
          const f = this.value('file name after include', false);
          this.include(f, line);
          break;
        }
        case 'path':
        case 'addpath': {
          const p = this.value('directory list', false);
          const dirs = p.split(':').filter((d) => d);
          if (kw === 'path') this.searchPath.splice(0, this.searchPath.length, ...dirs);
          else this.searchPath.push(...dirs);
          break;
        }
        case 'menu':
        case 'recordtype':
        case 'device':
        case 'driver':
        case 'link':
        case 'registrar':
        case 'function':
        case 'variable':
        case 'breaktable':
          this.err(`'${kw}' is a database definition (.dbd) statement; not supported in a .db file`, line);
          break;
        default:
          this.err(`unknown keyword '${kw}'`, line);
      }
    }
  }

  private include(f: string, line: number): void {
    const read = this.opts.readFile;
    if (!read) this.err(`include "${f}": no file reader available`, line);
    if (this.depth >= MAX_INCLUDE_DEPTH) this.err(`include "${f}": includes nested too deeply`, line);
    const candidates = f.startsWith('/')
      ? [f]
      : // dbLoadRecords looks in "." (the current directory) first; the including file's
        // directory is kept as a fallback
        [
          ...new Set([
            joinPath(process.cwd(), f),
            joinPath(dirname(this.file), f),
            ...this.searchPath.map((d) => joinPath(d, f)),
          ]),
        ];
    let text: string | undefined;
    let used = '';
    for (const cand of candidates) {
      try {
        const t = read(cand);
        if (typeof t !== 'string') continue; // a reader may answer "no such file" with undefined
        text = t;
        used = cand;
        break;
      } catch {
        /* try the next */
      }
    }
    if (text === undefined) this.err(`include "${f}": file not found (tried ${candidates.join(', ')})`, line);
    const sub = new Parser(text, used, this.opts, this.items, this.warnings, this.depth + 1, this.searchPath);
    sub.parse();
  }

  private record(line: number): void {
    this.expect('(', 'after record');
    const type = this.value('record type', false);
    this.expect(',', 'in record(type, name)');
    const name = this.value('record name', false);
    this.expect(')', 'to close record(');
    if (!name) this.err('empty record name', line);
    if (/\$\(|\$\{/.test(name)) this.err(`record name "${name}" contains an undefined macro`, line);
    if (/[\s"'.$]/.test(name)) this.err(`bad character in record name "${name}"`, line);
    const rec: DbRecordItem = {
      kind: 'record',
      type,
      name,
      fields: [],
      infos: [],
      aliases: [],
      file: this.file,
      line,
    };
    this.items.push(rec);
    if (this.peek() !== '{') return;
    this.pos++;
    for (;;) {
      const c = this.peek();
      if (c === undefined) this.err(`missing '}' for record "${name}"`, line);
      if (c === '}') {
        this.pos++;
        return;
      }
      const fl = this.line;
      const kw = this.word();
      if (kw === 'field') {
        this.expect('(', 'after field');
        const fname = this.value('field name', false);
        this.expect(',', 'in field(name, value)');
        const v = this.fieldValue('field value');
        this.expect(')', 'to close field(');
        if (!/^[A-Z0-9_]+$/.test(fname)) this.err(`bad field name "${fname}"`, fl);
        rec.fields.push({ name: fname, value: v, line: fl });
      } else if (kw === 'info') {
        this.expect('(', 'after info');
        const iname = this.value('info name', false);
        this.expect(',', 'in info(name, value)');
        const v = this.fieldValue('info value');
        this.expect(')', 'to close info(');
        rec.infos.push({ name: iname, value: v });
      } else if (kw === 'alias') {
        this.expect('(', 'after alias');
        const a = this.value('alias name', false);
        this.expect(')', 'to close alias(');
        rec.aliases.push(a);
      } else if (!kw) {
        this.err(`unexpected character '${c}' in record "${name}"`, fl);
      } else {
        this.err(`unknown keyword '${kw}' in record "${name}"`, fl);
      }
    }
  }
}

/** Parse database text. Throws ParseError (with file:line) on the first syntax error. */
export function parseDatabase(text: string, opts: ParseOptions = {}): ParseResult {
  const items: DbItem[] = [];
  const warnings = opts.warnings ?? [];
  const p = new Parser(text, opts.file ?? '<string>', opts, items, warnings, 0, [
    ...(opts.includePath ?? []),
  ]);
  p.parse();
  return { items, warnings };
}
