/**
 * A CA channel: one name searched, connected over a shared circuit, with get / put / subscribe.
 * Created by `Context.channel(name)`; the context routes protocol messages to it.
 */
import { CA_MINOR_VERSION, Command, DBE, ECA, ecaMessage } from '../protocol/constants.js';
import type { NativeType } from '../protocol/constants.js';
import { isValidDbrType } from '../protocol/dbr.js';
import { HEADER_SIZE, padTo8 } from '../protocol/header.js';
import type { NativeArray } from '../protocol/values.js';
import type { Circuit } from './circuit.js';
import type { Context } from './context.js';
import { headerLength, put16, putHeader, zero } from './request-batch.js';
import { writeLatin1 } from './search.js';
import { AccessError, CaError, DisconnectedError, NotFoundError, TimeoutError } from './errors.js';
import { notifyAccess, notifyConnection } from './channel-listeners.js';
import { finishOp, startOp } from './pending-ops.js';
import type { PendingOp } from './pending-ops.js';
import { checkPutValue, encodePutRequest, setPutIoid } from './put-request.js';
import { SubscriptionImpl } from './subscription.js';
import type { SubscriptionObserver } from './subscription.js';
import type {
  ChannelObserver,
  ChannelState,
  GetOptions,
  GetResult,
  PutOptions,
  SubscribeOptions,
  Subscription,
} from './channel-types.js';

// The pieces of the channel module, re-exported for existing importers.
export type {
  ChannelObserver,
  ChannelState,
  GetOptions,
  GetResult,
  PutOptions,
  SubscribeOptions,
  Subscription,
} from './channel-types.js';
export { SubscriptionImpl } from './subscription.js';
export type { SubscriptionObserver } from './subscription.js';
export type { PendingOp } from './pending-ops.js';
export { decodeResult } from './decode-result.js';

/** Default get timeout as pyepics computes it. */
export function defaultGetTimeout(count: number): number {
  return 1 + Math.log10(Math.max(1, count));
}

interface Waiter {
  resolve(): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout | undefined;
}

const NO_SUBS: readonly SubscriptionImpl[] = [];

export class Channel {
  readonly name: string;
  readonly context: Context;
  readonly priority: number;
  /** @internal client channel id */
  readonly cid: number;
  /** @internal server channel id */
  sid = 0;
  /** @internal */
  circuit: Circuit | undefined;
  private _state: ChannelState = 'searching';
  private _host = '';
  private _nativeType: NativeType | -1 = -1;
  private _elementCount = 0;
  private _access = 0;
  private _accessNotified = -1;
  private _serverMinor = 0;
  private _created = false;
  // Created on first use: most channels never have most of these (memory per channel).
  private connListeners: Set<(connected: boolean) => void> | undefined;
  private accessListeners: Set<(read: boolean, write: boolean) => void> | undefined;
  private waiters: Set<Waiter> | undefined;
  /** @internal pending get / put operations */
  pending: Set<PendingOp> | undefined;
  /**
   * @internal The channel's first subscription: its subscription id is the channel id (unique among
   * the context's ids), so that it needs no entry in the context's table nor an array (memory per PV).
   */
  _sub: SubscriptionImpl | undefined;
  /** @internal every later subscription (ids of their own, in the context's table) */
  subs: SubscriptionImpl[] | undefined;
  /** Whether the channel id is still free to serve as a subscription id (first subscription only). */
  private _cidFree = true;
  /** @internal one observer called before the listeners, without closures (the PV object). */
  _observer: ChannelObserver | undefined;

  /** @internal use Context.channel() */
  constructor(context: Context, name: string, cid: number, priority: number) {
    this.context = context;
    this.name = name;
    this.cid = cid;
    this.priority = priority;
  }

  get state(): ChannelState {
    return this._state;
  }
  get connected(): boolean {
    return this._state === 'connected';
  }
  get host(): string {
    return this._host;
  }
  get nativeType(): NativeType | -1 {
    return this._nativeType;
  }
  get elementCount(): number {
    return this._elementCount;
  }
  get readAccess(): boolean {
    return (this._access & 1) !== 0;
  }
  get writeAccess(): boolean {
    return (this._access & 2) !== 0;
  }
  get serverMinor(): number {
    return this._serverMinor;
  }

