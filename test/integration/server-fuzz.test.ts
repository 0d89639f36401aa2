// Fuzz the server: several clients throw random and mutated messages (from a corpus of valid ones)
// at it for a bounded time while a PV updates fast. Afterwards the server must still be alive,
// serve a well-behaved client, and its memory must have stayed bounded.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import dgram from 'node:dgram';
import { Command, DBR, DBE, ECA } from '../../src/protocol/constants.js';
import { decodeDbr } from '../../src/protocol/dbr.js';
import { serve } from '../../src/server/index.js';
import { flipBytes, randomBytes, rng } from '../helpers/fuzz.js';
import { LOOPBACK, RawClient, msg, nameBuf, sleep, testEnv } from './server-helpers.js';

const FUZZ_MS = Number(process.env.TSEPICS_FUZZ_MS ?? 3000);
const CLIENTS = 8;
const NAMES = [
  'F:dbl',
  'F:wf',
  'F:enum',
  'F:str',
  'F:put',
  'F:char',
  'F:ro',
  'F:fast',
  'NOPE',
  'F:dbl.VAL',
  '',
];

function corpus(r: () => number): Buffer[] {
  const int = (n: number): number => Math.floor(r() * n);
  const sid = (): number => (r() < 0.8 ? int(64) : int(0x100000000));
  const type = (): number => (r() < 0.9 ? int(39) : int(0x10000));
  const count = (): number => [0, 1, 2, 4, 10, 100, 0xffff, 100000][int(8)];
  const name = (): Buffer => nameBuf(NAMES[int(NAMES.length)]);
  const mask = Buffer.alloc(16);
  mask.writeUInt16BE(int(16), 12);
  const val = Buffer.alloc(8 * (1 + int(4)));
  for (let i = 0; i < val.length; i++) val[i] = int(256);
  return [
    msg(Command.VERSION, int(120), int(14)),
    msg(Command.CLIENT_NAME, 0, 0, 0, 0, nameBuf('fuzzer')),
    msg(Command.HOST_NAME, 0, 0, 0, 0, nameBuf('fuzzhost')),
    msg(Command.CREATE_CHAN, 0, 0, int(100), 13, name()),
    msg(Command.CREATE_CHAN, 0, 0, int(100), int(14), name()),
    msg(Command.READ_NOTIFY, type(), count(), sid(), int(1000)),
    msg(Command.READ, type(), count(), sid(), int(1000)),
    msg(Command.WRITE, int(8), 1, sid(), int(100), val),
    msg(Command.WRITE, DBR.STRING, 1, sid(), int(100), Buffer.from('12.5\0\0\0\0')),
    msg(Command.WRITE_NOTIFY, int(8), 1 + int(3), sid(), int(1000), val),
    msg(Command.WRITE_NOTIFY, DBR.PUT_ACKT, 1, sid(), int(1000), val),
    msg(Command.EVENT_ADD, type(), count(), sid(), int(50), mask),
    msg(Command.EVENT_ADD, DBR.TIME_DOUBLE, 0, sid(), int(50), mask),
    msg(Command.EVENT_CANCEL, type(), count(), sid(), int(50)),
    msg(Command.EVENTS_OFF),
    msg(Command.EVENTS_ON),
    msg(Command.ECHO),
    msg(Command.READ_SYNC),
    msg(Command.CLEAR_CHANNEL, 0, 0, sid(), int(100)),
    msg(Command.SEARCH, r() < 0.5 ? 5 : 10, 13, int(100), int(100), name()),
    msg(int(40), int(40), int(10), sid(), int(100)),
  ];
}

function mutate(b: Buffer, r: () => number): Buffer {
  const out = Buffer.from(b);
  const kind = Math.floor(r() * 6);
  if (kind === 0 && out.length > 0) return flipBytes(out, r);
  if (kind === 1) return out.subarray(0, Math.floor(r() * out.length)); // truncated: shifts the framing
  if (kind === 2) {
    // a random (possibly huge, possibly misaligned) payload size, in the short or extended header
    const ext = Buffer.alloc(24);
    out.copy(ext, 0, 0, 16);
    ext.writeUInt16BE(0xffff, 2);
    ext.writeUInt32BE(Math.floor(r() * 0x100000000), 16);
    ext.writeUInt32BE(Math.floor(r() * 0x100000000), 20);
    return r() < 0.5 ? ext : (out.writeUInt16BE(Math.floor(r() * 0x10000), 2), out);
  }
  if (kind === 3) return randomBytes(r, 1 + Math.floor(r() * 64));
  return out;
}

async function fuzzClient(
  port: number,
  seed: number,
  until: number,
  stats: { sent: number; circuits: number },
) {
  const r = rng(seed);
  while (Date.now() < until) {
    const sock = net.connect({ host: LOOPBACK, port });
    stats.circuits++;
    sock.on('data', () => undefined); // read and drop replies
    let closed = false;
    sock.on('error', () => undefined);
    sock.on('close', () => (closed = true));
    await new Promise<void>((res) => {
      sock.once('connect', () => res());
      sock.once('close', () => res());
    });
    // start well-formed most of the time, so the deeper command paths are reached
    if (r() < 0.8) sock.write(Buffer.concat(corpus(r).slice(0, 5)));
    const perCircuit = 20 + Math.floor(r() * 300);
    for (let i = 0; i < perCircuit && !closed && Date.now() < until; i++) {
      const c = corpus(r);
      const batch: Buffer[] = [];
      for (let k = 0; k < 1 + Math.floor(r() * 8); k++) {
        const m = c[Math.floor(r() * c.length)];
        batch.push(r() < 0.25 ? mutate(m, r) : m);
      }
      sock.write(Buffer.concat(batch));
      stats.sent += batch.length;
      if (i % 16 === 0) await sleep(1);
    }
    sock.destroy();
    await sleep(1);
  }
}

