/**
 * Conversions checked against EPICS base's softIoc (caget of the same records from both servers):
 * DOUBLE -> FLOAT clamps as epicsConvertDoubleToFloat, a waveform constant keeps -0.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DBR, DbrNative } from '../../src/protocol/constants.js';
import { convertValues, doubleToFloat } from '../../src/protocol/convert.js';
import { readData, readScalarData } from '../../src/server/read-value.js';
import { RecordDatabase } from '../../src/ioc/database.js';

const FLT_MAX = 3.4028234663852886e38;
const FLT_MIN = 1.1754943508222875e-38;

test('doubleToFloat: zero and non-finite as they are, out-of-range magnitudes clamp', () => {
  assert.equal(doubleToFloat(1e39), FLT_MAX);
  assert.equal(doubleToFloat(-1e39), -FLT_MAX);
  assert.equal(doubleToFloat(1e-40), FLT_MIN);
  assert.equal(doubleToFloat(-1e-45), -FLT_MIN);
  assert.ok(Object.is(doubleToFloat(-0), -0));
  assert.equal(doubleToFloat(Infinity), Infinity);
  assert.ok(Number.isNaN(doubleToFloat(NaN)));
  assert.equal(doubleToFloat(2.5), 2.5);
  const f = convertValues(Float64Array.of(1e39, -1e-40, 3), DbrNative.DOUBLE, DbrNative.FLOAT);
  assert.deepEqual(Array.from(f as Float32Array), [Math.fround(FLT_MAX), Math.fround(-FLT_MIN), 3]);
});

test('DBR_FLOAT reads of DOUBLE records clamp on the scalar path and the array path', () => {
  const db = new RecordDatabase();
  db.loadDatabase(
    'record(ao,"F:big"){field(VAL,"1e39")}\n' +
      'record(waveform,"F:w"){field(NELM,"4") field(FTVL,"DOUBLE") field(INP,"[1e39,-0.0,1e-45,2]")}\n',
  );
  db.init();
  const big = db.channel('F:big')!;
  for (const t of [DBR.FLOAT, DBR.TIME_FLOAT]) {
    assert.equal(readScalarData(big, t)!.value[0], Math.fround(FLT_MAX), `scalar path, type ${t}`);
    assert.equal(
      readData(big, big.snapshot(), t, 1).value[0],
      Math.fround(FLT_MAX),
      `general path, type ${t}`,
    );
  }
  const w = db.channel('F:w')!;
  const v = Array.from(readData(w, w.snapshot(), DBR.FLOAT, 4).value as Float32Array);
  assert.deepEqual(v, [Math.fround(FLT_MAX), -0, Math.fround(FLT_MIN), 2]);
  assert.ok(Object.is(v[1], -0), 'the constant keeps -0');
  db.stop();
});

test('FTVL CHAR elements convert as signed (UCHAR as unsigned); a UINT64 put of -1 wraps', async () => {
  const db = new RecordDatabase();
  db.loadDatabase(
    'record(waveform,"C:w"){field(NELM,"4") field(FTVL,"CHAR") field(INP,"[-1,5,-128,127]")}\n' +
      'record(waveform,"C:u"){field(NELM,"3") field(FTVL,"UCHAR") field(INP,"[255,5,128]")}\n' +
      'record(waveform,"C:q"){field(NELM,"3") field(FTVL,"UINT64")}\n',
  );
  db.init();
  const w = db.channel('C:w')!;
  assert.deepEqual(readData(w, w.snapshot(), DBR.STRING, 4).value, ['-1', '5', '-128', '127']);
  assert.deepEqual(
    Array.from(readData(w, w.snapshot(), DBR.SHORT, 4).value as Int16Array),
    [-1, 5, -128, 127],
  );
  assert.deepEqual(
    Array.from(readData(w, w.snapshot(), DBR.DOUBLE, 4).value as Float64Array),
    [-1, 5, -128, 127],
  );
  // DBR_CHAR carries the bytes as they are
  assert.deepEqual(
    Array.from(readData(w, w.snapshot(), DBR.CHAR, 4).value as Uint8Array),
    [255, 5, 128, 127],
  );
  const u = db.channel('C:u')!;
  assert.deepEqual(readData(u, u.snapshot(), DBR.STRING, 3).value, ['255', '5', '128']);
  await db.put('C:q', Float64Array.of(-1, 2, -5));
  const q = db.channel('C:q')!;
  assert.deepEqual(Array.from(q.snapshot().value as Float64Array), [2 ** 64 - 1, 2, 2 ** 64 - 5]);
  db.stop();
});

test('a bo with only ZNAM: one state, and a put of "" matches the empty ONAM (put_enum_str)', async () => {
  const db = new RecordDatabase();
  db.loadDatabase(
    'record(bo,"B:o"){field(ZNAM,"zero")}\nrecord(bo,"B:t"){field(ZNAM,"zero") field(ONAM,"one")}',
  );
  db.init();
  const o = db.channel('B:o')!;
  assert.deepEqual(o.snapshot().enumStrs, ['zero']);
  await db.put('B:o', ['']);
  assert.equal(Number(db.channel('B:o')!.snapshot().value[0]), 1);
  await db.put('B:o', ['zero']);
  assert.equal(Number(db.channel('B:o')!.snapshot().value[0]), 0);
  // a number must be below the number of states
  await assert.rejects(db.put('B:o', ['1']));
  await assert.rejects(db.put('B:t', ['']));
  db.stop();
});
