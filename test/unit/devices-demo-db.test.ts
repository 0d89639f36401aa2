import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDatabase, type DbRecordItem } from '../../src/ioc/db-parser.js';
import { demoDatabase, demoInitialValues, demoPrefix } from '../../src/ioc/demo/index.js';

test('demo database: 36 classroom prefixes, motors, scaler, mca; parses as .db', () => {
  const text = demoDatabase();
  const { items, warnings } = parseDatabase(text, { file: '<demo>' });
  assert.deepEqual(warnings, []);
  const recs = items.filter((i): i is DbRecordItem => i.kind === 'record');
  const byName = new Map(recs.map((r) => [r.name, r]));
  assert.equal(demoPrefix(1), 'id01');
  for (let i = 1; i <= 36; i++) {
    const p = demoPrefix(i);
    for (const n of [
      'bi1',
      'dbl1',
      'dbl2',
      'dbl3',
      'int1',
      'int2',
      'int3',
      'str1',
      'str2',
      'bo1',
      'mbbi1',
      'filename',
      'dwave',
      'iwave',
      'image',
    ]) {
      assert.ok(byName.has(`${p}:${n}`), `${p}:${n}`);
    }
  }
  assert.equal(byName.get('id07:filename')?.type, 'waveform');
  assert.ok(!byName.has('id37:dbl1'));
  for (let i = 1; i <= 6; i++) assert.equal(byName.get(`sim:mtr${i}`)?.type, 'motor');
  assert.equal(byName.get('sim:scaler1')?.type, 'scaler');
  assert.equal(byName.get('sim:mca1')?.type, 'mca');
  const field = (rec: string, f: string): string | undefined =>
    byName.get(rec)?.fields.find((x) => x.name === f)?.value;
  assert.equal(field('id01:image', 'NELM'), '65536');
  assert.equal(field('id01:filename', 'NELM'), '128');
  assert.equal(field('id01:dwave', 'FTVL'), 'DOUBLE');
  assert.equal(field('id01:iwave', 'FTVL'), 'LONG');
  assert.match(field('id01:dbl1', 'CALC') ?? '', /RNDM/);
  assert.equal(field('id01:int1', 'INP'), 'id01:int1_rnd PP');
});

test('demo database options: counts, record-type filtering, bad counts', () => {
  const small = parseDatabase(demoDatabase({ count: 2, motors: 1, scaler: false }), {})
    .items as DbRecordItem[];
  const names = small.map((r) => r.name);
  assert.ok(names.includes('id02:dbl3') && !names.includes('id03:dbl1'));
  assert.ok(names.includes('sim:mtr1') && !names.includes('sim:mtr2') && !names.includes('sim:scaler1'));
  const noMotor = parseDatabase(
    demoDatabase({ count: 1 }, ['calc', 'bi', 'bo', 'longin', 'stringout', 'mbbi', 'waveform']),
    {},
  ).items as DbRecordItem[];
  assert.ok(noMotor.every((r) => !r.name.startsWith('sim:')));
  assert.throws(() => demoDatabase({ count: 100 }), RangeError);
  const init = demoInitialValues({ count: 1 });
  const fname = init.find(([n]) => n === 'id01:filename')?.[1] as Uint8Array;
  assert.ok(fname.length <= 128 && fname.at(-1) === 0);
  assert.equal((init.find(([n]) => n === 'id01:image')?.[1] as Uint8Array).length, 65536);
});
