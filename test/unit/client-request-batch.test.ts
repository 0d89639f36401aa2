// The client's per-turn request batching (request-batch.ts), its header writer, the latin1 writer of
// names, the real search clock and the in-place parsing of search replies.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RequestBatch, headerLength, putHeader } from '../../src/client/request-batch.js';
import type { Circuit } from '../../src/client/circuit.js';
import {
  SearchScheduler,
  encodeSearchRequest,
  parseClientDatagram,
  realClock,
  writeLatin1,
} from '../../src/client/search.js';
import type { SearchReply, UdpNotice } from '../../src/client/search.js';
import { Command } from '../../src/protocol/constants.js';
import { writeHeader } from '../../src/protocol/header.js';

/** A stand-in circuit that records what is sent to it. */
function fakeCircuit(name: string, log: string[]): Circuit {
  return {
    send(buf: Buffer, cb?: (err?: Error | null) => void): void {
      log.push(`${name}:${buf.toString('hex')}`);
      if (cb) cb(null);
    },
  } as unknown as Circuit;
}

function hdr(command: number, size: number, type: number, count: number, p1: number, p2: number): Buffer {
  const b = Buffer.alloc(headerLength(size, count));
  writeHeader(b, 0, {
    command,
    payloadSize: size,
    dataType: type,
    dataCount: count,
    parameter1: p1,
    parameter2: p2,
  });
  return b;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('request batch', () => {
  it('putHeader writes what protocol writeHeader writes (16 and 24 bytes)', () => {
    for (const [size, count] of [
      [0, 0],
      [16, 1],
      [0, 0xfffe],
      [0, 0xffff],
      [0x10000, 5],
      [8, 100000],
    ] as const) {
      const want = hdr(Command.EVENT_ADD, size, 20, count, 0x12345678, 0xfedcba98);
      const got = Buffer.alloc(want.length + 4, 0xaa);
      const end = putHeader(got, 4, Command.EVENT_ADD, size, 20, count, 0x12345678, 0xfedcba98);
      assert.equal(end, 4 + want.length);
      assert.deepEqual(got.subarray(4), want);
      assert.equal(got[0], 0xaa);
    }
  });

  it('hands a turn of requests to their circuit in one buffer, in order', async () => {
    const log: string[] = [];
    const a = fakeCircuit('a', log);
    const batch = new RequestBatch();
    batch.header(a, Command.READ_NOTIFY, 6, 1, 7, 100);
    batch.header(a, Command.CLEAR_CHANNEL, 0, 0, 7, 8);
    assert.deepEqual(log, [], 'nothing is sent before the end of the turn');
    await tick();
    const want = Buffer.concat([
      hdr(Command.READ_NOTIFY, 0, 6, 1, 7, 100),
      hdr(Command.CLEAR_CHANNEL, 0, 0, 0, 7, 8),
    ]).toString('hex');
    assert.deepEqual(log, [`a:${want}`]);
  });

  it('keeps the order with requests sent on their own and across circuits', async () => {
    const log: string[] = [];
    const a = fakeCircuit('a', log);
    const b = fakeCircuit('b', log);
    const batch = new RequestBatch();
    batch.header(a, Command.READ_NOTIFY, 6, 1, 1, 1);
    const own = Buffer.from('0004000000000000000000000000000a', 'hex');
    let sent = false;
    batch.send(a, own, () => (sent = true));
    batch.header(b, Command.READ_NOTIFY, 6, 1, 2, 2);
    batch.header(a, Command.READ_NOTIFY, 6, 1, 3, 3);
    await tick();
    assert.ok(sent);
    assert.deepEqual(log, [
      `a:${hdr(Command.READ_NOTIFY, 0, 6, 1, 1, 1).toString('hex')}`,
      `a:${own.toString('hex')}`,
      `b:${hdr(Command.READ_NOTIFY, 0, 6, 1, 2, 2).toString('hex')}`,
      `a:${hdr(Command.READ_NOTIFY, 0, 6, 1, 3, 3).toString('hex')}`,
    ]);
  });

  it('starts a new buffer when one is full, without touching what was handed over', async () => {
    const chunks: Buffer[] = [];
    const c = { send: (buf: Buffer) => chunks.push(buf) } as unknown as Circuit;
    const batch = new RequestBatch();
    const n = 3000; // 3000 x 16 bytes: more than one 16 KiB buffer
    for (let i = 0; i < n; i++) batch.header(c, Command.READ_NOTIFY, 6, 1, i, i);
    // a request bigger than a buffer gets one of its own size
    const at = batch.reserve(c, 40000);
    batch.buffer.fill(0x55, at, at + 40000);
    await tick();
    assert.ok(chunks.length >= 3);
    const all = Buffer.concat(chunks);
    assert.equal(all.length, n * 16 + 40000);
    for (let i = 0; i < n; i++) assert.equal(all.readUInt32BE(i * 16 + 8), i);
    assert.ok(all.subarray(n * 16).every((x) => x === 0x55));
  });

  it('flush() hands over at once (before a circuit is closed)', () => {
    const log: string[] = [];
    const a = fakeCircuit('a', log);
    const batch = new RequestBatch();
    batch.header(a, Command.CLEAR_CHANNEL, 0, 0, 1, 2);
    batch.flush();
    assert.equal(log.length, 1);
    batch.flush();
    assert.equal(log.length, 1, 'nothing twice');
  });
});

describe('latin1 names', () => {
  it('writeLatin1 writes as Buffer.write(s, "latin1") does', () => {
    for (const s of ['', 'BENCH:ao1', 'x'.repeat(64), 'y'.repeat(65) + 'é', 'ÿé€☃a', 'Ā']) {
      const want = Buffer.alloc(s.length + 2, 7);
      want.write(s, 1, s.length, 'latin1');
      const got = Buffer.alloc(s.length + 2, 7);
      writeLatin1(got, 1, s);
      assert.deepEqual(got, want, s);
    }
  });

  it('the scheduler encodes each name into its datagram as encodeSearchRequest does', () => {
    const sent: Buffer[] = [];
    let fire: (() => void) | undefined;
    const s = new SearchScheduler({
      maxSearchPeriod: 60,
      send: (d) => sent.push(d),
      clock: { now: () => 0, setTimer: (fn) => (fire = fn), clearTimer: () => undefined },
      immediateFirst: true,
    });
    const list = ['A', 'BENCH:ao12', 'x'.repeat(40), 'name:with.more_chars'];
    list.forEach((n, i) => s.add(i + 1, n));
    fire!();
    assert.equal(sent.length, 1);
    const d = sent[0]!;
    const want = Buffer.concat(list.map((n, i) => encodeSearchRequest(n, i + 1)));
    assert.deepEqual(d.subarray(16), want);
    // still searched (sent, not answered): the same requests for a name-server circuit
    assert.deepEqual(
      s.allRequests().map((b) => b.toString('hex')),
      list.map((n, i) => encodeSearchRequest(n, i + 1).toString('hex')),
    );
    // answered ones leave; the rest stay in order
    assert.ok(s.reply(2));
    assert.equal(s.size, 3);
  });
});

describe('real search clock', () => {
  it('runs a timer after the I/O of its turn, and clearTimer cancels it in either phase', async () => {
    const order: string[] = [];
    realClock.setTimer(() => order.push('timer'), 0);
    const h1 = realClock.setTimer(() => order.push('cancelled early'), 0);
    realClock.clearTimer(h1);
    await new Promise((r) => setTimeout(r, 5));
    await tick(); // the timer's immediate may be queued in the same turn as this timeout
    assert.deepEqual(order, ['timer']);
    // cancelled between the timeout and the immediate: the clock's timeout schedules its immediate,
    // and the clear runs in the microtask right after that timeout callback (before the check phase)
    const orig = globalThis.setImmediate;
    let h2: unknown;
    let scheduled = 0;
    globalThis.setImmediate = ((fn: (...a: unknown[]) => void, ...a: unknown[]) => {
      const im = orig(fn, ...a);
      scheduled++;
      queueMicrotask(() => realClock.clearTimer(h2));
      return im;
    }) as typeof setImmediate;
    try {
      h2 = realClock.setTimer(() => order.push('cancelled late'), 0);
      await new Promise((r) => setTimeout(r, 20));
    } finally {
      globalThis.setImmediate = orig;
    }
    await tick();
    assert.ok(scheduled >= 1, 'the timeout scheduled its immediate');
    assert.deepEqual(order, ['timer']);
  });
});

describe('search reply parsing in place', () => {
  function msg(command: number, size: number, type: number, count: number, p1: number, p2: number, body = 0) {
    const h = hdr(command, size, type, count, p1, p2);
    return Buffer.concat([h, Buffer.alloc(body)]);
  }

  it('reads replies, beacons (also extended) and stops at a truncated message', () => {
    const reply = msg(Command.SEARCH, 8, 5064, 0, 0x7f000001, 42, 8);
    reply.writeUInt16BE(13, 16);
    const dg = Buffer.concat([
      msg(Command.VERSION, 0, 1, 13, 77, 0),
      reply,
      msg(Command.SEARCH, 0, 5065, 0, 0xffffffff, 43),
      msg(Command.RSRV_IS_UP, 0, 13, 5064, 9, 0),
      msg(Command.RSRV_IS_UP, 0, 13, 0x12345, 10, 0x0a000001), // count > 0xFFFF: extended header
      msg(Command.REPEATER_CONFIRM, 0, 0, 0, 0, 0x7f000001),
      Buffer.from([0, 6, 0, 8]), // truncated
    ]);
    const replies: SearchReply[] = [];
    const notes: UdpNotice[] = [];
    parseClientDatagram(
      dg,
      '192.168.1.5',
      (r) => replies.push(r),
      (n) => notes.push(n),
    );
    assert.deepEqual(replies, [
      { cid: 42, host: '127.0.0.1', port: 5064, minor: 13, seq: 77 },
      { cid: 43, host: '192.168.1.5', port: 5065, seq: 77 },
    ]);
    assert.deepEqual(notes, [
      { kind: 'beacon', minor: 13, port: 5064, number: 9, host: '192.168.1.5' },
      { kind: 'beacon', minor: 13, port: 0x12345, number: 10, host: '10.0.0.1' },
      { kind: 'repeater-confirm', minor: 0, port: 0, number: 0, host: '127.0.0.1' },
    ]);
  });

  it('a payload size beyond 0xFFFF in an extended header ends the parse', () => {
    const big = Buffer.alloc(24);
    big.writeUInt16BE(Command.SEARCH, 0);
    big.writeUInt16BE(0xffff, 2);
    big.writeUInt32BE(0x10000, 16);
    const replies: SearchReply[] = [];
    parseClientDatagram(Buffer.concat([big, msg(Command.SEARCH, 0, 5064, 0, 1, 2)]), 'h', (r) =>
      replies.push(r),
    );
    assert.deepEqual(replies, []);
  });
});
