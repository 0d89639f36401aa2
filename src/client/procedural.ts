/**
 * pyepics' procedural functions in camelCase: caget, caput, cainfo, camonitor, camonitorClear,
 * cagetMany, caputMany, and the PV cache behind them (getPV, clearCache).
 *
 * Differences from pyepics (an asynchronous API has no use for sentinel values):
 * - caget resolves the value or rejects: NotFoundError (no server answered the name within
 *   connectionTimeout), TimeoutError (the read timed out), GetError / AccessError. pyepics returns None.
 * - caput resolves `true` (pyepics: 1) or rejects: NotFoundError, TimeoutError (wait: pyepics -1),
 *   AccessError, PutError, CaError (a value that cannot be converted).
 * - cainfo and camonitor reject NotFoundError instead of returning None / doing nothing.
 * - cagetMany and caputMany keep pyepics' per-item results (undefined / -1 for failures): one bad
 *   name must not lose the others.
 * Default timeouts are pyepics': caget 5 s, caput 60 s, connection 5 s, cagetMany 1 s per read.
 */
import type { NativeType } from '../protocol/constants.js';
import type { NativeArray } from '../protocol/values.js';
import type { Channel, GetResult } from './channel.js';
import { defaultContext } from './context.js';
import type { Context } from './context.js';
import { CaError, NotFoundError } from './errors.js';
import { AUTOMONITOR_LENGTH, PV, fmtTime, pyFloatRepr } from './pv.js';
import type {
  AccessCallback,
  ConnectionCallback,
  PVCallback,
  PVCallbackArgs,
  PVForm,
  PVValue,
} from './pv.js';

export interface GetPVOptions {
  form?: PVForm;
  context?: Context;
  /** Connection timeout of a new PV (seconds, default 5). */
  timeout?: number;
  connectionCallback?: ConnectionCallback;
  accessCallback?: AccessCallback;
  callback?: PVCallback;
  /** Only used when the PV is created (as pyepics: the cache ignores it afterwards). */
  count?: number;
  /** Can only switch monitoring on for a cached PV. */
  autoMonitor?: boolean | number;
  monitorDelta?: number;
}

const caches = new WeakMap<Context, Map<string, PV>>();

function cacheOf(ctx: Context): Map<string, PV> {
  let m = caches.get(ctx);
  if (!m) caches.set(ctx, (m = new Map()));
  return m;
}

/**
 * The shared PV for (name, form, context), created on first use (pyepics' get_pv). For a cached PV
 * new connection / access callbacks are added (and called at once when connected) and a new value
 * callback is added and run at once.
 */
export function getPV(pvname: string, opts: GetPVOptions = {}): PV {
  const ctx = opts.context ?? defaultContext();
  const form = opts.form === 'native' || opts.form === 'ctrl' ? opts.form : 'time';
  const key = `${pvname.trim()}\u0000${form}`;
  const cache = cacheOf(ctx);
  let pv = cache.get(key);
  if (pv && !pv.channel.context.closed && pv.channel.state !== 'closed') {
    if (opts.connectionCallback) {
      pv.connectionCallbacks.push(opts.connectionCallback);
      if (pv.connected) opts.connectionCallback({ pvname: pv.pvname, conn: true, pv });
    }
    if (opts.accessCallback) {
      pv.accessCallbacks.push(opts.accessCallback);
      if (pv.connected)
        opts.accessCallback({
          pvname: pv.pvname,
          readAccess: pv.readAccess,
          writeAccess: pv.writeAccess,
          pv,
        });
    }
    if (opts.callback) {
      const idx = pv.addCallback(opts.callback);
      if (pv.connected && pv.value !== undefined) pv.runCallback(idx);
    }
    if (opts.autoMonitor && !pv.autoMonitor) pv.autoMonitor = opts.autoMonitor;
    return pv;
  }
  pv = new PV(pvname, {
    form,
    context: ctx,
    connectionTimeout: opts.timeout ?? 5,
    connectionCallback: opts.connectionCallback,
    accessCallback: opts.accessCallback,
    callback: opts.callback,
    count: opts.count,
    autoMonitor: opts.autoMonitor,
    monitorDelta: opts.monitorDelta,
  });
  cache.set(key, pv);
  return pv;
}

/** Disconnect and forget every cached PV (of `context`, default the default context). */
export function clearCache(context?: Context): void {
  const ctx = context ?? defaultContext();
  const cache = caches.get(ctx);
  if (!cache) return;
  for (const pv of cache.values()) pv.disconnect();
  cache.clear();
  monitored.clear();
}

async function connectedPV(
  pvname: string,
  connectionTimeout: number,
  form?: PVForm,
  context?: Context,
): Promise<PV> {
  const pv = getPV(pvname, { form, context, timeout: connectionTimeout });
  if (!(await pv.waitForConnection(connectionTimeout))) {
    throw new NotFoundError(`cannot connect to ${pvname}`, { pvname });
  }
  return pv;
}