async function udpFuzz(port: number, seed: number, until: number): Promise<void> {
  const r = rng(seed);
  const s = dgram.createSocket('udp4');
  s.on('message', () => undefined);
  await new Promise<void>((res) => s.bind(0, LOOPBACK, () => res()));
  while (Date.now() < until) {
    const c = corpus(r);
    const parts = [msg(Command.VERSION, 1, 13, Math.floor(r() * 1000))];
    for (let k = 0; k < 1 + Math.floor(r() * 20); k++) {
      const m = c[19];
      parts.push(r() < 0.3 ? mutate(m, r) : m);
    }
    s.send(Buffer.concat(parts), port, LOOPBACK);
    await sleep(2);
  }
  await new Promise<void>((res) => s.close(() => res()));
}

describe('server fuzzing', () => {
  it(`survives ${CLIENTS} clients of random and mutated messages for ${FUZZ_MS} ms`, async () => {
    const seed = Number(process.env.TSEPICS_FUZZ_SEED ?? Date.now() % 100000);
    const server = await serve({
      env: testEnv(),
      port: 0,
      maxPayload: 4 * 1024 * 1024,
      pvs: {
        'F:dbl': { type: 'double', value: 1, precision: 2 },
        'F:wf': { type: 'double', count: 1000 },
        'F:enum': { type: 'enum', enumStrs: ['a', 'b'] },
        'F:str': { type: 'string', value: 'x' },
        'F:char': { type: 'char', count: 100 },
        'F:ro': { type: 'long', readOnly: true },
        'F:fast': { type: 'long', value: 0 },
        'F:put': {
          type: 'double',
          onPut: async (v) => {
            if (typeof v === 'number' && v > 1e6) throw new Error('too big');
            if (typeof v === 'number' && v < 0) await sleep(5);
          },
        },
      },
    });
    let n = 0;
    const fast = setInterval(() => server.pv('F:fast').post(n++), 1);
    const mem0 = process.memoryUsage();
    let peak = 0;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peak = Math.max(peak, m.heapUsed + m.arrayBuffers);
    }, 50);
    try {
      const until = Date.now() + FUZZ_MS;
      const stats = { sent: 0, circuits: 0 };
      await Promise.all([
        ...Array.from({ length: CLIENTS }, (_, i) => fuzzClient(server.tcpPort, seed * 31 + i, until, stats)),
        udpFuzz(server.udpPort, seed, until),
      ]);
      assert.ok(stats.sent > 1000, `only ${stats.sent} messages sent`);
      if (process.env.TSEPICS_FUZZ_VERBOSE)
        console.log(`fuzz seed ${seed}: ${stats.sent} messages, ${stats.circuits} circuits`);

      // A well-behaved client is still served.
      const c = await RawClient.connect(server.tcpPort);
      c.hello();
      const d = await c.create('F:dbl', 1);
      const w = Buffer.alloc(8);
      w.writeDoubleBE(42.25);
      c.send(msg(Command.WRITE_NOTIFY, DBR.DOUBLE, 1, d.sid, 7, w));
      assert.equal(
        (await c.next((m) => m.command === Command.WRITE_NOTIFY && m.parameter2 === 7)).parameter1,
        ECA.NORMAL,
      );
      c.send(msg(Command.READ_NOTIFY, DBR.DOUBLE, 1, d.sid, 8));
      const rd = await c.next((m) => m.command === Command.READ_NOTIFY && m.parameter2 === 8);
      assert.equal((decodeDbr(DBR.DOUBLE, 1, rd.payload).value as Float64Array)[0], 42.25);
      const f = await c.create('F:fast', 2);
      const mask = Buffer.alloc(16);
      mask.writeUInt16BE(DBE.VALUE, 12);
      c.send(msg(Command.EVENT_ADD, DBR.LONG, 1, f.sid, 3, mask));
      await c.next((m) => m.command === Command.EVENT_ADD && m.parameter2 === 3);
      await c.next((m) => m.command === Command.EVENT_ADD && m.parameter2 === 3);
      c.close();

      // Every fuzz circuit is gone (closed by us or dropped by the server).
      const t0 = Date.now();
      while (server.clientCount > 0 && Date.now() - t0 < 3000) await sleep(20);
      assert.equal(server.clientCount, 0);
      const growth = peak - (mem0.heapUsed + mem0.arrayBuffers);
      if (process.env.TSEPICS_FUZZ_VERBOSE)
        console.log(`fuzz memory growth ${Math.round(growth / 1048576)} MB`);
      assert.ok(
        growth < 400 * 1024 * 1024,
        `memory grew by ${Math.round(growth / 1048576)} MB (seed ${seed})`,
      );
    } finally {
      clearInterval(fast);
      clearInterval(sampler);
      await server.stop();
    }
  });
});
