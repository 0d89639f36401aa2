/**
 * Database links: parsing of link text (`"REC.FIELD PP MS"`, numbers, `{const:...}` JSON), their
 * display form, resolution to a local record field, and reading/writing/forwarding through them
 * with PP/NPP, MS/MSS/MSI/NMS, CA/CP/CPP semantics.
 */
import { AlarmStatus, DBE, Severity } from '../protocol/constants.js';
import type { NativeArray } from '../protocol/values.js';
import type { FieldDef } from './fields.js';
import type { DbRecord, ProcessContext } from './record.js';

export type LinkKind = 'empty' | 'const' | 'db' | 'unresolved' | 'unsupported';
export type MsMode = 'NMS' | 'MS' | 'MSS' | 'MSI';

/** Thrown for link text that cannot be parsed. */
export class LinkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LinkError';
  }
}

export interface ParsedLink {
  kind: 'empty' | 'const' | 'pv' | 'unsupported';
  /** Constant value(s). */
  constValue?: number | string | (number | string)[];
  pvName?: string;
  pp: boolean;
  ca: boolean;
  cp: boolean;
  cpp: boolean;
  ms: MsMode;
}

const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?0[xX][0-9a-fA-F]+$|^[+-]?(inf|nan)$/i;

/** Relaxed JSON (JSON5-style bare keys, single quotes) as link values use it. */
export function parseRelaxedJson(text: string): unknown {
  const fixed = text
    .replace(/'([^'\\]*)'/g, (_m, s: string) => JSON.stringify(s))
    .replace(/([{,]\s*)([A-Za-z_$][A-Za-z0-9_$]*)\s*:/g, '$1"$2":');
  try {
    return JSON.parse(fixed);
  } catch {
    throw new LinkError(`bad JSON link value ${text}`);
  }
}

/**
 * base's dbParseLink for a PV link: the name ends at the first space; in the rest, modifiers are
 * found as substrings (longest first, anything else ignored): one of NPP/CPP/PP/CA/CP, one of
 * NMS/MSI/MSS/MS.
 */
function parsePvLinkLenient(t: string, out: ParsedLink): ParsedLink {
  const sp = t.indexOf(' ');
  out.pvName = sp < 0 ? t : t.slice(0, sp);
  if (sp < 0) return out;
  const m = t.slice(sp + 1);
  if (m.includes('NPP')) out.pp = false;
  else if (m.includes('CPP')) out.cpp = true;
  else if (m.includes('PP')) out.pp = true;
  else if (m.includes('CA')) out.ca = true;
  else if (m.includes('CP')) out.cp = true;
  if (m.includes('NMS')) out.ms = 'NMS';
  else if (m.includes('MSI')) out.ms = 'MSI';
  else if (m.includes('MSS')) out.ms = 'MSS';
  else if (m.includes('MS')) out.ms = 'MS';
  return out;
}

/**
 * Parse link text. `strict` (a .db file): an unknown modifier is an error; otherwise (a put at run
 * time) the text is taken as base's dbParseLink takes it (see parsePvLinkLenient).
 */
