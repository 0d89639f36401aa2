/**
 * The record database of the soft IOC: loads .db text/files with macros, creates records of the
 * known types, resolves links at init, runs PINI and scans, and serves record fields as CA
 * channels, with the server-side filters of filters.ts (it is the CA server's ChannelProvider).
 */
import { readFileSync } from 'node:fs';
import { DbrNative } from '../protocol/constants.js';
import type { NativeArray } from '../protocol/values.js';
import type { ChannelProvider, ClientIdentity, ServedChannel } from '../server/provider.js';
import { FieldChannel, fieldAsl, putField, type ChannelHost } from './channel.js';
import { ParseError, parseDatabase, type DbItem } from './db-parser.js';
import { FilteredChannel, parseFilters } from './filters.js';
import type { FieldDef } from './fields.js';
import { toMacroMap, type MacroMap } from './macros.js';
import type { DbRecord, RecordEnv, RecordTypeDef } from './record.js';
import { RECORD_TYPES } from './records/index.js';
import { ScanManager } from './scan.js';

/** The part of the server's AccessSecurity the database uses (structural, so any ACF engine fits). */
export interface AccessRules {
  rightsFor(asg: string, client: ClientIdentity, asl?: number): number;
  /** The ACF group for a name: its INPA..INPL PV names. */
  group?(asg: string): { inputs: Record<string, string> } | undefined;
  /** Feed the value of an ACF input; returns whether it changed. */
  setInput?(asg: string, letter: string, value: number | undefined): boolean;
  readonly groups?: ReadonlyMap<string, { inputs: Record<string, string> }>;
}

export interface LoadOptions {
  /** File name for messages and relative includes. */
  file?: string;
  /** Include search path. */
  includePath?: string[];
  /** Reads included files (default: fs.readFileSync as UTF-8). */
  readFile?: (path: string) => string;
}

export interface RecordInfo {
  name: string;
  type: string;
  aliases: string[];
}

export class RecordDatabase implements ChannelProvider, RecordEnv, ChannelHost {
  private readonly types = new Map<string, RecordTypeDef>();
  private readonly recs = new Map<string, DbRecord>();
  private readonly aliasOf = new Map<string, string>();
  private readonly infos = new Map<string, Map<string, string>>();
  private readonly channels = new Map<string, ServedChannel>();
  private readonly timers = new Set<{ t: NodeJS.Timeout; cancel?: () => void }>();
  private readonly rightsListeners = new Map<DbRecord, Set<() => void>>();
  private readonly globalRightsListeners = new Set<() => void>();
  private asUnsubs: (() => void)[] = [];
  private as: AccessRules | undefined;
  readonly scan = new ScanManager();
  readonly warnings: string[] = [];
  private initialized = false;
  private stopped = false;

  constructor(types: readonly RecordTypeDef[] = RECORD_TYPES) {
    for (const t of types) this.types.set(t.name, t);
  }

  /** Add (or replace) a record type (e.g. simulated device records). */
  registerRecordType(t: RecordTypeDef): void {
    this.types.set(t.name, t);
  }

  recordTypes(): string[] {
    return [...this.types.keys()];
  }

  // ---- loading ----
  /** Load database text (dbLoadRecords). Throws ParseError (file:line) on errors. */
  loadDatabase(
    text: string,
    macros?: string | MacroMap | Record<string, string>,
    opts: LoadOptions = {},
  ): string[] {
    const file = opts.file ?? '<string>';
    const warnings: string[] = [];
    const { items } = parseDatabase(text, {
      file,
      macros: toMacroMap(macros),
      readFile: opts.readFile ?? ((p) => readFileSync(p, 'utf8')),
      includePath: opts.includePath,
      warnings,
    });
    const created: DbRecord[] = [];
    for (const item of items) this.applyItem(item, created);
    this.warnings.push(...warnings);
    if (this.initialized) this.initRecords(created);
    return warnings;
  }

