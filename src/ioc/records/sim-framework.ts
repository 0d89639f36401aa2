/**
 * The small simulation framework shared by the simulated record types (motor.ts, scaler.ts,
 * mca.ts): the `SimHost` a simulation drives (field access, monitor posting, alarms, timers),
 * `MemoryHost` (a host over plain field storage, used by the unit tests), `FakeClock`
 * (deterministic timers for tests), `SimRecord` (the database record that hosts a simulation) and
 * small helpers the simulations share (put-completion waiters, a seeded PRNG, open DTYP lists).
 */
import { DBE } from '../../protocol/constants.js';
import { MENUS, coerceToDbf, fitString, type FieldDef } from '../fields.js';
import { DbRecord, ProcessContext, type RecordEnv, type RecordTypeDef } from '../record.js';

/** Timers a simulation uses (real or fake). Times in milliseconds. */
export interface SimTimers {
  now(): number;
  /** Run `fn` after `ms`; returns a cancel function. */
  setTimeout(fn: () => void, ms: number): () => void;
}

/** What a simulated record needs from the record it runs in. */
export interface SimHost extends SimTimers {
  num(field: string): number;
  str(field: string): string;
  /** Store a field value (the host applies its DBF conversion) and mark it changed. */
  set(field: string, value: number | string): void;
  /** Array field (mca VAL/BG): the live storage; call `setCount` and `touch` after writing it. */
  array(field: string): Float64Array | Int32Array;
  setCount(field: string, count: number): void;
  /** Mark a field changed without writing it (arrays written in place). */
  touch(field: string): void;
  /** Set the record's alarm for this processing (highest severity wins, like recGblSetSevr). */
  setAlarm(status: number, severity: number): void;
  /** Post monitors for every field changed since the last post (and the alarm). */
  post(): void;
  /**
   * An asynchronous action finished (motor done, counting done): the record fires its FLNK. A
   * returned promise (the forward-link chain's completion) delays the put completions.
   */
  actionDone?(): Promise<void> | void;
}

