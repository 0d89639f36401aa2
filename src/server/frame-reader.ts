/**
 * TCP reassembly for the server side of a circuit. Like `MessageReader` (protocol/header.ts) it
 * appends into one growing buffer (amortised doubling, O(n) for a 16 MB message), but it is
 * pull-based so that a circuit can stop in the middle of a batch when its output backs up (and
 * resume later without copying), and it can skip a message whose payload is over the server
 * limit (RSRV answers ECA_TOLARGE, discards the bytes and keeps the circuit).
 *
 * A buffer grown for a large message comes from the shared pool of large buffers and goes back to
 * it once that message is consumed (at the next push), so a stream of 16 MB puts reuses the same
 * memory instead of faulting in 16 MB of fresh pages per message.
 */
import { EXTENDED_HEADER_SIZE, HEADER_SIZE, ProtocolError } from '../protocol/header.js';
import type { Header, Message } from '../protocol/header.js';
import { largeBuffers } from '../protocol/buffer-pool.js';

/** A message whose payload was over the limit: its header only (the payload is being discarded). */
export interface OversizeMessage extends Header {
  oversize: true;
  extended: boolean;
}

/** Room kept after a large message for the bytes that follow it in its last chunk (a socket read). */
const TAIL_ROOM = 64 * 1024;
/** Messages at least this large are received straight into the reader's buffer (`directTarget`). */
const DIRECT_MIN = 64 * 1024;
/** The payload of every message without one (zero length: never written to). */
const NO_PAYLOAD = Buffer.alloc(0);

export class FrameReader {
  private buf: Buffer;
  /** A DataView of `buf`: header fields read without Buffer's per-call argument checks. */
  private view: DataView;
  private start = 0;
  private end = 0;
  /** Payload bytes of an oversize message still to be thrown away. */
  private discard = 0;
  /** Whether `buf` came from the pool of large buffers. */
  private pooled = false;
  /** Whether 0xFFFF in the size field announces the extended header (peers of minor >= 9). */
  allowExtended = true;

  constructor(
    public maxPayload: number,
    private readonly initialSize = 16 * 1024,
  ) {
    this.buf = Buffer.allocUnsafe(initialSize);
    this.view = viewOf(this.buf);
  }

  /** Bytes buffered but not yet consumed. */
  get pending(): number {
    return this.end - this.start;
  }

  /**
   * The payloads handed out by `next` are no longer used: when nothing is buffered, a large buffer
   * goes back to the pool (the next large message takes one again). `push` does this itself; a
   * caller that serves received bytes without the reader calls it instead.
   */
  recycle(): void {
    if (this.start === this.end && this.pooled) this.release();
  }

  /**
   * A payload handed out by `next` is still in use (a put holds a view of it): the bytes buffered
   * after it move to a new buffer, and the current one is left to that payload (never written
   * again, not given back to the pool).
   */
  keepPayloads(): void {
    const live = this.end - this.start;
    const nb = Buffer.allocUnsafe(Math.max(this.initialSize, live));
    this.buf.copy(nb, 0, this.start, this.end);
    this.buf = nb;
    this.view = viewOf(nb);
    this.pooled = false;
    this.start = 0;
    this.end = live;
  }

  /** Append received bytes (the payloads handed out by `next` are no longer used: see recycle). */
  push(chunk: Buffer): void {
    this.recycle();
    if (this.discard > 0) {
      const n = Math.min(this.discard, chunk.length);
      this.discard -= n;
      if (n === chunk.length) return;
      chunk = chunk.subarray(n);
    }
    const len = chunk.length;
    if (this.end + len > this.buf.length) this.makeRoom(len);
    chunk.copy(this.buf, this.end);
    this.end += len;
  }

  /**
   * While a large message is being received (its header buffered, its payload not all here): the
   * part of the buffer (grown to hold the message) its next bytes belong to, so that a socket reads
   * straight into it (then `filled`): no copy, and no socket buffer per read to collect. Undefined
   * otherwise.
   */
  directTarget(): Buffer | undefined {
    if (this.discard > 0) return undefined;
    const whole = this.messageSize();
    const have = this.end - this.start;
    if (whole < DIRECT_MIN || have >= whole || whole > this.maxPayload + EXTENDED_HEADER_SIZE)
      return undefined;
    if (this.start + whole > this.buf.length) this.makeRoom(whole - have);
    return this.buf.subarray(this.end, this.start + whole);
  }

  /** `n` bytes were received into the buffer `directTarget()` returned. */
  filled(n: number): void {
    this.end += n;
  }

