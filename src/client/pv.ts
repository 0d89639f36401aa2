/**
 * The PV object (pyepics' epics.PV in camelCase, asynchronous): automatic connection and monitoring,
 * cached value and metadata, callbacks with pyepics' keyword set, put with pyepics' conversions,
 * `monitor()` as an async iterator, and the PV.info report.
 *
 * The C printf-compatible number formatting (%e, %f, %g, glibc rounding) is in protocol/printf.ts
 * and re-exported here: pyepics' char_value is `'%.{prec}f' % v`; the catools (src/cli/format.ts)
 * use the same code.
 */
import { ALARM_STATUS_NAMES, DBE, ECA, EPICS_EPOCH_OFFSET, SEVERITY_NAMES } from '../protocol/constants.js';
import type { NativeType } from '../protocol/constants.js';
import type { DbrData, NativeArray } from '../protocol/values.js';
import type { Channel, GetResult, Subscription } from './channel.js';
import { defaultContext } from './context.js';
import type { Context } from './context.js';
import { CaError, DisconnectedError, NotFoundError, TimeoutError } from './errors.js';
import { toNativeArray } from './put-value.js';
import { expSuffix, fixedFromDigits, formatFixed, formatGeneral, splitExp } from '../protocol/printf.js';

// C printf-compatible formatting lives in protocol/printf.ts; re-exported here for existing importers.
export { formatDouble, formatExp, formatFixed, formatGeneral } from '../protocol/printf.js';
export type { DoubleFormat } from '../protocol/printf.js';

// =================================================================================================
// The PV class (pyepics' epics.PV in camelCase, asynchronous)
// =================================================================================================

/** Arrays with this many elements or more are not monitored automatically (fetched on demand). */
export const AUTOMONITOR_LENGTH = 65536;
/** Default seconds to wait for a connection (pyepics' ca.DEFAULT_CONNECTION_TIMEOUT). */
export const DEFAULT_CONNECTION_TIMEOUT = 2.0;
/** DBE_VALUE | DBE_ALARM. */
export const DEFAULT_SUBSCRIPTION_MASK = DBE.VALUE | DBE.ALARM;

export type PVForm = 'native' | 'time' | 'ctrl';

/** A PV value: number (scalars), string (STRING scalars), typed array or string[] (arrays). */
export type PVValue = number | string | string[] | Exclude<NativeArray, string[]>;

/** Everything known about a PV, as pyepics' callback keywords in camelCase. */
export interface PVData {
  pvname: string;
  value: PVValue | undefined;
  /** String form of the value (pyepics' char_value). */
  charValue: string | string[] | undefined;
  status: number | undefined;
  severity: number | undefined;
  /** DBR type code of the PV's requests (20 = TIME_DOUBLE for form 'time'). */
  ftype: number;
  /** Lower-case DBR type name ('time_double'). */
  type: string;
  typefull: string;
  /** Client channel id. */
  chid: number;
  host: string;
  /** Elements in this update (current length). */
  count: number;
  /** Native element count. */
  nelm: number;
  /** 'read/write' | 'read-only' | 'write-only' | 'no access'. */
  access: string;
  accessString: string;
  readAccess: boolean;
  writeAccess: boolean;
  /** POSIX seconds (µs resolution); client time for forms 'native' and 'ctrl'. */
  timestamp: number | undefined;
  posixseconds: number | undefined;
  nanoseconds: number | undefined;
  precision: number | undefined;
  units: string | undefined;
  enumStrs: string[] | undefined;
  monitorDelta: number | undefined;
  upperDispLimit: number | undefined;
  lowerDispLimit: number | undefined;
  upperAlarmLimit: number | undefined;
  lowerAlarmLimit: number | undefined;
  upperWarningLimit: number | undefined;
  lowerWarningLimit: number | undefined;
  upperCtrlLimit: number | undefined;
  lowerCtrlLimit: number | undefined;
}

/** What a value callback receives: PVData + the PV, the underlying channel, cbInfo and user keywords. */
export interface PVCallbackArgs extends PVData {
  pv: PV;
  channel: Channel;
  /** [callback index, pv]. */
  cbInfo: [number | string, PV];
  [key: string]: unknown;
}

export type PVCallback = (args: PVCallbackArgs) => void;
export type ConnectionCallback = (args: { pvname: string; conn: boolean; pv: PV }) => void;
export type AccessCallback = (args: {
  pvname: string;
  readAccess: boolean;
  writeAccess: boolean;
  pv: PV;
}) => void;

export interface PVOptions {
  callback?: PVCallback | PVCallback[];
  /** 'time' (default): DBR_TIME requests; 'ctrl': DBR_CTRL; 'native': plain. */
  form?: PVForm;
  /** undefined: monitor when count < AUTOMONITOR_LENGTH; false: never; true: mask VALUE|ALARM; a number: that mask. */
  autoMonitor?: boolean | number;
  /** Cap on the element count of gets and of the subscription. */
  count?: number;
  connectionCallback?: ConnectionCallback;
  /** Seconds (default 2). */
  connectionTimeout?: number;
  accessCallback?: AccessCallback;
  context?: Context;
  /** pyepics' monitor_delta (kept and reported; not applied, as in pyepics). */
  monitorDelta?: number;
}

export interface PVGetOptions {
  /** Return the string form (charValue). */
  asString?: boolean;
  /** Elements to read (default: the PV's count cap, else the current length). */
  count?: number;
  /** Use the monitored value when there is one (default true). */
  useMonitor?: boolean;
  /** Seconds to wait (connection and read). */
  timeout?: number;
  /** Fetch control metadata first (getWithMetadata includes it). */
  withCtrlvars?: boolean;
  /** One-off request form. */
  form?: PVForm;
}

