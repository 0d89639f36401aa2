/**
 * Simulated `motor` record (synApps motor module's motorRecord, any DTYP/OUT is simulated).
 *
 * Also home of the small simulation framework shared by motor.ts, scaler.ts and mca.ts: the
 * `SimHost` a simulation drives (field access, monitor posting, alarms, timers), `MemoryHost` (a
 * host over plain field storage, used by the unit tests and usable as an adapter base) and
 * `FakeClock` (deterministic timers for tests).
 *
 * The simulation keeps the controller position in steps and moves with a trapezoidal profile:
 * base speed VBAS, slew speed VELO, acceleration time ACCL, backlash BDST/BVEL, settle delay DLY.
 * While moving it polls every `pollMs` updating RMP/REP/RRBV/DRBV/RBV/DIFF/RDIF/MOVN/DMOV/MSTA/TDIR.
 */
import { AlarmStatus, DBE } from '../../protocol/constants.js';
import { COMMON_FIELDS, MENUS, coerceToDbf, defineFields, fitString, type FieldDef } from '../fields.js';
import { DbRecord, ProcessContext, type FieldMeta, type RecordEnv, type RecordTypeDef } from '../record.js';
import { defineRecordType } from '../record-type.js';

// ---------------------------------------------------------------------------------------------
// Shared simulation framework

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
// Motor record fields (motorRecord.dbd)

registerMenus({
  motorDIR: ['Pos', 'Neg'],
  motorSET: ['Use', 'Set'],
  motorMODE: ['Position', 'Velocity'],
  motorUEIP: ['No', 'Yes'],
  motorSPMG: ['Stop', 'Pause', 'Move', 'Go'],
  motorFOFF: ['Variable', 'Frozen'],
  motorTORQ: ['Disable', 'Enable'],
  motorSTUP: ['OFF', 'ON', 'BUSY'],
  motorRMOD: ['Default', 'Arithmetic', 'Geometric', 'In-Position'],
  motorRSTM: ['Never', 'Always', 'NearZero', 'Conditional'],
  motorACCU: ['Use ACCL', 'Use ACCS'],
});

/** The motor record's own fields, as motorRecord.dbd declares them (fields.ts spec syntax). */
export const MOTOR_SPEC = `
VERS FLOAT ro init=1; OFF DOUBLE pp; FOFF MENU menu=motorFOFF; FOF SHORT; VOF SHORT; DIR MENU pp
menu=motorDIR; SET MENU menu=motorSET; SSET SHORT; SUSE SHORT; VELO DOUBLE; VBAS DOUBLE; VMAX DOUBLE; S
DOUBLE; SBAS DOUBLE; SMAX DOUBLE; ACCL DOUBLE init=0.2; ACCS DOUBLE; ACCU MENU menu=motorACCU; BDST
DOUBLE; BVEL DOUBLE; SBAK DOUBLE; BACC DOUBLE init=0.5; FRAC FLOAT init=1; OUT OUTLINK; CARD SHORT ro; RDBL
INLINK; DOL INLINK; OMSL MENU menu=menuOmsl; RLNK OUTLINK; SREV LONG pp init=200; UREV DOUBLE pp; MRES DOUBLE
pp; ERES DOUBLE pp; RRES DOUBLE; UEIP MENU pp menu=motorUEIP; URIP MENU pp menu=motorUEIP; PREC SHORT; EGU
STRING size=16; RHLM DOUBLE ro; RLLM DOUBLE ro; HLM DOUBLE pp; LLM DOUBLE pp; DHLM DOUBLE pp; DLLM DOUBLE pp;
HOPR DOUBLE; LOPR DOUBLE; HLS SHORT ro; LLS SHORT ro; RHLS SHORT ro; RLLS SHORT ro; HIHI DOUBLE pp; LOLO
DOUBLE pp; HIGH DOUBLE pp; LOW DOUBLE pp; HHSV MENU pp menu=menuAlarmSevr; LLSV MENU pp menu=menuAlarmSevr;
HSV MENU pp menu=menuAlarmSevr; LSV MENU pp menu=menuAlarmSevr; HLSV MENU pp menu=menuAlarmSevr; RDBD DOUBLE;
SPDB DOUBLE; RCNT SHORT ro; RTRY SHORT init=10; MISS SHORT ro; SPMG MENU pp menu=motorSPMG init=Go; LSPG MENU
ro menu=motorSPMG init=Go; STOP SHORT pp; HOMF SHORT pp; HOMR SHORT pp; JOGF SHORT pp; JOGR SHORT pp; TWF
SHORT pp; TWR SHORT pp; TWV DOUBLE; VAL DOUBLE pp; LVAL DOUBLE ro; DVAL DOUBLE pp; LDVL DOUBLE ro; RVAL LONG
pp; LRVL LONG ro; RLV DOUBLE pp; LRLV DOUBLE ro; RBV DOUBLE ro; DRBV DOUBLE ro; DIFF DOUBLE ro; RDIF LONG ro;
CDIR SHORT ro; RRBV LONG ro; RMP LONG ro; REP LONG ro; RVEL LONG ro; DMOV SHORT ro init=1; MOVN SHORT ro;
MSTA ULONG ro; LVIO SHORT ro init=1; TDIR SHORT ro; ATHM SHORT ro; PP SHORT ro init=0; MIP USHORT ro; MMAP
ULONG ro; NMAP ULONG ro; DLY DOUBLE; CBAK NOACCESS ro; PCOF DOUBLE init=0; ICOF DOUBLE init=0; DCOF DOUBLE
init=0; CNEN MENU pp menu=motorTORQ; INIT STRING size=40; PREM STRING size=40; POST STRING size=40; STOO
OUTLINK; DINP INLINK; RINP INLINK; JVEL DOUBLE; JAR DOUBLE; LOCK MENU menu=menuYesNo init=NO; NTM MENU
menu=menuYesNo init=YES; NTMF USHORT init=2; HVEL DOUBLE; STUP MENU pp menu=motorSTUP init=OFF; RMOD MENU
menu=motorRMOD init=Default; ADEL DOUBLE; MDEL DOUBLE; ALST DOUBLE ro; MLST DOUBLE ro; SYNC SHORT pp; IGSET
SHORT; RSTM MENU menu=motorRSTM init=NearZero`;

