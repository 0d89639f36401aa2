import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlarmStatus, DBE, DBR, DbrNative, ECA, Severity } from '../../src/protocol/constants.js';
import { CaStatusError, type ClientIdentity } from '../../src/server/provider.js';
import type { RecordDatabase } from '../../src/ioc/database.js';
import { alarm, num, databaseLoader } from '../helpers/ioc-db.js';

const CLIENT: ClientIdentity = { user: 'u', host: 'h', address: '127.0.0.1' };

const load = databaseLoader();
function watch(db: RecordDatabase, pv: string): number[] {
  const masks: number[] = [];
  db.channel(pv)!.subscribe((m) => masks.push(m));
  return masks;
}
const rejectsWith = async (p: Promise<unknown>, eca: number): Promise<void> => {
  await assert.rejects(p, (e: unknown) => e instanceof CaStatusError && e.eca === eca);
};

test('ai limit alarms with hysteresis; a processed ai is defined (aiRecord.c, as softIoc)', async () => {
  const db = load(`record(ai, "A") { field(HIHI, 90) field(HIGH, 80) field(LOW, 0) field(LOLO, -10)
    field(HHSV, MAJOR) field(HSV, MINOR) field(LSV, MINOR) field(LLSV, MAJOR) field(HYST, 2) field(PINI, YES) }
record(ai, "never") {}`);
  // PINI processed A with an empty INP: UDF cleared, VAL 0 is below LOW (softIoc: 0 LOW MINOR)
  assert.deepEqual(alarm(db, 'A'), [AlarmStatus.LOW, Severity.MINOR]);
  assert.deepEqual(alarm(db, 'never'), [AlarmStatus.UDF, Severity.INVALID]);
  const steps: [number, number, number][] = [
    [50, AlarmStatus.NO_ALARM, Severity.NO_ALARM],
    [85, AlarmStatus.HIGH, Severity.MINOR],
    [91, AlarmStatus.HIHI, Severity.MAJOR],
    [89, AlarmStatus.HIHI, Severity.MAJOR],
    [87.5, AlarmStatus.HIGH, Severity.MINOR],
    [79, AlarmStatus.HIGH, Severity.MINOR],
    [77, AlarmStatus.NO_ALARM, Severity.NO_ALARM],
    [-1, AlarmStatus.LOW, Severity.MINOR],
    [-10, AlarmStatus.LOLO, Severity.MAJOR],
    [-8.5, AlarmStatus.LOLO, Severity.MAJOR],
    [-7.9, AlarmStatus.LOW, Severity.MINOR],
    [1.5, AlarmStatus.LOW, Severity.MINOR],
    [2.5, AlarmStatus.NO_ALARM, Severity.NO_ALARM],
  ];
  for (const [v, stat, sevr] of steps) {
    await db.put('A', v);
    assert.deepEqual(alarm(db, 'A'), [stat, sevr], `after ${v}`);
  }
  db.stop();
});

test('monitors: MDEL/ADEL deadbands, DBE_ALARM on alarm change, DBE_PROPERTY on metadata writes', async () => {
  const db = load(`record(ai, "A") { field(MDEL, 1) field(ADEL, 5) field(HIGH, 10) field(HSV, MINOR) }`);
  const masks = watch(db, 'A');
  const egu = watch(db, 'A.EGU');
  await db.put('A', 0.5); // alarm UDF -> NO_ALARM, value within MDEL of 0
  assert.deepEqual(masks, [DBE.ALARM]);
  masks.length = 0;
  await db.put('A', 1.6);
  assert.deepEqual(masks, [DBE.VALUE]);
  masks.length = 0;
  await db.put('A', 2.0); // |2.0 - 1.6| <= 1: nothing
  assert.deepEqual(masks, []);
  await db.put('A', 6);
  assert.deepEqual(masks, [DBE.VALUE | DBE.LOG]);
  masks.length = 0;
  await db.put('A', 11.5);
  assert.deepEqual(masks, [DBE.VALUE | DBE.LOG | DBE.ALARM]);
  masks.length = 0;
  await db.put('A.EGU', 'mm');
  assert.deepEqual(masks, [DBE.PROPERTY]);
  assert.deepEqual(egu, [DBE.VALUE | DBE.LOG, DBE.PROPERTY]);
  assert.equal(db.channel('A')!.snapshot().units, 'mm');
  db.stop();
});

