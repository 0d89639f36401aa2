import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MCA, MCA_FIELDS, ROI, roiCounts } from '../../src/devices/mca.js';
import { Scaler } from '../../src/devices/scaler.js';
import { Transform } from '../../src/devices/transform.js';
import { Ao, AO_FIELDS } from '../../src/devices/ao.js';
import { Struck } from '../../src/devices/struck.js';
import { DeviceError } from '../../src/devices/device.js';
import { FakePvNetwork } from '../../src/devices/testing.js';

test('Scaler: modes, count with wait, names, read, calcs', async () => {
  const n = new FakePvNetwork();
  const p = 'S:scaler1';
  n.define(`${p}.CONT`, 1).define(`${p}.TP`, 1).define(`${p}.T`, 0).define(`${p}.VAL`, 0);
  n.define(`${p}.CNT`, {
    value: 0,
    onPut: (v: unknown) => {
      if (v !== 1) return;
      // counting finishes at once in the fake: fill counts, clear CNT
      const tp = n.read(`${p}.TP`) as number;
      n.set(`${p}.T`, tp);
      for (let i = 1; i <= 4; i++) n.set(`${p}.S${i}`, Math.round(tp * 1e7) / i);
      n.set(`${p}.CNT`, 0);
    },
  });
  for (let i = 1; i <= 4; i++)
    n.define(`${p}.NM${i}`, `ch${i}`)
      .define(`${p}.S${i}`, 0)
      .define(`${p}_calc${i}.VAL`, i * 10)
      .define(`${p}_calc${i}.CALC`, 'A');
  n.define(`${p}_calcEnable.VAL`, 0);
  const s = await Scaler.create(p, { nchan: 4, pvFactory: n.factory });
  await s.oneShotMode();
  assert.equal(n.read(`${p}.CONT`), 0);
  await s.autoCountMode();
  assert.equal(n.read(`${p}.CONT`), 1);
  await s.count(0.5, true);
  assert.equal(n.read(`${p}.TP`), 0.5);
  assert.equal(n.read(`${p}.T`), 0.5);
  assert.deepEqual(await s.getNames(), ['ch1', 'ch2', 'ch3', 'ch4']);
  assert.deepEqual(await s.read(), [5e6, 2.5e6, 5e6 / 3, 1.25e6]);
  assert.deepEqual(await s.read({ useCalc: true }), [10, 20, 30, 40]);
  await s.enableCalcs();
  assert.equal(n.read(`${p}_calcEnable.VAL`), 1);
  await s.setCalc(2, 'B*2');
  assert.equal(n.read(`${p}_calc2.CALC`), 'B*2');
  await assert.rejects(s.setCalc(5, 'A'), DeviceError);
  await assert.rejects(s.countTime(-1), DeviceError);
  assert.throws(() => new Scaler(p, { nchan: 0, pvFactory: n.factory }), DeviceError);
});

test('roiCounts: sums and linear background', () => {
  const d = Float64Array.from({ length: 20 }, (_, i) => (i >= 8 && i <= 11 ? 100 : 10));
  assert.equal(roiCounts(d, 8, 11), 400);
  assert.equal(roiCounts(d, 5, 14), 460);
  assert.equal(roiCounts(d, 5, 14, 3), 460 - 10 * 10);
  assert.equal(roiCounts(d, 14, 5), 0);
  assert.equal(roiCounts(d, -5, 100), 10 * 16 + 400);
});

test('MCA: data, calibration, energy, ROIs set/add/del/clear', async () => {
  const n = new FakePvNetwork();
  const p = 'M:mca1';
  for (const f of [...MCA_FIELDS, 'ERST', 'STRT', 'STOP', 'ERAS']) {
    n.define(`${p}.${f}`, 0);
  }
  n.set(`${p}.CALO`, 1);
  n.set(`${p}.CALS`, 0.5);
  n.set(`${p}.CALQ`, 0.01);
  n.set(`${p}.NUSE`, 4);
  n.define(`${p}.VAL`, Int32Array.of(1, 2, 3, 4));
  for (let i = 0; i < 32; i++)
    n.define(`${p}.R${i}NM`, '')
      .define(`${p}.R${i}LO`, -1)
      .define(`${p}.R${i}HI`, -1)
      .define(`${p}.R${i}`, 0)
      .define(`${p}.R${i}N`, 0);
  const m = await MCA.create(p, { pvFactory: n.factory, nrois: 4 });
  assert.deepEqual(await m.getData(), Float64Array.of(1, 2, 3, 4));
  assert.deepEqual(await m.getCalib(), [1, 0.5, 0.01]);
  assert.deepEqual(Array.from(await m.getEnergy()), [1, 1 + 0.5 + 0.01, 1 + 1 + 0.04, 1 + 1.5 + 0.09]);
  await m.setRois([
    { name: 'Fe', left: 100, right: 120 },
    { name: 'Cu', left: 50, right: 60 },
  ]);
  assert.deepEqual(await m.getRois(), [
    { index: 0, name: 'Cu', left: 50, right: 60 },
    { index: 1, name: 'Fe', left: 100, right: 120 },
  ]);
  await m.addRoi('Zn', 70, 80);
  assert.deepEqual(
    (await m.getRois()).map((r) => r.name),
    ['Cu', 'Zn', 'Fe'],
  );
  await m.delRoi('Zn');
  assert.deepEqual(
    (await m.getRois()).map((r) => r.name),
    ['Cu', 'Fe'],
  );
  await assert.rejects(m.delRoi('nope'), /no ROI named 'nope'/);
  await assert.rejects(m.setRois([{ name: 'bad', left: 10, right: 5 }]), DeviceError);
  const roi = new ROI(p, 1, { pvFactory: n.factory });
  await roi.connect();
  assert.equal(roi.name, 'Fe');
  assert.equal(await roi.getCounts(Float64Array.from({ length: 200 }, () => 2)), 42);
  await m.clearRois();
  assert.deepEqual(await m.getRois(), []);
  assert.throws(() => new ROI(p, 32, { pvFactory: n.factory }), DeviceError);
  await m.start();
  assert.equal(n.read(`${p}.ERST`), 1);
  await m.start({ erase: false });
  assert.equal(n.read(`${p}.STRT`), 1);
  await m.stop();
  assert.equal(n.read(`${p}.STOP`), 1);
  await m.erase();
  assert.equal(n.read(`${p}.ERAS`), 1);
  await assert.rejects(m.acquire(0), DeviceError);
});

test('ao, transform and struck name their PVs as pyepics', async () => {
  const n = new FakePvNetwork();
  const ao = new Ao('X:ao1.VAL', { pvFactory: n.factory });
  assert.equal(AO_FIELDS.length, 34);
  assert.equal(ao.pvName('DRVH'), 'X:ao1.DRVH');
  const t = new Transform('X:tr1', { pvFactory: n.factory });
  assert.equal(t.attrs().length, 2 + 16 * 9);
  assert.ok(n.requested.includes('X:tr1.CLCP'));
  assert.ok(n.requested.includes('X:tr1.OAV'));
  await assert.rejects(t.getRow('Q'), /A\.\.P/);
  const s = new Struck('X:SIS1', { nchan: 2, scaler: 'X:scaler1', pvFactory: n.factory });
  assert.equal(s.pvName('EraseStart'), 'X:SIS1:EraseStart');
  assert.equal(s.mcas[1].pvName('VAL'), 'X:SIS1:mca2.VAL');
  assert.equal(s.scaler?.pvName('CNT'), 'X:scaler1.CNT');
});
