/**
 * Name search (ca-protocol.md §11): libca's search-timer schedule as a sans-I/O scheduler, plus the
 * parsing of search replies. The context wires it to a UDP socket (and to name-server circuits).
 *
 * Schedule: N timers, timer i fires every 2^i × RTT estimate (bounded by the max search period).
 * A new name joins timer 0. At each expiry a timer first moves the names it sent last time and that
 * are still unanswered to timer i+1 (capped at N-1), then sends its queued names, packed into
 * datagrams of at most 1024 bytes that each start with a sequence-numbered VERSION. The number of
 * datagrams per expiry follows a congestion window (start 1, doubling up to a threshold, then +1/n,
 * max 64; any miss halves the threshold and resets it to 1).
 */
import { CA_MINOR_VERSION, Command, MAX_UDP_SEND, SEARCH_DONT_REPLY } from '../protocol/constants.js';
import { HEADER_SIZE, decodeMessage, padTo8 } from '../protocol/header.js';

export const MIN_RTT = 0.032;
export const MAX_RTT = 30;
export const MAX_TIMERS = 18;
/** The timer libca calls the "5 s" timer: beacon anomalies move slower names down to it. */
export const BEACON_ANOMALY_TIMER = 8;
const MAX_FRAMES_PER_TRY = 64;

export interface SearchClock {
  /** Seconds (monotonic). */
  now(): number;
  setTimer(fn: () => void, delaySeconds: number): unknown;
  clearTimer(handle: unknown): void;
}

