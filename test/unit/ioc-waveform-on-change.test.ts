// Array records posting "On Change" (MPST / APST): a process with the same values posts no VALUE /
// LOG event, a change of a value or of NORD does; the copy kept for the comparison reuses its memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DBE } from '../../src/protocol/constants.js';
import type { RecordDatabase } from '../../src/ioc/database.js';
import { databaseLoader } from '../helpers/ioc-db.js';
import { ArrayValue } from '../../src/ioc/records/array-value.js';

const load = databaseLoader();

function watch(db: RecordDatabase, pv: string): number[] {
  const masks: number[] = [];
  db.channel(pv)!.subscribe((m) => masks.push(m));
  return masks;
}

/** The VALUE / LOG bits of each post after `fn`. */
async function bitsAfter(masks: number[], fn: () => Promise<void>): Promise<number> {
  masks.length = 0;
  await fn();
  return masks.reduce((a, m) => a | m, 0) & (DBE.VALUE | DBE.LOG);
}

test('waveform MPST/APST On Change: numeric values and NORD', async () => {
  const db = load(`record(waveform, "w") { field(FTVL, DOUBLE) field(NELM, 8) field(MPST, "On Change") }
record(waveform, "l") { field(FTVL, LONG) field(NELM, 8) field(APST, "On Change") field(MPST, "On Change") }`);
  const w = watch(db, 'w');
  const both = DBE.VALUE | DBE.LOG;
  assert.equal(await bitsAfter(w, () => db.put('w', [1, 2, 3])), both);
  assert.equal(
    await bitsAfter(w, () => db.put('w', [1, 2, 3])),
    DBE.LOG,
    'same values: LOG only (APST Always)',
  );
  assert.equal(await bitsAfter(w, () => db.put('w', [1, 2, 4])), both);
  assert.equal(await bitsAfter(w, () => db.put('w', [1, 2])), both, 'NORD changed');
  assert.equal(await bitsAfter(w, () => db.put('w', [1, 2])), DBE.LOG);
  assert.equal(await bitsAfter(w, () => db.put('w', [1, 2, 4, 5, 6, 7, 8, 9, 10])), both);
  assert.equal(await bitsAfter(w, () => db.put('w', [1, 2, 4, 5, 6, 7, 8, 9])), DBE.LOG, 'cut at NELM: same');
  assert.equal(await bitsAfter(w, () => db.put('w', [NaN])), both);
  const l = watch(db, 'l');
  assert.equal(await bitsAfter(l, () => db.put('l', [5, 6])), both);
  assert.equal(await bitsAfter(l, () => db.put('l', [5, 6])), 0, 'nothing posted for VAL');
  assert.equal(await bitsAfter(l, () => db.put('l', [5, 7])), both);
  db.stop();
});

test('waveform On Change with strings: only the NORD valid elements count', async () => {
  const db = load(`record(waveform, "s") { field(FTVL, STRING) field(NELM, 4) field(MPST, "On Change") }`);
  const s = watch(db, 's');
  assert.equal(await bitsAfter(s, () => db.put('s', ['a', 'b'])), DBE.VALUE | DBE.LOG);
  assert.equal(await bitsAfter(s, () => db.put('s', ['a', 'b'])), DBE.LOG);
  assert.equal(await bitsAfter(s, () => db.put('s', ['a', 'c'])), DBE.VALUE | DBE.LOG);
  db.stop();
});

test('ArrayValue.snapshotCopy reuses the memory of the previous copy', () => {
  const av = new ArrayValue(10, 6); // DOUBLE, 6 elements
  av.put(Float64Array.of(1, 2, 3), 6);
  const a = av.snapshotCopy();
  assert.deepEqual(Array.from(a as Float64Array), [1, 2, 3]);
  av.put(Float64Array.of(4, 5, 6, 7, 8, 9), 6);
  const b = av.snapshotCopy(a) as Float64Array;
  assert.deepEqual(Array.from(b), [4, 5, 6, 7, 8, 9]);
  assert.equal(b.buffer, (a as Float64Array).buffer, 'room for NELM elements from the first copy');
  // the copy is not a view of the storage
  av.put(Float64Array.of(0), 6);
  assert.deepEqual(Array.from(b), [4, 5, 6, 7, 8, 9]);
  // another type (or strings) gets new memory
  const s = new ArrayValue(0, 3);
  s.put(['x'], 0);
  assert.deepEqual(s.snapshotCopy(b), ['x']);
  assert.deepEqual(s.valid(), ['x']);
});