/** getWithMetadata's result: the value (or its string form) and the metadata of the read. */
export type PVGetResult = Omit<Partial<PVData>, 'value'> & { value: PVValue | string | string[] | undefined };

export interface PVPutOptions {
  /** Wait for completion (put-callback). */
  wait?: boolean;
  /** Seconds (default 30). */
  timeout?: number;
  /** Called as callback({pvname, ...callbackData}) on completion (put-callback in the background). */
  callback?: (args: { pvname: string; [key: string]: unknown }) => void;
  callbackData?: unknown;
  /** Track completion in pv.putComplete. */
  useComplete?: boolean;
}

export interface AddCallbackOptions {
  index?: number | string;
  /** Fetch control metadata (precision, enum strings) first (default true). */
  withCtrlvars?: boolean;
  /** Run the callback at once with the current data when connected. */
  runNow?: boolean;
  /** Extra keywords passed to the callback. */
  [key: string]: unknown;
}

const TYPE_NAMES = ['string', 'int', 'float', 'enum', 'char', 'long', 'double'];
const TIME_NAMES = [
  'time_string',
  'time_short',
  'time_float',
  'time_enum',
  'time_char',
  'time_long',
  'time_double',
];
const CTRL_NAMES = [
  'ctrl_string',
  'ctrl_short',
  'ctrl_float',
  'ctrl_enum',
  'ctrl_char',
  'ctrl_long',
  'ctrl_double',
];

/** pyepics' dbr.Name(ftype).lower(): 'double', 'time_double', 'ctrl_enum' ... */
export function dbrTypeName(ftype: number): string {
  if (ftype >= 0 && ftype <= 6) return TYPE_NAMES[ftype];
  if (ftype >= 14 && ftype <= 20) return TIME_NAMES[ftype - 14];
  if (ftype >= 28 && ftype <= 34) return CTRL_NAMES[ftype - 28];
  return 'unknown';
}

/** promote_fieldtype: the request type for a form (CTRL_STRING is served as TIME_STRING). */
export function promoteType(native: number, form: PVForm): number {
  if (native < 0) return native;
  if (form === 'time') return native + 14;
  if (form === 'ctrl') return native === 0 ? 14 : native + 28;
  return native;
}

function accessText(r: boolean, w: boolean): string {
  return ['no access', 'read-only', 'write-only', 'read/write'][(r ? 1 : 0) + (w ? 2 : 0)];
}

/** Python's repr() of a float. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [d, e] = splitExp(Math.abs(x).toExponential());
  if (e < -4 || e >= 16) {
    return sign + d[0] + (d.length > 1 ? '.' + d.slice(1) : '') + expSuffix(e);
  }
  const s = fixedFromDigits(d, e, Math.max(0, d.length - 1 - e));
  return sign + (s.includes('.') ? s : s + '.0');
}

/** pyepics' char_value of a double: '%.{prec}f', or '%.{prec}g' for magnitudes beyond 1e±5. */
export function floatCharValue(v: number, precision: number | undefined): string {
  if (precision === undefined || precision === null || !Number.isFinite(precision)) return pyFloatRepr(v);
  const p = Math.max(0, Math.trunc(precision));
  let big = false;
  const l = Math.log10(Math.abs(v + 1e-9));
  if (Number.isFinite(l)) big = Math.abs(Math.trunc(l)) > 4;
  return big ? formatGeneral(v, p) : formatFixed(v, p);
}

interface Cb {
  fn: PVCallback;
  kw: Record<string, unknown>;
  withCtrlvars: boolean;
}

function emptyData(pvname: string): PVData {
  return {
    pvname,
    value: undefined,
    charValue: undefined,
    status: undefined,
    severity: undefined,
    ftype: -1,
    type: 'unknown',
    typefull: 'unknown',
    chid: 0,
    host: '',
    count: 0,
    nelm: 0,
    access: 'no access',
    accessString: 'no access',
    readAccess: false,
    writeAccess: false,
    timestamp: undefined,
    posixseconds: undefined,
    nanoseconds: undefined,
    precision: undefined,
    units: undefined,
    enumStrs: undefined,
    monitorDelta: undefined,
    upperDispLimit: undefined,
    lowerDispLimit: undefined,
    upperAlarmLimit: undefined,
    lowerAlarmLimit: undefined,
    upperWarningLimit: undefined,
    lowerWarningLimit: undefined,
    upperCtrlLimit: undefined,
    lowerCtrlLimit: undefined,
  };
}

const LIMIT_KEYS = [
  'upperDispLimit',
  'lowerDispLimit',
  'upperAlarmLimit',
  'lowerAlarmLimit',
  'upperWarningLimit',
  'lowerWarningLimit',
  'upperCtrlLimit',
  'lowerCtrlLimit',
] as const;

/** An iterator over the updates of a PV (see PV.monitor()). */
export interface PVMonitorOptions {
  /** Updates kept while the consumer is busy; older ones are dropped (default 1: latest wins). */
  queueSize?: number;
  /** Start with the current value when one is known (default true). */
  current?: boolean;
  signal?: AbortSignal;
}