  /** Load a .db file. */
  loadDatabaseFile(
    path: string,
    macros?: string | MacroMap | Record<string, string>,
    opts: Omit<LoadOptions, 'file'> = {},
  ): string[] {
    let text: string;
    try {
      text = (opts.readFile ?? ((p: string) => readFileSync(p, 'utf8')))(path);
    } catch (e) {
      throw new ParseError(path, 0, `cannot read file: ${(e as Error).message}`);
    }
    return this.loadDatabase(text, macros, { ...opts, file: path });
  }

  private applyItem(item: DbItem, created: DbRecord[]): void {
    if (item.kind === 'alias') {
      this.addAlias(item.target, item.alias, item.file, item.line);
      return;
    }
    let rec = this.recs.get(item.name);
    if (!rec && this.aliasOf.has(item.name)) rec = this.recs.get(this.aliasOf.get(item.name)!);
    if (rec) {
      if (item.type !== '*' && item.type !== rec.def.name)
        throw new ParseError(
          item.file,
          item.line,
          `record "${item.name}" already defined with type ${rec.def.name}, not ${item.type}`,
        );
    } else {
      if (item.type === '*')
        throw new ParseError(item.file, item.line, `record(*, "${item.name}"): no such record to modify`);
      const t = this.types.get(item.type);
      if (!t)
        throw new ParseError(
          item.file,
          item.line,
          `record type "${item.type}" not found (record "${item.name}")`,
        );
      rec = t.create(item.name, this);
      this.recs.set(item.name, rec);
      created.push(rec);
    }
    for (const f of item.fields) {
      const fd = rec.def.fieldMap.get(f.name);
      if (!fd)
        throw new ParseError(
          item.file,
          f.line,
          `record "${item.name}": no field ${f.name} in record type ${rec.def.name}`,
        );
      if (fd.name === 'NAME' || fd.name === 'RTYP')
        throw new ParseError(item.file, f.line, `field ${f.name} cannot be set`);
      try {
        rec.loadField(fd, f.value);
      } catch (e) {
        throw new ParseError(
          item.file,
          f.line,
          `record "${item.name}" field ${f.name}: ${(e as Error).message}`,
        );
      }
    }
    if (item.infos.length) {
      let m = this.infos.get(rec.name);
      if (!m) this.infos.set(rec.name, (m = new Map()));
      for (const i of item.infos) m.set(i.name, i.value);
    }
    for (const a of item.aliases) this.addAlias(rec.name, a, item.file, item.line);
  }

  private addAlias(target: string, alias: string, file: string, line: number): void {
    const real = this.recs.has(target) ? target : this.aliasOf.get(target);
    if (!real) throw new ParseError(file, line, `alias "${alias}": record "${target}" not found`);
    if (this.recs.has(alias) || (this.aliasOf.has(alias) && this.aliasOf.get(alias) !== real))
      throw new ParseError(file, line, `alias "${alias}": name already in use`);
    this.aliasOf.set(alias, real);
  }

  // ---- lookup ----
  getRecord(name: string): DbRecord | undefined {
    return this.recs.get(name) ?? this.recs.get(this.aliasOf.get(name) ?? '');
  }

  /** info() items of a record. */
  info(name: string): ReadonlyMap<string, string> | undefined {
    const r = this.getRecord(name);
    return r ? this.infos.get(r.name) : undefined;
  }

  /** Records in load order (for `dbl`), optionally of one type. */
  records(type?: string): RecordInfo[] {
    const out: RecordInfo[] = [];
    for (const r of this.recs.values()) {
      if (type && r.def.name !== type) continue;
      const aliases = [...this.aliasOf].filter(([, t]) => t === r.name).map(([a]) => a);
      out.push({ name: r.name, type: r.def.name, aliases });
    }
    return out;
  }

