/**
 * Builders and parsers for every CA message the client and the server exchange (ca-protocol.md §5).
 * Builders return whole messages (header + payload padded to 8) as Buffers; names are sent as UTF-8,
 * NUL-terminated and zero-padded to 8 bytes.
 */
import { CA_MINOR_VERSION, Command, SEARCH_DO_REPLY, SEARCH_DONT_REPLY } from './constants.js';
import { encodeDbrInto, encodedDbrSize } from './dbr.js';
import type { EncodeDbrOptions } from './dbr.js';
import {
  EXTENDED_HEADER_SIZE,
  HEADER_SIZE,
  ProtocolError,
  encodeHeaderOnly,
  encodeMessage,
  needsExtendedHeader,
  padTo8,
  writeHeader,
} from './header.js';
import type { Header } from './header.js';
import type { DbrData } from './values.js';

/** parameter1 of a UDP search reply meaning "use the datagram's source address". */
export const SEARCH_REPLY_USE_SOURCE = 0xffffffff;

// ---------------------------------------------------------------------------------------------
// Helpers

/** A name / string as a NUL-terminated UTF-8 payload (encodeMessage pads it to 8). */
export function nulTerminated(s: string): Buffer {
  const len = Buffer.byteLength(s, 'utf8');
  const buf = Buffer.alloc(len + 1);
  buf.write(s, 0, 'utf8');
  return buf;
}

/** The text of a NUL-terminated (or unterminated) payload, cut at the first NUL. */
export function payloadString(payload: Uint8Array): string {
  const b = Buffer.isBuffer(payload)
    ? payload
    : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const z = b.indexOf(0);
  return b.toString('utf8', 0, z < 0 ? b.length : z);
}

/** Dotted IPv4 text -> u32. Throws ProtocolError for anything else. */
export function ipv4ToNumber(addr: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(addr);
  if (!m) throw new ProtocolError(`not an IPv4 address: ${JSON.stringify(addr)}`);
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) throw new ProtocolError(`not an IPv4 address: ${JSON.stringify(addr)}`);
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