export function parseLinkText(text: string, strict = true): ParsedLink {
  const base: ParsedLink = { kind: 'empty', pp: false, ca: false, cp: false, cpp: false, ms: 'NMS' };
  const t = text.trim();
  if (t === '') return base;
  if (t.startsWith('{') || t.startsWith('[')) {
    const j = parseRelaxedJson(t);
    if (Array.isArray(j)) return { ...base, kind: 'const', constValue: j as (number | string)[] };
    if (j && typeof j === 'object') {
      const o = j as Record<string, unknown>;
      if ('const' in o) {
        const c = o.const;
        if (typeof c === 'number' || typeof c === 'string') return { ...base, kind: 'const', constValue: c };
        if (Array.isArray(c)) return { ...base, kind: 'const', constValue: c as (number | string)[] };
        throw new LinkError(`bad const link value ${t}`);
      }
      const pv = (o.ca ?? o.pva) as unknown;
      if (typeof pv === 'string') return { ...base, kind: 'pv', pvName: pv, ca: true };
      if (pv && typeof pv === 'object' && typeof (pv as { pv?: unknown }).pv === 'string')
        return { ...base, kind: 'pv', pvName: (pv as { pv: string }).pv, ca: true };
    }
    return { ...base, kind: 'unsupported' };
  }
  if (NUMBER_RE.test(t)) return { ...base, kind: 'const', constValue: Number(t) };
  if (t.startsWith('@') || t.startsWith('#')) return { ...base, kind: 'unsupported' };
  if (!strict) return parsePvLinkLenient(t, { ...base, kind: 'pv' });
  const parts = t.split(/[\s,]+/);
  const out: ParsedLink = { ...base, kind: 'pv', pvName: parts[0] };
  for (const m of parts.slice(1)) {
    switch (m) {
      case 'PP':
        out.pp = true;
        break;
      case 'NPP':
        out.pp = false;
        break;
      case 'CA':
        out.ca = true;
        break;
      case 'CP':
        out.cp = true;
        break;
      case 'CPP':
        out.cpp = true;
        break;
      case 'MS':
      case 'NMS':
      case 'MSS':
      case 'MSI':
        out.ms = m;
        break;
      default:
        throw new LinkError(`unknown link modifier '${m}' in "${text}"`);
    }
  }
  return out;
}

/** What links need from the database. */
export interface LinkResolver {
  resolveField(pvName: string): { rec: DbRecord; field: FieldDef } | undefined;
}

export class Link {
  kind: LinkKind = 'empty';
  parsed: ParsedLink;
  target?: DbRecord;
  field?: FieldDef;
  private unsub?: () => void;

  constructor(
    public readonly owner: DbRecord,
    public readonly def: FieldDef,
    public text: string,
    /** .db text (unknown modifiers are errors); false for a put at run time (base's parsing). */
    strict = true,
  ) {
    this.parsed = parseLinkText(text, strict);
    // dbParseLink filters modifiers by link type: no CPP on an output link
    if (def.dbf === 'OUTLINK') this.parsed.cpp = false;
    this.kind = this.parsed.kind === 'pv' ? 'unresolved' : this.parsed.kind;
  }

  /** The link as a DBR_STRING reads it (EPICS normalises modifiers). */
  display(): string {
    const p = this.parsed;
    if (p.kind !== 'pv') return this.text.trim();
    let s = p.pvName!;
    if (this.def.dbf === 'FWDLINK') return p.ca ? `${s} CA` : s;
    s += p.pp ? ' PP' : p.ca ? ' CA' : p.cp ? ' CP' : p.cpp ? ' CPP' : ' NPP';
    return `${s} ${p.ms}`;
  }

  /** Resolve a PV link to a local record field. Unknown names stay unresolved (as a disconnected CA link). */
  resolve(db: LinkResolver): void {
    this.unsub?.();
    this.unsub = undefined;
    if (this.parsed.kind !== 'pv') return;
    const r = db.resolveField(this.parsed.pvName!);
    if (!r) {
      this.kind = 'unresolved';
      this.target = undefined;
      this.field = undefined;
      return;
    }
    this.kind = 'db';
    this.target = r.rec;
    this.field = r.field;
    if (this.def.dbf === 'INLINK' && (this.parsed.cp || this.parsed.cpp)) {
      const owner = this.owner;
      const cpp = this.parsed.cpp;
      this.unsub = r.rec.addListener(r.field.name, (mask) => {
        if (!(mask & (DBE.VALUE | DBE.ALARM))) return;
        if (cpp && owner.num('SCAN') !== 0) return;
        queueMicrotask(() => owner.scanProcess());
      });
    }
  }

  dispose(): void {
    this.unsub?.();
    this.unsub = undefined;
  }

  isConstant(): boolean {
    return this.kind === 'const' || this.kind === 'empty';
  }

  /** True when reading it can produce a value (not empty, not constant). */
  isReadable(): boolean {
    return this.kind === 'db' || this.kind === 'unresolved' || this.kind === 'unsupported';
  }

  /** Constant value as a number (first element), or undefined. */
  constNumber(): number | undefined {
    if (this.kind !== 'const') return undefined;
    const c = this.parsed.constValue;
    const v = Array.isArray(c) ? c[0] : c;
    if (v === undefined) return undefined;
    const n = typeof v === 'number' ? v : Number(v);
    return Number.isNaN(n) && typeof v === 'string' ? undefined : n;
  }

