// Issue 3 / issue 5: the real `tsepics ioc` as a child process is killed (SIGKILL) and started
// again on the same port; client PV objects reconnect and their monitors resume within 2 s of the
// restarted IOC's first beacon, with no duplicate callbacks and no leaked circuit or descriptor.
// A second test freezes the IOC (SIGSTOP): the ECHO watchdog marks the channels disconnected
// within EPICS_CA_CONN_TMO + the echo timeout, and SIGCONT brings them back.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Context } from '../../src/client/context.js';
import type { CaException } from '../../src/client/context.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { PV } from '../../src/client/pv.js';
import { DisconnectedError } from '../../src/client/errors.js';
import { ECA } from '../../src/protocol/constants.js';
import type { PVCallbackArgs } from '../../src/client/pv.js';
import { TSEPICS_MAIN, startIoc, type IocProcess } from '../helpers/ioc-process.js';
import { caClientEnv, childEnv, freePort } from '../helpers/ports.js';
import {
  BeaconProbe,
  CrashGuard,
  figure,
  mb,
  memNow,
  openFds,
  sleep,
  tempDir,
  until,
  writeAoDb,
} from './helpers.js';

const N_AO = 50;
const COUNTER = 'FR:cnt';
const COUNTER_DB = `record(calc, "${COUNTER}") {\n  field(SCAN, ".1 second")\n  field(CALC, "A+1")\n  field(INPA, "${COUNTER} NPP")\n}\n`;

interface Tracked {
  pv: PV;
  values: { v: number; at: number; ts?: number }[];
  conn: boolean[];
}

/** A monitored PV on `ctx` recording every update (value, arrival time, time stamp) and connection change. */
function trackPv(ctx: Context, name: string): Tracked {
  const tr: Tracked = { pv: undefined as unknown as PV, values: [], conn: [] };
  tr.pv = new PV(name, {
    context: ctx,
    callback: (a: PVCallbackArgs) =>
      tr.values.push({ v: a.value as number, at: performance.now(), ts: a.timestamp }),
    connectionCallback: ({ conn }) => tr.conn.push(conn),
  });
  return tr;
}

