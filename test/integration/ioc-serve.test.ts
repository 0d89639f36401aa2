/**
 * `tsepics ioc` serving test.db, driven by `tsepics caput/caget` in the order the softIoc traces
 * were recorded (put_scalar, put_array, put_errors, put_enum, then get_dbr_types and the slow put
 * callback): stdout must equal what EPICS' catools printed against softIoc (time stamps aside).
 * Also: iocMain in-process (abort to stop), `-x PREFIX` exit record, access security file.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { iocMain } from '../../src/cli/ioc.js';
import { startIoc, type IocProcess } from '../helpers/ioc-process.js';
import { caEnv, childEnv, freePort } from '../helpers/ports.js';
import { loadTraceOutput, tracesDir } from '../helpers/traces.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
let ioc: IocProcess;
const tmp = mkdtempSync(join(tmpdir(), 'tsepics-ioc-'));

before(async () => {
  ioc = await startIoc({ db: join(tracesDir(), 'test.db') });
});
after(async () => {
  await ioc?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

function run(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: childEnv({ ...env, TZ: 'UTC' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Split a recorded command line like a shell would (double quotes only). */
function argv(command: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(command))) out.push(m[1] ?? m[2]!);
  return out;
}

const stampFree = (s: string): string => s.replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+/g, '<time>');

async function replay(scenario: string, skip: (cmd: string) => boolean = () => false): Promise<void> {
  for (const c of loadTraceOutput(scenario)) {
    if (skip(c.command)) continue;
    const r = await run(argv(c.command), ioc.clientEnv);
    assert.equal(stampFree(r.stdout), stampFree(c.stdout), `${scenario}: ${c.command}`);
    assert.equal(r.code, c.exit, `${scenario}: exit status of ${c.command}`);
  }
}

test('puts as recorded (put_scalar, put_array, put_errors, put_enum) print what catools printed', async () => {
  await replay('put_scalar');
  await replay('put_array');
  await replay('put_errors');
  await replay('put_enum');
});

test('get_dbr_types after those puts: every metadata structure as softIoc served it', async () => {
  await replay('get_dbr_types');
});

test('put callback on a calcout with ODLY 2 completes after 2 s', async () => {
  const t0 = Date.now();
  await replay('put_callback_slow');
  const dt = Date.now() - t0;
  assert.ok(dt >= 1900, `took ${dt} ms`);
});

test('iocMain in-process: ready callback, serving, abort stops it with status 0', async () => {
  const port = await freePort();
  const ac = new AbortController();
  const out: string[] = [];
  let ready: { tcpPort: number } | undefined;
  const db = join(tmp, 'one.db');
  writeFileSync(db, 'record(ao, "$(P)x") { field(VAL, "1.5") field(PINI, YES) }\n');
  const done = iocMain(['-S', '-m', 'P=IP:', '-d', db], {
    env: caEnv(port),
    stdout: (s) => out.push(s),
    stderr: (s) => out.push(s),
    signal: ac.signal,
    onReady: (info) => {
      ready = info;
      void run(['caget', 'IP:x'], caEnv(port) as unknown as Record<string, string>).then((r) => {
        out.push(r.stdout);
        ac.abort();
      });
    },
  });
  const code = await done;
  assert.equal(code, 0);
  assert.equal(ready?.tcpPort, port);
  const text = out.join('');
  assert.match(text, /Starting iocInit\niocRun: All initialization complete\n/);
  assert.match(text, /IP:x\s+1\.5\n/);
});

test('-x PREFIX: a put to PREFIX:exit ends the IOC with that status', async () => {
  const x = await startIoc({ db: join(tracesDir(), 'test.db'), args: ['-x', 'XT'] });
  try {
    const r = await run(['caput', 'XT:exit', '3'], x.clientEnv);
    assert.equal(r.code, 0);
    const e = await x.exited;
    assert.equal(e.code, 3);
  } finally {
    await x.stop();
  }
});

test('bad database: clear error with file:line and exit status 2 (as softIoc), nothing served', async () => {
  const bad = join(tmp, 'bad.db');
  writeFileSync(bad, 'record(ai, "a") {\n  field(VAL, "1")\n  field(BOGUS, "2")\n}\n');
  const port = await freePort();
  const out: string[] = [];
  const code = await iocMain(['-S', '-d', bad], {
    env: caEnv(port),
    stdout: (s) => out.push(s),
    stderr: (s) => out.push(s),
    signal: new AbortController().signal,
  });
  assert.equal(code, 2);
  assert.equal(out.join(''), `ERROR: ${bad}:3: record "a": no field BOGUS in record type ai\n`);
});

test('--dbl lists the records and exits', async () => {
  const out: string[] = [];
  const db = join(tmp, 'two.db');
  writeFileSync(db, 'record(ai, "$(P)a") {}\nrecord(bo, "$(P)b") {}\n');
  const code = await iocMain(['-m', 'P=L:', '-d', db, '--dbl'], {
    stdout: (s) => out.push(s),
    stderr: (s) => out.push(s),
  });
  assert.equal(code, 0);
  assert.equal(out.join(''), 'Starting iocInit\nL:a\nL:b\n');
});

test('-a access security: read-only group refuses caput', async () => {
  const acf = join(tmp, 'ro.acf');
  writeFileSync(acf, 'ASG(DEFAULT) { RULE(1, READ) }\nASG(RW) { RULE(1, WRITE) }\n');
  const db = join(tmp, 'as.db');
  writeFileSync(
    db,
    'record(ao, "AS:ro") { field(PINI, YES) }\nrecord(ao, "AS:rw") { field(ASG, "RW") field(PINI, YES) }\n',
  );
  const a = await startIoc({ db, acf });
  try {
    const ro = await run(['caput', 'AS:ro', '1'], a.clientEnv);
    assert.equal(ro.code, 1);
    assert.match(ro.stderr, /Write access denied/);
    const rw = await run(['caput', 'AS:rw', '2'], a.clientEnv);
    assert.equal(rw.code, 0);
    assert.match(rw.stdout, /New : AS:rw\s+2\n/);
  } finally {
    await a.stop();
  }
});