export const MOTOR_FIELDS: readonly FieldDef[] = defineFields(MOTOR_SPEC);

/** Common fields plus the motor fields (what a MemoryHost for a motor needs). */
export const MOTOR_ALL_FIELDS: readonly FieldDef[] = [...COMMON_FIELDS, ...MOTOR_FIELDS];

/** Fields whose CA metadata (limits) are user, dial or raw coordinates (get_graphic/control_double). */
export function motorLimitsFor(
  host: Pick<SimHost, 'num'>,
  field: string,
): { upper: number; lower: number } | undefined {
  switch (field) {
    case 'VAL':
    case 'RBV':
    case 'HLM':
    case 'LLM':
    case 'LVAL':
      return { upper: host.num('HLM'), lower: host.num('LLM') };
    case 'DVAL':
    case 'DRBV':
    case 'DHLM':
    case 'DLLM':
    case 'LDVL':
      return { upper: host.num('DHLM'), lower: host.num('DLLM') };
    case 'RVAL':
    case 'RRBV':
    case 'RMP':
    case 'REP':
      return { upper: host.num('RHLM'), lower: host.num('RLLM') };
    case 'VELO':
    case 'VBAS':
    case 'BVEL':
    case 'JVEL':
    case 'HVEL':
      return { upper: host.num('VMAX'), lower: host.num('VBAS') };
  }
  return undefined;
}

// MSTA bits (motor.h) and MIP bits (motorRecord.cc)
export const MSTA = {
  DIRECTION: 0x1, DONE: 0x2, PLUS_LS: 0x4, HOME_LS: 0x8, POSITION: 0x20, SLIP_STALL: 0x40, HOME: 0x80,
  PRESENT: 0x100, PROBLEM: 0x200, MOVING: 0x400, GAIN_SUPPORT: 0x800, COMM_ERR: 0x1000, MINUS_LS: 0x2000,
  HOMED: 0x4000,
} as const; // prettier-ignore
export const MIP = {
  JOGF: 0x1, JOGR: 0x2, HOMF: 0x8, HOMR: 0x10, MOVE: 0x20, RETRY: 0x40, MOVE_BL: 0x100, STOP: 0x200,
  DELAY_REQ: 0x400,
} as const; // prettier-ignore

const SPMG_STOP = 0;
const SPMG_PAUSE = 1;
const SPMG_MOVE = 2;
const SPMG_GO = 3;

export interface MotorSimOptions {
  /** Poll period while moving (ms), like asynMotor's moving poll period. Default 100. */
  pollMs?: number;
  /** Hard limit switch positions in dial units (default: none). */
  hardHigh?: number;
  hardLow?: number;
  /** Initial dial position (default 0). */
  initialDial?: number;
  /**
   * Simulated positioning error in steps (default 0: the motor lands exactly). Each landing misses
   * the target by this much, halved on every retry; the record retries (RDBD/RTRY/RCNT/MISS).
   */
  landingError?: number;
}

/** One constant-acceleration trapezoid (or triangle) from `from` to `to` in steps. */
interface Segment {
  from: number;
  to: number;
  vb: number; // steps/s
  vm: number;
  accelTime: number;
}

interface Profile {
  t0: number;
  from: number;
  sign: number;
  dist: number;
  vb: number;
  vp: number;
  a: number;
  ta: number;
  tc: number;
  total: number;
}

