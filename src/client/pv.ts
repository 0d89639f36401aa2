/**
 * The PV object (pyepics' epics.PV in camelCase, asynchronous): automatic connection and monitoring,
 * cached value and metadata, callbacks with pyepics' keyword set, put with pyepics' conversions,
 * `monitor()` as an async iterator, and the PV.info report.
 *
 * The C printf-compatible number formatting (%e, %f, %g, glibc rounding) is in protocol/printf.ts
 * and re-exported here: pyepics' char_value is `'%.{prec}f' % v`; the catools (src/cli/format.ts)
 * use the same code.
 *
 * The module is split: public types and constants in pv-types.ts, DBR type names in pv-typenames.ts,
 * Python-style number text in pv-format.ts, the cached state and its read-only properties in
 * pv-state.ts (the base class), the callback registries in pv-callbacks.ts (PV's base class, over
 * pv-state), the callback argument object in pv-callback-args.ts, the monitor() iterator in
 * pv-monitor.ts and the PV.info report in pv-info.ts. Everything public is re-exported
 * here, so importers of pv.js need no change.
 */
import { ECA } from '../protocol/constants.js';
import type { NativeType } from '../protocol/constants.js';
import type { Channel, GetResult, Subscription } from './channel.js';
import type { ScalarDbr } from '../protocol/dbr-scalar.js';
import { defaultContext } from './context.js';
import type { Context } from './context.js';
import { CaError, DisconnectedError, NotFoundError, TimeoutError } from './errors.js';
import { toNativeArray } from './put-value.js';
import { NO_KW, PVCallbacks } from './pv-callbacks.js';
import { pvInfo } from './pv-info.js';
import { monitorUpdates } from './pv-monitor.js';
import { accessText, dbrTypeName, promoteType } from './pv-typenames.js';
import {
  AUTOMONITOR_LENGTH,
  DEFAULT_CONNECTION_TIMEOUT,
  DEFAULT_SUBSCRIPTION_MASK,
  LIMIT_KEYS,
  emptyData,
  fullData,
} from './pv-types.js';
import type {
  AccessCallback,
  Cb,
  ConnectionCallback,
  PVCallbackArgs,
  PVData,
  PVForm,
  PVGetOptions,
  PVGetResult,
  PVMonitorOptions,
  PVOptions,
  PVPutOptions,
  PVValue,
} from './pv-types.js';

// C printf-compatible formatting lives in protocol/printf.ts; re-exported here for existing importers.
export { formatDouble, formatExp, formatFixed, formatGeneral } from '../protocol/printf.js';
export type { DoubleFormat } from '../protocol/printf.js';

// The pieces of the PV module, re-exported for existing importers.
export { AUTOMONITOR_LENGTH, DEFAULT_CONNECTION_TIMEOUT, DEFAULT_SUBSCRIPTION_MASK } from './pv-types.js';
export type {
  AccessCallback,
  AddCallbackOptions,
  ConnectionCallback,
  PVCallback,
  PVCallbackArgs,
  PVData,
  PVForm,
  PVGetOptions,
  PVGetResult,
  PVMonitorOptions,
  PVOptions,
  PVPutOptions,
  PVValue,
} from './pv-types.js';
export { dbrTypeName, promoteType } from './pv-typenames.js';
export { floatCharValue, pyFloatRepr } from './pv-format.js';
export { fmtTime, pvInfo } from './pv-info.js';

// =================================================================================================
// The PV class (pyepics' epics.PV in camelCase, asynchronous)
// =================================================================================================

/**
 * A process variable, as pyepics' PV: connects and (for arrays under AUTOMONITOR_LENGTH elements)
 * monitors automatically, caches value and metadata, runs callbacks on updates.
 *
 * Differences from pyepics, for an asynchronous language: properties are synchronous and return what
 * is cached (`undefined` until known) instead of blocking for a read; `get`, `put`, `getCtrlVars` ...
 * return promises and reject with typed errors (NotFoundError, TimeoutError, AccessError, PutError,
 * GetError) instead of returning None / -1.
 */
export class PV extends PVCallbacks {
  override readonly pvname: string;
  readonly form: PVForm;
  readonly context: Context;
  connectionTimeout: number;
  /** put completion state: undefined (not tracked), false (pending), true (done). */
  putComplete: boolean | undefined;
  protected override ch: Channel;
  private userCount: number | undefined;
  private autoMonitorSetting: boolean | number | undefined;
  private sub: Subscription | undefined;
  private subMask = 0;
  protected override data: PVData;
  // value / connection / access callbacks and monitor() listeners: see pv-callbacks.ts
  // (`= undefined`: the same own field as a bare declaration, which TS forbids over a declared base field)
  protected override callbacks: Cb | Cb[] | undefined = undefined;
  protected override connCbs: ConnectionCallback[] | undefined = undefined;
  protected override accessCbs: AccessCallback[] | undefined = undefined;
  protected override _connected = false;
  protected override ctrlLoaded = false;
  private ctrlPending: Promise<void> | undefined;
  protected override monitors: Set<(d: PVCallbackArgs) => void> | undefined = undefined;
  private closed = false;

