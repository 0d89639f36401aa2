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
import { EXTENDED_HEADER_SIZE, HEADER_SIZE, padTo8 } from '../protocol/header.js';
import { putHeader, zero } from './request-batch.js';

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

/** A real timer: a timeout, then an immediate (see realClock). */
interface RealTimer {
  timeout: NodeJS.Timeout | undefined;
  immediate: NodeJS.Immediate | undefined;
}

/**
 * Real time. A timer's function runs in the check phase of the event loop that follows its expiry,
 * after that turn's I/O callbacks: a search pass is judged once the replies already received by the
 * socket have been read (libca reads them on a thread of their own). Without this, a thread busy
 * with, say, thousands of CREATE_CHAN replies would see its timers fire before the UDP replies that
 * arrived in time are read, and halve its search rate for nothing.
 */
export const realClock: SearchClock = {
  now: () => performance.now() / 1000,
  setTimer: (fn, d) => {
    const h: RealTimer = { timeout: undefined, immediate: undefined };
    h.timeout = setTimeout(
      () => {
        h.timeout = undefined;
        // (not unref()ed: an unref()ed immediate would wait for the next I/O event)
        h.immediate = setImmediate(() => {
          h.immediate = undefined;
          fn();
        });
      },
      Math.max(0, d * 1000),
    );
    h.timeout.unref();
    return h;
  },
  clearTimer: (h) => {
    const t = h as RealTimer;
    if (t.timeout) clearTimeout(t.timeout);
    if (t.immediate) clearImmediate(t.immediate);
    t.timeout = t.immediate = undefined;
  },
};

/** Number of search timers for a max search period (libca: ⌊1 + log2(max/0.032)⌋, at most 18). */
export function searchTimerCount(maxSearchPeriod: number): number {
  const n = Math.floor(1 + Math.log2(maxSearchPeriod / MIN_RTT));
  return Math.max(1, Math.min(MAX_TIMERS, n));
}

/** Encode one SEARCH request message (DONTREPLY, client minor, cid twice). */
export function encodeSearchRequest(name: string, cid: number, reply = SEARCH_DONT_REPLY): Buffer {
  // latin1: one byte per character (pooled allocation, NUL padding written explicitly)
  const buf = Buffer.allocUnsafe(requestSize(name));
  writeSearchRequest(buf, 0, name, cid, reply);
  return buf;
}

/**
 * Write `s` as latin1 (the low byte of each UTF-16 unit, as Buffer.write(s, 'latin1')) at `off`;
 * for the short strings of PV names a loop is cheaper than the encoder call.
 */
export function writeLatin1(buf: Buffer, off: number, s: string): void {
  const n = s.length;
  if (n > 64) {
    buf.write(s, off, n, 'latin1');
    return;
  }
  for (let i = 0; i < n; i++) buf[off + i] = s.charCodeAt(i) & 0xff;
}

/** SEARCH request bytes of a name (header + NUL-padded latin1 name). */
function requestSize(name: string): number {
  return HEADER_SIZE + padTo8(name.length + 1);
}

/** Write the SEARCH request of `name` at `off` of `buf` (as encodeSearchRequest); returns its end. */
function writeSearchRequest(
  buf: Buffer,
  off: number,
  name: string,
  cid: number,
  reply = SEARCH_DONT_REPLY,
): number {
  const n = name.length;
  const size = padTo8(n + 1);
  putHeader(buf, off, Command.SEARCH, size, reply, CA_MINOR_VERSION, cid, cid);
  const at = off + HEADER_SIZE;
  writeLatin1(buf, at, name);
  zero(buf, at + n, at + size);
  return at + size;
}

/** A name being searched (its request is encoded when sent: no buffer per name while it waits). */
interface Entry {
  cid: number;
  name: string;
  timer: number;
  /** The list the entry is in (its timer's queue, or its timer's sent-and-unanswered list). */
  list: EntryList | undefined;
  prev: Entry | undefined;
  next: Entry | undefined;
}

/**
 * An insertion-ordered list of entries, linked through the entries themselves: adding, removing and
 * moving a name between lists allocates nothing (thousands of names move at each search pass).
 */
class EntryList {
  head: Entry | undefined = undefined;
  tail: Entry | undefined = undefined;
  size = 0;

  push(e: Entry): void {
    if (e.list) e.list.remove(e);
    e.list = this;
    e.prev = this.tail;
    e.next = undefined;
    if (this.tail) this.tail.next = e;
    else this.head = e;
    this.tail = e;
    this.size++;
  }

  remove(e: Entry): void {
    if (e.list !== this) return;
    if (e.prev) e.prev.next = e.next;
    else this.head = e.next;
    if (e.next) e.next.prev = e.prev;
    else this.tail = e.prev;
    e.list = e.prev = e.next = undefined;
    this.size--;
  }

