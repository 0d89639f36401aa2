/**
 * The small requests a context sends in one event-loop turn (CREATE_CHAN, EVENT_ADD, READ_NOTIFY, CLEAR_CHANNEL,
 * EVENT_CANCEL), encoded straight into one shared buffer and handed to their circuit as one chunk,
 * instead of a Buffer and a header object per request: connecting 10,000 channels then costs a few
 * buffers instead of 20,000.
 *
 * Order: requests to a circuit leave in the order they were made. A request sent on its own (`send`,
 * e.g. a put of an array) first hands over what is batched for that circuit; batching for another
 * circuit hands over the current batch first.
 */
import { EXTENDED_HEADER_SIZE, HEADER_SIZE } from '../protocol/header.js';
import type { Circuit } from './circuit.js';

/** Size of a batch buffer (a larger request gets a buffer of its own size). */
const CHUNK_SIZE = 16 * 1024;

/**
 * Big-endian stores and zero fill by plain byte stores: the requests written here are small and
 * their values already valid, so Buffer.writeUInt16BE's argument checks are pure overhead.
 */
export function put16(buf: Buffer, off: number, v: number): void {
  buf[off] = (v >>> 8) & 0xff;
  buf[off + 1] = v & 0xff;
}

export function put32(buf: Buffer, off: number, v: number): void {
  buf[off] = (v >>> 24) & 0xff;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
}

/** Zero bytes [from, to) (short ranges: padding). */
export function zero(buf: Buffer, from: number, to: number): void {
  if (to - from > 64) buf.fill(0, from, to);
  else for (let i = from; i < to; i++) buf[i] = 0;
}

/** Header length of a request with this payload size and count (24: extended form). */
export function headerLength(payloadSize: number, dataCount: number): number {
  return payloadSize >= 0xffff || dataCount >= 0xffff ? EXTENDED_HEADER_SIZE : HEADER_SIZE;
}

/**
 * Write a request header at `off` (the 24-byte extended form when the payload size or the count does
 * not fit in 16 bits, as protocol/header.ts writeHeader); returns the offset after it.
 */
export function putHeader(
  buf: Buffer,
  off: number,
  command: number,
  payloadSize: number,
  dataType: number,
  dataCount: number,
  parameter1: number,
  parameter2: number,
): number {
  put16(buf, off, command);
  put16(buf, off + 4, dataType);
  put32(buf, off + 8, parameter1);
  put32(buf, off + 12, parameter2);
  if (payloadSize >= 0xffff || dataCount >= 0xffff) {
    put16(buf, off + 2, 0xffff);
    put16(buf, off + 6, 0);
    put32(buf, off + 16, payloadSize);
    put32(buf, off + 20, dataCount);
    return off + EXTENDED_HEADER_SIZE;
  }
  put16(buf, off + 2, payloadSize);
  put16(buf, off + 6, dataCount);
  return off + HEADER_SIZE;
}

export class RequestBatch {
  private circuit: Circuit | undefined;
  /** The current batch buffer: [start, used) is batched and not handed over yet. */
  private buf: Buffer = Buffer.alloc(0);
  private start = 0;
  private used = 0;
  private scheduled = false;
  private readonly flushTask = (): void => {
    this.scheduled = false;
    this.flush();
  };

  /**
   * Room for `size` bytes of requests to `c`, handed over at the end of the turn: write them into
   * `buffer` at the returned offset (at once: the next reserve may change `buffer`).
   */
  reserve(c: Circuit, size: number): number {
    if (c !== this.circuit) {
      this.flush();
      this.circuit = c;
    }
    if (this.used + size > this.buf.length) {
      this.flush();
      this.buf = Buffer.allocUnsafeSlow(Math.max(CHUNK_SIZE, size));
      this.start = this.used = 0;
    }
    const at = this.used;
    this.used += size;
    if (!this.scheduled) {
      // At the end of this event-loop turn (after every I/O callback of the turn, e.g. all the search
      // replies read together): one write for them all rather than one per callback.
      this.scheduled = true;
      setImmediate(this.flushTask);
    }
    return at;
  }

  /** The buffer `reserve` returned an offset into. */
  get buffer(): Buffer {
    return this.buf;
  }

  /** A header-only request to `c`, batched. */
  header(
    c: Circuit,
    command: number,
    dataType: number,
    dataCount: number,
    parameter1: number,
    parameter2: number,
  ): void {
    const at = this.reserve(c, headerLength(0, dataCount));
    putHeader(this.buf, at, command, 0, dataType, dataCount, parameter1, parameter2);
  }

  /**
   * Send a request of its own to `c`, after what is batched for `c`. With `recycle`, `buf` came from
   * the pool of large buffers and goes back to it once written (Circuit.send): the caller must not
   * touch it after this call.
   */
  send(c: Circuit, buf: Buffer, cb?: (err?: Error | null) => void, recycle = false): void {
    if (c === this.circuit) this.flush();
    c.send(buf, cb, recycle);
  }

  /** Hand what is batched to its circuit now (e.g. before the circuit is closed). */
  flush(): void {
    const c = this.circuit;
    if (c && this.used > this.start) {
      // The handed-over part is never written again: later requests go after it (or to a new buffer).
      c.send(this.buf.subarray(this.start, this.used));
      this.start = this.used;
    }
  }
}
