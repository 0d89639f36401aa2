/**
 * The CA client context: owns the UDP search socket, the search scheduler, the circuits, the
 * repeater registration and beacon tracking, and routes protocol messages to channels.
 *
 * Process lifetime: every timer is unref()ed, and sockets are ref()ed only while an operation is
 * pending (a connection wait, a get, a put). Subscriptions alone do not keep the process alive: a
 * script that only monitors keeps itself running (e.g. awaits a promise it resolves when done).
 */
import dgram from 'node:dgram';
import dns from 'node:dns';
import os from 'node:os';
import { CA_MINOR_VERSION, Command, ECA, MAX_CLIENT_PV_NAME } from '../protocol/constants.js';
import { HEADER_SIZE, ProtocolError } from '../protocol/header.js';
import type { Message } from '../protocol/header.js';
import { BeaconTracker } from './beacons.js';
import { reportException } from './ca-exception.js';
import type { CaException } from './ca-exception.js';
import { Channel } from './channel.js';
import { Circuit } from './circuit.js';
import type { CircuitOwner } from './circuit.js';
import { readClientEnv, searchDestinations, ipv4ToInt } from './env.js';
import type { CaClientEnv, HostPort } from './env.js';
import { handleErrorReply } from './error-reply.js';
import { CaError } from './errors.js';
import { completeOp } from './pending-ops.js';
import type { PendingOp } from './pending-ops.js';
import { RepeaterRegistration } from './repeater-registration.js';
import { RequestBatch } from './request-batch.js';
import { SearchScheduler, parseClientDatagram } from './search.js';
import type { SearchReply, UdpNotice } from './search.js';
import type { SubscriptionImpl } from './subscription.js';

export type { CaException } from './ca-exception.js';

export interface ContextOptions {
  /** Environment to read EPICS_CA_* from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Register with (and if needed start) a CA repeater for beacons; default true. */
  repeater?: boolean;
  /** Called for asynchronous exceptions; default: printed to stderr as libca does. */
  onException?: (e: CaException) => void;
  /** CLIENT_NAME / HOST_NAME sent on each circuit (default: OS user and host name). */
  clientName?: string;
  hostName?: string;
  /** Seconds to wait for an ECHO answer before a circuit is declared unresponsive (default 5). */
  echoTimeout?: number;
}

const CREATE_FAIL_TIMER = 5; // ~1 s: retry names a server refused without hammering it
const CIRCUIT_IDLE_CLOSE_MS = 2000;

function defaultUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

export class Context implements CircuitOwner {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly config: CaClientEnv;
  private readonly channels = new Map<number, Channel>();
  private readonly circuits = new Map<string, Circuit>();
  /** @internal the pending get / put operations by ioid (see pending-ops.ts). */
  readonly _ops = new Map<number, PendingOp>();
  private readonly subsById = new Map<number, SubscriptionImpl>();
  private readonly nameServerCircuits = new Set<Circuit>();
  private readonly lostServers = new Map<string, Set<number>>();
  private readonly idleTimers = new Map<Circuit, NodeJS.Timeout>();
  private readonly exceptionListeners = new Set<(e: CaException) => void>();
  /** @internal the channels' small requests of the current event-loop turn (see request-batch.ts). */
  readonly _batch = new RequestBatch();
  private readonly beacons = new BeaconTracker(performance.now() / 1000);
  private scheduler: SearchScheduler | undefined;
  private udp: dgram.Socket | undefined;
  private udpReady = false;
  private destinations: HostPort[] = [];
  private idCounter = 1;
  private holds = 0;
  private _closed = false;
  private readonly useRepeater: boolean;
  private readonly repeater: RepeaterRegistration;
  private nsTimer: NodeJS.Timeout | undefined;
  private readonly clientName: string;
  private readonly hostName: string;
  private readonly echoTimeout: number;

  constructor(opts: ContextOptions = {}) {
    const env = opts.env ?? process.env;
    this.env = Object.freeze({ ...env });
    this.config = readClientEnv(this.env);
    this.useRepeater = opts.repeater ?? true;
    this.repeater = new RepeaterRegistration(this.env, this.config.repeaterPort, () =>
      this._closed || !this.udpReady ? undefined : this.udp,
    );
    if (opts.onException) this.exceptionListeners.add(opts.onException);
    this.clientName = opts.clientName ?? defaultUser();
    this.hostName = opts.hostName ?? os.hostname();
    this.echoTimeout = opts.echoTimeout ?? 5;
  }

