/**
 * More conformance recordings (see test/fixtures/conformance/README.md): EPICS base 7.0.8's C catools
 * against softIoc on databases and commands written to find what the first recordings missed
 * (int64/lsi/lso/mbbDirect/aai/aao/sel/seq/dfanout records, number formatting at the edges, enum
 * state strings, links and scans, field access, large arrays, option parsing). Each command runs as
 * `tsepics <tool>` against `tsepics ioc -d NAME.db`; exit status, stdout and stderr must equal the
 * recording after normalization (the same rules as conformance-catools.test.ts).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT, TSEPICS_MAIN, startIoc } from '../helpers/ioc-process.js';
import { childEnv } from '../helpers/ports.js';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'conformance');

interface Case {
  tool: string;
  args: string[];
  /** 0: run to completion; otherwise interrupt (SIGINT) after this many seconds (camonitor). */
  seconds: number;
  exit: number | string;
  stdout: string;
  stderr: string;
}

/** Same rules as normalizeOutput() in conformance-catools.test.ts and the recorder. */
function normalize(s: string, port: number): string {
  return s
    .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+/g, '<TS>')
    .replace(/(Timestamp:\s+)\S.*$/gm, '$1<TS>')
    .replace(/(Current Time: ).*$/gm, '$1<TS>')
    .replace(/(Host:\s+)\S+/g, '$1<HOST>')
    .replace(new RegExp(`\\b${port + 1}\\b`, 'g'), '<PORT1>')
    .replace(new RegExp(`\\b${port}\\b`, 'g'), '<PORT>')
    .replace(/^Warning: Duplicate EPICS CA Address list entry.*\n/gm, '');
}

function runTool(
  c: Case,
  env: NodeJS.ProcessEnv,
): Promise<{ exit: number | string; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TSEPICS_MAIN, c.tool, ...c.args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // camonitor: a little longer than the recording (lines are compared as a set)
    const interrupt = c.seconds
      ? setTimeout(() => child.kill('SIGINT'), (c.seconds + 1.5) * 1000)
      : undefined;
    const guard = setTimeout(() => child.kill('SIGKILL'), (c.seconds || 20) * 1000 + 5000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(interrupt);
      clearTimeout(guard);
      resolve({ exit: code ?? signal ?? 'unknown', stdout, stderr });
    });
  });
}

const distinctLines = (s: string): string[] => [...new Set(s.split('\n').filter((l) => l !== ''))];

async function replay(db: string, recording: string): Promise<void> {
  const cases = JSON.parse(readFileSync(join(FIXTURES, recording), 'utf8')) as Case[];
  assert.ok(cases.length > 0, `${recording} has no cases`);
  const ioc = await startIoc({ db: join(FIXTURES, db) });
  try {
    const env = childEnv({ ...ioc.clientEnv, TZ: 'UTC' });
    const failures: string[] = [];
    for (const c of cases) {
      const r = await runTool(c, env);
      const got = {
        exit: r.exit,
        stdout: normalize(r.stdout, ioc.port),
        stderr: normalize(r.stderr, ioc.port),
      };
      const same = c.seconds
        ? got.exit === c.exit &&
          got.stderr === c.stderr &&
          JSON.stringify(distinctLines(got.stdout)) === JSON.stringify(distinctLines(c.stdout))
        : got.exit === c.exit && got.stdout === c.stdout && got.stderr === c.stderr;
      if (!same) {
        const cmd = `${c.tool} ${c.args.map((a) => (/^[\w:.,#|/-]+$/.test(a) ? a : `'${a}'`)).join(' ')}`;
        failures.push(
          `$ ${cmd}\n--- expected (EPICS base against softIoc): exit ${c.exit}\n${c.stdout}` +
            `${c.stderr ? `[stderr]\n${c.stderr}` : ''}--- got (tsepics against tsepics ioc): exit ${got.exit}\n` +
            `${got.stdout}${got.stderr ? `[stderr]\n${got.stderr}` : ''}`,
        );
      }
    }
    assert.equal(
      failures.length,
      0,
      `${failures.length} of ${cases.length} cases differ:\n\n${failures.join('\n')}`,
    );
  } finally {
    await ioc.stop();
  }
}

describe(
  'tsepics catools + tsepics ioc print what EPICS base catools + softIoc print (2)',
  { concurrency: 2 },
  () => {
    it('int64in/out, lsi/lso, mbbiDirect/mbboDirect, aai/aao, INT64/UINT64/UCHAR waveforms, sel, seq, dfanout', () =>
      replay('more-types.db', 'more-types.expected.json'));
    it('number formats: -e/-f/-g/-s/-lx/-0x at the edges (huge, tiny, -0, nan, inf, PREC 0/-5/20), puts of odd numbers', () =>
      replay('number-formats.db', 'number-formats.expected.json'));
    it('option parsing: glued/combined options, bad values, timeouts 0/negative, -d names, escapes, -S, -a counts', () =>
      replay('number-formats.db', 'cli-options.expected.json'));
    it('enum states: missing/partial strings, 16 states, severities, raw values, puts by name and number', () =>
      replay('enum-states.db', 'enum-states.expected.json'));
    it('links: PP/NPP/CP/MS/MSS/MSI, FLNK chains, disable, closed loop, periodic scans, aliases, info', () =>
      replay('links-scan.db', 'links-scan.expected.json'));
    it('field access: long strings ($), menus, internal and read-only fields, bad field names, string waveforms', () =>
      replay('field-access.db', 'field-access.expected.json'));
    it('arrays larger than EPICS_CA_MAX_ARRAY_BYTES: doubles, a 20000-char string, 500 strings', () =>
      replay('big-arrays.db', 'big-arrays.expected.json'));
    it('IOC fixes: lso OVAL, sel SELN, one-state bi/bo, mbbo without states, enum/rset limits, bo MASK 0, failing calc inputs, link text, units, DTYP', () =>
      replay('ioc-fixes.db', 'ioc-fixes.expected.json'));
  },
);