export const realClock: SearchClock = {
  now: () => performance.now() / 1000,
  setTimer: (fn, d) => {
    const t = setTimeout(fn, Math.max(0, d * 1000));
    t.unref();
    return t;
  },
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Number of search timers for a max search period (libca: ⌊1 + log2(max/0.032)⌋, at most 18). */
export function searchTimerCount(maxSearchPeriod: number): number {
  const n = Math.floor(1 + Math.log2(maxSearchPeriod / MIN_RTT));
  return Math.max(1, Math.min(MAX_TIMERS, n));
}

/** Encode one SEARCH request message (DONTREPLY, client minor, cid twice). */
export function encodeSearchRequest(name: string, cid: number, reply = SEARCH_DONT_REPLY): Buffer {
  // latin1: one byte per character (pooled allocation, NUL padding written explicitly)
  const n = name.length;
  const size = padTo8(n + 1);
  const buf = Buffer.allocUnsafe(HEADER_SIZE + size);
  buf.writeUInt16BE(Command.SEARCH, 0);
  buf.writeUInt16BE(size, 2);
  buf.writeUInt16BE(reply, 4);
  buf.writeUInt16BE(CA_MINOR_VERSION, 6);
  buf.writeUInt32BE(cid >>> 0, 8);
  buf.writeUInt32BE(cid >>> 0, 12);
  buf.write(name, HEADER_SIZE, n, 'latin1');
  buf.fill(0, HEADER_SIZE + n, HEADER_SIZE + size);
  return buf;
}

interface Entry {
  cid: number;
  msg: Buffer;
  timer: number;
  /** true once sent by its timer in the current pass (waiting for a reply). */
  sent: boolean;
}

interface Timer {
  index: number;
  req: Set<Entry>;
  resp: Set<Entry>;
  handle: unknown;
  framesPerTry: number;
  congestThresh: number;
  passStart: number;
  seqFirst: number;
  seqLast: number;
  sentCount: number;
  respCount: number;
}

export interface SearchSchedulerOptions {
  maxSearchPeriod: number;
  /** Called with each datagram to send (VERSION + SEARCH messages). */
  send: (datagram: Buffer) => void;
  clock?: SearchClock;
  maxDatagram?: number;
  /**
   * Send a name added to an idle timer 0 at the next timer tick instead of one period later (names
   * added in the same tick still share the datagrams). Default false: libca's schedule.
   */
  immediateFirst?: boolean;
}

export class SearchScheduler {
  readonly timerCount: number;
  private readonly timers: Timer[] = [];
  private readonly entries = new Map<number, Entry>();
  private readonly clock: SearchClock;
  private readonly send: (d: Buffer) => void;
  private readonly maxPeriod: number;
  private readonly maxDatagram: number;
  private readonly immediateFirst: boolean;
  private seq = 1;
  private srtt = MIN_RTT;
  private rttDev = 0;
  private closed = false;
  /** Total datagrams sent (statistics / tests). */
  datagramsSent = 0;

  constructor(opts: SearchSchedulerOptions) {
    this.clock = opts.clock ?? realClock;
    this.send = opts.send;
    this.maxPeriod = opts.maxSearchPeriod;
    this.maxDatagram = opts.maxDatagram ?? MAX_UDP_SEND;
    this.immediateFirst = opts.immediateFirst ?? false;
    this.timerCount = searchTimerCount(opts.maxSearchPeriod);
    for (let i = 0; i < this.timerCount; i++) {
      this.timers.push({
        index: i,
        req: new Set(),
        resp: new Set(),
        handle: undefined,
        framesPerTry: 1,
        congestThresh: MAX_FRAMES_PER_TRY,
        passStart: 0,
        seqFirst: 0,
        seqLast: -1,
        sentCount: 0,
        respCount: 0,
      });
    }
  }

  /** Current round-trip estimate in seconds (smoothed RTT + 4 × mean deviation, 32 ms .. 30 s). */
  get rtt(): number {
    const e = this.srtt + 4 * this.rttDev;
    return Math.min(MAX_RTT, Math.max(MIN_RTT, e));
  }

  /** The period of timer i in seconds. */
  period(i: number): number {
    return Math.min(this.maxPeriod, this.rtt * 2 ** i);
  }

  get size(): number {
    return this.entries.size;
  }

  has(cid: number): boolean {
    return this.entries.has(cid);
  }

  /** Timer index a name is on (tests). */
  timerOf(cid: number): number | undefined {
    return this.entries.get(cid)?.timer;
  }

  /** Start (or restart) searching a name on timer `index` (default 0). */
  add(cid: number, name: string, index = 0): void {
    if (this.closed) return;
    this.remove(cid);
    const e: Entry = { cid, msg: encodeSearchRequest(name, cid), timer: 0, sent: false };
    this.entries.set(cid, e);
    this.place(e, Math.min(Math.max(0, index), this.timerCount - 1));
  }

  /** Stop searching a name (channel closed or resolved elsewhere). */
  remove(cid: number): boolean {
    const e = this.entries.get(cid);
    if (!e) return false;
    this.entries.delete(cid);
    const t = this.timers[e.timer]!;
    t.req.delete(e);
    t.resp.delete(e);
    return true;
  }

  /**
   * A reply arrived for `cid` (in the datagram with sequence number `seq`, when known). Removes the
   * name, updates the RTT estimate when the reply belongs to the current pass, and returns whether
   * the name was being searched.
   */
  reply(cid: number, seq?: number): boolean {
    const e = this.entries.get(cid);
    if (!e) return false;
    const t = this.timers[e.timer]!;
    const wasSent = t.resp.has(e);
    this.remove(cid);
    if (wasSent) {
      t.respCount++;
      if (seq !== undefined && seq >= t.seqFirst && seq <= t.seqLast) {
        this.updateRtt(this.clock.now() - t.passStart);
      }
    }
    // A slow timer that sees a reply boosts its queue to the anomaly timer.
    if (t.index > BEACON_ANOMALY_TIMER) this.moveAll(t, BEACON_ANOMALY_TIMER);
    // Every request of the pass answered and names still queued: go again at once.
    if (t.sentCount > 0 && t.respCount >= t.sentCount && t.req.size > 0) this.arm(t, 0, true);
    return true;
  }

  /** The SEARCH messages of every name still searched (e.g. to send over a new name-server circuit). */
  allRequests(): Buffer[] {
    return [...this.entries.values()].map((e) => e.msg);
  }

  /** Beacon anomaly: every name on a timer above index 8 moves down to timer 8. */
  beaconAnomaly(): void {
    for (let i = BEACON_ANOMALY_TIMER + 1; i < this.timerCount; i++) {
      this.moveAll(this.timers[i]!, BEACON_ANOMALY_TIMER);
    }
  }

  /** Move the given names to timer `index` now (e.g. 0 after a lost server beacons again). */
  boost(cids: Iterable<number>, index = 0): void {
    const target = Math.min(index, this.timerCount - 1);
    for (const cid of cids) {
      const e = this.entries.get(cid);
      if (!e || e.timer <= target) continue;
      const t = this.timers[e.timer]!;
      t.req.delete(e);
      t.resp.delete(e);
      this.place(e, target);
    }
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) {
      if (t.handle !== undefined) this.clock.clearTimer(t.handle);
      t.handle = undefined;
      t.req.clear();
      t.resp.clear();
    }
    this.entries.clear();
  }

  private updateRtt(sample: number): void {
    const s = Math.min(MAX_RTT, Math.max(0, sample));
    const err = s - this.srtt;
    this.srtt += err / 8;
    this.rttDev += (Math.abs(err) - this.rttDev) / 4;
  }

  private moveAll(from: Timer, to: number): void {
    if (from.index === to) return;
    const list = [...from.req, ...from.resp];
    from.req.clear();
    from.resp.clear();
    for (const e of list) this.place(e, to);
  }

  private place(e: Entry, index: number): void {
    e.timer = index;
    e.sent = false;
    const t = this.timers[index]!;
    t.req.add(e);
    if (t.handle === undefined) {
      this.arm(t, index === 0 && this.immediateFirst ? 0 : this.period(index), false);
    }
  }

  private arm(t: Timer, delay: number, replace: boolean): void {
    if (t.handle !== undefined) {
      if (!replace) return;
      this.clock.clearTimer(t.handle);
    }
    t.handle = this.clock.setTimer(() => this.expire(t), delay);
  }

  private expire(t: Timer): void {
    t.handle = undefined;
    if (this.closed) return;
    // Congestion window from the previous pass.
    if (t.sentCount > 0) {
      if (t.respCount >= t.sentCount) {
        if (t.framesPerTry < t.congestThresh) t.framesPerTry = Math.min(t.framesPerTry * 2, t.congestThresh);
        else t.framesPerTry += 1 / t.framesPerTry;
        t.framesPerTry = Math.min(MAX_FRAMES_PER_TRY, t.framesPerTry);
      } else {
        t.congestThresh = Math.max(1, t.framesPerTry / 2);
        t.framesPerTry = 1;
      }
    }
    // Unanswered names of the previous pass move to the next timer.
    const next = Math.min(t.index + 1, this.timerCount - 1);
    if (t.resp.size > 0) {
      const moved = [...t.resp];
      t.resp.clear();
      for (const e of moved) {
        if (next === t.index) {
          e.sent = false;
          t.req.add(e);
        } else this.place(e, next);
      }
    }
    // Send this pass.
    t.sentCount = 0;
    t.respCount = 0;
    t.passStart = this.clock.now();
    t.seqFirst = this.seq;
    let frames = Math.max(1, Math.floor(t.framesPerTry));
    while (frames-- > 0 && t.req.size > 0) this.sendDatagram(t);
    t.seqLast = this.seq - 1;
    if (t.req.size > 0 || t.resp.size > 0) this.arm(t, this.period(t.index), false);
  }

  private sendDatagram(t: Timer): void {
    const parts: Buffer[] = [];
    let size = HEADER_SIZE;
    for (const e of t.req) {
      if (size + e.msg.length > this.maxDatagram && parts.length > 0) break;
      parts.push(e.msg);
      size += e.msg.length;
      t.req.delete(e);
      t.resp.add(e);
      e.sent = true;
      t.sentCount++;
    }
    const dg = Buffer.allocUnsafe(size);
    dg.writeUInt16BE(Command.VERSION, 0);
    dg.writeUInt16BE(0, 2);
    dg.writeUInt16BE(1, 4); // sequence number valid
    dg.writeUInt16BE(CA_MINOR_VERSION, 6);
    dg.writeUInt32BE(this.seq >>> 0, 8);
    dg.writeUInt32BE(0, 12);
    let off = HEADER_SIZE;
    for (const p of parts) {
      p.copy(dg, off);
      off += p.length;
    }
    this.seq = (this.seq + 1) >>> 0;
    this.datagramsSent++;
    this.send(dg);
  }
}