test('FLNK chains, PP and NPP input links, closed-loop outputs', async () => {
  const db = load(`
record(ao, "src") { field(FLNK, "calc") }
record(calc, "calc") { field(INPA, "src NPP") field(CALC, "A*2") field(FLNK, "dst") }
record(ao, "dst") { field(OMSL, "closed_loop") field(DOL, "calc") }
record(calc, "cnt") { field(INPA, "cnt") field(CALC, "A+1") }
record(calc, "pp") { field(INPA, "cnt PP") field(CALC, "A") }
record(calc, "npp") { field(INPA, "cnt NPP") field(CALC, "A") }`);
  await db.put('src', 21);
  assert.equal(num(db, 'calc'), 42);
  assert.equal(num(db, 'dst'), 42);
  await db.put('pp.PROC', 1);
  assert.equal(num(db, 'cnt'), 1);
  assert.equal(num(db, 'pp'), 1);
  await db.put('npp.PROC', 1);
  assert.equal(num(db, 'cnt'), 1, 'NPP does not process the source');
  assert.equal(num(db, 'npp'), 1);
  assert.deepEqual(db.get('calc.INPA'), ['src NPP NMS']);
  db.stop();
});

test('output links: PP processes a Passive target, NPP only writes; MS propagates severity', async () => {
  const db = load(`
record(ao, "o1") { field(OUT, "t1 PP") }
record(ao, "o2") { field(OUT, "t2.VAL NPP") }
record(ai, "t1") {}
record(ai, "t2") {}
record(ai, "bad") { field(HIHI, 5) field(HHSV, MAJOR) }
record(calc, "ms") { field(INPA, "bad MS") field(CALC, "A") }
record(calc, "nms") { field(INPA, "bad NMS") field(CALC, "A") }`);
  await db.put('o1', 3);
  assert.equal(num(db, 't1'), 3);
  assert.deepEqual(alarm(db, 't1'), [0, 0]);
  await db.put('o2', 4);
  assert.equal(num(db, 't2'), 4);
  assert.equal(db.channel('t2')!.snapshot().stamp!.secPastEpoch, 0, 'NPP target not processed');
  await db.put('bad', 7);
  await db.put('ms.PROC', 1);
  await db.put('nms.PROC', 1);
  assert.deepEqual(alarm(db, 'ms'), [AlarmStatus.LINK, Severity.MAJOR]);
  assert.deepEqual(alarm(db, 'nms'), [0, 0]);
  db.stop();
});

test('unresolved links: LINK/INVALID alarm, not a crash', async () => {
  const db = load(`record(calc, "c") { field(INPA, "nowhere:pv") field(CALC, "A+1") }`);
  await db.put('c.PROC', 1);
  assert.deepEqual(alarm(db, 'c'), [AlarmStatus.LINK, Severity.INVALID]);
  db.stop();
});

test('fanout: SELM All, Specified, Mask', async () => {
  const db = load(`
record(fanout, "f") { field(LNK1, "c1") field(LNK2, "c2") field(LNK3, "c3") }
record(calc, "c1") { field(INPA, "c1") field(CALC, "A+1") }
record(calc, "c2") { field(INPA, "c2") field(CALC, "A+1") }
record(calc, "c3") { field(INPA, "c3") field(CALC, "A+1") }`);
  const counts = (): number[] => ['c1', 'c2', 'c3'].map((n) => num(db, n));
  await db.put('f.PROC', 1);
  assert.deepEqual(counts(), [1, 1, 1]);
  await db.put('f.SELM', 'Specified');
  await db.put('f.SELN', 2);
  await db.put('f.PROC', 1);
  assert.deepEqual(counts(), [1, 2, 1]);
  await db.put('f.SELM', 'Mask');
  await db.put('f.SHFT', 0);
  await db.put('f.SELN', 0b1010);
  await db.put('f.PROC', 1);
  assert.deepEqual(counts(), [2, 2, 2]);
  db.stop();
});