function makeProfile(seg: Segment, t0: number): Profile {
  const dist = Math.abs(seg.to - seg.from);
  const sign = seg.to >= seg.from ? 1 : -1;
  const vb = Math.max(0, Math.min(seg.vb, seg.vm));
  const vm = seg.vm;
  if (!(vm > 0) || dist === 0)
    return { t0, from: seg.from, sign, dist, vb, vp: vm, a: 0, ta: 0, tc: 0, total: 0 };
  const a = seg.accelTime > 0 && vm > vb ? (vm - vb) / seg.accelTime : Infinity;
  if (a === Infinity)
    return { t0, from: seg.from, sign, dist, vb: vm, vp: vm, a, ta: 0, tc: dist / vm, total: dist / vm };
  const da = (vm * vm - vb * vb) / (2 * a);
  if (2 * da >= dist) {
    const vp = Math.sqrt(vb * vb + a * dist);
    const ta = (vp - vb) / a;
    return { t0, from: seg.from, sign, dist, vb, vp, a, ta, tc: 0, total: 2 * ta };
  }
  const ta = (vm - vb) / a;
  const tc = (dist - 2 * da) / vm;
  return { t0, from: seg.from, sign, dist, vb, vp: vm, a, ta, tc, total: 2 * ta + tc };
}

/** Speed (steps/s, >= 0) `tau` seconds into a profile. */
function velocityAt(p: Profile, tau: number): number {
  if (tau <= 0 || tau >= p.total) return p.vb;
  if (p.a === Infinity) return p.vp;
  if (tau < p.ta) return p.vb + p.a * tau;
  if (tau < p.ta + p.tc) return p.vp;
  return Math.max(p.vb, p.vp - p.a * (tau - p.ta - p.tc));
}

/** Distance travelled (>= 0) `tau` seconds into a profile. */
function travelled(p: Profile, tau: number): number {
  if (tau >= p.total) return p.dist;
  if (tau <= 0) return 0;
  const accel = (t: number): number => (p.a === Infinity ? p.vp * t : p.vb * t + 0.5 * p.a * t * t);
  if (tau < p.ta) return accel(tau);
  const da = accel(p.ta);
  if (tau < p.ta + p.tc) return da + p.vp * (tau - p.ta);
  return p.dist - accel(p.total - tau);
}

type MoveKind = 'move' | 'home' | 'jog';

/** The motor simulation. */
export class MotorSim implements RecordSimulation {
  private raw = 0; // controller position, steps
  private profile: Profile | undefined;
  private segments: Segment[] = [];
  private kind: MoveKind = 'move';
  private cancelPoll: (() => void) | undefined;
  private cancelDelay: (() => void) | undefined;
  private waiters: Array<() => void> = [];
  private homed = false;
  /** A stop is in progress / ended the motion: 'retarget' moves VAL to the readback. */
  private stopped: 'retarget' | 'keep' | undefined;
  private hitLimit = false;
  private readonly pollMs: number;

  constructor(
    private readonly h: SimHost,
    private readonly opts: MotorSimOptions = {},
  ) {
    this.pollMs = opts.pollMs ?? 100;
  }

  // --- coordinates
  private get dirSign(): number {
    return this.h.num('DIR') === 1 ? -1 : 1;
  }
  private get mres(): number {
    return this.h.num('MRES') || 1;
  }
  private userFromDial(d: number): number {
    return this.dirSign * d + this.h.num('OFF');
  }
  private dialFromUser(u: number): number {
    return (u - this.h.num('OFF')) * this.dirSign;
  }
  private softLimitsOn(): boolean {
    return !(this.h.num('DHLM') === this.h.num('DLLM') && this.h.num('DLLM') === 0);
  }

  init(): void {
    const h = this.h;
    this.checkSpeedAndResolution();
    this.raw = (this.opts.initialDial ?? 0) / this.mres;
    if (h.num('ERES') === 0) h.set('ERES', this.mres);
    this.userLimitsFromDial();
    this.updateReadback();
    h.set('VAL', h.num('RBV'));
    h.set('DVAL', h.num('DRBV'));
    h.set('RVAL', h.num('RRBV'));
    h.set('LVAL', h.num('VAL'));
    h.set('LDVL', h.num('DVAL'));
    h.set('LRVL', h.num('RVAL'));
    h.set('DMOV', 1);
    h.set('MOVN', 0);
    h.set(
      'LVIO',
      this.softLimitsOn() && (h.num('DVAL') > h.num('DHLM') || h.num('DVAL') < h.num('DLLM')) ? 1 : 0,
    );
    h.set('LSPG', h.num('SPMG'));
    h.post();
  }

  stop(): void {
    this.cancelPoll?.();
    this.cancelDelay?.();
    this.cancelPoll = this.cancelDelay = undefined;
    this.profile = undefined;
    this.segments = [];
    this.releaseWaiters();
  }

  process(): Promise<void> {
    this.updateReadback();
    this.h.post();
    return Promise.resolve();
  }

  get moving(): boolean {
    return this.h.num('DMOV') === 0;
  }
  get busy(): boolean {
    return this.moving;
  }

  /** Current controller position in steps (for tests and diagnostics). */
  get rawPosition(): number {
    return this.raw;
  }

