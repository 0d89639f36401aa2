/** Simulated mca record on a fake clock. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  McaSim,
  MCA_ALL_FIELDS,
  MCA_FIELDS,
  MCA_ARRAY_FIELDS,
  type McaSimOptions,
} from '../../src/ioc/records/mca.js';
import { flush, setupSim, track } from '../helpers/sim.js';

function setup(fields: Record<string, number> = {}, opts: McaSimOptions = {}, nmax = 1024) {
  return setupSim(
    MCA_ALL_FIELDS,
    { NMAX: nmax, ...fields },
    (host) => new McaSim(host, { wallClock: () => Date.UTC(2026, 0, 2, 3, 4, 5, 6), ...opts }),
    { VAL: nmax, BG: nmax },
  );
}
const sum = (a: ArrayLike<number>, lo = 0, hi = a.length - 1): number => {
  let s = 0;
  for (let i = lo; i <= hi; i++) s += a[i];
  return s;
};

test('field set follows mcaRecord.dbd', () => {
  const names = MCA_FIELDS.map((f) => f.name);
  for (const n of [
    'VAL',
    'NUSE',
    'NMAX',
    'NORD',
    'PRTM',
    'PLTM',
    'ERTM',
    'ELTM',
    'ACQG',
    'ERST',
    'STRT',
    'STOP',
  ])
    assert.ok(names.includes(n), n);
  for (const n of ['R0LO', 'R0HI', 'R0NM', 'R0', 'R0N', 'R31LO', 'R31N', 'R31NM'])
    assert.ok(names.includes(n), n);
  assert.equal(MCA_FIELDS.find((f) => f.name === 'R5LO')?.initial, '-1');
  assert.deepEqual(MCA_FIELDS.find((f) => f.name === 'ERST')?.menu, ['Done', 'Acquire']);
  assert.equal(MCA_FIELDS.find((f) => f.name === 'ACQG')?.nomod, true);
  assert.deepEqual(MCA_ARRAY_FIELDS, { VAL: 'NMAX', BG: 'NMAX' });
});

test('EraseStart with a real-time preset: spectrum, times, completion', async () => {
  const { clock, host, put } = setup({ NUSE: 512, PRTM: 2 });
  const p = track(put('ERST', 1));
  assert.equal(host.num('ACQG'), 1);
  assert.equal(host.num('ERST'), 0);
  assert.match(host.str('STIM'), /^Jan \d\d, 2026 \d\d:\d\d:\d\d\.\d{3}$/);
  clock.advance(1000);
  const val = host.array('VAL');
  const mid = sum(val, 0, 511);
  assert.ok(mid > 15000 && mid < 22000, `counts after 1 s: ${mid}`);
  assert.equal(host.num('ACT'), mid);
  assert.ok(Math.abs(host.num('ERTM') - 1) < 1e-9);
  assert.ok(Math.abs(host.num('ELTM') - 0.95) < 1e-9);
  assert.ok(Math.abs(host.num('DTIM') - 5) < 1e-9);
  assert.equal(host.num('NORD'), 512);
  assert.equal(sum(val, 512, 1023), 0, 'nothing beyond NUSE');
  await flush();
  assert.equal(p.done, false);
  clock.advance(1500);
  await flush();
  assert.equal(p.done, true);
  assert.equal(host.num('ACQG'), 0);
  assert.ok(Math.abs(host.num('ERTM') - 2) < 1e-9, `ERTM ${host.num('ERTM')}`);
  assert.equal(host.doneCount, 1);
  const total = sum(val, 0, 511);
  assert.ok(total > 1.8 * mid && total < 2.2 * mid);
  // peaks: the channel near 0.5*NUSE holds far more than the flat region near 0.95*NUSE
  assert.ok(val[256] > 10 * Math.max(1, val[490]), `peak ${val[256]} vs ${val[490]}`);
  // Start continues without erasing; Stop ends it
  const q = track(put('PRTM', 0).then(() => put('STRT', 1)));
  await flush();
  clock.advance(500);
  await put('STOP', 1);
  await flush();
  assert.equal(q.done, true);
  assert.ok(sum(val, 0, 511) > total);
  await put('ERAS', 1);
  assert.equal(sum(val, 0, 511), 0);
  assert.equal(host.num('ERTM'), 0);
});

test('live-time and ROI presets, ROI sums and net counts', async () => {
  const { clock, host, put } = setup({ NUSE: 1000, PLTM: 1 }, { deadFraction: 0.2 });
  const p = track(put('ERST', 1));
  clock.advance(1300);
  await flush();
  assert.equal(p.done, true);
  assert.ok(Math.abs(host.num('ELTM') - 1) < 1e-9);
  assert.ok(Math.abs(host.num('ERTM') - 1.25) < 1e-9);
  // ROI over the peak at channel 500: sum and net of the edge-channel background
  await put('R0LO', 470);
  await put('R0HI', 530);
  const val = host.array('VAL');
  assert.equal(host.num('R0'), sum(val, 470, 530));
  const bgLo = val[470];
  const bgHi = val[530];
  let net = 0;
  for (let j = 0; j <= 60; j++) net += val[470 + j] - Math.trunc(bgLo + (j * (bgHi - bgLo)) / 60);
  assert.equal(host.num('R0N'), net);
  assert.ok(host.num('R0N') < host.num('R0'));
  // background width -1: net = sum
  await put('R1LO', 100);
  await put('R1HI', 110);
  await put('R1BG', -1);
  assert.equal(host.num('R1N'), host.num('R1'));
  // an ROI preset stops acquisition
  await put('PLTM', 0);
  await put('R0P', host.num('R0N') + 500);
  await put('R0IP', 1);
  const q = track(put('STRT', 1));
  clock.advance(5000);
  await flush();
  assert.equal(q.done, true);
  assert.ok(host.num('R0N') >= host.num('R0P'));
  assert.ok(host.num('ERTM') < 2, `stopped early: ERTM ${host.num('ERTM')}`);
});

test('counts preset, NUSE clamp, stop() clears timers', async () => {
  const { clock, host, put, sim } = setup({ NUSE: 256, PCT: 5000, PCTL: 0, PCTH: 255 });
  const p = track(put('ERST', 1));
  clock.advance(2000);
  await flush();
  assert.equal(p.done, true);
  assert.ok(sum(host.array('VAL'), 0, 255) >= 5000);
  await put('NUSE', 5000);
  assert.equal(host.num('NUSE'), 1024);
  await put('PCT', 0);
  void put('STRT', 1);
  assert.equal(sim.isAcquiring, true);
  sim.stop();
  assert.equal(clock.pending, 0);
  assert.equal(sim.isAcquiring, false);
});