  get closed(): boolean {
    return this._closed;
  }

  /** Whether a CA repeater confirmed our registration (beacons will arrive). */
  get repeaterRegistered(): boolean {
    return this.repeater.confirmed;
  }

  /** Number of circuits open (tests, statistics). */
  get circuitCount(): number {
    return this.circuits.size;
  }

  /** Create a channel and start searching for it. */
  channel(name: string, opts: { priority?: number } = {}): Channel {
    if (this._closed) throw new CaError('the CA context is closed', { eca: ECA.NOCACTX, pvname: name });
    if (typeof name !== 'string' || name.length === 0) {
      throw new CaError('empty channel name', { eca: ECA.EMPTYSTR });
    }
    if (name.length > MAX_CLIENT_PV_NAME || /[\0]/.test(name)) {
      throw new CaError(`invalid channel name (${name.length} characters)`, {
        eca: ECA.STRTOBIG,
        pvname: name,
      });
    }
    const priority = opts.priority ?? 0;
    if (!Number.isInteger(priority) || priority < 0 || priority > 99) {
      throw new CaError(`invalid channel priority ${priority}`, { eca: ECA.BADPRIORITY, pvname: name });
    }
    this.start();
    const ch = new Channel(this, name, this._nextId(), priority);
    this.channels.set(ch.cid, ch);
    this.scheduler!.add(ch.cid, name, 0);
    return ch;
  }

  /** Subscribe to asynchronous exceptions (replaces the default printing while any is set). */
  onException(cb: (e: CaException) => void): () => void {
    this.exceptionListeners.add(cb);
    return () => this.exceptionListeners.delete(cb);
  }

  /** Clear every channel and close every socket. */
  async close(): Promise<void> {
    if (this._closed) return;
    for (const ch of [...this.channels.values()]) ch.close();
    this._batch.flush(); // the CLEAR_CHANNELs go before the circuits close
    this._closed = true;
    this.scheduler?.close();
    this.repeater.close();
    if (this.nsTimer) clearTimeout(this.nsTimer);
    for (const t of this.idleTimers.values()) clearTimeout(t);
    this.idleTimers.clear();
    const closing: Promise<void>[] = [];
    for (const c of [...this.circuits.values(), ...this.nameServerCircuits]) {
      closing.push(new Promise<void>((res) => this.waitCircuitClosed(c, res)));
      c.close();
    }
    this.circuits.clear();
    this.nameServerCircuits.clear();
    if (this.udp) {
      const u = this.udp;
      this.udp = undefined;
      closing.push(new Promise<void>((res) => u.close(() => res())));
    }
    await Promise.all(closing);
  }

  // ---------------------------------------------------------------- internals used by Channel

  /** @internal */
  _nextId(): number {
    const id = this.idCounter;
    this.idCounter = this.idCounter >= 0x7fffffff ? 1 : this.idCounter + 1;
    return id;
  }

  /** @internal keep the process alive while an operation is pending. */
  _hold(): void {
    if (this.holds++ === 0) {
      this.udp?.ref();
      for (const c of this.circuits.values()) c.ref();
      for (const c of this.nameServerCircuits) c.ref();
    }
  }

  /** @internal */
  _release(): void {
    if (this.holds <= 0) return;
    if (--this.holds === 0) {
      this.udp?.unref();
      for (const c of this.circuits.values()) c.unref();
      for (const c of this.nameServerCircuits) c.unref();
    }
  }

  /** @internal */
  _registerSub(s: SubscriptionImpl): void {
    this.subsById.set(s.subid, s);
  }

  /** @internal */
  _unregisterSub(s: SubscriptionImpl): void {
    this.subsById.delete(s.subid);
  }

  /** @internal the subscription with this id: in the table, or a channel's first one (whose id is the cid). */
  _subscription(id: number): SubscriptionImpl | undefined {
    const s = this.subsById.get(id);
    if (s !== undefined) return s;
    const p = this.channels.get(id)?._sub;
    return p !== undefined && p.subid === id ? p : undefined;
  }

  /** @internal the channel with this cid. */
  _channel(cid: number): Channel | undefined {
    return this.channels.get(cid);
  }

