// Name servers (TCP search), priorities, EPICS_CA_MAX_ARRAY_BYTES, many channels.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Context } from '../../src/client/context.js';
import { CaError, DisconnectedError } from '../../src/client/errors.js';
import { Command, DBR, ECA } from '../../src/protocol/constants.js';
import type { CaException } from '../../src/client/context.js';
import { FakeIoc, clientEnv, loadTracePvs } from './client-fake-ioc.js';
import type { FakePv } from './client-fake-ioc.js';

describe('client: more', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('finds names through EPICS_CA_NAME_SERVERS with an empty UDP list', async () => {
    const ioc = new FakeIoc(loadTracePvs(['get_records']));
    const port = await ioc.start();
    const ctx = new Context({
      env: {
        EPICS_CA_AUTO_ADDR_LIST: 'NO',
        EPICS_CA_ADDR_LIST: '',
        EPICS_CA_NAME_SERVERS: `127.0.0.1:${port}`,
        EPICS_CA_SERVER_PORT: '1',
      },
      repeater: false,
    });
    cleanups.push(() => ioc.stop());
    cleanups.push(() => ctx.close());
    const ch = ctx.channel('T:li');
    await ch.waitForConnection(3);
    const r = await ch.get({ family: 2 });
    assert.equal((r.value as Int32Array)[0], 123456);
    assert.ok(ioc.received.some((m) => m.command === Command.SEARCH));
  });

  it('two servers answering for one name: ECA_DBLCHNL warning, the first is kept', async () => {
    const a = new FakeIoc(loadTracePvs(['get_records']));
    const b = new FakeIoc(loadTracePvs(['get_records']));
    const pa = await a.start();
    const pb = await b.start();
    const exceptions: CaException[] = [];
    const ctx = new Context({
      env: { EPICS_CA_AUTO_ADDR_LIST: 'NO', EPICS_CA_ADDR_LIST: `127.0.0.1:${pa} 127.0.0.1:${pb}` },
      repeater: false,
      onException: (e) => exceptions.push(e),
    });
    cleanups.push(() => a.stop());
    cleanups.push(() => b.stop());
    cleanups.push(() => ctx.close());
    const ch = ctx.channel('T:ai');
    await ch.waitForConnection(2);
    const end = Date.now() + 2000;
    while (exceptions.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    assert.equal(exceptions.length, 1);
    assert.equal(exceptions[0]!.eca, ECA.DBLCHNL);
    assert.match(
      exceptions[0]!.context,
      /^Channel: "T:ai", Connecting to: 127\.0\.0\.1:\d+, Ignored: 127\.0\.0\.1:\d+$/,
    );
    assert.equal(ctx.circuitCount, 1);
  });

  it('count 0 toward a server older than 4.13 asks for the native count', async () => {
    const ioc = new FakeIoc(loadTracePvs(['get_records']), { minor: 12 });
    const port = await ioc.start();
    const ctx = new Context({ env: clientEnv(port), repeater: false });
    cleanups.push(() => ioc.stop());
    cleanups.push(() => ctx.close());
    const wf = ctx.channel('T:wf');
    await wf.waitForConnection(2);
    assert.equal(wf.serverMinor, 12);
    await wf.get({ family: 2, count: 0 });
    const req = ioc.received.filter((m) => m.command === Command.READ_NOTIFY);
    assert.equal(req[req.length - 1]!.dataCount, 10);
  });

  it('one circuit per priority level', async () => {
    const ioc = new FakeIoc(loadTracePvs(['get_records']));
    const port = await ioc.start();
    const ctx = new Context({ env: clientEnv(port), repeater: false });
    cleanups.push(() => ioc.stop());
    cleanups.push(() => ctx.close());
    const chans = [];
    for (let p = 0; p < 31; p++) chans.push(ctx.channel('T:ai', { priority: p }));
    await Promise.all(chans.map((c) => c.waitForConnection(3)));
    assert.equal(ctx.circuitCount, 31);
    const prios = ioc.received.filter((m) => m.command === Command.VERSION).map((m) => m.dataType);
    assert.deepEqual(
      [...new Set(prios)].sort((a, b) => a - b),
      [...Array(31).keys()],
    );
    assert.throws(() => ctx.channel('T:ai', { priority: 100 }), CaError);
    assert.throws(() => ctx.channel(''), CaError);
    assert.throws(() => ctx.channel('x'.repeat(501)), CaError);
  });

  it('EPICS_CA_AUTO_ARRAY_BYTES=NO: a message over EPICS_CA_MAX_ARRAY_BYTES drops the circuit', async () => {
    const ioc = new FakeIoc(loadTracePvs(['big_array', 'get_records']));
    const port = await ioc.start();
    const ctx = new Context({
      env: clientEnv(port, { EPICS_CA_AUTO_ARRAY_BYTES: 'NO', EPICS_CA_MAX_ARRAY_BYTES: '16384' }),
      repeater: false,
    });
    cleanups.push(() => ioc.stop());
    cleanups.push(() => ctx.close());
    const big = ctx.channel('T:big100k');
    const ai = ctx.channel('T:ai', { priority: 1 });
    await Promise.all([big.waitForConnection(2), ai.waitForConnection(2)]);
    await assert.rejects(
      big.get({ dbrType: DBR.TIME_DOUBLE, timeout: 3 }),
      (e: unknown) => e instanceof DisconnectedError && /exceeds/.test(e.message),
    );
    const r = await ai.get({ family: 2, timeout: 2 });
    assert.equal((r.value as Float64Array)[0], 21.5);
  });

  it('connects and reads 10000 channels', async (t) => {
    const pvs = new Map<string, FakePv>();
    for (let i = 0; i < 10000; i++) {
      const payload = Buffer.alloc(8);
      payload.writeDoubleBE(i, 0);
      const name = `BENCH:${i}`;
      pvs.set(name, {
        name,
        type: 6,
        count: 1,
        rights: 3,
        reads: new Map([['6:1', { dataType: 6, dataCount: 1, status: 1, payload }]]),
        events: [],
        writeNotify: new Map(),
        writeError: new Map(),
      });
    }
    const ioc = new FakeIoc(pvs);
    const port = await ioc.start();
    const ctx = new Context({ env: clientEnv(port), repeater: false });
    cleanups.push(() => ioc.stop());
    cleanups.push(() => ctx.close());
    const t0 = performance.now();
    const chans = [...pvs.keys()].map((n) => ctx.channel(n));
    await Promise.all(chans.map((c) => c.waitForConnection(10)));
    const t1 = performance.now();
    const vals = await Promise.all(chans.map((c) => c.get({ timeout: 10 })));
    const t2 = performance.now();
    t.diagnostic(`10k channels: connect ${(t1 - t0).toFixed(0)} ms, read ${(t2 - t1).toFixed(0)} ms`);
    assert.equal(ctx.circuitCount, 1);
    for (let i = 0; i < vals.length; i += 997) assert.equal((vals[i]!.value as Float64Array)[0], i);
  });
});
