/**
 * Devices against the tsepics soft IOC serving the demo database (simulated motor, scaler and mca
 * records), over real Channel Access on loopback.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Context } from '../../src/client/context.js';
import { PV } from '../../src/client/pv.js';
import { Alarm, type AlarmEvent } from '../../src/devices/alarm.js';
import { restoreState, saveState } from '../../src/devices/autosave/index.js';
import type { ClientPvFactory } from '../../src/devices/client-pv.js';
import { Device } from '../../src/devices/device.js';
import { MCA } from '../../src/devices/mca.js';
import { Motor } from '../../src/devices/motor.js';
import type { PvFactory } from '../../src/devices/pv-like.js';
import { Scaler } from '../../src/devices/scaler.js';
import { startDemoSetup, type DemoSetup } from '../helpers/demo-ioc.js';

let demo: DemoSetup;
let ctx: Context;
let client: ClientPvFactory;
let pvFactory: PvFactory;
let dir: string;

before(async () => {
  demo = await startDemoSetup({ count: 1, motors: 2 });
  ({ ctx, client } = demo);
  pvFactory = client.factory;
  dir = mkdtempSync(join(tmpdir(), 'tsepics-devint-'));
});

after(async () => {
  await demo.close();
  rmSync(dir, { recursive: true, force: true });
});

test('Motor: move with wait, readback within RDBD, soft limits, DIR/OFF, tweak', async () => {
  const t0 = Date.now();
  const m = await Motor.create('sim:mtr1', { pvFactory });
  assert.ok(Date.now() - t0 < 2000, 'all motor fields connect in parallel');
  assert.deepEqual(m.unconnected(), []);
  assert.equal(m.RTYP, 'motor');
  assert.equal(m.record_type, 'motor');
  assert.equal(m.acceleration, m.ACCL, 'every alias target is connected after create()');
  assert.equal(m.disabled, 0, 'the <motor>_able PV');
  await m.put('VELO', 50, { wait: true });
  await m.put('ACCL', 0.01, { wait: true });
  const r = await m.move(1.25, { wait: true, timeout: 20 });
  assert.deepEqual(r, { result: 'done', code: 0 });
  const rdbd = Number(await m.get('RDBD'));
  assert.ok(
    Math.abs((await m.getPosition({ readback: true })) - 1.25) <= Math.max(rdbd, 1e-9),
    'readback within RDBD',
  );
  assert.deepEqual(await m.move(1e6, { wait: true }), { result: 'softLimit', code: -12 });
  assert.equal(await m.withinLimits(99), true);
  // DIR=Neg and OFF: user = -dial + OFF
  await m.put('DIR', 1, { wait: true });
  await m.put('OFF', 10, { wait: true });
  assert.deepEqual(await m.move(7, { wait: true, timeout: 20 }), { result: 'done', code: 0 });
  const dial = await m.getPosition({ dial: true, readback: true });
  assert.ok(Math.abs(dial - 3) < 1e-3, `dial ${dial}`);
  const mres = Number(await m.get('MRES'));
  const raw = await m.getPosition({ raw: true, readback: true });
  assert.ok(Math.abs(raw - 3 / mres) <= 1, `raw ${raw}`);
  assert.deepEqual(await m.move(2, { dial: true, wait: true, timeout: 20 }), { result: 'done', code: 0 });
  assert.ok(Math.abs((await m.getPosition({ readback: true })) - 8) < 1e-3);
  await m.put('DIR', 0, { wait: true });
  await m.put('OFF', 0, { wait: true });
  await m.move(0, { wait: true, timeout: 20 });
  await m.put('TWV', 0.5, { wait: true });
  assert.equal((await m.tweak('forward', { wait: true, timeout: 20 })).result, 'done');
  assert.ok(Math.abs((await m.getPosition({ readback: true })) - 0.5) < 1e-3);
  assert.equal((await m.tweak('reverse', { wait: true, timeout: 20 })).result, 'done');
  assert.ok(Math.abs(await m.getPosition({ readback: true })) < 1e-3);
  // set position: redefine without moving
  await m.setPosition(5);
  assert.ok(Math.abs((await m.getPosition()) - 5) < 1e-3);
  assert.ok(Math.abs(await m.getPosition({ dial: true })) < 1e-3);
  assert.equal(Number(await m.get('SET')), 0);
  await m.setPosition(0);
  const info = await m.getInfo();
  assert.equal(info.DESC, 'simulated motor 1');
});

test('Motor: 100 moves with wait and readback checks', async () => {
  const m = await Motor.create('sim:mtr2', { pvFactory });
  await m.put('VELO', 100, { wait: true });
  await m.put('ACCL', 0.001, { wait: true });
  const rdbd = Math.max(Number(await m.get('RDBD')), Number(await m.get('MRES')));
  for (let i = 0; i < 100; i++) {
    const target = Math.round(i * 37) / 1000; // a step scan: 100 points 0.037 apart
    const r = await m.move(target, { wait: true, timeout: 20 });
    assert.equal(r.result, 'done', `move ${i}`);
    const rbv = await m.getPosition({ readback: true });
    assert.ok(Math.abs(rbv - target) <= rdbd + 1e-9, `move ${i}: rbv ${rbv} target ${target}`);
  }
});

test('Scaler: count for a preset time', async () => {
  const s = await Scaler.create('sim:scaler1', { pvFactory });
  await s.oneShotMode();
  const t0 = Date.now();
  await s.count(0.3, { wait: true, timeout: 10 });
  const dt = (Date.now() - t0) / 1000;
  assert.ok(dt >= 0.25, `counted ${dt} s`);
  const t = Number(await s.get('T', { useMonitor: false }));
  assert.ok(Math.abs(t - 0.3) < 0.05, `elapsed T ${t}`);
  const counts = await s.read();
  assert.equal(counts.length, 8);
  assert.ok(counts[0] > 0, 'clock channel counted');
  const names = await s.getNames();
  assert.equal(names[0], 'clock');
  assert.equal(names[1], 'I0');
});

test('MCA: acquisition and ROIs', async () => {
  const m = await MCA.create('sim:mca1', { pvFactory, nrois: 4 });
  await m.setRois([
    { name: 'low', left: 10, right: 100 },
    { name: 'high', left: 500, right: 900 },
  ]);
  assert.deepEqual(
    (await m.getRois()).map((r) => [r.name, r.left, r.right]),
    [
      ['low', 10, 100],
      ['high', 500, 900],
    ],
  );
  const data = await m.acquire(0.3, { timeout: 10 });
  assert.ok(data.length > 0);
  let total = 0;
  for (let i = 10; i <= 100; i++) total += data[i];
  const r0 = Number(await m.get('R0', { useMonitor: false }));
  assert.equal(r0, total, 'R0 is the sum of channels 10..100');
  assert.deepEqual(await m.getCalib(), [0, 0.01, 0]);
  await m.delRoi('low');
  assert.deepEqual(
    (await m.getRois()).map((r) => r.name),
    ['high'],
  );
});

test('Alarm fires on crossing over CA', async () => {
  const events: AlarmEvent[] = [];
  const dev = await Device.create('id01', { delim: ':', attrs: ['bo1'], pvFactory });
  await dev.put('bo1', 0, { wait: true });
  // the client's PV object works as well as a name
  const alarmPv = new PV('id01:bo1', { context: ctx });
  await alarmPv.waitForConnection(2);
  const alarm = new Alarm({
    pvname: alarmPv,
    comparison: 'eq',
    tripPoint: 1,
    alertDelay: 0,
    callback: (e) => events.push(e),
  });
  const waitFor = async (n: number): Promise<void> => {
    for (let i = 0; i < 200 && events.length < n; i++) await new Promise((r) => setTimeout(r, 10));
  };
  await dev.put('bo1', 1, { wait: true });
  await waitFor(1);
  assert.equal(events.length, 1);
  assert.equal(events[0].pvname, 'id01:bo1');
  await dev.put('bo1', 1, { wait: true });
  await dev.put('bo1', 0, { wait: true });
  // let the monitor deliver the 0 (leaving the tripped state) before tripping again
  for (let i = 0; i < 200 && dev.cached('bo1') !== 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(alarm.alarmState, false);
  await dev.put('bo1', 1, { wait: true });
  await waitFor(2);
  assert.equal(events.length, 2, `alarm state ${alarm.alarmState}, last alert ${alarm.lastAlert}`);
  assert.equal(events[1].value, 1);
  alarm.clear();
  alarmPv.disconnect();
});

test('Device save/restore round trip and autosave over CA', async () => {
  const dev = await Device.create('id01', { delim: ':', attrs: ['str1', 'str2', 'bo1', 'dwave'], pvFactory });
  await dev.put('str1', 'before', { wait: true });
  const state = await dev.saveState();
  assert.equal(state.str1, 'before');
  await dev.put('str1', 'changed', { wait: true });
  await dev.restoreState(state);
  assert.equal(await dev.get('str1', { useMonitor: false }), 'before');
  const f = join(dir, 'dev.state');
  await dev.writeState(f);
  assert.match(readFileSync(f, 'utf8'), /^str1 before$/m);

  writeFileSync(join(dir, 'a.req'), '$(P)str1\n$(P)str2\nfile b.req M=sim:mtr1\n$(P)iwave\n$(P)nosuch\n');
  writeFileSync(join(dir, 'b.req'), '$(M).VELO\n$(M).TWV\n');
  const sav = join(dir, 'a.sav');
  const r = await saveState(join(dir, 'a.req'), sav, { macros: { P: 'id01:' }, pvFactory, timeout: 0.5 });
  assert.equal(r.total, 6);
  assert.deepEqual(r.failed, ['id01:nosuch']);
  const text = readFileSync(sav, 'utf8');
  assert.match(text, /^id01:str1 before$/m);
  assert.match(text, /^id01:iwave @array@ \{ "0" "1" "2" /m);
  await dev.put('str1', 'changed again', { wait: true });
  const m = await Motor.create('sim:mtr1', { pvFactory });
  const savedVelo = Number(await m.get('VELO', { useMonitor: false }));
  await m.put('VELO', savedVelo + 1, { wait: true });
  const rr = await restoreState(sav, { pvFactory, wait: true, timeout: 2 });
  // waveform VAL is read-only in the IOC at the moment (VAL NOACCESS): only the scalars are checked
  assert.equal(rr.total, 5);
  assert.equal(rr.restored + rr.failed.length, 5);
  assert.ok(
    rr.failed.every((f) => f.pvname === 'id01:iwave'),
    JSON.stringify(rr.failed),
  );
  assert.equal(await dev.get('str1', { useMonitor: false }), 'before');
  assert.equal(Number(await m.get('VELO', { useMonitor: false })), savedVelo);
});
