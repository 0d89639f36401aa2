/**
 * Message builders and parsers: every message of every recorded trace is rebuilt from its decoded
 * fields with the builders and must come out byte-identical (DBR payloads compared with the stale
 * bytes masked, see protocol-traces.test.ts), plus unit cases for the parsers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command, ECA } from '../../src/protocol/constants.js';
import { dbrSize, decodeDbr } from '../../src/protocol/dbr.js';
import {
  EXTENDED_HEADER_SIZE,
  HEADER_SIZE,
  ProtocolError,
  decodeMessage,
} from '../../src/protocol/header.js';
import type { Message } from '../../src/protocol/header.js';
import * as M from '../../src/protocol/messages.js';
import { loadTrace, tcpStreams, traceNames, udpDatagrams } from '../helpers/traces.js';

/** The raw bytes of a decoded message (header + payload) from the buffer it was decoded from. */
function rawBytes(m: Message): Buffer {
  const hlen = m.extended ? EXTENDED_HEADER_SIZE : HEADER_SIZE;
  return Buffer.from(m.payload.buffer, m.payload.byteOffset - hlen, hlen + m.payloadSize);
}

const STRING_REGIONS: Record<number, [number, number][]> = {};

/** Zero the bytes EPICS may leave stale in a DBR payload (see protocol-traces.test.ts). */
function maskDbr(payload: Buffer, type: number, count: number): Buffer {
  const size = dbrSize(type, count);
  const b = Buffer.alloc(payload.length);
  payload.copy(b, 0, 0, size);
  const pads: Record<number, [number, number]> = {
    11: [4, 5], 13: [4, 8], 15: [12, 14], 17: [12, 14], 18: [12, 15], 20: [12, 16],
    23: [6, 8], 27: [6, 8], 30: [6, 8], 34: [6, 8], 25: [18, 19], 32: [20, 21],
  }; // prettier-ignore
  const p = pads[type];
  if (p) b.fill(0, p[0], p[1]);
  const vt = type <= 34 ? type % 7 : type <= 36 ? 3 : 0;
  const meta = size - count * [40, 2, 4, 2, 1, 4, 8][vt];
  const regions = STRING_REGIONS[type] ?? [];
  const all: [number, number][] = [...regions];
  if (vt === 0) for (let i = 0; i < count; i++) all.push([meta + 40 * i, meta + 40 * i + 40]);
  if ([22, 25, 26, 29, 32, 33].includes(type)) all.push([4, 12]);
  if ([23, 27, 30, 34].includes(type)) all.push([8, 16]);
  if (type === 24 || type === 31) for (let i = 0; i < 16; i++) all.push([6 + 26 * i, 32 + 26 * i]);
  for (const [a, e] of all) {
    const z = b.subarray(a, e).indexOf(0);
    if (z >= 0) b.fill(0, a + z, e);
  }
  return b;
}

interface Rebuilt {
  bytes: Buffer;
  dbr?: boolean;
}

