/**
 * Struck (SIS3820 multi-channel scaler) device against the simulated struck database of the demo
 * IOC (`sim:SIS1:`, eight mca records driven by dfanout "all" controls), over CA on loopback.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClientPvFactory } from '../../src/devices/client-pv.js';
import { DeviceError } from '../../src/devices/device.js';
import { Struck } from '../../src/devices/struck.js';
import { startDemoSetup, type DemoSetup } from '../helpers/demo-ioc.js';

let demo: DemoSetup;
let client: ClientPvFactory;
let dir: string;

before(async () => {
  demo = await startDemoSetup({ count: 0, motors: 0 });
  ({ client } = demo);
  dir = mkdtempSync(join(tmpdir(), 'tsepics-struck-'));
});

after(async () => {
  await demo.close();
  rmSync(dir, { recursive: true, force: true });
});

const sum = (a: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
};

test('Struck: connect, configure, erase+start, preset stop, per-channel data, save', async () => {
  const s = new Struck('sim:SIS1', { pvFactory: client.factory, nchan: 8, timeout: 5 });
  assert.equal(await s.connect(5), true);
  assert.deepEqual(s.unconnected(), []);
  assert.equal(await s.get('Model', { asString: true }), 'SIS3820');
  await s.internalMode({ prescale: 1 });
  assert.equal(Number(await s.get('ChannelAdvance')), 0);
  await s.put('NuseAll', 256, { wait: true });
  await s.setDwell(0.002);
  await s.setPresetReal(0.4);
  for (let i = 1; i <= 8; i++) {
    assert.equal(Number(await s.mcas[i - 1]!.get('NUSE', { useMonitor: false })), 256, `mca${i} NUSE`);
    assert.equal(Number(await s.mcas[i - 1]!.get('PRTM', { useMonitor: false })), 0.4);
  }
  await s.erase();
  const t0 = Date.now();
  await s.start();
  // Acquiring goes 1 while counting, back to 0 at the real-time preset
  let sawAcquiring = false;
  for (;;) {
    const acq = Number(await s.get('Acquiring', { useMonitor: false }));
    if (acq === 1) sawAcquiring = true;
    if (acq === 0 && sawAcquiring) break;
    assert.ok(Date.now() - t0 < 10000, 'acquisition ends at PresetReal');
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(Date.now() - t0 >= 350, 'counted for the preset time');
  assert.ok(Math.abs(Number(await s.get('ElapsedReal', { useMonitor: false })) - 0.4) < 0.05);
  assert.equal(await s.mcaNread(3), 256);
  const all = await s.readAllMcas();
  assert.equal(all.length, 8);
  for (const d of all) {
    assert.equal(d.length, 256);
    assert.ok(sum(d) > 0, 'every channel counted');
  }
  assert.notDeepEqual(all[0], all[1], 'channels count independently');
  const first = await s.readMca(2, 16);
  assert.equal(first.length, 16);
  await assert.rejects(s.readMca(9), DeviceError);
  const file = join(dir, 'struck.dat');
  assert.deepEqual(await s.saveMcaData(file), [8, 256]);
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  assert.equal(lines.length, 2 + 256);
  assert.equal(lines[2]!.split(' ').length, 8);
});

test('Struck: StartAll without preset counts until StopAll; EraseAll clears', async () => {
  const s = new Struck('sim:SIS1:', { pvFactory: client.factory, nchan: 8, timeout: 5 });
  assert.equal(await s.connect(5), true);
  await s.setPresetReal(0);
  await s.erase();
  assert.equal(sum(await s.readMca(1)), 0, 'erased');
  await s.put('StartAll', 1);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(Number(await s.get('Acquiring', { useMonitor: false })), 1, 'still counting without preset');
  await s.stop();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(Number(await s.get('Acquiring', { useMonitor: false })), 0, 'StopAll stopped it');
  const total = sum(await s.readMca(1));
  assert.ok(total > 0);
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(sum(await s.readMca(1)), total, 'no counting after stop');
  await s.externalMode({ prescale: 2, countOnStart: 1 });
  assert.equal(Number(await s.get('ChannelAdvance')), 1);
  assert.equal(Number(await s.mcas[7]!.get('CHAS', { useMonitor: false })), 1, 'ChannelAdvance reaches mca8');
  assert.equal(Number(await s.mcas[0]!.get('PSCL', { useMonitor: false })), 2);
  await s.internalMode();
});