/** Real-time timers (not unref'd: an IOC serving records stays alive; `stop()` clears them). */
export const realTimers: SimTimers = {
  now: () => performance.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

/** Deterministic timers for tests: time moves only with `advance()`. */
export class FakeClock implements SimTimers {
  private t = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): () => void {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return () => this.timers.delete(id);
  }
  /** Move time forward by `ms`, running due timers in time order (timers they add run too). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let nextId = -1;
      let nextAt = Infinity;
      for (const [id, tm] of this.timers) {
        if (tm.at < nextAt || (tm.at === nextAt && id < nextId)) {
          nextAt = tm.at;
          nextId = id;
        }
      }
      if (nextId < 0 || nextAt > end) break;
      const tm = this.timers.get(nextId) as { at: number; fn: () => void };
      this.timers.delete(nextId);
      this.t = Math.max(this.t, tm.at);
      tm.fn();
    }
    this.t = end;
  }
  get pending(): number {
    return this.timers.size;
  }
}

/** Register menus the simulated record types use (fields.ts keeps the menu table). */
export function registerMenus(menus: Record<string, readonly string[]>): void {
  for (const [k, v] of Object.entries(menus)) if (!MENUS[k]) MENUS[k] = v;
}

/** Initial numeric value of a field definition (menu choice names resolved). */
function initialNumber(def: FieldDef): number {
  if (def.initial === undefined) return 0;
  if (def.menu) {
    const i = def.menu.indexOf(def.initial);
    if (i >= 0) return i;
  }
  const v = Number(def.initial);
  return Number.isNaN(v) ? 0 : v;
}

/** Array field sizes for MemoryHost: name -> element count. */
export type ArraySizes = Record<string, number>;

/**
 * A SimHost over plain storage: field values in a Map, arrays in typed arrays. Used by the unit
 * tests; records every post (changed field names) in `posts`.
 */
export class MemoryHost implements SimHost {
  readonly values = new Map<string, number | string>();
  readonly arrays = new Map<string, Float64Array | Int32Array>();
  readonly counts = new Map<string, number>();
  readonly defs = new Map<string, FieldDef>();
  private changed = new Set<string>();
  readonly posts: string[][] = [];
  status = 0;
  severity = 0;
  private pendingStatus = 0;
  private pendingSeverity = 0;
  doneCount = 0;

  constructor(
    defs: readonly FieldDef[],
    private readonly timers: SimTimers = realTimers,
    arrays: ArraySizes = {},
    integerArrays = true,
  ) {
    for (const d of defs) {
      this.defs.set(d.name, d);
      this.values.set(d.name, d.dbf === 'STRING' ? (d.initial ?? '') : initialNumber(d));
    }
    for (const [name, n] of Object.entries(arrays)) {
      this.arrays.set(name, integerArrays ? new Int32Array(n) : new Float64Array(n));
      this.counts.set(name, 0);
    }
  }
  now(): number {
    return this.timers.now();
  }
  setTimeout(fn: () => void, ms: number): () => void {
    return this.timers.setTimeout(fn, ms);
  }
  num(field: string): number {
    const v = this.values.get(field);
    if (v === undefined) throw new RangeError(`no field ${field}`);
    return typeof v === 'number' ? v : Number(v);
  }
  str(field: string): string {
    const v = this.values.get(field);
    if (v === undefined) throw new RangeError(`no field ${field}`);
    return String(v);
  }
  set(field: string, value: number | string): void {
    const def = this.defs.get(field);
    if (!def) throw new RangeError(`no field ${field}`);
    let v = value;
    if (typeof v === 'number') {
      switch (def.dbf) {
        case 'SHORT':
          v = (Math.trunc(v) << 16) >> 16;
          break;
        case 'USHORT':
        case 'MENU':
        case 'ENUM':
          v = Math.trunc(v) & 0xffff;
          break;
        case 'LONG':
          v = Number.isFinite(v) ? Math.trunc(v) | 0 : 0;
          break;
        case 'ULONG':
          v = Number.isFinite(v) ? Math.trunc(v) >>> 0 : 0;
          break;
        case 'FLOAT':
          v = Math.fround(v);
          break;
        case 'STRING':
          v = String(v);
          break;
      }
    }
    if (this.values.get(field) !== v) this.changed.add(field);
    this.values.set(field, v);
  }
  array(field: string): Float64Array | Int32Array {
    const a = this.arrays.get(field);
    if (!a) throw new RangeError(`no array field ${field}`);
    return a;
  }
  setCount(field: string, count: number): void {
    this.counts.set(field, count);
  }
  touch(field: string): void {
    this.changed.add(field);
  }
  setAlarm(status: number, severity: number): void {
    if (severity > this.pendingSeverity) {
      this.pendingSeverity = severity;
      this.pendingStatus = status;
    }
  }
  post(): void {
    if (this.pendingSeverity !== this.severity || this.pendingStatus !== this.status) {
      this.status = this.pendingStatus;
      this.severity = this.pendingSeverity;
      this.changed.add('STAT');
      this.changed.add('SEVR');
    }
    this.pendingStatus = 0;
    this.pendingSeverity = 0;
    if (this.changed.size > 0) this.posts.push([...this.changed]);
    this.changed = new Set();
  }
  actionDone(): void {
    this.doneCount++;
  }
  /** Test helper: write a field as a CA put would before calling the simulation's put(). */
  write(field: string, value: number | string): void {
    const def = this.defs.get(field);
    if (!def) throw new RangeError(`no field ${field}`);
    if (def.nomod) throw new RangeError(`field ${field} is read only`);
    this.set(field, value);
  }
}

/** A simulation behind a record: what the record framework calls. */
export interface RecordSimulation {
  /** After the fields from the .db file are set (init_record, pass 1). */
  init(): void;
  /**
   * A field was written (value already stored in the host). Does what the record's special() and,
   * for pp fields, process() do; resolves when the action it started has finished (what a
   * WRITE_NOTIFY put waits for). A refused request (soft-limit violation, SPMG Stop/Pause)
   * resolves at once.
   */
  put(field: string): Promise<void>;
  /** The record was processed (scan, PROC, FLNK): refresh readbacks. */
  process(): Promise<void>;
  /** Stop timers (IOC shutdown). */
  stop(): void;
  /** An action (move, count, acquisition) is in progress. */
  readonly busy: boolean;
}

/** Fire the host's action-done hook (FLNK), then `release` (put completions) when it has finished. */
export function afterAction(h: SimHost, release: () => void): void {
  let done: Promise<void> | void;
  try {
    done = h.actionDone?.();
  } catch {
    done = undefined;
  }
  if (done) void done.then(release, release);
  else release();
}

// ---------------------------------------------------------------------------------------------
// The adapter: a database record (record.ts) that is the SimHost of its simulation.

/**
 * Base of the simulated record types: stores fields in the DbRecord, collects changed fields and
 * posts them (DBE_VALUE|DBE_LOG, plus the alarm mask on VAL) with a fresh time stamp; timers go
 * through the database's scheduler (stopped with it); the completion of a pp put's action is added
 * to the put's ProcessContext, so WRITE_NOTIFY completes when the move/count/acquisition ends.
 */
export abstract class SimRecord extends DbRecord implements SimHost {
  private changedFields: Set<string> | undefined;
  private simulation: RecordSimulation | undefined;
  private pendingPut: Promise<void> | undefined;
  private actionFired = false;
  private readonly simArrays = new Map<string, Float64Array | Int32Array>();
  private readonly simCounts = new Map<string, number>();

  constructor(name: string, def: RecordTypeDef, env: RecordEnv) {
    super(name, def, env);
  }

  /** Make the simulation (called once, at initRecord). */
  protected abstract createSimulation(): RecordSimulation;

  get sim(): RecordSimulation {
    if (!this.simulation) this.simulation = this.createSimulation();
    return this.simulation;
  }

  // SimTimers
  now(): number {
    return performance.now();
  }
  setTimeout(fn: () => void, ms: number): () => void {
    // When the database stops, its timers are cancelled: stop the simulation (puts complete).
    return this.env.schedule(fn, ms / 1000, () => this.simulation?.stop());
  }

  // SimHost
  override set(field: string, value: number | string): void {
    const fd = this.def.fieldMap.get(field);
    let v = value;
    if (fd) {
      if (typeof v === 'number' && fd.dbf !== 'STRING') v = coerceToDbf(fd.dbf, v);
      else if (fd.dbf === 'STRING') v = fitString(String(v), fd.size);
    }
    const old = this.v[field];
    this.v[field] = v;
    if (old !== v && !(typeof v === 'number' && Number.isNaN(v) && Number.isNaN(old))) this.touch(field);
  }
  touch(field: string): void {
    (this.changedFields ??= new Set()).add(field);
  }
  array(field: string): Float64Array | Int32Array {
    let a = this.simArrays.get(field);
    if (!a) {
      a = new Int32Array(Math.max(1, this.arraySize(field)));
      this.simArrays.set(field, a);
    }
    return a;
  }
  setCount(field: string, count: number): void {
    this.simCounts.set(field, count);
  }
  /** Element count of a simulated array field (0: the record has none). */
  protected arraySize(_field: string): number {
    return 0;
  }
  protected arrayCount(field: string): number {
    return this.simCounts.get(field) ?? 0;
  }
  setAlarm(status: number, severity: number): void {
    this.setSevr(status, severity);
  }
  override post(): void;
  override post(field: string, mask: number): void;
  override post(field?: string, mask?: number): void {
    if (field !== undefined) {
      super.post(field, mask ?? DBE.VALUE | DBE.LOG);
      return;
    }
    this.stamp();
    const alarm = this.resetAlarms();
    const changed = this.changedFields;
    this.changedFields = undefined;
    if (changed) {
      for (const f of changed) super.post(f, DBE.VALUE | DBE.LOG | (f === 'VAL' ? alarm : 0));
    }
    if (alarm && !changed?.has('VAL')) super.post('VAL', alarm);
  }
  actionDone(): Promise<void> | void {
    this.actionFired = true;
    const sub = new ProcessContext();
    this.fwdLink(sub);
    return sub.pending.length ? sub.done() : undefined;
  }

  // record support
  override initRecord(): void {
    super.initRecord();
    this.v.UDF = 0;
    this.sim.init();
  }
  override special(fd: FieldDef): void {
    super.special(fd);
    // putField posts the written field itself, except a pp VAL (left to processing)
    if (fd.name === 'VAL' && fd.pp) this.touch(fd.name);
    this.actionFired = false;
    const p = this.sim.put(fd.name);
    if (fd.pp) this.pendingPut = p;
  }
  protected processRecord(ctx: ProcessContext | undefined): boolean {
    const p = this.pendingPut;
    this.pendingPut = undefined;
    if (p) ctx?.add(p);
    else {
      this.actionFired = false;
      void this.sim.process();
    }
    // FLNK: now when nothing is in progress, else when the action ends (actionDone)
    if (!this.sim.busy && !this.actionFired) this.fwdLink(ctx);
    this.actionFired = false;
    return false;
  }
  /** Stop the simulation's timers (the database's stop() also clears them). */
  stopSimulation(): void {
    this.simulation?.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers the simulations share

/** Put completions (WRITE_NOTIFY) waiting for the simulation's current action to end. */
export class ActionWaiters {
  private list: Array<() => void> = [];
  /** What a simulation's put() returns: resolved now, or (`wait`) when the action ends. */
  completion(wait: boolean): Promise<void> {
    if (!wait) return Promise.resolve();
    return new Promise<void>((resolve) => this.list.push(resolve));
  }
  /** Resolve every waiting completion. */
  release(): void {
    const w = this.list;
    this.list = [];
    for (const resolve of w) resolve();
  }
  /** The action ended: fire the host's FLNK (afterAction), then release the completions. */
  actionEnded(h: SimHost): void {
    afterAction(h, () => this.release());
  }
}

/** Small deterministic PRNG (mulberry32): uniform numbers in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Let a record type accept any DTYP: unknown names join the type's device list. */
export function acceptAnyDtyp(list: string[], fd: FieldDef, text: string): void {
  if (fd.dbf === 'DEVICE' && text !== '' && !list.includes(text)) list.push(text);
}
