/**
 * CA message headers and framing (sans-I/O). A message is a 16-byte header (or a 24-byte extended
 * header when the payload or count does not fit in 16 bits) plus a payload padded to 8 bytes.
 */

export const HEADER_SIZE = 16;
export const EXTENDED_HEADER_SIZE = 24;
/** Hard cap on a single message payload accepted by readers unless configured otherwise (256 MiB). */
export const DEFAULT_MAX_PAYLOAD = 256 * 1024 * 1024;
/** A MessageReader drops a reassembly buffer larger than this after SHRINK_AFTER_PUSHES idle pushes. */
const SHRINK_ABOVE = 4 * 1024 * 1024;
const SHRINK_AFTER_PUSHES = 1000;
/** A MessageReader preallocates at most this much beyond the bytes received. */
const PREALLOCATE_MAX = 32 * 1024 * 1024;

export interface Header {
  command: number;
  /** Payload size in bytes (already padded on the wire). */
  payloadSize: number;
  dataType: number;
  dataCount: number;
  parameter1: number;
  parameter2: number;
}

/** A decoded message: header plus a view of its payload (no copy). */
export interface Message extends Header {
  payload: Buffer;
  /** Whether the header was in the extended (24-byte) form. */
  extended: boolean;
}

export function padTo8(n: number): number {
  return (n + 7) & ~7;
}

/** Whether a message with this payload size and count needs the extended header. */
export function needsExtendedHeader(payloadSize: number, dataCount: number): boolean {
  return payloadSize >= 0xffff || dataCount >= 0xffff;
}

/** Write a header into `buf` at `offset`; returns the header length (16 or 24). */
export function writeHeader(buf: Buffer, offset: number, h: Header, allowExtended = true): number {
  if (needsExtendedHeader(h.payloadSize, h.dataCount)) {
    if (!allowExtended) throw new RangeError('message too large for a peer without extended headers');
    buf.writeUInt16BE(h.command, offset);
    buf.writeUInt16BE(0xffff, offset + 2);
    buf.writeUInt16BE(h.dataType & 0xffff, offset + 4);
    buf.writeUInt16BE(0, offset + 6);
    buf.writeUInt32BE(h.parameter1 >>> 0, offset + 8);
    buf.writeUInt32BE(h.parameter2 >>> 0, offset + 12);
    buf.writeUInt32BE(h.payloadSize >>> 0, offset + 16);
    buf.writeUInt32BE(h.dataCount >>> 0, offset + 20);
    return EXTENDED_HEADER_SIZE;
  }
  buf.writeUInt16BE(h.command, offset);
  buf.writeUInt16BE(h.payloadSize, offset + 2);
  buf.writeUInt16BE(h.dataType & 0xffff, offset + 4);
  buf.writeUInt16BE(h.dataCount, offset + 6);
  buf.writeUInt32BE(h.parameter1 >>> 0, offset + 8);
  buf.writeUInt32BE(h.parameter2 >>> 0, offset + 12);
  return HEADER_SIZE;
}

/**
 * Encode one whole message. The payload is copied and zero-padded to a multiple of 8; `payloadSize`
 * in the header is the padded size. `dataCount` defaults to 0.
 */
export function encodeMessage(
  h: Omit<Header, 'payloadSize'> & { payloadSize?: number },
  payload?: Uint8Array,
  allowExtended = true,
): Buffer {
  const raw = payload ? payload.length : 0;
  const size = padTo8(raw);
  const header: Header = { ...h, payloadSize: size };
  const hlen = needsExtendedHeader(size, h.dataCount) ? EXTENDED_HEADER_SIZE : HEADER_SIZE;
  const buf = Buffer.allocUnsafe(hlen + size);
  writeHeader(buf, 0, header, allowExtended);
  if (payload && raw) buf.set(payload, hlen);
  if (size > raw) buf.fill(0, hlen + raw, hlen + size);
  return buf;
}

/** Encode a header-only message (24-byte extended header when dataCount >= 0xFFFF). */
export function encodeHeaderOnly(
  command: number,
  dataType = 0,
  dataCount = 0,
  parameter1 = 0,
  parameter2 = 0,
): Buffer {
  // A count >= 0xFFFF needs the extended form even without a payload (e.g. READ_NOTIFY of 100000).
  const buf = Buffer.alloc(needsExtendedHeader(0, dataCount) ? EXTENDED_HEADER_SIZE : HEADER_SIZE);
  writeHeader(buf, 0, { command, payloadSize: 0, dataType, dataCount, parameter1, parameter2 });
  return buf;
}

export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/**
 * Try to decode one message from `buf` at `offset`. Returns the message and the offset after it, or
 * undefined when more bytes are needed. Throws ProtocolError for a payload size over `maxPayload`
 * or a misaligned size (when `requireAlignment`).
 */
export function decodeMessage(
  buf: Buffer,
  offset = 0,
  maxPayload = DEFAULT_MAX_PAYLOAD,
  requireAlignment = false,
): { message: Message; next: number } | undefined {
  const avail = buf.length - offset;
  if (avail < HEADER_SIZE) return undefined;
  const command = buf.readUInt16BE(offset);
  let payloadSize = buf.readUInt16BE(offset + 2);
  const dataType = buf.readUInt16BE(offset + 4);
  let dataCount = buf.readUInt16BE(offset + 6);
  const parameter1 = buf.readUInt32BE(offset + 8);
  const parameter2 = buf.readUInt32BE(offset + 12);
  let hlen = HEADER_SIZE;
  let extended = false;
  if (payloadSize === 0xffff) {
    if (avail < EXTENDED_HEADER_SIZE) return undefined;
    payloadSize = buf.readUInt32BE(offset + 16);
    dataCount = buf.readUInt32BE(offset + 20);
    hlen = EXTENDED_HEADER_SIZE;
    extended = true;
  }
  if (payloadSize > maxPayload) {
    throw new ProtocolError(`payload size ${payloadSize} exceeds the limit of ${maxPayload} bytes`);
  }
  if (requireAlignment && (payloadSize & 7) !== 0) {
    throw new ProtocolError(`misaligned payload size ${payloadSize}`);
  }
  if (avail < hlen + payloadSize) return undefined;
  const start = offset + hlen;
  return {
    message: {
      command,
      payloadSize,
      dataType,
      dataCount,
      parameter1,
      parameter2,
      payload: buf.subarray(start, start + payloadSize),
      extended,
    },
    next: start + payloadSize,
  };
}

