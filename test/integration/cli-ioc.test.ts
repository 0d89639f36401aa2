/**
 * The recorded catools commands whose output does not depend on earlier writes, run as
 * `tsepics caget` against `tsepics ioc -d test.db` (the database of the recordings): stdout must
 * equal what EPICS' caget printed against softIoc, byte for byte.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startIoc } from '../helpers/ioc-process.js';
import type { IocProcess } from '../helpers/ioc-process.js';
import { childEnv } from '../helpers/ports.js';
import { loadTraceOutput, tracesDir } from '../helpers/traces.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

let ioc: IocProcess;

before(async () => {
  ioc = await startIoc({ db: join(tracesDir(), 'test.db') });
});

after(async () => {
  await ioc?.stop();
});

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: childEnv({ ...ioc.clientEnv, TZ: 'UTC' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Commands whose recorded output does not depend on the puts made before them in the recording. */
const STATELESS = [
  'caget T:ai T:bi T:mbbi T:li T:si T:i64 T:lsi T:wf T:cwf',
  'caget T:ao T:bo T:mbbo T:lo T:so T:swf T:aai T:calc T:ai.DESC T:ai.NAME T:ai.RTYP T:calc.INPA',
  'caget -d DBR_CTRL_DOUBLE T:ai',
  'caget -d DBR_GR_ENUM T:mbbi',
  'caget -d DBR_CTRL_LONG T:li',
  'caget -d DBR_STS_STRING T:si T:ai',
  'caget -d DBR_CTRL_SHORT T:ai',
  'caget -d DBR_STSACK_STRING T:ai',
  'caget -d DBR_CLASS_NAME T:ai',
  'caget -d DBR_CTRL_ENUM T:bi',
  'caget -w 0.5 T:missing',
];

const recorded = ['get_records', 'get_dbr_types', 'not_found'].flatMap((n) => loadTraceOutput(n));

for (const command of STATELESS) {
  test(`tsepics ${command} (against tsepics ioc)`, async () => {
    const rec = recorded.find((c) => c.command === command);
    assert.ok(rec, `recorded command ${command}`);
    const r = await run(command.split(' '));
    assert.equal(r.stdout, rec.stdout, 'stdout');
    assert.equal(r.stderr, rec.stderr, 'stderr');
    assert.equal(r.code, rec.exit, 'exit status');
  });
}

test('caget -a of processed records has the recorded shape (time stamps differ)', async () => {
  const rec = loadTraceOutput('get_time')[0];
  const r = await run(rec.command.split(' '));
  const mask = (s: string): string => s.replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}/g, '<stamp>');
  assert.equal(mask(r.stdout), mask(rec.stdout));
});
