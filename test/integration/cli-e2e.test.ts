/**
 * End to end: `tsepics caget|caput|cainfo|camonitor` as child processes against a tsepics server
 * (serve({ pvs })) on private loopback ports.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { serve } from '../../src/server/pv-server.js';
import type { PvServer } from '../../src/server/pv-server.js';
import { caClientEnv, caEnv, childEnv, freePort } from '../helpers/ports.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

let server: PvServer;
let clientEnv: NodeJS.ProcessEnv;

before(async () => {
  const port = await freePort();
  server = await serve({
    env: { ...caEnv(port) },
    pvs: {
      'E:ai': { type: 'double', value: 21.5, units: 'degC', precision: 3, lowDisp: -20, highDisp: 100 },
      'E:mbbi': { type: 'enum', value: 2, enumStrs: ['Idle', 'Acquire', 'Readout', 'Correct'] },
      'E:wf': { type: 'double', count: 10, value: [1.5, 2.5, 3.5, -4e5] },
      'E:cwf': { type: 'char', count: 64 },
      'E:si': { type: 'string', value: 'hello world' },
      'E:ro': { type: 'double', value: 1, readOnly: true },
      'E:li': { type: 'long', value: 123456 },
      'E:slow': {
        type: 'double',
        value: 0,
        onPut: () => new Promise<void>((r) => setTimeout(r, 1500)),
      },
    },
  });
  clientEnv = childEnv({ ...caClientEnv(port), TZ: 'UTC' });
});

after(async () => {
  await server.stop();
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], opts: { killAfterMs?: number } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: clientEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGTERM'), opts.killAfterMs ?? 15000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

test('caget: scalars, enum, string, array, terse, -# and -c', async () => {
  const r = await run(['caget', 'E:ai', 'E:mbbi', 'E:si', 'E:li', 'E:wf']);
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  assert.equal(
    r.stdout,
    'E:ai                           21.5\n' +
      'E:mbbi                         Readout\n' +
      'E:si                           hello world\n' +
      'E:li                           123456\n' +
      'E:wf 10 1.5 2.5 3.5 -400000 0 0 0 0 0 0\n',
  );
  assert.equal((await run(['caget', '-t', '-n', 'E:mbbi', 'E:ai'])).stdout, '2\n21.5\n');
  assert.equal((await run(['caget', '-#', '3', 'E:wf'])).stdout, 'E:wf 3 1.5 2.5 3.5\n');
  assert.equal((await run(['caget', '-f3', '-F,', 'E:ai'])).stdout, 'E:ai,21.500\n');
  assert.equal((await run(['caget', '-0x', 'E:li'])).stdout, 'E:li                           0x1E240\n');
});

test('caget -a and -d', async () => {
  const a = await run(['caget', '-a', 'E:ai']);
  assert.match(a.stdout, /^E:ai {27}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} 21\.5 {2}\n$/);
  const d = await run(['caget', '-d', 'CTRL_DOUBLE', 'E:ai']);
  assert.match(
    d.stdout,
    /^E:ai\n {4}Native data type: DBF_DOUBLE\n {4}Request type: {5}DBR_CTRL_DOUBLE\n {4}Element count: {4}1\n {4}Value: {12}21\.5\n/,
  );
  assert.match(
    d.stdout,
    /\n {4}Units: {12}degC\n {4}Precision: {8}3\n {4}Lo disp limit: {4}-20\n {4}Hi disp limit: {4}100\n/,
  );
});

test('caget: a missing PV, bad options', async () => {
  const r = await run(['caget', '-w', '0.3', 'E:missing']);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, "Channel connect timed out: 'E:missing' not found.\n");
  assert.equal(r.code, 1);
  const two = await run(['caget', '-w', '0.3', 'E:ai', 'E:missing']);
  assert.equal(two.stdout, '');
  assert.equal(two.stderr, 'Channel connect timed out: some PV(s) not found.\n');
  const bad = await run(['caget', '-z', 'E:ai']);
  assert.equal(bad.stderr, "Unrecognized option: '-z'. ('caget -h' for help.)\n");
  assert.equal(bad.code, 1);
  const none = await run(['caget']);
  assert.equal(none.stderr, "No pv name specified. ('caget -h' for help.)\n");
});

test('caput: scalar, enum by state, char array as string, array', async () => {
  let r = await run(['caput', 'E:ai', '7.125']);
  assert.equal(
    r.stdout,
    'Old : E:ai                           21.5\nNew : E:ai                           7.125\n',
  );
  assert.equal(r.code, 0);
  r = await run(['caput', '-t', 'E:ai', '7.5']);
  assert.equal(r.stdout, '7.5\n');
  r = await run(['caput', 'E:mbbi', 'Correct']);
  assert.equal(
    r.stdout,
    'Old : E:mbbi                         Readout\nNew : E:mbbi                         Correct\n',
  );
  r = await run(['caput', 'E:mbbi', '1']);
  assert.equal(
    r.stdout,
    'Old : E:mbbi                         Correct\nNew : E:mbbi                         Acquire\n',
  );
  r = await run(['caput', '-s', 'E:mbbi', 'bogus']);
  assert.equal(r.stderr, "Enum string value 'bogus' invalid.\n");
  assert.equal(r.code, 1);
  r = await run(['caput', '-S', 'E:cwf', '/data/run 7/file_0001.h5']);
  assert.equal(r.stdout, 'Old : E:cwf \nNew : E:cwf /data/run 7/file_0001.h5\n');
  assert.equal((await run(['caget', '-S', 'E:cwf'])).stdout, 'E:cwf /data/run 7/file_0001.h5\n');
  r = await run(['caput', '-a', 'E:wf', '3', '1', '2', '-3']);
  // elements past the written ones depend on the server (softIoc keeps them, serve() clears them)
  assert.match(
    r.stdout,
    /^Old : E:wf 10 1\.5 2\.5 3\.5 -400000 0 0 0 0 0 0\nNew : E:wf 10 1 2 -3 (\S+ ){6}\S+\n$/,
  );
  assert.equal((await run(['caget', '-c', 'E:wf'])).stdout, 'E:wf 3 1 2 -3\n');
});

test('caput: refused write, slow put-callback', async () => {
  let r = await run(['caput', 'E:ro', '3']);
  assert.equal(r.stdout, 'Old : E:ro                           1\n');
  assert.equal(r.stderr, '\x1b[31;1mERROR\x1b[0m from put operation: Write access denied\n');
  assert.equal(r.code, 1);
  r = await run(['caput', '-c', '-w', '0.3', 'E:slow', '3']);
  assert.equal(r.stderr, 'Write callback operation timed out\n');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Old : E:slow {25}0\nNew : E:slow {25}[03]\n$/);
  r = await run(['caput', '-c', '-w', '5', 'E:slow', '4']);
  assert.match(r.stdout, /^Old : E:slow {25}[03]\nNew : E:slow {25}4\n$/);
  assert.equal(r.stderr, '');
});

test('cainfo', async () => {
  const r = await run(['cainfo', 'E:wf', 'E:ro']);
  assert.equal(r.code, 0);
  assert.match(
    r.stdout,
    /^E:wf\n {4}State: {12}connected\n {4}Host: {13}\S+:\d+\n {4}Access: {11}read, write\n {4}Native data type: DBF_DOUBLE\n {4}Request type: {5}DBR_DOUBLE\n {4}Element count: {4}10\nE:ro\n[^]*Access: {11}read, no write\n/,
  );
});

test('camonitor: initial updates, later updates, not-found line, SIGTERM', async (t) => {
  // camonitor registers with a CA repeater (and would start one): provide this test's own
  const rep = spawn(process.execPath, [MAIN, 'repeater', '-p', clientEnv.EPICS_CA_REPEATER_PORT!], {
    env: clientEnv,
    stdio: 'ignore',
  });
  const repExited = new Promise((r) => rep.on('exit', r));
  t.after(async () => {
    rep.kill('SIGTERM');
    await repExited;
  });
  await new Promise((r) => setTimeout(r, 300));
  const mon = run(['camonitor', '-w', '0.3', 'E:li', 'E:nope'], { killAfterMs: 1500 });
  setTimeout(() => server.pv('E:li').post(42), 700);
  const r = await mon;
  assert.equal(r.signal, 'SIGTERM');
  const lines = r.stdout.split('\n').filter(Boolean);
  assert.equal(lines.length, 3, r.stdout);
  assert.match(lines[0], /^E:li {27}\S+ \S+ 123456 {2}$/);
  assert.equal(lines[1], 'E:nope                         *** Not connected (PV not found)');
  assert.match(lines[2], /^E:li {27}\S+ \S+ 42 {2}$/);
});

test('tsepics --version, --help, unknown command', async () => {
  assert.match((await run(['--version'])).stdout, /^tsepics \d+\.\d+\.\d+/);
  assert.match((await run(['--help'])).stdout, /caget/);
  const u = await run(['nosuch']);
  assert.equal(u.code, 1);
  assert.match(u.stderr, /unknown command 'nosuch'/);
});
