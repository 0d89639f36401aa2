// Scale faults: 1,000 monitored channels whose IOC (a `tsepics ioc` child) is killed and reappears
// on another port; one client process opening 500 circuits against one server.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Context } from '../../src/client/context.js';
import type { Channel } from '../../src/client/channel.js';
import { DBR } from '../../src/protocol/constants.js';
import { serve } from '../../src/server/index.js';
import { startIoc, type IocProcess } from '../helpers/ioc-process.js';
import { freePort } from '../helpers/ports.js';
import { testEnv } from '../integration/server-helpers.js';
import {
  CrashGuard,
  LOOPBACK,
  figure,
  mb,
  memNow,
  openFds,
  sleep,
  tempDir,
  until,
  writeAoDb,
} from './helpers.js';

describe('scale faults', () => {
  it('1,000 channels: the IOC is killed and reappears on another port; every monitor resumes once', async (t) => {
    const COUNT = 1000;
    const guard = new CrashGuard().install();
    const tmp = tempDir('tsepics-fault-many-');
    const db1 = writeAoDb(path.join(tmp.dir, 'a.db'), 'FM:', COUNT, 1);
    const db2 = writeAoDb(path.join(tmp.dir, 'b.db'), 'FM:', COUNT, 2);
    const portA = await freePort();
    const portB = await freePort();
    let ioc: IocProcess | undefined = await startIoc({ db: db1, port: portA, timeout: 30 });
    const ctx = new Context({
      env: {
        EPICS_CA_ADDR_LIST: `${LOOPBACK}:${portA} ${LOOPBACK}:${portB}`,
        EPICS_CA_AUTO_ADDR_LIST: 'NO',
      },
      repeater: false,
      onException: () => undefined,
    });
    try {
      const chans: Channel[] = [];
      const values: number[][] = [];
      const t0 = performance.now();
      for (let i = 0; i < COUNT; i++) {
        const ch = ctx.channel(`FM:${i + 1}`);
        const v: number[] = [];
        values.push(v);
        ch.subscribe({ dbrType: DBR.DOUBLE }, (d) => v.push((d.value as Float64Array)[0]));
        chans.push(ch);
      }
      await until(() => values.every((v) => v.length === 1), 20, 'first updates of 1,000 channels');
      figure(
        t,
        `1,000 channels connected and monitored in ${((performance.now() - t0) / 1000).toFixed(3)} s`,
      );
      assert.equal(ctx.circuitCount, 1);
      const mem0 = memNow();

      ioc.child.kill('SIGKILL');
      await ioc.exited;
      ioc = undefined;
      await until(() => chans.every((c) => !c.connected), 5, 'every channel disconnected');
      await sleep(1000);
      const upAt = performance.now();
      ioc = await startIoc({ db: db2, port: portB, timeout: 30 });
      const readyAt = performance.now();
      await until(() => values.every((v) => v.length >= 2), 20, '1,000 monitors resumed on the new port');
      const s = (performance.now() - readyAt) / 1000;
      figure(
        t,
        `1,000 channels moved to port ${portB}: all monitors resumed ${s.toFixed(3)} s after the IOC was ready (started ${((readyAt - upAt) / 1000).toFixed(3)} s)`,
      );
      assert.ok(s < 10, `resumed after ${s.toFixed(3)} s`);
      await sleep(300);
      const dup = values.filter((v) => v.length !== 2);
      assert.equal(dup.length, 0, `${dup.length} channels with duplicate or missing updates`);
      assert.ok(
        values.every((v) => v[0] === 1 && v[1] === 2),
        'old value, then the new IOC value',
      );
      assert.ok(
        chans.every((c) => c.host.endsWith(`:${portB}`)),
        'every channel on the new port',
      );
      assert.equal(ctx.circuitCount, 1, 'the old circuit is gone');
      // Still fully usable.
      const r = await chans[COUNT - 1].get({ dbrType: DBR.DOUBLE, timeout: 5 });
      assert.equal((r.value as Float64Array)[0], 2);
      figure(t, `1,000 channels: memory ${mb(mem0)} before the move, ${mb(memNow())} after`);
    } finally {
      await ctx.close();
      await ioc?.stop();
      guard.uninstall();
      tmp.remove();
    }
    assert.deepEqual(guard.errors, []);
  });

  it('a client opening 500 circuits against one server: all served, all released', async (t) => {
    const guard = new CrashGuard().install();
    const server = await serve({ env: testEnv(), port: 0, pvs: { 'C:n': { type: 'long', value: 7 } } });
    const fds0 = openFds();
    // A circuit per (server, priority): 5 contexts x priorities 0..99.
    const ctxs = Array.from(
      { length: 5 },
      () =>
        new Context({
          env: { EPICS_CA_ADDR_LIST: `${LOOPBACK}:${server.udpPort}`, EPICS_CA_AUTO_ADDR_LIST: 'NO' },
          repeater: false,
          onException: () => undefined,
        }),
    );
    try {
      const t0 = performance.now();
      const chans = ctxs.flatMap((ctx) =>
        Array.from({ length: 100 }, (_, p) => ctx.channel('C:n', { priority: p })),
      );
      await Promise.all(chans.map((c) => c.waitForConnection(20)));
      const connectS = (performance.now() - t0) / 1000;
      assert.equal(
        ctxs.reduce((n, c) => n + c.circuitCount, 0),
        500,
      );
      await until(() => server.clientCount === 500, 5, '500 circuits on the server');
      const seen = new Array<number>(500).fill(0);
      chans.forEach((c, i) =>
        c.subscribe({ dbrType: DBR.LONG }, (d) => (seen[i] = (d.value as Int32Array)[0])),
      );
      await until(() => seen.every((v) => v === 7), 10, 'first updates on 500 circuits');
      const t1 = performance.now();
      server.pv('C:n').post(8);
      await until(() => seen.every((v) => v === 8), 10, 'the update on 500 circuits');
      const fanS = (performance.now() - t1) / 1000;
      const gets = await Promise.all(chans.map((c) => c.get({ dbrType: DBR.LONG, timeout: 10 })));
      assert.ok(gets.every((g) => (g.value as Int32Array)[0] === 8));
      figure(
        t,
        `500 circuits: connected in ${connectS.toFixed(3)} s, one update reached all in ${(fanS * 1000).toFixed(1)} ms, descriptors +${openFds() - fds0}`,
      );
    } finally {
      for (const c of ctxs) await c.close();
    }
    try {
      await until(() => server.clientCount === 0, 5, 'the server saw every circuit close');
      assert.equal(server.pv('C:n').subscriberCount, 0);
      await sleep(50);
      const fds1 = openFds();
      figure(t, `500 circuits released: descriptors ${fds0} -> ${fds1}`);
      if (fds0 >= 0) assert.ok(fds1 <= fds0 + 2, `descriptors leaked: ${fds0} -> ${fds1}`);
    } finally {
      await server.stop();
      guard.uninstall();
    }
    assert.deepEqual(guard.errors, []);
  });
});