  put(field: string): Promise<void> {
    const h = this.h;
    let wait = false;
    switch (field) {
      case 'VAL':
        wait = this.targetChanged('VAL');
        break;
      case 'DVAL':
        wait = this.targetChanged('DVAL');
        break;
      case 'RVAL':
        wait = this.targetChanged('RVAL');
        break;
      case 'RLV': {
        const rlv = h.num('RLV');
        h.set('LRLV', rlv);
        h.set('RLV', 0);
        if (rlv !== 0) {
          h.set('VAL', h.num('VAL') + rlv);
          wait = this.targetChanged('VAL');
        }
        break;
      }
      case 'TWF':
      case 'TWR': {
        if (h.num(field) !== 0) {
          h.set(field, 0);
          h.set('VAL', h.num('VAL') + (field === 'TWF' ? 1 : -1) * h.num('TWV'));
          wait = this.targetChanged('VAL');
        }
        break;
      }
      case 'STOP':
        if (h.num('STOP') !== 0) {
          h.set('STOP', 0);
          this.halt(true);
        }
        break;
      case 'SPMG':
        wait = this.spmgChanged();
        break;
      case 'HOMF':
      case 'HOMR':
        if (h.num(field) !== 0) wait = this.startHome(field === 'HOMF');
        break;
      case 'JOGF':
      case 'JOGR':
        if (h.num(field) !== 0) wait = this.startJog(field === 'JOGF');
        else if (this.kind === 'jog' && this.profile) this.halt(true);
        break;
      case 'SSET':
      case 'SUSE':
        if (h.num(field) !== 0) h.set('SET', field === 'SSET' ? 1 : 0);
        h.set(field, 0);
        break;
      case 'SYNC':
        h.set('SYNC', 0);
        this.syncTargetsToReadback();
        break;
      case 'OFF':
      case 'DIR':
        this.userLimitsFromDial();
        h.set('VAL', this.userFromDial(h.num('DVAL')));
        h.set('LVAL', h.num('VAL'));
        break;
      case 'HLM':
      case 'LLM':
        this.dialLimitsFromUser(field);
        break;
      case 'DHLM':
      case 'DLLM':
        this.userLimitsFromDial();
        break;
      case 'MRES':
      case 'UREV':
      case 'SREV':
      case 'VELO':
      case 'S':
      case 'VBAS':
      case 'SBAS':
      case 'VMAX':
      case 'SMAX':
        this.speedOrResolutionChanged(field);
        break;
      case 'ERES':
        if (h.num('ERES') === 0) h.set('ERES', this.mres);
        break;
    }
    this.updateReadback();
    h.post();
    if (!wait) return Promise.resolve();
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  // --- targets and moves

  /** A target field (VAL/DVAL/RVAL) was written: derive the others, then move (or set). */
  private targetChanged(which: 'VAL' | 'DVAL' | 'RVAL'): boolean {
    const h = this.h;
    const mres = this.mres;
    let dval: number;
    if (which === 'VAL') dval = this.dialFromUser(h.num('VAL'));
    else if (which === 'DVAL') dval = h.num('DVAL');
    else dval = h.num('RVAL') * mres;

    if (h.num('SET') === 1) {
      // Set mode: redefine positions, no motion.
      if (which === 'VAL' && h.num('FOFF') === 0) {
        h.set('OFF', h.num('VAL') - this.dirSign * h.num('DVAL'));
        this.userLimitsFromDial();
      } else {
        this.raw = dval / mres;
        h.set('DVAL', dval);
        h.set('RVAL', Math.round(dval / mres));
        h.set('VAL', this.userFromDial(dval));
      }
      h.set('LVAL', h.num('VAL'));
      h.set('LDVL', h.num('DVAL'));
      h.set('LRVL', h.num('RVAL'));
      return false;
    }

    h.set('DVAL', dval);
    h.set('VAL', this.userFromDial(dval));
    h.set('RVAL', Math.round(dval / mres));
    if (this.limitViolation(dval)) {
      h.set('LVIO', 1);
      h.set('VAL', h.num('LVAL'));
      h.set('DVAL', h.num('LDVL'));
      h.set('RVAL', h.num('LRVL'));
      return false;
    }
    h.set('LVIO', 0);
    h.set('LVAL', h.num('VAL'));
    h.set('LDVL', h.num('DVAL'));
    h.set('LRVL', h.num('RVAL'));
    const spmg = h.num('SPMG');
    if (spmg === SPMG_STOP) {
      // Stopped: the target follows the readback.
      this.syncTargetsToReadback();
      return false;
    }
    if (spmg === SPMG_PAUSE) return false;
    return this.startMove(dval, 'move');
  }

  private limitViolation(dval: number): boolean {
    const h = this.h;
    if (!this.softLimitsOn()) return false;
    const dhlm = h.num('DHLM');
    const dllm = h.num('DLLM');
    if (dllm > dhlm) return true;
    const ldvl = h.num('LDVL');
    // moving back towards the valid range is allowed
    if ((dval > dhlm && dval < ldvl) || (dval < dllm && dval > ldvl)) return false;
    const bdst = h.num('BDST');
    const preferred = dval > ldvl === bdst > 0;
    const check = preferred ? dval : dval - bdst;
    return dval > dhlm || dval < dllm || check > dhlm || check < dllm;
  }

  /** Start (or retarget) a move to dial position `dval`; returns false when nothing moves. */
  private startMove(dval: number, kind: MoveKind): boolean {
    const h = this.h;
    const mres = this.mres;
    const target = dval / mres;
    const here = this.currentRaw();
    const absMres = Math.abs(mres);
    const velo = h.num('VELO') / absMres;
    const vbas = h.num('VBAS') / absMres;
    const accl = h.num('ACCL');
    this.segments = [];
    const bdst = h.num('BDST');
    const bdstSteps = bdst / mres;
    const distDial = dval - here * mres;
    if (Math.abs(target - here) < 0.5 && !this.profile) return false;
    if (bdst !== 0 && Math.abs(bdstSteps) >= 1 && kind === 'move') {
      const preferred = distDial > 0 === bdst > 0;
      const bvel = (h.num('BVEL') || h.num('VELO')) / absMres;
      if (preferred && Math.abs(distDial) <= Math.abs(bdst)) {
        this.segments.push({ from: here, to: target, vb: vbas, vm: bvel, accelTime: h.num('BACC') });
      } else {
        this.segments.push({ from: here, to: target - bdstSteps, vb: vbas, vm: velo, accelTime: accl });
        this.segments.push({
          from: target - bdstSteps,
          to: target,
          vb: vbas,
          vm: bvel,
          accelTime: h.num('BACC'),
        });
      }
    } else {
      const speed = kind === 'home' ? (h.num('HVEL') || h.num('VELO')) / absMres : velo;
      this.segments.push({ from: here, to: target, vb: vbas, vm: speed, accelTime: accl });
    }
    this.kind = kind;
    this.raw = here;
    this.hitLimit = false;
    this.stopped = undefined;
    this.cancelDelay?.();
    this.cancelDelay = undefined;
    let mip = kind === 'move' ? MIP.MOVE : kind === 'home' ? (h.num('HOMF') ? MIP.HOMF : MIP.HOMR) : 0;
    if (this.segments.length > 1) mip |= MIP.MOVE_BL;
    if (kind === 'jog') mip = h.num('JOGF') ? MIP.JOGF : MIP.JOGR;
    h.set('MIP', mip);
    h.set('CDIR', target >= here ? 1 : 0);
    h.set('DMOV', 0);
    h.set('MOVN', 1);
    h.set('RCNT', 0);
    this.nextSegment();
    return true;
  }

  private nextSegment(): void {
    const seg = this.segments.shift();
    if (!seg) {
      this.profile = undefined;
      if (this.kind === 'move' && !this.stopped && this.retryIfNeeded()) return;
      this.motionEnded();
      return;
    }
    seg.from = this.raw;
    this.profile = makeProfile(seg, this.h.now());
    this.schedulePoll();
  }

  /** At the end of a move: land (with the simulated error), then retry when outside RDBD. */
  private retryIfNeeded(): boolean {
    const h = this.h;
    const mres = this.mres;
    const target = h.num('DVAL') / mres;
    const err = this.opts.landingError ?? 0;
    const rcnt = h.num('RCNT');
    if (err !== 0) this.raw = target + err * 0.5 ** rcnt;
    const miss = Math.abs(Math.round(this.raw) - target) * Math.abs(mres);
    const rdbd = Math.max(h.num('RDBD'), Math.abs(mres));
    if (miss <= rdbd) {
      h.set('MISS', 0);
      return false;
    }
    if (rcnt < h.num('RTRY')) {
      h.set('RCNT', rcnt + 1);
      h.set('MIP', (h.num('MIP') & ~MIP.MOVE_BL) | MIP.RETRY);
      const speed = h.num('VELO') / Math.abs(mres);
      this.segments.push({
        from: this.raw,
        to: target,
        vb: h.num('VBAS') / Math.abs(mres),
        vm: speed,
        accelTime: h.num('ACCL'),
      });
      this.nextSegment();
      return true;
    }
    h.set('MISS', 1);
    return false;
  }

  private schedulePoll(): void {
    this.cancelPoll?.();
    this.cancelPoll = this.h.setTimeout(() => this.poll(), this.pollMs);
  }

  /** Position now along the current profile (steps), without committing it. */
  private currentRaw(): number {
    const p = this.profile;
    if (!p) return this.raw;
    return p.from + p.sign * travelled(p, (this.h.now() - p.t0) / 1000);
  }

  private poll(): void {
    this.cancelPoll = undefined;
    const p = this.profile;
    if (!p) return;
    const tau = (this.h.now() - p.t0) / 1000;
    this.raw = this.currentRaw();
    const hh = this.opts.hardHigh;
    const hl = this.opts.hardLow;
    const mres = this.mres;
    const dial = this.raw * mres;
    if (hh !== undefined && dial >= hh && p.sign * mres > 0) {
      this.raw = hh / mres;
      this.hitLimit = true;
    } else if (hl !== undefined && dial <= hl && p.sign * mres < 0) {
      this.raw = hl / mres;
      this.hitLimit = true;
    }
    if (this.hitLimit) {
      this.profile = undefined;
      this.segments = [];
      this.motionEnded();
      return;
    }
    if (tau >= p.total) {
      this.raw = p.from + p.sign * p.dist;
      this.nextSegment();
      if (this.profile) {
        this.updateReadback();
        this.h.post();
      }
      return;
    }
    this.updateReadback();
    this.h.post();
    this.schedulePoll();
  }

  /** Motion stopped (target reached, stopped, or limit): settle delay then done. */
  private motionEnded(): void {
    const h = this.h;
    this.cancelPoll?.();
    this.cancelPoll = undefined;
    h.set('MOVN', 0);
    this.updateReadback();
    const dly = h.num('DLY');
    if (dly > 0) {
      h.set('MIP', h.num('MIP') | MIP.DELAY_REQ);
      h.post();
      this.cancelDelay = h.setTimeout(() => {
        this.cancelDelay = undefined;
        this.finish();
      }, dly * 1000);
      return;
    }
    this.finish();
  }

  private finish(): void {
    const h = this.h;
    const stopped = this.stopped;
    this.stopped = undefined;
    if (stopped) {
      if (this.kind === 'home') {
        h.set('HOMF', 0);
        h.set('HOMR', 0);
      }
      if (stopped === 'retarget' || this.kind !== 'move') this.syncTargetsToReadback();
      else this.updateReadback();
    } else if (this.kind === 'home') {
      this.homed = true;
      h.set('ATHM', 1);
      h.set('HOMF', 0);
      h.set('HOMR', 0);
      this.syncTargetsToReadback();
    } else if (this.kind === 'jog') {
      h.set('JOGF', 0);
      h.set('JOGR', 0);
      this.syncTargetsToReadback();
    } else if (this.hitLimit) {
      this.syncTargetsToReadback();
    }
    h.set('MIP', 0);
    h.set('MOVN', 0);
    h.set('DMOV', 1);
    if (h.num('SPMG') === SPMG_MOVE) {
      h.set('SPMG', SPMG_PAUSE);
      h.set('LSPG', SPMG_PAUSE);
    }
    this.updateReadback();
    h.post();
    afterAction(h, () => this.releaseWaiters());
  }

  private releaseWaiters(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }

  /** Stop now (STOP, SPMG Stop/Pause, jog release). `retarget`: VAL follows the readback. */
  /**
   * Stop (STOP, SPMG Stop/Pause, jog release): decelerate from the current speed to VBAS at the
   * profile's acceleration, then end the motion. `retarget`: VAL follows the readback.
   */
  private halt(retarget: boolean): void {
    if (!this.profile && this.segments.length === 0) {
      if (retarget && !this.cancelDelay) this.syncTargetsToReadback();
      return;
    }
    this.stopped = retarget ? 'retarget' : 'keep';
    this.segments = [];
    const p = this.profile;
    const now = this.h.now();
    if (p) {
      const tau = (now - p.t0) / 1000;
      const v = velocityAt(p, tau);
      if (p.a !== Infinity && p.a > 0 && v > p.vb && tau < p.total) {
        const td = (v - p.vb) / p.a;
        const dist = p.vb * td + 0.5 * p.a * td * td;
        this.raw = this.currentRaw();
        this.profile = {
          t0: now,
          from: this.raw,
          sign: p.sign,
          dist,
          vb: p.vb,
          vp: v,
          a: p.a,
          ta: 0,
          tc: 0,
          total: td,
        };
        this.h.set('MIP', this.h.num('MIP') | MIP.STOP);
        this.schedulePoll();
        return;
      }
    }
    this.raw = Math.round(this.currentRaw());
    this.profile = undefined;
    this.motionEnded();
  }

  private syncTargetsToReadback(): void {
    const h = this.h;
    this.updateReadback();
    h.set('DVAL', h.num('DRBV'));
    h.set('VAL', h.num('RBV'));
    h.set('RVAL', h.num('RRBV'));
    h.set('LVAL', h.num('VAL'));
    h.set('LDVL', h.num('DVAL'));
    h.set('LRVL', h.num('RVAL'));
  }

  private spmgChanged(): boolean {
    const h = this.h;
    const spmg = h.num('SPMG');
    const last = h.num('LSPG');
    h.set('LSPG', spmg);
    if (spmg === SPMG_STOP) {
      this.halt(true);
      return false;
    }
    if (spmg === SPMG_PAUSE) {
      this.halt(false);
      return false;
    }
    // Move or Go: resume towards DVAL when not there.
    if (last === SPMG_STOP || last === SPMG_PAUSE || spmg === SPMG_MOVE) {
      const moved = this.startMove(h.num('DVAL'), 'move');
      if (!moved && spmg === SPMG_MOVE) {
        h.set('SPMG', SPMG_PAUSE);
        h.set('LSPG', SPMG_PAUSE);
      }
      return moved;
    }
    return false;
  }

  private startHome(forward: boolean): boolean {
    const h = this.h;
    if (h.num('SPMG') === SPMG_STOP || h.num('SPMG') === SPMG_PAUSE) {
      h.set(forward ? 'HOMF' : 'HOMR', 0);
      return false;
    }
    h.set('ATHM', 0);
    // The home switch is at dial 0; a home search from there still completes at once.
    if (!this.startMove(0, 'home')) {
      this.kind = 'home';
      this.finish();
      return false;
    }
    return true;
  }

  private startJog(forward: boolean): boolean {
    const h = this.h;
    if (h.num('SPMG') !== SPMG_GO) {
      h.set(forward ? 'JOGF' : 'JOGR', 0);
      return false;
    }
    const mres = this.mres;
    // Jog towards the soft limit (or hard limit, or far away) at JVEL.
    const dialDir = (forward ? 1 : -1) * this.dirSign;
    let end: number;
    if (this.softLimitsOn()) end = dialDir > 0 ? h.num('DHLM') : h.num('DLLM');
    else if (dialDir > 0) end = this.opts.hardHigh ?? this.raw * mres + 1e9 * Math.abs(mres);
    else end = this.opts.hardLow ?? this.raw * mres - 1e9 * Math.abs(mres);
    const jvel = h.num('JVEL') || h.num('VELO');
    const saveVelo = h.num('VELO');
    h.set('VELO', jvel);
    const moved = this.startMove(end, 'jog');
    h.set('VELO', saveVelo);
    if (!moved) h.set(forward ? 'JOGF' : 'JOGR', 0);
    return moved;
  }

  // --- limits, speeds, readback

  private userLimitsFromDial(): void {
    const h = this.h;
    const off = h.num('OFF');
    const dhlm = h.num('DHLM');
    const dllm = h.num('DLLM');
    if (this.dirSign > 0) {
      h.set('HLM', dhlm + off);
      h.set('LLM', dllm + off);
    } else {
      h.set('HLM', -dllm + off);
      h.set('LLM', -dhlm + off);
    }
    const mres = this.mres;
    h.set('RHLM', (mres > 0 ? dhlm : dllm) / mres);
    h.set('RLLM', (mres > 0 ? dllm : dhlm) / mres);
  }

  private dialLimitsFromUser(field: 'HLM' | 'LLM'): void {
    const h = this.h;
    const off = h.num('OFF');
    const v = h.num(field);
    if (this.dirSign > 0) h.set(field === 'HLM' ? 'DHLM' : 'DLLM', v - off);
    else h.set(field === 'HLM' ? 'DLLM' : 'DHLM', off - v);
    this.userLimitsFromDial();
    const dval = h.num('DVAL');
    h.set('LVIO', this.softLimitsOn() && (dval > h.num('DHLM') || dval < h.num('DLLM')) ? 1 : 0);
  }

  /** check_speed_and_resolution() at init. */
  private checkSpeedAndResolution(): void {
    const h = this.h;
    if (h.num('SREV') <= 0) h.set('SREV', 200);
    if (h.num('UREV') !== 0) h.set('MRES', h.num('UREV') / h.num('SREV'));
    if (h.num('MRES') === 0) h.set('MRES', 1);
    h.set('UREV', h.num('MRES') * h.num('SREV'));
    const urev = Math.abs(h.num('UREV'));
    if (h.num('SMAX') > 0) h.set('VMAX', h.num('SMAX') * urev);
    else if (h.num('VMAX') > 0) h.set('SMAX', h.num('VMAX') / urev);
    if (h.num('SBAS') !== 0) h.set('VBAS', h.num('SBAS') * urev);
    else h.set('SBAS', h.num('VBAS') / urev);
    if (h.num('S') !== 0) h.set('VELO', h.num('S') * urev);
    this.clampVelo();
    h.set('S', h.num('VELO') / urev);
  }

  private clampVelo(): void {
    const h = this.h;
    let v = h.num('VELO');
    const vmax = h.num('VMAX');
    if (vmax > 0 && v > vmax) v = vmax;
    if (v < h.num('VBAS')) v = h.num('VBAS');
    h.set('VELO', v);
  }

  private speedOrResolutionChanged(field: string): void {
    const h = this.h;
    switch (field) {
      case 'MRES':
        if (h.num('MRES') === 0) h.set('MRES', 1);
        h.set('UREV', h.num('MRES') * h.num('SREV'));
        break;
      case 'UREV':
        h.set('MRES', h.num('UREV') / h.num('SREV') || 1);
        break;
      case 'SREV':
        if (h.num('SREV') <= 0) h.set('SREV', 200);
        h.set('MRES', h.num('UREV') / h.num('SREV') || 1);
        break;
    }
    const urev = Math.abs(h.num('UREV')) || 1;
    switch (field) {
      case 'S':
        h.set('VELO', h.num('S') * urev);
        break;
      case 'SBAS':
        h.set('VBAS', h.num('SBAS') * urev);
        break;
      case 'SMAX':
        h.set('VMAX', h.num('SMAX') * urev);
        break;
    }
    this.clampVelo();
    h.set('S', h.num('VELO') / urev);
    h.set('SBAS', h.num('VBAS') / urev);
    h.set('SMAX', h.num('VMAX') / urev);
    if (field === 'MRES' || field === 'UREV' || field === 'SREV') {
      // The controller keeps its step count: the dial readback rescales, the target follows it.
      this.userLimitsFromDial();
      if (!this.profile) this.syncTargetsToReadback();
    }
  }

  private updateReadback(): void {
    const h = this.h;
    const mres = this.mres;
    const raw = this.profile ? this.currentRaw() : this.raw;
    const rmp = Math.round(raw);
    const eres = h.num('ERES') || mres;
    const rep = Math.round((raw * mres) / eres);
    const useEnc = h.num('UEIP') === 1;
    const drbv = useEnc ? rep * eres : rmp * mres;
    const rrbv = useEnc ? Math.round(drbv / mres) : rmp;
    const prevDrbv = h.num('DRBV');
    h.set('RMP', rmp);
    h.set('REP', rep);
    h.set('RRBV', rrbv);
    h.set('DRBV', drbv);
    h.set('RBV', this.userFromDial(drbv));
    const diff = drbv - h.num('DVAL');
    h.set('DIFF', diff);
    h.set('RDIF', Math.round(diff / mres));
    if (drbv !== prevDrbv) h.set('TDIR', drbv > prevDrbv === mres > 0 ? 1 : 0);
    const moving = this.profile !== undefined;
    h.set('RVEL', moving ? Math.round(this.profile!.sign * this.profile!.vp) : 0);
    const hh = this.opts.hardHigh;
    const hl = this.opts.hardLow;
    const dial = rmp * mres;
    const rhls = hh !== undefined && dial >= hh - Math.abs(mres) / 2 ? 1 : 0;
    const rlls = hl !== undefined && dial <= hl + Math.abs(mres) / 2 ? 1 : 0;
    // raw limit switches are in motor (step) direction; HLS/LLS in user direction
    const plusLs = mres > 0 ? rhls : rlls;
    const minusLs = mres > 0 ? rlls : rhls;
    h.set('RHLS', plusLs);
    h.set('RLLS', minusLs);
    const userPos = this.dirSign * (mres > 0 ? 1 : -1) > 0;
    h.set('HLS', userPos ? plusLs : minusLs);
    h.set('LLS', userPos ? minusLs : plusLs);
    let msta = MSTA.GAIN_SUPPORT;
    if (h.num('TDIR')) msta |= MSTA.DIRECTION;
    if (!moving) msta |= MSTA.DONE;
    else msta |= MSTA.MOVING;
    if (plusLs) msta |= MSTA.PLUS_LS;
    if (minusLs) msta |= MSTA.MINUS_LS;
    if (rmp === 0) msta |= MSTA.HOME;
    if (this.homed) msta |= MSTA.HOMED;
    if (useEnc) msta |= MSTA.PRESENT;
    h.set('MSTA', msta);
    if (h.num('HLS') || h.num('LLS')) h.setAlarm(AlarmStatus.HWLIMIT, h.num('HLSV'));
  }
}

// ---------------------------------------------------------------------------------------------
// The motor record type

/** DTYP choices known up front; any other DTYP from a .db file is added (and simulated). */
export const MOTOR_DEVICE_TYPES: string[] = [
  'Soft Channel',
  'asynMotor',
  'Motor Simulation',
  'OMS MAXv',
  'OMS VME58',
];

/** Let a record type accept any DTYP: unknown names join the type's device list. */
function acceptAnyDtyp(list: string[], fd: FieldDef, text: string): void {
  if (fd.dbf === 'DEVICE' && text !== '' && !list.includes(text)) list.push(text);
}

export class MotorRecord extends SimRecord {
  protected createSimulation(): RecordSimulation {
    // Simulated hard limit switches sit 10% of the travel range beyond the soft limits.
    const dh = this.num('DHLM');
    const dl = this.num('DLLM');
    const opts: MotorSimOptions = {};
    if (!(dh === 0 && dl === 0) && dh > dl) {
      const margin = 0.1 * (dh - dl);
      opts.hardHigh = dh + margin;
      opts.hardLow = dl - margin;
    }
    return new MotorSim(this, opts);
  }
  override loadField(fd: FieldDef, text: string): void {
    acceptAnyDtyp(MOTOR_DEVICE_TYPES, fd, text);
    super.loadField(fd, text);
  }
  override meta(fd: FieldDef): FieldMeta {
    const m = super.meta(fd);
    const lim = motorLimitsFor(this, fd.name);
    if (lim && m.limits) {
      m.limits = {
        ...m.limits,
        upperDispLimit: lim.upper,
        lowerDispLimit: lim.lower,
        upperCtrlLimit: lim.upper,
        lowerCtrlLimit: lim.lower,
      };
    }
    if (lim || POSITION_FIELDS.has(fd.name)) m.units = this.str('EGU');
    return m;
  }
}

const POSITION_FIELDS = new Set(['RBV', 'DRBV', 'OFF', 'TWV', 'RLV', 'DIFF', 'BDST', 'RDBD', 'SPDB']);

export const motorRecordType: RecordTypeDef = defineRecordType(
  'motor',
  MOTOR_SPEC,
  MotorRecord,
  MOTOR_DEVICE_TYPES,
);