export interface CagetOptions {
  asString?: boolean;
  count?: number;
  /** Accepted for pyepics compatibility: arrays are always typed arrays. */
  asNumpy?: boolean;
  /** Return the monitored value when there is one (default true, as pyepics). */
  useMonitor?: boolean;
  /** Seconds for the whole call (default 5), reduced by the connection time. */
  timeout?: number;
  connectionTimeout?: number;
  form?: PVForm;
  context?: Context;
}

/** Read a PV's value (see the module notes for errors). */
export async function caget(pvname: string, opts: CagetOptions = {}): Promise<PVValue | string | string[]> {
  const t0 = performance.now();
  const timeout = opts.timeout ?? 5;
  const pv = await connectedPV(pvname, opts.connectionTimeout ?? 5, opts.form, opts.context);
  if (opts.asString) await pv.getCtrlVars();
  const left = Math.max(0.001, timeout - (performance.now() - t0) / 1000);
  const v = await pv.get({
    count: opts.count,
    timeout: left,
    useMonitor: opts.useMonitor ?? true,
    asString: opts.asString,
  });
  if (v === undefined) throw new CaError(`no value for ${pvname}`, { pvname });
  return v;
}

export interface CaputOptions {
  /** Wait for processing to complete (put-callback). */
  wait?: boolean;
  /** Seconds (default 60), reduced by the connection time. */
  timeout?: number;
  connectionTimeout?: number;
  context?: Context;
}

/** Write a value (pyepics' conversions). Resolves true; rejects with a typed error. */
export async function caput(pvname: string, value: unknown, opts: CaputOptions = {}): Promise<true> {
  const t0 = performance.now();
  const pv = await connectedPV(pvname, opts.connectionTimeout ?? 5, undefined, opts.context);
  const left = Math.max(0.001, (opts.timeout ?? 60) - (performance.now() - t0) / 1000);
  await pv.put(value, { wait: opts.wait ?? false, timeout: left });
  return true;
}

export interface CainfoOptions {
  /** Print the text on stdout (default true, as pyepics); it is returned in any case. */
  printOut?: boolean;
  timeout?: number;
  connectionTimeout?: number;
  context?: Context;
}

/** The PV.info report of a PV after a read and a control-metadata read. */
export async function cainfo(pvname: string, opts: CainfoOptions = {}): Promise<string> {
  const pv = await connectedPV(pvname, opts.connectionTimeout ?? 5, undefined, opts.context);
  await pv.get({ timeout: opts.timeout ?? 5 });
  await pv.getCtrlVars(opts.timeout ?? 5);
  const text = pv.info;
  if (opts.printOut ?? true) process.stdout.write(text + '\n');
  return text;
}

const CAMONITOR_INDEX = -999;
const monitored = new Map<string, PV>();

export interface CamonitorOptions {
  /** Where the default callback writes its line (default: stdout with a newline). */
  writer?: (line: string) => void;
  /** A callback instead of the default line writer. */
  callback?: PVCallback;
  connectionTimeout?: number;
  context?: Context;
}

/**
 * Print (or pass to `callback`) every update of a PV: `<name> <client time> <charValue>` by default.
 * Stop with camonitorClear(pvname).
 */
export async function camonitor(pvname: string, opts: CamonitorOptions = {}): Promise<void> {
  const pv = await connectedPV(pvname, opts.connectionTimeout ?? 5, undefined, opts.context);
  await pv.get();
  const writer = opts.writer ?? ((s: string) => void process.stdout.write(s + '\n'));
  const cb: PVCallback =
    opts.callback ??
    ((a: PVCallbackArgs) => {
      const cv = a.charValue === undefined ? String(a.value) : String(a.charValue);
      writer(`${a.pvname.slice(0, 32)} ${fmtTime()} ${cv}`);
    });
  pv.addCallback(cb, { index: CAMONITOR_INDEX, withCtrlvars: true });
  // a cached PV may have been created unmonitored (e.g. by caputMany): monitoring is the point here
  if (!pv.autoMonitor) pv.autoMonitor = true;
  monitored.set(pvname, pv);
}

/** Stop a camonitor(). */
export function camonitorClear(pvname: string): void {
  const pv = monitored.get(pvname);
  if (!pv) return;
  pv.removeCallback(CAMONITOR_INDEX);
  monitored.delete(pvname);
}

export interface CagetManyOptions {
  asString?: boolean;
  count?: number;
  asNumpy?: boolean;
  /** Seconds per read (default 1). */
  timeout?: number;
  /** Seconds to wait for all connections (default 5). */
  connectionTimeout?: number;
  context?: Context;
}

/** ca-level unpacking: scalars for one element, typed arrays / string lists otherwise. */
function unpack(r: GetResult, ch: Channel): PVValue {
  const v = r.value;
  if (Array.isArray(v)) return ch.elementCount > 1 ? v : (v[0] ?? '');
  if (ch.nativeType === 4 && ch.elementCount > 1) return v as Uint8Array;
  if (r.count === 1) return (v as Exclude<NativeArray, string[]>)[0];
  return v as PVValue;
}