function rebuild(m: Message, from: 'client' | 'server', proto: 'tcp' | 'udp'): Rebuilt {
  const { dataType: type, dataCount: count, parameter1: p1, parameter2: p2 } = m;
  switch (m.command) {
    case Command.VERSION:
      if (proto === 'udp' && type === 1) return { bytes: M.udpVersion(p1, count) };
      return { bytes: M.versionMessage(type, count) };
    case Command.SEARCH:
      if (from === 'client') {
        return { bytes: M.searchRequest(M.parseSearchPayloadName(m.payload), p1, type === 10, count) };
      }
      return { bytes: M.searchReply(type, p2, M.parseSearchReplyMinor(m.payload), p1) };
    case Command.RSRV_IS_UP:
      return { bytes: M.beacon(p1, count, p2, type) };
    case Command.REPEATER_CONFIRM:
      return { bytes: M.repeaterConfirm(p2) };
    case Command.REPEATER_REGISTER:
      return { bytes: M.repeaterRegister(p2) };
    case Command.CLIENT_NAME:
      return { bytes: M.clientName(M.payloadString(m.payload)) };
    case Command.HOST_NAME:
      return { bytes: M.hostName(M.payloadString(m.payload)) };
    case Command.CREATE_CHAN:
      if (from === 'client')
        return { bytes: M.createChanRequest(M.parseSearchPayloadName(m.payload), p1, p2) };
      return { bytes: M.createChanReply(p1, p2, type, count) };
    case Command.ACCESS_RIGHTS:
      return { bytes: M.accessRights(p1, p2) };
    case Command.READ_NOTIFY:
      if (from === 'client') return { bytes: M.readNotifyRequest(p1, p2, type, count) };
      return {
        bytes: M.readNotifyReplyDbr(p2, type, count, p1, decodeDbr(type, count, m.payload)),
        dbr: true,
      };
    case Command.EVENT_ADD:
      if (from === 'client') {
        return { bytes: M.eventAddRequest(p1, p2, type, count, M.parseEventAddPayload(m.payload).mask) };
      }
      if (m.payloadSize === 0) return { bytes: M.eventCancelReply(p1, p2, type, count) };
      return { bytes: M.eventAddReplyDbr(p2, type, count, p1, decodeDbr(type, count, m.payload)), dbr: true };
    case Command.WRITE:
    case Command.WRITE_NOTIFY:
      if (from === 'server') return { bytes: M.writeNotifyReply(p2, type, count, p1) };
      return {
        bytes: M.writeRequestDbr(
          m.command === Command.WRITE_NOTIFY,
          p1,
          p2,
          type,
          count,
          decodeDbr(type, count, m.payload),
        ),
        dbr: !(type === 0 && count === 1),
      };
    case Command.CLEAR_CHANNEL:
      return { bytes: M.clearChannel(p1, p2) };
    case Command.ECHO:
      return { bytes: M.echo() };
    case Command.EVENTS_OFF:
      return { bytes: M.eventsOff() };
    case Command.EVENTS_ON:
      return { bytes: M.eventsOn() };
    case Command.ERROR: {
      const { header, text } = M.parseErrorPayload(m.payload);
      return { bytes: M.errorMessage(M.encodeHeaderBytes(header), p1, p2, text) };
    }
    default:
      throw new Error(`no builder for command ${m.command}`);
  }
}

test('every message of every trace is rebuilt byte for byte by the builders', () => {
  const commands = new Set<string>();
  let n = 0;
  for (const name of traceNames()) {
    const packets = loadTrace(name);
    const items: { m: Message; from: 'client' | 'server'; proto: 'tcp' | 'udp' }[] = [];
    for (const s of tcpStreams(packets).values())
      for (const m of s.messages) items.push({ m, from: s.from, proto: 'tcp' });
    for (const d of udpDatagrams(packets))
      for (const m of d.messages) items.push({ m, from: d.packet.from, proto: 'udp' });
    for (const { m, from, proto } of items) {
      const where = `${name} ${from} ${proto} cmd ${m.command} type ${m.dataType} count ${m.dataCount}`;
      const want = rawBytes(m);
      const r = rebuild(m, from, proto);
      commands.add(`${from}/${proto}/${m.command}`);
      n++;
      if (!r.dbr) {
        assert.equal(r.bytes.toString('hex'), want.toString('hex'), where);
        continue;
      }
      const got = decodeMessage(r.bytes)?.message as Message;
      assert.equal(r.bytes.length, want.length, where);
      const hlen = m.extended ? EXTENDED_HEADER_SIZE : HEADER_SIZE;
      assert.deepEqual(r.bytes.subarray(0, hlen), want.subarray(0, hlen), where);
      assert.deepEqual(
        maskDbr(got.payload, m.dataType, m.dataCount),
        maskDbr(m.payload, m.dataType, m.dataCount),
        where,
      );
    }
  }
  assert.ok(n > 500);
  // Commands covered by the traces (from ca-traces/README.md).
  for (const c of [
    'client/udp/0',
    'client/udp/6',
    'server/udp/0',
    'server/udp/6',
    'server/udp/13',
    'server/udp/17',
    'client/tcp/0',
    'client/tcp/20',
    'client/tcp/21',
    'client/tcp/18',
    'server/tcp/22',
    'server/tcp/18',
    'client/tcp/15',
    'server/tcp/15',
    'client/tcp/1',
    'server/tcp/1',
    'client/tcp/4',
    'client/tcp/19',
    'server/tcp/19',
    'server/tcp/11',
    'client/tcp/12',
    'server/tcp/12',
    'client/tcp/23',
    'server/tcp/23',
    'client/tcp/8',
    'client/tcp/9',
  ]) {
    // prettier-ignore
    assert.ok(commands.has(c), c);
  }
});

