/**
 * One TCP virtual circuit of the CA server (ca-protocol.md §5, §6, §12): request dispatch, channels,
 * subscriptions, put queues, and the flow control that keeps a slow client from hurting the others.
 *
 * Output: every reply goes through `send`, which corks the socket and uncorks on the next tick (one
 * writev per tick). Above `highWaterMark` bytes of unsent output the circuit stops reading requests
 * (the client's own socket then backs up, as with RSRV) and monitor updates are coalesced, latest
 * value per subscription, until the socket drains. Past `hardLimit` the circuit is dropped.
 */
import type { Socket } from 'node:net';
import {
  ACCESS_READ,
  ACCESS_WRITE,
  CA_MINOR_VERSION,
  Command,
  DBE,
  DBR,
  ECA,
} from '../protocol/constants.js';
import { HEADER_SIZE, encodeMessage, needsExtendedHeader } from '../protocol/header.js';
import type { Header, Message } from '../protocol/header.js';
import { decodeDbr, encodeDbrInto, isValidDbrType } from '../protocol/dbr.js';
import type { DbrData, NativeArray } from '../protocol/values.js';
import { FrameReader, MisalignedError, isOversize } from './frame-reader.js';
import type { OversizeMessage } from './frame-reader.js';
import { CaStatusError } from './provider.js';
import type { ChannelProvider, ChannelSnapshot, ClientIdentity, ServedChannel } from './provider.js';
import { readData, readScalarData, replyCount } from './read-value.js';
import {
  dataHeader,
  dataReply,
  dataReplySize,
  encodePayload,
  errorReply,
  headerOnly,
  versionReply,
} from './replies.js';
import { plainAddress } from './env.js';

/** What a circuit needs from its server. */
export interface CircuitContext {
  readonly provider: ChannelProvider;
  /** The TCP port advertised (for search over TCP). */
  readonly tcpPort: number;
  /** Largest request payload accepted (bigger: ERROR ECA_TOLARGE, discarded). */
  readonly maxPayload: number;
  /** Unsent output above which input stops and monitor updates coalesce. */
  readonly highWaterMark: number;
  /** Unsent output above which the circuit is dropped. */
  readonly hardLimit: number;
  /**
   * Seconds a WRITE_NOTIFY waits behind an unfinished one on the same channel before the unfinished
   * one is answered ECA_PUTCBINPROG and the next starts (RSRV: 60).
   */
  readonly putCallbackTimeout: number;
  allocSid(): number;
  /** Effective access rights (channel rights combined with access security). */
  rightsFor(channel: ServedChannel, client: ClientIdentity): number;
  /** Called for each write the access security marks TRAPWRITE, once it has completed. Optional. */
  trapWrite?(
    channel: ServedChannel,
    client: ClientIdentity,
    value: NativeArray,
    dbrType: number,
  ): ((status: number) => void) | undefined;
  /** Reference counting of shared channel objects. */
  acquire(channel: ServedChannel): void;
  release(channel: ServedChannel): void;
  log(line: string): void;
  onClose(circuit: Circuit): void;
}

/** Largest number of queued (not yet started) puts before the circuit stops reading. */
const MAX_QUEUED_PUTS = 256;
/** CLIENT_NAME / HOST_NAME longer than this end the circuit. */
const MAX_NAME = 511;
const NO_CID = 0xffffffff;

interface PutJob {
  notify: boolean;
  req: Message;
  value: NativeArray;
}

interface ChannelEntry {
  sid: number;
  cid: number;
  ch: ServedChannel;
  rights: number;
  subs: Map<number, Subscription>;
  unsubscribe?: () => void;
  unRights?: () => void;
  puts: PutJob[];
  putActive: boolean;
  /** The put callback in progress (answered once, by completion or by the timeout). */
  active?: { req: Message; done: boolean };
  /** Started when a put waits behind the active one (RSRV: 60 s, then ECA_PUTCBINPROG). */
  putTimer?: NodeJS.Timeout;
  cleared: boolean;
}

interface Subscription {
  subid: number;
  entry: ChannelEntry;
  dbrType: number;
  /** Requested count (0 = current length each time). */
  count: number;
  mask: number;
  /** A coalesced update waiting for the socket to drain or EVENTS_ON. */
  pending?: Update;
}

/** A monitor update: header, and the (possibly shared) padded payload. */
interface Update {
  head: Buffer;
  body?: Buffer;
  size: number;
}

/** Encoded payloads per snapshot object, keyed by count * 64 + DBR type. */
const payloadCache = new WeakMap<ChannelSnapshot, Map<number, Buffer>>();

/**
 * The padded payload of an update, shared while the snapshot object is the same (providers that
 * return a cached, immutable snapshot, like the PVs-from-code API, get one encoding per post for all
 * subscribers; providers that build a snapshot per call simply miss the cache).
 */
