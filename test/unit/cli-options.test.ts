/** The catools' shared option handling (cli/catools-common.ts) as each tool sees it; no sockets. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ToolIO } from '../../src/cli/catools-backend.js';
import { cagetMain, cagetUsage } from '../../src/cli/caget.js';
import { cainfoMain } from '../../src/cli/cainfo.js';
import { camonitorMain } from '../../src/cli/camonitor.js';
import { caputMain } from '../../src/cli/caput.js';
import { VERSION_TEXT } from '../../src/cli/format.js';

type Main = (args: readonly string[], io: ToolIO) => Promise<number>;

async function run(
  main: Main,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: ToolIO = {
    stdout: (s) => (out += s),
    stderr: (s) => (err += s),
    env,
    backend: () => {
      throw new Error('usage errors must not open a backend');
    },
  };
  const code = await main(args, io);
  return { code, out, err };
}

test('-h and -V', async () => {
  assert.deepEqual(await run(cagetMain, ['-h']), { code: 0, out: '', err: cagetUsage() });
  for (const main of [cagetMain, caputMain, camonitorMain, cainfoMain]) {
    assert.deepEqual(await run(main, ['-V']), { code: 0, out: VERSION_TEXT, err: '' });
  }
});

test('unknown options and missing arguments name the tool', async () => {
  const tools: Array<[string, Main]> = [
    ['caget', cagetMain],
    ['caput', caputMain],
    ['camonitor', camonitorMain],
    ['cainfo', cainfoMain],
  ];
  for (const [name, main] of tools) {
    assert.deepEqual(await run(main, ['-z', 'pv']), {
      code: 1,
      out: '',
      err: `Unrecognized option: '-z'. ('${name} -h' for help.)\n`,
    });
    assert.deepEqual(await run(main, ['-w']), {
      code: 1,
      out: '',
      err: `Option '-w' requires an argument. ('${name} -h' for help.)\n`,
    });
  }
  // cainfo and caput have no -e
  assert.equal(
    (await run(cainfoMain, ['-e', '3', 'pv'])).err,
    "Unrecognized option: '-e'. ('cainfo -h' for help.)\n",
  );
  assert.equal(
    (await run(caputMain, ['-e', '3', 'pv'])).err,
    "Unrecognized option: '-e'. ('caput -h' for help.)\n",
  );
});

test('invalid option values warn and are ignored; no PV name ends with exit 1', async () => {
  const r = await run(cagetMain, ['-#', 'abc', '-w', 'x', '-p', 'y', '-e', '99', '-f', 'z', '-l', 'q']);
  assert.equal(r.code, 1);
  assert.equal(
    r.err,
    "'abc' is not a valid array element count - ignored. ('caget -h' for help.)\n" +
      "'x' is not a valid timeout value - ignored, using '1.0'. ('caget -h' for help.)\n" +
      "'y' is not a valid CA priority - ignored. ('caget -h' for help.)\n" +
      "Precision 99 for option '-e' out of range - ignored.\n" +
      "Invalid precision argument 'z' for option '-f' - ignored.\n" +
      "Invalid argument 'q' for option '-l' - ignored.\n" +
      "No pv name specified. ('caget -h' for help.)\n",
  );
  const m = await run(camonitorMain, ['-#', 'x', '-0', 'q', '-w', '2', '-n', '-s', '-S']);
  assert.equal(
    m.err,
    "'x' is not a valid array element count - ignored. ('camonitor -h' for help.)\n" +
      "Invalid argument 'q' for option '-0' - ignored.\n" +
      "No pv name specified. ('camonitor -h' for help.)\n",
  );
  const p = await run(caputMain, ['-#', 'z']);
  assert.equal(
    p.err,
    "'z' is not a valid array element count - ignored. ('caput -h' for help.)\n" +
      "No pv name specified. ('caput -h' for help.)\n",
  );
  assert.equal((await run(caputMain, ['pv'])).err, "No value specified. ('caput -h' for help.)\n");
  const e = await run(cagetMain, [], { EPICS_CLI_TIMEOUT: 'soon' });
  assert.equal(
    e.err,
    "'soon' is not a valid timeout value (from 'EPICS_CLI_TIMEOUT' in the environment) - ignored. (use '-h' for help.)\n" +
      "No pv name specified. ('caget -h' for help.)\n",
  );
});
