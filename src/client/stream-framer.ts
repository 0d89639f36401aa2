/**
 * The client's TCP reassembly: a circuit's byte stream cut into messages without a copy and, for
 * the usual small message, without an allocation.
 */
import { EXTENDED_HEADER_SIZE, HEADER_SIZE, ProtocolError } from '../protocol/header.js';
import type { Message } from '../protocol/header.js';
import { primeLargeAllocations } from '../protocol/buffer-pool.js';
import { beforeLargeArray } from './array-memory.js';

/** Payloads at least this large that span reads are assembled directly in a buffer of their own. */
const BIG_PAYLOAD = 64 * 1024;
/**
 * Bytes reserved up front for a large payload: a peer that announces a huge size must actually send
 * the bytes before we hold them (the buffer then grows 4x at a time, up to the announced size).
 */
const BIG_PREALLOC = 16 * 1024 * 1024;

/** The payload of every message without one (never written: it has no bytes). */
export const EMPTY_PAYLOAD: Buffer = Buffer.alloc(0);

/**
 * A message lying whole in a read buffer. A framer has one, refilled for every such message: it is
 * valid only during the `onMessage` call (as the read buffer it views); whoever needs it later copies
 * the fields. Its payload is the view [start, start + payloadSize) of `data`, made only when asked
 * for (`payload`): a decoder that reads `data` at `start` allocates nothing.
 */
export class FramedMessage implements Message {
  command = 0;
  payloadSize = 0;
  dataType = 0;
  dataCount = 0;
  parameter1 = 0;
  parameter2 = 0;
  extended = false;
  /** The buffer holding the payload... */
  data: Buffer = EMPTY_PAYLOAD;
  /** ...from this offset. */
  start = 0;
  private view: Buffer | undefined = undefined;

  get payload(): Buffer {
    if (this.view !== undefined) return this.view;
    if (this.payloadSize === 0) return EMPTY_PAYLOAD;
    return (this.view = this.data.subarray(this.start, this.start + this.payloadSize));
  }

  set payload(p: Buffer) {
    this.data = p;
    this.start = 0;
    this.view = p;
  }

  /** Refill from a header read at `off` of `data` (payload at `start`). */
  fill(
    data: Buffer,
    off: number,
    start: number,
    command: number,
    payloadSize: number,
    dataCount: number,
    extended: boolean,
  ): void {
    this.command = command;
    this.payloadSize = payloadSize;
    this.dataType = (data[off + 4]! << 8) | data[off + 5]!;
    this.dataCount = dataCount;
    this.parameter1 = data.readUInt32BE(off + 8);
    this.parameter2 = data.readUInt32BE(off + 12);
    this.extended = extended;
    this.data = data;
    this.start = start;
    this.view = undefined;
  }
}

/**
 * TCP reassembly. Messages complete in a read are handed out as views of that read (no copy), in
 * one FramedMessage refilled for each (valid during the callback only). A small partial message is
 * kept (bounded: < 64 KiB + header); a large one gets a buffer of its own (an ArrayBuffer of exactly
 * its payload, 8-byte aligned) that the following reads are copied into once, so a 16 MB array costs
 * one copy and can then be byte-swapped and viewed in place; it is handed out in a Message of its own
 * (`owned`: the receiver may keep and modify it).
 */
export class StreamFramer {
  private pend: Buffer | undefined;
  private big: { msg: Message; off: number } | undefined;
  private readonly scratch = new FramedMessage();

  constructor(
    public maxPayload: number,
    public requireAlignment = true,
  ) {}

  /** Bytes held that do not form a whole message yet. */
  get pending(): number {
    return (this.pend?.length ?? 0) + (this.big ? this.big.off : 0);
  }