describe('IOC killed and restarted (tsepics ioc child process)', () => {
  const tmp = tempDir('tsepics-fault-restart-');
  const db = writeAoDb(path.join(tmp.dir, 'restart.db'), 'FR:ao', N_AO, 1, COUNTER_DB);
  const guard = new CrashGuard().install();
  let port = 0;
  let repeater: ChildProcess | undefined;
  let repeaterExit: Promise<unknown> | undefined;
  const probe = new BeaconProbe();

  before(async () => {
    port = await freePort();
    // The test's own repeater (`tsepics repeater`) on the test's repeater port, port + 1.
    repeater = spawn(process.execPath, [TSEPICS_MAIN, 'repeater', '-p', String(port + 1)], {
      env: childEnv(caClientEnv(port)),
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    repeaterExit = new Promise((r) => repeater!.once('exit', r));
    await probe.start(port + 1); // retries until the repeater confirms
  });
  after(async () => {
    await probe.close();
    if (repeater && repeater.exitCode === null && repeater.signalCode === null) repeater.kill('SIGTERM');
    await repeaterExit;
    guard.uninstall();
    tmp.remove();
    assert.deepEqual(guard.errors, [], 'no uncaught exception or unhandled rejection');
  });

  it('every PV reconnects and its monitor resumes < 2 s after the first beacon; no duplicates, no leak', async (t) => {
    let ioc: IocProcess = await startIoc({ db, port });
    const exceptions: CaException[] = [];
    const ctx = new Context({
      env: caClientEnv(port),
      repeater: true,
      onException: (e) => exceptions.push(e),
    });
    const tracked: Tracked[] = [];
    try {
      const names = [...Array.from({ length: N_AO }, (_, i) => `FR:ao${i + 1}`), COUNTER];
      for (const name of names) {
        tracked.push(trackPv(ctx, name));
      }
      const aos = tracked.slice(0, N_AO);
      const cnt = tracked[N_AO];
      await until(() => tracked.every((x) => x.values.length >= 1), 10, 'the first monitor updates');
      await until(() => ctx.repeaterRegistered, 5, 'the client registered with the repeater');
      // Values the restarted IOC will not have.
      await Promise.all(aos.map((x) => x.pv.put(42, { wait: true, timeout: 5 })));
      await until(() => aos.every((x) => x.values.at(-1)!.v === 42), 5, 'the put values monitored');
      assert.equal(ctx.circuitCount, 1);
      const fds0 = openFds();
      const mem0 = memNow();

      // Cycle 1 waits long enough for the search to back off (reconnection must come from the
      // beacon); cycle 2 restarts quickly.
      for (const [cycle, downMs] of [
        [1, 8000],
        [2, 500],
      ] as const) {
        // Cycle 2: requests in flight when the IOC dies (it is frozen first so that none is answered).
        const inFlight: Promise<unknown>[] = [];
        if (cycle === 2) {
          ioc.child.kill('SIGSTOP');
          inFlight.push(
            aos[0].pv.put(99, { wait: true, timeout: 10 }).then(
              () => 'resolved',
              (e: unknown) => e,
            ),
            aos[1].pv.get({ useMonitor: false, timeout: 10 }).then(
              () => 'resolved',
              (e: unknown) => e,
            ),
          );
          await sleep(100);
        }
        const killedAt = performance.now();
        ioc.child.kill('SIGKILL');
        await ioc.exited;
        await until(() => tracked.every((x) => !x.pv.connected), 5, 'every PV disconnected');
        for (const e of await Promise.all(inFlight)) {
          assert.ok(
            e instanceof DisconnectedError,
            `a request in flight fails with DisconnectedError: ${String(e)}`,
          );
        }
        // Updates counted from here come from the restarted IOC (one may have been in flight at the kill).
        const before = tracked.map((x) => x.values.length);
        figure(
          t,
          `cycle ${cycle}: disconnect seen ${((performance.now() - killedAt) / 1000).toFixed(3)} s after SIGKILL`,
        );
        await sleep(downMs);
        const restartAt = performance.now();
        ioc = await startIoc({ db, port });
        await until(
          () =>
            tracked.every((x, i) => x.pv.connected && x.values.length > before[i]) &&
            cnt.values.length >= before[N_AO] + 2,
          10,
          'every PV reconnected with monitor updates',
        );
        const beacon = probe.firstSince(restartAt);
        assert.ok(beacon !== undefined, 'the restarted IOC beaconed');
        const resumed = Math.max(...tracked.map((x, i) => x.values[before[i]].at));
        const reconnectS = (resumed - beacon) / 1000;
        figure(
          t,
          `cycle ${cycle}: reconnect ${reconnectS.toFixed(3)} s after the first beacon (${tracked.length} PVs, down ${downMs} ms)`,
        );
        assert.ok(reconnectS < 2, `monitors resumed ${reconnectS.toFixed(3)} s after the first beacon`);
        // No duplicates: each ao (passive, unchanged) gets exactly one update per connection, the
        // restarted IOC's value.
        await sleep(300);
        for (const [i, x] of aos.entries()) {
          const fresh = x.values.slice(before[i]);
          assert.deepEqual(
            fresh.map((u) => u.v),
            [1],
            `${x.pv.pvname}: one update after reconnecting`,
          );
        }
        const counts = cnt.values.slice(before[N_AO]).map((u) => u.v);
        for (let k = 1; k < counts.length; k++)
          assert.ok(
            counts[k] > counts[k - 1],
            `cycle ${cycle}: counter increases: ${cnt.values
              .slice(before[N_AO])
              .map((u) => `${u.v}@${u.ts}`)
              .join(' ')}`,
          );
        for (const x of tracked) {
          assert.deepEqual(x.conn, [
            true,
            ...Array<boolean>(cycle)
              .fill(false)
              .flatMap((f) => [f, true]),
          ]);
        }
        if (cycle === 1) {
          // Again a value the restarted IOC (VAL=1) will not have.
          await Promise.all(aos.map((x) => x.pv.put(7, { wait: true, timeout: 5 })));
          await until(() => aos.every((x) => x.values.at(-1)!.v === 7), 5, 'the put values monitored');
        }
      }
      assert.equal(ctx.circuitCount, 1, 'one circuit after two restarts');
      const fds1 = openFds();
      const mem1 = memNow();
      figure(t, `descriptors ${fds0} -> ${fds1}, memory after ${mb(mem1)} (was ${mb(mem0)})`);
      if (fds0 >= 0) assert.ok(fds1 <= fds0 + 2, `descriptors leaked: ${fds0} -> ${fds1}`);
      assert.ok(exceptions.every((e) => e.eca !== undefined));
    } finally {
      for (const x of tracked) x.pv.disconnect();
      await ctx.close();
      await ioc.stop();
    }
  });

  it('an IOC that stops answering (SIGSTOP): channels disconnected within CONN_TMO + echo timeout, back after SIGCONT', async (t) => {
    const connTmo = 1;
    const echoTmo = 1;
    const ioc = await startIoc({ db, port });
    const exceptions: CaException[] = [];
    const ctx = new Context({
      env: { ...caClientEnv(port), EPICS_CA_CONN_TMO: String(connTmo) },
      repeater: false,
      echoTimeout: echoTmo,
      onException: (e) => exceptions.push(e),
    });
    const tracked: Tracked[] = [];
    let stopped = false;
    try {
      for (const name of ['FR:ao1', 'FR:ao2', COUNTER]) {
        tracked.push(trackPv(ctx, name));
      }
      await until(() => tracked.every((x) => x.values.length >= 1), 10, 'the first monitor updates');
      const cnt = tracked[2];
      await until(() => cnt.values.length >= 3, 5, 'counter updates');
      const frozenAt = performance.now();
      ioc.child.kill('SIGSTOP');
      stopped = true;
      await until(
        () => tracked.every((x) => !x.pv.connected),
        connTmo + echoTmo + 2,
        'channels marked disconnected',
      );
      const downS = (performance.now() - frozenAt) / 1000;
      figure(
        t,
        `unresponsive IOC marked disconnected after ${downS.toFixed(3)} s (CONN_TMO ${connTmo} s + echo ${echoTmo} s)`,
      );
      assert.ok(downS <= connTmo + echoTmo + 1, `disconnected after ${downS.toFixed(3)} s`);
      assert.ok(
        exceptions.some((e) => e.eca === ECA.UNRESPTMO),
        'ECA_UNRESPTMO reported',
      );
      assert.equal(ctx.circuitCount, 1, 'the circuit stays open while unresponsive');
      const before = cnt.values.length;
      const contAt = performance.now();
      ioc.child.kill('SIGCONT');
      stopped = false;
      await until(() => tracked.every((x) => x.pv.connected) && cnt.values.length > before, 5, 'reconnected');
      figure(
        t,
        `unresponsive IOC: reconnected ${((performance.now() - contAt) / 1000).toFixed(3)} s after SIGCONT`,
      );
      for (const x of tracked)
        assert.deepEqual(x.conn, [true, false, true], `${x.pv.pvname} connection callbacks`);
      assert.equal(ctx.circuitCount, 1);
    } finally {
      if (stopped) ioc.child.kill('SIGCONT');
      for (const x of tracked) x.pv.disconnect();
      await ctx.close();
      await ioc.stop();
    }
  });
});
