/**
 * Replays a conformance recording (test/fixtures/conformance/README.md): every command of
 * NAME.expected.json runs as `tsepics <tool>` against `tsepics ioc -d NAME.db`; exit status, stdout and
 * stderr must equal what EPICS base's C catools printed against softIoc, after normalizeOutput().
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, TSEPICS_MAIN, startIoc } from './ioc-process.js';
import { childEnv } from './ports.js';

export const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'conformance');

interface Case {
  tool: string;
  args: string[];
  /** 0: run to completion; otherwise interrupt (SIGINT) after this many seconds (camonitor). */
  seconds: number;
  exit: number | string;
  stdout: string;
  stderr: string;
}

/** Remove what legitimately differs between two runs. Keep identical to record.mjs's copy. */
export function normalizeOutput(s: string, port: number): string {
  return s
    .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+/g, '<TS>')
    .replace(/(Timestamp:\s+)\S.*$/gm, '$1<TS>')
    .replace(/(Current Time: ).*$/gm, '$1<TS>')
    .replace(/(Host:\s+)\S+/g, '$1<HOST>')
    .replace(new RegExp(`\\b${port + 1}\\b`, 'g'), '<PORT1>')
    .replace(new RegExp(`\\b${port}\\b`, 'g'), '<PORT>')
    .replace(/^Warning: Duplicate EPICS CA Address list entry.*\n/gm, '');
}

interface RunResult {
  exit: number | string;
  stdout: string;
  stderr: string;
}

function runTool(c: Case, env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TSEPICS_MAIN, c.tool, ...c.args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // camonitor: a little longer than the recording (node starts slower than C; lines are compared
    // as a set, so extra repeats do not matter)
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

/**
 * Lines of a camonitor recording as a set: without their update count (timing-dependent repeats)
 * and sorted (a periodic record's first update depends on where in its cycle camonitor connects).
 */
function distinctLines(s: string): string[] {
  return [...new Set(s.split('\n').filter((l) => l !== ''))].sort();
}

export async function replayConformance(db: string, recording: string): Promise<void> {
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
        stdout: normalizeOutput(r.stdout, ioc.port),
        stderr: normalizeOutput(r.stderr, ioc.port),
      };
      const cmd = `${c.tool} ${c.args.map((a) => (/^[\w:.,#|/-]+$/.test(a) ? a : `'${a}'`)).join(' ')}`;
      const same = c.seconds
        ? got.exit === c.exit &&
          got.stderr === c.stderr &&
          JSON.stringify(distinctLines(got.stdout)) === JSON.stringify(distinctLines(c.stdout))
        : got.exit === c.exit && got.stdout === c.stdout && got.stderr === c.stderr;
      if (!same) {
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
