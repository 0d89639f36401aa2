/**
 * EPICS access security configuration (ACF) files, as asLib reads them:
 *
 *   UAG(ops) { alice, bob }
 *   HAG(consoles) { console1, 10.0.0.5 }
 *   ASG(DEFAULT) {
 *     INPA("SOME:PV")
 *     RULE(1, WRITE, TRAPWRITE) { UAG(ops) HAG(consoles) CALC("A>0") }
 *     RULE(1, READ)
 *   }
 *
 * A rule applies to a field of access security level `asl` when asl <= the rule's level, and matches
 * a client when every present condition matches (user in one of its UAGs, host in one of its HAGs,
 * CALC true). Rights are the highest matching rule's (NONE < READ < WRITE, WRITE implies READ). An
 * ASG without rules grants nothing; an unknown group name falls back to DEFAULT; a file without
 * ASG(DEFAULT) gets an empty one (no access), as asLib does.
 *
 * Host names compare case-insensitively; a HAG entry that is an IPv4 literal (or a name resolved
 * with `resolveHostNames()`) matches the circuit's peer address.
 *
 * CALC rules need the values of INPA..INPL. Without a database those are not available: give
 * `compileCalc` and feed values with `setInput`; otherwise a rule with CALC never matches (asLib
 * treats a CALC with unavailable inputs as false).
 */
import { readFile } from 'node:fs/promises';
import { lookup } from 'node:dns/promises';
import { ACCESS_READ, ACCESS_WRITE } from '../protocol/constants.js';
import type { ClientIdentity } from './provider.js';
import { isIPv4 } from './env.js';

/** An error in an ACF file, with its line number. */
export class AcfParseError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly line: number,
  ) {
    super(`${file}:${line}: ${message}`);
    this.name = 'AcfParseError';
  }
}

export type AccessLevel = 'NONE' | 'READ' | 'WRITE';

export interface AcfRule {
  level: number;
  access: AccessLevel;
  trapWrite: boolean;
  uags: string[];
  hags: string[];
  calc?: string;
}

export interface AcfGroup {
  name: string;
  /** INPA..INPL: letter -> PV name. */
  inputs: Record<string, string>;
  rules: AcfRule[];
}

/** Compiles a CALC expression into a function of the inputs A..L (index 0..11). */
export type CalcCompiler = (expr: string) => (inputs: Float64Array) => number;

export interface AccessSecurityOptions {
  compileCalc?: CalcCompiler;
}

// ---------------------------------------------------------------------------------------------
// Tokenizer

type TokKind = 'word' | 'string' | 'punct';
interface Token {
  kind: TokKind;
  text: string;
  line: number;
}