test('ao: DRVH/DRVL clamp puts; numeric and string conversions of puts', async () => {
  const db = load(`record(ao, "ao") { field(DRVH, 10) field(DRVL, -5) field(PREC, 2) }
record(longout, "lo") {}
record(ai, "ai") {}`);
  await db.put('ao', 100);
  assert.equal(num(db, 'ao'), 10);
  await db.put('ao', -100);
  assert.equal(num(db, 'ao'), -5);
  await db.put('ao', '0x4');
  assert.equal(num(db, 'ao'), 4);
  await rejectsWith(db.put('ao', 'not-a-number'), ECA.PUTFAIL);
  await rejectsWith(db.put('ao', '1e400'), ECA.PUTFAIL);
  for (const [s, v] of [
    ['12.7', 12],
    ['7abc', 7],
    ['1e2', 1],
    ['0x10', 0],
    ['', 0],
    [' -3', -3],
  ] as const) {
    await db.put('lo', s);
    assert.equal(num(db, 'lo'), v, s);
  }
  await rejectsWith(db.put('lo', 'abc'), ECA.PUTFAIL);
  await db.put('ai', 'inf');
  assert.equal(num(db, 'ai'), Infinity);
  await db.put('lo', 3.9);
  assert.equal(num(db, 'lo'), 3, 'float to integer truncates');
  await rejectsWith(db.put('ao.PREC', '70000'), ECA.PUTFAIL);
  await db.put('ao.PREC', '3');
  assert.deepEqual(Array.from(db.get('ao.PREC') as Int16Array), [3]);
  await db.put('ao.DESC', 1.5);
  assert.deepEqual(
    db.get('ao.DESC'),
    ['1.500000'],
    'double to string field: precision 6 like cvtDoubleToString',
  );
  db.stop();
});

test('enum puts: state strings, indexes, undefined states; menus', async () => {
  const db = load(`
record(mbbo, "m") { field(ZRST, "Stop") field(ONST, "Start") field(TWST, "Pause") field(THST, "Resume") }
record(bo, "b") { field(ZNAM, "Off") field(ONAM, "On") }
record(bi, "bi") {}`);
  const ch = db.channel('m')!;
  assert.deepEqual(ch.snapshot().enumStrs, ['Stop', 'Start', 'Pause', 'Resume']);
  assert.deepEqual(alarm(db, 'm'), [AlarmStatus.UDF, Severity.INVALID]);
  await db.put('m', 'Pause');
  assert.equal(num(db, 'm'), 2);
  await db.put('m', '3');
  assert.equal(num(db, 'm'), 3);
  await rejectsWith(db.put('m', 'Bogus'), ECA.PUTFAIL);
  await rejectsWith(db.put('m', '4'), ECA.PUTFAIL);
  await db.put('m', 7);
  assert.equal(num(db, 'm'), 7, 'numeric puts beyond the states are stored');
  const snap = ch.snapshot() as { enumUndefinedString?: string };
  assert.equal(snap.enumUndefinedString, '');
  await db.put('b', 'On');
  assert.equal(num(db, 'b'), 1);
  await db.put('bi', 2);
  assert.equal(num(db, 'bi'), 2);
  assert.deepEqual(db.channel('bi')!.snapshot().enumStrs, ['', '']);
  assert.equal(
    (db.channel('bi')!.snapshot() as { enumUndefinedString?: string }).enumUndefinedString,
    'Illegal_Value',
  );
  await db.put('m.ZRST', 'Halt');
  assert.deepEqual(ch.snapshot().enumStrs, ['Halt', 'Start', 'Pause', 'Resume']);
  await db.put('b.SCAN', '1 second');
  assert.equal(num(db, 'b.SCAN'), 6);
  await rejectsWith(db.put('b.SCAN', 'sometimes'), ECA.PUTFAIL);
  // As softIoc (checked by hand): a numeric put beyond the menu's choices is stored and reads back
  // as the number.
  await db.put('b.SCAN', 10);
  assert.equal(num(db, 'b.SCAN'), 10);
  db.stop();
});

test('mbbo: number of enum strings is up to the last non-empty state', () => {
  const db = load(`record(mbbo, "m") { field(ZRST, "a") field(THST, "d") }`);
  assert.deepEqual(db.channel('m')!.snapshot().enumStrs, ['a', '', '', 'd']);
  db.stop();
});