function sharedPayload(ch: ServedChannel, snap: ChannelSnapshot, dbrType: number, count: number): Buffer {
  let m = payloadCache.get(snap);
  const key = count * 64 + dbrType;
  const hit = m?.get(key);
  if (hit) return hit;
  const body = encodePayload(dbrType, count, readData(ch, snap, dbrType, count));
  if (!m) payloadCache.set(snap, (m = new Map()));
  m.set(key, body);
  return body;
}

function nameFromPayload(p: Buffer): string {
  const z = p.indexOf(0);
  return p.toString('utf8', 0, z < 0 ? p.length : z);
}

function ecaOf(e: unknown, dflt: number): number {
  if (e instanceof CaStatusError) return e.eca;
  const eca = (e as { eca?: unknown } | null)?.eca;
  return typeof eca === 'number' ? eca : dflt;
}

/** Record name of a channel name ("REC.FIELD" -> "REC"), as RSRV puts in ERROR texts. */
function recordName(name: string): string {
  const i = name.indexOf('.');
  return i < 0 ? name : name.slice(0, i);
}

/** Replies up to this size are copied into the circuit's output slab (one write per tick). */
const COPY_LIMIT = 512;
/** Size of an output slab: replies are encoded into it back to back and written as one buffer. */
const SLAB_SIZE = 64 * 1024;

