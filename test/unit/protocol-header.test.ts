/**
 * Framing tests: standard and extended headers, padding, decodeMessage limits, decodeDatagram, and
 * MessageReader fed byte by byte, in random chunks, and with a 16 MB message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EXTENDED_HEADER_SIZE,
  HEADER_SIZE,
  MessageReader,
  ProtocolError,
  decodeDatagram,
  decodeMessage,
  encodeHeaderOnly,
  encodeMessage,
  needsExtendedHeader,
  padTo8,
} from '../../src/protocol/header.js';
import type { Message } from '../../src/protocol/header.js';
import { loadTrace, tcpStreams } from '../helpers/traces.js';

test('padTo8 and the extended-header rule', () => {
  assert.deepEqual([0, 1, 7, 8, 9, 16, 17].map(padTo8), [0, 8, 8, 8, 16, 16, 24]);
  assert.equal(needsExtendedHeader(0xfff8, 1), false);
  assert.equal(needsExtendedHeader(0xffff, 1), true);
  assert.equal(needsExtendedHeader(0x10000, 1), true);
  assert.equal(needsExtendedHeader(0, 0xfffe), false);
  assert.equal(needsExtendedHeader(0, 0xffff), true);
});

test('encodeMessage pads with zeros and writes the padded size', () => {
  const m = encodeMessage(
    { command: 18, dataType: 0, dataCount: 0, parameter1: 1, parameter2: 13 },
    Buffer.from('T:ai\0', 'latin1'),
  );
  assert.equal(m.toString('hex'), '0012000800000000000000010000000d543a616900000000');
  const d = decodeMessage(m)?.message as Message;
  assert.equal(d.payloadSize, 8);
  assert.equal(d.extended, false);
  assert.equal(
    encodeMessage({ command: 23, dataType: 0, dataCount: 0, parameter1: 0, parameter2: 0 }).length,
    16,
  );
});

test('extended header: 24 bytes, 0xFFFF marker, u32 size and count', () => {
  const payload = Buffer.alloc(0x10000 + 3, 7);
  const m = encodeMessage(
    { command: 15, dataType: 6, dataCount: 8192, parameter1: 1, parameter2: 2 },
    payload,
  );
  assert.equal(m.length, EXTENDED_HEADER_SIZE + padTo8(payload.length));
  assert.equal(m.readUInt16BE(2), 0xffff);
  assert.equal(m.readUInt16BE(6), 0);
  assert.equal(m.readUInt32BE(16), padTo8(payload.length));
  assert.equal(m.readUInt32BE(20), 8192);
  const r = decodeMessage(m);
  assert.ok(r);
  assert.equal(r.message.extended, true);
  assert.equal(r.message.payloadSize, padTo8(payload.length));
  assert.equal(r.message.dataCount, 8192);
  assert.equal(r.next, m.length);
  // Count alone can force it (READ_NOTIFY request for 100000 elements, as in big_array).
  const req = encodeHeaderOnly(15, 20, 100000, 1, 1);
  assert.equal(req.toString('hex'), '000fffff001400000000000100000001' + '00000000000186a0');
  assert.throws(
    () =>
      encodeMessage(
        { command: 15, dataType: 6, dataCount: 70000, parameter1: 0, parameter2: 0 },
        undefined,
        false,
      ),
    RangeError,
  );
});

test('decodeMessage: incomplete input, limits and alignment', () => {
  const m = encodeMessage(
    { command: 1, dataType: 20, dataCount: 1, parameter1: 1, parameter2: 2 },
    Buffer.alloc(24),
  );
  for (let i = 0; i < m.length; i++) assert.equal(decodeMessage(m.subarray(0, i)), undefined, `prefix ${i}`);
  assert.ok(decodeMessage(m));
  const big = Buffer.alloc(24);
  big.writeUInt16BE(0xffff, 2);
  big.writeUInt32BE(1 << 30, 16);
  assert.throws(() => decodeMessage(big), ProtocolError);
  assert.equal(decodeMessage(big.subarray(0, 20)), undefined); // extended header not complete yet
  const mis = Buffer.alloc(16 + 5);
  mis.writeUInt16BE(5, 2);
  assert.ok(decodeMessage(mis));
  assert.throws(() => decodeMessage(mis, 0, undefined, true), ProtocolError);
  assert.throws(() => decodeMessage(m, 0, 16), ProtocolError);
});

test('decodeDatagram splits a search reply datagram', () => {
  const dg = Buffer.from(
    '000000000001000d00000001000000000006000861e80000ffffffff00000001000d000000000000',
    'hex',
  );
  const ms = decodeDatagram(dg);
  assert.deepEqual(
    ms.map((m) => [m.command, m.dataType, m.dataCount, m.parameter1, m.parameter2]),
    [
      [0, 1, 13, 1, 0],
      [6, 25064, 0, 0xffffffff, 1],
    ],
  );
  assert.deepEqual(decodeDatagram(Buffer.alloc(0)), []);
  assert.equal(decodeDatagram(Buffer.concat([dg, Buffer.alloc(5)])).length, 2);
});

/** A mixed stream: small messages, one extended message, more small ones. */
function sampleStream(): { bytes: Buffer; keys: string[] } {
  const parts: Buffer[] = [];
  const keys: string[] = [];
  const add = (b: Buffer): void => {
    parts.push(b);
    const m = decodeMessage(b)?.message as Message;
    keys.push(key(m));
  };
  for (let i = 0; i < 20; i++) {
    add(
      encodeMessage(
        { command: 15, dataType: 6, dataCount: i, parameter1: i, parameter2: 2 },
        Buffer.alloc(i * 3, i),
      ),
    );
  }
  add(
    encodeMessage(
      { command: 1, dataType: 6, dataCount: 9000, parameter1: 1, parameter2: 9 },
      Buffer.alloc(72000, 0x5a),
    ),
  );
  for (let i = 0; i < 5; i++) add(encodeHeaderOnly(23, 0, 0, i, i));
  return { bytes: Buffer.concat(parts), keys };
}