  /** Resolves when connected; rejects NotFoundError (name unresolved) or TimeoutError. */
  waitForConnection(timeout = 5): Promise<void> {
    if (this._state === 'connected') return Promise.resolve();
    if (this._state === 'closed') return Promise.reject(this.closedError());
    if (!(timeout >= 0))
      return Promise.reject(new CaError(`invalid timeout ${timeout}`, { pvname: this.name }));
    return new Promise<void>((resolve, reject) => {
      const ctx = this.context;
      ctx._hold();
      const w: Waiter = {
        resolve: () => {
          if (w.timer) clearTimeout(w.timer);
          this.waiters?.delete(w);
          ctx._release();
          resolve();
        },
        reject: (e) => {
          if (w.timer) clearTimeout(w.timer);
          this.waiters?.delete(w);
          ctx._release();
          reject(e);
        },
        timer: undefined,
      };
      w.timer = setTimeout(() => {
        w.timer = undefined;
        const msg = `timed out after ${timeout} s waiting for '${this.name}' to connect`;
        w.reject(
          this.circuit === undefined
            ? new NotFoundError(msg, { pvname: this.name })
            : new TimeoutError(msg, { pvname: this.name }),
        );
      }, timeout * 1000);
      w.timer.unref();
      (this.waiters ??= new Set()).add(w);
    });
  }

  async get(opts: GetOptions = {}): Promise<GetResult> {
    if (this._state !== 'connected') await this.waitForConnection(opts.timeout ?? 5);
    // The circuit may have dropped between the connection and this continuation.
    const circuit = this.connectedCircuit();
    const native = this._nativeType as NativeType;
    const dbrType = opts.dbrType ?? native + 7 * (opts.family ?? 0);
    if (
      !isValidDbrType(dbrType) ||
      dbrType === 35 ||
      dbrType === 36 ||
      (opts.family !== undefined && !(opts.family >= 0 && opts.family <= 4))
    ) {
      throw new CaError(`invalid DBR type ${dbrType} for a get of '${this.name}'`, {
        eca: ECA.BADTYPE,
        pvname: this.name,
      });
    }
    let count = opts.count ?? this._elementCount;
    if (!Number.isInteger(count) || count < 0) {
      throw new CaError(`invalid element count ${count}`, { eca: ECA.BADCOUNT, pvname: this.name });
    }
    if (count > this._elementCount) count = this._elementCount;
    if (count === 0 && this._serverMinor < 13) count = this._elementCount;
    if (!this.readAccess)
      throw new AccessError(ecaMessage(ECA.NORDACCESS), { eca: ECA.NORDACCESS, pvname: this.name });
    const timeout = opts.timeout ?? defaultGetTimeout(count);
    return new Promise<GetResult>((resolve, reject) => {
      const op = startOp(
        this.context,
        this,
        'get',
        dbrType,
        timeout,
        resolve as (v: GetResult | undefined) => void,
        reject,
      );
      this.context._batch.header(circuit, Command.READ_NOTIFY, dbrType, count, this.sid, op.ioid);
    });
  }

  async put(value: NativeArray, opts: PutOptions): Promise<void> {
    const wait = opts.wait ?? false;
    const timeout = opts.timeout ?? 30;
    const dbrType = opts?.dbrType;
    checkPutValue(value, dbrType, this.name);
    const count = value.length;
    if (this._state !== 'connected') await this.waitForConnection(opts.timeout ?? 5);
    // count 0 is sent as libca sends it (the server decides: an IOC empties an array, NORD = 0)
    if (count > this._elementCount) {
      throw new CaError(`invalid element count ${count} (channel has ${this._elementCount})`, {
        eca: ECA.BADCOUNT,
        pvname: this.name,
      });
    }
    if (!this.writeAccess)
      throw new AccessError(ecaMessage(ECA.NOWTACCESS), { eca: ECA.NOWTACCESS, pvname: this.name });
    const circuit = this.connectedCircuit();
    if (!wait) {
      const buf = encodePutRequest(Command.WRITE, dbrType, count, value, this.sid, this.cid);
      return new Promise<void>((resolve, reject) => {
        this.context._hold();
        this.context._batch.send(
          circuit,
          buf,
          (err) => {
            this.context._release();
            if (err)
              reject(
                new DisconnectedError(`put to '${this.name}' not sent: ${err.message}`, {
                  pvname: this.name,
                  cause: err,
                }),
              );
            else resolve();
          },
          true,
        );
      });
    }
    // the ioid is set once the operation is started (the same bytes as encoding after it)
    const buf = encodePutRequest(Command.WRITE_NOTIFY, dbrType, count, value, this.sid, 0);
    return new Promise<void>((resolve, reject) => {
      const op = startOp(this.context, this, 'put', dbrType, timeout, () => resolve(), reject);
      setPutIoid(buf, op.ioid);
      this.context._batch.send(circuit, buf, undefined, true);
    });
  }

  subscribe(opts: SubscribeOptions, cb: (data: GetResult) => void): Subscription {
    if (typeof cb !== 'function') {
      if (this._state === 'closed') throw this.closedError();
      throw new CaError('subscribe needs a callback', { eca: ECA.BADFUNCPTR, pvname: this.name });
    }
    return this._subscribeObserver(opts, cb);
  }

