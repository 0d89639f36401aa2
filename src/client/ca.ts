/**
 * pyepics' `epics.ca` layer in camelCase, over Channel: for code that wants the C-like API.
 * A "chid" is a Channel. Everything that waits returns a Promise; timeouts are in seconds.
 */
import { DBR, ECA, EPICS_EPOCH_OFFSET, ecaMessage } from '../protocol/constants.js';
import type { NativeType } from '../protocol/constants.js';
import { LIMIT_KEYS } from '../protocol/dbr.js';
import type { NativeArray } from '../protocol/values.js';
import type { Channel, GetResult, Subscription } from './channel.js';
import { closeDefaultContext, defaultContext } from './context.js';
import type { Context } from './context.js';
import { CaError, TimeoutError } from './errors.js';
import { toNativeArray } from './put-value.js';
import { pyFloatRepr } from './pv.js';

export type Chid = Channel;

/** libca channel_state values. */
export const ChannelStateCode = { NEVER_CONN: 0, PREV_CONN: 1, CONN: 2, CLOSED: 3 } as const;

export const DEFAULT_CONNECTION_TIMEOUT = 2.0;

export interface ConnectionCallbackArgs {
  pvname: string;
  chid: Chid;
  conn: boolean;
}

/** Start the (default) context, as `ca.initialize_libca()`. */
export function initialize(): Context {
  return defaultContext();
}

/** Clear every channel and close the default context, as `ca.finalize_libca()`. */
export function finalize(): Promise<void> {
  return closeDefaultContext();
}

export function version(): string {
  return '4.13';
}

/** ca_message(): the text of an ECA status. */
export function message(status: number): string {
  return ecaMessage(status);
}