  /**
   * The next whole message, an oversize header (its payload is skipped as it arrives), or undefined
   * when more bytes are needed. The message's payload is a view valid until the next `push`.
   * Throws MisalignedError for a misaligned payload size (fatal to the circuit).
   */
  next(): Message | OversizeMessage | undefined {
    const avail = this.end - this.start;
    if (avail < HEADER_SIZE) return this.compact();
    const dv = this.view;
    const s = this.start;
    let payloadSize = dv.getUint16(s + 2);
    let hlen = HEADER_SIZE;
    let extended = false;
    let dataCount = dv.getUint16(s + 6);
    if (payloadSize === 0xffff && this.allowExtended) {
      if (avail < EXTENDED_HEADER_SIZE) return this.compact();
      payloadSize = dv.getUint32(s + 16);
      dataCount = dv.getUint32(s + 20);
      hlen = EXTENDED_HEADER_SIZE;
      extended = true;
    }
    if ((payloadSize & 7) !== 0) {
      throw new MisalignedError({
        extended,
        command: dv.getUint16(s),
        payloadSize,
        dataType: dv.getUint16(s + 4),
        dataCount,
        parameter1: dv.getUint32(s + 8),
        parameter2: dv.getUint32(s + 12),
      });
    }
    if (payloadSize > this.maxPayload) {
      const h: OversizeMessage = {
        oversize: true,
        extended,
        command: dv.getUint16(s),
        payloadSize,
        dataType: dv.getUint16(s + 4),
        dataCount,
        parameter1: dv.getUint32(s + 8),
        parameter2: dv.getUint32(s + 12),
      };
      const have = avail - hlen;
      if (have >= payloadSize) {
        this.start += hlen + payloadSize;
      } else {
        this.discard = payloadSize - have;
        this.start = this.end = 0;
      }
      return h;
    }
    if (avail < hlen + payloadSize) return this.compact();
    // decoded in place (header fields through the DataView; no payload view when empty)
    const p = s + hlen;
    this.start = p + payloadSize;
    return {
      command: dv.getUint16(s),
      payloadSize,
      dataType: dv.getUint16(s + 4),
      dataCount,
      parameter1: dv.getUint32(s + 8),
      parameter2: dv.getUint32(s + 12),
      payload: payloadSize === 0 ? NO_PAYLOAD : this.buf.subarray(p, p + payloadSize),
      extended,
    };
  }

  /** Room for `len` more bytes after `end` (compacting, or growing into a pooled buffer). */
  private makeRoom(len: number): void {
    const live = this.end - this.start;
    if (live + len <= this.buf.length && this.start > 0) {
      this.buf.copy(this.buf, 0, this.start, this.end);
    } else {
      let size = this.buf.length;
      while (size < live + len) size *= 2;
      // a large message whose header is in: room for all of it at once (one copy per chunk,
      // not a copy per doubling)
      // (plus room for the start of the next message, which usually shares the last chunk)
      const whole = this.messageSize();
      if (whole > size && whole <= this.maxPayload + EXTENDED_HEADER_SIZE) size = whole + TAIL_ROOM;
      const nb = largeBuffers.take(size);
      this.buf.copy(nb, 0, this.start, this.end);
      if (this.pooled) largeBuffers.give(this.buf);
      this.buf = nb;
      this.view = viewOf(nb);
      this.pooled = size >= largeBuffers.minSize;
    }
    this.start = 0;
    this.end = live;
  }

  /** Size of the message at the read position (header + payload), or 0 while its header is incomplete. */
  private messageSize(): number {
    const avail = this.end - this.start;
    if (avail < HEADER_SIZE) return 0;
    const b = this.buf;
    const s = this.start;
    const small = b.readUInt16BE(s + 2);
    if (small !== 0xffff || !this.allowExtended) return HEADER_SIZE + small;
    if (avail < EXTENDED_HEADER_SIZE) return 0;
    return EXTENDED_HEADER_SIZE + b.readUInt32BE(s + 16);
  }

  /**
   * Throw away everything buffered; with `more`, also the next `more` bytes to arrive (RSRV's
   * "drain": the rest of a request it refused before its body had arrived). Without it, the rest of
   * an oversize message being skipped is still skipped.
   */
  discardAll(more?: number): void {
    this.start = this.end = 0;
    if (more !== undefined) this.discard = more;
  }

  private compact(): undefined {
    if (this.start === this.end) this.start = this.end = 0;
    return undefined;
  }

  /** Give a large buffer back to the pool (nothing buffered in it) and return to a small one. */
  private release(): void {
    largeBuffers.give(this.buf);
    this.buf = Buffer.allocUnsafe(this.initialSize);
    this.view = viewOf(this.buf);
    this.pooled = false;
    this.start = this.end = 0;
  }
}

function viewOf(b: Buffer): DataView {
  return new DataView(b.buffer, b.byteOffset, b.length);
}

/** A request whose payload size is not a multiple of 8: fatal to the circuit. */
export class MisalignedError extends ProtocolError {
  constructor(readonly header: Header & { extended: boolean }) {
    super(`misaligned payload size ${header.payloadSize}`);
    this.name = 'MisalignedError';
  }
}

export function isOversize(m: Message | OversizeMessage): m is OversizeMessage {
  return (m as OversizeMessage).oversize === true;
}
