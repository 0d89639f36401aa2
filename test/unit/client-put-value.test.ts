// JS value → NativeArray conversion for puts (pyepics rules).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseNumberString, toNativeArray } from '../../src/client/put-value.js';
import { CaError } from '../../src/client/errors.js';
import { DBR, ECA } from '../../src/protocol/constants.js';
import { nativeType, promoteFieldType } from '../../src/client/ca.js';

describe('toNativeArray', () => {
  it('numbers to numeric types, with wrap and truncation like pyepics', () => {
    assert.deepEqual(toNativeArray(2.5, 6), { dbrType: DBR.DOUBLE, value: Float64Array.of(2.5) });
    assert.deepEqual(toNativeArray(70000, 1), { dbrType: DBR.SHORT, value: Int16Array.of(4464) });
    assert.deepEqual(toNativeArray(7.9, 5), { dbrType: DBR.LONG, value: Int32Array.of(7) });
    assert.deepEqual(toNativeArray(true, 5), { dbrType: DBR.LONG, value: Int32Array.of(1) });
  });

  it('numbers to a STRING channel become String()', () => {
    assert.deepEqual(toNativeArray(1.5, 0), { dbrType: DBR.STRING, value: ['1.5'] });
    assert.deepEqual(toNativeArray(['a', 2, 'b'], 0), { dbrType: DBR.STRING, value: ['a', '2', 'b'] });
  });

  it('strings to numbers: int(v, 0) for integers, float for floats; junk is a CaError', () => {
    assert.deepEqual(toNativeArray('0x10', 5).value, Int32Array.of(16));
    assert.deepEqual(toNativeArray(' 12 ', 1).value, Int16Array.of(12));
    assert.deepEqual(toNativeArray('1e3', 6).value, Float64Array.of(1000));
    assert.throws(
      () => toNativeArray('abc', 6),
      (e: unknown) => e instanceof CaError && e.eca === ECA.BADSTR,
    );
    assert.throws(() => toNativeArray('', 5), CaError);
    assert.equal(parseNumberString('-0b101', true), -5);
  });

  it('string to ENUM: state index, numeric index, else DBR_STRING', () => {
    const enumStrs = ['Off', 'On'];
    assert.deepEqual(toNativeArray('On', 3, { enumStrs }), { dbrType: DBR.ENUM, value: Uint16Array.of(1) });
    assert.deepEqual(toNativeArray('1', 3, { enumStrs }), { dbrType: DBR.ENUM, value: Uint16Array.of(1) });
    assert.deepEqual(toNativeArray('Maybe', 3, { enumStrs }), { dbrType: DBR.STRING, value: ['Maybe'] });
    assert.deepEqual(toNativeArray(['Off', 'On'], 3, { enumStrs }), {
      dbrType: DBR.ENUM,
      value: Uint16Array.of(0, 1),
    });
  });

  it('string to a CHAR array: UTF-8 bytes + NUL, capped at the element count', () => {
    const r = toNativeArray('hello', 4, { elementCount: 64 });
    assert.equal(r.dbrType, DBR.CHAR);
    assert.deepEqual([...(r.value as Uint8Array)], [104, 101, 108, 108, 111, 0]);
    assert.equal(toNativeArray('hello', 4, { elementCount: 3 }).value.length, 3);
  });

  it('typed arrays are sent as they are; arrays are capped; empty arrays write elementCount zeros', () => {
    const f = new Float32Array([1, 2, 3]);
    assert.equal(toNativeArray(f, 6).value, f);
    assert.equal(toNativeArray(f, 6).dbrType, DBR.FLOAT);
    assert.deepEqual(toNativeArray(new Int8Array([-1, 2]), 6), {
      dbrType: DBR.SHORT,
      value: Int16Array.of(-1, 2),
    });
    assert.deepEqual(toNativeArray([1, 2, 3, 4], 6, { elementCount: 2 }).value, Float64Array.of(1, 2));
    assert.deepEqual(toNativeArray([], 5, { elementCount: 3 }).value, new Int32Array(3));
    assert.throws(() => toNativeArray([], 5), CaError);
    assert.deepEqual(toNativeArray(Buffer.from([1, 2]), 4).value, Uint8Array.of(1, 2));
  });

  it('strings that do not fit a DBR_STRING are refused; bad values give typed errors', () => {
    assert.throws(
      () => toNativeArray('x'.repeat(40), 0),
      (e: unknown) => e instanceof CaError && e.eca === ECA.BADSTR,
    );
    assert.deepEqual(toNativeArray('x'.repeat(39), 0).value, ['x'.repeat(39)]);
    assert.throws(() => toNativeArray(null, 6), CaError);
    assert.throws(() => toNativeArray({}, 6), CaError);
    assert.throws(() => toNativeArray(1, 9 as never), CaError);
  });
});

describe('ca type helpers', () => {
  it('promote and native types', () => {
    assert.equal(promoteFieldType(6, { useTime: true }), DBR.TIME_DOUBLE);
    assert.equal(promoteFieldType(6, { useCtrl: true }), DBR.CTRL_DOUBLE);
    assert.equal(promoteFieldType(0, { useCtrl: true }), DBR.TIME_STRING);
    assert.equal(nativeType(28), 0);
    assert.equal(nativeType(20), 6);
  });
});
