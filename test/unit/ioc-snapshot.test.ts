// Loads the very test.db softIoc served for the recorded traces and checks that what our record
// database serves (through the server's read path) decodes to the same values and metadata as
// softIoc's replies in get_records and get_dbr_types (time stamps aside).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Command, DbrNative } from '../../src/protocol/constants.js';
import { LIMIT_KEYS, decodeDbr } from '../../src/protocol/dbr.js';
import type { DbrData } from '../../src/protocol/values.js';
import { readData } from '../../src/server/read-value.js';
import { RecordDatabase } from '../../src/ioc/database.js';
import { circuits, loadTrace, tracesDir } from '../helpers/traces.js';

interface Read {
  name: string;
  native: number;
  count: number;
  type: number;
  reqCount: number;
  reply: DbrData;
}

function reads(trace: string): Read[] {
  const out: Read[] = [];
  for (const c of circuits(loadTrace(trace))) {
    const names = new Map<number, string>();
    for (const m of c.client)
      if (m.command === Command.CREATE_CHAN)
        names.set(m.parameter1, m.payload.toString('latin1').replace(/\0.*$/s, ''));
    const bySid = new Map<number, { name: string; native: number; count: number }>();
    for (const m of c.server)
      if (m.command === Command.CREATE_CHAN)
        bySid.set(m.parameter2, { name: names.get(m.parameter1)!, native: m.dataType, count: m.dataCount });
    const req = new Map<number, { sid: number; type: number; count: number }>();
    for (const m of c.client)
      if (m.command === Command.READ_NOTIFY)
        req.set(m.parameter2, { sid: m.parameter1, type: m.dataType, count: m.dataCount });
    for (const m of c.server) {
      if (m.command !== Command.READ_NOTIFY) continue;
      const r = req.get(m.parameter2)!;
      const ch = bySid.get(r.sid)!;
      out.push({
        ...ch,
        type: m.dataType,
        reqCount: m.dataCount,
        reply: decodeDbr(m.dataType, m.dataCount, m.payload),
      });
    }
  }
  return out;
}

function sameNumber(a: number | undefined, b: number | undefined, what: string): void {
  if (a === undefined || b === undefined) return assert.equal(a, b, what);
  if (Number.isNaN(b)) return assert.ok(Number.isNaN(a), `${what}: ${a} should be NaN`);
  assert.equal(a, b, what);
}

function compare(db: RecordDatabase, r: Read): void {
  const what = `${r.name} type ${r.type}`;
  const ch = db.channel(r.name);
  assert.ok(ch, `${r.name} exists`);
  assert.equal(ch.nativeType, r.native, `${what}: native type`);
  assert.equal(ch.elementCount, r.count, `${what}: element count`);
  const ours = readData(ch, ch.snapshot(), r.type, r.reqCount);
  const want = r.reply;
  const wv = Array.isArray(want.value) ? want.value : Array.from(want.value);
  const ov = Array.isArray(ours.value) ? ours.value : Array.from(ours.value);
  // our value may be shorter: the encoder zero-fills up to the requested count
  for (let i = 0; i < wv.length; i++) {
    const o = ov[i] ?? (typeof wv[i] === 'string' ? '' : 0);
    if (typeof wv[i] === 'number') sameNumber(o as number, wv[i] as number, `${what}: value[${i}]`);
    else assert.equal(o, wv[i], `${what}: value[${i}]`);
  }
  for (const k of ['status', 'severity', 'precision', 'ackt', 'acks'] as const)
    if (k in want) assert.equal(ours[k] ?? 0, want[k], `${what}: ${k}`);
  if ('units' in want) assert.equal(ours.units ?? '', want.units, `${what}: units`);
  for (const k of LIMIT_KEYS) {
    if (!(k in want)) continue;
    let o = ours[k] ?? 0;
    // integer DBR types carry NaN limits as 0 (C conversion), as the encoder does
    if (r.type !== 27 && r.type !== 34 && r.type !== 23 && r.type !== 30 && Number.isNaN(o)) o = 0;
    sameNumber(
      Math.fround(o) === o || r.type === 27 || r.type === 34 ? o : Math.fround(o),
      want[k],
      `${what}: ${k}`,
    );
  }
  if (want.enumStrs) assert.deepEqual(ours.enumStrs ?? [], want.enumStrs, `${what}: enum strings`);
  if (want.stamp)
    assert.equal(ours.stamp!.secPastEpoch === 0, want.stamp.secPastEpoch === 0, `${what}: processed or not`);
}

const opened: RecordDatabase[] = [];
after(() => {
  for (const db of opened) db.stop();
});

function testDb(): RecordDatabase {
  const db = new RecordDatabase();
  db.loadDatabaseFile(join(tracesDir(), 'test.db'));
  db.init();
  opened.push(db);
  return db;
}

test('get_records: every record kind served as softIoc served it (DBR_TIME_* reads)', () => {
  const db = testDb();
  const list = reads('get_records');
  assert.equal(list.length, 21);
  for (const r of list) compare(db, r);
  db.stop();
});

test('get_dbr_types: metadata structures (limits, units, precision, enums, NaN, ackt/acks, class)', async () => {
  const db = testDb();
  // state carried over from the put_* scenarios recorded before get_dbr_types
  await db.put('T:ao', 7.125);
  await db.put('T:ao', 2.5);
  await db.put('T:wf', ['1.5', '2.5', '3.5', '-4e5']);
  await db.put('T:cwf', Uint8Array.from(Buffer.from('/data/run 7/file_0001.h5\0')), DbrNative.CHAR);
  await db.put('T:mbbo', 1);
  await db.put('T:mbbo', '100x');
  await db.put('T:bo', 'On');
  const list = reads('get_dbr_types');
  assert.equal(list.length, 12);
  for (const r of list) {
    if (r.type === 38) {
      assert.deepEqual(
        readData(db.channel(r.name)!, db.channel(r.name)!.snapshot(), 38, 1).value,
        r.reply.value,
      );
      continue;
    }
    compare(db, r);
  }
  db.stop();
});