  /** @internal subscribe() with an observer object instead of a callback (no closure per PV). */
  _subscribeObserver(
    opts: SubscribeOptions,
    cb: ((data: GetResult) => void) | SubscriptionObserver,
  ): Subscription {
    if (this._state === 'closed') throw this.closedError();
    const mask = opts.mask ?? DBE.VALUE | DBE.ALARM;
    if (!Number.isInteger(mask) || (mask & 0xffff) === 0 || mask > 0xffff) {
      throw new CaError(`invalid event mask ${mask}`, { eca: ECA.BADMASK, pvname: this.name });
    }
    if (opts.dbrType !== undefined && (!isValidDbrType(opts.dbrType) || opts.dbrType > 34)) {
      throw new CaError(`invalid DBR type ${opts.dbrType} for a subscription`, {
        eca: ECA.BADTYPE,
        pvname: this.name,
      });
    }
    if (
      opts.family !== undefined &&
      !(Number.isInteger(opts.family) && opts.family >= 0 && opts.family <= 4)
    ) {
      throw new CaError(`invalid DBR family ${opts.family}`, { eca: ECA.BADTYPE, pvname: this.name });
    }
    if (opts.count !== undefined && !(Number.isInteger(opts.count) && opts.count >= 0)) {
      throw new CaError(`invalid element count ${opts.count}`, { eca: ECA.BADCOUNT, pvname: this.name });
    }
    let sub: SubscriptionImpl;
    if (this._cidFree) {
      // only ever once: a later subscription must not receive updates still in flight for this one
      this._cidFree = false;
      sub = this._sub = new SubscriptionImpl(this.cid, this, opts, mask, cb);
    } else {
      sub = new SubscriptionImpl(this.context._nextId(), this, opts, mask, cb);
      if (this.subs) this.subs.push(sub);
      else this.subs = [sub];
      this.context._registerSub(sub);
    }
    if (this._state === 'connected') this.sendEventAdd(sub);
    return sub;
  }

  onConnectionChange(cb: (connected: boolean) => void): () => void {
    const set = (this.connListeners ??= new Set());
    set.add(cb);
    return () => set.delete(cb);
  }

  onAccessRightsChange(cb: (read: boolean, write: boolean) => void): () => void {
    const set = (this.accessListeners ??= new Set());
    set.add(cb);
    return () => set.delete(cb);
  }

  /** CLEAR_CHANNEL; pending operations reject with CaError. */
  close(): void {
    if (this._state === 'closed') return;
    const wasConnected = this._state === 'connected';
    this._state = 'closed';
    const c = this.circuit;
    if (c && this._created && !c.closed) {
      this.context._batch.header(c, Command.CLEAR_CHANNEL, 0, 0, this.sid, this.cid);
    }
    this.unbind();
    if ((this.waiters?.size ?? 0) > 0 || (this.pending?.size ?? 0) > 0) {
      const err = this.closedError();
      if (this.waiters) for (const w of [...this.waiters]) w.reject(err);
      this.rejectPending(err);
    }
    if (this._sub) {
      this._sub.active = false;
      this._sub = undefined;
    }
    const subs = this.subs;
    if (subs) {
      for (const s of subs) s.active = false;
      for (const s of subs) this.context._unregisterSub(s);
      subs.length = 0;
    }
    this.context._channelClosed(this);
    if (wasConnected) this.emitConnection(false);
    this.connListeners?.clear();
    this.accessListeners?.clear();
    this._observer = undefined;
  }

  // ---- internal: driven by the context ----

  /** @internal */
  _removeSubscription(sub: SubscriptionImpl): void {
    if (sub === this._sub) this._sub = undefined;
    else {
      const i = this.subs ? this.subs.indexOf(sub) : -1;
      if (i >= 0) this.subs!.splice(i, 1);
      this.context._unregisterSub(sub);
    }
    const c = this.circuit;
    if (c && this._state === 'connected' && sub.sentType >= 0) {
      this.context._batch.header(c, Command.EVENT_CANCEL, sub.sentType, sub.sentCount, this.sid, sub.subid);
    }
  }

  /** The circuit of a connected channel; DisconnectedError when it is not (any more) connected. */
  private connectedCircuit(): Circuit {
    const c = this.circuit;
    if (this._state === 'connected' && c && !c.closed) return c;
    if (this._state === 'closed') throw this.closedError();
    throw new DisconnectedError(`channel '${this.name}' disconnected`, { pvname: this.name });
  }

