/**
 * Output and flow control of a CA server circuit (ca-protocol.md §12): the state a circuit shares
 * between its parts, and every reply going out.
 *
 * Output: every reply goes through `send`, which corks the socket and uncorks on the next tick (one
 * writev per tick). Above `highWaterMark` bytes of unsent output the circuit stops reading requests
 * (the client's own socket then backs up, as with RSRV) and monitor updates are coalesced, latest
 * value per subscription, until the socket drains. Past `hardLimit` the circuit is dropped.
 */
import type { Socket } from 'node:net';
import { DBR } from '../protocol/constants.js';
import { HEADER_SIZE } from '../protocol/header.js';
import type { Header } from '../protocol/header.js';
import { encodeDbrInto } from '../protocol/dbr.js';
import { largeBuffers } from '../protocol/buffer-pool.js';
import type { DbrData, NativeArray } from '../protocol/values.js';
import type { ClientIdentity } from './provider.js';
import { dataReplySize, errorReply } from './replies.js';
import { plainAddress } from './env.js';
import type { ChannelEntry, CircuitContext, Subscription, Update } from './circuit-types.js';

/** Replies up to this size are copied into the circuit's output slab (one write per tick). */
const COPY_LIMIT = 512;
/** Size of an output slab: replies are encoded into it back to back and written as one buffer. */
const SLAB_SIZE = 64 * 1024;

/** The state of a circuit and its output; request handling is in the subclasses (circuit.ts). */
export abstract class CircuitOutput {
  readonly identity: ClientIdentity;
  readonly peer: string;
  clientMinor = 0;
  priority = 0;
  protected readonly channels = new Map<number, ChannelEntry>();
  protected closed = false;
  protected corked = false;
  /** Replies queued this tick: written at the next tick, small ones joined into one buffer. */
  protected outBufs: Buffer[] = [];
  protected outBytes = 0;
  /** Buffers of outBufs taken from the pool of large buffers: given back once written. */
  protected outRecycle: Buffer[] | undefined;
  /** Output slab: bytes [slabStart, slabEnd) are queued and not yet in outBufs. */
  protected slab: Buffer = Buffer.allocUnsafe(SLAB_SIZE);
  /** A DataView of the slab (numbers written without Buffer's argument checks). */
  protected slabView = viewOf(this.slab);
  protected slabStart = 0;
  protected slabEnd = 0;
  protected inputPaused = false;
  protected eventsOff = false;
  protected queuedPuts = 0;
  protected readonly pendingSubs = new Set<Subscription>();
  /** Bytes held in coalesced updates (counted with the socket backlog against the hard limit). */
  protected pendingBytes = 0;
  protected barrier: Promise<unknown> | undefined;

  constructor(
    protected readonly socket: Socket,
    protected readonly ctx: CircuitContext,
  ) {
    const address = plainAddress(socket.remoteAddress);
    this.peer = `${address}:${socket.remotePort ?? 0}`;
    this.identity = { user: '', host: address, address };
  }

  /** Serve the requests received (circuit.ts). */
  protected abstract process(): void;
  /** Release a channel entry and what hangs on it (circuit.ts). */
  protected abstract dropEntry(e: ChannelEntry): void;
  /** Drop the circuit and everything on it (circuit.ts). */
  abstract close(): void;
  /** Close once the replies already queued are written (circuit.ts). */
  protected abstract closeAfterFlush(): void;

  /** Bytes queued for sending (socket backlog plus coalesced monitor updates). */
  get backlog(): number {
    return this.socket.writableLength + this.outBytes + this.pendingBytes;
  }

  // ------------------------------------------------------------------------------------------
  // Output

  protected readonly uncork = (): void => {
    this.corked = false;
    if (!this.closed) this.writeOut();
  };

  /**
   * Write what send() queued: runs of small replies joined into one buffer (one socket write for a
   * tick's worth of replies, not one per reply), large payloads written as they are (no copy).
   */
  protected writeOut(): void {
    this.sealSlab();
    const bufs = this.outBufs;
    if (bufs.length === 0) return;
    this.outBufs = [];
    this.outBytes = 0;
    // The last write's callback runs once every buffer of this batch is written (or the write
    // failed and the socket is done with them): only then may pooled ones be reused.
    const rec = this.outRecycle;
    this.outRecycle = undefined;
    const cb = rec ? (): void => this.recycled(rec) : this.afterWrite;
    if (bufs.length === 1) {
      this.socket.write(bufs[0]!, cb);
      return;
    }
    // one writev for the lot: slab runs and large payloads, none of them copied again
    this.socket.cork();
    const last = bufs.length - 1;
    for (let i = 0; i < last; i++) this.socket.write(bufs[i]!);
    this.socket.write(bufs[last]!, cb);
    this.socket.uncork();
  }

  /** Move the slab's queued bytes to outBufs (before a large buffer is queued, and at write time). */
  protected sealSlab(): void {
    if (this.slabEnd > this.slabStart) {
      this.outBufs.push(this.slab.subarray(this.slabStart, this.slabEnd));
      this.slabStart = this.slabEnd;
    }
  }

