/**
 * PV objects and the procedural functions against a tsepics server (serve({ pvs })) on private
 * loopback ports: connection, callbacks and their keyword set, put with wait, enum strings, char
 * arrays as strings, the auto-monitor threshold, the monitor() iterator, the PV cache, errors, and a
 * script that exits by itself.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Context } from '../../src/client/context.js';
import { CaError, NotFoundError } from '../../src/client/errors.js';
import { AUTOMONITOR_LENGTH, PV, floatCharValue, pyFloatRepr } from '../../src/client/pv.js';
import type { PVCallbackArgs } from '../../src/client/pv.js';
import {
  caget,
  cagetMany,
  cainfo,
  camonitor,
  camonitorClear,
  caput,
  caputMany,
  clearCache,
  getPV,
} from '../../src/client/procedural.js';
import { serve } from '../../src/server/pv-server.js';
import type { PvServer } from '../../src/server/pv-server.js';
import { caClientEnv, caEnv, childEnv, freePort } from '../helpers/ports.js';

let server: PvServer;
let ctx: Context;
let port: number;

before(async () => {
  port = await freePort();
  server = await serve({
    env: { ...caEnv(port) },
    pvs: {
      'P:ai': { type: 'double', value: 21.5, units: 'degC', precision: 3, lowDisp: -20, highDisp: 100 },
      'P:mbbo': { type: 'enum', value: 0, enumStrs: ['Stop', 'Go', 'Pause'] },
      'P:cwf': { type: 'char', count: 64 },
      'P:wf': { type: 'double', count: 100, value: [1, 2, 3] },
      'P:big': { type: 'float', count: AUTOMONITOR_LENGTH + 10 },
      'P:si': { type: 'string', value: 'hello' },
      'P:li': { type: 'long', value: 7 },
      'P:ro': { type: 'double', value: 1, readOnly: true },
    },
  });
  ctx = new Context({ env: caClientEnv(port), repeater: false });
});

after(async () => {
  clearCache(ctx);
  await ctx.close();
  await server.stop();
});

const KEYS = [
  'pvname', 'value', 'charValue', 'status', 'ftype', 'chid', 'host', 'count', 'access', 'writeAccess', 'readAccess',
  'severity', 'timestamp', 'posixseconds', 'nanoseconds', 'precision', 'units', 'enumStrs', 'monitorDelta',
  'upperDispLimit', 'lowerDispLimit', 'upperAlarmLimit', 'lowerAlarmLimit', 'lowerWarningLimit', 'upperWarningLimit',
  'upperCtrlLimit', 'lowerCtrlLimit', 'nelm', 'type', 'typefull', 'cbInfo', 'pv',
]; // prettier-ignore

function waitFor(pred: () => boolean, ms = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = (): void => {
      if (pred()) return resolve();
      if (Date.now() - t0 > ms) return reject(new Error('condition not met in time'));
      setTimeout(tick, 10);
    };
    tick();
  });
}

test('connect, first monitor callback with the pyepics keyword set, connection callback order', async () => {
  const events: PVCallbackArgs[] = [];
  const conns: [boolean, boolean][] = [];
  const pv = new PV('P:ai', {
    context: ctx,
    callback: (a) => events.push(a),
    connectionCallback: ({ conn, pv: p }) => conns.push([conn, p.connected]),
  });
  assert.equal(await pv.waitForConnection(3), true);
  assert.deepEqual(conns, [[true, false]]); // called before `connected` flips, as pyepics
  await waitFor(() => events.length > 0);
  const e = events[0];
  for (const k of KEYS) assert.ok(k in e, `callback keyword ${k}`);
  assert.equal(e.pvname, 'P:ai');
  assert.equal(e.value, 21.5);
  assert.equal(e.type, 'time_double');
  assert.equal(e.ftype, 20);
  assert.equal(e.count, 1);
  assert.equal(e.nelm, 1);
  assert.equal(e.access, 'read/write');
  assert.equal(typeof e.timestamp, 'number');
  assert.equal(Number.isInteger(e.posixseconds), true);
  assert.deepEqual(e.cbInfo, [0, pv]);
  assert.equal(String(pv), "<PV 'P:ai', count=1, type=time_double, access=read/write>");
  pv.disconnect();
});

test('put with wait, readback through the monitor, ctrl vars and charValue', async () => {
  const pv = new PV('P:ai', { context: ctx });
  await pv.waitForConnection(3);
  await pv.getCtrlVars();
  assert.equal(pv.units, 'degC');
  assert.equal(pv.precision, 3);
  assert.equal(pv.lowerDispLimit, -20);
  await pv.put(3.25, { wait: true });
  await waitFor(() => pv.value === 3.25);
  assert.equal(pv.charValue, '3.250');
  assert.equal(await pv.get(), 3.25);
  assert.equal(await pv.get({ asString: true }), '3.250');
  const md = await pv.getWithMetadata({ useMonitor: false });
  assert.equal(md.value, 3.25);
  assert.equal(md.status, 0);
  assert.match(pv.info, /^== P:ai {2}\(time_double\) ==\n {3}value {11}= 3\.25\n/);
  let done: unknown;
  await pv.put(4, { wait: true, callback: (a) => (done = a), callbackData: { a: 1 } });
  assert.deepEqual(done, { pvname: 'P:ai', a: 1 });
  assert.equal(pv.putComplete, true);
  pv.disconnect();
});

test('enum: state strings in and out, bad strings rejected', async () => {
  const pv = new PV('P:mbbo', { context: ctx });
  await pv.waitForConnection(3);
  await pv.put('Pause', { wait: true });
  assert.equal(await pv.get({ useMonitor: false }), 2);
  assert.equal(await pv.get({ asString: true }), 'Pause');
  await pv.put(1, { wait: true });
  await waitFor(() => pv.value === 1);
  assert.equal(pv.charValue, 'Go');
  await assert.rejects(pv.put('Bogus', { wait: true }), CaError);
  pv.disconnect();
});

test('char array: a string in, bytes or a string out', async () => {
  const pv = new PV('P:cwf', { context: ctx });
  await pv.waitForConnection(3);
  await pv.put('/data/run 7', { wait: true });
  const raw = await pv.get({ useMonitor: false });
  assert.ok(raw instanceof Uint8Array);
  assert.equal(await pv.get({ asString: true, useMonitor: false }), '/data/run 7');
  await waitFor(() => pv.charValue === '/data/run 7');
  pv.disconnect();
});

test('arrays: typed arrays with the current length; count cap; big arrays are not auto-monitored', async () => {
  const wf = new PV('P:wf', { context: ctx });
  await wf.waitForConnection(3);
  await waitFor(() => wf.value !== undefined);
  assert.ok(wf.value instanceof Float64Array);
  assert.deepEqual([...(wf.value as Float64Array)], [1, 2, 3]);
  assert.equal(wf.nelm, 100);
  assert.equal(wf.autoMonitor, true);
  assert.equal(wf.charValue, '<array size=3, type=time_double>');
  const two = await wf.get({ count: 2 });
  assert.deepEqual([...(two as Float64Array)], [1, 2]);
  const big = new PV('P:big', { context: ctx });
  await big.waitForConnection(3);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(big.autoMonitor, false);
  assert.equal(big.value, undefined);
  const v = await big.get();
  assert.ok(v instanceof Float32Array);
  wf.disconnect();
  big.disconnect();
});

test('monitor(): async iteration, latest wins when the consumer is slow', async () => {
  const pv = new PV('P:li', { context: ctx });
  await pv.waitForConnection(3);
  await waitFor(() => pv.value !== undefined);
  const it = pv.monitor();
  const first = await it.next();
  assert.equal(first.done, false);
  // while nobody reads, three updates arrive: only the last is kept (queueSize 1)
  server.pv('P:li').post(10);
  server.pv('P:li').post(11);
  server.pv('P:li').post(12);
  await waitFor(() => pv.value === 12);
  const next = await it.next();
  assert.equal((next.value as PVCallbackArgs).value, 12);
  await it.return(undefined);
  // disconnect ends an iterator
  const it2 = pv.monitor();
  const p = it2.next();
  pv.disconnect();
  const end = await Promise.race([p, new Promise((r) => setTimeout(() => r('timeout'), 1000))]);
  assert.notEqual(end, 'timeout');
});

test('callbacks: indices, removal, runCallbacks order, disconnect and reconnect', async () => {
  const order: (number | string)[] = [];
  const pv = new PV('P:li', { context: ctx });
  await pv.waitForConnection(3);
  await waitFor(() => pv.value !== undefined);
  const i1 = pv.addCallback((a) => order.push(a.cbInfo[0]), { withCtrlvars: false });
  const i2 = pv.addCallback((a) => order.push(a.cbInfo[0] as number), { index: -5, withCtrlvars: false });
  assert.equal(i1, 1);
  assert.equal(i2, -5);
  pv.runCallbacks();
  assert.deepEqual(order, [-5, 1]);
  pv.removeCallback(-5);
  order.length = 0;
  pv.runCallbacks();
  assert.deepEqual(order, [1]);
  pv.disconnect();
  assert.equal(pv.connected, false);
  assert.equal(pv.value, undefined);
  assert.equal(await pv.reconnect(3), true);
  assert.equal(await pv.get(), 12);
  pv.disconnect();
});

test("form 'ctrl' and 'native', count option, access callback", async () => {
  const access: [boolean, boolean][] = [];
  const c = new PV('P:ai', {
    context: ctx,
    form: 'ctrl',
    accessCallback: (a) => access.push([a.readAccess, a.writeAccess]),
  });
  await c.waitForConnection(3);
  await waitFor(() => c.value !== undefined);
  assert.equal(c.type, 'ctrl_double');
  assert.equal(c.ftype, 34);
  assert.equal(c.units, 'degC'); // a CTRL monitor carries the metadata
  assert.equal(c.posixseconds, 0); // no server stamp in CTRL: client time, as pyepics
  assert.equal(typeof c.timestamp, 'number');
  assert.deepEqual(access, [[true, true]]);
  const s = new PV('P:si', { context: ctx, form: 'ctrl' });
  await s.waitForConnection(3);
  assert.equal(s.type, 'time_string'); // CTRL_STRING is served as TIME_STRING
  const n = new PV('P:wf', { context: ctx, form: 'native', count: 2 });
  await n.waitForConnection(3);
  await waitFor(() => n.value !== undefined);
  assert.equal(n.type, 'double');
  assert.equal(n.count, 2);
  assert.deepEqual([...(n.value as Float64Array)], [1, 2]);
  c.disconnect();
  s.disconnect();
  n.disconnect();
});

test('errors: missing PV, read-only PV', async () => {
  const missing = new PV('P:missing', { context: ctx, connectionTimeout: 0.2 });
  assert.equal(await missing.waitForConnection(0.2), false);
  await assert.rejects(missing.get({ timeout: 0.2 }), NotFoundError);
  missing.disconnect();
  const ro = new PV('P:ro', { context: ctx });
  await ro.waitForConnection(3);
  assert.equal(ro.writeAccess, false);
  assert.equal(ro.access, 'read-only');
  await assert.rejects(ro.put(2), (e: unknown) => e instanceof CaError && e.eca === 376);
  ro.disconnect();
});

test('procedural functions and the PV cache', async () => {
  assert.equal(await caget('P:si', { context: ctx }), 'hello');
  assert.equal(await caput('P:ai', 9.5, { wait: true, context: ctx }), true);
  assert.equal(await caget('P:ai', { context: ctx, useMonitor: false }), 9.5);
  assert.equal(await caget('P:mbbo', { asString: true, context: ctx }), 'Go');
  assert.strictEqual(getPV('P:ai', { context: ctx }), getPV('P:ai', { context: ctx }));
  await assert.rejects(caget('P:nope', { connectionTimeout: 0.2, context: ctx }), NotFoundError);
  const many = await cagetMany(['P:ai', 'P:nope', 'P:si', 'P:mbbo'], {
    connectionTimeout: 0.3,
    context: ctx,
  });
  assert.deepEqual(many, [9.5, undefined, 'hello', 1]);
  assert.deepEqual(
    await caputMany(['P:li', 'P:nope'], [5, 1], { wait: 'all', connectionTimeout: 0.3, context: ctx }),
    [1, -1],
  );
  await assert.rejects(caputMany(['P:li'], [1, 2], { context: ctx }), CaError);
  const info = await cainfo('P:ai', { printOut: false, context: ctx });
  assert.match(info, /units {11}= degC/);
  const lines: string[] = [];
  await camonitor('P:li', { writer: (l) => lines.push(l), context: ctx });
  server.pv('P:li').post(77);
  await waitFor(() => lines.some((l) => / 77$/.test(l)));
  assert.match(lines.at(-1)!, /^P:li \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{5} 77$/);
  camonitorClear('P:li');
  clearCache(ctx);
});

test('char_value number formatting as pyepics', () => {
  assert.equal(floatCharValue(0, 4), '0');
  assert.equal(floatCharValue(1.5, 4), '1.5000');
  assert.equal(floatCharValue(123456.7, 4), '1.235e+05');
  assert.equal(floatCharValue(1e-6, 4), '1e-06');
  assert.equal(floatCharValue(2, undefined), '2.0');
  assert.equal(pyFloatRepr(1e16), '1e+16');
  assert.equal(pyFloatRepr(0.0001), '0.0001');
  assert.equal(pyFloatRepr(0.00001), '1e-05');
  assert.equal(pyFloatRepr(1795602920), '1795602920.0');
});

test('a script using only the procedural functions exits by itself', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsepics-pv-'));
  const index = fileURLToPath(new URL('../../src/index.js', import.meta.url));
  const script = join(dir, 'script.mjs');
  writeFileSync(
    script,
    `import { caget, caput, cagetMany, PV } from ${JSON.stringify(index)};\n` +
      `const v = await caget('P:ai');\n` +
      `await caput('P:li', 3, { wait: true });\n` +
      `const pv = new PV('P:wf', { callback: () => {} });\n` +
      `await pv.waitForConnection(3);\n` +
      `const m = await cagetMany(['P:si', 'P:li']);\n` +
      `console.log(JSON.stringify([v, m]));\n`,
  );
  // the script's default context registers with a CA repeater (and would start one): provide one
  const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
  const env = childEnv(caClientEnv(port));
  const rep = spawn(process.execPath, [main, 'repeater', '-p', env.EPICS_CA_REPEATER_PORT!], {
    env,
    stdio: 'ignore',
  });
  const repExited = new Promise((r) => rep.on('exit', r));
  await new Promise((r) => setTimeout(r, 300));
  try {
    const t0 = Date.now();
    const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn(process.execPath, [script], {
        env: childEnv(caClientEnv(port)),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const kill = setTimeout(() => child.kill('SIGKILL'), 10000);
      child.on('close', (code) => {
        clearTimeout(kill);
        resolve({ code, out, err });
      });
    });
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, '[9.5,["hello",3]]\n');
    assert.ok(Date.now() - t0 < 8000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rep.kill('SIGTERM');
    await repExited;
  }
});
