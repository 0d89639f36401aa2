/**
 * DBR codec tests: every type 0..38 against byte layouts written out here from ca-protocol.md §7
 * (an independent description of the structs), sizes, round trips, short strings and bad input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  dbrElementSize,
  dbrFamily,
  dbrMetaSize,
  dbrPlainType,
  dbrSize,
  dbrValueType,
  decodeDbr,
  decodePlainInPlace,
  encodeDbr,
  encodeDbrInto,
  encodeShortString,
  encodedDbrSize,
  isValidDbrType,
} from '../../src/protocol/dbr.js';
import { ProtocolError } from '../../src/protocol/header.js';
import type { DbrData, NativeArray } from '../../src/protocol/values.js';
import type { NativeType } from '../../src/protocol/constants.js';

// Sizes for count 1, value offsets and element sizes as listed in ca-protocol.md §7.
const SIZE1 = [
  40, 2, 4, 2, 1, 4, 8, 44, 6, 8, 6, 6, 8, 16, 52, 16, 16, 16, 16, 16, 24, 44, 26, 44, 424, 20, 40, 72, 44,
  30, 52, 424, 22, 48, 88, 2, 2, 48, 40,
];
const OFFSET = [
  0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 5, 4, 8, 12, 14, 12, 14, 15, 12, 16, 4, 24, 40, 422, 19, 36, 64, 4, 28, 48,
  422, 21, 44, 80, 0, 0, 8, 0,
];
const ELEM = [40, 2, 4, 2, 1, 4, 8];

function arr(v: NativeArray): unknown[] {
  return Array.isArray(v) ? v : Array.from(v as ArrayLike<number>);
}

test('sizes, offsets, value types and families of all 39 types', () => {
  for (let t = 0; t <= 38; t++) {
    assert.equal(isValidDbrType(t), true);
    assert.equal(dbrMetaSize(t), OFFSET[t], `offset of ${t}`);
    assert.equal(dbrSize(t, 1), SIZE1[t], `size of ${t}`);
    assert.equal(dbrSize(t, 0), SIZE1[t] - dbrElementSize(t), `count-0 size of ${t}`);
    const vt = t <= 34 ? t % 7 : t <= 36 ? 3 : 0;
    assert.equal(dbrValueType(t), vt);
    assert.equal(dbrElementSize(t), ELEM[vt]);
    assert.equal(dbrSize(t, 5), OFFSET[t] + 5 * ELEM[vt]);
    if (t <= 34) {
      assert.equal(dbrFamily(t), Math.floor(t / 7));
      assert.equal(dbrPlainType((t % 7) as NativeType, Math.floor(t / 7) as 0 | 1 | 2 | 3 | 4), t);
    } else {
      assert.equal(dbrFamily(t), undefined);
    }
  }
  assert.equal(dbrSize(20, 0), 16); // TIME_DOUBLE metadata only
  for (const bad of [-1, 39, 1.5, NaN, 65535]) {
    assert.equal(isValidDbrType(bad), false);
    assert.throws(() => dbrSize(bad, 1), ProtocolError);
    assert.throws(() => encodeDbr(bad, 1, { value: [] }), ProtocolError);
    assert.throws(() => decodeDbr(bad, 1, new Uint8Array(100)), ProtocolError);
  }
});

// ---------------------------------------------------------------------------------------------
// Reference layouts (from the §7 struct table), used to build the expected bytes independently.

type Kind = 'i16' | 'u16' | 'u32' | 'i32' | 'u8' | 'f32' | 'f64' | 'units' | 'enumstrs';
type Field = [offset: number, kind: Kind, get: (d: DbrData) => unknown];

const LIM = [
  (d: DbrData) => d.upperDispLimit,
  (d: DbrData) => d.lowerDispLimit,
  (d: DbrData) => d.upperAlarmLimit,
  (d: DbrData) => d.upperWarningLimit,
  (d: DbrData) => d.lowerWarningLimit,
  (d: DbrData) => d.lowerAlarmLimit,
  (d: DbrData) => d.upperCtrlLimit,
  (d: DbrData) => d.lowerCtrlLimit,
];

function layout(t: number): Field[] {
  const f: Field[] = [];
  if (t === 35 || t === 36 || t === 38 || t <= 6) return f;
  f.push([0, 'i16', (d) => d.status], [2, 'i16', (d) => d.severity]);
  if (t === 37) {
    f.push([4, 'u16', (d) => d.ackt], [6, 'u16', (d) => d.acks]);
    return f;
  }
  const fam = Math.floor(t / 7);
  const nt = t % 7;
  if (fam === 2) f.push([4, 'u32', (d) => d.stamp?.secPastEpoch], [8, 'u32', (d) => d.stamp?.nsec]);
  if (fam >= 3 && nt !== 0) {
    const ctrl = fam === 4;
    const n = ctrl ? 8 : 6;
    switch (nt) {
      case 1: // SHORT: units @4, i16 limits @12
        f.push([4, 'units', (d) => d.units]);
        for (let i = 0; i < n; i++) f.push([12 + 2 * i, 'i16', LIM[i]]);
        break;
      case 5: // LONG
        f.push([4, 'units', (d) => d.units]);
        for (let i = 0; i < n; i++) f.push([12 + 4 * i, 'i32', LIM[i]]);
        break;
      case 4: // CHAR
        f.push([4, 'units', (d) => d.units]);
        for (let i = 0; i < n; i++) f.push([12 + i, 'u8', LIM[i]]);
        break;
      case 2: // FLOAT
        f.push([4, 'i16', (d) => d.precision], [8, 'units', (d) => d.units]);
        for (let i = 0; i < n; i++) f.push([16 + 4 * i, 'f32', LIM[i]]);
        break;
      case 6: // DOUBLE
        f.push([4, 'i16', (d) => d.precision], [8, 'units', (d) => d.units]);
        for (let i = 0; i < n; i++) f.push([16 + 8 * i, 'f64', LIM[i]]);
        break;
      case 3: // ENUM
        f.push([4, 'enumstrs', (d) => d.enumStrs]);
        break;
    }
  }
  return f;
}

function expectedBytes(t: number, count: number, d: DbrData): Buffer {
  const vt = t <= 34 ? t % 7 : t <= 36 ? 3 : 0;
  const off = OFFSET[t];
  const b = Buffer.alloc(off + count * ELEM[vt]);
  for (const [o, kind, get] of layout(t)) {
    const v = get(d);
    switch (kind) {
      case 'i16':
        b.writeInt16BE(v as number, o);
        break;
      case 'u16':
        b.writeUInt16BE(v as number, o);
        break;
      case 'u32':
        b.writeUInt32BE(v as number, o);
        break;
      case 'i32':
        b.writeInt32BE(v as number, o);
        break;
      case 'u8':
        b.writeUInt8(v as number, o);
        break;
      case 'f32':
        b.writeFloatBE(v as number, o);
        break;
      case 'f64':
        b.writeDoubleBE(v as number, o);
        break;
      case 'units':
        b.write(v as string, o, 'latin1');
        break;
      case 'enumstrs': {
        const s = v as string[];
        b.writeInt16BE(s.length, o);
        s.forEach((x, i) => b.write(x, o + 2 + 26 * i, 'latin1'));
        break;
      }
    }
  }
  const val = d.value;
  for (let i = 0; i < count; i++) {
    const o = off + i * ELEM[vt];
    switch (vt) {
      case 0:
        b.write((val as string[])[i], o, 'latin1');
        break;
      case 1:
        b.writeInt16BE(val[i] as number, o);
        break;
      case 2:
        b.writeFloatBE(val[i] as number, o);
        break;
      case 3:
        b.writeUInt16BE(val[i] as number, o);
        break;
      case 4:
        b.writeUInt8(val[i] as number, o);
        break;
      case 5:
        b.writeInt32BE(val[i] as number, o);
        break;
      case 6:
        b.writeDoubleBE(val[i] as number, o);
        break;
    }
  }
  return b;
}

const VALUES: NativeArray[] = [
  ['hello', 'a string of exactly 39 characters......', ''],
  new Int16Array([1, -2, 32767]),
  new Float32Array([1.5, -2.25, 3e38]),
  new Uint16Array([2, 3, 65535]),
  new Uint8Array([65, 200, 0]),
  new Int32Array([123456, -7, -2147483648]),
  new Float64Array([21.5, -1e300, 5e-324]),
];

function sample(t: number, intLimits: boolean): DbrData {
  const vt = t <= 34 ? t % 7 : t <= 36 ? 3 : 0;
  const lims = intLimits
    ? [100, 0, 90, 80, 10, 5, 95, 15] // fit every integer type (CHAR is unsigned)
    : [100, -20, 90, 80, 0, -10, 95.5, -15.25];
  return {
    value: VALUES[vt],
    status: 3,
    severity: 2,
    stamp: { secPastEpoch: 1164450847, nsec: 861482109 },
    units: 'degC',
    precision: 3,
    enumStrs: ['Idle', 'Acquire', 'Readout', 'Correct'],
    ackt: 1,
    acks: 2,
    upperDispLimit: lims[0],
    lowerDispLimit: lims[1],
    upperAlarmLimit: lims[2],
    upperWarningLimit: lims[3],
    lowerWarningLimit: lims[4],
    lowerAlarmLimit: lims[5],
    upperCtrlLimit: lims[6],
    lowerCtrlLimit: lims[7],
  };
}

test('every DBR type encodes to the exact reference bytes and decodes back', () => {
  for (let t = 0; t <= 38; t++) {
    const nt = t % 7;
    const intLimits = t <= 34 && (nt === 1 || nt === 4 || nt === 5);
    const d = sample(t, intLimits);
    for (const count of [1, 3]) {
      const want = expectedBytes(t, count, d);
      const got = encodeDbr(t, count, d);
      assert.equal(got.toString('hex'), want.toString('hex'), `type ${t} count ${count}`);
      // encodeDbrInto at an odd offset writes the same bytes and returns the size.
      const into = Buffer.alloc(want.length + 3, 0xee);
      assert.equal(encodeDbrInto(into, 3, t, count, d), want.length);
      assert.deepEqual(into.subarray(3), want);
      const back = decodeDbr(t, count, want);
      // Compare against the fields this type carries.
      const vals = Array.isArray(d.value) ? d.value.slice(0, count) : Array.from(d.value.subarray(0, count));
      assert.deepEqual(
        Array.isArray(back.value) ? back.value : Array.from(back.value),
        vals,
        `value of ${t}`,
      );
      assert.equal(back.value.constructor, d.value.constructor);
      for (const [, kind, get] of layout(t)) {
        if (kind === 'enumstrs') assert.deepEqual(back.enumStrs, d.enumStrs);
        else
          assert.equal(
            get(back),
            kind === 'f32' ? Math.fround(get(d) as number) : get(d),
            `type ${t} ${kind}`,
          );
      }
      const carried = new Set(Object.keys(back));
      if (t >= 14 && t <= 20) assert.ok(carried.has('stamp'));
      else assert.ok(!carried.has('stamp'), `type ${t} must not carry a stamp`);
      if (t <= 6 || t === 35 || t === 36 || t === 38) assert.deepEqual([...carried], ['value']);
    }
  }
});

test('a captured DBR_CTRL_DOUBLE (T:ai) decodes and re-encodes exactly', () => {
  const hex =
    '000000000003000064656743000000004059000000000000c034000000000000405680000000000040540000000000000000000000000000c0240000000000004059000000000000c0340000000000004035800000000000';
  const b = Buffer.from(hex, 'hex');
  const d = decodeDbr(34, 1, b);
  assert.equal(d.precision, 3);
  assert.equal(d.units, 'degC');
  assert.deepEqual(
    [
      d.upperDispLimit,
      d.lowerDispLimit,
      d.upperAlarmLimit,
      d.upperWarningLimit,
      d.lowerWarningLimit,
      d.lowerAlarmLimit,
    ],
    [100, -20, 90, 80, 0, -10],
  );
  assert.deepEqual([d.upperCtrlLimit, d.lowerCtrlLimit], [100, -20]);
  assert.deepEqual(arr(d.value), [21.5]);
  assert.equal(encodeDbr(34, 1, d).toString('hex'), hex);
});

test('count is truncated or zero-filled; count 0 gives the metadata only', () => {
  const d: DbrData = { value: new Float64Array([1, 2, 3]), status: 1, severity: 1 };
  assert.equal(encodeDbr(6, 2, d).toString('hex'), '3ff00000000000004000000000000000');
  assert.equal(encodeDbr(6, 4, d).length, 32);
  assert.deepEqual(arr(decodeDbr(6, 4, encodeDbr(6, 4, d)).value), [1, 2, 3, 0]);
  assert.equal(encodeDbr(13, 0, d).toString('hex'), '0001000100000000');
  const back = decodeDbr(20, 0, encodeDbr(20, 0, { ...d, stamp: { secPastEpoch: 5, nsec: 6 } }));
  assert.deepEqual(back.stamp, { secPastEpoch: 5, nsec: 6 });
  assert.equal(back.value.length, 0);
  assert.ok(back.value instanceof Float64Array);
  const s = encodeDbr(0, 3, { value: ['a'] });
  assert.equal(s.length, 120);
  assert.deepEqual(decodeDbr(0, 3, s).value, ['a', '', '']);
});

test('numeric arrays of another typed-array type are converted; strings for numbers are refused', () => {
  const b = encodeDbr(5, 3, { value: new Float64Array([1.9, -1.9, 2 ** 32 + 5]) });
  assert.deepEqual(arr(decodeDbr(5, 3, b).value), [1, -1, 5]);
  assert.throws(() => encodeDbr(6, 1, { value: ['1.5'] }), ProtocolError);
  assert.throws(() => encodeDbr(0, 1, { value: new Float64Array([1]) }), ProtocolError);
});

test('strings: cut at the first NUL, stale bytes ignored, UTF-8, long strings cut at 39 bytes', () => {
  const slot = Buffer.alloc(40, 0x41); // stale 'A's
  slot.write('abc\0', 0, 'latin1');
  assert.deepEqual(decodeDbr(0, 1, slot).value, ['abc']);
  const full = Buffer.alloc(40, 0x42); // no NUL at all: the whole 40 bytes
  assert.deepEqual(decodeDbr(0, 1, full).value, ['B'.repeat(40)]);
  const long = 'x'.repeat(60);
  const enc = encodeDbr(0, 1, { value: [long] });
  assert.equal(enc.length, 40);
  assert.equal(enc[39], 0);
  assert.deepEqual(decodeDbr(0, 1, enc).value, ['x'.repeat(39)]);
  // A multi-byte character is never split: 19 x 'é' (38 bytes) + 'é' would need 40.
  const u = encodeDbr(0, 1, { value: ['é'.repeat(25)] });
  assert.deepEqual(decodeDbr(0, 1, u).value, ['é'.repeat(19)]);
  // Units (8 bytes: 7 + NUL) and enum strings (26: 25 + NUL) are cut the same way.
  const gr = decodeDbr(27, 1, encodeDbr(27, 1, { value: new Float64Array([0]), units: 'millimetres' }));
  assert.equal(gr.units, 'millime');
  const en = decodeDbr(24, 1, encodeDbr(24, 1, { value: new Uint16Array([0]), enumStrs: ['y'.repeat(30)] }));
  assert.deepEqual(en.enumStrs, ['y'.repeat(25)]);
  // More than 16 states are cut to 16.
  const many = Array.from({ length: 20 }, (_, i) => `s${i}`);
  assert.equal(
    decodeDbr(31, 1, encodeDbr(31, 1, { value: new Uint16Array([0]), enumStrs: many })).enumStrs?.length,
    16,
  );
});

test('short-form single string: encode with the option, decode a short payload', () => {
  const short = encodeDbr(0, 1, { value: ['7.125'] }, { shortString: true });
  assert.equal(short.toString('hex'), '372e31323500');
  assert.deepEqual(encodeShortString('7.125'), short);
  assert.equal(encodedDbrSize(0, 1, { value: ['7.125'] }, { shortString: true }), 6);
  assert.equal(encodeDbr(0, 1, { value: ['7.125'] }).length, 40);
  // Short form does not apply to other counts or types.
  assert.equal(encodeDbr(0, 2, { value: ['a', 'b'] }, { shortString: true }).length, 80);
  assert.equal(encodeDbr(7, 1, { value: ['a'] }, { shortString: true }).length, 44);
  // The captured caput payload "not-a-number" padded to 16.
  const wire = Buffer.from('6e6f742d612d6e756d62657200000000', 'hex');
  assert.deepEqual(decodeDbr(0, 1, wire).value, ['not-a-number']);
  assert.deepEqual(decodeDbr(0, 1, Buffer.from('6869', 'hex')).value, ['hi']);
  assert.deepEqual(encodeShortString('z'.repeat(50)).length, 40);
});

test('too-short payloads raise ProtocolError, never a crash', () => {
  assert.throws(() => decodeDbr(6, 2, new Uint8Array(15)), ProtocolError);
  assert.throws(() => decodeDbr(34, 1, new Uint8Array(87)), ProtocolError);
  assert.throws(() => decodeDbr(20, 0, new Uint8Array(15)), ProtocolError);
  assert.throws(() => decodeDbr(0, 2, new Uint8Array(39)), ProtocolError);
  assert.throws(() => decodeDbr(24, 1, new Uint8Array(100)), ProtocolError);
  assert.throws(() => decodeDbr(6, -1, new Uint8Array(8)), ProtocolError);
  assert.throws(() => encodeDbrInto(Buffer.alloc(10), 0, 6, 2, { value: new Float64Array(2) }), RangeError);
  // Extra bytes (padding) are ignored.
  const padded = Buffer.alloc(16);
  padded.writeDoubleBE(2.5, 0);
  assert.deepEqual(arr(decodeDbr(6, 1, padded).value), [2.5]);
});

test('decoded arrays are independent copies (aligned typed arrays, not views of the payload)', () => {
  const src = Buffer.alloc(1 + 8 * 3);
  for (let i = 0; i < 3; i++) src.writeDoubleBE(i + 0.5, 1 + 8 * i);
  const d = decodeDbr(6, 3, src.subarray(1)); // odd alignment
  assert.deepEqual(arr(d.value), [0.5, 1.5, 2.5]);
  src.fill(0);
  assert.deepEqual(arr(d.value), [0.5, 1.5, 2.5]);
});

test('2 M doubles (16 MB) encode and decode in bulk', () => {
  const n = 2_000_000;
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = i * 0.25 - 7;
  const t0 = process.hrtime.bigint();
  const enc = encodeDbr(20, n, { value: v, stamp: { secPastEpoch: 1, nsec: 2 } });
  const dec = decodeDbr(20, n, enc);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.equal(enc.length, 16 + 8 * n);
  assert.equal(enc.readDoubleBE(16 + 8 * 12345), v[12345]);
  assert.deepEqual(dec.value, v);
  assert.ok(ms < 2000, `16 MB round trip took ${ms} ms`);
});

test('integer limits: NaN and out-of-range values', () => {
  const d = decodeDbr(
    33,
    1,
    encodeDbr(33, 1, {
      value: new Int32Array([1]),
      upperDispLimit: NaN,
      lowerDispLimit: 1.9,
      upperAlarmLimit: -1.9,
    }),
  );
  assert.equal(d.upperDispLimit, 0);
  assert.equal(d.lowerDispLimit, 1);
  assert.equal(d.upperAlarmLimit, -1);
  const f = decodeDbr(34, 1, encodeDbr(34, 1, { value: new Float64Array([1]), upperAlarmLimit: NaN }));
  assert.ok(Number.isNaN(f.upperAlarmLimit));
});

test('element-wise and bulk paths agree for every numeric type around the switch-over size', () => {
  const ctors = [Int16Array, Float32Array, Uint16Array, Uint8Array, Int32Array, Float64Array];
  for (let vt = 1; vt <= 6; vt++) {
    for (const n of [15, 16, 17, 33, 1000]) {
      const v = new ctors[vt - 1](n);
      for (let i = 0; i < n; i++)
        v[i] = ((i * 37) % 200) - (vt === 3 || vt === 4 ? 0 : 100) + (vt === 2 || vt === 6 ? 0.5 : 0);
      const t = 14 + vt; // TIME_xxx: the value sits at an odd offset for CHAR
      const enc = encodeDbr(t, n, { value: v });
      const want = expectedBytes(t, n, {
        value: v,
        stamp: { secPastEpoch: 0, nsec: 0 },
        status: 0,
        severity: 0,
      });
      assert.equal(enc.toString('hex'), want.toString('hex'), `type ${t} n ${n}`);
      assert.deepEqual(decodeDbr(t, n, enc).value, v);
    }
  }
});

test('random payloads: decodeDbr returns or throws ProtocolError, nothing else (seeded fuzz)', () => {
  let seed = 99;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  let decoded = 0;
  for (let i = 0; i < 20000; i++) {
    const t = rand(40) - (rand(10) === 0 ? 1 : 0);
    const count = rand(4) === 0 ? rand(100000) : rand(5);
    const p = Buffer.alloc(rand(600));
    for (let j = 0; j < p.length; j++) p[j] = rand(256);
    try {
      const d = decodeDbr(t, count, p);
      assert.equal(d.value.length, count);
      // Whatever decoded re-encodes without error.
      encodeDbr(t, count, d);
      decoded++;
    } catch (e) {
      assert.ok(e instanceof ProtocolError, `type ${t} count ${count} len ${p.length}: ${String(e)}`);
    }
  }
  assert.ok(decoded > 1000, `only ${decoded} decoded`);
});

test('decodePlainInPlace: host-order views of plain numeric payloads, equal to decodeDbr', () => {
  const values: Record<number, number[]> = {
    1: [1, -2, 32767, -32768],
    2: [1.5, -2.25, 3e38, -0],
    3: [0, 1, 65535, 7],
    4: [0, 1, 255, 128],
    5: [1, -1, 2147483647, -2147483648],
    6: [Math.PI, -1e300, 5e-324, -0],
  };
  for (const [t, v] of Object.entries(values)) {
    const type = Number(t);
    const wire = encodeDbr(type, v.length, { value: Float64Array.from(v) });
    // an 8-aligned copy (Buffer.allocUnsafe may come from Node's shared pool at any offset)
    const payload = Buffer.from(new ArrayBuffer(wire.length + 8), 8, wire.length);
    wire.copy(payload);
    const expected = decodeDbr(type, v.length, wire).value;
    const got = decodePlainInPlace(type, v.length, payload);
    assert.ok(got, `type ${type}`);
    assert.deepEqual(got, expected, `type ${type}`);
    assert.equal((got as Uint8Array).buffer, payload.buffer, 'a view of the payload, not a copy');
    assert.equal((got as Uint8Array).byteOffset, 8);
  }
});

test('decodePlainInPlace: leaves what it cannot view untouched', () => {
  const wire = encodeDbr(6, 2, { value: Float64Array.of(1, 2) });
  const misaligned = Buffer.from(new ArrayBuffer(32), 4, 16);
  wire.copy(misaligned);
  assert.equal(decodePlainInPlace(6, 2, misaligned), undefined, 'not 8-aligned');
  assert.ok(misaligned.equals(wire.subarray(0, 16)), 'untouched');
  const aligned = Buffer.from(new ArrayBuffer(16));
  wire.copy(aligned);
  assert.equal(decodePlainInPlace(6, 3, aligned), undefined, 'fewer bytes than elements');
  assert.equal(decodePlainInPlace(0, 1, aligned), undefined, 'DBR_STRING');
  assert.equal(decodePlainInPlace(20, 1, aligned), undefined, 'DBR_TIME_DOUBLE: metadata');
  assert.equal(decodePlainInPlace(6, 0, aligned), undefined, 'no element');
  assert.ok(aligned.equals(wire.subarray(0, 16)), 'untouched');
});