/**
 * A process variable, as pyepics' PV: connects and (for arrays under AUTOMONITOR_LENGTH elements)
 * monitors automatically, caches value and metadata, runs callbacks on updates.
 *
 * Differences from pyepics, for an asynchronous language: properties are synchronous and return what
 * is cached (`undefined` until known) instead of blocking for a read; `get`, `put`, `getCtrlVars` ...
 * return promises and reject with typed errors (NotFoundError, TimeoutError, AccessError, PutError,
 * GetError) instead of returning None / -1.
 */
export class PV {
  readonly pvname: string;
  readonly form: PVForm;
  readonly context: Context;
  connectionTimeout: number;
  /** put completion state: undefined (not tracked), false (pending), true (done). */
  putComplete: boolean | undefined;
  private ch: Channel;
  private userCount: number | undefined;
  private autoMonitorSetting: boolean | number | undefined;
  private sub: Subscription | undefined;
  private subMask = 0;
  private data: PVData;
  /** Value callbacks by index (created on first use, dropped when cleared: memory per PV). */
  private callbacks: Map<number | string, Cb> | undefined;
  readonly connectionCallbacks: ConnectionCallback[] = [];
  readonly accessCallbacks: AccessCallback[] = [];
  private _connected = false;
  private ctrlLoaded = false;
  private ctrlPending: Promise<void> | undefined;
  /** monitor() iterators listening (created on first use). */
  private monitors: Set<(d: PVCallbackArgs) => void> | undefined;
  private closed = false;

  constructor(pvname: string, opts: PVOptions = {}) {
    if (typeof pvname !== 'string') throw new CaError('a PV name must be a string', { eca: ECA.BADSTR });
    this.pvname = pvname.trim();
    const form = (opts.form ?? 'time').toLowerCase() as PVForm;
    if (form !== 'native' && form !== 'time' && form !== 'ctrl') {
      throw new CaError(`invalid form '${String(opts.form)}' (native, time or ctrl)`, {
        pvname: this.pvname,
      });
    }
    this.form = form;
    this.context = opts.context ?? defaultContext();
    this.connectionTimeout = opts.connectionTimeout ?? DEFAULT_CONNECTION_TIMEOUT;
    if (opts.count !== undefined && !(Number.isInteger(opts.count) && opts.count >= 0)) {
      throw new CaError(`invalid count ${opts.count}`, { eca: ECA.BADCOUNT, pvname: this.pvname });
    }
    this.userCount = opts.count || undefined;
    this.autoMonitorSetting = opts.autoMonitor;
    this.data = emptyData(this.pvname);
    this.data.monitorDelta = opts.monitorDelta;
    const cbs =
      opts.callback === undefined ? [] : Array.isArray(opts.callback) ? opts.callback : [opts.callback];
    if (cbs.length > 0) {
      const m = (this.callbacks = new Map());
      cbs.forEach((fn, i) => m.set(i, { fn, kw: {}, withCtrlvars: false }));
    }
    if (opts.connectionCallback) this.connectionCallbacks.push(opts.connectionCallback);
    if (opts.accessCallback) this.accessCallbacks.push(opts.accessCallback);
    this.ch = this.openChannel();
  }

  private openChannel(): Channel {
    const ch = this.context.channel(this.pvname);
    this.data.chid = ch.cid;
    ch._observer = this;
    if (ch.connected) queueMicrotask(() => this.onConnection(true));
    return ch;
  }

  // ------------------------------------------------------------------ connection handling

  /** @internal (ChannelObserver) */
  _channelConnection(up: boolean): void {
    this.onConnection(up);
  }

  /** @internal (ChannelObserver) */
  _channelAccess(read: boolean, write: boolean): void {
    this.onAccess(read, write);
  }

  /** Stop hearing from the current channel. */
  private detachChannel(): void {
    if (this.ch._observer === this) this.ch._observer = undefined;
  }

  private onConnection(up: boolean): void {
    if (this.closed || up === this._connected) return;
    const ch = this.ch;
    if (up) {
      const native = ch.nativeType;
      const nelm = ch.elementCount;
      this.data.nelm = nelm;
      this.data.count = Math.min(nelm, this.userCount ?? nelm);
      this.data.host = ch.host;
      this.data.ftype = promoteType(native, this.form);
      this.data.type = this.data.typefull = dbrTypeName(this.data.ftype);
      this.data.chid = ch.cid;
    }
    for (const cb of [...this.connectionCallbacks])
      this.safe(() => cb({ pvname: this.pvname, conn: up, pv: this }));
    this._connected = up;
    if (up) {
      this.onAccess(ch.readAccess, ch.writeAccess, true);
      void this.checkAutoMonitor();
    } else {
      this.onAccess(false, false, true);
    }
  }

  private onAccess(r: boolean, w: boolean, quiet = false): void {
    const changed = r !== this.data.readAccess || w !== this.data.writeAccess;
    this.data.readAccess = r;
    this.data.writeAccess = w;
    this.data.access = this.data.accessString = accessText(r, w);
    if (quiet && !changed) return;
    for (const cb of [...this.accessCallbacks])
      this.safe(() => cb({ pvname: this.pvname, readAccess: r, writeAccess: w, pv: this }));
  }

