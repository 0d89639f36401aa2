// The README's quick tour (examples/quickstart.ts) runs against a real server on loopback, prints
// what the README says it prints, and exits by itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { caClientEnv, childEnv, freePort } from '../helpers/ports.js';
import { serve } from '../../src/server/index.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/quickstart.js', import.meta.url));

test('examples/quickstart: serve, caget/caput/cagetMany, PV callbacks; exits by itself', async () => {
  const port = await freePort();
  const env = childEnv({ ...caClientEnv(port), EPICS_CAS_INTF_ADDR_LIST: '127.0.0.1' });
  const child = spawn(process.execPath, [EXAMPLE], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(timer);
  assert.equal(code, 0, `exit code; stderr: ${err}`);
  assert.match(out, /^temp = 21\.5$/m);
  assert.match(out, /^mode = Idle$/m);
  assert.match(out, /^file = scan_0001\.h5$/m);
  assert.match(out, /^put with wait took >= 200 ms$/m);
  assert.match(out, /^many = \[ 21\.5, 1, 1\.25 \]$/m);
  assert.match(out, /^callback: QS:temp = 95 degC severity 2$/m);
  assert.match(out, /^units = degC precision = 2 upperAlarmLimit = 90$/m);
});

test('serve(): posted values take their alarm from the declared limits', async () => {
  const port = await freePort();
  const server = await serve({
    env: {
      EPICS_CA_SERVER_PORT: String(port),
      EPICS_CAS_INTF_ADDR_LIST: '127.0.0.1',
      EPICS_CAS_AUTO_BEACON_ADDR_LIST: 'NO',
      EPICS_CAS_BEACON_ADDR_LIST: '127.0.0.1',
    },
    pvs: {
      'QT:a': { type: 'double', value: 5, highAlarm: 90, highWarning: 80, lowWarning: 0, lowAlarm: -10 },
      'QT:b': { type: 'long', value: 100, highAlarm: 50 },
      'QT:c': { type: 'double', value: 1e9 },
    },
  });
  try {
    const a = server.pv('QT:a');
    const seen: [number, number][] = [];
    for (const v of [5, 85, 95, -5, -20, 0.5]) {
      a.post(v);
      seen.push([a.severity, a.status]);
    }
    assert.deepEqual(seen, [
      [0, 0],
      [1, 4],
      [2, 3],
      [1, 6],
      [2, 5],
      [0, 0],
    ]);
    a.post(95, { severity: 0, status: 0 }); // an explicit alarm wins
    assert.equal(a.severity, 0);
    assert.equal(server.pv('QT:b').severity, 2, 'initial value checked against the limits');
    server.pv('QT:b').post(10);
    assert.equal(server.pv('QT:b').severity, 0, 'undeclared limits (LOLO) are not checked');
    server.pv('QT:c').post(-1e9);
    assert.equal(server.pv('QT:c').severity, 0, 'no limits declared: no alarm');
  } finally {
    await server.stop();
  }
});