export class Circuit {
  readonly identity: ClientIdentity;
  readonly peer: string;
  clientMinor = 0;
  priority = 0;
  private readonly reader: FrameReader;
  private readonly channels = new Map<number, ChannelEntry>();
  private closed = false;
  private corked = false;
  /** Replies queued this tick: written at the next tick, small ones joined into one buffer. */
  private outBufs: Buffer[] = [];
  private outBytes = 0;
  /** Output slab: bytes [slabStart, slabEnd) are queued and not yet in outBufs. */
  private slab: Buffer = Buffer.allocUnsafe(SLAB_SIZE);
  private slabStart = 0;
  private slabEnd = 0;
  private inputPaused = false;
  private eventsOff = false;
  private queuedPuts = 0;
  private readonly pendingSubs = new Set<Subscription>();
  /** Bytes held in coalesced updates (counted with the socket backlog against the hard limit). */
  private pendingBytes = 0;
  private processing = false;
  private barrier: Promise<unknown> | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly ctx: CircuitContext,
  ) {
    const address = plainAddress(socket.remoteAddress);
    this.peer = `${address}:${socket.remotePort ?? 0}`;
    this.identity = { user: '', host: address, address };
    this.reader = new FrameReader(ctx.maxPayload);
    this.reader.allowExtended = false; // until the client says it speaks minor >= 9
    socket.setNoDelay(true);
    socket.setKeepAlive(true);
    socket.on('data', (chunk: Buffer) => {
      this.reader.push(chunk);
      this.process();
      // the replies to a received chunk go out at once, in one write (the nextTick queued by
      // send() then finds nothing left)
      if (this.corked) this.uncork();
    });
    socket.on('drain', () => {
      this.flushPending();
      this.process();
    });
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
    // the client closed its side: the replies already queued still go out, then the circuit ends
    socket.on('end', () => this.closeAfterFlush());
    this.send(versionReply());
  }

  /** Number of channels open on this circuit. */
  get channelCount(): number {
    return this.channels.size;
  }

  /** Bytes queued for sending (socket backlog plus coalesced monitor updates). */
  get backlog(): number {
    return this.socket.writableLength + this.outBytes + this.pendingBytes;
  }

  /** Drop the circuit and everything on it. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const e of this.channels.values()) this.dropEntry(e);
    this.channels.clear();
    this.pendingSubs.clear();
    this.pendingBytes = 0;
    this.outBufs = [];
    this.outBytes = 0;
    this.slabStart = this.slabEnd;
    this.socket.destroy();
    this.ctx.onClose(this);
  }

  /** Re-evaluate access rights of every channel (ACF reload). */
  refreshRights(): void {
    for (const e of this.channels.values()) this.checkRights(e);
  }

  // ------------------------------------------------------------------------------------------
  // Output

  private readonly uncork = (): void => {
    this.corked = false;
    if (!this.closed) this.writeOut();
  };

  /**
   * Write what send() queued: runs of small replies joined into one buffer (one socket write for a
   * tick's worth of replies, not one per reply), large payloads written as they are (no copy).
   */
  private writeOut(): void {
    this.sealSlab();
    const bufs = this.outBufs;
    if (bufs.length === 0) return;
    this.outBufs = [];
    this.outBytes = 0;
    if (bufs.length === 1) {
      this.socket.write(bufs[0]!, this.afterWrite);
      return;
    }
    // one writev for the lot: slab runs and large payloads, none of them copied again
    this.socket.cork();
    const last = bufs.length - 1;
    for (let i = 0; i < last; i++) this.socket.write(bufs[i]!);
    this.socket.write(bufs[last]!, this.afterWrite);
    this.socket.uncork();
  }

  /** Move the slab's queued bytes to outBufs (before a large buffer is queued, and at write time). */
  private sealSlab(): void {
    if (this.slabEnd > this.slabStart) {
      this.outBufs.push(this.slab.subarray(this.slabStart, this.slabEnd));
      this.slabStart = this.slabEnd;
    }
  }

  /**
   * Queue `n` bytes to be written into the slab at the returned offset (the caller fills them
   * at once). Counts against the hard limit like send().
   */
  private reserve(n: number): number {
    if (!this.corked) {
      this.corked = true;
      process.nextTick(this.uncork);
    }
    if (this.slabEnd + n > this.slab.length) {
      this.sealSlab();
      // the old slab stays referenced by the queued subarray until written; a new one for the rest
      this.slab = Buffer.allocUnsafe(Math.max(SLAB_SIZE, n));
      this.slabStart = this.slabEnd = 0;
    }
    if (this.socket.writableLength + this.outBytes + this.pendingBytes > this.ctx.hardLimit) this.overflow();
    const o = this.slabEnd;
    this.slabEnd += n;
    this.outBytes += n;
    return o;
  }

  /**
   * A one-element data reply (READ, READ_NOTIFY, EVENT_ADD) encoded straight into the slab:
   * `data` from readScalarData (a numeric value type, so never a short string).
   */
  private sendScalar(command: number, dbrType: number, p1: number, p2: number, data: DbrData): void {
    const size = dataReplySize(dbrType, 1);
    const o = this.reserve(HEADER_SIZE + size);
    const b = this.slab;
    b.writeUInt16BE(command, o);
    b.writeUInt16BE(size, o + 2);
    b.writeUInt16BE(dbrType, o + 4);
    b.writeUInt16BE(1, o + 6);
    b.writeUInt32BE(p1 >>> 0, o + 8);
    b.writeUInt32BE(p2 >>> 0, o + 12);
    const p = o + HEADER_SIZE;
    if (dbrType < 7) {
      // plain: the value alone (8 bytes padded)
      b.writeUInt32BE(0, p);
      b.writeUInt32BE(0, p + 4);
      const x = (data.value as Exclude<NativeArray, string[]>)[0]!;
      if (dbrType === DBR.DOUBLE) b.writeDoubleBE(x, p);
      else if (dbrType === DBR.LONG) b.writeInt32BE(x, p);
      else if (dbrType === DBR.FLOAT) b.writeFloatBE(x, p);
      else if (dbrType === DBR.SHORT) b.writeInt16BE(x, p);
      else b[p] = x;
      return;
    }
    const n = encodeDbrInto(b, p, dbrType, 1, data);
    for (let i = p + n; i < p + size; i++) b[i] = 0;
  }

  /**
   * After a write completed: resume input paused for congestion and flush coalesced updates. 'drain'
   * alone is not enough: a large write that the kernel takes at once (a fast reader on loopback)
   * completes synchronously, write() returns true and no 'drain' ever comes.
   */
  private readonly afterWrite = (): void => {
    if (this.closed) return;
    if (this.pendingSubs.size) this.flushPending();
    if (this.inputPaused) this.process();
  };

  private send(buf: Buffer): void {
    if (this.closed) return;
    if (buf.length <= COPY_LIMIT) {
      // reserve() checks the hard limit without the message itself, as below
      const o = this.reserve(buf.length); // (may start a new slab: this.slab after it)
      buf.copy(this.slab, o);
      return;
    }
    if (!this.corked) {
      this.corked = true;
      process.nextTick(this.uncork);
    }
    this.sealSlab();
    this.outBufs.push(buf);
    this.outBytes += buf.length;
    // The message just queued does not count: one reply bigger than the limit is not a backlog.
    if (this.socket.writableLength + this.outBytes - buf.length + this.pendingBytes > this.ctx.hardLimit)
      this.overflow();
  }

  private overflow(): void {
    this.ctx.log(`CAS: dropping circuit ${this.peer}: ${this.backlog} bytes unsent`);
    this.close();
  }

  private get congested(): boolean {
    return this.socket.writableLength + this.outBytes > this.ctx.highWaterMark;
  }

  private deliver(sub: Subscription, u: Update): void {
    if (this.eventsOff || this.congested || this.pendingSubs.size > 0) {
      // latest value wins
      this.pendingBytes += u.size - (sub.pending ? sub.pending.size : 0);
      sub.pending = u;
      this.pendingSubs.add(sub);
      // (the newest update does not count: one update bigger than the limit is not a backlog)
      if (this.socket.writableLength + this.outBytes + this.pendingBytes - u.size > this.ctx.hardLimit) {
        this.overflow();
        return;
      }
      if (!this.eventsOff && !this.congested) this.flushPending();
      return;
    }
    this.sendUpdate(u);
  }

  private sendUpdate(u: Update): void {
    if (u.body) {
      this.send(u.head);
      this.send(u.body);
    } else {
      this.send(u.head);
    }
  }

  private flushPending(): void {
    if (this.eventsOff || this.closed) return;
    for (const sub of this.pendingSubs) {
      if (this.congested) return;
      const u = sub.pending;
      this.unpend(sub);
      if (u) this.sendUpdate(u);
    }
  }

  /** Forget a subscription's coalesced update. */
  private unpend(sub: Subscription): void {
    if (!this.pendingSubs.delete(sub)) return;
    if (sub.pending) this.pendingBytes -= sub.pending.size;
    sub.pending = undefined;
  }

  private error(req: Header & { extended?: boolean }, cid: number, eca: number, text: string): void {
    this.send(errorReply(req, cid, eca, text));
  }

  /** ERROR then close (fatal protocol errors). */
  private fatal(req: Header & { extended?: boolean }, cid: number, eca: number, text: string): void {
    this.error(req, cid, eca, text);
    this.closeAfterFlush();
  }

  private closeAfterFlush(): void {
    if (this.closed) return;
    this.closed = true;
    for (const e of this.channels.values()) this.dropEntry(e);
    this.channels.clear();
    this.pendingSubs.clear();
    this.pendingBytes = 0;
    if (this.corked) this.corked = false;
    this.writeOut();
    const sock = this.socket;
    const t = setTimeout(() => sock.destroy(), 2000);
    t.unref();
    sock.end(() => {
      clearTimeout(t);
      sock.destroy();
    });
    this.ctx.onClose(this);
  }

  // ------------------------------------------------------------------------------------------
  // Input

  private inputBlocked(): boolean {
    return this.barrier !== undefined || this.congested || this.queuedPuts >= MAX_QUEUED_PUTS;
  }

  /**
   * After a write is issued, requests behind it wait until it completes or until the event loop has
   * turned once, whichever is first: a put that completes without real I/O (record processing, a
   * synchronous or microtask-only onPut) is answered, and visible to reads, before the next
   * request is served, as with RSRV's synchronous dbPutField; a slow put does not stall the circuit.
   */
  private setBarrier(p: Promise<unknown>): void {
    const b = p;
    this.barrier = b;
    const resume = (): void => {
      if (this.barrier !== b) return;
      this.barrier = undefined;
      if (!this.closed) this.process();
    };
    p.then(resume, resume);
    setImmediate(resume);
  }

  private process(): void {
    if (this.processing) return;
    this.processing = true;
    try {
      while (!this.closed) {
        if (this.inputBlocked()) {
          if (!this.inputPaused) {
            this.inputPaused = true;
            this.socket.pause();
          }
          return;
        }
        let m: Message | OversizeMessage | undefined;
        try {
          m = this.reader.next();
        } catch (e) {
          if (e instanceof MisalignedError) {
            if (e.header.command !== Command.VERSION && this.clientMinor < 4) {
              this.error(e.header, NO_CID, ECA.DEFUNCT, `CAS: Client version ${this.clientMinor} too old`);
              this.reader.discardAll();
              continue;
            }
            this.fatal(e.header, NO_CID, ECA.INTERNAL, 'CAS: Missaligned protocol rejected');
            return;
          }
          throw e;
        }
        if (!m) break;
        if (m.command !== Command.VERSION && this.clientMinor < 4) {
          // RSRV ignores deprecated clients (and those that did not say who they are) but keeps the
          // connection, to avoid a reconnect loop; what was buffered is dropped.
          this.error(m, NO_CID, ECA.DEFUNCT, `CAS: Client version ${this.clientMinor} too old`);
          this.reader.discardAll();
          continue;
        }
        if (isOversize(m)) {
          this.error(
            m,
            NO_CID,
            ECA.TOLARGE,
            `CAS: Server unable to load large request message. Max bytes=${this.ctx.maxPayload}`,
          );
          continue;
        }
        try {
          this.dispatch(m);
        } catch (err) {
          // A provider that throws where it should not must not take the server down.
          this.ctx.log(`CAS: internal error serving ${this.peer}: ${(err as Error)?.message ?? String(err)}`);
          this.error(m, NO_CID, ECA.INTERNAL, 'CAS: internal server error');
        }
      }
      if (this.inputPaused && !this.closed) {
        this.inputPaused = false;
        this.socket.resume();
      }
    } finally {
      this.processing = false;
    }
  }

  private dispatch(m: Message): void {
    switch (m.command) {
      case Command.VERSION:
        return this.onVersion(m);
      case Command.EVENT_ADD:
        return this.onEventAdd(m);
      case Command.EVENT_CANCEL:
        return this.onEventCancel(m);
      case Command.READ:
        return this.onRead(m, false);
      case Command.READ_NOTIFY:
        return this.onRead(m, true);
      case Command.WRITE:
        return this.onWrite(m, false);
      case Command.WRITE_NOTIFY:
        return this.onWrite(m, true);
      case Command.SEARCH:
        return this.onSearch(m);
      case Command.EVENTS_OFF:
        this.eventsOff = true;
        return;
      case Command.EVENTS_ON:
        this.eventsOff = false;
        this.flushPending();
        return;
      case Command.READ_SYNC:
        this.send(headerOnly(m.command, m.dataType, m.dataCount, m.parameter1, m.parameter2));
        return;
      case Command.ECHO:
        // echoed verbatim, payload included (RSRV's echo_action)
        this.send(
          m.payload.length
            ? encodeMessage(
                {
                  command: m.command,
                  dataType: m.dataType,
                  dataCount: m.dataCount,
                  parameter1: m.parameter1,
                  parameter2: m.parameter2,
                },
                m.payload,
              )
            : headerOnly(m.command, m.dataType, m.dataCount, m.parameter1, m.parameter2),
        );
        return;
      case Command.CLEAR_CHANNEL:
        return this.onClear(m);
      case Command.CREATE_CHAN:
        return this.onCreate(m);
      case Command.CLIENT_NAME:
      case Command.HOST_NAME:
        return this.onName(m);
      default:
        this.fatal(m, NO_CID, ECA.INTERNAL, 'invalid (damaged?) request code from TCP');
    }
  }

  private setMinor(minor: number): void {
    this.clientMinor = minor;
    this.reader.allowExtended = minor >= 9;
  }

  private onVersion(m: Message): void {
    this.setMinor(m.dataCount);
    // unsupported client version or priority: the circuit is closed without a word (RSRV)
    if (m.dataCount < 4 || m.dataType > 99) {
      this.closeAfterFlush();
      return;
    }
    this.priority = m.dataType;
  }

  private onName(m: Message): void {
    const isUser = m.command === Command.CLIENT_NAME;
    if (this.channels.size > 0) {
      this.error(
        m,
        NO_CID,
        ECA.INTERNAL,
        `attempts to use protocol to set ${isUser ? 'user' : 'host'} name after creating first channel ignored by server`,
      );
      return;
    }
    const z = m.payload.indexOf(0);
    if (z < 0 || z > MAX_NAME) {
      // no terminating NUL within the payload, or 512 bytes and more with it: fatal
      this.fatal(
        m,
        NO_CID,
        ECA.INTERNAL,
        isUser ? 'a very long user name was specified' : 'bad (very long) host name',
      );
      return;
    }
    const name = m.payload.toString('utf8', 0, z);
    if (isUser) this.identity.user = name;
    else this.identity.host = name;
  }

  private onSearch(m: Message): void {
    if (m.dataCount < 4) {
      this.closeAfterFlush();
      return;
    }
    if (m.payload.length <= 1) return;
    const name = nameFromPayload(m.payload);
    if (this.ctx.provider.has(name)) {
      this.send(headerOnly(Command.SEARCH, this.ctx.tcpPort, 0, NO_CID, m.parameter2));
    } else if (m.dataType === 10) {
      this.send(headerOnly(Command.NOT_FOUND, m.dataType, m.dataCount, m.parameter1, m.parameter2));
    }
  }

  private onCreate(m: Message): void {
    const cid = m.parameter1;
    this.setMinor(m.parameter2);
    if (m.parameter2 < 4) {
      this.closeAfterFlush();
      return;
    }
    if (m.payload.length <= 1) return; // empty name: ignored
    const name = nameFromPayload(m.payload);
    let ch: ServedChannel | undefined;
    try {
      ch = name.length > 0 ? this.ctx.provider.channel(name) : undefined;
    } catch {
      ch = undefined;
    }
    if (!ch) {
      this.send(headerOnly(Command.CREATE_CH_FAIL, 0, 0, cid, 0));
      return;
    }
    this.ctx.acquire(ch);
    const sid = this.ctx.allocSid();
    const entry: ChannelEntry = {
      sid,
      cid,
      ch,
      rights: this.ctx.rightsFor(ch, this.identity),
      subs: new Map(),
      puts: [],
      putActive: false,
      cleared: false,
    };
    this.channels.set(sid, entry);
    if (ch.onAccessRightsChange) entry.unRights = ch.onAccessRightsChange(() => this.checkRights(entry));
    let count = ch.elementCount;
    if (this.clientMinor < 9 && count >= 0xffff) count = 0xfffe;
    this.send(headerOnly(Command.ACCESS_RIGHTS, 0, 0, cid, entry.rights));
    this.send(headerOnly(Command.CREATE_CHAN, ch.nativeType, count, cid, sid));
  }

  private checkRights(e: ChannelEntry): void {
    if (this.closed || e.cleared) return;
    try {
      this.updateRights(e);
    } catch (err) {
      this.ctx.log(
        `CAS: cannot update the rights of ${e.ch.name}: ${(err as Error)?.message ?? String(err)}`,
      );
    }
  }

  private updateRights(e: ChannelEntry): void {
    const r = this.ctx.rightsFor(e.ch, this.identity);
    if (r === e.rights) return;
    e.rights = r;
    this.send(headerOnly(Command.ACCESS_RIGHTS, 0, 0, e.cid, r));
    if (e.subs.size) {
      const snap = e.ch.snapshot();
      for (const sub of e.subs.values()) this.update(sub, snap);
    }
  }

  /** Look up a sid; unknown -> ERROR "Bad Resource ID" and close (returns undefined). */
  private entryFor(m: Message): ChannelEntry | undefined {
    const e = this.channels.get(m.parameter1);
    if (!e) this.fatal(m, NO_CID, ECA.INTERNAL, 'Bad Resource ID');
    return e;
  }

  private onClear(m: Message): void {
    const e = this.entryFor(m);
    if (!e) return;
    this.channels.delete(e.sid);
    this.dropEntry(e);
    this.send(headerOnly(Command.CLEAR_CHANNEL, m.dataType, m.dataCount, m.parameter1, m.parameter2));
  }

  private dropEntry(e: ChannelEntry): void {
    if (e.cleared) return;
    e.cleared = true;
    for (const sub of e.subs.values()) this.unpend(sub);
    e.subs.clear();
    e.unsubscribe?.();
    e.unsubscribe = undefined;
    e.unRights?.();
    this.queuedPuts -= e.puts.length;
    e.puts.length = 0;
    if (e.putTimer) clearTimeout(e.putTimer);
    e.putTimer = undefined;
    this.ctx.release(e.ch);
  }

  // ------------------------------------------------------------------------------------------
  // Reads and subscriptions

  /** Whether a reply of this type/count can be sent; otherwise sends the ERROR and returns false. */
  private replyFits(m: Message, e: ChannelEntry, dbrType: number, count: number): boolean {
    const size = dataReplySize(dbrType, count);
    // Zero-filling beyond the channel's own size is done up to the size of the channel's data (at
    // least 16 KiB, the classic CA buffer): a request for 4 G elements of a scalar gets ECA_TOLARGE.
    const natural = Math.max(16384, dataReplySize(dbrType, e.ch.elementCount));
    if (count > e.ch.elementCount && (size > natural || size > this.ctx.maxPayload)) {
      this.error(m, e.cid, ECA.TOLARGE, recordName(e.ch.name));
      return false;
    }
    if (this.clientMinor < 9 && needsExtendedHeader(size, count)) {
      this.error(m, e.cid, ECA['16KARRAYCLIENT'], recordName(e.ch.name));
      return false;
    }
    return true;
  }

  private onRead(m: Message, notify: boolean): void {
    const type = m.dataType;
    // READ_NOTIFY checks the type before the channel and closes silently (RSRV)
    if (notify && !isValidDbrType(type)) {
      this.closeAfterFlush();
      return;
    }
    const e = this.entryFor(m);
    if (!e) return;
    if (!isValidDbrType(type)) {
      this.fatal(m, e.cid, ECA.BADTYPE, recordName(e.ch.name));
      return;
    }
    if (m.dataCount <= 1 && e.rights & ACCESS_READ) {
      const d = readScalarData(e.ch, type);
      if (d) {
        this.sendScalar(m.command, type, notify ? ECA.NORMAL : e.cid, m.parameter2, d);
        return;
      }
    }
    const snap = e.ch.snapshot();
    const count = replyCount(m.dataCount, snap);
    if (!this.replyFits(m, e, type, count)) return;
    const ioid = m.parameter2;
    if (!(e.rights & ACCESS_READ)) {
      // failures carry the requested count (0 stays 0) and a zeroed payload, as RSRV
      if (notify)
        this.send(dataReply(Command.READ_NOTIFY, type, m.dataCount, ECA.NORDACCESS, ioid, undefined));
      else this.error(m, e.cid, ECA.NORDACCESS, recordName(e.ch.name));
      return;
    }
    let data;
    try {
      data = readData(e.ch, snap, type, count);
    } catch (err) {
      const eca = ecaOf(err, ECA.GETFAIL);
      if (notify) this.send(dataReply(Command.READ_NOTIFY, type, m.dataCount, eca, ioid, undefined));
      else this.error(m, e.cid, eca, recordName(e.ch.name));
      return;
    }
    if (notify) this.send(dataReply(Command.READ_NOTIFY, type, count, ECA.NORMAL, ioid, data));
    else this.send(dataReply(Command.READ, type, count, e.cid, ioid, data, { shortString: true }));
  }

  private onEventAdd(m: Message): void {
    const type = m.dataType;
    if (!isValidDbrType(type)) {
      this.closeAfterFlush();
      return;
    }
    const e = this.entryFor(m);
    if (!e) return;
    // RSRV reads the mask without checking the payload size; a request too short to hold one gets
    // the usual client mask (VALUE | ALARM) here instead of stale bytes.
    const mask = m.payload.length >= 14 ? m.payload.readUInt16BE(12) : DBE.VALUE | DBE.ALARM;
    const snap = e.ch.snapshot();
    if (!this.replyFits(m, e, type, replyCount(m.dataCount, snap))) return;
    const old = e.subs.get(m.parameter2);
    if (old) this.unpend(old);
    const sub: Subscription = { subid: m.parameter2, entry: e, dbrType: type, count: m.dataCount, mask };
    e.subs.set(sub.subid, sub);
    if (!e.unsubscribe) e.unsubscribe = e.ch.subscribe((fired) => this.onEvent(e, fired));
    this.update(sub, snap);
  }

  private onEvent(e: ChannelEntry, fired: number): void {
    // without read access the subscription is disabled until the rights come back (RSRV)
    if (this.closed || e.cleared || !(e.rights & ACCESS_READ)) return;
    let snap: ChannelSnapshot | undefined;
    try {
      for (const sub of e.subs.values()) {
        if ((sub.mask & fired) === 0) continue;
        if (sub.count <= 1 && !this.eventsOff && this.pendingSubs.size === 0 && !this.congested) {
          // a scalar update sent at once is encoded straight into the output slab
          const d = readScalarData(e.ch, sub.dbrType);
          if (d) {
            this.sendScalar(Command.EVENT_ADD, sub.dbrType, ECA.NORMAL, sub.subid, d);
            continue;
          }
        }
        snap ??= e.ch.snapshot();
        this.update(sub, snap);
      }
    } catch (err) {
      this.ctx.log(`CAS: cannot post an update of ${e.ch.name}: ${(err as Error)?.message ?? String(err)}`);
    }
  }

  /** Send (or coalesce) one monitor update of a subscription from a snapshot. */
  private update(sub: Subscription, snap: ChannelSnapshot): void {
    const e = sub.entry;
    const count = replyCount(sub.count, snap);
    let u: Update;
    if (!(e.rights & ACCESS_READ)) {
      const head = dataReply(Command.EVENT_ADD, sub.dbrType, sub.count, ECA.NORDACCESS, sub.subid, undefined);
      u = { head, size: head.length };
    } else {
      try {
        // The payload of a (snapshot, type, count) is encoded once and shared by every subscription
        // and circuit that sends it; only the 16/24-byte header is per subscription.
        const body = sharedPayload(e.ch, snap, sub.dbrType, count);
        const head = dataHeader(Command.EVENT_ADD, sub.dbrType, count, ECA.NORMAL, sub.subid, body.length);
        u = { head, body, size: head.length + body.length };
      } catch (err) {
        const head = dataReply(
          Command.EVENT_ADD,
          sub.dbrType,
          sub.count,
          ecaOf(err, ECA.GETFAIL),
          sub.subid,
          undefined,
        );
        u = { head, size: head.length };
      }
    }
    this.deliver(sub, u);
  }

  private onEventCancel(m: Message): void {
    const e = this.entryFor(m);
    if (!e) return;
    const sub = e.subs.get(m.parameter2);
    if (!sub) {
      this.fatal(m, e.cid, ECA.BADMONID, recordName(e.ch.name));
      return;
    }
    e.subs.delete(sub.subid);
    this.unpend(sub);
    if (e.subs.size === 0 && e.unsubscribe) {
      e.unsubscribe();
      e.unsubscribe = undefined;
    }
    this.send(headerOnly(Command.EVENT_ADD, sub.dbrType, sub.count, e.sid, sub.subid));
  }

  // ------------------------------------------------------------------------------------------
  // Writes

  private onWrite(m: Message, notify: boolean): void {
    const e = this.entryFor(m);
    if (!e) return;
    const type = m.dataType;
    if (!isValidDbrType(type)) {
      this.writeFail(m, e, notify, ECA.BADTYPE);
      this.closeAfterFlush();
      return;
    }
    if (!(e.rights & ACCESS_WRITE)) return this.writeFail(m, e, notify, ECA.NOWTACCESS);
    // db_access refuses other valid types (STS, TIME ...) for puts: ECA_PUTFAIL, as RSRV
    if (type > DBR.DOUBLE && type !== DBR.PUT_ACKT && type !== DBR.PUT_ACKS)
      return this.writeFail(m, e, notify, ECA.PUTFAIL);
    if (m.dataCount === 0) return this.writeFail(m, e, notify, ECA.BADCOUNT);
    let value: NativeArray;
    const pl = m.payload;
    // one number: read straight from the payload (what decodeDbr gives, without its generic path)
    if (m.dataCount === 1 && type === DBR.DOUBLE && pl.length >= 8)
      value = Float64Array.of(pl.readDoubleBE(0));
    else if (m.dataCount === 1 && type === DBR.LONG && pl.length >= 4)
      value = Int32Array.of(pl.readInt32BE(0));
    else if (m.dataCount === 1 && type === DBR.FLOAT && pl.length >= 4)
      value = Float32Array.of(pl.readFloatBE(0));
    else if (m.dataCount === 1 && type === DBR.SHORT && pl.length >= 2)
      value = Int16Array.of(pl.readInt16BE(0));
    else {
      try {
        value = decodeDbr(type, m.dataCount, pl).value;
      } catch {
        return this.writeFail(m, e, notify, ECA.BADCOUNT);
      }
    }
    if (!e.putActive && e.puts.length === 0 && e.ch.writeNow) {
      // nothing queued on the channel: start it now (no job, no promise when it completes at once)
      this.startPut(e, notify, m, value);
      if (!this.closed && this.inputPaused && !this.barrier) this.process();
      return;
    }
    // The request header outlives this call only through its fields; the payload is not kept.
    const req: Message = { ...m, payload: EMPTY };
    e.puts.push({ notify, req, value });
    this.queuedPuts++;
    this.runPuts(e);
  }

  /** A refused WRITE / WRITE_NOTIFY: WRITE_NOTIFY gets its reply with the status, WRITE an ERROR. */
  private writeFail(m: Message, e: ChannelEntry, notify: boolean, eca: number): void {
    if (notify) this.send(headerOnly(Command.WRITE_NOTIFY, m.dataType, m.dataCount, eca, m.parameter2));
    else this.error(m, e.cid, eca, recordName(e.ch.name));
  }

  private runPuts(e: ChannelEntry): void {
    while (!e.putActive && e.puts.length > 0 && !e.cleared && !this.closed) {
      const job = e.puts.shift() as PutJob;
      this.queuedPuts--;
      this.startPut(e, job.notify, job.req, job.value);
    }
    if (e.putActive && e.puts.length > 0 && !e.putTimer && !e.cleared && !this.closed) {
      const token = e.active;
      e.putTimer = setTimeout(() => {
        e.putTimer = undefined;
        if (token && e.active === token && e.puts.length > 0) this.putDone(e, token, ECA.PUTCBINPROG);
      }, this.ctx.putCallbackTimeout * 1000);
      e.putTimer.unref();
    }
    if (!this.closed && this.inputPaused && !this.barrier) this.process();
  }

  /**
   * Start one put. A write that completes synchronously (`writeNow` returned undefined or threw) is
   * answered at once; otherwise its completion is awaited behind a barrier.
   */
  private startPut(e: ChannelEntry, notify: boolean, m: Message, value: NativeArray): void {
    const type = m.dataType;
    let p: Promise<void> | undefined;
    let eca: number = ECA.NORMAL;
    if (e.ch.writeNow) {
      try {
        p = e.ch.writeNow(value, type, this.identity);
      } catch (err) {
        eca = ecaOf(err, ECA.PUTFAIL);
      }
    } else {
      try {
        p = Promise.resolve(e.ch.write(value, type, this.identity));
      } catch (err) {
        p = Promise.reject(err);
      }
    }
    const trap = this.ctx.trapWrite?.(e.ch, this.identity, value, type);
    if (!p) {
      trap?.(eca);
      if (notify) this.send(headerOnly(Command.WRITE_NOTIFY, type, m.dataCount, eca, m.parameter2));
      else if (eca !== ECA.NORMAL) this.error(m, e.cid, eca, recordName(e.ch.name));
      return;
    }
    // The request header outlives this call only through its fields; the payload is not kept.
    const req: Message = m.payload.length ? { ...m, payload: EMPTY } : m;
    if (trap)
      p.then(
        () => trap(ECA.NORMAL),
        (err: unknown) => trap(ecaOf(err, ECA.PUTFAIL)),
      );
    if (notify) {
      e.putActive = true;
      const token = { req, done: false };
      e.active = token;
      p.then(
        () => this.putDone(e, token, ECA.NORMAL),
        (err: unknown) => this.putDone(e, token, ecaOf(err, ECA.PUTFAIL)),
      );
    } else {
      p.catch((err: unknown) => {
        if (!this.closed && !e.cleared)
          this.error(req, e.cid, ecaOf(err, ECA.PUTFAIL), recordName(e.ch.name));
      });
    }
    this.setBarrier(p);
  }

  private putDone(e: ChannelEntry, token: { req: Message; done: boolean }, eca: number): void {
    if (token.done) return; // already answered (ECA_PUTCBINPROG after the timeout)
    token.done = true;
    if (e.active !== token) return;
    e.active = undefined;
    e.putActive = false;
    if (e.putTimer) clearTimeout(e.putTimer);
    e.putTimer = undefined;
    if (this.closed || e.cleared) return;
    const req = token.req;
    this.send(headerOnly(Command.WRITE_NOTIFY, req.dataType, req.dataCount, eca, req.parameter2));
    this.runPuts(e);
  }
}

const EMPTY = Buffer.alloc(0);

/** The minor version this server speaks. */
export const SERVER_MINOR = CA_MINOR_VERSION;