test('builders: literal vectors from ca-protocol.md §6', () => {
  const search = Buffer.concat([M.versionMessage(0, 13), M.searchRequest('T:wf', 1001)]);
  assert.equal(
    search.toString('hex'),
    '000000000000000d00000000000000000006000800050' + '00d000003e9000003e9543a776600000000',
  );
  const reply = Buffer.concat([M.udpVersion(0), M.searchReply(25064, 1001)]);
  assert.equal(
    reply.toString('hex'),
    '000000000001000d000000000000000000060008' + '61e80000ffffffff000003e9000d000000000000',
  );
  assert.equal(M.searchReply(5064, 7, 13, '10.0.0.2').readUInt32BE(8), 0x0a000002);
  assert.equal(M.searchReplyTcp(5064, 7).toString('hex'), '0006000013c80000ffffffff00000007');
  assert.equal(M.notFound(9).toString('hex'), '000e0000000a000d0000000900000009');
  assert.equal(M.createChFail(5).toString('hex'), '001a0000000000000000000500000000');
  assert.equal(M.serverDisconn(5).toString('hex'), '001b0000000000000000000500000000');
  assert.equal(M.readSync().toString('hex'), '000a' + '0'.repeat(28));
  assert.equal(M.readRequest(1, 2, 6, 1).toString('hex'), '00030000000600010000000100000002');
  assert.equal(M.eventCancelRequest(3, 4, 20, 0).toString('hex'), '00020000001400000000000300000004');
  // Names are NUL terminated and padded to 8: an 8-character name takes 16 bytes.
  assert.equal(M.createChanRequest('ABCDEFGH', 1).length, 32);
  assert.equal(M.createChanRequest('ABCDEFG', 1).length, 24);
});

test('large requests and replies switch to the extended header', () => {
  const big = M.createChanReply(1, 2, 6, 100000);
  assert.equal(big.length, 24);
  assert.equal(big.readUInt16BE(2), 0xffff);
  assert.equal(big.readUInt32BE(20), 100000);
  assert.throws(() => M.createChanReply(1, 2, 6, 100000, false), RangeError);
  const n = 10000;
  const msg = M.readNotifyReplyDbr(7, 20, n, ECA.NORMAL, { value: new Float64Array(n).fill(1.5) });
  assert.equal(msg.readUInt16BE(2), 0xffff);
  const d = decodeMessage(msg)?.message as Message;
  assert.equal(d.payloadSize, 16 + 8 * n);
  assert.equal(d.dataCount, n);
  assert.equal(d.parameter1, ECA.NORMAL);
  assert.equal(d.parameter2, 7);
  assert.equal(decodeDbr(20, n, d.payload).value[n - 1], 1.5);
  // A DBR message is padded to 8 with zeros.
  const sts = M.readNotifyReplyDbr(1, 7, 1, ECA.NORMAL, { value: ['x'] });
  assert.equal(sts.length, 16 + 48);
  assert.ok(sts.subarray(16 + 44).equals(Buffer.alloc(4)));
  const fail = M.readNotifyFailReply(3, 34, 1, ECA.GETFAIL, dbrSize(34, 1));
  assert.equal(fail.length, 16 + 88);
  assert.equal(fail.readUInt32BE(8), ECA.GETFAIL);
});

