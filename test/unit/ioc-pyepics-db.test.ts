// Our own equivalents of pyepics' test IOC databases (test/fixtures/pyepics-db/, written from the
// description in pyepics-reference.md §16.2-16.3) load and behave as §16.4 requires.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { AlarmStatus, DbrNative, Severity } from '../../src/protocol/constants.js';
import { RecordDatabase } from '../../src/ioc/database.js';
import { repoRoot } from '../helpers/traces.js';

const DIR = join(repoRoot(), 'test', 'fixtures', 'pyepics-db');
const dbs: RecordDatabase[] = [];
after(() => {
  for (const db of dbs) db.stop();
});

function pyIoc(): RecordDatabase {
  const db = new RecordDatabase();
  db.loadDatabaseFile(join(DIR, 'pydebug.db'), 'P=PyTest:');
  db.loadDatabaseFile(join(DIR, 'pyclearcache.db'), 'P=PyTestClearCache:');
  db.init();
  dbs.push(db);
  return db;
}
const values = (db: RecordDatabase, pv: string): number[] => Array.from(db.get(pv) as Float64Array);

test('pydebug.db: every record with its native type and element count', () => {
  const db = pyIoc();
  const want: [string, number, number][] = [
    ['mbbo1', DbrNative.ENUM, 1], ['pause', DbrNative.ENUM, 1], ['char128', DbrNative.CHAR, 128],
    ['char64k', DbrNative.CHAR, 65536], ['double2k', DbrNative.DOUBLE, 2048], ['long64k', DbrNative.LONG, 65536],
    ['string64k', DbrNative.STRING, 65536], ['long1', DbrNative.LONG, 1], ['long2', DbrNative.LONG, 1],
    ['str1', DbrNative.STRING, 1], ['str2', DbrNative.STRING, 1], ['ao1', DbrNative.DOUBLE, 1], ['ai1', DbrNative.DOUBLE, 1],
    ['bo1', DbrNative.ENUM, 1], ['bi1', DbrNative.ENUM, 1], ['subArr1', DbrNative.DOUBLE, 64],
    ['ZeroLenSubArr1', DbrNative.DOUBLE, 64], ['wave_test', DbrNative.DOUBLE, 64], ['mylinker', DbrNative.LONG, 1],
  ]; // prettier-ignore
  for (const [n, type, count] of want) {
    const ch = db.channel(`PyTest:${n}`);
    assert.ok(ch, n);
    assert.equal(ch.nativeType, type, `${n} type`);
    assert.equal(ch.elementCount, count, `${n} count`);
  }
  assert.equal(db.records().length, 49);
});

test('pydebug.db: field channels as EPICS 7 serves them', () => {
  const db = pyIoc();
  assert.deepEqual(db.get('PyTest:ao1.DESC'), ['ao']);
  assert.deepEqual(db.get('PyTest:long1.DESC'), ['Soft Channel'], 'repeated field: last wins');
  const types: [string, number][] = [
    ['ao1.PREC', DbrNative.SHORT], ['ao1.PROC', DbrNative.CHAR], ['subArr1.NELM', DbrNative.DOUBLE],
    ['subArr1.INDX', DbrNative.DOUBLE], ['wave_test.NORD', DbrNative.DOUBLE], ['mbbo1.ZRVL', DbrNative.DOUBLE],
    ['ao1.NAME', DbrNative.STRING], ['ao1.OUT', DbrNative.STRING], ['ao1.DOL', DbrNative.STRING],
    ['subArr1.INP', DbrNative.STRING], ['ao1.HHSV', DbrNative.ENUM], ['ao1.LINR', DbrNative.ENUM],
    ['ao1.OMSL', DbrNative.ENUM], ['ao1.OIF', DbrNative.ENUM], ['ao1.DTYP', DbrNative.ENUM],
    ['ao1.RTYP', DbrNative.STRING], ['ao1.MDEL', DbrNative.DOUBLE],
  ]; // prettier-ignore
  for (const [n, t] of types) assert.equal(db.channel(`PyTest:${n}`)!.nativeType, t, n);
  assert.deepEqual(db.get('PyTest:subArr1.INP'), ['PyTest:wave_test.VAL NPP NMS']);
  const client = { user: 'u', host: 'h', address: '127.0.0.1' };
  const ao = db.records().find((r) => r.name === 'PyTest:ao1')!;
  assert.equal(ao.type, 'ao');
  const writable = [
    'DESC',
    'EGU',
    'PREC',
    'HOPR',
    'LOPR',
    'DRVH',
    'DRVL',
    'HIHI',
    'HIGH',
    'LOW',
    'LOLO',
    'HHSV',
    'HSV',
    'LSV',
    'LLSV',
    'HYST',
    'MDEL',
    'ADEL',
    'OMSL',
    'OIF',
    'DOL',
    'OUT',
    'SCAN',
    'PINI',
    'DISV',
    'FLNK',
  ];
  for (const f of writable) assert.equal(db.channel(`PyTest:ao1.${f}`)!.accessRights(client), 3, f);
  assert.equal(db.channel('PyTest:ao1.NAME')!.accessRights(client), 1);
});

