/** `tsepics demo` and `tsepics autosave` entry points, over CA on loopback. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Context } from '../../src/client/context.js';
import { autosaveMain } from '../../src/cli/autosave.js';
import { demoMain } from '../../src/cli/demo.js';
import { makeClientPvFactory } from '../../src/devices/client-pv.js';

function capture(): {
  out: string[];
  err: string[];
  stdout: (s: string) => void;
  stderr: (s: string) => void;
} {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (s) => out.push(s), stderr: (s) => err.push(s) };
}

test('demo: usage and option errors', async () => {
  const c = capture();
  assert.equal(await demoMain(['-h'], { ...c, env: {} }), 0);
  assert.match(c.out.join(''), /^Usage: tsepics demo/);
  const d = capture();
  assert.equal(await demoMain(['-n', '200'], { ...d, env: {} }), 1);
  assert.match(d.err.join(''), /invalid count '200'/);
  const e = capture();
  assert.equal(await demoMain(['-x'], { ...e, env: {} }), 1);
  assert.equal(await demoMain(['extra'], { ...e, env: {} }), 1);
});

test('autosave: usage errors', async () => {
  const c = capture();
  assert.equal(await autosaveMain([], c), 1);
  assert.match(c.err.join(''), /missing command/);
  assert.equal(await autosaveMain(['save', 'only.req'], c), 1);
  assert.equal(await autosaveMain(['save', '-m', '1=2', 'a.req', 'b.sav'], c), 1);
  assert.equal(await autosaveMain(['restore', '-w', 'x', 'a.sav'], c), 1);
  assert.equal(await autosaveMain(['--help'], c), 0);
});

test('demo IOC served by demoMain; autosave save/restore through autosaveMain', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsepics-cli-'));
  const ac = new AbortController();
  const demo = capture();
  const running = demoMain(['-p', '0', '-n', '1', '-m', '1'], {
    ...demo,
    env: {
      EPICS_CAS_INTF_ADDR_LIST: '127.0.0.1',
      EPICS_CAS_BEACON_ADDR_LIST: '127.0.0.1',
      EPICS_CAS_AUTO_BEACON_ADDR_LIST: 'NO',
    },
    signal: ac.signal,
  });
  let port = 0;
  for (let i = 0; i < 200 && port === 0; i++) {
    const m = /on CA port (\d+)/.exec(demo.out.join(''));
    if (m) port = Number(m[1]);
    else await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(port > 0, demo.out.join('') + demo.err.join(''));
  assert.match(demo.out.join(''), /tsepics caget id01:dbl1/);
  const ctx = new Context({
    env: {
      EPICS_CA_ADDR_LIST: '127.0.0.1',
      EPICS_CA_AUTO_ADDR_LIST: 'NO',
      EPICS_CA_SERVER_PORT: String(port),
    },
    repeater: false,
  });
  const client = makeClientPvFactory({ context: ctx });
  try {
    writeFileSync(join(dir, 'x.req'), '$(P)str1\n$(P)str2\n$(P)missing\n');
    const s = capture();
    const rc = await autosaveMain(
      ['save', '-m', 'P=id01:', '-w', '0.5', join(dir, 'x.req'), join(dir, 'x.sav')],
      {
        ...s,
        pvFactory: client.factory,
        cleanup: async () => undefined,
      },
    );
    assert.equal(rc, 2, 'one PV did not connect');
    assert.match(s.out.join(''), /Saved 2 of 3 PVs/);
    assert.match(s.err.join(''), /id01:missing/);
    assert.match(readFileSync(join(dir, 'x.sav'), 'utf8'), /^id01:str1 Hello from id01$/m);
    const pv = client.factory('id01:str1');
    await pv.waitForConnection(2);
    await pv.put('overwritten', { wait: true });
    const r = capture();
    assert.equal(
      await autosaveMain(['restore', '-c', join(dir, 'x.sav')], {
        ...r,
        pvFactory: client.factory,
        cleanup: async () => undefined,
      }),
      0,
    );
    assert.match(r.out.join(''), /Restored 2 of 2 PVs/);
    assert.equal(await pv.get({ useMonitor: false }), 'Hello from id01');
    const bad = capture();
    writeFileSync(join(dir, 'bad.sav'), 'id01:str1 x\n');
    assert.equal(
      await autosaveMain(['restore', join(dir, 'bad.sav')], {
        ...bad,
        pvFactory: client.factory,
        cleanup: async () => undefined,
      }),
      1,
    );
    assert.match(bad.err.join(''), /bad\.sav: no <END> line/);
  } finally {
    await client.close();
    await ctx.close();
    ac.abort();
    assert.equal(await running, 0);
    rmSync(dir, { recursive: true, force: true });
  }
});