/** One SEARCH reply found in a datagram or circuit stream. */
export interface SearchReply {
  cid: number;
  /** Server IPv4 as dotted string (parameter1, or the source address when it is 0xFFFFFFFF). */
  host: string;
  port: number;
  /** Server minor version (from the 8-byte payload), or undefined when absent. */
  minor?: number;
  /** Sequence number of the datagram's VERSION, when present. */
  seq?: number;
}

export interface UdpNotice {
  kind: 'beacon' | 'repeater-confirm' | 'version';
  minor: number;
  port: number;
  /** Beacon number (RSRV_IS_UP parameter1). */
  number: number;
  /** Address: beacon server IPv4 (parameter2 or source), or confirmed client IPv4. */
  host: string;
}

function ipFromU32(v: number): string {
  return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/**
 * Parse a datagram received on the client's UDP socket: search replies, beacons forwarded by the
 * repeater, repeater confirmations. Malformed input yields what parsed before the damage.
 */
export function parseClientDatagram(
  buf: Buffer,
  sourceHost: string,
  onReply: (r: SearchReply) => void,
  onNotice?: (n: UdpNotice) => void,
): void {
  let off = 0;
  let seq: number | undefined;
  while (off + HEADER_SIZE <= buf.length) {
    let r;
    try {
      r = decodeMessage(buf, off, 0xffff);
    } catch {
      return;
    }
    if (!r) return;
    const m = r.message;
    off = r.next;
    switch (m.command) {
      case Command.VERSION:
        if (m.dataType === 1) seq = m.parameter1;
        break;
      case Command.SEARCH: {
        const host = m.parameter1 === 0xffffffff ? sourceHost : ipFromU32(m.parameter1);
        const minor = m.payload.length >= 2 ? m.payload.readUInt16BE(0) : undefined;
        const rep: SearchReply = { cid: m.parameter2, host, port: m.dataType };
        if (minor !== undefined) rep.minor = minor;
        if (seq !== undefined) rep.seq = seq;
        onReply(rep);
        break;
      }
      case Command.RSRV_IS_UP:
        onNotice?.({
          kind: 'beacon',
          minor: m.dataType,
          port: m.dataCount,
          number: m.parameter1,
          host: m.parameter2 === 0 ? sourceHost : ipFromU32(m.parameter2),
        });
        break;
      case Command.REPEATER_CONFIRM:
        onNotice?.({ kind: 'repeater-confirm', minor: 0, port: 0, number: 0, host: ipFromU32(m.parameter2) });
        break;
      default:
        break;
    }
  }
}