  constructor(pvname: string, opts: PVOptions = {}) {
    super();
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
    if (opts.monitorDelta !== undefined) this.data.monitorDelta = opts.monitorDelta;
    const cb = opts.callback;
    if (typeof cb === 'function') this.callbacks = { index: 0, fn: cb, kw: NO_KW, withCtrlvars: false };
    else if (Array.isArray(cb) && cb.length > 0) {
      this.callbacks = cb.map((fn, i) => ({ index: i, fn, kw: NO_KW, withCtrlvars: false }));
    }
    if (opts.connectionCallback) this.connCbs = [opts.connectionCallback];
    if (opts.accessCallback) this.accessCbs = [opts.accessCallback];
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
    if (this.connCbs && this.connCbs.length > 0) {
      for (const cb of [...this.connCbs]) this.safe(() => cb({ pvname: this.pvname, conn: up, pv: this }));
    }
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
    if ((quiet && !changed) || !this.accessCbs || this.accessCbs.length === 0) return;
    for (const cb of [...this.accessCbs])
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

  /** Subscribe, re-subscribe or unsubscribe as autoMonitor and the connection say (synchronous unless ctrl vars must come first). */
  private checkAutoMonitor(): void {
    if (!this._connected || this.closed) return;
    const mask = this.wantedMask();
    if (this.autoMonitorSetting === undefined) this.autoMonitorSetting = mask !== 0;
    if (mask === this.subMask && this.sub) return;
    this.sub?.clear();
    this.sub = undefined;
    this.subMask = mask;
    if (!mask) return;
    if (!this.ctrlLoaded && this.wantsCtrlvars()) {
      void this.getCtrlVars()
        .catch(() => undefined)
        .then(() => {
          if (!this._connected || this.closed || this.sub || this.subMask !== mask) return;
          this.subscribeNow(mask);
        });
      return;
    }
    this.subscribeNow(mask);
  }

  private subscribeNow(mask: number): void {
    this.sub = this.ch._subscribeObserver(
      { dbrType: this.data.ftype, count: this.userCount ?? 0, mask },
      this,
    );
  }

  /** @internal (SubscriptionObserver) a monitor update of the PV's subscription. */
  _subscriptionData(d: GetResult): void {
    this.onMonitor(d);
  }

  /** @internal (SubscriptionObserver) whether updates may come as a ScalarDbr: the value is a scalar. */
  _takesScalar(): boolean {
    return this.data.nelm <= 1;
  }

  /** @internal (SubscriptionObserver) a one-element plain / STS / TIME monitor update. */
  _subscriptionScalar(d: ScalarDbr): void {
    if (this.closed) return;
    this.mergeScalar(d, this.form !== 'time');
    this.data.charValue = this.computeCharValue();
    this.runCallbacks();
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
    if (this.connCbs) this.connCbs.length = 0;
    if (this.accessCbs) this.accessCbs.length = 0;
    this.detachChannel();
    this.ch.close();
    const md = this.data.monitorDelta;
    this.data = emptyData(this.pvname);
    if (md !== undefined) this.data.monitorDelta = md;
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
      result = fullData(this.data);
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
      if (opts.withCtrlvars) result = { ...fullData(this.data), ...result };
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

  // ------------------------------------------------------------------ callbacks (see pv-callbacks.ts)

  /**
   * The updates as an async iterator: `for await (const ev of pv.monitor()) ...`, starting with the
   * current value when one is known. The queue is bounded
   * (queueSize, default 1): when the consumer falls behind the oldest updates are dropped (latest wins).
   * Ends when the loop breaks, the signal aborts or the PV is disconnected (see pv-monitor.ts).
   */
  monitor(opts: PVMonitorOptions = {}): AsyncGenerator<PVCallbackArgs, void, undefined> {
    return monitorUpdates(
      {
        context: this.context,
        listen: (push) => {
          (this.monitors ??= new Set()).add(push);
        },
        unlisten: (push) => {
          this.monitors?.delete(push);
        },
        current: () => (this.data.value !== undefined ? this.callbackArgs('monitor', {}) : undefined),
        ensureMonitored: () => {
          if (!this.sub && this._connected) void this.checkAutoMonitor();
        },
      },
      opts,
    );
  }

  // ------------------------------------------------------------------ properties (cached state)

  get value(): PVValue | undefined {
    return this.data.value;
  }
  /** Assignment writes the value (no wait); failures are ignored as pyepics' `pv.value = x`. */
  set value(v: unknown) {
    void this.put(v).catch(() => undefined);
  }
  override toString(): string {
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
      data: { ...fullData(this.data), charValue: this.charValue },
      monitored: this.sub !== undefined,
      callbacks: this.cbList().length,
      native: this.ch.nativeType,
    };
  }
}
