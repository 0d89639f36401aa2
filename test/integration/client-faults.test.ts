// CA client fault handling against fake IOCs: reconnection, ECHO timeout, ERROR routing, garbage,
// CREATE_CH_FAIL / SERVER_DISCONN, beacons through a repeater.
import { after, afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Context } from '../../src/client/context.js';
import type { CaException } from '../../src/client/context.js';
import { CaRepeater } from '../../src/client/repeater.js';
import { DisconnectedError, GetError } from '../../src/client/errors.js';
import { Command, DBR, ECA } from '../../src/protocol/constants.js';
import { FakeIoc, clientEnv, header, loadTracePvs, withPayload } from './client-fake-ioc.js';
import type { FakePv } from './client-fake-ioc.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

const unhandled: unknown[] = [];
process.on('unhandledRejection', (e) => unhandled.push(e));

describe('client faults', () => {
  const pvs = loadTracePvs(['get_records', 'monitor']);
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  after(() => assert.deepEqual(unhandled, [], 'no unhandled rejection'));

  async function setup(extraEnv: Record<string, string> = {}, ctxOpts: { echoTimeout?: number } = {}) {
    const ioc = new FakeIoc(pvs);
    const port = await ioc.start();
    const exceptions: CaException[] = [];
    const ctx = new Context({
      env: clientEnv(port, extraEnv),
      repeater: false,
      onException: (e) => exceptions.push(e),
      ...ctxOpts,
    });
    cleanups.push(() => ioc.stop());
    cleanups.push(() => ctx.close());
    return { ioc, ctx, port, exceptions };
  }

  it('reconnects after the server restarts; subscription resumes without duplicates', async () => {
    const { ioc, ctx, port } = await setup();
    const ch = ctx.channel('T:ai');
    const updates: number[] = [];
    const conn: boolean[] = [];
    ch.onConnectionChange((c) => conn.push(c));
    ch.subscribe({ family: 2 }, (d) => updates.push((d.value as Float64Array)[0]!));
    await ch.waitForConnection(2);
    await until(() => updates.length === 1);
    // A get that the server never answers is pending when the server dies.
    ioc.hook = (m) => m.command === Command.READ_NOTIFY;
    const pending = ch.get({ dbrType: DBR.TIME_DOUBLE, timeout: 5 });
    await sleep(20);
    await ioc.stop();
    await assert.rejects(pending, (e: unknown) => e instanceof DisconnectedError && e.eca === ECA.DISCONN);
    await until(() => ch.state === 'disconnected');
    assert.deepEqual(conn, [true, false]);
    const ioc2 = new FakeIoc(pvs, { port });
    await ioc2.start();
    cleanups.push(() => ioc2.stop());
    await ch.waitForConnection(3);
    await until(() => updates.length === 2);
    await sleep(100);
    assert.equal(updates.length, 2, 'one first update per connection, no duplicates');
    assert.deepEqual(conn, [true, false, true]);
    const r = await ch.get({ dbrType: DBR.TIME_DOUBLE, timeout: 2 });
    assert.equal((r.value as Float64Array)[0], 21.5);
    assert.equal(ioc2.received.filter((m) => m.command === Command.EVENT_ADD).length, 1);
  });

  it('ECHO timeout: circuit unresponsive → disconnected; echo answer → connected, subscription refreshed', async () => {
    const { ioc, ctx, exceptions } = await setup({ EPICS_CA_CONN_TMO: '0.2' }, { echoTimeout: 0.3 });
    ioc.ignoreEcho = true;
    const ch = ctx.channel('T:ai');
    const updates: number[] = [];
    const conn: boolean[] = [];
    ch.onConnectionChange((c) => conn.push(c));
    ch.subscribe({ dbrType: DBR.TIME_DOUBLE }, (d) => updates.push((d.value as Float64Array)[0]!));
    await ch.waitForConnection(2);
    await until(() => updates.length === 1);
    await until(() => conn.length === 2, 3000);
    assert.deepEqual(conn, [true, false]);
    assert.equal(ch.state, 'disconnected');
    assert.ok(exceptions.some((e) => e.eca === ECA.UNRESPTMO));
    assert.ok(ioc.received.some((m) => m.command === Command.ECHO));
    ioc.ignoreEcho = false;
    await until(() => conn.length === 3, 3000);
    assert.deepEqual(conn, [true, false, true]);
    await until(() => updates.length === 2);
    assert.equal(
      ioc.received.filter((m) => m.command === Command.EVENT_ADD).length,
      1,
      'no second EVENT_ADD',
    );
  });

  it('routes an ERROR message to the failing get', async () => {
    const { ioc, ctx } = await setup();
    ioc.hook = (m, _c, reply) => {
      if (m.command !== Command.READ_NOTIFY) return false;
      const h = header(m.command, 0, m.dataType, m.dataCount, m.parameter1, m.parameter2);
      reply(
        withPayload(
          Command.ERROR,
          0,
          0,
          0xffffffff,
          ECA.BADTYPE,
          Buffer.concat([h, Buffer.from('bad type\0')]),
        ),
      );
      return true;
    };
    const ch = ctx.channel('T:ai');
    await assert.rejects(ch.get({ dbrType: DBR.TIME_DOUBLE, timeout: 2 }), (e: unknown) => {
      assert.ok(e instanceof GetError);
      assert.equal(e.eca, ECA.BADTYPE);
      return true;
    });
    ioc.hook = undefined;
    assert.equal(ch.connected, true);
    const r = await ch.get({ dbrType: DBR.TIME_DOUBLE, timeout: 2 });
    assert.equal((r.value as Float64Array)[0], 21.5);
  });

  it('garbage from a server drops that circuit only; its channels re-search and come back', async () => {
    const { ioc, ctx } = await setup();
    let garbage = true;
    ioc.hook = (m, conn, reply) => {
      if (m.command === Command.READ_NOTIFY && conn.priority === 1 && garbage) {
        garbage = false;
        reply(Buffer.from('00010005000600010000000100000002deadbeefcafe0000', 'hex')); // misaligned size
        return true;
      }
      return false;
    };
    const a = ctx.channel('T:ai');
    const b = ctx.channel('T:li', { priority: 1 });
    await Promise.all([a.waitForConnection(2), b.waitForConnection(2)]);
    assert.equal(ctx.circuitCount, 2);
    await assert.rejects(b.get({ family: 2, timeout: 2 }), (e: unknown) => e instanceof DisconnectedError);
    const ra = await a.get({ family: 2, timeout: 2 });
    assert.equal((ra.value as Float64Array)[0], 21.5);
    await b.waitForConnection(3);
    const rb = await b.get({ family: 2, timeout: 2 });
    assert.equal((rb.value as Int32Array)[0], 123456);
  });

  it('unknown command from the server drops the circuit', async () => {
    const { ioc, ctx } = await setup();
    const a = ctx.channel('T:ai');
    await a.waitForConnection(2);
    const conn: boolean[] = [];
    a.onConnectionChange((c) => conn.push(c));
    ioc.sendRaw(header(0x4242, 0, 0, 0, 0, 0));
    await until(() => conn.length >= 1);
    assert.equal(conn[0], false);
    await a.waitForConnection(3);
  });

  it('CREATE_CH_FAIL keeps the channel searching; SERVER_DISCONN sends it back to search', async () => {
    const { ioc, ctx } = await setup();
    let fail = true;
    ioc.hook = (m, _c, reply) => {
      if (m.command === Command.CREATE_CHAN && fail) {
        reply(header(Command.CREATE_CH_FAIL, 0, 0, 0, m.parameter1, 0));
        return true;
      }
      return false;
    };
    const ch = ctx.channel('T:ai');
    await assert.rejects(ch.waitForConnection(0.3));
    assert.equal(ch.state, 'searching');
    fail = false;
    await ch.waitForConnection(3);
    const conn: boolean[] = [];
    ch.onConnectionChange((c) => conn.push(c));
    const cre = ioc.received.filter((m) => m.command === Command.CREATE_CHAN);
    const cid = cre[cre.length - 1]!.parameter1;
    ioc.sendRaw(header(Command.SERVER_DISCONN, 0, 0, 0, cid, 0));
    await until(() => conn.length === 2);
    assert.deepEqual(conn, [false, true]);
  });

  it('reading a 2 M-element (16 MB) array', async (t) => {
    const n = 2_000_000;
    const vals = new Float64Array(n);
    for (let i = 0; i < n; i++) vals[i] = i / 2;
    const be = Buffer.from(vals.buffer.slice(0));
    be.swap64();
    const big: FakePv = {
      name: 'T:big',
      type: 6,
      count: n,
      rights: 3,
      reads: new Map(),
      events: [],
      writeNotify: new Map(),
      writeError: new Map(),
    };
    big.reads.set(`6:${n}`, { dataType: 6, dataCount: n, status: 1, payload: be });
    const ioc = new FakeIoc(new Map([['T:big', big], ...loadTracePvs(['big_array'])]));
    const port = await ioc.start();
    const ctx = new Context({ env: clientEnv(port), repeater: false });
    cleanups.push(() => ioc.stop());
    cleanups.push(() => ctx.close());
    const ch = ctx.channel('T:big');
    await ch.waitForConnection(2);
    assert.equal(ch.elementCount, n);
    const t0 = performance.now();
    const r = await ch.get({ timeout: 10 });
    const ms = performance.now() - t0;
    t.diagnostic(`16 MB get: ${ms.toFixed(1)} ms`);
    const v = r.value as Float64Array;
    assert.equal(v.length, n);
    for (let i = 0; i < n; i += 9973) assert.equal(v[i], i / 2);
    assert.equal(v[n - 1], (n - 1) / 2);
    // The recorded 100000-element reply (extended headers, 18 segments).
    // Flow control: the long read made the client hold events, then release them.
    await until(() => ioc.received.some((m) => m.command === Command.EVENTS_ON));
    const cmds = ioc.received.map((m) => m.command);
    const off = cmds.indexOf(Command.EVENTS_OFF);
    assert.ok(off >= 0, 'EVENTS_OFF sent while the array was arriving');
    assert.ok(cmds.indexOf(Command.EVENTS_ON, off) > off, 'EVENTS_ON after draining');
    const b100 = ctx.channel('T:big100k');
    const r2 = await b100.get({ dbrType: DBR.TIME_DOUBLE, timeout: 5 });
    assert.equal(r2.count, 100000);
    assert.equal((r2.value as Float64Array)[99999], 49999.5);
  });

  it('beacons through a repeater: a lost server that beacons again is searched at once', async () => {
    const ioc = new FakeIoc(pvs);
    const port = await ioc.start();
    const rep = new CaRepeater({ port: port + 1, address: '127.0.0.1' });
    if (!(await rep.start())) {
      await ioc.stop();
      t_skip();
      return;
    }
    const ctx = new Context({ env: clientEnv(port), repeater: true, onException: () => {} });
    cleanups.push(() => rep.close());
    cleanups.push(() => ioc.stop());
    cleanups.push(() => ctx.close());
    const ch = ctx.channel('T:ai');
    await ch.waitForConnection(2);
    await until(() => rep.clientCount === 1, 3000);
    await ioc.stop();
    await until(() => ch.state === 'disconnected');
    // Let the search back off (timers 0..6 ≈ 4 s of searching without a server).
    await sleep(4000);
    const ioc2 = new FakeIoc(pvs, { port });
    await ioc2.start();
    cleanups.push(() => ioc2.stop());
    const t0 = performance.now();
    ioc2.beacon(port + 1, 0);
    await ch.waitForConnection(2);
    const ms = performance.now() - t0;
    assert.ok(ms < 500, `reconnected ${ms.toFixed(0)} ms after the first beacon`);
    assert.ok(rep.forwarded >= 1);
  });
});

function t_skip(): void {
  /* repeater port taken: nothing to test here */
}
