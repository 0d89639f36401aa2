/** transform record (synApps calc transformRecord.c): rows A..P, COPT, links, macros, CxV. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlarmStatus, ECA, Severity } from '../../src/protocol/constants.js';
import { CaStatusError } from '../../src/server/provider.js';
import { parseDatabase } from '../../src/ioc/db-parser.js';
import { compileTransformCalc, replaceMacros } from '../../src/ioc/records/transform.js';
import { demoDatabase, struckDatabase } from '../../src/ioc/demo/index.js';
import { num, str, databaseLoader } from '../helpers/ioc-db.js';

const load = databaseLoader();

test('rows are computed in order A..P, each seeing the rows computed before it', async () => {
  const db = load(`record(transform, "T") {
    field(CLCB, "A*2") field(CLCC, "B+1") field(CLCA, "C+100") field(PREC, 3) field(EGU, "mm") }`);
  await db.put('T.PROC', 1);
  // A = C+100 = 100 (C still 0), B = A*2 = 200, C = B+1 = 201
  assert.deepEqual([num(db, 'T.A'), num(db, 'T.B'), num(db, 'T.C')], [100, 200, 201]);
  assert.equal(db.channel('T.B')!.snapshot().precision, 3);
  assert.equal(str(db, 'T.COPT'), '0');
  assert.equal(num(db, 'T.CAV'), 0);
});

test('COPT Conditional: a value just written is not recomputed; Always recomputes it', async () => {
  const db = load(`record(transform, "T") { field(CLCA, "B/2") field(CLCB, "A*2") }`);
  // the put to B (pp) marks B as new: B keeps 10, A = B/2 = 5 computed before B's row
  await db.put('T.B', 10);
  assert.deepEqual([num(db, 'T.A'), num(db, 'T.B')], [5, 10]);
  // writing A: A keeps 7 and B = A*2
  await db.put('T.A', 7);
  assert.deepEqual([num(db, 'T.A'), num(db, 'T.B')], [7, 14]);
  // Always: the written value is overwritten by its own expression
  await db.put('T.COPT', 'Always');
  await db.put('T.B', 40);
  assert.deepEqual([num(db, 'T.A'), num(db, 'T.B')], [20, 40]);
  // ... B = A*2 with A = B/2 = 20 gives 40 again; now A is written and recomputed from B
  await db.put('T.A', 1);
  assert.deepEqual([num(db, 'T.A'), num(db, 'T.B')], [20, 40]);
});

test('input links are read, their rows are not computed, values with input links refuse puts', async () => {
  const db = load(`
    record(ao, "src") { field(VAL, 3) }
    record(ao, "dst") { }
    record(transform, "T") { field(INPA, "src") field(CLCA, "99") field(CLCB, "A*A") field(OUTB, "dst PP")
      field(INPC, "4.5") field(INPD, "nowhere:pv") }`);
  assert.equal(num(db, 'T.C'), 4.5, 'constant input link gives the initial value');
  assert.equal(str(db, 'T.IAV'), '2');
  assert.equal(db.channel('T.IAV')!.snapshot().enumStrs?.[2], 'Local PV');
  assert.equal(num(db, 'T.ICV'), 3, 'Constant');
  assert.equal(num(db, 'T.IDV'), 0, 'Ext PV NC');
  assert.equal(num(db, 'T.OBV'), 2);
  assert.equal(num(db, 'T.OAV'), 3);
  await db.put('T.PROC', 1);
  assert.equal(num(db, 'T.A'), 3, 'row A has an input link: its expression is not evaluated');
  assert.equal(num(db, 'T.B'), 9);
  assert.equal(num(db, 'dst'), 9, 'OUTB wrote B');
  await assert.rejects(db.put('T.A', 5), (e: unknown) => e instanceof CaStatusError && e.eca === ECA.PUTFAIL);
  await db.put('src', 4);
  await db.put('T.PROC', 1);
  assert.equal(num(db, 'dst'), 16);
  // the unreachable link raises LINK/INVALID
  assert.equal(num(db, 'T.SEVR'), Severity.INVALID);
  assert.equal(num(db, 'T.STAT'), AlarmStatus.LINK);
  // changing a link updates its status field
  await db.put('T.INPD', '');
  assert.equal(num(db, 'T.IDV'), 3);
  await db.put('T.PROC', 1);
  assert.equal(num(db, 'T.SEVR'), 0);
});

test('rows M..P and expressions naming more than A..L', async () => {
  const db = load(`record(transform, "T") {
    field(CLCM, "A+P") field(CLCP, "M*10") field(CLCN, "M+N+O+P") field(INPA, "1") field(INPO, "2") }`);
  await db.put('T.P', 5);
  // M = A+P = 6, N = M+N+O+P = 6+0+2+5 = 13, P written (kept) = 5
  assert.deepEqual(
    ['M', 'N', 'O', 'P'].map((l) => num(db, `T.${l}`)),
    [6, 13, 2, 5],
  );
  await db.put('T.PROC', 1);
  assert.equal(num(db, 'T.P'), 60, 'P = M*10 once P is no longer new');
  const c = compileTransformCalc('a+p*2+max(m,b)');
  assert.deepEqual([...c.slotRow], [0, 15, 12, 1]);
  const args = new Float64Array(12);
  args.set([1, 2, 3, 4]);
  assert.equal(c.calc.evaluate(args), 1 + 2 * 2 + Math.max(3, 4));
  assert.deepEqual(
    [...compileTransformCalc('A+PI+1e3').slotRow].slice(0, 3),
    [0, 1, 2],
    'A..L only: identity',
  );
  assert.throws(() => compileTransformCalc('A+B+C+D+E+F+G+H+I+J+K+L+M'), RangeError);
});

test('assignments write other rows; VAL is the row value', async () => {
  const db = load(`record(transform, "T") { field(CLCA, "B:=7;VAL+1") field(COPT, "Always") }`);
  await db.put('T.PROC', 1);
  await db.put('T.PROC', 1);
  assert.deepEqual([num(db, 'T.A'), num(db, 'T.B')], [2, 7]);
});

test('bad expressions: the put succeeds, CxV is set, the row is skipped; comments define $macros', async () => {
  const db = load(`record(transform, "T") { field(CMTA, "$xp x plus") field(CMTB, "$xpos x position")
    field(CLCC, "$xpos+$xp") field(INPA, "2") field(INPB, "3") }`);
  await db.put('T.PROC', 1);
  assert.equal(num(db, 'T.C'), 5);
  await db.put('T.CLCD', 'A+');
  assert.equal(num(db, 'T.CDV'), 1);
  assert.equal(str(db, 'T.CLCD'), 'A+');
  await db.put('T.PROC', 1);
  assert.equal(num(db, 'T.D'), 0);
  await db.put('T.CLCD', 'A*10');
  assert.equal(num(db, 'T.CDV'), 0);
  await db.put('T.PROC', 1);
  assert.equal(num(db, 'T.D'), 20);
  assert.equal(
    replaceMacros('$XPOS-$xp', [
      { name: '$xpos', letter: 'B' },
      { name: '$xp', letter: 'A' },
    ]),
    'B-A',
  );
});

test('monitors: changed rows post once processing ends', async () => {
  const db = load(`record(transform, "T") { field(CLCA, "A+1") field(COPT, "Always") }`);
  const seen: number[] = [];
  db.channel('T.A')!.subscribe(() => seen.push(num(db, 'T.A')));
  await db.put('T.PROC', 1);
  await db.put('T.PROC', 1);
  assert.deepEqual(seen.slice(-2), [1, 2]);
});

test('struck and demo databases parse and load', async () => {
  const text = struckDatabase('S1', { nchan: 9, nuse: 64, scaler: true });
  const names = parseDatabase(text, {}).items.flatMap((r) => (r.kind === 'record' ? [r.name] : []));
  for (const n of ['S1:mca1', 'S1:mca9', 'S1:EraseStart', 'S1:StopAll', 'S1:Acquiring', 'S1:NuseAll'])
    assert.ok(names.includes(n), n);
  assert.throws(() => struckDatabase('S', { nchan: 0 }), RangeError);
  const { scalerRecordType } = await import('../../src/ioc/records/scaler.js');
  const { mcaRecordType } = await import('../../src/ioc/records/mca.js');
  const db = load(text, { types: [scalerRecordType, mcaRecordType], file: 'struck.db' });
  await db.put('S1:NuseAll', 32);
  assert.equal(num(db, 'S1:mca9.NUSE'), 32, 'the dfanout chain reaches the ninth mca');
  await db.put('S1:PresetReal', 0.05);
  assert.equal(num(db, 'S1:mca1.PRTM'), 0.05);
  assert.ok(demoDatabase({ count: 0 }).includes('record(transform, "sim:userTran1")'));
  assert.ok(demoDatabase({ count: 0 }).includes('"sim:SIS1:EraseStart"'));
});

test('a written value overwritten by its expression is posted again (monitors not left stale)', async () => {
  const db = load(`record(transform, "T") { field(CLCB, "A*2") field(COPT, "Always") field(INPA, "1.5") }`);
  await db.put('T.PROC', 1);
  const seen: number[] = [];
  db.channel('T.B')!.subscribe(() => seen.push(num(db, 'T.B')));
  await db.put('T.B', 100);
  assert.equal(num(db, 'T.B'), 3);
  assert.equal(seen.at(-1), 3);
});

test('expressions longer than 40 characters through the CLCx$ long-string channel', async () => {
  const db = load(`record(transform, "T") { field(INPA, "2") }`);
  const expr = Array.from({ length: 30 }, () => 'A').join('+');
  await db.put('T.CLCB$', Uint8Array.from([...expr].map((c) => c.charCodeAt(0)).concat([0])), 4);
  assert.equal(
    Buffer.from(db.get('T.CLCB$') as Uint8Array)
      .toString('latin1')
      .replace(/\0.*$/, ''),
    expr,
  );
  await db.put('T.PROC', 1);
  assert.equal(num(db, 'T.B'), 60);
  assert.equal(num(db, 'T.CBV'), 0);
});