function key(m: Message): string {
  let sum = 0;
  for (let i = 0; i < m.payload.length; i += 97) sum = (sum * 31 + m.payload[i]) >>> 0;
  return `${m.command}/${m.dataType}/${m.dataCount}/${m.parameter1}/${m.parameter2}/${m.payloadSize}/${m.extended}/${sum}`;
}

test('MessageReader fed byte by byte', () => {
  const { bytes, keys } = sampleStream();
  const r = new MessageReader(undefined, false, 64);
  const got: string[] = [];
  for (let i = 0; i < bytes.length; i++) r.push(bytes.subarray(i, i + 1), (m) => got.push(key(m)));
  assert.deepEqual(got, keys);
  assert.equal(r.pending, 0);
});

test('MessageReader fed random chunks (seeded) gives the same messages', () => {
  const { bytes, keys } = sampleStream();
  let seed = 12345;
  const rand = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) / 0x1000000;
  };
  for (let round = 0; round < 50; round++) {
    const r = new MessageReader(undefined, false, 1 + Math.floor(rand() * 4096));
    const got: string[] = [];
    let off = 0;
    while (off < bytes.length) {
      const n = 1 + Math.floor(rand() * (rand() < 0.2 ? 100000 : 300));
      r.push(bytes.subarray(off, off + n), (m) => got.push(key(m)));
      off += n;
      if (off < bytes.length && r.pending > 0)
        assert.ok(r.expectedSize() === undefined || r.expectedSize()! > 0);
    }
    assert.deepEqual(got, keys, `round ${round}`);
    assert.equal(r.pending, 0);
  }
});

test('MessageReader reassembles the captured 800 KB big_array reply from its TCP segments', () => {
  const packets = loadTrace('big_array');
  const server = [...tcpStreams(packets).values()].find((s) => s.from === 'server');
  assert.ok(server);
  const r = new MessageReader();
  const got: Message[] = [];
  for (const p of packets) {
    if (p.proto === 'tcp' && p.from === 'server')
      r.push(p.data, (m) => got.push({ ...m, payload: Buffer.from(m.payload) }));
  }
  assert.equal(got.length, server.messages.length);
  const big = got.find((m) => m.payloadSize === 800016);
  assert.ok(big);
  assert.equal(big.payload.readDoubleBE(16 + 8 * 99999), 49999.5);
});