/** The non-zero bytes of b as latin-1 text. */
function bytesNoNul(b: Uint8Array): string {
  const kept = b.filter((x) => x !== 0);
  return Buffer.from(kept.buffer, kept.byteOffset, kept.length).toString('latin1');
}

/** ca-level as_string (pyepics ca._as_string). */
function asStringCa(
  value: PVValue,
  ch: Channel,
  count: number,
  ftype: number,
  enumStrs?: string[],
): string | string[] {
  const native = ch.nativeType as NativeType;
  if (native === 4 && typeof value !== 'number' && typeof value !== 'string' && count < AUTOMONITOR_LENGTH) {
    // pyepics: ''.join(chr(i) for i in val if i > 0).strip(): every non-zero byte, one char each
    const b = value as Uint8Array;
    const nul = b.indexOf(0);
    const text = nul < 0 ? Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1') : bytesNoNul(b);
    return text.trim();
  }
  if (native === 3 && count === 1 && typeof value === 'number' && enumStrs && value < enumStrs.length)
    return enumStrs[value];
  // pyepics: '<array count=%d, type=%d>' with the element count and the numeric DBR type
  if (count > 1) return `<array count=${count}, type=${ftype}>`;
  if (typeof value === 'number' && (native === 2 || native === 6)) return pyFloatRepr(value);
  return Array.isArray(value) ? value : String(value);
}

/**
 * Read many PVs at once without PV objects: connect all (up to connectionTimeout), read the connected
 * ones concurrently. The result has one entry per name, `undefined` where a PV did not connect or its
 * read failed (as pyepics' None).
 */
export async function cagetMany(
  pvnames: readonly string[],
  opts: CagetManyOptions = {},
): Promise<(PVValue | string | string[] | undefined)[]> {
  const ctx = opts.context ?? defaultContext();
  const chans = pvnames.map((n) => {
    try {
      return ctx.channel(n);
    } catch {
      return undefined;
    }
  });
  try {
    await Promise.all(
      chans.map((c) => c?.waitForConnection(opts.connectionTimeout ?? 5).catch(() => undefined)),
    );
    return await Promise.all(
      chans.map(async (ch) => {
        if (!ch || !ch.connected) return undefined;
        try {
          let count = opts.count ?? 0;
          if (count > ch.elementCount) count = ch.elementCount;
          const r = await ch.get({ count, timeout: opts.timeout ?? 1 });
          const v = unpack(r, ch);
          if (!opts.asString) return v;
          let strs: string[] | undefined;
          if (ch.nativeType === 3 && r.count === 1)
            strs = (await ch.get({ dbrType: 24, count: 1, timeout: opts.timeout ?? 1 })).enumStrs;
          // pyepics' caget_many reads with count = element_count(chid)
          return asStringCa(v, ch, count || ch.elementCount, r.dbrType, strs);
        } catch {
          return undefined;
        }
      }),
    );
  } finally {
    for (const c of chans) c?.close();
  }
}

export interface CaputManyOptions {
  /** false (default): no wait; 'each': wait for each put in turn; 'all': start all, wait for all. */
  wait?: boolean | 'each' | 'all';
  connectionTimeout?: number;
  /** Seconds to wait for completion (default 60). */
  putTimeout?: number;
  context?: Context;
}

/** Write many PVs; one status per name: 1 (done) or -1 (failed, timed out or not connected). */
export async function caputMany(
  pvnames: readonly string[],
  values: readonly unknown[],
  opts: CaputManyOptions = {},
): Promise<number[]> {
  if (pvnames.length !== values.length) {
    throw new CaError(
      `caputMany needs one value per name (${pvnames.length} names, ${values.length} values)`,
    );
  }
  const ctimeout = opts.connectionTimeout ?? 5;
  const ptimeout = opts.putTimeout ?? 60;
  const pvs = pvnames.map((n) => getPV(n, { context: opts.context, timeout: ctimeout, autoMonitor: false }));
  const connected = await Promise.all(pvs.map((pv) => pv.waitForConnection(ctimeout)));
  if (opts.wait === 'each') {
    const out: number[] = [];
    for (let i = 0; i < pvs.length; i++) {
      if (!connected[i]) {
        out.push(-1);
        continue;
      }
      out.push(
        await pvs[i].put(values[i], { wait: true, timeout: ptimeout }).then(
          () => 1,
          () => -1,
        ),
      );
    }
    return out;
  }
  const wait = opts.wait === 'all';
  return Promise.all(
    pvs.map((pv, i) =>
      connected[i]
        ? pv.put(values[i], { wait, timeout: ptimeout }).then(
            () => 1,
            () => -1,
          )
        : Promise.resolve(-1),
    ),
  );
}