  /** Empty the list; returns its entries in order (unlinked). */
  takeAll(): Entry[] {
    const out: Entry[] = [];
    for (let e = this.head; e;) {
      const next = e.next;
      e.list = e.prev = e.next = undefined;
      out.push(e);
      e = next;
    }
    this.head = this.tail = undefined;
    this.size = 0;
    return out;
  }
}

interface Timer {
  index: number;
  /** Names queued for the next pass. */
  req: EntryList;
  /** Names sent in the current pass and not answered yet. */
  resp: EntryList;
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
        req: new EntryList(),
        resp: new EntryList(),
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
    const e: Entry = { cid, name, timer: 0, list: undefined, prev: undefined, next: undefined };
    this.entries.set(cid, e);
    this.place(e, Math.min(Math.max(0, index), this.timerCount - 1));
  }

  /** Stop searching a name (channel closed or resolved elsewhere). */
  remove(cid: number): boolean {
    const e = this.entries.get(cid);
    if (!e) return false;
    this.entries.delete(cid);
    e.list?.remove(e);
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
    const wasSent = e.list === t.resp;
    this.entries.delete(cid);
    e.list?.remove(e);
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
    return [...this.entries.values()].map((e) => encodeSearchRequest(e.name, e.cid));
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
      e.list?.remove(e);
      this.place(e, target);
    }
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) {
      if (t.handle !== undefined) this.clock.clearTimer(t.handle);
      t.handle = undefined;
      t.req.takeAll();
      t.resp.takeAll();
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
    const list = from.req.takeAll().concat(from.resp.takeAll());
    for (const e of list) this.place(e, to);
  }

  private place(e: Entry, index: number): void {
    e.timer = index;
    const t = this.timers[index]!;
    t.req.push(e);
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
      for (const e of t.resp.takeAll()) {
        if (next === t.index) t.req.push(e);
        else this.place(e, next);
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
    // Size the datagram first, then encode each request straight into it.
    let size = HEADER_SIZE;
    let count = 0;
    for (let e = t.req.head; e; e = e.next) {
      const n = requestSize(e.name);
      if (size + n > this.maxDatagram && count > 0) break;
      size += n;
      count++;
    }
    const dg = Buffer.allocUnsafe(size);
    // VERSION: data type 1 = sequence number valid
    putHeader(dg, 0, Command.VERSION, 0, 1, CA_MINOR_VERSION, this.seq, 0);
    let off = HEADER_SIZE;
    for (let i = 0; i < count; i++) {
      const e = t.req.head!;
      off = writeSearchRequest(dg, off, e.name, e.cid);
      t.resp.push(e); // leaves t.req
      t.sentCount++;
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
  // Headers are read in place (no message object or payload view per reply: a reply datagram
  // answers up to ~60 names). A size beyond 0xFFFF or a truncated message ends the parse.
  const len = buf.length;
  let off = 0;
  let seq: number | undefined;
  while (off + HEADER_SIZE <= len) {
    const command = buf.readUInt16BE(off);
    let payloadSize = buf.readUInt16BE(off + 2);
    let hlen = HEADER_SIZE;
    if (payloadSize === 0xffff) {
      if (off + EXTENDED_HEADER_SIZE > len) return;
      payloadSize = buf.readUInt32BE(off + 16);
      if (payloadSize > 0xffff) return;
      hlen = EXTENDED_HEADER_SIZE;
    }
    if (off + hlen + payloadSize > len) return;
    const at = off;
    off += hlen + payloadSize;
    switch (command) {
      case Command.VERSION:
        if (buf.readUInt16BE(at + 4) === 1) seq = buf.readUInt32BE(at + 8);
        break;
      case Command.SEARCH: {
        const p1 = buf.readUInt32BE(at + 8);
        const host = p1 === 0xffffffff ? sourceHost : ipFromU32(p1);
        const cid = buf.readUInt32BE(at + 12);
        const port = buf.readUInt16BE(at + 4);
        // one literal of its final shape (no fields added afterwards: no extra property store)
        let rep: SearchReply;
        if (payloadSize >= 2) {
          const minor = buf.readUInt16BE(at + hlen);
          rep = seq !== undefined ? { cid, host, port, minor, seq } : { cid, host, port, minor };
        } else {
          rep = seq !== undefined ? { cid, host, port, seq } : { cid, host, port };
        }
        onReply(rep);
        break;
      }
      case Command.RSRV_IS_UP: {
        const p2 = buf.readUInt32BE(at + 12);
        onNotice?.({
          kind: 'beacon',
          minor: buf.readUInt16BE(at + 4),
          port: hlen === HEADER_SIZE ? buf.readUInt16BE(at + 6) : buf.readUInt32BE(at + 20),
          number: buf.readUInt32BE(at + 8),
          host: p2 === 0 ? sourceHost : ipFromU32(p2),
        });
        break;
      }
      case Command.REPEATER_CONFIRM:
        onNotice?.({
          kind: 'repeater-confirm',
          minor: 0,
          port: 0,
          number: 0,
          host: ipFromU32(buf.readUInt32BE(at + 12)),
        });
        break;
      default:
        break;
    }
  }
}