/** Decode every whole message in a datagram; trailing garbage shorter than a header is ignored. */
export function decodeDatagram(buf: Buffer, maxPayload = 0xffff): Message[] {
  const out: Message[] = [];
  let off = 0;
  while (off < buf.length) {
    const r = decodeMessage(buf, off, maxPayload);
    if (!r) break;
    out.push(r.message);
    off = r.next;
  }
  return out;
}

/**
 * Streaming reassembler for a TCP byte stream. Bytes are appended into one growing buffer (amortised
 * doubling, compacted when consumed), so reassembling a 16 MB message costs O(n) copies, not O(n^2).
 * Payload views handed to `onMessage` are valid only during the callback.
 */
export class MessageReader {
  private buf: Buffer;
  private start = 0;
  private end = 0;
  /** Consecutive pushes handled without the buffer (see SHRINK_AFTER_PUSHES). */
  private idlePushes = 0;

  constructor(
    public maxPayload = DEFAULT_MAX_PAYLOAD,
    public requireAlignment = false,
    private readonly initialSize = 64 * 1024,
  ) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** Bytes received but not yet forming a whole message. */
  get pending(): number {
    return this.end - this.start;
  }

  /**
   * Feed a chunk and call `onMessage` for each whole message it completes. Throws ProtocolError on a
   * corrupt stream; the caller should then drop the connection.
   */
  push(chunk: Buffer, onMessage: (m: Message) => void): void {
    // Fast path: nothing buffered, parse directly from the chunk.
    if (this.end === this.start) {
      let off = 0;
      for (;;) {
        const r = decodeMessage(chunk, off, this.maxPayload, this.requireAlignment);
        if (!r) break;
        onMessage(r.message);
        off = r.next;
      }
      this.start = this.end = 0;
      if (off < chunk.length) {
        this.store(chunk.subarray(off));
      } else if (this.buf.length > SHRINK_ABOVE && ++this.idlePushes > SHRINK_AFTER_PUSHES) {
        // A buffer grown for huge messages (16 MB arrays) is kept while they keep coming, and
        // dropped after a long run of chunks that did not need it.
        this.buf = Buffer.allocUnsafe(this.initialSize);
        this.idlePushes = 0;
      }
      return;
    }
    this.store(chunk);
    let off = this.start;
    // Parse only within [start, end).
    const view = this.buf.subarray(0, this.end);
    for (;;) {
      const r = decodeMessage(view, off, this.maxPayload, this.requireAlignment);
      if (!r) break;
      onMessage(r.message);
      off = r.next;
    }
    this.start = off;
    if (this.start === this.end) this.start = this.end = 0;
  }

  /** Size of the message being assembled, if its header has arrived (for sizing decisions). */
  expectedSize(): number | undefined {
    const avail = this.end - this.start;
    if (avail < HEADER_SIZE) return undefined;
    const ps = this.buf.readUInt16BE(this.start + 2);
    if (ps !== 0xffff) return HEADER_SIZE + ps;
    if (avail < EXTENDED_HEADER_SIZE) return undefined;
    return EXTENDED_HEADER_SIZE + this.buf.readUInt32BE(this.start + 16);
  }

  private store(chunk: Buffer): void {
    this.idlePushes = 0;
    const len = chunk.length;
    if (this.end + len > this.buf.length) {
      const live = this.end - this.start;
      // Grow to the announced message size at once, but never more than PREALLOCATE_MAX ahead of
      // the bytes actually received (a bogus header must not make us allocate 256 MB).
      const expected = Math.min(this.expectedSizeAfter(chunk) ?? 0, live + len + PREALLOCATE_MAX);
      const want = Math.max(live + len, expected);
      if (want <= this.buf.length && this.start > 0) {
        this.buf.copy(this.buf, 0, this.start, this.end);
      } else {
        let size = this.buf.length;
        while (size < want) size *= 2;
        const nb = Buffer.allocUnsafe(size);
        this.buf.copy(nb, 0, this.start, this.end);
        this.buf = nb;
      }
      this.start = 0;
      this.end = live;
    }
    chunk.copy(this.buf, this.end);
    this.end += len;
  }

  /** When a header is buffered (or arriving), the whole message size, so the buffer grows once. */
  private expectedSizeAfter(chunk: Buffer): number | undefined {
    const live = this.end - this.start;
    if (live >= EXTENDED_HEADER_SIZE || live === 0) {
      const src = live === 0 ? chunk : this.buf.subarray(this.start, this.end);
      if (src.length < HEADER_SIZE) return undefined;
      const ps = src.readUInt16BE(2);
      if (ps !== 0xffff) return HEADER_SIZE + ps;
      if (src.length < EXTENDED_HEADER_SIZE) return undefined;
      const total = EXTENDED_HEADER_SIZE + src.readUInt32BE(16);
      return total <= this.maxPayload + EXTENDED_HEADER_SIZE ? total : undefined;
    }
    return undefined;
  }
}