  /** @internal */
  _channelClosed(ch: Channel): void {
    this.channels.delete(ch.cid);
    this.scheduler?.remove(ch.cid);
    for (const set of this.lostServers.values()) set.delete(ch.cid);
  }

  /** @internal close a circuit a while after its last channel went away. */
  _circuitMaybeIdle(c: Circuit): void {
    if (c.channels.size > 0 || c.closed || this.idleTimers.has(c)) return;
    const t = setTimeout(() => {
      this.idleTimers.delete(c);
      if (c.channels.size === 0 && !c.closed) {
        if (this.circuits.get(c.key) === c) this.circuits.delete(c.key);
        this._batch.flush();
        c.close();
      }
    }, CIRCUIT_IDLE_CLOSE_MS);
    t.unref();
    this.idleTimers.set(c, t);
  }

  // ---------------------------------------------------------------- exceptions

  /** @internal */
  _exception(eca: number, context: string, pvname?: string): void {
    reportException(this.exceptionListeners, eca, context, pvname);
  }

  // ---------------------------------------------------------------- UDP, search, repeater

  private start(): void {
    if (this.scheduler) return;
    this.scheduler = new SearchScheduler({
      maxSearchPeriod: this.config.maxSearchPeriod,
      send: (d) => this.sendSearch(d),
      immediateFirst: true,
    });
    const udp = dgram.createSocket({ type: 'udp4' });
    this.udp = udp;
    udp.on('error', () => {
      /* send errors (unreachable destination...) are not fatal for a search socket */
    });
    udp.on('message', (buf, rinfo) => this.onDatagram(buf, rinfo));
    udp.bind(0, () => {
      if (this.udp !== udp) return;
      try {
        udp.setBroadcast(true);
      } catch {
        /* ignore */
      }
      this.udpReady = true;
      if (this.useRepeater) this.repeater.register();
    });
    if (this.holds === 0) udp.unref();
    // Destinations: literal IPv4 now, host names resolved asynchronously.
    for (const d of searchDestinations(this.config)) {
      if (ipv4ToInt(d.host) !== undefined) this.destinations.push(d);
      else {
        dns.lookup(d.host, { family: 4 }, (err, address) => {
          if (!err && !this._closed) this.destinations.push({ host: address, port: d.port });
        });
      }
    }
    for (const ns of this.config.nameServers) this.openNameServer(ns);
    if (searchDestinations(this.config).length === 0 && this.config.nameServers.length === 0) {
      this._exception(ECA.NOSEARCHADDR, 'EPICS_CA_ADDR_LIST is empty and EPICS_CA_AUTO_ADDR_LIST=NO');
    }
  }

  private sendSearch(d: Buffer): void {
    const udp = this.udp;
    if (udp) {
      for (const dest of this.destinations) {
        udp.send(d, dest.port, dest.host, () => {
          /* errors ignored */
        });
      }
    }
    if (this.nameServerCircuits.size > 0 && d.length > HEADER_SIZE) {
      const body = d.subarray(HEADER_SIZE);
      for (const c of this.nameServerCircuits) if (c.state === 'connected') c.send(Buffer.from(body));
    }
  }

  private onDatagram(buf: Buffer, rinfo: dgram.RemoteInfo): void {
    if (buf.length === 0) return;
    parseClientDatagram(
      buf,
      rinfo.address,
      (r) => this.onSearchReply(r),
      (n) => this.onNotice(n),
    );
  }

  private onSearchReply(r: SearchReply): void {
    const ch = this.channels.get(r.cid);
    if (!ch) return; // unknown cid: dropped
    if (ch.circuit) {
      const addr = `${r.host}:${r.port}`;
      if (ch.circuit.address !== addr) {
        this._exception(
          ECA.DBLCHNL,
          `Channel: "${ch.name}", Connecting to: ${ch.circuit.address}, Ignored: ${addr}`,
          ch.name,
        );
      }
      return;
    }
    if (!this.scheduler!.reply(r.cid, r.seq)) {
      // Not searching (e.g. reply after it was boosted and resolved elsewhere): bind anyway.
    }
    const minor = r.minor ?? CA_MINOR_VERSION;
    const c = this.getCircuit(r.host, r.port, ch.priority, minor);
    if (this.lostServers.size > 0) {
      for (const [key, set] of this.lostServers) {
        if (set.delete(ch.cid) && set.size === 0) this.lostServers.delete(key);
      }
    }
    ch._bind(c, minor);
  }

