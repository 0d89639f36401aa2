// The server's large replies and large puts use the shared pool of large buffers: a pooled buffer
// must never be handed out again while a socket write or a channel still uses it. Gets on a client
// that does not read (replies queued in the socket), a circuit closed in the middle of a write,
// puts while a monitor of the same array is queued, channels that keep what they are given.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CaServer } from '../../src/server/index.js';
import type { ServedChannel } from '../../src/server/provider.js';
import { Command, DBR, DBE, ECA } from '../../src/protocol/constants.js';
import type { Message } from '../../src/protocol/header.js';
import type { NativeArray } from '../../src/protocol/values.js';
import { largeBuffers } from '../../src/protocol/buffer-pool.js';
import { RawClient, msg, sleep, testEnv } from './server-helpers.js';

interface ArrayChannel extends ServedChannel {
  store: Float64Array;
  /** Every value array writeNow was given, as given (kept: the server must not reuse them then). */
  given: NativeArray[];
  post(): void;
}

/**
 * A DOUBLE array channel whose writeNow stores a copy of the value and keeps the value array itself
 * (`copies`: promises the server it does not), completing at once or (`pending`) later.
 */
function arrayChannel(
  name: string,
  n: number,
  o: { copies?: boolean; pending?: boolean } = {},
): ArrayChannel {
  const store = new Float64Array(n);
  const listeners = new Set<(mask: number) => void>();
  const ch: ArrayChannel = {
    name,
    nativeType: DBR.DOUBLE,
    elementCount: n,
    className: 'waveform',
    store,
    given: [],
    writeNowCopies: o.copies,
    post: () => {
      for (const l of listeners) l(DBE.VALUE);
    },
    snapshot: () => ({ value: store.slice(), count: n }),
    write: () => Promise.reject(new Error('writeNow only')),
    writeNow: (value) => {
      ch.given.push(value);
      store.set((value as Float64Array).subarray(0, n));
      ch.post();
      if (o.pending) return sleep(30);
      return undefined;
    },
    subscribe: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    accessRights: () => 3,
  };
  return ch;
}

async function withServer(
  channels: ServedChannel[],
  opts: { highWaterMark?: number },
  body: (port: number) => Promise<void>,
): Promise<void> {
  const byName = new Map(channels.map((c) => [c.name, c]));
  const server = new CaServer({
    env: testEnv(),
    port: 0,
    log: () => undefined,
    highWaterMark: opts.highWaterMark,
    hardLimit: 1024 * 1024 * 1024,
    provider: { has: (n) => byName.has(n), channel: (n) => byName.get(n) },
  });
  await server.start();
  try {
    await body(server.tcpPort);
  } finally {
    await server.stop();
  }
}

function filled(n: number, x: number): Buffer {
  const b = Buffer.allocUnsafe(n * 8);
  for (let i = 0; i < n; i++) b.writeDoubleBE(x, i * 8);
  return b;
}

/** Whether every element of a DOUBLE payload is `x` (first mismatch index, or -1). */
function mismatch(m: Message, n: number, x: number): number {
  for (let i = 0; i < n; i++) if (m.payload.readDoubleBE(i * 8) !== x) return i;
  return -1;
}

const BIG = 2_000_000; // 16 MB of DOUBLE: far more than the loopback socket buffers hold

describe('server: pooled reply buffers', () => {
  it('gets queued on a client that does not read each keep their own bytes', async () => {
    const w = arrayChannel('R:wave', BIG);
    // a high water mark above the replies: the server serves every get while the others are unsent
    await withServer([w], { highWaterMark: 512 * 1024 * 1024 }, async (port) => {
      const c = await RawClient.connect(port);
      c.hello();
      const { sid } = await c.create('R:wave', 1);
      largeBuffers.clear();
      c.socket.pause();
      for (let k = 1; k <= 3; k++) {
        w.store.fill(k);
        c.send(msg(Command.READ_NOTIFY, DBR.DOUBLE, BIG, sid, k));
        await sleep(150); // served (and its reply queued) before the value changes
      }
      assert.equal(largeBuffers.buffersHeld, 0, 'no reply buffer is given back before it is written');
      c.socket.resume();
      for (let k = 1; k <= 3; k++) {
        const r = await c.next((m) => m.command === Command.READ_NOTIFY && m.parameter2 === k, 20000);
        assert.equal(r.parameter1, ECA.NORMAL);
        assert.equal(r.dataCount, BIG);
        assert.equal(mismatch(r, BIG, k), -1, `reply ${k} holds the value read for it`);
      }
      await sleep(50);
      assert.ok(largeBuffers.buffersHeld > 0, 'written reply buffers go back to the pool');
      c.close();
    });
  });

  it('back-to-back gets under flow control reuse the buffer only after it is written', async () => {
    const w = arrayChannel('R:wave', BIG);
    await withServer([w], {}, async (port) => {
      const c = await RawClient.connect(port);
      c.hello();
      const { sid } = await c.create('R:wave', 1);
      for (let k = 1; k <= 4; k++) {
        w.store.fill(k * 10);
        const r = c.next((m) => m.command === Command.READ && m.parameter2 === k, 20000);
        c.send(msg(Command.READ, DBR.DOUBLE, BIG, sid, k));
        const m = await r;
        assert.equal(mismatch(m, BIG, k * 10), -1);
      }
      c.close();
    });
  });

  it('a circuit closed in the middle of a write: the next client gets intact replies', async () => {
    const w = arrayChannel('R:wave', BIG);
    await withServer([w], { highWaterMark: 512 * 1024 * 1024 }, async (port) => {
      const a = await RawClient.connect(port);
      a.hello();
      const sa = (await a.create('R:wave', 1)).sid;
      a.socket.pause();
      w.store.fill(7);
      a.send(
        msg(Command.READ_NOTIFY, DBR.DOUBLE, BIG, sa, 1),
        msg(Command.READ_NOTIFY, DBR.DOUBLE, BIG, sa, 2),
      );
      await sleep(150);
      a.close(); // replies half written
      await sleep(50);
      const b = await RawClient.connect(port);
      b.hello();
      const sb = (await b.create('R:wave', 1)).sid;
      b.socket.pause();
      w.store.fill(8);
      b.send(msg(Command.READ_NOTIFY, DBR.DOUBLE, BIG, sb, 1));
      await sleep(150);
      w.store.fill(9);
      b.send(msg(Command.READ_NOTIFY, DBR.DOUBLE, BIG, sb, 2));
      await sleep(150);
      b.socket.resume();
      const r1 = await b.next((m) => m.command === Command.READ_NOTIFY && m.parameter2 === 1, 20000);
      const r2 = await b.next((m) => m.command === Command.READ_NOTIFY && m.parameter2 === 2, 20000);
      assert.equal(mismatch(r1, BIG, 8), -1);
      assert.equal(mismatch(r2, BIG, 9), -1);
      b.close();
    });
  });
});

