/**
 * Server reply builders (ca-protocol.md §5): header-only replies, ERROR messages carrying the failed
 * request's header, and DBR data replies encoded straight into one buffer (header + padded payload,
 * no intermediate copy).
 */
import { Command, CA_MINOR_VERSION } from '../protocol/constants.js';
import {
  EXTENDED_HEADER_SIZE,
  HEADER_SIZE,
  encodeMessage,
  needsExtendedHeader,
  padTo8,
  writeHeader,
} from '../protocol/header.js';
import type { Header } from '../protocol/header.js';
import { dbrSize, encodeDbrInto } from '../protocol/dbr.js';
import type { EncodeDbrOptions } from '../protocol/dbr.js';
import type { DbrData } from '../protocol/values.js';
import type { BufferPool } from '../protocol/buffer-pool.js';

/** A header-only message (extended automatically when count >= 0xFFFF). */
export function headerOnly(
  command: number,
  dataType: number,
  dataCount: number,
  parameter1: number,
  parameter2: number,
): Buffer {
  if (dataCount < 0xffff) {
    const buf = Buffer.allocUnsafe(HEADER_SIZE);
    buf.writeUInt16BE(command, 0);
    buf.writeUInt16BE(0, 2);
    buf.writeUInt16BE(dataType & 0xffff, 4);
    buf.writeUInt16BE(dataCount, 6);
    buf.writeUInt32BE(parameter1 >>> 0, 8);
    buf.writeUInt32BE(parameter2 >>> 0, 12);
    return buf;
  }
  return encodeMessage({ command, dataType, dataCount, parameter1, parameter2 });
}

/** The TCP VERSION the server sends on accept. */
export function versionReply(): Buffer {
  return headerOnly(Command.VERSION, 0, CA_MINOR_VERSION, 0, 0);
}

/** The request header as it came (16 bytes, or 24 when it was extended). */
function requestHeaderBytes(req: Header & { extended?: boolean }): Buffer {
  const ext = req.extended === true || needsExtendedHeader(req.payloadSize, req.dataCount);
  const buf = Buffer.alloc(ext ? EXTENDED_HEADER_SIZE : HEADER_SIZE);
  if (ext) {
    buf.writeUInt16BE(req.command, 0);
    buf.writeUInt16BE(0xffff, 2);
    buf.writeUInt16BE(req.dataType & 0xffff, 4);
    buf.writeUInt16BE(0, 6);
    buf.writeUInt32BE(req.parameter1 >>> 0, 8);
    buf.writeUInt32BE(req.parameter2 >>> 0, 12);
    buf.writeUInt32BE(req.payloadSize >>> 0, 16);
    buf.writeUInt32BE(req.dataCount >>> 0, 20);
  } else {
    writeHeader(buf, 0, req, false);
  }
  return buf;
}

/**
 * ERROR (11): payload = the failed request's header + NUL-terminated text, padded; parameter1 = the
 * channel's cid (0xFFFFFFFF when unknown), parameter2 = the ECA status.
 */
export function errorReply(
  req: Header & { extended?: boolean },
  cid: number,
  eca: number,
  text: string,
): Buffer {
  const hdr = requestHeaderBytes(req);
  const txt = Buffer.from(text, 'utf8');
  const payload = Buffer.alloc(hdr.length + txt.length + 1);
  hdr.copy(payload, 0);
  txt.copy(payload, hdr.length);
  return encodeMessage(
    { command: Command.ERROR, dataType: 0, dataCount: 0, parameter1: cid, parameter2: eca },
    payload,
  );
}

/**
 * A DBR data reply (READ_NOTIFY, READ, EVENT_ADD update): header + `count` elements of `dbrType`
 * encoded from `data`, padded to 8. Without `data` the payload is all zero (failed reads). With
 * `pool` the buffer is taken from it (the caller gives it back once it is written).
 */
export function dataReply(
  command: number,
  dbrType: number,
  count: number,
  parameter1: number,
  parameter2: number,
  data: DbrData | undefined,
  opts?: EncodeDbrOptions,
  pool?: BufferPool,
): Buffer {
  let raw: number;
  if (data && opts?.shortString && dbrType === 0 && count === 1) {
    const v = data.value;
    const s = Array.isArray(v) && v.length > 0 ? v[0] : '';
    raw = Math.min(Buffer.byteLength(s, 'utf8'), 39) + 1;
  } else {
    raw = dbrSize(dbrType, count);
  }
  const size = padTo8(raw);
  const h: Header = {
    command,
    payloadSize: size,
    dataType: dbrType,
    dataCount: count,
    parameter1,
    parameter2,
  };
  const hlen = needsExtendedHeader(size, count) ? EXTENDED_HEADER_SIZE : HEADER_SIZE;
  const buf = pool ? pool.take(hlen + size) : Buffer.allocUnsafe(hlen + size);
  writeHeader(buf, 0, h);
  if (data) {
    const n = encodeDbrInto(buf, hlen, dbrType, count, data, opts);
    buf.fill(0, hlen + n, hlen + size);
  } else {
    buf.fill(0, hlen, hlen + size);
  }
  return buf;
}

/** The header of a data reply whose padded payload (`payloadSize` bytes) is sent separately. */
export function dataHeader(
  command: number,
  dbrType: number,
  count: number,
  parameter1: number,
  parameter2: number,
  payloadSize: number,
): Buffer {
  const h: Header = { command, payloadSize, dataType: dbrType, dataCount: count, parameter1, parameter2 };
  const buf = Buffer.allocUnsafe(
    needsExtendedHeader(payloadSize, count) ? EXTENDED_HEADER_SIZE : HEADER_SIZE,
  );
  writeHeader(buf, 0, h);
  return buf;
}

/** A DBR payload of `count` elements, padded to 8. */
export function encodePayload(dbrType: number, count: number, data: DbrData): Buffer {
  const raw = dbrSize(dbrType, count);
  const size = padTo8(raw);
  const buf = Buffer.allocUnsafe(size);
  const n = encodeDbrInto(buf, 0, dbrType, count, data);
  buf.fill(0, n, size);
  return buf;
}

/** The payload size a data reply of this type and count would have (padded). */
export function dataReplySize(dbrType: number, count: number): number {
  return padTo8(dbrSize(dbrType, count));
}