test('writes: a single string goes short, arrays and other types in full', () => {
  const w = M.writeRequestDbr(false, 5, 6, 0, 1, { value: ['7.125'] });
  assert.equal(w.toString('hex'), '0004000800000001000000050000000' + '6372e313235000000');
  const full = M.writeRequestDbr(true, 5, 6, 0, 1, { value: ['7.125'] }, { shortString: false });
  assert.equal(full.length, 16 + 40);
  const arr = M.writeRequestDbr(false, 5, 6, 0, 4, { value: ['1.5', '2.5', '3.5', '-4e5'] });
  assert.equal(arr.length, 16 + 160);
  const chars = M.writeRequestDbr(true, 5, 6, 4, 25, { value: new Uint8Array(25) });
  assert.equal(chars.readUInt16BE(2), 32);
  const pre = M.writeRequest(1, 2, 6, 1, Buffer.alloc(8));
  assert.equal(pre.length, 24);
  assert.equal(M.writeNotifyRequest(1, 2, 6, 1, Buffer.alloc(8)).readUInt16BE(0), 19);
  assert.equal(
    M.writeNotifyReply(9, 6, 1, ECA.PUTFAIL).toString('hex'),
    '001300000006000100000' + '0a000000009',
  );
  assert.equal(M.readReply(1, 2, 0, 1, { value: ['abc'] }).length, 24);
});

test('parsers: search names, event masks, error payloads, addresses', () => {
  assert.equal(M.parseSearchPayloadName(Buffer.from('T:ai\0\0\0\0')), 'T:ai');
  assert.equal(M.parseSearchPayloadName(Buffer.from('noterm')), 'noterm');
  assert.equal(M.parseSearchReplyMinor(Buffer.from('000d000000000000', 'hex')), 13);
  assert.equal(M.parseSearchReplyMinor(Buffer.alloc(0)), undefined);
  const ev = M.eventAddRequest(1, 2, 20, 0, 13);
  assert.deepEqual(M.parseEventAddPayload(ev.subarray(16)), { low: 0, high: 0, to: 0, mask: 13 });
  assert.throws(() => M.parseEventAddPayload(Buffer.alloc(8)), ProtocolError);
  const req = M.readNotifyRequest(77, 3, 6, 1);
  const err = M.errorMessage(req, 0xffffffff, ECA.BADTYPE, 'bad type');
  const dm = decodeMessage(err)?.message as Message;
  assert.equal(dm.command, Command.ERROR);
  assert.equal(dm.parameter2, ECA.BADTYPE);
  const pe = M.parseErrorPayload(dm.payload);
  assert.equal(pe.text, 'bad type');
  assert.equal(pe.header.parameter1, 77);
  assert.equal(pe.header.extended, false);
  // Extended embedded header.
  const ext = M.readNotifyRequest(1, 2, 6, 70000);
  assert.equal(ext.length, 24);
  const pe2 = M.parseErrorPayload(
    (decodeMessage(M.errorMessage(ext, 1, ECA.TOLARGE, 'x'))?.message as Message).payload,
  );
  assert.equal(pe2.header.dataCount, 70000);
  assert.equal(pe2.header.extended, true);
  assert.deepEqual(M.encodeHeaderBytes(pe2.header), ext);
  assert.throws(() => M.parseErrorPayload(Buffer.alloc(8)), ProtocolError);
  assert.equal(M.ipv4ToNumber('127.0.0.1'), 0x7f000001);
  assert.equal(M.numberToIpv4(0x7f000001), '127.0.0.1');
  assert.throws(() => M.ipv4ToNumber('256.0.0.1'), ProtocolError);
  assert.throws(() => M.ipv4ToNumber('localhost'), ProtocolError);
  assert.equal(M.beacon(3, 5064, '127.0.0.1').toString('hex'), '000d0000000d13c8000000037f000001');
  assert.equal(M.repeaterRegister('127.0.0.1').readUInt32BE(12), 0x7f000001);
});