describe('server: pooled put values', () => {
  const N = 100_000; // 800 KB: above the pool's minimum size

  async function putMany(ch: ArrayChannel, values: number[], notify = true): Promise<void> {
    await withServer([ch], {}, async (port) => {
      const c = await RawClient.connect(port);
      c.hello();
      const { sid } = await c.create(ch.name, 1);
      for (let k = 0; k < values.length; k++) {
        c.send(
          msg(
            notify ? Command.WRITE_NOTIFY : Command.WRITE,
            DBR.DOUBLE,
            N,
            sid,
            k + 1,
            filled(N, values[k]!),
          ),
        );
        if (notify) {
          const r = await c.next((m) => m.command === Command.WRITE_NOTIFY && m.parameter2 === k + 1, 5000);
          assert.equal(r.parameter1, ECA.NORMAL);
        } else {
          await sleep(100);
        }
        assert.ok(ch.store.every((x) => x === values[k]));
      }
      c.close();
    });
  }

  it('a channel whose writeNow copies: the decoded value memory is reused by the next put', async () => {
    const ch = arrayChannel('P:copies', N, { copies: true });
    largeBuffers.clear();
    await putMany(ch, [1, 2, 3]);
    assert.equal(ch.given.length, 3);
    const [a, b, c] = ch.given.map((v) => (v as Float64Array).buffer);
    assert.ok(a === b && b === c, 'the value array of one put is given back and used by the next');
  });

  it('a channel without the promise keeps what it was given, intact', async () => {
    const ch = arrayChannel('P:keeps', N);
    await putMany(ch, [4, 5, 6]);
    ch.given.forEach((v, i) => {
      assert.ok(
        (v as Float64Array).every((x) => x === 4 + i),
        `value of put ${i + 1} unchanged`,
      );
    });
    assert.notEqual((ch.given[0] as Float64Array).buffer, (ch.given[1] as Float64Array).buffer);
  });

  it('a put still pending keeps its value, even on a channel whose writeNow copies', async () => {
    const ch = arrayChannel('P:pending', N, { copies: true, pending: true });
    // WRITE (no callback): the next put starts while the first one is still pending
    await putMany(ch, [7, 8, 9], false);
    await sleep(100);
    ch.given.forEach((v, i) => {
      assert.ok(
        (v as Float64Array).every((x) => x === 7 + i),
        `value of put ${i + 1} unchanged`,
      );
    });
  });

  it('puts while a monitor of the same array is queued on a client that does not read', async () => {
    const ch = arrayChannel('P:mon', BIG, { copies: true });
    await withServer([ch], {}, async (port) => {
      const m = await RawClient.connect(port);
      m.hello();
      const ms = (await m.create('P:mon', 1)).sid;
      const evSub = 99;
      m.socket.pause();
      const payload = Buffer.alloc(16);
      payload.writeUInt16BE(DBE.VALUE, 12);
      m.send(msg(Command.EVENT_ADD, DBR.DOUBLE, BIG, ms, evSub, payload));
      const p = await RawClient.connect(port);
      p.hello();
      const ps = (await p.create('P:mon', 2)).sid;
      for (let k = 1; k <= 4; k++) {
        p.send(msg(Command.WRITE_NOTIFY, DBR.DOUBLE, BIG, ps, k, filled(BIG, k)));
        await p.next((r) => r.command === Command.WRITE_NOTIFY && r.parameter2 === k, 20000);
      }
      m.socket.resume();
      // every update delivered is one whole value; the last one is the last put's
      let last = -1;
      for (;;) {
        const u = await m.next((r) => r.command === Command.EVENT_ADD && r.parameter2 === evSub, 20000);
        const x = u.payload.readDoubleBE(0);
        assert.equal(mismatch(u, BIG, x), -1, `update of ${x} is whole`);
        last = x;
        if (x === 4) break;
      }
      assert.equal(last, 4);
      m.close();
      p.close();
    });
  });
});