test('MessageReader: a 16 MB message in 64 KiB chunks is linear time', () => {
  const n = 2_000_000;
  const payload = Buffer.alloc(8 * n);
  for (let i = 0; i < n; i += 1000) payload.writeDoubleBE(i, 8 * i);
  const msg = encodeMessage(
    { command: 15, dataType: 6, dataCount: n, parameter1: 1, parameter2: 5 },
    payload,
  );
  const before = encodeHeaderOnly(23);
  const stream = Buffer.concat([before, msg, before]);
  const r = new MessageReader();
  const got: Message[] = [];
  const t0 = process.hrtime.bigint();
  for (let off = 0; off < stream.length; off += 65536) {
    r.push(stream.subarray(off, off + 65536), (m) => {
      got.push(m);
      if (m.command === 15) {
        assert.equal(m.payloadSize, 8 * n);
        assert.equal(m.dataCount, n);
        assert.equal(m.payload.readDoubleBE(8 * 1999000), 1999000);
      }
    });
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.deepEqual(
    got.map((m) => m.command),
    [23, 15, 23],
  );
  assert.ok(ms < 1000, `took ${ms} ms`);
  assert.equal(r.pending, 0);
});

test('MessageReader rejects oversize and misaligned messages with ProtocolError', () => {
  const r = new MessageReader(1024);
  const big = encodeMessage(
    { command: 15, dataType: 6, dataCount: 1, parameter1: 0, parameter2: 0 },
    Buffer.alloc(2048),
  );
  assert.throws(() => r.push(big.subarray(0, 16), () => undefined), ProtocolError);
  const r2 = new MessageReader(undefined, true);
  const mis = Buffer.alloc(16 + 4);
  mis.writeUInt16BE(4, 2);
  assert.throws(() => r2.push(mis, () => undefined), ProtocolError);
  // Split across pushes: the error comes when the header is complete.
  const r3 = new MessageReader(1024);
  r3.push(encodeHeaderOnly(23), () => undefined);
  r3.push(big.subarray(0, 8), () => undefined);
  assert.throws(() => r3.push(big.subarray(8, 16), () => undefined), ProtocolError);
});

test('HEADER_SIZE constants', () => {
  assert.equal(HEADER_SIZE, 16);
  assert.equal(EXTENDED_HEADER_SIZE, 24);
});

test('MessageReader on random garbage: messages, waiting, or ProtocolError only (seeded fuzz)', () => {
  let seed = 7;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  for (let round = 0; round < 2000; round++) {
    const r = new MessageReader(1 << 20, rand(2) === 0, 16);
    const junk = Buffer.alloc(rand(300));
    for (let i = 0; i < junk.length; i++) junk[i] = rand(4) === 0 ? 0xff : rand(256);
    try {
      for (let off = 0; off < junk.length;) {
        const n = 1 + rand(40);
        r.push(junk.subarray(off, off + n), () => undefined);
        off += n;
      }
    } catch (e) {
      assert.ok(e instanceof ProtocolError, String(e));
    }
  }
});

test('MessageReader keeps a big buffer while big messages come, and drops it after a run of small ones', () => {
  const r = new MessageReader(undefined, false, 1024);
  const big = encodeMessage(
    { command: 15, dataType: 6, dataCount: 1, parameter1: 0, parameter2: 0 },
    Buffer.alloc(6e6),
  );
  const small = encodeHeaderOnly(23);
  const bufSize = (): number => (r as unknown as { buf: Buffer }).buf.length;
  for (let off = 0; off < big.length; off += 65536) r.push(big.subarray(off, off + 65536), () => undefined);
  const grown = bufSize();
  assert.ok(grown >= 6e6);
  for (let i = 0; i < 100; i++) r.push(small, () => undefined);
  assert.equal(bufSize(), grown);
  let n = 0;
  for (let i = 0; i < 2000; i++) r.push(small, () => n++);
  assert.equal(n, 2000);
  assert.equal(bufSize(), 1024);
});