  /** @internal bound to a circuit after a search reply; CREATE_CHAN is sent. */
  _bind(c: Circuit, minor: number): void {
    this.circuit = c;
    this._created = false;
    this._serverMinor = minor;
    this._host = c.address;
    c.channels.add(this.cid);
    const n = this.name.length; // latin1: one byte per character
    const size = padTo8(n + 1);
    const batch = this.context._batch;
    const at = batch.reserve(c, HEADER_SIZE + size);
    const buf = batch.buffer;
    putHeader(buf, at, Command.CREATE_CHAN, size, 0, 0, this.cid, CA_MINOR_VERSION);
    writeLatin1(buf, at + HEADER_SIZE, this.name);
    zero(buf, at + HEADER_SIZE + n, at + HEADER_SIZE + size);
  }

  /** @internal */
  _setAccess(rights: number): void {
    this._access = rights & 3;
    if (this._state === 'connected') this.emitAccess();
  }

  /** @internal CREATE_CHAN reply. */
  _createdReply(sid: number, type: number, count: number, c: Circuit): void {
    if (this._state === 'closed') return;
    this.sid = sid;
    this._created = true;
    this._nativeType = (type <= 6 ? type : 0) as NativeType;
    this._elementCount = count;
    this._serverMinor = c.serverMinor;
    this._host = c.address;
    if (!c.responsive) return; // becomes connected when the circuit answers again
    this.becomeConnected();
  }

  /** @internal */
  _circuitResponsive(responsive: boolean): void {
    if (!this._created || this._state === 'closed') return;
    if (!responsive && this._state === 'connected') {
      this._state = 'disconnected';
      this.emitConnection(false);
    } else if (responsive && this._state !== 'connected') {
      // Refresh subscriptions with a READ_NOTIFY whose ioid is the subscription id (libca).
      this._state = 'connected';
      const c = this.circuit!;
      const batch = this.context._batch;
      const p = this._sub;
      if (p && p.sentType >= 0)
        batch.header(c, Command.READ_NOTIFY, p.sentType, p.sentCount, this.sid, p.subid);
      for (const s of this.subs ?? NO_SUBS) {
        if (s.sentType >= 0) batch.header(c, Command.READ_NOTIFY, s.sentType, s.sentCount, this.sid, s.subid);
      }
      this.resolveWaiters();
      this.emitConnection(true);
    }
  }

  /** @internal circuit lost, or CREATE_CH_FAIL / SERVER_DISCONN: back to searching. */
  _lost(reason: Error | undefined): void {
    if (this._state === 'closed') return;
    const wasConnected = this._state === 'connected';
    this.unbind();
    if (this._state === 'connected' || this._created) this._state = 'disconnected';
    this._created = false;
    if (this._sub) this._sub.sentType = -1;
    for (const s of this.subs ?? NO_SUBS) s.sentType = -1;
    const why = reason ? `: ${reason.message}` : '';
    this.rejectPending(
      new DisconnectedError(`channel '${this.name}' disconnected${why}`, {
        pvname: this.name,
        cause: reason,
      }),
    );
    if (wasConnected) this.emitConnection(false);
  }

  private unbind(): void {
    const c = this.circuit;
    if (c) {
      c.channels.delete(this.cid);
      this.context._circuitMaybeIdle(c);
    }
    this.circuit = undefined;
  }

  private becomeConnected(): void {
    this._state = 'connected';
    if (this._sub) this.sendEventAdd(this._sub);
    for (const s of this.subs ?? NO_SUBS) this.sendEventAdd(s);
    this.emitAccess();
    this.resolveWaiters();
    this.emitConnection(true);
  }

  private resolveWaiters(): void {
    if (this.waiters) for (const w of [...this.waiters]) w.resolve();
  }

  private sendEventAdd(s: SubscriptionImpl): void {
    const c = this.circuit;
    if (!c) return;
    const native = this._nativeType as NativeType;
    const type = s.dbrType ?? native + 7 * (s.family ?? 0);
    let count = s.count ?? 0;
    if (count > this._elementCount) count = this._elementCount;
    if (count === 0 && this._serverMinor < 13) count = this._elementCount;
    s.sentType = type;
    s.sentCount = count;
    const batch = this.context._batch;
    const at = batch.reserve(c, headerLength(16, count) + 16);
    const buf = batch.buffer;
    const body = putHeader(buf, at, Command.EVENT_ADD, 16, type, count, this.sid, s.subid);
    zero(buf, body, body + 16);
    put16(buf, body + 12, s.mask);
  }

  private rejectPending(err: Error): void {
    if (this.pending) for (const op of [...this.pending]) finishOp(this.context, op, err);
  }

  private emitConnection(up: boolean): void {
    notifyConnection(this._observer, this.connListeners, up);
  }

  private emitAccess(): void {
    if (this._accessNotified === this._access) return;
    this._accessNotified = this._access;
    notifyAccess(this._observer, this.accessListeners, this.readAccess, this.writeAccess);
  }

  private closedError(): CaError {
    return new CaError(`channel '${this.name}' is closed`, { eca: ECA.CHANDESTROY, pvname: this.name });
  }
}