test('disable: SDIS/DISV put the record in DISABLE with DISS and skip processing', async () => {
  const db = load(`
record(bi, "en") { field(VAL, 0) }
record(calc, "c") { field(INPA, "c") field(CALC, "A+1") field(SDIS, "en") field(DISV, 0) field(DISS, MINOR) }`);
  await db.put('c.PROC', 1);
  assert.equal(num(db, 'c'), 0);
  assert.deepEqual(alarm(db, 'c'), [AlarmStatus.DISABLE, Severity.MINOR]);
  await db.put('en', 1);
  await db.put('c.PROC', 1);
  assert.equal(num(db, 'c'), 1);
  assert.deepEqual(alarm(db, 'c'), [0, 0]);
  db.stop();
});

test('read-only fields, DBR_PUT_ACKT/ACKS, access rights', async () => {
  const db = load(`record(ai, "a") { field(HIGH, 1) field(HSV, MINOR) }`);
  const name = db.channel('a.NAME')!;
  assert.equal(name.accessRights(CLIENT), 1);
  assert.equal(db.channel('a')!.accessRights(CLIENT), 3);
  await rejectsWith(name.write(['x'], DbrNative.STRING, CLIENT), ECA.NOWTACCESS);
  await db.put('a', 5);
  let s = db.channel('a')!.snapshot();
  assert.equal(s.acks, Severity.MINOR);
  assert.equal(s.ackt, 1);
  await db.channel('a')!.write(Uint16Array.of(Severity.MINOR), DBR.PUT_ACKS, CLIENT);
  s = db.channel('a')!.snapshot();
  assert.equal(s.acks, 0);
  await db.channel('a')!.write(Uint16Array.of(0), DBR.PUT_ACKT, CLIENT);
  assert.equal(db.channel('a')!.snapshot().ackt, 0);
  db.setAccessSecurity({ rightsFor: (asg) => (asg === 'RO' ? 1 : 3) });
  await db.put('a.ASG', 'RO');
  assert.equal(db.channel('a')!.accessRights(CLIENT), 1);
  await rejectsWith(db.channel('a')!.write(Float64Array.of(1), DbrNative.DOUBLE, CLIENT), ECA.NOWTACCESS);
  db.stop();
});

test('calcout ODLY: put completion waits for the delayed output and the chain it starts', async () => {
  const db = load(`
record(calcout, "slow") { field(CALC, "A") field(ODLY, "0.3") field(OUT, "dst PP") field(OOPT, "Every Time") }
record(ao, "dst") { field(FLNK, "after") }
record(calc, "after") { field(INPA, "dst") field(CALC, "A*10") }`);
  const dlya = watch(db, 'slow.DLYA');
  const t0 = Date.now();
  await db.put('slow.A', 3);
  const dt = Date.now() - t0;
  assert.ok(dt >= 280, `completed after ${dt} ms`);
  assert.equal(num(db, 'dst'), 3);
  assert.equal(num(db, 'after'), 30);
  assert.equal(dlya.length, 2);
  // A put to the value field VAL itself does not process (not pp)
  await db.put('slow', 5);
  assert.equal(num(db, 'dst'), 3);
  db.stop();
});

test('calcout OOPT: On Change, When Non-zero, Transition To Zero', async () => {
  const db = load(`
record(calcout, "co") { field(CALC, "A") field(OUT, "cnt.PROC") field(OOPT, "On Change") }
record(calc, "cnt") { field(INPA, "cnt") field(CALC, "A+1") }`);
  await db.put('co.A', 1);
  await db.put('co.A', 1);
  await db.put('co.A', 2);
  assert.equal(num(db, 'cnt'), 2);
  await db.put('co.OOPT', 'Transition To Zero');
  await db.put('co.A', 0);
  await db.put('co.A', 0);
  assert.equal(num(db, 'cnt'), 3);
  // As softIoc: the bad expression is stored, the put fails, and the record is in CALC alarm.
  await rejectsWith(db.put('co.CALC', 'A+'), ECA.PUTFAIL);
  assert.deepEqual(db.get('co.CALC'), ['A+']);
  db.stop();
});

