/**
 * Long-string channels (`REC.FIELD$`) read as EPICS base's softIoc answers them (observed with base
 * 7.0.8's caget against softIoc): a string field is its NUL-padded buffer, a count-0 read answers
 * strlen + 1 elements only for DBR_CHAR / DBR_TIME_CHAR (the whole field for every other type); a
 * link field is base's getLinkValue: one string, one NaN, or its characters.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DBR, ECA } from '../../src/protocol/constants.js';
import { readData, replyCount } from '../../src/server/read-value.js';
import { CaStatusError } from '../../src/server/provider.js';
import { RecordDatabase } from '../../src/ioc/database.js';

function database(): RecordDatabase {
  const db = new RecordDatabase();
  db.loadDatabase(
    'record(stringin,"S:a"){field(VAL,"hello") field(DESC,"a description")}\n' +
      'record(ao,"S:b"){field(DESC,"ao desc")}\n' +
      'record(calc,"S:c"){field(CALC,"A+B") field(INPA,"S:b NPP")}\n',
  );
  db.init();
  return db;
}

/** What a read of `requested` elements of `dbrType` answers: [count, values as numbers/strings]. */
function read(db: RecordDatabase, name: string, dbrType: number, requested: number): [number, unknown[]] {
  const ch = db.channel(name);
  assert.ok(ch, name);
  const snap = ch.snapshot();
  const count = replyCount(requested, snap, dbrType, ch.elementCount);
  const value = readData(ch, snap, dbrType, count).value;
  // the encoder zero-fills what the value leaves out
  const out: unknown[] = Array.from(value as ArrayLike<unknown>).slice(0, count);
  while (out.length < count) out.push(typeof out[0] === 'string' ? '' : 0);
  return [count, out];
}

const DESC = [...Buffer.from('a description', 'latin1')];

test('string field $: count 0 is strlen + 1 for DBR_CHAR and DBR_TIME_CHAR only', () => {
  const db = database();
  for (const t of [DBR.CHAR, DBR.TIME_CHAR])
    assert.deepEqual(read(db, 'S:a.DESC$', t, 0), [14, [...DESC, 0]]);
  const padded = [...DESC, ...new Array<number>(41 - DESC.length).fill(0)];
  for (const t of [DBR.STS_CHAR, DBR.GR_CHAR, DBR.CTRL_CHAR, DBR.LONG, DBR.SHORT])
    assert.deepEqual(read(db, 'S:a.DESC$', t, 0), [41, padded], `type ${t}`);
  const [n, strings] = read(db, 'S:a.DESC$', DBR.STRING, 0);
  assert.equal(n, 41);
  assert.deepEqual(strings.slice(0, 3), ['97', '32', '100']);
});

test('string field $: a short explicit read ends with a NUL only in the CHAR forms', () => {
  const db = database();
  for (const t of [DBR.CHAR, DBR.STS_CHAR, DBR.TIME_CHAR, DBR.GR_CHAR, DBR.CTRL_CHAR])
    assert.deepEqual(read(db, 'S:a.DESC$', t, 5), [5, [97, 32, 100, 101, 0]], `type ${t}`);
  assert.deepEqual(read(db, 'S:a.DESC$', DBR.SHORT, 4), [4, [97, 32, 100, 101]]);
  assert.deepEqual(read(db, 'S:a.DESC$', DBR.STRING, 4), [4, ['97', '32', '100', '101']]);
  assert.deepEqual(read(db, 'S:a.DESC$', DBR.CHAR, 15), [15, [...DESC, 0, 0]]);
});

test('link field $: one string, one NaN, or the characters; other types fail', () => {
  const db = database();
  for (const t of [DBR.STRING, DBR.TIME_STRING, DBR.CTRL_STRING]) {
    const [n, v] = read(db, 'S:c.INPA$', t, 0);
    assert.equal(n, 1);
    assert.deepEqual(v, ['S:b NPP NMS']);
  }
  const [n3, v3] = read(db, 'S:c.INPA$', DBR.STRING, 3);
  assert.deepEqual([n3, v3], [3, ['S:b NPP NMS', '', '']]);
  const [nd, vd] = read(db, 'S:c.INPA$', DBR.DOUBLE, 0);
  assert.equal(nd, 1);
  assert.ok(Number.isNaN(vd[0]));
  const [nd4, vd4] = read(db, 'S:c.INPA$', DBR.DOUBLE, 4);
  assert.equal(nd4, 4);
  assert.ok(Number.isNaN(vd4[0]));
  assert.deepEqual(vd4.slice(1), [0, 0, 0]);
  const text = [...Buffer.from('S:b NPP NMS', 'latin1')];
  for (const t of [DBR.CHAR, DBR.STS_CHAR, DBR.CTRL_CHAR])
    assert.deepEqual(read(db, 'S:c.INPA$', t, 0), [12, [...text, 0]]);
  assert.deepEqual(read(db, 'S:c.INPA$', DBR.CHAR, 5), [5, [83, 58, 98, 32, 0]]);
  for (const t of [DBR.SHORT, DBR.FLOAT, DBR.ENUM, DBR.LONG]) {
    assert.throws(
      () => read(db, 'S:c.INPA$', t, 0),
      (e: unknown) => e instanceof CaStatusError && e.eca === ECA.GETFAIL,
      `type ${t}`,
    );
  }
});