  private split(name: string): { rec: DbRecord; fd: FieldDef; longString: boolean } | undefined {
    const dot = name.indexOf('.');
    const recName = dot < 0 ? name : name.slice(0, dot);
    const rec = this.recs.get(recName) ?? this.recs.get(this.aliasOf.get(recName) ?? '');
    if (!rec) return undefined;
    let fname = dot < 0 ? 'VAL' : name.slice(dot + 1);
    let longString = false;
    if (fname.endsWith('$')) {
      longString = true;
      fname = fname.slice(0, -1);
    }
    if (fname === '') fname = 'VAL';
    const fd = rec.def.fieldMap.get(fname);
    if (!fd) return undefined;
    if (fd.dbf === 'NOACCESS' && !rec.arrayField(fname)) return undefined;
    if (longString) {
      const af = rec.arrayField(fname);
      const ok =
        fd.dbf === 'STRING' ||
        fd.dbf === 'INLINK' ||
        fd.dbf === 'OUTLINK' ||
        fd.dbf === 'FWDLINK' ||
        (af && af.nativeType === DbrNative.CHAR);
      if (!ok) {
        if (af && af.nativeType === DbrNative.STRING && rec.def.name.startsWith('ls'))
          return { rec, fd, longString: false };
        longString = false; // RSRV ignores '$' on other fields
      } else if (af) longString = false;
    }
    return { rec, fd, longString };
  }

