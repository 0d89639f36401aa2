/**
 * The CA client's PV class adapted to the devices' PvLike contract, and installed as the default
 * PV factory. PVs are cached per (name, autoMonitor) like pyepics' get_pv, so devices that share a
 * field (an MCA and its ROI objects, two Devices on one record) share one channel.
 *
 * Contract differences bridged here: the client's `put` resolves to nothing and rejects on
 * failure; PvLike's resolves to pyepics' codes (1 done/queued, -1 wait timed out, null not
 * connected) and rejects only for refusals (no write access, bad value, server error).
 */
import { closeDefaultContext, type Context } from '../client/context.js';
import { NotFoundError, TimeoutError, DisconnectedError } from '../client/errors.js';
import { getPV } from '../client/procedural.js';
import { DEFAULT_CONNECTION_TIMEOUT, PV, type PVCallbackArgs } from '../client/pv.js';
import { setDefaultPvFactory } from './factory.js';
import type {
  PvCallback,
  PvFactory,
  PvFactoryOptions,
  PvGetOptions,
  PvLike,
  PvPutOptions,
} from './pv-like.js';

export class ClientPv implements PvLike {
  private closed = false;
  constructor(
    readonly pv: PV,
    private readonly onDisconnect: () => void = () => undefined,
  ) {}
  get pvname(): string {
    return this.pv.pvname;
  }
  get connected(): boolean {
    return this.pv.connected;
  }
  get value(): unknown {
    return this.pv.value;
  }
  get charValue(): string | null {
    const c = this.pv.charValue;
    return c === undefined ? null : Array.isArray(c) ? c.join(' ') : c;
  }
  get access(): string {
    return this.pv.access;
  }
  get writeAccess(): boolean | null {
    return this.pv.connected ? this.pv.writeAccess : null;
  }
  get type(): string | null {
    return this.pv.connected ? this.pv.type : null;
  }
  get nelm(): number | null {
    return this.pv.connected ? this.pv.nelm : null;
  }
  get isClosed(): boolean {
    return this.closed;
  }
  waitForConnection(timeout?: number): Promise<boolean> {
    return this.pv.waitForConnection(timeout);
  }
  async get(opts: PvGetOptions = {}): Promise<unknown> {
    return this.pv.get(opts);
  }
  async put(value: unknown, opts: PvPutOptions = {}): Promise<number | null> {
    if (!this.pv.connected && !(await this.pv.waitForConnection())) return null;
    try {
      await this.pv.put(value, { wait: opts.wait, timeout: opts.timeout });
      return 1;
    } catch (e) {
      if (e instanceof NotFoundError || e instanceof DisconnectedError) return null;
      if (e instanceof TimeoutError && opts.wait) return -1;
      throw e;
    }
  }
  addCallback(fn: PvCallback): number {
    return this.pv.addCallback((args: PVCallbackArgs) => fn(args)) as number;
  }
  removeCallback(index: number): void {
    this.pv.removeCallback(index);
  }
  disconnect(): void {
    this.closed = true;
    this.onDisconnect();
    this.pv.disconnect();
  }
}

export interface ClientPvFactory {
  factory: PvFactory;
  /** Disconnect every PV this factory made (and close the context when it owns it). */
  close(): Promise<void>;
}

/**
 * A PvFactory over the client's PVs. PVs come from the client's `getPV` cache (pyepics' get_pv),
 * so devices share channels with each other and with `caget`/`caput`. `autoMonitor: false` only
 * applies when the PV is new (a PV already monitored stays monitored; reads that must be fresh use
 * `useMonitor: false`). `context` defaults to the client's process-wide context.
 */
export function makeClientPvFactory(opts: { context?: Context } = {}): ClientPvFactory {
  const wrappers = new WeakMap<PV, ClientPv>();
  const made = new Set<ClientPv>();
  const factory: PvFactory = (name: string, o: PvFactoryOptions = {}): PvLike => {
    const pv = getPV(name, {
      context: opts.context,
      timeout: o.connectionTimeout ?? DEFAULT_CONNECTION_TIMEOUT,
      autoMonitor: o.autoMonitor,
    });
    let p = wrappers.get(pv);
    if (!p || p.isClosed) {
      const w: ClientPv = new ClientPv(pv, () => made.delete(w));
      wrappers.set(pv, w);
      made.add(w);
      p = w;
    }
    if (o.callback) p.addCallback(o.callback);
    return p;
  };
  return {
    factory,
    async close() {
      for (const p of [...made]) p.disconnect();
      made.clear();
      if (!opts.context) await closeDefaultContext();
    },
  };
}

const defaultFactory = makeClientPvFactory();

/** The default PvFactory: the client's PVs on its process-wide context. */
export const clientPvFactory: PvFactory = defaultFactory.factory;

/** Disconnect every PV the default factory created and close the client's default context. */
export async function closeClient(): Promise<void> {
  await defaultFactory.close();
}

setDefaultPvFactory(clientPvFactory);
