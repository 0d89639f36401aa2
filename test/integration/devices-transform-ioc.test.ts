/**
 * Transform device (pyepics' epics.devices.Transform) against the transform record
 * `sim:userTran1` of the demo IOC, over CA on loopback.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientPvFactory } from '../../src/devices/client-pv.js';
import { DeviceError } from '../../src/devices/device.js';
import { Transform } from '../../src/devices/transform.js';
import { startDemoSetup, type DemoSetup } from '../helpers/demo-ioc.js';

let demo: DemoSetup;
let client: ClientPvFactory;

before(async () => {
  demo = await startDemoSetup({ count: 1, motors: 0 });
  ({ client } = demo);
});

after(async () => {
  await demo.close();
});

test('Transform: rows, expressions, comments, input links, COPT', async () => {
  const t = new Transform('sim:userTran1', { pvFactory: client.factory, timeout: 5 });
  assert.equal(await t.connect(5), true);
  await t.setRow('A', { comment: 'x position' });
  await t.setComment('B', 'twice x');
  await t.setCalc('B', 'A*2');
  await t.setRow('C', { calc: 'B+P', comment: 'uses P' });
  await t.setRow('P', { value: 0.5 });
  await t.setRow('A', { value: 1.5 });
  assert.deepEqual(await t.getRow('B'), {
    value: 3,
    input: '',
    calc: 'A*2',
    output: '',
    comment: 'twice x',
  });
  assert.equal((await t.getRow('c')).value, 3.5);
  assert.equal(Number(await t.get('CBV')), 0);
  // a bad expression is stored and flagged
  await t.setCalc('D', 'A+*');
  assert.equal(Number(await t.get('CDV', { useMonitor: false })), 1);
  // an input link: the row follows the linked PV, its value cannot be written
  await t.setInput('E', 'id01:str1.DISV NPP');
  assert.equal(Number(await t.get('IEV', { useMonitor: false })), 2, 'Local PV');
  await t.put('PROC', 1, { wait: true });
  assert.equal((await t.getRow('E')).value, 1);
  assert.equal(await t.put('E', 7, { wait: true }).catch(() => -1), -1);
  await t.setInput('E', '');
  // Always: a written value is overwritten by its expression
  await t.put('COPT', 1, { wait: true });
  await t.setRow('B', { value: 100 });
  assert.equal((await t.getRow('B')).value, 3);
  await assert.rejects(t.setCalc('Q', '1'), DeviceError);
  await assert.rejects(t.getRow('Z'), DeviceError);
});
