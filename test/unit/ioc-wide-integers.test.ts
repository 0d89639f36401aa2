/**
 * Reads checked against EPICS base's softIoc (test/fixtures/conformance/more-types.cmd and
 * record-types.cmd): INT64/UINT64/ULONG values cast to a narrower integer keep their low bits,
 * GR/CTRL limits of integer types go through a C (epicsInt32) cast, string fields read as ENUM as
 * dbGet does.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { DBR, ECA } from '../../src/protocol/constants.js';
import { readData, readScalarData } from '../../src/server/read-value.js';
import { CaStatusError } from '../../src/server/provider.js';
import { RecordDatabase } from '../../src/ioc/database.js';

const dbs: RecordDatabase[] = [];
after(() => {
  for (const db of dbs) db.stop();
});
function load(text: string): RecordDatabase {
  const db = new RecordDatabase();
  dbs.push(db);
  db.loadDatabase(text);
  db.init();
  return db;
}
function read(db: RecordDatabase, name: string, type: number, count = 1) {
  const ch = db.channel(name)!;
  return readData(ch, ch.snapshot(), type, count);
}

test('INT64/UINT64/ULONG values keep their low bits as LONG, SHORT, CHAR and ENUM', () => {
  const db = load(
    'record(int64out,"I:o"){field(VAL,"-1234567890123")}\n' +
      'record(waveform,"I:w"){field(NELM,"3") field(FTVL,"INT64") field(INP,"[1,-2,3000000000]")}\n' +
      'record(waveform,"I:u"){field(NELM,"2") field(FTVL,"ULONG") field(INP,"[4294967295,70000]")}\n' +
      'record(ao,"I:d"){field(VAL,"3000000000")}\n',
  );
  assert.deepEqual(Array.from(read(db, 'I:o', DBR.LONG).value as Int32Array), [-1912276171]);
  assert.deepEqual(Array.from(read(db, 'I:o', DBR.TIME_SHORT).value as Int16Array), [-1227]);
  assert.deepEqual(Array.from(read(db, 'I:w', DBR.SHORT, 3).value as Int16Array), [1, -2, 24064]);
  assert.deepEqual(Array.from(read(db, 'I:u', DBR.LONG, 2).value as Int32Array), [-1, 70000]);
  assert.deepEqual(Array.from(read(db, 'I:u', DBR.ENUM, 2).value as Uint16Array), [65535, 4464]);
  assert.deepEqual(Array.from(read(db, 'I:u', DBR.CHAR, 2).value as Uint8Array), [255, 112]);
  // a DOUBLE still goes through the float -> int32 cast (INT32_MIN when out of range)
  assert.deepEqual(Array.from(read(db, 'I:d', DBR.LONG).value as Int32Array), [-2147483648]);
  // the scalar fast path gives the same
  assert.equal(readScalarData(db.channel('I:o')!, DBR.LONG)!.value[0], -1912276171);
  assert.equal(readScalarData(db.channel('I:o')!, DBR.TIME_CHAR)!.value[0], 53);
  assert.equal(readScalarData(db.channel('I:d')!, DBR.LONG)!.value[0], -2147483648);
  // floating and string reads are unchanged
  assert.equal(read(db, 'I:o', DBR.DOUBLE).value[0], -1234567890123);
  assert.deepEqual(read(db, 'I:w', DBR.STRING, 3).value, ['1', '-2', '3000000000']);
});

test('GR/CTRL limits of integer types: a C (epicsInt32) cast, NaN reads as 0; DOUBLE limits as they are', () => {
  const db = load(
    'record(int64in,"L:i"){field(HOPR,"100000000000") field(LOPR,"-5") field(HIGH,"10000000000000000") field(HSV,"MINOR")}\n' +
      'record(mbbiDirect,"L:m"){}\n' +
      'record(ai,"L:a"){field(HOPR,"3e9") field(LOPR,"-2.5")}\n',
  );
  const i = read(db, 'L:i', DBR.CTRL_LONG);
  assert.equal(i.upperDispLimit, -2147483648);
  assert.equal(i.lowerDispLimit, -5);
  assert.equal(i.upperWarningLimit, -2147483648);
  assert.equal(i.upperCtrlLimit, -2147483648);
  const m = read(db, 'L:m', DBR.CTRL_LONG);
  assert.equal(m.upperAlarmLimit, 0);
  assert.equal(m.lowerWarningLimit, 0);
  const s = read(db, 'L:a', DBR.GR_SHORT);
  assert.equal(s.upperDispLimit, -2147483648);
  assert.equal(s.lowerDispLimit, -2);
  const d = read(db, 'L:a', DBR.CTRL_DOUBLE);
  assert.equal(d.upperDispLimit, 3e9);
  assert.ok(Number.isNaN(d.upperAlarmLimit));
});

test('string fields read as ENUM: no put_enum_str fails, an index below the states, an empty lsi reads 0', () => {
  const db = load(
    'record(stringin,"S:s"){field(VAL,"12")}\n' +
      'record(bo,"S:b"){field(DESC,"1") field(ZNAM,"z") field(ONAM,"o")}\n' +
      'record(bo,"S:b2"){field(DESC,"2") field(ZNAM,"z") field(ONAM,"o")}\n' +
      'record(lsi,"S:l"){field(SIZV,"20")}\n' +
      'record(lsi,"S:n"){field(SIZV,"20") field(INP,{const:"7x"})}\n' +
      'record(waveform,"S:w"){field(NELM,"3") field(FTVL,"STRING") field(INP,["7","","9x"])}\n' +
      'record(waveform,"S:w1"){field(NELM,"3") field(FTVL,"STRING") field(INP,["7"])}\n',
  );
  const fails = (name: string) =>
    assert.throws(
      () => read(db, name, DBR.ENUM),
      (e: unknown) => e instanceof CaStatusError && e.eca === ECA.GETFAIL,
      name,
    );
  fails('S:s');
  fails('S:b2.DESC');
  fails('S:w1');
  assert.equal(read(db, 'S:b.DESC', DBR.ENUM).value[0], 1);
  assert.equal(read(db, 'S:l', DBR.STS_ENUM).value.length, 0, 'no elements: the reply stays zero');
  assert.equal(read(db, 'S:n', DBR.ENUM).value[0], 7, 'LEN > 1: the leading number');
  assert.deepEqual(Array.from(read(db, 'S:w', DBR.ENUM, 3).value as Uint16Array), [7, 0, 9]);
});
