/** Steps shared by several record types (records/record-common.ts): IVOA, constant inputs, COS alarms. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlarmStatus, Severity } from '../../src/protocol/constants.js';
import { alarm, num, databaseLoader } from '../helpers/ioc-db.js';

const load = databaseLoader();

const IVOA = ['Continue normally', "Don't drive outputs", 'Set output to IVOV'];

test('IVOA on bo, mbbo, mbboDirect, ao, longout and calcout when the new severity is INVALID', async () => {
  for (let ivoa = 0; ivoa < 3; ivoa++) {
    const db = load(`
record(ao, "t") {}
record(bo, "bo") { field(OUT, "t PP") field(ZSV, "INVALID") field(IVOA, "${IVOA[ivoa]}") field(IVOV, "1") }
record(mbbo, "mbbo") { field(OUT, "t PP") field(ZRSV, "INVALID") field(IVOA, "${IVOA[ivoa]}") field(IVOV, "3") }
record(ao, "ao") { field(OUT, "t PP") field(HIHI, "5") field(HHSV, "INVALID") field(IVOA, "${IVOA[ivoa]}") field(IVOV, "4") }
record(longout, "lo") { field(OUT, "t PP") field(HIHI, "5") field(HHSV, "INVALID") field(IVOA, "${IVOA[ivoa]}") field(IVOV, "2") }
record(calcout, "co") { field(CALC, "A") field(OUT, "t PP") field(HIHI, "5") field(HHSV, "INVALID") field(IVOA, "${IVOA[ivoa]}") field(IVOV, "6") }`);
    const cases: Array<[string, string, number, number]> = [
      // record, field written, value written, IVOV
      ['bo', 'bo', 0, 1],
      ['mbbo', 'mbbo', 0, 3],
      ['ao', 'ao', 10, 4],
      ['lo', 'lo', 10, 2],
      ['co', 'co.A', 10, 6],
    ];
    for (const [rec, field, value, ivov] of cases) {
      await db.put('t', -1);
      await db.put(field, value);
      assert.equal(alarm(db, rec)[1], Severity.INVALID, `${rec} INVALID`);
      const want = ivoa === 0 ? value : ivoa === 1 ? -1 : ivov;
      assert.equal(num(db, 't'), want, `${rec} IVOA=${ivoa}`);
      if (ivoa === 2 && rec !== 'ao' && rec !== 'co') assert.equal(num(db, rec), ivov, `${rec} VAL=IVOV`);
    }
  }
});

test('constant input links set VAL and clear UDF at init', () => {
  const db = load(`
record(ai, "ai") { field(INP, "2.5") }
record(bi, "bi") { field(INP, "1") }
record(mbbi, "mbbi") { field(INP, "3") }
record(mbbiDirect, "mbbid") { field(INP, "5") }
record(longin, "li") { field(INP, "7") }
record(bo, "bo") { field(DOL, "3") }
record(mbbo, "mbbo") { field(DOL, "2") }
record(ao, "ao") { field(DOL, "1.5") }
record(longout, "lo") { field(DOL, "9") }
record(ai, "none") {}`);
  const want: Record<string, number> = {
    ai: 2.5,
    bi: 1,
    mbbi: 3,
    mbbid: 5,
    li: 7,
    bo: 1,
    mbbo: 2,
    ao: 1.5,
    lo: 9,
  };
  for (const [pv, v] of Object.entries(want)) {
    assert.equal(num(db, pv), v, pv);
    assert.equal(num(db, `${pv}.UDF`), 0, `${pv}.UDF`);
  }
  assert.equal(num(db, 'mbbid.B0'), 1);
  assert.equal(num(db, 'mbbid.B2'), 1);
  assert.equal(num(db, 'none.UDF'), 1);
});

test('change-of-state alarm (COSV) on bi and mbbi when VAL changes', async () => {
  const db = load(`
record(bi, "bi") { field(COSV, "MINOR") }
record(mbbi, "mbbi") { field(COSV, "MAJOR") }`);
  for (const [pv, sevr] of [
    ['bi', Severity.MINOR],
    ['mbbi', Severity.MAJOR],
  ] as const) {
    await db.put(pv, 1);
    assert.deepEqual(alarm(db, pv), [AlarmStatus.COS, sevr], `${pv} changed`);
    await db.put(`${pv}.PROC`, 1);
    assert.deepEqual(alarm(db, pv), [AlarmStatus.NO_ALARM, Severity.NO_ALARM], `${pv} unchanged`);
    await db.put(pv, 0);
    assert.deepEqual(alarm(db, pv), [AlarmStatus.COS, sevr], `${pv} changed back`);
  }
});