  /**
   * While a large payload is being assembled: the part of its buffer the next bytes of the stream
   * belong to (at most the rest of that payload), so that a socket can read straight into it; feed
   * what was read there with `filled`. Undefined when no large payload is in progress.
   */
  directTarget(): Buffer | undefined {
    const b = this.big;
    if (!b) return undefined;
    const p = b.msg.payload;
    if (p.length - b.off < BIG_PAYLOAD && p.length < b.msg.payloadSize) {
      const size = Math.min(b.msg.payloadSize, Math.max(b.off + BIG_PAYLOAD, p.length * 4));
      const grown = Buffer.allocUnsafeSlow(size);
      p.copy(grown, 0, 0, b.off);
      b.msg.payload = grown;
    }
    return b.msg.payload.subarray(b.off, Math.min(b.msg.payload.length, b.msg.payloadSize));
  }

  /** `n` bytes were written into the buffer `directTarget()` returned. */
  filled(n: number, onMessage: (m: Message, owned: boolean) => void): void {
    const b = this.big;
    if (!b) throw new ProtocolError('no large payload in progress');
    b.off += n;
    if (b.off < b.msg.payloadSize) return;
    this.big = undefined;
    onMessage(b.msg, true);
  }

  /** Feed a read; calls onMessage per whole message. Throws ProtocolError on a corrupt stream. */
  push(chunk: Buffer, onMessage: (m: Message, owned: boolean) => void): void {
    let data = chunk;
    if (this.big) {
      const b = this.big;
      const n = Math.min(b.msg.payloadSize - b.off, data.length);
      if (b.off + n > b.msg.payload.length) {
        const size = Math.min(b.msg.payloadSize, Math.max(b.off + n, b.msg.payload.length * 4));
        const grown = Buffer.allocUnsafeSlow(size);
        b.msg.payload.copy(grown, 0, 0, b.off);
        b.msg.payload = grown;
      }
      data.copy(b.msg.payload, b.off, 0, n);
      b.off += n;
      data = data.subarray(n);
      if (b.off < b.msg.payloadSize) return;
      this.big = undefined;
      onMessage(b.msg, true);
      if (data.length === 0) return;
    }
    if (this.pend) {
      data = Buffer.concat([this.pend, data]);
      this.pend = undefined;
    }
    const scratch = this.scratch;
    let off = 0;
    const len = data.length;
    while (len - off >= HEADER_SIZE) {
      const command = (data[off]! << 8) | data[off + 1]!;
      let payloadSize = (data[off + 2]! << 8) | data[off + 3]!;
      let dataCount = (data[off + 6]! << 8) | data[off + 7]!;
      let hlen = HEADER_SIZE;
      let extended = false;
      if (payloadSize === 0xffff) {
        if (len - off < EXTENDED_HEADER_SIZE) break;
        payloadSize = data.readUInt32BE(off + 16);
        dataCount = data.readUInt32BE(off + 20);
        hlen = EXTENDED_HEADER_SIZE;
        extended = true;
      }
      if (payloadSize > this.maxPayload) {
        throw new ProtocolError(`payload size ${payloadSize} exceeds the limit of ${this.maxPayload} bytes`);
      }
      if (this.requireAlignment && (payloadSize & 7) !== 0)
        throw new ProtocolError(`misaligned payload size ${payloadSize}`);
      const start = off + hlen;
      if (len - start >= payloadSize) {
        scratch.fill(data, off, start, command, payloadSize, dataCount, extended);
        off = start + payloadSize;
        onMessage(scratch, false);
        continue;
      }
      if (payloadSize >= BIG_PAYLOAD) {
        primeLargeAllocations();
        beforeLargeArray(payloadSize);
        const have = len - start;
        const own = Buffer.allocUnsafeSlow(Math.min(payloadSize, Math.max(BIG_PREALLOC, have)));
        data.copy(own, 0, start, len);
        const msg: Message = {
          command,
          payloadSize,
          dataType: data.readUInt16BE(off + 4),
          dataCount,
          parameter1: data.readUInt32BE(off + 8),
          parameter2: data.readUInt32BE(off + 12),
          payload: own,
          extended,
        };
        this.big = { msg, off: have };
        off = len;
      }
      break;
    }
    if (off < len) this.pend = Buffer.from(data.subarray(off));
  }
}
