/** The channel's put request encoding (put-request.ts) against the generic message encoder. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command, ECA } from '../../src/protocol/constants.js';
import { encodeDbr } from '../../src/protocol/dbr.js';
import { encodeMessage } from '../../src/protocol/header.js';
import type { NativeArray } from '../../src/protocol/values.js';
import { checkPutValue, encodePutRequest, setPutIoid } from '../../src/client/put-request.js';
import { CaError } from '../../src/client/errors.js';

function reference(command: number, dbrType: number, value: NativeArray, sid: number, p2: number): Buffer {
  const count = value.length;
  const body = encodeDbr(dbrType, count, { value }, { shortString: true });
  return encodeMessage(
    { command, dataType: dbrType, dataCount: count, parameter1: sid, parameter2: p2 },
    body,
  );
}

const CASES: Array<[string, number, NativeArray]> = [
  ['one double', 6, Float64Array.of(1.5)],
  ['one short (padded)', 1, Int16Array.of(-3)],
  ['three floats (padded)', 2, Float32Array.of(1, 2, 3)],
  ['a short string', 0, ['abc']],
  ['two strings', 0, ['a', 'bcd']],
  ['an enum', 3, Uint16Array.of(2)],
  ['chars', 4, Uint8Array.of(1, 2, 3, 4, 5)],
  ['longs', 5, Int32Array.of(-1, 7)],
  ['PUT_ACKS', 36, Uint16Array.of(1)],
  ['an empty array', 6, new Float64Array(0)],
  ['70,000 shorts (extended header)', 1, new Int16Array(70_000).map((_, i) => i)],
];

for (const [name, type, value] of CASES) {
  test(`WRITE and WRITE_NOTIFY bytes: ${name}`, () => {
    const w = encodePutRequest(Command.WRITE, type, value.length, value, 0x01020304, 77);
    assert.deepEqual(w, reference(Command.WRITE, type, value, 0x01020304, 77));
    const n = encodePutRequest(Command.WRITE_NOTIFY, type, value.length, value, 9, 0);
    setPutIoid(n, 0x7ffffffe);
    assert.deepEqual(n, reference(Command.WRITE_NOTIFY, type, value, 9, 0x7ffffffe));
  });
}

test('a count below the array length sends the first elements', () => {
  const v = Float64Array.of(1, 2, 3, 4);
  const b = encodePutRequest(Command.WRITE, 6, 2, v, 1, 2);
  assert.deepEqual(b, reference(Command.WRITE, 6, Float64Array.of(1, 2), 1, 2));
});

test('checkPutValue: DBR types that cannot be put, and arrays of another type', () => {
  const bad = (v: NativeArray, t: number, msg: RegExp): void => {
    assert.throws(
      () => checkPutValue(v, t, 'P:x'),
      (e: unknown) =>
        e instanceof CaError && e.eca === ECA.BADTYPE && e.pvname === 'P:x' && msg.test(e.message),
    );
  };
  bad(Float64Array.of(1), 7, /^invalid DBR type 7 for a put \(0-6, 35, 36\)$/);
  bad(Float64Array.of(1), 1.5, /invalid DBR type 1.5/);
  bad(Float64Array.of(1), undefined as unknown as number, /invalid DBR type undefined/);
  bad(Float64Array.of(1), 5, /^value does not match DBR type 5$/);
  bad(['x'], 6, /does not match/);
  bad(Int16Array.of(1), 0, /does not match/);
  bad(null as unknown as NativeArray, 6, /does not match/);
  for (const [t, v] of [
    [0, ['s']],
    [1, Int16Array.of(1)],
    [2, Float32Array.of(1)],
    [3, Uint16Array.of(1)],
    [4, Uint8Array.of(1)],
    [5, Int32Array.of(1)],
    [6, Float64Array.of(1)],
    [35, Uint16Array.of(1)],
    [36, Uint16Array.of(1)],
  ] as Array<[number, NativeArray]>) {
    assert.doesNotThrow(() => checkPutValue(v, t, 'P:x'));
  }
});