  /**
   * Queue `n` bytes to be written into the slab at the returned offset (the caller fills them
   * at once). Counts against the hard limit like send().
   */
  protected reserve(n: number): number {
    if (!this.corked) {
      this.corked = true;
      process.nextTick(this.uncork);
    }
    if (this.slabEnd + n > this.slab.length) {
      this.sealSlab();
      // the old slab stays referenced by the queued subarray until written; a new one for the rest
      this.slab = Buffer.allocUnsafe(Math.max(SLAB_SIZE, n));
      this.slabView = viewOf(this.slab);
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
  protected sendScalar(command: number, dbrType: number, p1: number, p2: number, data: DbrData): void {
    const size = dataReplySize(dbrType, 1);
    const o = this.reserve(HEADER_SIZE + size);
    const b = this.slab;
    const dv = this.slabView;
    writeHeader16(dv, o, command, size, dbrType, 1, p1, p2);
    const p = o + HEADER_SIZE;
    if (dbrType < 7) {
      // plain: the value alone (8 bytes padded)
      dv.setUint32(p, 0);
      dv.setUint32(p + 4, 0);
      const x = (data.value as Exclude<NativeArray, string[]>)[0]!;
      if (dbrType === DBR.DOUBLE) dv.setFloat64(p, x);
      else if (dbrType === DBR.LONG) dv.setInt32(p, x);
      else if (dbrType === DBR.FLOAT) dv.setFloat32(p, x);
      else if (dbrType === DBR.SHORT) dv.setInt16(p, x);
      else b[p] = x;
      return;
    }
    const n = encodeDbrInto(b, p, dbrType, 1, data);
    for (let i = p + n; i < p + size; i++) b[i] = 0;
  }

  /** A header-only reply (16 bytes, count < 0xFFFF) written straight into the slab. */
  protected sendHeader(command: number, dbrType: number, count: number, p1: number, p2: number): void {
    if (this.closed) return;
    const o = this.reserve(HEADER_SIZE);
    writeHeader16(this.slabView, o, command, 0, dbrType & 0xffff, count, p1, p2);
  }

  /**
   * After a write completed: resume input paused for congestion and flush coalesced updates. 'drain'
   * alone is not enough: a large write that the kernel takes at once (a fast reader on loopback)
   * completes synchronously, write() returns true and no 'drain' ever comes.
   */
  protected readonly afterWrite = (): void => {
    if (this.closed) return;
    if (this.pendingSubs.size) this.flushPending();
    if (this.inputPaused) this.process();
  };

  /** A written batch held pooled buffers: give them back, then what follows any write. */
  private recycled(bufs: Buffer[]): void {
    for (const b of bufs) largeBuffers.give(b);
    this.afterWrite();
  }

  /**
   * Queue a reply. With `recycle`, `buf` came from the pool of large buffers and is handed over:
   * it goes back to the pool once written (a buffer never written is simply dropped).
   */
  protected send(buf: Buffer, recycle = false): void {
    if (this.closed) return;
    if (buf.length <= COPY_LIMIT) {
      // reserve() checks the hard limit without the message itself, as below
      const o = this.reserve(buf.length); // (may start a new slab: this.slab after it)
      buf.copy(this.slab, o);
      if (recycle) largeBuffers.give(buf);
      return;
    }
    if (!this.corked) {
      this.corked = true;
      process.nextTick(this.uncork);
    }
    this.sealSlab();
    this.outBufs.push(buf);
    this.outBytes += buf.length;
    if (recycle) (this.outRecycle ??= []).push(buf);
    // The message just queued does not count: one reply bigger than the limit is not a backlog.
    if (this.socket.writableLength + this.outBytes - buf.length + this.pendingBytes > this.ctx.hardLimit)
      this.overflow();
  }

  protected overflow(): void {
    this.ctx.log(`CAS: dropping circuit ${this.peer}: ${this.backlog} bytes unsent`);
    this.close();
  }

  protected get congested(): boolean {
    return this.socket.writableLength + this.outBytes > this.ctx.highWaterMark;
  }

  protected deliver(sub: Subscription, u: Update): void {
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

  protected sendUpdate(u: Update): void {
    if (u.body) {
      this.send(u.head);
      this.send(u.body);
    } else {
      this.send(u.head);
    }
  }

  protected flushPending(): void {
    if (this.eventsOff || this.closed) return;
    for (const sub of this.pendingSubs) {
      if (this.congested) return;
      const u = sub.pending;
      this.unpend(sub);
      if (u) this.sendUpdate(u);
    }
  }

  /** Forget a subscription's coalesced update. */
  protected unpend(sub: Subscription): void {
    if (!this.pendingSubs.delete(sub)) return;
    if (sub.pending) this.pendingBytes -= sub.pending.size;
    sub.pending = undefined;
  }

  protected error(req: Header & { extended?: boolean }, cid: number, eca: number, text: string): void {
    this.send(errorReply(req, cid, eca, text));
  }

  /** ERROR then close (fatal protocol errors). */
  protected fatal(req: Header & { extended?: boolean }, cid: number, eca: number, text: string): void {
    this.error(req, cid, eca, text);
    this.closeAfterFlush();
  }
}

function viewOf(b: Buffer): DataView {
  return new DataView(b.buffer, b.byteOffset, b.length);
}

/** A standard 16-byte header at `o` (values already in range for their fields, except the sign). */
function writeHeader16(
  dv: DataView,
  o: number,
  command: number,
  size: number,
  dbrType: number,
  count: number,
  p1: number,
  p2: number,
): void {
  dv.setUint16(o, command);
  dv.setUint16(o + 2, size);
  dv.setUint16(o + 4, dbrType);
  dv.setUint16(o + 6, count);
  dv.setUint32(o + 8, p1 >>> 0);
  dv.setUint32(o + 12, p2 >>> 0);
}