test('a put to an active asynchronous record reprocesses it afterwards (RPRO)', async () => {
  const db = load(`record(calcout, "s") { field(CALC, "A") field(ODLY, "0.1") field(OUT, "d PP") }
record(ao, "d") {}`);
  const p1 = db.put('s.A', 1);
  const p2 = db.put('s.A', 2);
  await Promise.all([p1, p2]);
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(num(db, 'd'), 2);
  db.stop();
});

test('CP input links process the record when the source posts', async () => {
  const db = load(`record(ao, "src") {}
record(calc, "c") { field(INPA, "src CP") field(CALC, "A+100") }`);
  await db.put('src', 5);
  await new Promise((r) => setImmediate(r));
  assert.equal(num(db, 'c'), 105);
  db.stop();
});

test('periodic scan and PINI; stop() ends every timer', async () => {
  const db = load(`record(calc, "cnt") { field(SCAN, ".1 second") field(CALC, "A+1") field(INPA, "cnt") }
record(ao, "init") { field(PINI, YES) field(VAL, 3) }`);
  assert.deepEqual(alarm(db, 'init'), [0, 0]);
  assert.notEqual(db.channel('init')!.snapshot().stamp!.secPastEpoch, 0);
  await new Promise((r) => setTimeout(r, 350));
  const n = num(db, 'cnt');
  assert.ok(n >= 2 && n <= 4, `counted ${n}`);
  await db.put('cnt.SCAN', 'Passive');
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(num(db, 'cnt'), n);
  db.stop();
});

test('bo HIGH: momentary output returns to 0', async () => {
  const db = load(`record(bo, "b") { field(HIGH, "0.1") }`);
  const masks = watch(db, 'b');
  await db.put('b', 1);
  assert.equal(num(db, 'b'), 1);
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(num(db, 'b'), 0);
  assert.ok(masks.length >= 2);
  db.stop();
});

test('seq: delayed transfers complete before the put does', async () => {
  const db =
    load(`record(seq, "s") { field(DLY1, "0.1") field(DO1, 5) field(LNK1, "a PP") field(DLY2, "0.1") field(DOL2, "a") field(LNK2, "b PP") }
record(ao, "a") {}
record(ao, "b") {}`);
  const t0 = Date.now();
  await db.put('s.PROC', 1);
  assert.ok(Date.now() - t0 >= 180);
  assert.equal(num(db, 'a'), 5);
  assert.equal(num(db, 'b'), 5);
  db.stop();
});

test('waveform: FTVL native types, NELM element count, CA puts set NORD', async () => {
  const db = load(
    ['STRING', 'CHAR', 'UCHAR', 'SHORT', 'USHORT', 'LONG', 'ULONG', 'INT64', 'FLOAT', 'DOUBLE', 'ENUM']
      .map((t) => `record(waveform, "w${t}") { field(FTVL, ${t}) field(NELM, 5) }`)
      .join('\n'),
  );
  const want: Record<string, number> = {
    STRING: 0,
    CHAR: 4,
    UCHAR: 4,
    SHORT: 1,
    USHORT: 5,
    LONG: 5,
    ULONG: 6,
    INT64: 6,
    FLOAT: 2,
    DOUBLE: 6,
    ENUM: 3,
  };
  for (const [t, native] of Object.entries(want)) {
    const ch = db.channel(`w${t}`)!;
    assert.equal(ch.nativeType, native, t);
    assert.equal(ch.elementCount, 5);
    assert.equal(ch.snapshot().count, 0);
    assert.equal(ch.accessRights(CLIENT), 3, 'array VAL is writable');
  }
  await db.put('wDOUBLE', [1.5, 2.5, 3.5]);
  assert.deepEqual(Array.from(db.get('wDOUBLE') as Float64Array), [1.5, 2.5, 3.5]);
  assert.equal(num(db, 'wDOUBLE.NORD'), 3);
  await db.put('wUSHORT', [-1, 70000]);
  assert.deepEqual(Array.from(db.get('wUSHORT') as Int32Array), [65535, 4464]);
  await db.put('wSTRING', ['a', 'b']);
  assert.deepEqual(db.channel('wSTRING')!.snapshot().value.slice(0, 2), ['a', 'b']);
  await db.put('wCHAR', Uint8Array.of(104, 105, 0), DbrNative.CHAR);
  assert.equal(num(db, 'wCHAR.NORD'), 3);
  await db.put('wLONG', ['1', '2', '3', '4', '5', '6']);
  assert.equal(num(db, 'wLONG.NORD'), 5, 'NORD is at most NELM');
  db.stop();
});

