/**
 * IOC behaviour matched to EPICS base's record support (checked against softIoc with C catools; the
 * same cases are recorded in test/fixtures/conformance/ioc-fixes.*): link text parsed as
 * dbParseLink does at run time, count-0 puts, string puts to a `FIELD$` view, .db float range
 * errors, mbbo without states served as DBF_USHORT, enum/menu limits, sel SELN, lso OVAL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlarmStatus, DbrNative, ECA, Severity } from '../../src/protocol/constants.js';
import { CaStatusError } from '../../src/server/provider.js';
import { RecordDatabase } from '../../src/ioc/database.js';
import { parseLinkText } from '../../src/ioc/links.js';
import { parseDbFloatField } from '../../src/ioc/fields.js';
import { alarm, num, str, databaseLoader } from '../helpers/ioc-db.js';

const load = databaseLoader();

test('link text at run time: name up to the first space, modifiers found anywhere (dbParseLink)', async () => {
  const lenient = (t: string) => {
    const p = parseLinkText(t, false);
    return [p.pvName, p.pp, p.ca, p.cp, p.cpp, p.ms];
  };
  assert.deepEqual(lenient('bad link syntax ('), ['bad', false, false, false, false, 'NMS']);
  assert.deepEqual(lenient('X:a QQCPPXMSITT'), ['X:a', false, false, false, true, 'MSI']);
  assert.deepEqual(lenient('X:a CA PP MS'), ['X:a', true, false, false, false, 'MS']);
  assert.deepEqual(lenient('X:a NPP,MSS'), ['X:a', false, false, false, false, 'MSS']);
  assert.deepEqual(lenient('X:a,PP'), ['X:a,PP', false, false, false, false, 'NMS']);
  // a .db file keeps refusing unknown modifiers
  assert.throws(() => parseLinkText('A B C'), /unknown link modifier 'B'/);

  const db = load(`record(calc, "c") { field(INPA, "a") field(CALC, "A") }
record(ao, "a") { field(VAL, "2") field(OUT, "c.A") }`);
  await db.put('c.INPA', 'bad link syntax (');
  assert.equal(str(db, 'c.INPA'), 'bad NPP NMS');
  await db.put('a.OUT', 'c.B CPP MSI');
  assert.equal(str(db, 'a.OUT'), 'c.B NPP MSI', 'no CPP on an output link');
  db.stop();
});

test('a count-0 put: arrays get NORD 0, a scalar is unchanged and processes into LINK/INVALID', async () => {
  const db =
    load(`record(waveform, "w") { field(NELM, 5) field(FTVL, DOUBLE) field(INP, "[1,2,3]") field(PINI, YES) }
record(ao, "a") { field(VAL, 3) }
record(ao, "b") { field(VAL, 4) field(SCAN, "Event") field(EVNT, "never") }`);
  assert.equal(num(db, 'w.NORD'), 3);
  await db.put('w', new Float64Array(0), DbrNative.DOUBLE);
  assert.equal(num(db, 'w.NORD'), 0);
  await db.put('a', new Float64Array(0), DbrNative.DOUBLE);
  assert.equal(num(db, 'a'), 3);
  assert.deepEqual(alarm(db, 'a'), [AlarmStatus.LINK, Severity.INVALID]);
  // not Passive: no processing, the value stays
  await db.put('b', new Float64Array(0), DbrNative.DOUBLE);
  assert.equal(num(db, 'b'), 4);
  db.stop();
});

test('DBR_STRING into a FIELD$ view: a character code goes into the first byte, other text fails', async () => {
  const db = load(`record(ai, "a") { field(DESC, "hello") }
record(calc, "c") { field(CALC, "A+B") }`);
  const fails = (p: Promise<unknown>) =>
    assert.rejects(p, (e: unknown) => e instanceof CaStatusError && e.eca === ECA.PUTFAIL);
  await fails(db.put('c.CALC$', 'A+B+C'));
  await fails(db.put('a.DESC$', 'plain to dollar'));
  await fails(db.put('a.DESC$', '300'));
  assert.equal(str(db, 'c.CALC'), 'A+B');
  await db.put('a.DESC$', '74');
  assert.equal(str(db, 'a.DESC'), 'Jello');
  await db.put('a.DESC$', '0x4d');
  assert.equal(str(db, 'a.DESC'), 'Mello');
  await db.put('a.DESC$', '0');
  assert.equal(str(db, 'a.DESC'), '');
  // characters still write the whole text
  await db.put(
    'c.CALC$',
    Uint8Array.from([...'A*B'].map((c) => c.charCodeAt(0)).concat([0])),
    DbrNative.CHAR,
  );
  assert.equal(str(db, 'c.CALC'), 'A*B');
  db.stop();
});

test('.db floats: overflow, underflow to 0 and subnormals fail; FLOAT fields use FLT_MIN/FLT_MAX', () => {
  for (const t of ['4.9e-324', '1e-400', '-1e-310', '1e400', '-2e308'])
    assert.throws(() => parseDbFloatField(t, false), /out of range/, t);
  for (const [t, v] of [
    ['2.3e-308', 2.3e-308],
    ['0e-500', 0],
    ['-0.0', -0],
    ['inf', Infinity],
    ['0x10', 16],
    ['1.5', 1.5],
  ] as const)
    assert.equal(parseDbFloatField(t, false), v, t);
  assert.throws(() => parseDbFloatField('1e-39', true), /FLOAT/);
  assert.throws(() => parseDbFloatField('-3.5e38', true), /FLOAT/);
  assert.equal(parseDbFloatField('-1e-39', true), -1e-39, 'only a positive tiny value underflows');
  const db = new RecordDatabase();
  assert.throws(
    () => db.loadDatabase('record(ai, "x") { field(VAL, "4.9e-324") }', undefined, { file: 'd.db' }),
    /underflow/,
  );
});

test('mbbo without states serves VAL as DBF_USHORT (LONG on the wire); with states as ENUM', async () => {
  const db = load(`record(mbbo, "none") {}
record(mbbo, "st") { field(ZRST, "Stop") field(ONST, "Go") field(ZRVL, 3) field(ONVL, 5) }`);
  const none = db.channel('none')!;
  assert.equal(none.nativeType, DbrNative.LONG);
  const s = none.snapshot();
  assert.equal(s.enumStrs, undefined);
  assert.equal(s.upperCtrlLimit, 0);
  assert.ok(Number.isNaN(s.upperAlarmLimit));
  await db.put('none', '5');
  assert.equal(num(db, 'none'), 5);
  assert.equal(num(db, 'none.RVAL'), 5);
  await assert.rejects(db.put('none', '70000'));
  assert.equal(db.channel('st')!.nativeType, DbrNative.ENUM);
  assert.equal(num(db, 'st.RVAL'), 3, 'init_record converts VAL 0 to ZRVL');
  await db.put('st', 7);
  assert.equal(num(db, 'st.RVAL'), 0, 'state 7: SVVL');
  await db.put('st', 1);
  assert.equal(num(db, 'st.RVAL'), 5);
  await db.put('st', 16);
  assert.deepEqual(alarm(db, 'st'), [AlarmStatus.SOFT, Severity.INVALID]);
  assert.equal(num(db, 'st.RVAL'), 5, 'RVAL kept for a value past the 16 states');
  db.stop();
});

test('enum and menu fields: alarm limits NaN; records without get_control_double report no limits', () => {
  const db = load(`record(bo, "bo") { field(ZNAM, "Off") }
record(mbbi, "mi") { field(ZRST, "a") }
record(ai, "ai") {}`);
  const bo = db.channel('bo')!.snapshot();
  assert.ok(Number.isNaN(bo.upperAlarmLimit) && Number.isNaN(bo.lowerWarningLimit));
  assert.equal(bo.upperCtrlLimit, 65535, 'bo has get_control_double');
  assert.deepEqual(bo.enumStrs, ['Off'], 'only ZNAM: one state');
  const mi = db.channel('mi')!.snapshot();
  assert.equal(mi.upperCtrlLimit, 0);
  assert.ok(Number.isNaN(mi.upperAlarmLimit));
  const scan = db.channel('ai.SCAN')!.snapshot();
  assert.ok(Number.isNaN(scan.upperAlarmLimit));
  assert.equal(scan.upperDispLimit, 0);
  const zrvl = db.channel('mi.ZRVL')!.snapshot();
  assert.equal(zrvl.upperDispLimit, 0, 'mbbi has no get_graphic_double');
  assert.equal(zrvl.upperCtrlLimit, 0);
  const high = db.channel('bo.HIGH')!.snapshot();
  assert.deepEqual([high.units, high.precision, high.upperCtrlLimit], ['s', 2, 100000]);
  db.stop();
});

test('sel: High/Low give the index of the first max/min, Median the count of inputs; lso OVAL at init', () => {
  const db = load(`record(ao, "a") { field(VAL, 3) }
record(ao, "b") { field(VAL, 7.5) }
record(ao, "c") { field(VAL, -2) }
record(sel, "h") { field(SELM, "High Signal") field(INPA, "a") field(INPB, "b") field(INPC, "c") field(INPD, "b") field(PINI, YES) }
record(sel, "l") { field(SELM, "Low Signal") field(INPA, "a") field(INPB, "b") field(INPC, "c") field(PINI, YES) }
record(sel, "m") { field(SELM, "Median Signal") field(INPA, "a") field(INPB, "b") field(INPC, "c") field(PINI, YES) }
record(sel, "e") { field(SELM, "High Signal") field(PINI, YES) }
record(lso, "s") { field(SIZV, 4) field(DOL, {const:"initial"}) }`);
  assert.deepEqual([num(db, 'h'), num(db, 'h.SELN')], [7.5, 1]);
  assert.deepEqual([num(db, 'l'), num(db, 'l.SELN')], [-2, 2]);
  assert.deepEqual([num(db, 'm'), num(db, 'm.SELN')], [3, 3]);
  assert.equal(num(db, 'e'), -Infinity, 'no input: -inf, as base');
  assert.equal(str(db, 's.OVAL'), 'initial');
  assert.equal(num(db, 's.SIZV'), 16, 'SIZV at least 16');
  db.stop();
});

test('calc skips the calculation when an input link fails; bo MASK 0 gives RVAL = VAL', async () => {
  const db =
    load(`record(calc, "bad") { field(INPA, "nothere") field(INPB, "1") field(CALC, "B+1") field(PINI, YES) }
record(bo, "bo") {}`);
  assert.equal(num(db, 'bad'), 0);
  assert.deepEqual(alarm(db, 'bad'), [AlarmStatus.LINK, Severity.INVALID]);
  await db.put('bo', 5);
  assert.equal(num(db, 'bo.RVAL'), 5);
  db.stop();
});