  constString(): string | undefined {
    if (this.kind !== 'const') return undefined;
    const c = this.parsed.constValue;
    const v = Array.isArray(c) ? c[0] : c;
    return v === undefined ? undefined : String(v);
  }

  /** True for a constant written as a JSON array (`[1, 2]`), false for a scalar constant. */
  constIsArray(): boolean {
    return this.kind === 'const' && Array.isArray(this.parsed.constValue);
  }

  constArray(): (number | string)[] | undefined {
    if (this.kind !== 'const') return undefined;
    const c = this.parsed.constValue;
    return Array.isArray(c) ? c : c === undefined ? [] : [c];
  }

  private inherit(owner: DbRecord, srcStat: number, srcSevr: number): void {
    const ms = this.parsed.ms;
    if (ms === 'NMS' || srcSevr === Severity.NO_ALARM) return;
    if (ms === 'MSI' && srcSevr < Severity.INVALID) return;
    owner.setSevr(ms === 'MSS' ? srcStat : AlarmStatus.LINK, srcSevr);
  }

  /** Prepare an input read: process a Passive target for PP, apply MS. Returns false when no value. */
  private beforeRead(ctx: ProcessContext | undefined): boolean {
    const owner = this.owner;
    if (this.kind === 'unresolved' || this.kind === 'unsupported') {
      owner.setSevr(AlarmStatus.LINK, Severity.INVALID);
      return false;
    }
    if (this.kind !== 'db') return false;
    const t = this.target!;
    if (this.parsed.pp && t.num('SCAN') === 0 && t !== owner) t.process(ctx);
    this.inherit(owner, t.num('STAT'), t.num('SEVR'));
    return true;
  }

  /** Read a number. undefined when the link gives no value (constant/empty/failed). */
  getNumber(ctx?: ProcessContext): number | undefined {
    if (!this.beforeRead(ctx)) return undefined;
    try {
      return this.target!.readNumber(this.field!);
    } catch {
      this.owner.setSevr(AlarmStatus.LINK, Severity.INVALID);
      return undefined;
    }
  }

  getString(ctx?: ProcessContext): string | undefined {
    if (!this.beforeRead(ctx)) return undefined;
    return this.target!.readString(this.field!);
  }

  /** Read up to `max` elements in the CA array type `type`. */
  getArray(type: number, max: number, ctx?: ProcessContext): NativeArray | undefined {
    if (!this.beforeRead(ctx)) return undefined;
    try {
      return this.target!.readArray(this.field!, type, max);
    } catch {
      this.owner.setSevr(AlarmStatus.LINK, Severity.INVALID);
      return undefined;
    }
  }

  /** Write through an output link (dbPutLink), then process a Passive target for PP. */
  put(value: NativeArray, dbrType: number, ctx?: ProcessContext): boolean {
    const owner = this.owner;
    if (this.kind === 'unresolved' || this.kind === 'unsupported') {
      owner.setSevr(AlarmStatus.LINK, Severity.INVALID);
      return false;
    }
    if (this.kind !== 'db') return true;
    const t = this.target!;
    const f = this.field!;
    try {
      if (f.nomod) throw new Error('field is read only');
      t.putField(f, value, dbrType);
    } catch {
      owner.setSevr(AlarmStatus.LINK, Severity.INVALID);
      return false;
    }
    const ms = this.parsed.ms;
    if (ms !== 'NMS') {
      const sev = owner.num('NSEV');
      if (sev && (ms !== 'MSI' || sev >= Severity.INVALID))
        t.setSevr(ms === 'MSS' ? owner.num('NSTA') : AlarmStatus.LINK, sev);
    }
    if (f.name === 'PROC' || (this.parsed.pp && t.num('SCAN') === 0)) t.process(ctx);
    return true;
  }

  /** Forward link (FLNK, fanout LNKn): process the target if it is Passive. */
  forward(ctx?: ProcessContext): void {
    if (this.kind !== 'db') return;
    const t = this.target!;
    if (this.field!.name === 'PROC' || t.num('SCAN') === 0) t.process(ctx);
  }
}
