/**
 * Unit tests of the catools formatting (C printf semantics, escapes, time stamps, wide lines and
 * camonitor time modes, -d blocks) and of the getopt parser.
 */
process.env.TZ = 'UTC';

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ECA } from '../../src/protocol/constants.js';
import {
  StampTracker,
  cainfoBlock,
  dbrBlock,
  dbrTextToType,
  defaultToolFormat,
  escapeBytes,
  escapeString,
  formatExp,
  formatFixed,
  formatGeneral,
  formatLong,
  formatStamp,
  parseTimeOption,
  plainLine,
  unescapeToBytes,
  val2str,
  wideLine,
} from '../../src/cli/format.js';
import type { DbrReply } from '../../src/cli/format.js';
import { getopt, scanDouble, scanInt, strtod } from '../../src/cli/getopt.js';
import { parseDbrTypeArg } from '../../src/cli/caget.js';
import { parseMask } from '../../src/cli/camonitor.js';
import { epicsStringFromArg } from '../../src/cli/caput.js';

test('%g as C prints it', () => {
  const cases: [number, string][] = [
    [0, '0'],
    [-0, '-0'],
    [21.5, '21.5'],
    [9007199254740992, '9.0072e+15'],
    [-400000, '-400000'],
    [1e6, '1e+06'],
    [123456.7, '123457'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1234.125, '1234.12'], // exact tie: half to even (JS toPrecision gives 1234.13)
    [1234.375, '1234.38'],
    [NaN, 'nan'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
    [2.5, '2.5'],
    [100, '100'],
    [1e100, '1e+100'],
  ];
  for (const [x, s] of cases) assert.equal(formatGeneral(x), s, `%g of ${x}`);
  assert.equal(formatGeneral(0.125, 2), '0.12');
  assert.equal(formatGeneral(2.5, 1), '2');
  assert.equal(formatGeneral(3.5, 1), '4');
  assert.equal(formatGeneral(123456, 3), '1.23e+05');
  assert.equal(formatGeneral(0.1, 17), '0.10000000000000001');
});

test('%f and %e as C prints them', () => {
  assert.equal(formatFixed(21.5, 3), '21.500');
  assert.equal(formatFixed(2.5, 0), '2');
  assert.equal(formatFixed(0.5, 0), '0');
  assert.equal(formatFixed(1.5, 0), '2');
  assert.equal(formatFixed(0.125, 2), '0.12');
  assert.equal(formatFixed(0.005, 2), '0.01'); // 0.005 is slightly above 5e-3 as a double
  assert.equal(formatFixed(1e22, 1), '10000000000000000000000.0');
  assert.equal(formatFixed(1e-7, 3), '0.000');
  assert.equal(formatFixed(-1e-7, 3), '-0.000');
  assert.equal(formatFixed(0.1, 20), '0.10000000000000000555');
  assert.equal(formatExp(21.5, 2), '2.15e+01');
  assert.equal(formatExp(0, 3), '0.000e+00');
  assert.equal(formatExp(1e-300, 1), '1.0e-300');
  assert.equal(formatExp(5e-324, 3), '4.941e-324');
});

test('integers in the -0x/-0o/-0b and -lx forms', () => {
  assert.equal(formatLong(0, 'hex'), '0x0');
  assert.equal(formatLong(0, 'oct'), '0o0');
  assert.equal(formatLong(0, 'bin'), '0');
  assert.equal(formatLong(123456, 'hex'), '0x1E240');
  assert.equal(formatLong(5, 'bin'), '101');
  assert.equal(formatLong(-1, 'hex'), '0xFFFFFFFF');
  const f = { ...defaultToolFormat(), outTypeF: 'hex' as const };
  const r: DbrReply = { dbrType: 6, count: 2, data: { value: Float64Array.of(21.5, -2.5) } };
  assert.equal(val2str(r, 0, f), '0x16');
  assert.equal(val2str(r, 1, f), '0xFFFFFFFD');
});

test('CHAR values print as signed chars; enums by state or number', () => {
  const f = defaultToolFormat();
  assert.equal(val2str({ dbrType: 4, count: 1, data: { value: Uint8Array.of(200) } }, 0, f), '-56');
  const gr: DbrReply = { dbrType: 24, count: 1, data: { value: Uint16Array.of(1), enumStrs: ['Off', 'On'] } };
  assert.equal(val2str(gr, 0, f), 'On');
  assert.equal(
    val2str({ ...gr, data: { ...gr.data, value: Uint16Array.of(5) } }, 0, f),
    'Enum Index Overflow (5)',
  );
  assert.equal(
    val2str({ ...gr, data: { ...gr.data, value: Uint16Array.of(16) } }, 0, f),
    'Illegal Value (16)',
  );
  assert.equal(val2str(gr, 0, { ...f, enumAsNr: true }), '1');
});

test('string escaping both ways', () => {
  assert.equal(escapeString('plain text'), 'plain text');
  assert.equal(escapeString('a\tb\n"q"\\'), 'a\\tb\\n\\"q\\"\\\\');
  assert.equal(escapeBytes(Uint8Array.of(0xc8, 0x41, 0x0a)), '\\xc8A\\n');
  assert.equal(escapeString('é'), '\\xc3\\xa9');
  // base's epicsStrnRawFromEscaped has no octal escapes (only a NUL escape): a backslash-101 is '1' '0' '1'
  assert.deepEqual([...unescapeToBytes('A\\x41\\n\\101\\\\\\q')], [65, 65, 10, 49, 48, 49, 92, 113]);
  assert.equal(epicsStringFromArg('x'.repeat(50)), 'x'.repeat(39));
  assert.equal(epicsStringFromArg('a\\tb'), 'a\tb');
});

test('time stamps: EPICS epoch, microseconds, <undefined>', () => {
  assert.equal(formatStamp({ secPastEpoch: 1164450847, nsec: 861430502 }), '2026-11-25 10:34:07.861431');
  assert.equal(formatStamp({ secPastEpoch: 0, nsec: 0 }), '<undefined>');
  assert.equal(formatStamp({ secPastEpoch: 1, nsec: 999999999 }), '1990-01-01 00:00:01.999999');
});

const t0 = { secPastEpoch: 1164450951, nsec: 255700000 };
const t1 = { secPastEpoch: 1164450951, nsec: 355625000 };
const reply = (v: number, stamp = t0, status = 0, severity = 0): DbrReply => ({
  dbrType: 20,
  count: 1,
  data: { value: Float64Array.of(v), stamp, status, severity },
});

test('wide lines: padding, two trailing separators, alarms, arrays, -F', () => {
  const f = defaultToolFormat();
  const tr = new StampTracker();
  const ch = { name: 'T:cnt', onceConnected: true };
  assert.equal(
    wideLine(ch, ECA.NORMAL, reply(718), 0, f, tr),
    'T:cnt                          2026-11-25 10:35:51.255700 718  \n',
  );
  assert.equal(
    wideLine({ name: 'T:ai', onceConnected: true }, ECA.NORMAL, reply(95, t0, 3, 2), 0, f, tr),
    'T:ai                           2026-11-25 10:35:51.255700 95 HIHI MAJOR\n',
  );
  const wf: DbrReply = {
    dbrType: 20,
    count: 4,
    data: { value: Float64Array.of(1.5, 2.5, 3.5, -4e5), stamp: t0, status: 0, severity: 0 },
  };
  assert.equal(
    wideLine({ name: 'T:wf', onceConnected: true }, ECA.NORMAL, wf, 0, f, tr),
    'T:wf 2026-11-25 10:35:51.255700 4 1.5 2.5 3.5 -400000  \n',
  );
  assert.equal(
    wideLine({ name: 'T:wf', onceConnected: true }, ECA.NORMAL, wf, 0, { ...f, sep: ',' }, tr),
    'T:wf,2026-11-25 10:35:51.255700,4,1.5,2.5,3.5,-400000,,\n',
  );
  assert.equal(
    wideLine({ name: 'T:missing', onceConnected: false }, ECA.NORMAL, undefined, 0, f, tr),
    'T:missing                      *** Not connected (PV not found)\n',
  );
  assert.equal(
    wideLine({ name: 'T:ai', onceConnected: true }, ECA.DISCONN, undefined, 0, f, tr, t1),
    'T:ai                           2026-11-25 10:35:51.355625 *** disconnected\n',
  );
});

test('camonitor -t modes: s i, n, c I', () => {
  const f = defaultToolFormat();
  const si = new StampTracker(parseTimeOption('si', () => undefined));
  const ch = { name: 'T:cnt', onceConnected: true };
  assert.equal(
    wideLine(ch, ECA.NORMAL, reply(718, t0), 0, f, si),
    'T:cnt                          2026-11-25 10:35:51.255700 718  \n',
  );
  assert.equal(
    wideLine(ch, ECA.NORMAL, reply(719, t1), 0, f, si),
    'T:cnt                                           +0.099925 719  \n',
  );
  const n = new StampTracker(parseTimeOption('n', () => undefined));
  assert.equal(wideLine({ ...ch }, ECA.NORMAL, reply(708), 0, f, n), 'T:cnt' + ' '.repeat(26) + ' 708  \n');
  const cI = new StampTracker(parseTimeOption('cI', () => undefined));
  const c2 = { name: 'T:cnt', onceConnected: true };
  const c0 = { secPastEpoch: 1164450951, nsec: 671931000 };
  const c1 = { secPastEpoch: 1164450951, nsec: 755815000 };
  assert.equal(
    wideLine(c2, ECA.NORMAL, reply(722), 0, f, cI, c0),
    'T:cnt                          (2026-11-25 10:35:51.671931) 722  \n',
  );
  assert.equal(
    wideLine(c2, ECA.NORMAL, reply(723), 0, f, cI, c1),
    'T:cnt                                        (   +0.083884) 723  \n',
  );
  const warnings: string[] = [];
  parseTimeOption('sx', (w) => warnings.push(w));
  assert.deepEqual(warnings, ["Invalid argument 'x' for option '-t' - ignored.\n"]);
});

test('plain lines: -# count, empty current length, terse', () => {
  const f = defaultToolFormat();
  assert.equal(
    plainLine('T:ai', ECA.NORMAL, reply(21.5), 1, 1, f),
    'T:ai                           1 21.5\n',
  );
  const empty: DbrReply = { dbrType: 20, count: 0, data: { value: new Float64Array(0) } };
  assert.equal(plainLine('T:aai', ECA.NORMAL, empty, 0, 0, f), 'T:aai' + ' '.repeat(26) + '\n');
  assert.equal(plainLine('T:ai', ECA.NORMAL, reply(21.5), 1, 0, f, true), '21.5\n');
  assert.equal(
    plainLine('T:ai', ECA.NORDACCESS, undefined, 1, 0, f),
    'T:ai                           *** no read access\n',
  );
  assert.equal(
    plainLine('T:ai', ECA.GETFAIL, undefined, 1, 0, f),
    'T:ai                           *** CA error Channel read request failed\n',
  );
});

test('-d blocks: integer limits, nan limits, class name', () => {
  const f = defaultToolFormat();
  const li: DbrReply = {
    dbrType: 33,
    count: 1,
    data: {
      value: Int32Array.of(7),
      status: 0,
      severity: 0,
      units: 'x',
      lowerDispLimit: 0,
      upperDispLimit: 1000000,
      lowerAlarmLimit: 0,
      lowerWarningLimit: 0,
      upperWarningLimit: 0,
      upperAlarmLimit: 0,
      lowerCtrlLimit: -5,
      upperCtrlLimit: 5,
    },
  };
  const s = dbrBlock('T:li', 5, ECA.NORMAL, li, 0, f);
  assert.match(s, /\n {4}Hi disp limit: {5}1000000\n/);
  assert.match(s, /\n {4}Lo ctrl limit: {10}-5\n/);
  const cls: DbrReply = { dbrType: 38, count: 1, data: { value: ['ai'] } };
  assert.equal(
    dbrBlock('T:ai', 6, ECA.NORMAL, cls, 0, f),
    'T:ai\n    Native data type: DBF_DOUBLE\n    Request type:     DBR_CLASS_NAME\n    Class Name:       ai\n',
  );
  assert.equal(dbrBlock('T:ai', 6, ECA.NORDACCESS, undefined, 0, f), 'T:ai\n    *** no read access\n');
});

test('cainfo block', () => {
  assert.equal(
    cainfoBlock({
      name: 'X',
      state: 'connected',
      host: 'h:1',
      readAccess: true,
      writeAccess: false,
      nativeType: 3,
      elementCount: 1,
    }),
    'X\n    State:            connected\n    Host:             h:1\n    Access:           read, no write\n    Native data type: DBF_ENUM\n    Request type:     DBR_ENUM\n    Element count:    1\n',
  );
});

test('DBR type names for -d', () => {
  assert.equal(parseDbrTypeArg('DBR_CTRL_DOUBLE'), 34);
  assert.equal(parseDbrTypeArg('CTRL_DOUBLE'), 34);
  // C caget lists the *_INT names in its help but rejects them
  assert.equal(parseDbrTypeArg('DBR_TIME_INT'), -1);
  assert.equal(parseDbrTypeArg('5'), 5);
  assert.equal(parseDbrTypeArg('bogus'), -1);
  assert.equal(dbrTextToType('DBR_STSACK_STRING'), 37);
});

test('camonitor -m masks', () => {
  assert.equal(
    parseMask('va', () => undefined),
    5,
  );
  assert.equal(
    parseMask('vlap', () => undefined),
    15,
  );
  const w: string[] = [];
  assert.equal(
    parseMask('vz', (s) => w.push(s)),
    5,
  );
  assert.equal(w.length, 1);
});

test('getopt: clusters, attached and separate arguments, permutation, errors', () => {
  const spec = ':taicnhsSVe:f:g:l:#:d:0:w:p:F:';
  const r = getopt(
    ['-ta', '-w2', '-w', '3', '-0x', '-lb', '-#3', '-F,', 'PV1', '-n', 'PV2', '--', '-x'],
    spec,
    { permute: true },
  );
  assert.deepEqual(
    r.options.map((o) => o.opt + (o.arg ?? '')),
    ['t', 'a', 'w2', 'w3', '0x', 'lb', '#3', 'F,', 'n'],
  );
  assert.deepEqual(r.operands, ['PV1', 'PV2', '-x']);
  const posix = getopt(['-c', 'PV', '-5', '-w', '1'], ':cnlhatsVS#:w:p:F:', { permute: false });
  assert.deepEqual(posix.operands, ['PV', '-5', '-w', '1']);
  assert.deepEqual(getopt(['-z'], spec).options, [{ opt: '?', optopt: 'z' }]);
  assert.deepEqual(getopt(['-w'], spec).options, [{ opt: ':', optopt: 'w' }]);
  assert.deepEqual(getopt(['-'], spec).operands, ['-']);
});

test('C number scanning', () => {
  assert.equal(scanInt(' 42abc'), 42);
  assert.equal(scanInt('x'), undefined);
  assert.equal(scanDouble('0.5'), 0.5);
  assert.equal(scanDouble('abc'), undefined);
  assert.deepEqual(strtod('1e2x'), { value: 100, end: 3 });
  assert.deepEqual(strtod('0x10'), { value: 16, end: 4 });
  assert.deepEqual(strtod('-inf'), { value: -Infinity, end: 4 });
  assert.equal(strtod('7abc').end, 1);
});