test('REC.FIELD$ channels: strings and links as CHAR arrays', async () => {
  const db = load(`record(ai, "a") { field(DESC, "hello") field(INP, "b NPP") }
record(ai, "b") {}`);
  const d = db.channel('a.DESC$')!;
  assert.equal(d.nativeType, DbrNative.CHAR);
  assert.equal(d.elementCount, 41);
  const s = d.snapshot();
  assert.equal(s.count, 6);
  assert.equal(Buffer.from(s.value as Uint8Array).toString('latin1'), 'hello\0');
  const l = db.channel('a.INP$')!;
  assert.equal(l.elementCount, 1024);
  await d.write(Uint8Array.from(Buffer.from('new text\0')), DbrNative.CHAR, CLIENT);
  assert.deepEqual(db.get('a.DESC'), ['new text']);
  assert.equal(db.has('a.NOPE'), false);
  assert.equal(db.has('nope'), false);
  assert.equal(db.channel('a.RSET'), undefined, 'NOACCESS fields are not channels');
  db.stop();
});

test('menu fields with more than 16 choices report 16 enum strings; STAT reads as its menu', async () => {
  const db = load(`record(ai, "a") {}`);
  const s = db.channel('a.STAT')!.snapshot();
  assert.equal(s.enumStrs!.length, 16);
  assert.equal(Number(s.value[0]), AlarmStatus.UDF);
  assert.deepEqual(db.get('a.SCAN'), Uint16Array.of(0));
  db.stop();
});

test('event scan: calcout OEVT processes the records with SCAN Event and that EVNT', async () => {
  const db = load(`record(calcout, "co") { field(CALC, "1") field(OEVT, "go") }
record(calc, "ev") { field(SCAN, "Event") field(EVNT, "go") field(INPA, "ev") field(CALC, "A+1") }`);
  await db.put('co.PROC', 1);
  await db.put('co.PROC', 1);
  assert.equal(num(db, 'ev'), 2);
  assert.equal(db.postEvent('go'), 1);
  assert.equal(num(db, 'ev'), 3);
  db.stop();
});

test('server-side filters: arr slices, [s:e] shorthand, ts, dbnd, dec; bad filters do not exist', async () => {
  const db = load(`record(waveform, "w") { field(FTVL, DOUBLE) field(NELM, 10) }
record(ao, "a") {}`);
  await db.put('w', [0, 1, 2, 3, 4, 5]);
  const slice = (pv: string): number[] => Array.from(db.channel(pv)!.snapshot().value as Float64Array);
  assert.deepEqual(slice('w.{"arr":{"s":1,"e":3}}'), [1, 2, 3]);
  assert.deepEqual(slice('w.[1:3]'), [1, 2, 3]);
  assert.deepEqual(slice('w.VAL[2]'), [2]);
  assert.deepEqual(slice('w.[0:2:5]'), [0, 2, 4]);
  assert.deepEqual(slice('w.[-2:]'), [4, 5]);
  assert.equal(db.channel('w.[1:3]')!.elementCount, 3);
  assert.equal(db.channel('w.[2:]')!.elementCount, 8);
  assert.equal(db.has('w.{"nope":{}}'), false);
  assert.equal(db.has('w.[a:b]'), false);
  assert.ok(db.has('w.[1:3]'));
  const ts = db.channel('a.{"ts":{}}')!.snapshot();
  assert.ok(ts.stamp!.secPastEpoch > 0, 'ts filter gives the server time even before processing');
  const dbnd: number[] = [];
  db.channel('a.{"dbnd":{"abs":1}}')!.subscribe((m) => dbnd.push(m));
  const dec: number[] = [];
  db.channel('a.{"dec":{"n":2}}')!.subscribe((m) => dec.push(m));
  for (const v of [1, 1.5, 3, 3.2, 5]) await db.put('a', v);
  assert.equal(dbnd.filter((m) => m & DBE.VALUE).length, 3, 'updates for 1, 3, 5');
  assert.equal(dec.length, 3, 'every second of 5 updates');
  db.stop();
});