function tokenize(text: string, file: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      i++;
    } else if (c === '#') {
      while (i < n && text[i] !== '\n') i++;
    } else if (c === '(' || c === ')' || c === '{' || c === '}' || c === ',') {
      out.push({ kind: 'punct', text: c, line });
      i++;
    } else if (c === '"') {
      const start = line;
      let s = '';
      i++;
      for (;;) {
        if (i >= n || text[i] === '\n') throw new AcfParseError('unterminated string', file, start);
        const d = text[i];
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\' && i + 1 < n) {
          s += text[i + 1];
          i += 2;
          continue;
        }
        s += d;
        i++;
      }
      out.push({ kind: 'string', text: s, line: start });
    } else {
      let j = i;
      while (j < n && /[A-Za-z0-9_\-+:.[\]<>;$/*&|!=%^~?@]/.test(text[j])) j++;
      if (j === i) throw new AcfParseError(`unexpected character '${c}'`, file, line);
      out.push({ kind: 'word', text: text.slice(i, j), line });
      i = j;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parser

class Parser {
  private pos = 0;
  constructor(
    private readonly toks: Token[],
    private readonly file: string,
  ) {}

  private get lastLine(): number {
    return this.toks.length ? this.toks[this.toks.length - 1].line : 1;
  }

  peek(): Token | undefined {
    return this.toks[this.pos];
  }

  fail(msg: string, tok = this.peek()): never {
    throw new AcfParseError(msg, this.file, tok ? tok.line : this.lastLine);
  }

  next(what: string): Token {
    const t = this.toks[this.pos];
    if (!t) this.fail(`unexpected end of file, expected ${what}`);
    this.pos++;
    return t;
  }

  expect(p: string): Token {
    const t = this.next(`'${p}'`);
    if (t.kind !== 'punct' || t.text !== p) this.fail(`expected '${p}', found '${t.text}'`, t);
    return t;
  }

  accept(p: string): boolean {
    const t = this.peek();
    if (t && t.kind === 'punct' && t.text === p) {
      this.pos++;
      return true;
    }
    return false;
  }

  value(what: string): Token {
    const t = this.next(what);
    if (t.kind === 'punct') this.fail(`expected ${what}, found '${t.text}'`, t);
    return t;
  }

  /** `( a, b, c )` of names. */
  nameList(what: string): string[] {
    this.expect('(');
    const out: string[] = [];
    if (this.accept(')')) return out;
    for (;;) {
      out.push(this.value(what).text);
      if (this.accept(')')) return out;
      this.expect(',');
    }
  }

  /** `{ a, b }` (commas optional between entries, as asLib's grammar allows). */
  braceList(what: string): string[] {
    this.expect('{');
    const out: string[] = [];
    while (!this.accept('}')) {
      out.push(this.value(what).text);
      this.accept(',');
    }
    return out;
  }
}

function parseAcf(text: string, file: string) {
  const p = new Parser(tokenize(text, file), file);
  const uags = new Map<string, Set<string>>();
  const hags = new Map<string, Set<string>>();
  const asgs = new Map<string, AcfGroup>();
  const uagLines = new Map<string, number>();
  const hagLines = new Map<string, number>();
  const refs: { kind: 'UAG' | 'HAG'; name: string; line: number }[] = [];
  while (p.peek()) {
    const kw = p.value('UAG, HAG or ASG');
    const key = kw.text.toUpperCase();
    if (key === 'UAG' || key === 'HAG') {
      p.expect('(');
      const name = p.value(`${key} name`).text;
      p.expect(')');
      const members = p.peek()?.text === '{' ? p.braceList(key === 'UAG' ? 'user name' : 'host name') : [];
      const map = key === 'UAG' ? uags : hags;
      const set = map.get(name) ?? new Set<string>();
      for (const m of members) set.add(key === 'HAG' ? m.toLowerCase() : m);
      map.set(name, set);
      (key === 'UAG' ? uagLines : hagLines).set(name, kw.line);
    } else if (key === 'ASG') {
      p.expect('(');
      const name = p.value('ASG name').text;
      p.expect(')');
      if (asgs.has(name)) p.fail(`duplicate ASG(${name})`, kw);
      const group: AcfGroup = { name, inputs: {}, rules: [] };
      asgs.set(name, group);
      if (p.accept('{')) {
        while (!p.accept('}')) {
          const t = p.value('INP<x> or RULE');
          const k = t.text.toUpperCase();
          const inp = /^INP([A-L])$/.exec(k);
          if (inp) {
            p.expect('(');
            group.inputs[inp[1]] = p.value('PV name').text;
            p.expect(')');
          } else if (k === 'RULE') {
            group.rules.push(parseRule(p, refs));
          } else {
            p.fail(`unknown keyword '${t.text}' in ASG(${name})`, t);
          }
        }
      }
    } else {
      p.fail(`unknown keyword '${kw.text}' (expected UAG, HAG or ASG)`, kw);
    }
  }
  for (const r of refs) {
    const map = r.kind === 'UAG' ? uags : hags;
    if (!map.has(r.name)) throw new AcfParseError(`${r.kind}(${r.name}) is not defined`, file, r.line);
  }
  void uagLines;
  void hagLines;
  if (!asgs.has('DEFAULT')) asgs.set('DEFAULT', { name: 'DEFAULT', inputs: {}, rules: [] });
  return { uags, hags, asgs };
}

function parseRule(p: Parser, refs: { kind: 'UAG' | 'HAG'; name: string; line: number }[]): AcfRule {
  p.expect('(');
  const lv = p.value('rule level');
  if (!/^\d+$/.test(lv.text)) p.fail(`rule level must be 0 or 1, found '${lv.text}'`, lv);
  const level = Number(lv.text);
  if (level > 1) p.fail(`rule level must be 0 or 1, found ${level}`, lv);
  p.expect(',');
  const ac = p.value('NONE, READ or WRITE');
  const access = ac.text.toUpperCase();
  if (access !== 'NONE' && access !== 'READ' && access !== 'WRITE' && access !== 'RPC') {
    p.fail(`access must be NONE, READ or WRITE, found '${ac.text}'`, ac);
  }
  let trapWrite = false;
  if (p.accept(',')) {
    const tw = p.value('TRAPWRITE or NOTRAPWRITE');
    const twk = tw.text.toUpperCase();
    if (twk === 'TRAPWRITE') trapWrite = true;
    else if (twk !== 'NOTRAPWRITE') p.fail(`expected TRAPWRITE or NOTRAPWRITE, found '${tw.text}'`, tw);
  }
  p.expect(')');
  const rule: AcfRule = {
    level,
    access: access === 'RPC' ? 'NONE' : (access as AccessLevel),
    trapWrite,
    uags: [],
    hags: [],
  };
  if (p.accept('{')) {
    while (!p.accept('}')) {
      const t = p.value('UAG, HAG or CALC');
      const k = t.text.toUpperCase();
      if (k === 'UAG' || k === 'HAG') {
        const names = p.nameList(`${k} name`);
        for (const n of names) refs.push({ kind: k, name: n, line: t.line });
        (k === 'UAG' ? rule.uags : rule.hags).push(...names);
      } else if (k === 'CALC') {
        p.expect('(');
        const e = p.value('CALC expression');
        p.expect(')');
        rule.calc = e.text;
      } else if (k === 'METHOD' || k === 'AUTHORITY' || k === 'PROTOCOL') {
        p.nameList(`${k} argument`);
      } else {
        p.fail(`unknown keyword '${t.text}' in RULE`, t);
      }
    }
  }
  return rule;
}

// ---------------------------------------------------------------------------------------------

const RIGHTS: Record<AccessLevel, number> = { NONE: 0, READ: ACCESS_READ, WRITE: ACCESS_READ | ACCESS_WRITE };
const INPUT_LETTERS = 'ABCDEFGHIJKL';

export class AccessSecurity {
  /** Extra addresses a HAG's host names resolved to (see resolveHostNames). */
  private readonly hagAddresses = new Map<string, Set<string>>();
  private readonly inputs = new Map<string, Float64Array>();
  private readonly connected = new Map<string, boolean[]>();
  private readonly calcs = new Map<AcfRule, (inputs: Float64Array) => number>();

  private constructor(
    readonly uags: ReadonlyMap<string, ReadonlySet<string>>,
    readonly hags: ReadonlyMap<string, ReadonlySet<string>>,
    readonly groups: ReadonlyMap<string, AcfGroup>,
    private readonly file: string,
    opts: AccessSecurityOptions,
  ) {
    for (const g of groups.values()) {
      this.inputs.set(g.name, new Float64Array(12));
      this.connected.set(g.name, new Array<boolean>(12).fill(false));
      for (const r of g.rules) {
        if (r.calc === undefined || !opts.compileCalc) continue;
        try {
          this.calcs.set(r, opts.compileCalc(r.calc));
        } catch (e) {
          throw new AcfParseError(`bad CALC "${r.calc}": ${(e as Error).message}`, file, 0);
        }
      }
    }
  }

  /** Parse ACF text. Throws AcfParseError (with the line number) on a syntax error. */
  static parse(text: string, file = '<acf>', opts: AccessSecurityOptions = {}): AccessSecurity {
    const { uags, hags, asgs } = parseAcf(text, file);
    return new AccessSecurity(uags, hags, asgs, file, opts);
  }

  /** Read and parse an ACF file. */
  static async load(path: string, opts: AccessSecurityOptions = {}): Promise<AccessSecurity> {
    return AccessSecurity.parse(await readFile(path, 'utf8'), path, opts);
  }

  /** Where this configuration came from. */
  get source(): string {
    return this.file;
  }

  /** The group used for a name (unknown names fall back to DEFAULT). */
  group(asg: string): AcfGroup {
    return this.groups.get(asg) ?? (this.groups.get('DEFAULT') as AcfGroup);
  }

  /**
   * Set the value of input `letter` (A..L) of a group (from its INPx PV); `undefined` marks it
   * disconnected. Returns whether anything changed (callers then re-evaluate rights).
   */
  setInput(asg: string, letter: string, value: number | undefined): boolean {
    const idx = INPUT_LETTERS.indexOf(letter.toUpperCase());
    const vals = this.inputs.get(asg);
    const conn = this.connected.get(asg);
    if (idx < 0 || letter.length !== 1 || !vals || !conn) return false;
    const was = conn[idx] ? vals[idx] : undefined;
    conn[idx] = value !== undefined;
    vals[idx] = value ?? 0;
    return was !== value;
  }

  /** Access rights (bit 0 read, bit 1 write) of a client for a field of group `asg` and level `asl`. */
  rightsFor(asg: string, client: ClientIdentity, asl = 0): number {
    const g = this.group(asg);
    let best = 0;
    for (const r of g.rules) {
      if (asl > r.level) continue;
      const rights = RIGHTS[r.access];
      if (rights <= best) continue;
      if (r.uags.length && !r.uags.some((u) => this.uags.get(u)?.has(client.user))) continue;
      if (r.hags.length && !r.hags.some((h) => this.hostIn(h, client))) continue;
      if (r.calc !== undefined && !this.calcTrue(g, r)) continue;
      best = rights;
    }
    return best;
  }

  /** Whether a write by this client to this group should be trapped (logged): TRAPWRITE rules. */
  trapWrite(asg: string, client: ClientIdentity, asl = 0): boolean {
    const g = this.group(asg);
    for (const r of g.rules) {
      if (asl > r.level || r.access !== 'WRITE' || !r.trapWrite) continue;
      if (r.uags.length && !r.uags.some((u) => this.uags.get(u)?.has(client.user))) continue;
      if (r.hags.length && !r.hags.some((h) => this.hostIn(h, client))) continue;
      if (r.calc !== undefined && !this.calcTrue(g, r)) continue;
      return true;
    }
    return false;
  }

  /** Resolve the host names of every HAG to addresses, so they also match peer addresses. */
  async resolveHostNames(): Promise<void> {
    for (const [name, hosts] of this.hags) {
      const set = new Set<string>();
      for (const h of hosts) {
        if (isIPv4(h)) continue;
        try {
          for (const a of await lookup(h, { all: true, family: 4 })) set.add(a.address);
        } catch {
          /* unknown host names simply do not match */
        }
      }
      this.hagAddresses.set(name, set);
    }
  }

  private hostIn(hag: string, client: ClientIdentity): boolean {
    const hosts = this.hags.get(hag);
    if (!hosts) return false;
    if (hosts.has(client.host.toLowerCase())) return true;
    if (client.address && hosts.has(client.address)) return true;
    return this.hagAddresses.get(hag)?.has(client.address) === true;
  }

  private calcTrue(g: AcfGroup, r: AcfRule): boolean {
    const f = this.calcs.get(r);
    if (!f) return false;
    const conn = this.connected.get(g.name) as boolean[];
    for (const letter of Object.keys(g.inputs)) {
      if (!conn[INPUT_LETTERS.indexOf(letter)]) return false;
    }
    try {
      const v = f(this.inputs.get(g.name) as Float64Array);
      return Number.isFinite(v) && v !== 0;
    } catch {
      return false;
    }
  }
}