  /** Split off a server-side filter (`REC.FIELD{...}` / `REC.[1:2]`): [channel name, filter text]. */
  private filterPart(name: string): [string, string | undefined] {
    const dot = name.indexOf('.');
    if (dot < 0) return [name, undefined];
    const b = name.slice(dot + 1).search(/[{[]/);
    if (b < 0) return [name, undefined];
    return [name.slice(0, dot + 1 + b), name.slice(dot + 1 + b)];
  }

  has(name: string): boolean {
    if (this.split(name) !== undefined) return true;
    return this.filterPart(name)[1] !== undefined && this.channel(name) !== undefined;
  }

  channel(name: string): ServedChannel | undefined {
    const cached = this.channels.get(name);
    if (cached) return cached;
    const [baseName, filter] = this.filterPart(name);
    if (filter !== undefined) {
      const base = this.channel(baseName.endsWith('.') ? baseName.slice(0, -1) : baseName);
      if (!base) return undefined;
      let spec;
      try {
        spec = parseFilters(filter);
      } catch {
        return undefined;
      }
      const fch = new FilteredChannel(name, base, spec);
      this.channels.set(name, fch);
      return fch;
    }
    const s = this.split(name);
    if (!s) return undefined;
    const ch = new FieldChannel(name, s.rec, s.fd, s.longString, this);
    this.channels.set(name, ch);
    return ch;
  }

  /** Write through the CA put path (dbPutField) without a client: for scripts and tests. */
  put(
    name: string,
    value: NativeArray | number | string | number[] | string[],
    dbrType?: number,
  ): Promise<void> {
    const s = this.split(name);
    if (!s) return Promise.reject(new Error(`no such PV: ${name}`));
    let v: NativeArray;
    let t: number;
    if (typeof value === 'number') [v, t] = [Float64Array.of(value), DbrNative.DOUBLE];
    else if (typeof value === 'string') [v, t] = [[value], DbrNative.STRING];
    else if (Array.isArray(value) && value.length > 0 && typeof value[0] === 'string')
      [v, t] = [value as string[], DbrNative.STRING];
    else if (Array.isArray(value)) [v, t] = [Float64Array.from(value as number[]), DbrNative.DOUBLE];
    else [v, t] = [value, dbrType ?? DbrNative.DOUBLE];
    try {
      // the field as a channel serves it (mbbo VAL without states: DBF_USHORT)
      const fd = s.longString ? s.fd : s.rec.servedField(s.fd);
      return putField(s.rec, fd, s.longString, v, dbrType ?? t);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Current native value of a PV (snapshot of its channel). */
  get(name: string): NativeArray {
    const ch = this.channel(name);
    if (!ch) throw new Error(`no such PV: ${name}`);
    return ch.snapshot().value;
  }

  /** post_event for SCAN "Event" records with that EVNT. */
  postEvent(name: string): number {
    return this.scan.postEvent(name);
  }

  // ---- RecordEnv ----
  resolveField(pvName: string): { rec: DbRecord; field: FieldDef } | undefined {
    const s = this.split(pvName.endsWith('$') ? pvName.slice(0, -1) : pvName);
    return s ? { rec: s.rec, field: s.fd } : undefined;
  }

  schedule(fn: () => void, seconds: number, onCancel?: () => void): () => void {
    const entry: { t: NodeJS.Timeout; cancel?: () => void } = {
      t: setTimeout(
        () => {
          this.timers.delete(entry);
          fn();
        },
        Math.max(0, seconds * 1000),
      ),
      cancel: onCancel,
    };
    if (this.stopped) entry.t.unref();
    this.timers.add(entry);
    return () => {
      clearTimeout(entry.t);
      this.timers.delete(entry);
    };
  }

  scanChanged(rec: DbRecord): void {
    if (this.initialized) this.scan.update(rec);
  }

  accessChanged(rec: DbRecord): void {
    const s = this.rightsListeners.get(rec);
    if (s) for (const l of [...s]) l();
  }

  // ---- access security ----
  setAccessSecurity(as: AccessRules | undefined): void {
    for (const u of this.asUnsubs) u();
    this.asUnsubs = [];
    this.as = as;
    if (as?.groups && as.setInput) {
      for (const [gname, g] of as.groups) {
        for (const [letter, pv] of Object.entries(g.inputs)) {
          const r = this.resolveField(pv);
          const feed = (): void => {
            let v: number | undefined;
            try {
              v = r ? r.rec.readNumber(r.field) : undefined;
            } catch {
              v = undefined;
            }
            if (as.setInput!(gname, letter, v)) this.notifyAllRights();
          };
          feed();
          if (r) this.asUnsubs.push(r.rec.addListener(r.field.name, feed));
        }
      }
    }
    this.notifyAllRights();
  }

  private notifyAllRights(): void {
    for (const s of this.rightsListeners.values()) for (const l of [...s]) l();
    for (const l of [...this.globalRightsListeners]) l();
  }

  rightsFor(rec: DbRecord, fd: FieldDef, client: ClientIdentity): number {
    if (!this.as) return 3;
    return this.as.rightsFor(rec.str('ASG') || 'DEFAULT', client, fieldAsl(fd));
  }

  onRightsChange(rec: DbRecord, listener: () => void): () => void {
    let s = this.rightsListeners.get(rec);
    if (!s) this.rightsListeners.set(rec, (s = new Set()));
    s.add(listener);
    return () => s.delete(listener);
  }

  // ---- life cycle ----
  private initRecords(list: DbRecord[]): void {
    for (const r of list) for (const l of r.links.values()) l.resolve(this);
    for (const r of list) {
      // iocInit's doInitRecord0: the initial UDF severity is set before init_record
      if (r.v.UDF && r.v.STAT === 17) r.v.SEVR = r.v.UDFS as number;
      r.initRecord();
    }
    for (const r of list) this.scan.update(r);
    // PINI YES (iocInit), RUN/RUNNING (iocRun) process now; PAUSE/PAUSED only on iocPause (never here)
    const pini = list
      .filter((r) => r.num('PINI') >= 1 && r.num('PINI') <= 3)
      .sort((a, b) => a.num('PHAS') - b.num('PHAS'));
    for (const r of pini) r.scanProcess();
  }

  /** iocInit: resolve links, init records, process PINI records, start periodic scans. */
  init(): void {
    if (this.initialized) return;
    this.initialized = true;
    this.stopped = false;
    this.initRecords([...this.recs.values()]);
    this.scan.start();
  }

  get isInitialized(): boolean {
    return this.initialized;
  }

  /** Stop scans and every pending timer (asynchronous completions resolve). */
  stop(): void {
    this.stopped = true;
    this.scan.stop();
    for (const e of [...this.timers]) {
      clearTimeout(e.t);
      e.cancel?.();
    }
    this.timers.clear();
    for (const r of this.recs.values()) for (const l of r.links.values()) l.dispose();
    for (const u of this.asUnsubs) u();
    this.asUnsubs = [];
    this.initialized = false;
  }
}
