/**
 * The PV object's callback registries: value callbacks by index (add, remove, run in index order,
 * with pyepics' keywords), the connection and access-rights callback lists, and the monitor()
 * iterators listening. PV (pv.ts) extends this class; it declares the fields (in its own order).
 */
import { ECA } from '../protocol/constants.js';
import { CaError } from './errors.js';
import { buildCallbackArgs } from './pv-callback-args.js';
import { PVState } from './pv-state.js';
import type { PV } from './pv.js';
import type {
  AccessCallback,
  AddCallbackOptions,
  Cb,
  ConnectionCallback,
  PVCallback,
  PVCallbackArgs,
  PVData,
  PVGetOptions,
  PVValue,
} from './pv-types.js';

/** The keywords of a callback registered without any (shared: no object per callback). */
export const NO_KW: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/** The callbacks of a PV and running them. */
export abstract class PVCallbacks extends PVState {
  // declared only: PV defines these fields (in its own field order)
  declare readonly pvname: string;
  /**
   * Value callbacks in registration order: one entry alone (the usual case), or an array (created on
   * first use, dropped when cleared: memory per PV).
   */
  declare protected callbacks: Cb | Cb[] | undefined;
  /** Connection / access callbacks (created on first use). */
  declare protected connCbs: ConnectionCallback[] | undefined;
  declare protected accessCbs: AccessCallback[] | undefined;
  declare protected _connected: boolean;
  declare protected ctrlLoaded: boolean;
  /** monitor() iterators listening (created on first use). */
  declare protected monitors: Set<(d: PVCallbackArgs) => void> | undefined;

  abstract get(opts?: PVGetOptions): Promise<PVValue | string | string[] | undefined>;
  abstract getCtrlVars(timeout?: number): Promise<Partial<PVData>>;

  /** Connection callbacks, called as cb({pvname, conn, pv}) (the array may be changed). */
  get connectionCallbacks(): ConnectionCallback[] {
    return (this.connCbs ??= []);
  }

  /** Access-rights callbacks, called as cb({pvname, readAccess, writeAccess, pv}) (the array may be changed). */
  get accessCallbacks(): AccessCallback[] {
    return (this.accessCbs ??= []);
  }

  /** Register a value callback; returns its index (default: 1 + the largest numeric index, or 1). */
  addCallback(fn: PVCallback, opts: AddCallbackOptions = {}): number | string {
    if (typeof fn !== 'function')
      throw new CaError('addCallback needs a function', { eca: ECA.BADFUNCPTR, pvname: this.pvname });
    const { index, withCtrlvars = true, runNow = false, ...kw } = opts;
    let idx = index;
    const cur = this.callbacks;
    const list = Array.isArray(cur) ? cur : (this.callbacks = cur ? [cur] : []);
    if (idx === undefined) {
      let max = -Infinity;
      for (const c of list) if (typeof c.index === 'number' && c.index > max) max = c.index;
      idx = max === -Infinity ? 1 : max + 1;
    }
    const entry: Cb = { index: idx, fn, kw: Object.keys(kw).length ? kw : NO_KW, withCtrlvars };
    // replacing an index keeps its place (as a Map.set of an existing key)
    const at = list.findIndex((c) => c.index === idx);
    if (at >= 0) list[at] = entry;
    else list.push(entry);
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
    const cur = this.callbacks;
    if (cur !== undefined && !Array.isArray(cur)) {
      if (cur.index === index) this.callbacks = undefined;
      return;
    }
    const at = cur ? cur.findIndex((c) => c.index === index) : -1;
    if (at >= 0) cur!.splice(at, 1);
  }

  /** Remove every value callback (and, when asked, the connection / access callbacks). */
  clearCallbacks(opts?: { withAccessCallback?: boolean; withConnectCallback?: boolean }): void {
    this.callbacks = undefined;
    if (opts?.withAccessCallback && this.accessCbs) this.accessCbs.length = 0;
    if (opts?.withConnectCallback && this.connCbs) this.connCbs.length = 0;
  }

  /** The registered value callbacks by index. */
  get callbackIndices(): (number | string)[] {
    return this.cbList().map((c) => c.index);
  }

  /** Whether a value callback asked for control variables. */
  protected wantsCtrlvars(): boolean {
    const cur = this.callbacks;
    if (cur === undefined) return false;
    return Array.isArray(cur) ? cur.some((c) => c.withCtrlvars) : cur.withCtrlvars;
  }

  /** The value callbacks as a list (a new array for a single one: not for hot paths). */
  protected cbList(): Cb[] {
    const cur = this.callbacks;
    return cur === undefined ? [] : Array.isArray(cur) ? cur : [cur];
  }

  /** The callback argument object for the current data. */
  protected callbackArgs(index: number | string, kw: Record<string, unknown>): PVCallbackArgs {
    return buildCallbackArgs(this.data, this as unknown as PV, this.ch, index, kw);
  }

  /** Run every callback (sorted by index) with the current data. */
  runCallbacks(): void {
    const cbs = this.callbacks;
    if (cbs !== undefined) {
      // the usual case: one callback, nothing to sort (monitor hot path)
      if (!Array.isArray(cbs)) this.runEntry(cbs);
      else if (cbs.length === 1) this.runEntry(cbs[0]!);
      else if (cbs.length > 1) this.runSortedCallbacks();
    }
    if (this.monitors && this.monitors.size) {
      const args = this.callbackArgs('monitor', {});
      for (const m of [...this.monitors]) m(args);
    }
  }

  private runSortedCallbacks(): void {
    const keys = this.callbackIndices.sort((a, b) =>
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
    const c = this.cbList().find((e) => e.index === index);
    if (c) this.runEntry(c);
  }

  private runEntry(c: Cb): void {
    try {
      c.fn(this.callbackArgs(c.index, c.kw));
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }
}
