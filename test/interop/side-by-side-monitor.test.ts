// Side by side: our PV callbacks and pyepics' (Debian's 3.4.1 over libca) subscribed to the same
// changing PVs of one `tsepics ioc`, through one known put sequence made first by pyepics (phase A)
// and then by our client (phase B): scalars crossing alarm limits, enums written by label and index,
// a counter, waveforms, char arrays written as strings, strings. Both callback sequences must agree
// callback for callback: values, char values, severities, statuses, counts, time stamps (the same
// server events) and the keyword set (pyepics' snake_case keys <-> our camelCase keys, key for key).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Context } from '../../src/client/context.js';
import { PV, type PVCallbackArgs } from '../../src/client/pv.js';
import { caput } from '../../src/client/procedural.js';
import { startIoc, type IocProcess } from '../helpers/ioc-process.js';
import { killAllPython, peersSkipReason, runPyepicsJson } from '../helpers/peers.js';
import { SBS_DB, SNAKE, diff, toJson } from './side-by-side-common.js';

const NAMES = ['SBS:alarm', 'SBS:mbbo', 'SBS:cnt', 'SBS:li', 'SBS:wf:d', 'SBS:wf:c', 'SBS:so', 'SBS:bo'];

/** The put sequence, made once by each client. */
const PUTS: [string, unknown][] = [
  ['SBS:alarm', 85], // HIGH: MINOR
  ['SBS:alarm', 95], // HIHI: MAJOR
  ['SBS:alarm', 50], // back to NO_ALARM
  ['SBS:alarm', -5], // LOW: MINOR
  ['SBS:alarm', -15], // LOLO: MAJOR
  ['SBS:alarm', 50],
  ['SBS:mbbo', 'Slow'], // enum by label
  ['SBS:mbbo', 2], // by index: Fast, TWSV MINOR
  ['SBS:mbbo', 'Stop'],
  ['SBS:bo', 'On'],
  ['SBS:bo', 0],
  ['SBS:cnt.PROC', 1],
  ['SBS:cnt.PROC', 1],
  ['SBS:cnt.PROC', 1], // 3 >= HIGH: MINOR
  ['SBS:li', 850000], // HIGH: MINOR
  ['SBS:li', 950000], // HIHI: MAJOR
  ['SBS:li', 100],
  ['SBS:wf:d', [1, 2, 3]],
  ['SBS:wf:d', [4.5, 5.5, 6.5, 7.5]],
  ['SBS:wf:c', 'abc'], // char array written as a string
  ['SBS:wf:c', 'hello world'],
  ['SBS:so', 'one'],
  ['SBS:so', 'two'],
];

/** Keys of each callback compared value for value (pyepics name). */
const COMPARED = [
  'pvname',
  'value',
  'char_value',
  'status',
  'severity',
  'count',
  'nelm',
  'ftype',
  'type',
  'typefull',
  'access',
  'read_access',
  'write_access',
  'posixseconds',
  'nanoseconds',
  'timestamp',
  'units',
  'precision',
  'enum_strs',
  'upper_disp_limit',
  'lower_disp_limit',
  'upper_alarm_limit',
  'lower_alarm_limit',
  'upper_warning_limit',
  'lower_warning_limit',
  'upper_ctrl_limit',
  'lower_ctrl_limit',
];

type Rec = Record<string, unknown>;
interface PyMon {
  calls: Record<string, Rec[]>;
  rcs: unknown[];
  initial: Record<string, number>;
}

async function waitFor(pred: () => boolean, seconds: number, what: string): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const skip = peersSkipReason();

