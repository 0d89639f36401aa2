// pyepics over libca survives an IOC restart: the connection callback reports the disconnect and
// the reconnect, and the subscription delivers the restarted IOC's value without re-subscribing.
// A `tsepics repeater` holds the test's repeater port, so libca registers with it (and spawns no
// caRepeater) and can learn of the restart from the new IOC's beacons.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { TSEPICS_MAIN, startIoc, type IocProcess } from '../helpers/ioc-process.js';
import { killAllPython, peersSkipReason, runPyepicsJson } from '../helpers/peers.js';
import { caClientEnv, childEnv, freePort, portFree } from '../helpers/ports.js';
import { INTEROP_DB, dedent } from './setup.js';

const skip = peersSkipReason();

async function waitFor(pred: () => boolean | Promise<boolean>, seconds: number, what: string): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('pyepics reconnects after an IOC restart', { skip }, () => {
  const cleanups: (() => Promise<unknown> | void)[] = [];
  after(async () => {
    killAllPython();
    for (const c of cleanups.reverse()) await c();
  });

  test('connection callbacks False then True, monitor resumes with the new IOC value', async (t) => {
    const port = await freePort();
    const dir = mkdtempSync(path.join(tmpdir(), 'tsepics-reconnect-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const marker = path.join(dir, 'connected');

    // the test's own repeater on port + 1
    // (TSEPICS_TEST_REPEATER=caRepeater with EPICS_BASE: EPICS base's caRepeater instead, by hand)
    const repeaterCmd =
      process.env.TSEPICS_TEST_REPEATER === 'caRepeater' && process.env.EPICS_BASE
        ? [path.join(process.env.EPICS_BASE, 'bin', 'linux-x86_64', 'caRepeater')]
        : [process.execPath, TSEPICS_MAIN, 'repeater', '-p', String(port + 1)];
    const repeater: ChildProcess = spawn(repeaterCmd[0], repeaterCmd.slice(1), {
      env: childEnv(caClientEnv(port)),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const repeaterExit = new Promise((r) => repeater.once('exit', r));
    cleanups.push(async () => {
      if (repeater.exitCode === null && repeater.signalCode === null) repeater.kill('SIGTERM');
      await repeaterExit;
    });
    await waitFor(async () => !(await portFree(port + 1)), 10, 'the repeater to bind its port');

    let ioc: IocProcess = await startIoc({ db: INTEROP_DB, port, timeout: 30 });
    cleanups.push(() => ioc.stop());

    const py = runPyepicsJson<{
      conn: boolean[];
      values: number[];
      reconnect_s: number;
      after: number;
    }>(
      `from common import *\n${dedent(`
        marker = sys.argv[1]
        events, values = [], []
        def on_conn(pvname=None, conn=None, **kw):
            events.append(conn)
        def on_value(value=None, **kw):
            values.append(value)
        pv = epics.PV('IO:ai', callback=on_value, connection_callback=on_conn)
        assert pv.wait_for_connection(10), 'no first connection'
        wait_until(lambda: len(values) >= 1)
        epics.caput('IO:ai', 42.0, wait=True)
        wait_until(lambda: values[-1] == 42.0)
        open(marker, 'w').close()
        wait_until(lambda: not pv.connected, timeout=20)
        t0 = time.time()
        wait_until(lambda: pv.connected and values[-1] != 42.0, timeout=40)
        reconnect_s = time.time() - t0
        emit(dict(conn=events, values=values, reconnect_s=reconnect_s,
                  after=epics.caget('IO:ai', use_monitor=False)))
      `)}`,
      caClientEnv(port),
      { timeout: 90, args: [marker] },
    );
    // the IOC is stopped once pyepics has connected and written 42, then a new one starts
    await waitFor(() => existsSync(marker), 30, 'pyepics to connect');
    await ioc.stop();
    await new Promise((r) => setTimeout(r, 1000));
    ioc = await startIoc({ db: INTEROP_DB, port, timeout: 30 });

    const r = await py;
    assert.deepEqual(r.conn, [true, false, true], 'connection callbacks');
    assert.equal(r.values[0], 21.5);
    assert.ok(r.values.includes(42), JSON.stringify(r.values));
    assert.equal(
      r.values[r.values.length - 1],
      21.5,
      'the restarted IOC value arrives on the old subscription',
    );
    assert.equal(r.after, 21.5);
    assert.ok(r.reconnect_s < 30, `reconnected after ${r.reconnect_s} s`);
    t.diagnostic(`reconnected ${r.reconnect_s.toFixed(2)} s after the disconnect`);
  });
});