/** Let pending callbacks run (there is no libca queue to pump: one turn of the event loop). */
export function poll(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

export const pendIo = poll;
export const pendEvent = poll;

export interface CreateChannelOptions {
  /** Accepted for pyepics compatibility: searching always starts at once; use connectChannel to wait. */
  connect?: boolean;
  /** Connection callback, called with {pvname, chid, conn} on every connection change. */
  callback?: (args: ConnectionCallbackArgs) => void;
  /** Accepted for pyepics compatibility (no effect). */
  autoCb?: boolean;
  priority?: number;
  context?: Context;
}

export function createChannel(pvname: string, opts: CreateChannelOptions = {}): Chid {
  const ctx = opts.context ?? defaultContext();
  const opt: { priority?: number } = {};
  if (opts.priority !== undefined) opt.priority = opts.priority;
  const ch = ctx.channel(pvname, opt);
  const cb = opts.callback;
  if (cb) ch.onConnectionChange((conn) => cb({ pvname: ch.name, chid: ch, conn }));
  return ch;
}

/** Wait for the connection; resolves true when connected, false on timeout. */
export async function connectChannel(chid: Chid, timeout = DEFAULT_CONNECTION_TIMEOUT): Promise<boolean> {
  try {
    await chid.waitForConnection(timeout);
    return true;
  } catch (err) {
    if (err instanceof TimeoutError) return false;
    throw err;
  }
}

export function clearChannel(chid: Chid): void {
  chid.close();
}

export function name(chid: Chid): string {
  return chid.name;
}
export function host(chid: Chid): string {
  return chid.host;
}
export function elementCount(chid: Chid): number {
  return chid.elementCount;
}
/** Native field type, -1 when not connected. */
export function fieldType(chid: Chid): number {
  return chid.connected || chid.elementCount > 0 ? chid.nativeType : -1;
}
export function readAccess(chid: Chid): boolean {
  return chid.readAccess;
}
export function writeAccess(chid: Chid): boolean {
  return chid.writeAccess;
}
export function isConnected(chid: Chid): boolean {
  return chid.connected;
}
/** libca channel_state(): 0 never connected, 1 previously connected, 2 connected, 3 closed. */
export function state(chid: Chid): number {
  switch (chid.state) {
    case 'searching':
      return ChannelStateCode.NEVER_CONN;
    case 'disconnected':
      return ChannelStateCode.PREV_CONN;
    case 'connected':
      return ChannelStateCode.CONN;
    case 'closed':
      return ChannelStateCode.CLOSED;
  }
}

/** Promoted DBR type of a native type: +14 TIME, +28 CTRL (CTRL_STRING maps to TIME_STRING). */
export function promoteFieldType(ftype: number, opts: { useTime?: boolean; useCtrl?: boolean } = {}): number {
  let t = ftype;
  if (opts.useCtrl) t += 28;
  else if (opts.useTime) t += 14;
  if (t === DBR.CTRL_STRING) t = DBR.TIME_STRING;
  return t;
}

export function promoteType(chid: Chid, opts: { useTime?: boolean; useCtrl?: boolean } = {}): number {
  const f = chid.nativeType;
  if (f < 0)
    throw new CaError(`channel '${chid.name}' is not connected`, { eca: ECA.DISCONN, pvname: chid.name });
  return promoteFieldType(f, opts);
}

/** Native value type of any DBR type (TIME/CTRL codes → plain: 28 → 0). */
export function nativeType(ftype: number): NativeType {
  if (ftype >= 0 && ftype <= 34) return (ftype % 7) as NativeType;
  if (ftype === 35 || ftype === 36) return 3;
  return 0;
}

export type CaValue = number | string | NativeArray | string[] | number[];

export interface CaGetOptions {
  ftype?: number;
  /** Element count; undefined/0 = the server's current length. */
  count?: number;
  /** Accepted for pyepics compatibility: the promise always waits. */
  wait?: boolean;
  asString?: boolean;
  /** true (default): arrays as typed arrays; false: plain JS arrays. */
  asNumpy?: boolean;
  timeout?: number;
}

/** Metadata dictionary in camelCase (pyepics `get_with_metadata` / `get_ctrlvars` keys). */
export interface CaMetadata {
  value?: CaValue;
  status?: number;
  severity?: number;
  timestamp?: number;
  posixseconds?: number;
  nanoseconds?: number;
  units?: string;
  precision?: number;
  enumStrs?: string[];
  upperDispLimit?: number;
  lowerDispLimit?: number;
  upperAlarmLimit?: number;
  upperWarningLimit?: number;
  lowerWarningLimit?: number;
  lowerAlarmLimit?: number;
  upperCtrlLimit?: number;
  lowerCtrlLimit?: number;
}

/** Turn a DBR result into the pyepics value: scalar for count 1, array otherwise. */
export function unpackValue(
  r: GetResult,
  chid: Chid,
  opts: { asString?: boolean; asNumpy?: boolean } = {},
): CaValue {
  const v = r.value;
  const vt = nativeType(r.dbrType);
  if (opts.asString) {
    if (vt === 4 && (chid.elementCount > 1 || r.count > 1)) {
      // pyepics ca._as_string: ''.join(chr(i) for i in val if i > 0).strip()
      let bytes = v as Uint8Array;
      if (bytes.indexOf(0) >= 0) bytes = bytes.filter((x) => x !== 0);
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1').trim();
    }
    if (vt === 3 && r.enumStrs && r.count === 1) {
      const i = (v as Uint16Array)[0]!;
      return r.enumStrs[i] ?? String(i);
    }
    // pyepics: str(value), i.e. Python's float repr for FLOAT/DOUBLE ('50.0', not '50')
    if (r.count === 1)
      return Array.isArray(v) ? v[0]! : vt === 2 || vt === 6 ? pyFloatRepr(v[0]!) : String(v[0]);
    return Array.isArray(v) ? v : Array.from(v as ArrayLike<number>, (x) => String(x));
  }
  if (r.count === 1 && v.length >= 1 && chid.elementCount <= 1)
    return Array.isArray(v) ? v[0]! : (v as ArrayLike<number>)[0]!;
  if (Array.isArray(v)) return v;
  return opts.asNumpy === false ? Array.from(v as ArrayLike<number>) : v;
}

function metadataOf(r: GetResult): CaMetadata {
  const md: CaMetadata = {};
  if (r.status !== undefined) md.status = r.status;
  if (r.severity !== undefined) md.severity = r.severity;
  if (r.stamp) {
    md.posixseconds = r.stamp.secPastEpoch + EPICS_EPOCH_OFFSET;
    md.nanoseconds = r.stamp.nsec;
    md.timestamp = md.posixseconds + r.stamp.nsec * 1e-9;
  }
  if (r.units !== undefined) md.units = r.units;
  if (r.precision !== undefined) md.precision = r.precision;
  if (r.enumStrs !== undefined) md.enumStrs = r.enumStrs;
  for (const k of LIMIT_KEYS) {
    if (r[k] !== undefined) md[k] = r[k];
  }
  return md;
}

async function rawGet(
  chid: Chid,
  ftype: number | undefined,
  opts: CaGetOptions,
): Promise<GetResult | undefined> {
  if (!chid.connected) {
    if (!(await connectChannel(chid, opts.timeout ?? DEFAULT_CONNECTION_TIMEOUT))) {
      throw new TimeoutError(`get() timed out waiting '${chid.name}' to connect`, { pvname: chid.name });
    }
  }
  let type = ftype ?? chid.nativeType;
  // asString of an enum: ask the server for the state string.
  if (opts.asString && ftype === undefined && chid.nativeType === 3) type = DBR.STRING;
  const g: { dbrType: number; count: number; timeout?: number } = { dbrType: type, count: opts.count ?? 0 };
  if (opts.timeout !== undefined) g.timeout = opts.timeout;
  try {
    return await chid.get(g);
  } catch (err) {
    if (err instanceof TimeoutError) return undefined;
    throw err;
  }
}

/** ca.get: the value, or undefined on timeout. */
export async function get(chid: Chid, opts: CaGetOptions = {}): Promise<CaValue | undefined> {
  const r = await rawGet(chid, opts.ftype, opts);
  return r && unpackValue(r, chid, opts);
}

/** ca.get_with_metadata: value plus every metadata field of the requested type. */
export async function getWithMetadata(chid: Chid, opts: CaGetOptions = {}): Promise<CaMetadata | undefined> {
  const r = await rawGet(chid, opts.ftype, opts);
  if (!r) return undefined;
  return { value: unpackValue(r, chid, opts), ...metadataOf(r) };
}

/** get with the CTRL form of the native type. */
export async function getCtrl(chid: Chid, opts: CaGetOptions = {}): Promise<CaMetadata | undefined> {
  if (!chid.connected) await connectChannel(chid, opts.timeout ?? DEFAULT_CONNECTION_TIMEOUT);
  return getWithMetadata(chid, { ...opts, ftype: promoteType(chid, { useCtrl: true }) });
}

/** ca.get_timevars: status, severity, timestamp, posixseconds, nanoseconds. */
export async function getTimevars(
  chid: Chid,
  opts: { timeout?: number } = {},
): Promise<CaMetadata | undefined> {
  if (!chid.connected) await connectChannel(chid, opts.timeout ?? 5);
  const r = await rawGet(chid, promoteType(chid, { useTime: true }), {
    timeout: opts.timeout ?? 5,
    count: 1,
  });
  return r && metadataOf(r);
}

/** ca.get_ctrlvars: the CTRL metadata without the value. */
export async function getCtrlvars(
  chid: Chid,
  opts: { timeout?: number } = {},
): Promise<CaMetadata | undefined> {
  if (!chid.connected) await connectChannel(chid, opts.timeout ?? 5);
  const t = chid.nativeType === 0 ? DBR.CTRL_STRING : promoteType(chid, { useCtrl: true });
  const r = await rawGet(chid, t, { timeout: opts.timeout ?? 5, count: 1 });
  return r && metadataOf(r);
}

export interface CaPutOptions {
  wait?: boolean;
  timeout?: number;
  /** Called on completion (WRITE_NOTIFY) with {pvname, data: callbackData}. */
  callback?: (args: { pvname: string; data: unknown }) => void;
  callbackData?: unknown;
  /** Force the native type to convert the value for (default the channel's). */
  ftype?: number;
}

/** ca.put: 1 on success, -1 when a waited put timed out. */
export async function put(chid: Chid, value: unknown, opts: CaPutOptions = {}): Promise<number> {
  if (!chid.connected && !(await connectChannel(chid, DEFAULT_CONNECTION_TIMEOUT))) {
    throw new TimeoutError(`put() timed out waiting '${chid.name}' to connect`, { pvname: chid.name });
  }
  const nt = opts.ftype !== undefined ? nativeType(opts.ftype) : (chid.nativeType as NativeType);
  const pv = toNativeArray(value, nt, { elementCount: chid.elementCount });
  const notify = opts.wait === true || opts.callback !== undefined;
  const p: { dbrType: number; wait: boolean; timeout?: number } = { dbrType: pv.dbrType, wait: notify };
  p.timeout = opts.timeout ?? 30;
  const done = chid.put(pv.value, p);
  if (opts.callback) {
    const cb = opts.callback;
    void done.then(
      () => cb({ pvname: chid.name, data: opts.callbackData }),
      () => undefined,
    );
    if (!opts.wait) return ECA.NORMAL;
  }
  try {
    await done;
    return ECA.NORMAL;
  } catch (err) {
    if (err instanceof TimeoutError) return -1;
    throw err;
  }
}

/** Arguments a subscription callback receives (pyepics' keyword arguments, camelCase). */
export interface SubscriptionEvent extends CaMetadata {
  pvname: string;
  value: CaValue;
  count: number;
  ftype: number;
  chid: Chid;
}

export interface CaSubscription {
  readonly chid: Chid;
  readonly subscription: Subscription;
  readonly callback: (ev: SubscriptionEvent) => void;
}

export interface CreateSubscriptionOptions {
  useTime?: boolean;
  useCtrl?: boolean;
  mask?: number;
  callback?: (ev: SubscriptionEvent) => void;
  /** 0 / undefined = the server's current length. */
  count?: number;
  asString?: boolean;
  asNumpy?: boolean;
}

/** ca.create_subscription. The channel must be connected (its native type decides the DBR type). */
export function createSubscription(chid: Chid, opts: CreateSubscriptionOptions = {}): CaSubscription {
  const cb = opts.callback ?? (() => undefined);
  const family = opts.useCtrl ? 4 : opts.useTime ? 2 : 0;
  const so: { family: number; count?: number; mask?: number; dbrType?: number } = { family };
  if (opts.count !== undefined) so.count = opts.count;
  if (opts.mask !== undefined) so.mask = opts.mask;
  if (chid.nativeType >= 0)
    so.dbrType = promoteType(chid, { useTime: opts.useTime ?? false, useCtrl: opts.useCtrl ?? false });
  const sub = chid.subscribe(so, (r) => {
    cb({
      pvname: chid.name,
      chid,
      ftype: r.dbrType,
      count: r.count,
      ...metadataOf(r),
      value: unpackValue(r, chid, opts),
    });
  });
  return { chid, subscription: sub, callback: cb };
}

export function clearSubscription(s: CaSubscription): void {
  s.subscription.clear();
}