describe('side by side with pyepics: monitor callback sequences and puts', { skip }, () => {
  let ioc: IocProcess;
  let ctx: Context;
  let dir: string;
  let py: PyMon;
  const pvs: PV[] = [];
  const ours: Record<string, PVCallbackArgs[]> = {};
  const ourRcs: unknown[] = [];

  before(async () => {
    ioc = await startIoc({ db: SBS_DB, timeout: 30 });
    ctx = new Context({ env: ioc.clientEnv, repeater: false });
    dir = mkdtempSync(path.join(os.tmpdir(), 'tsepics-sbs-'));
    // the waveforms start with one element, so that both clients see the same first update
    await caput('SBS:wf:d', [0], { wait: true, context: ctx });
    await caput('SBS:wf:c', 'x', { wait: true, context: ctx });
    for (const n of NAMES) {
      ours[n] = [];
      const pv = new PV(n, { context: ctx });
      pvs.push(pv);
      assert.ok(await pv.waitForConnection(5), n);
      await pv.getCtrlVars();
      // the current value first (as the pyepics side does), so that neither gets an initial callback
      await pv.get();
      pv.addCallback((a) => ours[n].push({ ...a }));
    }
    const pyDone = runPyepicsJson<PyMon>(
      `import runpy, sys; sys.argv = ['sbs_monitor.py'] + ${JSON.stringify([dir, ...NAMES])}; ` +
        `runpy.run_module('sbs_monitor', run_name='__main__')`,
      ioc.clientEnv,
      { timeout: 90 },
    );
    let failed: unknown;
    pyDone.catch((e: unknown) => (failed = e));
    await waitFor(() => failed !== undefined || existsSync(path.join(dir, 'ready')), 30, 'pyepics ready');
    if (failed) throw failed;
    writeFileSync(path.join(dir, 'puts.json'), JSON.stringify(PUTS));
    writeFileSync(path.join(dir, 'go'), '');
    await waitFor(() => failed !== undefined || existsSync(path.join(dir, 'a-done')), 60, 'pyepics puts');
    if (failed) throw failed;
    for (const [n, v] of PUTS) {
      ourRcs.push(await caput(n, v, { wait: true, timeout: 10, context: ctx }));
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 500));
    writeFileSync(path.join(dir, 'b-done'), '');
    py = await pyDone;
  });

  after(async () => {
    killAllPython();
    for (const pv of pvs) pv.disconnect();
    await ctx?.close();
    await ioc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('put-with-wait results: pyepics 1 <-> our true, for every put', () => {
    assert.deepEqual(
      py.rcs,
      PUTS.map(() => 1),
    );
    assert.deepEqual(
      ourRcs,
      PUTS.map(() => true),
    );
  });

  test('the same number of callbacks per PV', () => {
    for (const n of NAMES) {
      assert.equal(
        ours[n].length,
        py.calls[n].length,
        `${n}: ours ${ours[n].length}, pyepics ${py.calls[n].length}`,
      );
    }
  });

  test('every pyepics callback keyword has its camelCase counterpart in ours', () => {
    const missing = new Set<string>();
    for (const n of NAMES) {
      for (const rec of py.calls[n]) {
        for (const k of Object.keys(rec)) {
          const ck = SNAKE[k];
          if (!ck || !(ck in ours[n][0])) missing.add(`${k}${ck ? ` -> ${ck}` : ' (no mapping)'}`);
        }
      }
    }
    assert.deepEqual([...missing], []);
    // and the comparison below is not vacuous: pyepics passes these
    const first = py.calls['SBS:alarm'][0];
    for (const k of ['value', 'char_value', 'status', 'severity', 'timestamp', 'precision', 'units', 'count'])
      assert.ok(k in first, `pyepics callback keyword ${k}`);
    assert.ok('enum_strs' in py.calls['SBS:mbbo'][0], 'enum_strs');
    assert.deepEqual(
      py.initial,
      Object.fromEntries(NAMES.map((n) => [n, 0])),
      'no callback for the current value',
    );
  });

  test('callback sequences agree: values, char values, severities, statuses, time stamps, metadata', () => {
    const diffs: string[] = [];
    for (const n of NAMES) {
      const p = py.calls[n];
      const o = ours[n];
      for (let i = 0; i < Math.min(p.length, o.length); i++) {
        for (const k of COMPARED) {
          if (!(k in p[i])) continue;
          const ck = SNAKE[k];
          let pv = p[i][k];
          let ov = toJson(o[i][ck]);
          if (k === 'timestamp') {
            // both are posixseconds + nanoseconds * 1e-9: equal to the microsecond
            diff(pv, ov, `${n}[${i}].${k}`, diffs, 1e-15);
            continue;
          }
          // numpy unicode arrays <-> string[] (not in these PVs, kept for completeness)
          if (pv && typeof pv === 'object' && 'dtype' in pv && String((pv as Rec).dtype).startsWith('<U'))
            pv = (pv as Rec).values;
          if (ov === null) ov = undefined;
          if (pv === null) pv = undefined;
          diff(pv, ov, `${n}[${i}].${k}`, diffs);
        }
      }
    }
    assert.deepEqual(diffs, []);
  });

  test('the sequences are the expected ones (alarm walk, enum labels, counter, strings)', () => {
    const seq = (n: string, k: keyof PVCallbackArgs): unknown[] => ours[n].map((a) => toJson(a[k]));
    // phase A (pyepics puts) then phase B (ours): the same updates twice
    const twice = (a: unknown[]): unknown[] => [...a, ...a];
    assert.deepEqual(seq('SBS:alarm', 'value'), twice([85, 95, 50, -5, -15, 50]));
    assert.deepEqual(seq('SBS:alarm', 'severity'), twice([1, 2, 0, 1, 2, 0]));
    // HIGH HIHI NO_ALARM LOW LOLO NO_ALARM
    assert.deepEqual(seq('SBS:alarm', 'status'), twice([4, 3, 0, 6, 5, 0]));
    assert.deepEqual(seq('SBS:mbbo', 'charValue'), twice(['Slow', 'Fast', 'Stop']));
    assert.deepEqual(seq('SBS:mbbo', 'severity'), twice([0, 1, 0]));
    assert.deepEqual(seq('SBS:cnt', 'value'), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(seq('SBS:li', 'severity'), twice([1, 2, 0]));
    assert.deepEqual(seq('SBS:wf:c', 'charValue'), twice(['abc', 'hello world']));
    assert.deepEqual(seq('SBS:so', 'value'), twice(['one', 'two']));
    assert.deepEqual(seq('SBS:bo', 'charValue'), twice(['On', 'Off']));
    assert.deepEqual(seq('SBS:wf:d', 'count'), twice([3, 4]));
  });
});
