/**
 * Details of EPICS base 7.0.8's catools found by running them side by side with tsepics (see
 * test/fixtures/conformance/): escapes as epicsStrnRawFromEscaped decodes them, the DBR type names
 * libca's dbr_text[] knows, libca's timeouts below its significant delay, and camonitor's ignored
 * subscription status.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cagetMain, parseDbrTypeArg } from '../../src/cli/caget.js';
import { epicsStringFromArg } from '../../src/cli/caput.js';
import { CaToolBackend, maxArrayBytesNotice, timesOutAtOnce } from '../../src/cli/catools-ca.js';
import type { ToolBackend, ToolChannel, ToolIO } from '../../src/cli/catools-backend.js';
import { dbrTextToType, unescapeToBytes } from '../../src/cli/format.js';

const bytes = (s: string): number[] => [...unescapeToBytes(s)];

test('epicsStrnRawFromEscaped: the C escapes, \\0 and \\x', () => {
  assert.deepEqual(bytes('a\\tb\\n\\r\\a\\b\\f\\v'), [97, 9, 98, 10, 13, 7, 8, 12, 11]);
  assert.deepEqual(bytes('\\\\\\\'\\"'), [92, 39, 34]);
  assert.deepEqual(bytes('A\\x41\\x4a\\x4Az'), [65, 65, 74, 74, 122]);
  assert.deepEqual(bytes('\\x4'), [4]);
  assert.deepEqual(bytes('\\x4g'), [4, 103]);
  assert.deepEqual(bytes('a\\0b'), [97, 0, 98]);
});

test('epicsStrnRawFromEscaped: no octal escapes beyond \\0 (\\101 is "101")', () => {
  assert.deepEqual(bytes('\\101'), [49, 48, 49]);
  assert.deepEqual(bytes('\\012'), [0, 49, 50]);
  assert.deepEqual(bytes('\\7\\9\\q'), [55, 57, 113]);
});

test('epicsStrnRawFromEscaped: a \\x without hex digit is dropped, trailing \\ or \\x ends the text', () => {
  assert.deepEqual(bytes('a\\xZb'), [97, 90, 98]);
  assert.deepEqual(bytes('a\\x\\tb'), [97, 9, 98]);
  assert.deepEqual(bytes('ab\\'), [97, 98]);
  assert.deepEqual(bytes('ab\\x'), [97, 98]);
  assert.deepEqual(bytes(''), []);
});

test('caput string values: escapes decoded, cut at a NUL and at 39 bytes', () => {
  assert.equal(epicsStringFromArg('x\\101'), 'x101');
  assert.equal(epicsStringFromArg('ab\\0cd'), 'ab');
  assert.equal(epicsStringFromArg('y'.repeat(45)), 'y'.repeat(39));
});

test('-d: only the names of libca dbr_text[] (no DBR_INT aliases), with or without DBR_', () => {
  for (const name of ['DBR_INT', 'DBR_STS_INT', 'DBR_TIME_INT', 'DBR_GR_INT', 'DBR_CTRL_INT']) {
    assert.equal(dbrTextToType(name), -1, name);
    assert.equal(parseDbrTypeArg(name), -1, name);
    assert.equal(parseDbrTypeArg(name.slice(4)), -1, name);
  }
  assert.equal(parseDbrTypeArg('DBR_TIME_SHORT'), 15);
  assert.equal(parseDbrTypeArg('CTRL_SHORT'), 29);
  assert.equal(dbrTextToType('DBR_CLASS_NAME'), 38);
});

test('timeouts: 0 waits forever, below 1 us (negative too) gives up at once', () => {
  assert.equal(timesOutAtOnce(0), false);
  assert.equal(timesOutAtOnce(1), false);
  assert.equal(timesOutAtOnce(1e-6), false);
  assert.equal(timesOutAtOnce(1e-7), true);
  assert.equal(timesOutAtOnce(-1), true);
  assert.equal(timesOutAtOnce(Number.NaN), true);
});

test('a subscription the client refuses (e.g. mask 0) is no update and no exception', async () => {
  const backend = new CaToolBackend(
    { EPICS_CA_ADDR_LIST: '127.0.0.1', EPICS_CA_AUTO_ADDR_LIST: 'NO' },
    () => {
      throw new Error('no exception expected');
    },
    { repeater: false },
  );
  try {
    let subscribed = false;
    const refusing = {
      ch: {
        subscribe(): never {
          subscribed = true;
          throw new Error('invalid event mask 0');
        },
      },
    } as unknown as ToolChannel;
    const calls: number[] = [];
    const sub = backend.subscribe(refusing, 20, 1, 0, (status) => calls.push(status));
    assert.equal(subscribed, true);
    sub.clear();
    assert.deepEqual(calls, []);
  } finally {
    await backend.close();
  }
});

test('EPICS_CA_MAX_ARRAY_BYTES: libca warns below 16384 - 24 and for anything but a number >= 0', () => {
  const rounded = 'cac: EPICS_CA_MAX_ARRAY_BYTES was rounded up to 16384\n';
  const notPositive = 'cac: EPICS_CA_MAX_ARRAY_BYTES was not a positive integer\n';
  assert.equal(maxArrayBytesNotice(undefined), '');
  assert.equal(maxArrayBytesNotice('16360'), '');
  assert.equal(maxArrayBytesNotice('100000000'), '');
  assert.equal(maxArrayBytesNotice('4294967295'), '');
  assert.equal(maxArrayBytesNotice('16359'), rounded);
  assert.equal(maxArrayBytesNotice(' 100x'), rounded);
  assert.equal(maxArrayBytesNotice('+200'), rounded);
  assert.equal(maxArrayBytesNotice('4294967296'), rounded); // (unsigned) of the long: 0
  assert.equal(maxArrayBytesNotice('-5'), notPositive);
  assert.equal(maxArrayBytesNotice(''), notPositive);
  assert.equal(
    maxArrayBytesNotice('abc'),
    'Unable to find an integer in EPICS_CA_MAX_ARRAY_BYTES=abc\n' + notPositive,
  );
});

test('caget opens one backend (one CA context) and closes it', async () => {
  let opened = 0;
  let closed = 0;
  const ch: ToolChannel = {
    name: 'X:a',
    state: 'connected',
    nativeType: 6,
    elementCount: 1,
    host: 'h:1',
    readAccess: true,
    writeAccess: true,
  };
  const backend = {
    connect: () => Promise.resolve([ch]),
    get: () =>
      Promise.resolve({
        status: 1,
        reply: { dbrType: 20, count: 1, data: { value: Float64Array.of(2.5), status: 0, severity: 0 } },
      }),
    onException: () => undefined,
    close: () => {
      closed++;
      return Promise.resolve();
    },
  } as unknown as ToolBackend;
  let out = '';
  const io: ToolIO = {
    stdout: (s) => (out += s),
    stderr: (s) => assert.fail(s),
    env: {},
    backend: () => {
      opened++;
      return backend;
    },
  };
  assert.equal(await cagetMain(['X:a'], io), 0);
  assert.equal(out, 'X:a                            2.5\n');
  assert.equal(opened, 1);
  assert.equal(closed, 1);
});
