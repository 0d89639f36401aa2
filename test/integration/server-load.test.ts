// Load behaviour of the server: a client that stops reading while a PV updates fast must not delay
// another client's gets nor make the server's memory grow without bound; 500 concurrent circuits.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Command, DBR, DBE, ECA } from '../../src/protocol/constants.js';
import { decodeDbr } from '../../src/protocol/dbr.js';
import { serve } from '../../src/server/index.js';
import { RawClient, msg, sleep, testEnv } from './server-helpers.js';

function mask(m: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16BE(m, 12);
  return b;
}

describe('server under load', () => {
  it('a slow consumer does not delay other clients and its backlog stays bounded', async () => {
    const highWaterMark = 1024 * 1024;
    const server = await serve({
      env: testEnv(),
      port: 0,
      highWaterMark,
      pvs: { 'L:wave': { type: 'double', count: 20000 }, 'L:x': { type: 'double', value: 5 } },
    });
    let running = true;
    let posts = 0;
    const data = new Float64Array(20000);
    const pump = (): void => {
      if (!running) return;
      data[0] = posts++;
      server.pv('L:wave').post(data);
      setImmediate(pump);
    };
    try {
      // The slow client: subscribes to the 160 kB waveform (and twice more), then stops reading.
      const slow = await RawClient.connect(server.tcpPort);
      slow.hello('slow');
      const w = await slow.create('L:wave', 1);
      for (const subid of [1, 2, 3])
        slow.send(msg(Command.EVENT_ADD, DBR.DOUBLE, 0, w.sid, subid, mask(DBE.VALUE)));
      await slow.next((m) => m.command === Command.EVENT_ADD);
      slow.socket.pause();
      pump();

      const fast = await RawClient.connect(server.tcpPort);
      fast.hello('fast');
      const x = await fast.create('L:x', 1);
      const lat: number[] = [];
      let peakBacklog = 0;
      let peakMem = 0;
      const base = process.memoryUsage();
      const t0 = Date.now();
      for (let i = 0; Date.now() - t0 < 2000; i++) {
        const s = performance.now();
        fast.send(msg(Command.READ_NOTIFY, DBR.DOUBLE, 1, x.sid, 1000 + i));
        const r = await fast.next(
          (m) => m.command === Command.READ_NOTIFY && m.parameter2 === 1000 + i,
          2000,
        );
        lat.push(performance.now() - s);
        assert.equal((decodeDbr(DBR.DOUBLE, 1, r.payload).value as Float64Array)[0], 5);
        const info = server.server.clients().find((c) => c.user === 'slow');
        if (info) peakBacklog = Math.max(peakBacklog, info.backlog);
        const m = process.memoryUsage();
        peakMem = Math.max(peakMem, m.heapUsed + m.arrayBuffers - base.heapUsed - base.arrayBuffers);
      }
      running = false;
      lat.sort((a, b) => a - b);
      const p50 = lat[Math.floor(lat.length / 2)];
      const p99 = lat[Math.floor(lat.length * 0.99)];
      if (process.env.TSEPICS_LOAD_VERBOSE)
        console.log({ posts, gets: lat.length, p50, p99, peakBacklog, peakMem });
      assert.ok(posts > 100, `only ${posts} updates posted`);
      assert.ok(lat.length > 100, `only ${lat.length} gets in 2 s`);
      assert.ok(p50 < 50, `median get latency ${p50.toFixed(2)} ms`);
      assert.ok(p99 < 250, `p99 get latency ${p99.toFixed(2)} ms`);
      // unsent output: the high-water mark plus at most one coalesced update per subscription
      assert.ok(peakBacklog < highWaterMark + 4 * 160_100, `slow client's backlog reached ${peakBacklog}`);
      assert.ok(peakMem < 200 * 1024 * 1024, `memory grew by ${Math.round(peakMem / 1048576)} MB`);

      // When the slow client reads again it gets the latest value, not a stale queue.
      slow.socket.resume();
      const last = posts - 1;
      const upd = await slow.next((m) => {
        if (m.command !== Command.EVENT_ADD || m.payloadSize === 0) return false;
        return (decodeDbr(DBR.DOUBLE, 1, m.payload).value as Float64Array)[0] === last;
      }, 5000);
      assert.equal(upd.parameter1, ECA.NORMAL);
      slow.close();
      fast.close();
    } finally {
      running = false;
      await server.stop();
    }
  });

  it('drops a circuit whose unsent output passes the hard limit, and only that one', async () => {
    const server = await serve({
      env: testEnv(),
      port: 0,
      highWaterMark: 64 * 1024,
      hardLimit: 1024 * 1024,
      pvs: { 'L:wave': { type: 'double', count: 10000 }, 'L:x': { type: 'double', value: 1 } },
    });
    let running = true;
    try {
      // 40 subscriptions of an 80 kB waveform, never read: even coalesced (one update per
      // subscription) that is 3.2 MB, over the 1 MB limit once the kernel buffers are full.
      const slow = await RawClient.connect(server.tcpPort);
      slow.hello('slow');
      const w = await slow.create('L:wave', 1);
      for (let i = 0; i < 40; i++)
        slow.send(msg(Command.EVENT_ADD, DBR.DOUBLE, 0, w.sid, i, mask(DBE.VALUE)));
      await slow.next((m) => m.command === Command.EVENT_ADD && m.parameter2 === 39, 5000);
      slow.socket.pause();
      const data = new Float64Array(10000);
      const pump = (): void => {
        if (!running) return;
        data[0]++;
        server.pv('L:wave').post(data);
        setTimeout(pump, 1);
      };
      pump();
      const other = await RawClient.connect(server.tcpPort);
      other.hello('other');
      const x = await other.create('L:x', 1);
      const t0 = Date.now();
      while (server.server.clients().some((c) => c.user === 'slow') && Date.now() - t0 < 5000)
        await sleep(20);
      assert.equal(
        server.server.clients().some((c) => c.user === 'slow'),
        false,
        'the slow circuit was dropped',
      );
      other.send(msg(Command.READ_NOTIFY, DBR.DOUBLE, 1, x.sid, 1));
      const r = await other.next((m) => m.command === Command.READ_NOTIFY);
      assert.equal(r.parameter1, ECA.NORMAL);
      slow.close();
      other.close();
    } finally {
      running = false;
      await server.stop();
    }
  });

  it('serves 20000 channels of one PV on one circuit', async () => {
    const server = await serve({ env: testEnv(), port: 0, pvs: { 'L:one': { type: 'double', value: 2.5 } } });
    try {
      const c = await RawClient.connect(server.tcpPort);
      c.hello();
      const N = 20000;
      const parts: Buffer[] = [];
      for (let i = 1; i <= N; i++) parts.push(msg(Command.CREATE_CHAN, 0, 0, i, 13, Buffer.from('L:one\0')));
      c.send(...parts);
      const sids = new Map<number, number>();
      const t0 = Date.now();
      while (sids.size < N && Date.now() - t0 < 10000) {
        for (const m of c.received)
          if (m.command === Command.CREATE_CHAN) sids.set(m.parameter1, m.parameter2);
        await sleep(20);
      }
      assert.equal(sids.size, N);
      assert.equal(new Set(sids.values()).size, N, 'distinct server ids');
      c.received.length = 0;
      const reads: Buffer[] = [];
      for (const [cid, sid] of sids) reads.push(msg(Command.READ_NOTIFY, DBR.DOUBLE, 1, sid, cid));
      c.send(...reads);
      const t1 = Date.now();
      while (c.received.length < N && Date.now() - t1 < 10000) await sleep(20);
      assert.equal(
        c.received.filter((m) => m.command === Command.READ_NOTIFY && m.parameter1 === ECA.NORMAL).length,
        N,
      );
      c.close();
    } finally {
      await server.stop();
    }
  });

  it('serves 500 concurrent circuits', async () => {
    const server = await serve({ env: testEnv(), port: 0, pvs: { 'L:n': { type: 'long', value: 7 } } });
    const clients: RawClient[] = [];
    try {
      for (let i = 0; i < 500; i++) clients.push(await RawClient.connect(server.tcpPort));
      for (const c of clients) c.hello();
      const chans = await Promise.all(clients.map((c, i) => c.create('L:n', i + 1)));
      const t0 = Date.now();
      while (server.clientCount < 500 && Date.now() - t0 < 2000) await sleep(10);
      assert.equal(server.clientCount, 500);
      clients.forEach((c, i) =>
        c.send(msg(Command.EVENT_ADD, DBR.LONG, 1, chans[i].sid, 1, mask(DBE.VALUE))),
      );
      await Promise.all(clients.map((c) => c.next((m) => m.command === Command.EVENT_ADD)));
      server.pv('L:n').post(8);
      const ups = await Promise.all(clients.map((c) => c.next((m) => m.command === Command.EVENT_ADD)));
      for (const u of ups) assert.equal((decodeDbr(DBR.LONG, 1, u.payload).value as Int32Array)[0], 8);
      clients.forEach((c, i) => c.send(msg(Command.READ_NOTIFY, DBR.STRING, 1, chans[i].sid, 9)));
      const reads = await Promise.all(clients.map((c) => c.next((m) => m.command === Command.READ_NOTIFY)));
      for (const r of reads) assert.deepEqual(decodeDbr(DBR.STRING, 1, r.payload).value, ['8']);
      assert.equal(server.pv('L:n').subscriberCount, 500);
      for (const c of clients) c.close();
      const t1 = Date.now();
      while (server.clientCount > 0 && Date.now() - t1 < 3000) await sleep(10);
      assert.equal(server.clientCount, 0);
      assert.equal(server.pv('L:n').subscriberCount, 0);
    } finally {
      for (const c of clients) c.close();
      await server.stop();
    }
  });
});
