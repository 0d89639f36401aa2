/** The simulated motor, scaler and mca record types inside the record database (no sockets). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordDatabase } from '../../src/ioc/database.js';
import { motorRecordType } from '../../src/ioc/records/motor.js';
import { scalerRecordType } from '../../src/ioc/records/scaler.js';
import { mcaRecordType } from '../../src/ioc/records/mca.js';

const DB = `
record(motor, "$(P)m1") {
  field(DTYP, "asynMotor")
  field(OUT, "@asyn(motorSim1,0)")
  field(MRES, "0.001")
  field(VELO, "20")
  field(VBAS, "1")
  field(ACCL, "0.05")
  field(DHLM, "50")
  field(DLLM, "-50")
  field(EGU, "mm")
  field(PREC, "3")
  field(FLNK, "$(P)mdone")
}
record(calc, "$(P)mdone") {
  field(CALC, "VAL+1")
}
record(scaler, "$(P)scaler1") {
  field(DTYP, "Asyn Scaler")
  field(OUT, "@asyn(scalerSim)")
  field(TP, "0.2")
  field(NM2, "I0")
  field(FLNK, "$(P)sdone")
}
record(calc, "$(P)sdone") {
  field(CALC, "VAL+1")
}
record(mca, "$(P)mca1") {
  field(DTYP, "asynMCA")
  field(INP, "@asyn(mcaSim)")
  field(NMAX, "2048")
  field(NUSE, "1024")
  field(PRTM, "0.3")
  field(R0LO, "500")
  field(R0HI, "524")
  field(R0NM, "peak")
}
record(ai, "$(P)done") {
}
`;

function makeDb(): RecordDatabase {
  const db = new RecordDatabase();
  db.registerRecordType(motorRecordType);
  db.registerRecordType(scalerRecordType);
  db.registerRecordType(mcaRecordType);
  db.loadDatabase(DB, { P: 'T:' });
  db.init();
  return db;
}

const num = (db: RecordDatabase, pv: string): number => Number(db.get(pv)[0]);
const str = (db: RecordDatabase, pv: string): string => String(db.get(pv)[0]);
const enumText = (db: RecordDatabase, pv: string): string => {
  const snap = db.channel(pv)!.snapshot();
  return snap.enumStrs![Number(snap.value[0])]!;
};

test('motor record: put completes at the end of the move; monitors; metadata', async () => {
  const db = makeDb();
  try {
    assert.equal(enumText(db, 'T:m1.DTYP'), 'asynMotor');
    assert.equal(num(db, 'T:m1.DMOV'), 1);
    assert.equal(num(db, 'T:m1.HLM'), 50);
    const ch = db.channel('T:m1.RBV')!;
    let events = 0;
    const unsub = ch.subscribe(() => events++);
    const dmov = db.channel('T:m1.DMOV')!;
    const dmovSeen: number[] = [];
    const unsub2 = dmov.subscribe(() => dmovSeen.push(Number(dmov.snapshot().value[0])));
    const t0 = performance.now();
    await db.put('T:m1', 2); // 2 mm at 20 mm/s: ~0.1 s
    const dt = performance.now() - t0;
    assert.ok(dt >= 90, `put completed after ${dt} ms`);
    assert.equal(num(db, 'T:m1.RBV'), 2);
    assert.equal(num(db, 'T:m1.DMOV'), 1);
    assert.equal(num(db, 'T:mdone'), 1, 'FLNK fired once, when the move ended');
    assert.ok(events >= 1, 'RBV posted');
    assert.deepEqual([dmovSeen[0], dmovSeen[dmovSeen.length - 1]], [0, 1]);
    unsub();
    unsub2();
    const snap = db.channel('T:m1')!.snapshot();
    assert.equal(snap.units, 'mm');
    assert.equal(snap.precision, 3);
    assert.equal(snap.upperCtrlLimit, 50);
    assert.equal(snap.lowerDispLimit, -50);
    assert.equal(db.channel('T:m1.DRBV')!.snapshot().units, 'mm');
    // soft limit violation: refused move, immediate completion
    await db.put('T:m1', 80);
    assert.equal(num(db, 'T:m1.LVIO'), 1);
    assert.equal(num(db, 'T:m1'), 2);
    assert.equal(num(db, 'T:mdone'), 2, 'a refused move still processes the FLNK');
    // read-only fields
    assert.equal(db.channel('T:m1.RBV')!.accessRights({ user: 'u', host: 'h', address: '127.0.0.1' }), 1);
    await assert.rejects(db.put('T:m1.RBV', 1));
    // menu field by string
    await db.put('T:m1.SPMG', 'Pause');
    assert.equal(num(db, 'T:m1.SPMG'), 1);
  } finally {
    db.stop();
  }
});

test('scaler record: CNT put completes when counting ends', async () => {
  const db = makeDb();
  try {
    assert.equal(num(db, 'T:scaler1.PR1'), 2e6);
    assert.equal(num(db, 'T:scaler1.FREQ'), 1e7);
    assert.equal(str(db, 'T:scaler1.NM2'), 'I0');
    const t0 = performance.now();
    await db.put('T:scaler1.CNT', 1);
    const dt = performance.now() - t0;
    assert.ok(dt >= 190, `count took ${dt} ms`);
    assert.equal(num(db, 'T:scaler1.CNT'), 0);
    assert.equal(num(db, 'T:sdone'), 1);
    assert.equal(num(db, 'T:scaler1.S1'), 2e6);
    assert.ok(Math.abs(num(db, 'T:scaler1.T') - 0.2) < 1e-9);
    assert.ok(num(db, 'T:scaler1.S2') > 0);
    assert.equal(db.channel('T:scaler1.S2')!.nativeType, 6); // ULONG -> DOUBLE
    assert.equal(enumText(db, 'T:scaler1.CNT'), 'Done');
  } finally {
    db.stop();
  }
});

test('mca record: spectrum array, EraseStart completion, ROI', async () => {
  const db = makeDb();
  try {
    const ch = db.channel('T:mca1')!;
    assert.equal(ch.elementCount, 2048);
    assert.equal(ch.nativeType, 5); // LONG
    await db.put('T:mca1.ERST', 1);
    assert.equal(num(db, 'T:mca1.ACQG'), 0);
    assert.ok(Math.abs(num(db, 'T:mca1.ERTM') - 0.3) < 1e-9);
    const snap = ch.snapshot();
    assert.equal(snap.count, 1024);
    const v = snap.value as Int32Array;
    let total = 0;
    for (let i = 0; i < v.length; i++) total += v[i];
    assert.ok(total > 3000, `total ${total}`);
    let roi = 0;
    for (let i = 500; i <= 524; i++) roi += v[i];
    assert.equal(num(db, 'T:mca1.R0'), roi);
    assert.equal(str(db, 'T:mca1.R0NM'), 'peak');
  } finally {
    db.stop();
  }
});

test('stopping the database completes a pending move', async () => {
  const db = makeDb();
  await db.put('T:m1.VELO', 1);
  const p = db.put('T:m1', 10);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(num(db, 'T:m1.DMOV'), 0);
  db.stop();
  await p;
});