  private getCircuit(host: string, port: number, priority: number, minor: number): Circuit {
    // The usual case: the circuit of the previous reply (no key string per reply).
    const last = this.lastCircuit;
    if (
      last !== undefined &&
      last.port === port &&
      last.priority === priority &&
      last.host === host &&
      !last.closed &&
      !this.idleTimers.has(last) &&
      this.circuits.get(last.key) === last
    ) {
      return last;
    }
    const key = Circuit.keyOf(host, port, priority);
    let c = this.circuits.get(key);
    if (c && !c.closed) {
      const t = this.idleTimers.get(c);
      if (t) {
        clearTimeout(t);
        this.idleTimers.delete(c);
      }
      this.lastCircuit = c;
      return c;
    }
    const maxPayload = this.config.autoArrayBytes ? 0x7fffffff : this.config.maxArrayBytes + 512;
    const ratio = this.config.autoArrayBytes ? 1 : Math.max(1, Math.floor(this.config.maxArrayBytes / 16384));
    c = new Circuit(this, {
      host,
      port,
      priority,
      minorHint: minor,
      clientName: this.clientName,
      hostName: this.hostName,
      connTmo: this.config.connTmo,
      echoTmo: this.echoTimeout,
      maxPayload,
      flowControlReads: 10 * ratio,
      ref: this.holds > 0,
    });
    this.circuits.set(key, c);
    this.lastCircuit = c;
    return c;
  }
  /** The circuit getCircuit returned last. */
  private lastCircuit: Circuit | undefined;

  private onNotice(n: UdpNotice): void {
    if (n.kind === 'repeater-confirm') {
      this.repeater.confirm();
      return;
    }
    if (n.kind !== 'beacon') return;
    const key = `${n.host}:${n.port}`;
    const verdict = this.beacons.beacon(key, n.number, n.minor, performance.now() / 1000);
    const lost = this.lostServers.get(key);
    if (lost) {
      // A server whose circuit we lost is beaconing: search its channels at once.
      this.lostServers.delete(key);
      this.scheduler?.boost(lost, 0);
    }
    if (verdict === 'anomaly') this.scheduler?.beaconAnomaly();
    else if (verdict === 'normal') {
      for (const c of this.circuits.values()) if (c.address === key) c.beaconSeen();
    }
  }

  // ---------------------------------------------------------------- name servers (TCP search)

  private openNameServer(ns: HostPort): void {
    if (this._closed) return;
    const connect = (host: string): void => {
      const c = new Circuit(this, {
        host,
        port: ns.port,
        priority: 0,
        clientName: this.clientName,
        hostName: this.hostName,
        connTmo: this.config.connTmo,
        maxPayload: 1 << 20,
        ref: this.holds > 0,
        nameServer: true,
      });
      this.nameServerCircuits.add(c);
    };
    if (ipv4ToInt(ns.host) !== undefined) connect(ns.host);
    else dns.lookup(ns.host, { family: 4 }, (err, a) => (err ? this.retryNameServer(ns) : connect(a)));
  }

  private retryNameServer(ns: HostPort): void {
    if (this._closed) return;
    const t = setTimeout(() => this.openNameServer(ns), 5000);
    t.unref();
  }

  // ---------------------------------------------------------------- CircuitOwner

  /** @internal */
  circuitConnected(c: Circuit): void {
    if (this.nameServerCircuits.has(c) && this.scheduler) {
      // A new name-server circuit gets every name still searched at once; the scheduler keeps
      // sending them at its pace afterwards.
      const all = this.scheduler.allRequests();
      if (all.length > 0) c.send(Buffer.concat(all));
    }
  }

  private waitCircuitClosed(c: Circuit, cb: () => void): void {
    const list = this.closeWaiters.get(c) ?? [];
    list.push(cb);
    this.closeWaiters.set(c, list);
  }
  private readonly closeWaiters = new Map<Circuit, Array<() => void>>();