test('pydebug.db: never-processed records report UDF, INVALID when UDF is set, stamp 0', async () => {
  const db = pyIoc();
  const m = db.channel('PyTest:mbbo1')!.snapshot();
  assert.equal(m.status, AlarmStatus.UDF);
  assert.equal(m.severity, Severity.INVALID);
  assert.equal(m.stamp!.secPastEpoch, 0);
  assert.deepEqual(m.enumStrs, ['Stop', 'Start', 'Pause', 'Resume']);
  await db.put('PyTest:mbbo1', 'Start');
  const s = db.channel('PyTest:mbbo1')!.snapshot();
  assert.equal(s.status, 0);
  assert.equal(s.severity, 0);
  assert.notEqual(s.stamp!.secPastEpoch, 0);
  // bi with no ZNAM/ONAM: two empty states; a put of 2 is accepted and read back
  assert.deepEqual(db.channel('PyTest:bi1')!.snapshot().enumStrs, ['', '']);
  await db.put('PyTest:bi1', 2);
  assert.deepEqual(Array.from(db.get('PyTest:bi1') as Uint16Array), [2]);
  // puts to ai VAL stick (no INP)
  await db.put('PyTest:ai1', 76.5);
  assert.deepEqual(values(db, 'PyTest:ai1'), [76.5]);
});

test('pydebug.db: subarrays driven by wave_test through the fanout', async () => {
  const db = pyIoc();
  const wave = Array.from({ length: 64 }, (_, i) => i / 12);
  await db.put('PyTest:wave_test', wave);
  for (const [i, indx] of [
    [1, 0],
    [2, 16],
    [3, 32],
    [4, 48],
  ]) {
    assert.deepEqual(values(db, `PyTest:subArr${i}`), wave.slice(indx, indx + 16), `subArr${i}`);
    assert.equal(Number(db.get(`PyTest:subArr${i}.NORD`)[0]), 16);
  }
  assert.deepEqual(values(db, 'PyTest:ZeroLenSubArr1'), []);
  assert.equal(db.channel('PyTest:ZeroLenSubArr1')!.snapshot().count, 0);
  // NELM and INDX are writable at run time and process the record
  await db.put('PyTest:subArr1.NELM', 19);
  await db.put('PyTest:subArr1.INDX', 3);
  assert.deepEqual(values(db, 'PyTest:subArr1'), wave.slice(3, 22));
  await db.put('PyTest:subArr1.NELM', 100);
  assert.equal(Number(db.get('PyTest:subArr1.NELM')[0]), 64, 'NELM is limited to MALM');
  assert.equal(values(db, 'PyTest:subArr1').length, 61);
  // softIoc clamps INDX to MALM - 1 and returns that one element
  await db.put('PyTest:subArr1.INDX', 70);
  assert.deepEqual(values(db, 'PyTest:subArr1'), [wave[63]]);
  assert.equal(Number(db.get('PyTest:subArr1.INDX')[0]), 63);
});

test('pydebug.db: arrays of 64k elements, NORD from CA puts of every kind', async () => {
  const db = pyIoc();
  await db.put('PyTest:char256', Uint8Array.from(Buffer.from('a line of text\0')), DbrNative.CHAR);
  assert.equal(Number(db.get('PyTest:char256.NORD')[0]), 15);
  await db.put(
    'PyTest:long2k',
    Array.from({ length: 2048 }, (_, i) => i),
  );
  assert.equal((db.get('PyTest:long2k') as Int32Array)[2047], 2047);
  const strings = Array.from({ length: 65536 }, (_, i) => ` String ${i + 1}`);
  await db.put('PyTest:string64k', strings);
  const snap = db.channel('PyTest:string64k')!.snapshot();
  assert.equal(snap.count, 65536);
  assert.equal(snap.value[65535], ' String 65536');
  await db.put('PyTest:double64k', new Float64Array(65536).fill(1.25));
  assert.equal(db.channel('PyTest:double64k')!.snapshot().count, 65536);
});

test('pyclearcache.db: counters disabled until enabled=1, then count at 10 Hz', async () => {
  const db = pyIoc();
  await new Promise((r) => setTimeout(r, 250));
  for (let n = 1; n <= 10; n++) {
    const s = db.channel(`PyTestClearCache:${n}`)!.snapshot();
    assert.equal(Number(s.value[0]), 0);
    assert.equal(s.status, AlarmStatus.DISABLE);
  }
  await db.put('PyTestClearCache:enabled', 1);
  await new Promise((r) => setTimeout(r, 450));
  for (let n = 1; n <= 10; n++) {
    const v = Number(db.get(`PyTestClearCache:${n}`)[0]);
    assert.ok(v >= 2 && v <= 6, `counter ${n} = ${v}`);
  }
});