/** u32 -> dotted IPv4 text. */
export function numberToIpv4(n: number): string {
  const v = n >>> 0;
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

function addrNumber(addr: number | string | undefined, dflt: number): number {
  if (addr === undefined) return dflt;
  return typeof addr === 'string' ? ipv4ToNumber(addr) : addr >>> 0;
}

/** The header bytes of a message as they were on the wire (16, or 24 when `extended`). */
export function encodeHeaderBytes(h: Header & { extended?: boolean }): Buffer {
  if (h.extended && !needsExtendedHeader(h.payloadSize, h.dataCount)) {
    // Re-create the 24-byte form even for small values (the peer used it).
    const buf = Buffer.alloc(EXTENDED_HEADER_SIZE);
    buf.writeUInt16BE(h.command, 0);
    buf.writeUInt16BE(0xffff, 2);
    buf.writeUInt16BE(h.dataType & 0xffff, 4);
    buf.writeUInt16BE(0, 6);
    buf.writeUInt32BE(h.parameter1 >>> 0, 8);
    buf.writeUInt32BE(h.parameter2 >>> 0, 12);
    buf.writeUInt32BE(h.payloadSize >>> 0, 16);
    buf.writeUInt32BE(h.dataCount >>> 0, 20);
    return buf;
  }
  const buf = Buffer.alloc(
    needsExtendedHeader(h.payloadSize, h.dataCount) ? EXTENDED_HEADER_SIZE : HEADER_SIZE,
  );
  writeHeader(buf, 0, h);
  return buf;
}

/**
 * One message whose payload is a DBR encoded in place (no intermediate copy): header, DBR, zero pad.
 * Uses the extended header when needed; throws RangeError if `allowExtended` is false then.
 */
export function dbrMessage(
  command: number,
  dbrType: number,
  count: number,
  parameter1: number,
  parameter2: number,
  data: DbrData,
  opts?: EncodeDbrOptions & { allowExtended?: boolean },
): Buffer {
  const raw = encodedDbrSize(dbrType, count, data, opts);
  const size = padTo8(raw);
  const hlen = needsExtendedHeader(size, count) ? EXTENDED_HEADER_SIZE : HEADER_SIZE;
  const buf = Buffer.allocUnsafe(hlen + size);
  writeHeader(
    buf,
    0,
    { command, payloadSize: size, dataType: dbrType, dataCount: count, parameter1, parameter2 },
    opts?.allowExtended ?? true,
  );
  encodeDbrInto(buf, hlen, dbrType, count, data, opts);
  if (size > raw) buf.fill(0, hlen + raw);
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Version, search, beacons, repeater (UDP) and name-server search (TCP)

/** A message carrying an already encoded payload (copied and zero-padded to a multiple of 8). */
function payloadMessage(
  command: number,
  type: number,
  count: number,
  parameter1: number,
  parameter2: number,
  payload: Uint8Array,
): Buffer {
  return encodeMessage({ command, dataType: type, dataCount: count, parameter1, parameter2 }, payload);
}

/** TCP VERSION: client -> server carries the priority (0-99); server -> client priority 0. */
export function versionMessage(priority = 0, minor: number = CA_MINOR_VERSION): Buffer {
  return encodeHeaderOnly(Command.VERSION, priority, minor, 0, 0);
}

/** UDP VERSION that starts every search datagram and search reply datagram (sequence valid flag 1). */
export function udpVersion(seq: number, minor: number = CA_MINOR_VERSION): Buffer {
  return encodeHeaderOnly(Command.VERSION, 1, minor, seq, 0);
}

/** SEARCH request for `name` (UDP: reply false = DONTREPLY; TCP name servers: reply true = DOREPLY). */
export function searchRequest(
  name: string,
  cid: number,
  reply = false,
  minor: number = CA_MINOR_VERSION,
): Buffer {
  return encodeMessage(
    {
      command: Command.SEARCH,
      dataType: reply ? SEARCH_DO_REPLY : SEARCH_DONT_REPLY,
      dataCount: minor,
      parameter1: cid,
      parameter2: cid,
    },
    nulTerminated(name),
  );
}

/**
 * UDP SEARCH reply: data_type = server TCP port, parameter1 = server IPv4 (default 0xFFFFFFFF: use
 * the datagram source), parameter2 = cid, 8-byte payload with the server minor.
 */
export function searchReply(
  port: number,
  cid: number,
  minor: number = CA_MINOR_VERSION,
  serverAddr?: number | string,
): Buffer {
  const payload = Buffer.alloc(8);
  payload.writeUInt16BE(minor, 0);
  return encodeMessage(
    {
      command: Command.SEARCH,
      dataType: port,
      dataCount: 0,
      parameter1: addrNumber(serverAddr, SEARCH_REPLY_USE_SOURCE),
      parameter2: cid,
    },
    payload,
  );
}

/** SEARCH reply over TCP (name-server use): no payload, parameter1 0xFFFFFFFF = this circuit's peer. */
export function searchReplyTcp(port: number, cid: number): Buffer {
  return encodeHeaderOnly(Command.SEARCH, port, 0, SEARCH_REPLY_USE_SOURCE, cid);
}

/** The server minor in a UDP search reply payload (undefined for an empty payload: minor < 1 / TCP). */
export function parseSearchReplyMinor(payload: Uint8Array): number | undefined {
  if (payload.length < 2) return undefined;
  return (payload[0] << 8) | payload[1];
}

/** NOT_FOUND for a DOREPLY search: data_type and count echo the request's (10, minor). */
export function notFound(
  cid: number,
  dataType: number = SEARCH_DO_REPLY,
  minor: number = CA_MINOR_VERSION,
): Buffer {
  return encodeHeaderOnly(Command.NOT_FOUND, dataType, minor, cid, cid);
}

/** The PV name in a SEARCH / CREATE_CHAN payload (cut at the first NUL). */
export function parseSearchPayloadName(payload: Uint8Array): string {
  return payloadString(payload);
}

/** Beacon (RSRV_IS_UP): data_type = server minor, count = TCP port, p1 = beacon number, p2 = IPv4 (0 = use source). */
export function beacon(
  seq: number,
  port: number,
  addr?: number | string,
  minor: number = CA_MINOR_VERSION,
): Buffer {
  return encodeHeaderOnly(Command.RSRV_IS_UP, minor, port, seq, addrNumber(addr, 0));
}

/** REPEATER_REGISTER, 16-byte form (libca itself sends a zero-length datagram, also accepted). */
export function repeaterRegister(addr?: number | string): Buffer {
  return encodeHeaderOnly(Command.REPEATER_REGISTER, 0, 0, 0, addrNumber(addr, 0));
}

/** REPEATER_CONFIRM: parameter2 = the client's IPv4. */
export function repeaterConfirm(addr: number | string): Buffer {
  return encodeHeaderOnly(Command.REPEATER_CONFIRM, 0, 0, 0, addrNumber(addr, 0));
}

// ---------------------------------------------------------------------------------------------
// Circuit set-up

export function clientName(user: string): Buffer {
  return payloadMessage(Command.CLIENT_NAME, 0, 0, 0, 0, nulTerminated(user));
}

export function hostName(host: string): Buffer {
  return payloadMessage(Command.HOST_NAME, 0, 0, 0, 0, nulTerminated(host));
}

/** CREATE_CHAN request: payload the PV name, p1 = cid, p2 = client minor. */
export function createChanRequest(name: string, cid: number, minor: number = CA_MINOR_VERSION): Buffer {
  return payloadMessage(Command.CREATE_CHAN, 0, 0, cid, minor, nulTerminated(name));
}

/**
 * CREATE_CHAN reply: native type and element count (extended header when count >= 0xFFFF; pass
 * `allowExtended` false for a client < minor 9, after capping the count at 0xFFFE).
 */
export function createChanReply(
  cid: number,
  sid: number,
  type: number,
  count: number,
  allowExtended = true,
): Buffer {
  return encodeMessage(
    { command: Command.CREATE_CHAN, dataType: type, dataCount: count, parameter1: cid, parameter2: sid },
    undefined,
    allowExtended,
  );
}

/** ACCESS_RIGHTS: p1 = cid, p2 = bit 0 read, bit 1 write. */
export function accessRights(cid: number, rights: number): Buffer {
  return encodeHeaderOnly(Command.ACCESS_RIGHTS, 0, 0, cid, rights);
}

export function createChFail(cid: number): Buffer {
  return encodeHeaderOnly(Command.CREATE_CH_FAIL, 0, 0, cid, 0);
}

/** SERVER_DISCONN (RSRV never sends it; libca re-searches the channel). */
export function serverDisconn(cid: number): Buffer {
  return encodeHeaderOnly(Command.SERVER_DISCONN, 0, 0, cid, 0);
}

/** CLEAR_CHANNEL, both directions (the server echoes the request): p1 = sid, p2 = cid. */
export function clearChannel(sid: number, cid: number): Buffer {
  return encodeHeaderOnly(Command.CLEAR_CHANNEL, 0, 0, sid, cid);
}

export function echo(): Buffer {
  return encodeHeaderOnly(Command.ECHO);
}

export function readSync(): Buffer {
  return encodeHeaderOnly(Command.READ_SYNC);
}

export function eventsOff(): Buffer {
  return encodeHeaderOnly(Command.EVENTS_OFF);
}

export function eventsOn(): Buffer {
  return encodeHeaderOnly(Command.EVENTS_ON);
}

// ---------------------------------------------------------------------------------------------
// Read

/** READ_NOTIFY request (count 0 = current length, server minor >= 13). */
export function readNotifyRequest(sid: number, ioid: number, type: number, count: number): Buffer {
  return encodeHeaderOnly(Command.READ_NOTIFY, type, count, sid, ioid);
}

/** Legacy READ request (no status in the reply). */
export function readRequest(sid: number, ioid: number, type: number, count: number): Buffer {
  return encodeHeaderOnly(Command.READ, type, count, sid, ioid);
}

/** READ_NOTIFY reply with an already encoded DBR payload (padded here). */
export function readNotifyReply(
  ioid: number,
  type: number,
  count: number,
  status: number,
  dataBuf: Uint8Array,
): Buffer {
  return payloadMessage(Command.READ_NOTIFY, type, count, status, ioid, dataBuf);
}

/** READ_NOTIFY reply encoding `data` directly into the message (one allocation, no copy). */
export function readNotifyReplyDbr(
  ioid: number,
  type: number,
  count: number,
  status: number,
  data: DbrData,
  allowExtended = true,
): Buffer {
  return dbrMessage(Command.READ_NOTIFY, type, count, status, ioid, data, { allowExtended });
}

/**
 * READ_NOTIFY reply for a failed read (ECA_GETFAIL, ECA_NORDACCESS ...): a zeroed payload of the
 * requested type and count, as RSRV sends.
 */
export function readNotifyFailReply(
  ioid: number,
  type: number,
  count: number,
  status: number,
  size: number,
): Buffer {
  return payloadMessage(Command.READ_NOTIFY, type, count, status, ioid, Buffer.alloc(size));
}

/** Legacy READ reply as RSRV sends it: p1 = cid, p2 = ioid; a single string in short form. */
export function readReply(cid: number, ioid: number, type: number, count: number, data: DbrData): Buffer {
  return dbrMessage(Command.READ, type, count, cid, ioid, data, { shortString: true });
}

// ---------------------------------------------------------------------------------------------
// Write

/** WRITE (no reply) with an encoded payload: p1 = sid, p2 = cid. */
export function writeRequest(
  sid: number,
  cid: number,
  type: number,
  count: number,
  dataBuf: Uint8Array,
): Buffer {
  return payloadMessage(Command.WRITE, type, count, sid, cid, dataBuf);
}

/** WRITE_NOTIFY request with an encoded payload: p1 = sid, p2 = ioid. */
export function writeNotifyRequest(
  sid: number,
  ioid: number,
  type: number,
  count: number,
  dataBuf: Uint8Array,
): Buffer {
  return payloadMessage(Command.WRITE_NOTIFY, type, count, sid, ioid, dataBuf);
}

/**
 * WRITE / WRITE_NOTIFY request encoding the value in place. A single DBR_STRING goes in short form
 * (as caput) unless `shortString: false` is given.
 */
export function writeRequestDbr(
  notify: boolean,
  sid: number,
  id: number,
  type: number,
  count: number,
  data: DbrData,
  opts?: EncodeDbrOptions & { allowExtended?: boolean },
): Buffer {
  return dbrMessage(notify ? Command.WRITE_NOTIFY : Command.WRITE, type, count, sid, id, data, {
    shortString: true,
    ...opts,
  });
}

/** WRITE_NOTIFY reply: type and count echoed, p1 = ECA status, p2 = ioid. */
export function writeNotifyReply(ioid: number, type: number, count: number, status: number): Buffer {
  return encodeHeaderOnly(Command.WRITE_NOTIFY, type, count, status, ioid);
}

// ---------------------------------------------------------------------------------------------
// Subscriptions

/** EVENT_ADD request: 16-byte payload (f32 low, high, to = 0, u16 mask, u16 pad). */
export function eventAddRequest(
  sid: number,
  subid: number,
  type: number,
  count: number,
  mask: number,
): Buffer {
  const payload = Buffer.alloc(16);
  payload.writeUInt16BE(mask & 0xffff, 12);
  return payloadMessage(Command.EVENT_ADD, type, count, sid, subid, payload);
}

/** The fields of an EVENT_ADD request payload. Throws ProtocolError when shorter than 14 bytes. */
export function parseEventAddPayload(payload: Uint8Array): {
  low: number;
  high: number;
  to: number;
  mask: number;
} {
  if (payload.length < 14) throw new ProtocolError(`EVENT_ADD payload of ${payload.length} bytes (need 16)`);
  const b = Buffer.isBuffer(payload)
    ? payload
    : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  return { low: b.readFloatBE(0), high: b.readFloatBE(4), to: b.readFloatBE(8), mask: b.readUInt16BE(12) };
}

/** EVENT_ADD update with an already encoded payload: p1 = ECA status, p2 = subid. */
export function eventAddReply(
  subid: number,
  type: number,
  count: number,
  status: number,
  dataBuf: Uint8Array,
): Buffer {
  return payloadMessage(Command.EVENT_ADD, type, count, status, subid, dataBuf);
}

/** EVENT_ADD update encoding `data` in place. */
export function eventAddReplyDbr(
  subid: number,
  type: number,
  count: number,
  status: number,
  data: DbrData,
  allowExtended = true,
): Buffer {
  return dbrMessage(Command.EVENT_ADD, type, count, status, subid, data, { allowExtended });
}

/** EVENT_CANCEL request: type and count of the subscription, p1 = sid, p2 = subid. */
export function eventCancelRequest(sid: number, subid: number, type: number, count: number): Buffer {
  return encodeHeaderOnly(Command.EVENT_CANCEL, type, count, sid, subid);
}

/** Cancel confirmation: an EVENT_ADD with no payload, p1 = sid, p2 = subid. */
export function eventCancelReply(sid: number, subid: number, type: number, count: number): Buffer {
  return encodeHeaderOnly(Command.EVENT_ADD, type, count, sid, subid);
}

// ---------------------------------------------------------------------------------------------
// Errors

/**
 * ERROR: payload = the failing request's header (16 or 24 bytes, as received) + NUL-terminated
 * text; p1 = cid of the request's channel (0xFFFFFFFF if none), p2 = ECA status.
 */
export function errorMessage(requestHeaderBytes: Uint8Array, cid: number, eca: number, text: string): Buffer {
  const t = Buffer.from(text, 'utf8');
  const payload = Buffer.alloc(requestHeaderBytes.length + t.length + 1);
  payload.set(requestHeaderBytes, 0);
  payload.set(t, requestHeaderBytes.length);
  return encodeMessage(
    { command: Command.ERROR, dataType: 0, dataCount: 0, parameter1: cid, parameter2: eca },
    payload,
  );
}

/** The embedded request header and the text of an ERROR payload. Throws ProtocolError if malformed. */
export function parseErrorPayload(payload: Uint8Array): {
  header: Header & { extended: boolean };
  text: string;
} {
  if (payload.length < HEADER_SIZE) throw new ProtocolError(`ERROR payload of ${payload.length} bytes`);
  const b = Buffer.isBuffer(payload)
    ? payload
    : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  let hlen = HEADER_SIZE;
  let payloadSize = b.readUInt16BE(2);
  let dataCount = b.readUInt16BE(6);
  let extended = false;
  if (payloadSize === 0xffff) {
    if (b.length < EXTENDED_HEADER_SIZE) throw new ProtocolError('ERROR payload with a cut extended header');
    payloadSize = b.readUInt32BE(16);
    dataCount = b.readUInt32BE(20);
    hlen = EXTENDED_HEADER_SIZE;
    extended = true;
  }
  const header = {
    command: b.readUInt16BE(0),
    payloadSize,
    dataType: b.readUInt16BE(4),
    dataCount,
    parameter1: b.readUInt32BE(8),
    parameter2: b.readUInt32BE(12),
    extended,
  };
  return { header, text: payloadString(b.subarray(hlen)) };
}
