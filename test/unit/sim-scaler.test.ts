/** Simulated scaler record on a fake clock. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ScalerSim,
  SCALER_ALL_FIELDS,
  SCALER_FIELDS,
  type ScalerSimOptions,
} from '../../src/ioc/records/scaler.js';
import { flush, setupSim, track } from '../helpers/sim.js';

function setup(fields: Record<string, number> = {}, opts: ScalerSimOptions = {}) {
  return setupSim(SCALER_ALL_FIELDS, fields, (host) => new ScalerSim(host, { channels: 8, ...opts }));
}

test('field set follows scalerRecord.dbd', () => {
  const names = SCALER_FIELDS.map((f) => f.name);
  for (const n of [
    'CNT',
    'CONT',
    'TP',
    'TP1',
    'FREQ',
    'T',
    'NCH',
    'S1',
    'S32',
    'S64',
    'PR64',
    'G32',
    'NM32',
    'D1',
  ])
    assert.ok(names.includes(n), n);
  const s1 = SCALER_FIELDS.find((f) => f.name === 'S1');
  assert.equal(s1?.dbf, 'ULONG');
  assert.equal(s1?.nomod, true);
  assert.deepEqual(SCALER_FIELDS.find((f) => f.name === 'CNT')?.menu, ['Done', 'Count']);
  assert.equal(SCALER_FIELDS.find((f) => f.name === 'CNT')?.pp, true);
});

test('init defaults: FREQ 1e7, TP 1 s, PR1, NCH', () => {
  const { host } = setup();
  assert.equal(host.num('FREQ'), 1e7);
  assert.equal(host.num('TP'), 1);
  assert.equal(host.num('PR1'), 1e7);
  assert.equal(host.num('NCH'), 8);
  assert.equal(host.num('G1'), 1);
});

test('a timed count: zeroes, counts in real time, stops at TP, completes the put', async () => {
  const { clock, host, put } = setup({ RATE: 10 });
  await put('TP', 2);
  assert.equal(host.num('PR1'), 2e7);
  const p = track(put('CNT', 1));
  assert.equal(host.num('CNT'), 1);
  assert.equal(host.num('SS'), 2);
  assert.equal(host.num('S1'), 0);
  clock.advance(1000);
  assert.equal(host.num('S1'), 1e7);
  assert.ok(Math.abs(host.num('T') - 1) < 1e-9);
  const s2Mid = host.num('S2');
  assert.ok(s2Mid > 0, 'channel 2 counts');
  const posts = host.posts.length;
  clock.advance(500);
  assert.ok(host.posts.length >= posts + 4, 'posted at RATE Hz');
  await flush();
  assert.equal(p.done, false);
  clock.advance(600);
  await flush();
  assert.equal(p.done, true);
  assert.equal(host.num('CNT'), 0);
  assert.equal(host.num('S1'), 2e7);
  assert.equal(host.num('T'), 2);
  assert.equal(host.num('VAL'), 2);
  assert.equal(host.num('SS'), 0);
  assert.equal(host.doneCount, 1);
  const s2 = host.num('S2');
  assert.ok(s2 > 1.9 * s2Mid && s2 < 2.1 * s2Mid, `S2 ${s2} vs ${s2Mid}`);
  for (let i = 2; i <= 8; i++) assert.ok(host.num(`S${i}`) > 0, `S${i}`);
  // counts change from one count to the next (simulated statistics)
  const q = put('CNT', 1);
  clock.advance(2100);
  await q;
  assert.notEqual(host.num('S2'), s2);
});

test('a channel preset stops the count first; CNT=Done stops at once', async () => {
  const { clock, host, put } = setup({}, { rates: [1000, 10] });
  await put('TP', 100);
  await put('PR2', 500); // channel 2 at ~1000/s reaches 500 after ~0.5 s
  assert.equal(host.num('G2'), 1);
  const p = track(put('CNT', 1));
  clock.advance(700);
  await flush();
  assert.equal(p.done, true);
  assert.equal(host.num('S2'), 500);
  assert.ok(host.num('T') > 0.45 && host.num('T') < 0.55, `T ${host.num('T')}`);

  await put('G2', 0);
  const q = track(put('CNT', 1));
  clock.advance(3000);
  await put('CNT', 0);
  await flush();
  assert.equal(q.done, true);
  assert.equal(host.num('S1'), 3e7);
  assert.equal(host.num('CNT'), 0);
  // G set with a zero preset gets 1000
  await put('PR3', 0);
  await put('G3', 1);
  assert.equal(host.num('PR3'), 1000);
});

test('DLY delays the start; AutoCount runs in the background without touching CNT', async () => {
  const { clock, host, put, sim } = setup({ DLY: 1, DLY1: 0.5, TP1: 1, RAT1: 0 }, { holdSeconds: 2 });
  await put('CONT', 1);
  clock.advance(400);
  assert.equal(sim.counting, false);
  clock.advance(200); // DLY1 over: background counting
  assert.equal(sim.counting, true);
  assert.equal(host.num('CNT'), 0);
  clock.advance(1000);
  assert.equal(sim.counting, false);
  assert.equal(host.num('S1'), 1e7);
  clock.advance(600); // DLY1 later it counts again
  assert.equal(sim.counting, true);

  // a user count interrupts background counting; DLY delays its start
  const p = track(put('CNT', 1));
  assert.equal(sim.counting, false);
  assert.equal(host.num('US'), 1);
  clock.advance(900);
  assert.equal(sim.counting, false);
  clock.advance(1200); // 1 s delay + 1 s count
  await flush();
  assert.equal(p.done, true);
  assert.equal(host.num('S1'), 1e7);
  // results are held (2 s here) before background counting resumes
  clock.advance(1500);
  assert.equal(sim.counting, false);
  assert.equal(host.num('S1'), 1e7);
  clock.advance(600);
  assert.equal(sim.counting, true);
  await put('CONT', 0);
  assert.equal(sim.counting, false);
  sim.stop();
  assert.equal(clock.pending, 0);
});