  private safe(f: () => void): void {
    try {
      f();
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }

  /** The subscription mask auto-monitoring uses now (0: not monitored). */
  private wantedMask(): number {
    const s = this.autoMonitorSetting;
    if (s === false) return 0;
    if (s === true) return DEFAULT_SUBSCRIPTION_MASK;
    if (typeof s === 'number') return s;
    return this.data.count < AUTOMONITOR_LENGTH ? DEFAULT_SUBSCRIPTION_MASK : 0;
  }

  private async checkAutoMonitor(): Promise<void> {
    if (!this._connected || this.closed) return;
    const mask = this.wantedMask();
    if (this.autoMonitorSetting === undefined) this.autoMonitorSetting = mask !== 0;
    if (mask === this.subMask && this.sub) return;
    this.sub?.clear();
    this.sub = undefined;
    this.subMask = mask;
    if (!mask) return;
    if (this.callbacks && [...this.callbacks.values()].some((c) => c.withCtrlvars) && !this.ctrlLoaded) {
      await this.getCtrlVars().catch(() => undefined);
      if (!this._connected || this.closed || this.sub || this.subMask !== mask) return;
    }
    this.sub = this.ch.subscribe({ dbrType: this.data.ftype, count: this.userCount ?? 0, mask }, (d) =>
      this.onMonitor(d),
    );
  }

  /** Whether the PV is monitored (true / a mask) or fetched on demand (false). */
  get autoMonitor(): boolean | number | undefined {
    return this.autoMonitorSetting;
  }

  set autoMonitor(v: boolean | number | undefined) {
    this.autoMonitorSetting = v;
    if (!v) {
      this.sub?.clear();
      this.sub = undefined;
      this.subMask = 0;
    }
    void this.checkAutoMonitor();
  }

  /** Stop monitoring (callbacks are kept). */
  clearAutoMonitor(): void {
    this.autoMonitor = false;
  }

  // ------------------------------------------------------------------ data

  private merge(d: GetResult, ftype: number, clientStamp: boolean): void {
    const a = this.data;
    a.value = this.shape(d.value);
    a.count = d.count;
    if (d.status !== undefined) a.status = d.status;
    if (d.severity !== undefined) a.severity = d.severity;
    if (d.stamp) {
      const secs = d.stamp.secPastEpoch + EPICS_EPOCH_OFFSET;
      a.posixseconds = secs;
      a.nanoseconds = d.stamp.nsec;
      a.timestamp = secs + 1e-6 * Math.floor(d.stamp.nsec / 1000);
    } else if (clientStamp) {
      a.timestamp = Date.now() / 1000;
      a.posixseconds = 0;
      a.nanoseconds = 0;
    }
    this.mergeMeta(d);
    void ftype;
  }

  private mergeMeta(d: DbrData): void {
    const a = this.data;
    if (d.units !== undefined) a.units = d.units;
    if (d.precision !== undefined) a.precision = d.precision;
    if (d.enumStrs !== undefined) a.enumStrs = [...d.enumStrs];
    for (const k of LIMIT_KEYS) if (d[k] !== undefined) a[k] = d[k];
  }

  /** A NativeArray as the PV's value: scalar for one-element channels, the array otherwise. */
  private shape(v: NativeArray): PVValue {
    if (this.data.nelm > 1) return v as PVValue;
    if (Array.isArray(v)) return v[0] ?? '';
    return v.length ? v[0] : 0;
  }

  /** char_value from the cached data (no network). */
  private computeCharValue(asString = false): string | string[] | undefined {
    const a = this.data;
    const v = a.value;
    if (v === undefined) return 'None';
    const native = this.ch.nativeType;
    if (native === 0) return v as string | string[];
    const n = typeof v === 'number' ? 1 : (v as ArrayLike<unknown>).length;
    if (native === 4 && (a.count < AUTOMONITOR_LENGTH || asString)) {
      const bytes = typeof v === 'number' ? Uint8Array.of(v) : (v as Uint8Array);
      let end = bytes.indexOf(0);
      if (end < 0) end = bytes.length;
      return Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('utf8').trimEnd();
    }
    if (this.data.nelm > 1 || n > 1) return `<array size=${n}, type=${a.type}>`;
    const x = typeof v === 'number' ? v : Number((v as ArrayLike<number>)[0]);
    if (native === 2 || native === 6) return floatCharValue(x, a.precision);
    if (native === 3) return a.enumStrs && x < a.enumStrs.length ? a.enumStrs[x] : String(x);
    return String(x);
  }

  private onMonitor(d: GetResult): void {
    if (this.closed) return;
    this.merge(d, d.dbrType, this.form !== 'time');
    this.data.charValue = this.computeCharValue();
    this.runCallbacks();
  }

  // ------------------------------------------------------------------ connection API

  /** Resolves true once connected, false when `timeout` (default connectionTimeout) passes first. */
  async waitForConnection(timeout: number = this.connectionTimeout): Promise<boolean> {
    if (this._connected) return true;
    try {
      await this.ch.waitForConnection(timeout);
      // the connection handler runs in the same turn; let it finish
      if (!this._connected) this.onConnection(true);
      return true;
    } catch {
      return false;
    }
  }

  private async ensureConnected(timeout?: number): Promise<void> {
    if (this._connected) return;
    if (this.closed)
      throw new DisconnectedError(`PV '${this.pvname}' was disconnected`, { pvname: this.pvname });
    const t = timeout ?? this.connectionTimeout;
    try {
      await this.ch.waitForConnection(t);
    } catch (err) {
      if (err instanceof TimeoutError) throw err;
      throw new NotFoundError(`'${this.pvname}' did not connect within ${t} s`, {
        pvname: this.pvname,
        cause: err,
      });
    }
    if (!this._connected) this.onConnection(true);
  }

  get connected(): boolean {
    return this._connected;
  }

  /** The underlying CA channel. */
  get channel(): Channel {
    return this.ch;
  }

  /** Stop: cancel the subscription, clear every callback, close the channel. `reconnect()` brings it back. */
  disconnect(): void {
    if (this.closed) return;
    this._connected = false;
    this.closed = true;
    this.sub?.clear();
    this.sub = undefined;
    this.subMask = 0;
    this.callbacks = undefined;
    this.connectionCallbacks.length = 0;
    this.accessCallbacks.length = 0;
    this.detachChannel();
    this.ch.close();
    const md = this.data.monitorDelta;
    this.data = emptyData(this.pvname);
    this.data.monitorDelta = md;
    this.ctrlLoaded = false;
    if (this.monitors) for (const m of [...this.monitors]) m(undefined as unknown as PVCallbackArgs);
  }

  /** Open a new channel after disconnect() (or force a fresh connection); resolves whether it connected. */
  async reconnect(timeout?: number): Promise<boolean> {
    if (!this.closed) {
      this.sub?.clear();
      this.sub = undefined;
      this.subMask = 0;
      this.detachChannel();
      this.ch.close();
    }
    this.closed = false;
    this._connected = false;
    this.ch = this.openChannel();
    return this.waitForConnection(timeout);
  }

  // ------------------------------------------------------------------ get / put

  /** Read the value (the monitored one when available). Rejects NotFoundError / TimeoutError / GetError. */
  async get(opts: PVGetOptions = {}): Promise<PVValue | string | string[] | undefined> {
    const d = await this.getWithMetadata(opts);
    return d.value as PVValue | string | string[] | undefined;
  }

  /** Read the value with its metadata (pyepics' get_with_metadata). */
  async getWithMetadata(opts: PVGetOptions = {}): Promise<PVGetResult> {
    await this.ensureConnected(opts.timeout);
    if (opts.withCtrlvars || (opts.asString && !this.ctrlLoaded && this.ch.nativeType !== 0)) {
      await this.getCtrlVars(opts.timeout);
    }
    const ftype = opts.form ? promoteType(this.ch.nativeType, opts.form) : this.data.ftype;
    const useMonitor = opts.useMonitor ?? true;
    const cachedOk =
      useMonitor &&
      this.sub !== undefined &&
      ftype === this.data.ftype &&
      this.data.value !== undefined &&
      !(opts.count !== undefined && opts.count > this.data.count);
    let result: PVGetResult;
    if (cachedOk) {
      result = { ...this.data };
    } else {
      let count = opts.count ?? this.userCount ?? 0;
      if (count > this.data.nelm) count = this.data.nelm;
      const r = await this.ch.get({ dbrType: ftype, count, timeout: opts.timeout });
      this.merge(r, ftype, false);
      result = { value: this.data.value, status: r.status, severity: r.severity };
      if (r.stamp) {
        result.timestamp = this.data.timestamp;
        result.posixseconds = this.data.posixseconds;
        result.nanoseconds = this.data.nanoseconds;
      }
      if (r.units !== undefined) result.units = r.units;
      if (r.precision !== undefined) result.precision = r.precision;
      if (r.enumStrs !== undefined) result.enumStrs = [...r.enumStrs];
      for (const k of LIMIT_KEYS) if (r[k] !== undefined) result[k] = r[k];
      if (opts.withCtrlvars) result = { ...this.data, ...result };
    }
    if (opts.asString) {
      result.value = this.computeCharValue(true);
    } else if (this.data.nelm > 1 && opts.count !== undefined && result.value !== undefined) {
      const v = result.value as ArrayLike<unknown> & { slice(a: number, b: number): PVValue };
      if (v.length > opts.count) result.value = v.slice(0, opts.count);
    }
    return result;
  }

  /**
   * Write a value (pyepics' rules: enum state strings to indices, strings to char arrays, numbers
   * parsed from strings). `wait`: resolve on completion. Rejects NotFoundError, AccessError, PutError,
   * TimeoutError (wait), CaError (a value that cannot be converted).
   */
  async put(value: unknown, opts: PVPutOptions = {}): Promise<void> {
    await this.ensureConnected();
    const native = this.ch.nativeType as NativeType;
    if (native === 3 && typeof value === 'string' && !this.data.enumStrs)
      await this.getCtrlVars().catch(() => undefined);
    const pv = toNativeArray(value, native, {
      enumStrs: this.data.enumStrs,
      elementCount: this.ch.elementCount,
    });
    const timeout = opts.timeout ?? 30;
    const track = opts.useComplete || opts.callback !== undefined;
    if (!opts.wait && !track) {
      this.putComplete = undefined;
      await this.ch.put(pv.value, { dbrType: pv.dbrType, wait: false });
      return;
    }
    this.putComplete = false;
    const done = this.ch.put(pv.value, { dbrType: pv.dbrType, wait: true, timeout }).then(() => {
      this.putComplete = true;
      if (opts.callback) {
        const data = opts.callbackData;
        const args =
          data !== null && typeof data === 'object' && !Array.isArray(data)
            ? { pvname: this.pvname, ...(data as Record<string, unknown>) }
            : { pvname: this.pvname, data };
        this.safe(() => opts.callback!(args));
      }
    });
    if (opts.wait) return done;
    done.catch(() => undefined); // completion failures surface through putComplete staying false
  }

  /** Fetch the control metadata (units, precision, limits, enum strings) and merge it. */
  async getCtrlVars(timeout = 5): Promise<Partial<PVData>> {
    await this.ensureConnected(timeout);
    if (this.ctrlPending) {
      await this.ctrlPending;
      return this.ctrlSnapshot();
    }
    const native = this.ch.nativeType;
    const p = this.ch.get({ dbrType: native === 0 ? 14 : native + 28, count: 1, timeout }).then((r) => {
      this.mergeMeta(r);
      if (r.status !== undefined) this.data.status = r.status;
      if (r.severity !== undefined) this.data.severity = r.severity;
      if (native === 0 && r.stamp) this.applyStamp(r);
      this.ctrlLoaded = true;
      if (this.data.value !== undefined) this.data.charValue = this.computeCharValue();
    });
    this.ctrlPending = p;
    try {
      await p;
    } finally {
      this.ctrlPending = undefined;
    }
    return this.ctrlSnapshot();
  }

  private applyStamp(r: DbrData): void {
    if (!r.stamp) return;
    const secs = r.stamp.secPastEpoch + EPICS_EPOCH_OFFSET;
    this.data.posixseconds = secs;
    this.data.nanoseconds = r.stamp.nsec;
    this.data.timestamp = secs + 1e-6 * Math.floor(r.stamp.nsec / 1000);
  }

  private ctrlSnapshot(): Partial<PVData> {
    const a = this.data;
    const out: Partial<PVData> = { status: a.status, severity: a.severity };
    const native = this.ch.nativeType;
    if (native === 3) out.enumStrs = a.enumStrs;
    else if (native === 0) {
      out.timestamp = a.timestamp;
      out.posixseconds = a.posixseconds;
      out.nanoseconds = a.nanoseconds;
    } else {
      out.units = a.units;
      if (native === 2 || native === 6) out.precision = a.precision;
      for (const k of LIMIT_KEYS) out[k] = a[k];
    }
    return out;
  }

  /** Fetch status, severity and time stamp (DBR_TIME) and merge them. */
  async getTimeVars(timeout = 5): Promise<Partial<PVData>> {
    await this.ensureConnected(timeout);
    const r = await this.ch.get({ dbrType: this.ch.nativeType + 14, count: 1, timeout });
    if (r.status !== undefined) this.data.status = r.status;
    if (r.severity !== undefined) this.data.severity = r.severity;
    this.applyStamp(r);
    const a = this.data;
    return {
      status: a.status,
      severity: a.severity,
      timestamp: a.timestamp,
      posixseconds: a.posixseconds,
      nanoseconds: a.nanoseconds,
    };
  }

  // ------------------------------------------------------------------ callbacks

  /** Register a value callback; returns its index (default: 1 + the largest numeric index, or 1). */
  addCallback(fn: PVCallback, opts: AddCallbackOptions = {}): number | string {
    if (typeof fn !== 'function')
      throw new CaError('addCallback needs a function', { eca: ECA.BADFUNCPTR, pvname: this.pvname });
    const { index, withCtrlvars = true, runNow = false, ...kw } = opts;
    let idx = index;
    if (idx === undefined) {
      const nums = [...(this.callbacks?.keys() ?? [])].filter((k): k is number => typeof k === 'number');
      idx = nums.length ? Math.max(...nums) + 1 : 1;
    }
    (this.callbacks ??= new Map()).set(idx, { fn, kw, withCtrlvars });
    if (withCtrlvars && this._connected && !this.ctrlLoaded) void this.getCtrlVars().catch(() => undefined);
    if (runNow && this._connected) {
      const i = idx;
      void this.get()
        .then(() => this.runCallback(i))
        .catch(() => undefined);
    }
    return idx;
  }

  removeCallback(index: number | string): void {
    this.callbacks?.delete(index);
  }

  /** Remove every value callback (and, when asked, the connection / access callbacks). */
  clearCallbacks(opts: { withAccessCallback?: boolean; withConnectCallback?: boolean } = {}): void {
    this.callbacks = undefined;
    if (opts.withAccessCallback) this.accessCallbacks.length = 0;
    if (opts.withConnectCallback) this.connectionCallbacks.length = 0;
  }

  /** The registered value callbacks by index. */
  get callbackIndices(): (number | string)[] {
    return this.callbacks ? [...this.callbacks.keys()] : [];
  }

  /** The callback argument object for the current data. */
  private callbackArgs(index: number | string, kw: Record<string, unknown>): PVCallbackArgs {
    // An object literal of fixed shape is much cheaper to build than a spread of the data object.
    const a = this.data;
    const args: PVCallbackArgs = {
      pvname: a.pvname,
      value: a.value,
      charValue: a.charValue,
      status: a.status,
      severity: a.severity,
      ftype: a.ftype,
      type: a.type,
      typefull: a.typefull,
      chid: a.chid,
      host: a.host,
      count: a.count,
      nelm: a.nelm,
      access: a.access,
      accessString: a.accessString,
      readAccess: a.readAccess,
      writeAccess: a.writeAccess,
      timestamp: a.timestamp,
      posixseconds: a.posixseconds,
      nanoseconds: a.nanoseconds,
      precision: a.precision,
      units: a.units,
      enumStrs: a.enumStrs,
      monitorDelta: a.monitorDelta,
      upperDispLimit: a.upperDispLimit,
      lowerDispLimit: a.lowerDispLimit,
      upperAlarmLimit: a.upperAlarmLimit,
      lowerAlarmLimit: a.lowerAlarmLimit,
      upperWarningLimit: a.upperWarningLimit,
      lowerWarningLimit: a.lowerWarningLimit,
      upperCtrlLimit: a.upperCtrlLimit,
      lowerCtrlLimit: a.lowerCtrlLimit,
      pv: this,
      channel: this.ch,
      cbInfo: [index, this],
    };
    for (const k in kw) {
      if (k === 'pv' || k === 'channel' || k === 'cbInfo') continue;
      args[k] = kw[k];
    }
    return args;
  }

  /** Run every callback (sorted by index) with the current data. */
  runCallbacks(): void {
    const cbs = this.callbacks;
    if (cbs && cbs.size === 1) {
      // the usual case: one callback, nothing to sort (monitor hot path)
      this.runCallback(cbs.keys().next().value as number | string);
    } else if (cbs && cbs.size > 1) this.runSortedCallbacks();
    if (this.monitors && this.monitors.size) {
      const args = this.callbackArgs('monitor', {});
      for (const m of [...this.monitors]) m(args);
    }
  }

  private runSortedCallbacks(): void {
    const keys = [...(this.callbacks?.keys() ?? [])].sort((a, b) =>
      typeof a === 'number' && typeof b === 'number'
        ? a - b
        : String(a) < String(b)
          ? -1
          : String(a) > String(b)
            ? 1
            : 0,
    );
    for (const k of keys) this.runCallback(k);
  }

  /** Run one callback with the current data (no-op when absent). */
  runCallback(index: number | string): void {
    const c = this.callbacks?.get(index);
    if (!c) return;
    this.safe(() => c.fn(this.callbackArgs(index, c.kw)));
  }

  /**
   * The updates as an async iterator: `for await (const ev of pv.monitor()) ...`, starting with the
   * current value when one is known. The queue is bounded
   * (queueSize, default 1): when the consumer falls behind the oldest updates are dropped (latest wins).
   * Ends when the loop breaks, the signal aborts or the PV is disconnected.
   */
  async *monitor(opts: PVMonitorOptions = {}): AsyncGenerator<PVCallbackArgs, void, undefined> {
    const size = Math.max(1, opts.queueSize ?? 1);
    const queue: PVCallbackArgs[] = [];
    let wake: (() => void) | undefined;
    let ended = false;
    const push = (d: PVCallbackArgs): void => {
      if (d === undefined) ended = true;
      else {
        queue.push(d);
        if (queue.length > size) queue.shift();
      }
      wake?.();
    };
    const onAbort = (): void => {
      ended = true;
      wake?.();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    (this.monitors ??= new Set()).add(push);
    if ((opts.current ?? true) && this.data.value !== undefined) queue.push(this.callbackArgs('monitor', {}));
    if (!this.sub && this._connected) void this.checkAutoMonitor();
    try {
      for (;;) {
        if (queue.length) {
          yield queue.shift()!;
          continue;
        }
        if (ended || opts.signal?.aborted) return;
        // waiting for an update is a pending operation: keep the process alive meanwhile
        this.context._hold();
        try {
          await new Promise<void>((r) => (wake = r));
        } finally {
          this.context._release();
        }
        wake = undefined;
      }
    } finally {
      this.monitors?.delete(push);
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  // ------------------------------------------------------------------ properties (cached state)

  get value(): PVValue | undefined {
    return this.data.value;
  }
  /** Assignment writes the value (no wait); failures are ignored as pyepics' `pv.value = x`. */
  set value(v: unknown) {
    void this.put(v).catch(() => undefined);
  }
  get charValue(): string | string[] | undefined {
    return this.data.value === undefined ? undefined : this.computeCharValue();
  }
  get count(): number {
    return this.data.count;
  }
  get nelm(): number {
    return this.data.nelm;
  }
  get ftype(): number {
    return this.data.ftype;
  }
  get type(): string {
    return this.data.type;
  }
  get typefull(): string {
    return this.data.typefull;
  }
  get host(): string {
    return this.data.host;
  }
  get chid(): number {
    return this.data.chid;
  }
  get units(): string | undefined {
    return this.data.units;
  }
  get precision(): number | undefined {
    return this.data.precision;
  }
  get enumStrs(): string[] | undefined {
    return this.data.enumStrs;
  }
  get status(): number | undefined {
    return this.data.status;
  }
  get charStatus(): string | undefined {
    const s = this.data.status;
    return s === undefined ? undefined : (ALARM_STATUS_NAMES[s] ?? 'UNKNOWN');
  }
  get severity(): number | undefined {
    return this.data.severity;
  }
  get charSeverity(): string | undefined {
    const s = this.data.severity;
    return s === undefined ? undefined : (SEVERITY_NAMES[s] ?? 'UNKNOWN');
  }
  get timestamp(): number | undefined {
    return this.data.timestamp;
  }
  get posixseconds(): number | undefined {
    return this.data.posixseconds;
  }
  get nanoseconds(): number | undefined {
    return this.data.nanoseconds;
  }
  get readAccess(): boolean {
    return this.data.readAccess;
  }
  get writeAccess(): boolean {
    return this.data.writeAccess;
  }
  get access(): string {
    return this.data.access;
  }
  get accessString(): string {
    return this.data.accessString;
  }
  get monitorDelta(): number | undefined {
    return this.data.monitorDelta;
  }
  get upperDispLimit(): number | undefined {
    return this.data.upperDispLimit;
  }
  get lowerDispLimit(): number | undefined {
    return this.data.lowerDispLimit;
  }
  get upperAlarmLimit(): number | undefined {
    return this.data.upperAlarmLimit;
  }
  get lowerAlarmLimit(): number | undefined {
    return this.data.lowerAlarmLimit;
  }
  get upperWarningLimit(): number | undefined {
    return this.data.upperWarningLimit;
  }
  get lowerWarningLimit(): number | undefined {
    return this.data.lowerWarningLimit;
  }
  get upperCtrlLimit(): number | undefined {
    return this.data.upperCtrlLimit;
  }
  get lowerCtrlLimit(): number | undefined {
    return this.data.lowerCtrlLimit;
  }

  /** A copy of everything known (pyepics' _args). */
  snapshot(): PVData {
    return { ...this.data, charValue: this.charValue };
  }

  toString(): string {
    if (!this._connected) return `<PV '${this.pvname}': not connected>`;
    const cnt = this.data.nelm > 1 ? `${this.data.count}/${this.data.nelm}` : String(this.data.count);
    return `<PV '${this.pvname}', count=${cnt}, type=${this.data.typefull}, access=${this.data.access}>`;
  }

  /** pyepics' PV.info report (cached data; call get() and getCtrlVars() first for a full one). */
  get info(): string {
    return pvInfo(this);
  }

  /** @internal for pvInfo */
  _infoData(): { data: PVData; monitored: boolean; callbacks: number; native: number } {
    return {
      data: { ...this.data, charValue: this.charValue },
      monitored: this.sub !== undefined,
      callbacks: this.callbacks?.size ?? 0,
      native: this.ch.nativeType,
    };
  }
}

/** pyepics' fmt_time: local "YYYY-MM-DD HH:MM:SS.fffff". */
export function fmtTime(t: number = Date.now() / 1000): string {
  const sec = Math.floor(t);
  let frac = Math.round(1e5 * (t - sec));
  let s = sec;
  if (frac >= 100000) {
    frac -= 100000;
    s += 1;
  }
  const d = new Date(s * 1000);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return (
    `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ` +
    `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${String(frac).padStart(5, '0')}`
  );
}

function pyValueText(v: unknown, native: number): string {
  if (typeof v === 'number')
    return native === 2 || native === 6 ? formatGeneral(v, 6) : String(Math.trunc(v));
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return 'None';
  const a = v as ArrayLike<unknown>;
  const first = Array.from({ length: Math.min(5, a.length) }, (_x, i) => {
    const e = a[i];
    return typeof e === 'number'
      ? native === 2 || native === 6
        ? formatGeneral(e, 6)
        : String(e)
      : String(e);
  });
  return ` array  [${first.join(', ')}${a.length > 10 ? ', ....' : ''}]`;
}

/** The PV.info text (pyepics §4.7 layout). */
export function pvInfo(pv: PV): string {
  const { data, monitored, callbacks, native } = pv._infoData();
  const [mod, xtype] = data.typefull.includes('_') ? data.typefull.split('_', 2) : ['native', data.typefull];
  const out: string[] = [`== ${pv.pvname}  (${mod}_${xtype}) ==`];
  const line = (k: string, v: string): void => {
    out.push(`   ${k.padEnd(k.length > 14 ? 20 : 15)} = ${v}`);
  };
  line('value', pyValueText(data.value, native));
  const add = (k: string, v: unknown): void => {
    if (v === undefined || v === null) return;
    line(k, typeof v === 'number' && !Number.isInteger(v) ? String(v) : String(v));
  };
  if (data.charValue !== undefined) {
    // a list of strings prints as Python's str(list): ['a', 'b']
    const cv = Array.isArray(data.charValue)
      ? `[${data.charValue.map((x) => `'${x}'`).join(', ')}]`
      : data.charValue;
    line('char_value', `'${cv}'`);
  }
  add('count', data.count);
  add('nelm', data.nelm);
  add('type', data.type);
  add('units', data.units);
  add('precision', data.precision);
  add('host', data.host);
  add('access', data.access);
  add('monitor_delta', data.monitorDelta);
  add('status', data.status);
  if (data.status !== undefined) line('char_status', ALARM_STATUS_NAMES[data.status] ?? 'UNKNOWN');
  add('severity', data.severity);
  if (data.severity !== undefined) line('char_severity', SEVERITY_NAMES[data.severity] ?? 'UNKNOWN');
  if (data.timestamp !== undefined)
    line('timestamp', `${formatFixed(data.timestamp, 3)} (${fmtTime(data.timestamp)})`);
  if (data.posixseconds !== undefined) line('posixseconds', pyFloatRepr(data.posixseconds));
  add('nanoseconds', data.nanoseconds);
  // limits of integer types are Python ints ('0'), of FLOAT/DOUBLE floats ('0.0')
  const intLimits = native === 1 || native === 4 || native === 5;
  const lim = (k: string, v: number | undefined): void => {
    if (v !== undefined) line(k, intLimits && Number.isFinite(v) ? String(Math.trunc(v)) : pyFloatRepr(v));
  };
  lim('upper_ctrl_limit', data.upperCtrlLimit);
  lim('lower_ctrl_limit', data.lowerCtrlLimit);
  lim('upper_disp_limit', data.upperDispLimit);
  lim('lower_disp_limit', data.lowerDispLimit);
  lim('upper_alarm_limit', data.upperAlarmLimit);
  lim('lower_alarm_limit', data.lowerAlarmLimit);
  lim('upper_warning_limit', data.upperWarningLimit);
  lim('lower_warning_limit', data.lowerWarningLimit);
  if (data.enumStrs && data.enumStrs.length) {
    out.push('   enum strings: ');
    data.enumStrs.forEach((s, i) => out.push(`       ${i} = ${s}`));
  }
  if (monitored) out.push(`   PV is internally monitored, with ${callbacks} user-defined callbacks`);
  else out.push('   PV is NOT internally monitored');
  out.push('=============================');
  return out.join('\n');
}