  /** @internal */
  circuitClosed(c: Circuit, reason: Error | undefined): void {
    const waiters = this.closeWaiters.get(c);
    if (waiters) {
      this.closeWaiters.delete(c);
      for (const w of waiters) w();
    }
    const t = this.idleTimers.get(c);
    if (t) {
      clearTimeout(t);
      this.idleTimers.delete(c);
    }
    if (this.nameServerCircuits.delete(c)) {
      if (!this._closed) this.retryNameServer({ host: c.host, port: c.port });
      return;
    }
    if (this.circuits.get(c.key) === c) this.circuits.delete(c.key);
    if (this._closed) return;
    const cids = [...c.channels];
    if (cids.length === 0) return;
    const lost = this.lostServers.get(c.address) ?? new Set<number>();
    for (const cid of cids) {
      const ch = this.channels.get(cid);
      if (!ch) continue;
      ch._lost(reason);
      lost.add(cid);
      // Re-search at once (not libca's 10 s governor); a server that never accepted the circuit is
      // retried more slowly so that a UDP-only responder cannot make us spin.
      this.scheduler?.add(cid, ch.name, c.everConnected ? 0 : CREATE_FAIL_TIMER);
    }
    if (lost.size > 0) this.lostServers.set(c.address, lost);
  }

  /** @internal */
  circuitResponsive(c: Circuit, responsive: boolean): void {
    if (!responsive) this._exception(ECA.UNRESPTMO, c.address);
    for (const cid of c.channels) this.channels.get(cid)?._circuitResponsive(responsive);
  }

  /** @internal */
  circuitMessage(c: Circuit, m: Message, owned = false): void {
    switch (m.command) {
      case Command.READ_NOTIFY:
      case Command.READ: {
        const op = this._ops.get(m.parameter2);
        if (op) completeOp(op, m, this, owned);
        else if (m.command === Command.READ_NOTIFY) this._subscription(m.parameter2)?.deliver(m, owned);
        return;
      }
      case Command.EVENT_ADD: {
        if (m.payloadSize === 0) return; // cancel confirmation
        const s = this._subscription(m.parameter2);
        if (!s || s.channel.circuit !== c) return;
        if ((m.parameter1 & 1) === 1) s.deliver(m, owned);
        return;
      }
      case Command.WRITE_NOTIFY: {
        const op = this._ops.get(m.parameter2);
        if (op) completeOp(op, m, this);
        return;
      }
      case Command.VERSION:
        if (m.dataCount > 0) c.serverMinor = m.dataCount;
        return;
      case Command.ACCESS_RIGHTS: {
        const ch = this.channels.get(m.parameter1);
        if (ch && ch.circuit === c) ch._setAccess(m.parameter2);
        return;
      }
      case Command.CREATE_CHAN: {
        const ch = this.channels.get(m.parameter1);
        if (ch && ch.circuit === c) ch._createdReply(m.parameter2, m.dataType, m.dataCount, c);
        return;
      }
      case Command.CREATE_CH_FAIL:
      case Command.SERVER_DISCONN: {
        const ch = this.channels.get(m.parameter1);
        if (ch && ch.circuit === c) {
          ch._lost(
            new CaError(
              m.command === Command.CREATE_CH_FAIL
                ? 'channel creation failed'
                : 'server disconnected the channel',
            ),
          );
          this.scheduler?.add(ch.cid, ch.name, m.command === Command.SERVER_DISCONN ? 0 : CREATE_FAIL_TIMER);
        }
        return;
      }
      case Command.ERROR:
        handleErrorReply(this, c, m);
        return;
      case Command.SEARCH:
        if (this.nameServerCircuits.has(c)) {
          const host =
            m.parameter1 === 0xffffffff
              ? c.host
              : `${m.parameter1 >>> 24}.${(m.parameter1 >>> 16) & 255}.${(m.parameter1 >>> 8) & 255}.${m.parameter1 & 255}`;
          this.onSearchReply({ cid: m.parameter2, host, port: m.dataType, minor: c.serverMinor });
        }
        return;
      case Command.ECHO:
      case Command.READ_SYNC:
      case Command.CLEAR_CHANNEL:
      case Command.NOT_FOUND:
      case Command.EVENTS_OFF:
      case Command.EVENTS_ON:
        return;
      default:
        c.destroy(new ProtocolError(`unexpected command ${m.command} from ${c.address}`));
    }
  }
}

let defaultCtx: Context | undefined;

/** The process-wide context (created on first use). */
export function defaultContext(): Context {
  if (!defaultCtx || defaultCtx.closed) defaultCtx = new Context();
  return defaultCtx;
}

/** Close the process-wide context, if any. */
export async function closeDefaultContext(): Promise<void> {
  const c = defaultCtx;
  defaultCtx = undefined;
  if (c) await c.close();
}
