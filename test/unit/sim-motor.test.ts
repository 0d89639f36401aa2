/** Simulated motor record on a fake clock. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MotorSim,
  MOTOR_ALL_FIELDS,
  MSTA,
  motorLimitsFor,
  type MotorSimOptions,
} from '../../src/ioc/records/motor.js';
import { flush, setupSim, track } from '../helpers/sim.js';

function setup(fields: Record<string, number> = {}, opts: MotorSimOptions = {}) {
  const defaults: Record<string, number> = {
    MRES: 0.001,
    VELO: 1,
    VBAS: 0.1,
    ACCL: 0.5,
    DHLM: 100,
    DLLM: -100,
  };
  return setupSim(MOTOR_ALL_FIELDS, { ...defaults, ...fields }, (host) => new MotorSim(host, opts));
}

test('init: resolution, speeds, positions and limits', () => {
  const { host } = setup({ OFF: 5 });
  assert.equal(host.num('UREV'), 0.2); // MRES * SREV(200)
  assert.ok(Math.abs(host.num('S') - 5) < 1e-12); // VELO / UREV
  assert.equal(host.num('DMOV'), 1);
  assert.equal(host.num('MOVN'), 0);
  assert.equal(host.num('RBV'), 5);
  assert.equal(host.num('VAL'), 5);
  assert.equal(host.num('HLM'), 105);
  assert.equal(host.num('LLM'), -95);
  assert.equal(host.num('RHLM'), 100000);
  assert.equal(host.num('LVIO'), 0);
  assert.equal(host.num('MSTA') & MSTA.DONE, MSTA.DONE);
});

test('a move follows the trapezoid, updates readbacks and completes the put', async () => {
  const { clock, host, put } = setup();
  const p = track(put('VAL', 2));
  assert.equal(host.num('DMOV'), 0);
  assert.equal(host.num('MOVN'), 1);
  assert.equal(host.num('DVAL'), 2);
  assert.equal(host.num('RVAL'), 2000);
  // accel 0.1 -> 1 EGU/s in 0.5 s: 0.275 EGU; total = 2*0.5 + (2-0.55)/1 = 2.45 s
  clock.advance(500);
  assert.ok(Math.abs(host.num('RBV') - 0.275) < 0.002, `RBV ${host.num('RBV')}`);
  assert.equal(host.num('RRBV'), Math.round(host.num('RBV') / 0.001));
  assert.ok(host.num('DIFF') < 0);
  assert.equal(host.num('TDIR'), 1);
  assert.equal(host.num('MSTA') & MSTA.MOVING, MSTA.MOVING);
  clock.advance(1500);
  assert.ok(host.num('RBV') > 1.5 && host.num('RBV') < 2);
  await flush();
  assert.equal(p.done, false);
  clock.advance(500);
  assert.equal(host.num('RBV'), 2);
  assert.equal(host.num('DRBV'), 2);
  assert.equal(host.num('DMOV'), 1);
  assert.equal(host.num('MOVN'), 0);
  assert.equal(host.num('DIFF'), 0);
  await flush();
  assert.equal(p.done, true);
  assert.equal(host.doneCount, 1);
  // monitors were posted while moving
  const rbvPosts = host.posts.filter((f) => f.includes('RBV')).length;
  assert.ok(rbvPosts >= 20, `RBV posted ${rbvPosts} times`);
});

test('soft limits: LVIO, no motion, VAL restored', async () => {
  const { host, put } = setup({ DHLM: 10, DLLM: -10 });
  await put('VAL', 20);
  assert.equal(host.num('LVIO'), 1);
  assert.equal(host.num('VAL'), 0);
  assert.equal(host.num('DMOV'), 1);
  // limits both zero disable checking
  host.write('DHLM', 0);
  await put('DLLM', 0);
  assert.equal(host.num('HLM'), 0);
  const p = track(put('VAL', 20));
  assert.equal(host.num('LVIO'), 0);
  assert.equal(host.num('DMOV'), 0);
  void p;
});

test('user/dial coordinates: OFF, DIR, SET mode, FOFF', async () => {
  const { clock, host, put } = setup({ VELO: 10, ACCL: 0 });
  await put('OFF', 1);
  assert.equal(host.num('RBV'), 1);
  assert.equal(host.num('VAL'), 1);
  await put('DIR', 1); // Neg: user = -dial + OFF
  assert.equal(host.num('HLM'), 101);
  assert.equal(host.num('LLM'), -99);
  const p = put('VAL', 3); // dial -2
  assert.equal(host.num('DVAL'), -2);
  clock.advance(1000);
  await p;
  assert.equal(host.num('DRBV'), -2);
  assert.equal(host.num('RBV'), 3);
  assert.equal(host.num('RRBV'), -2000);
  // Set mode with variable offset: VAL put changes OFF only
  await put('SSET', 1);
  assert.equal(host.num('SET'), 1);
  assert.equal(host.num('SSET'), 0);
  await put('VAL', 10);
  assert.equal(host.num('OFF'), 8);
  assert.equal(host.num('DRBV'), -2);
  assert.equal(host.num('RBV'), 10);
  assert.equal(host.num('DMOV'), 1);
  // Frozen offset: VAL put redefines the dial position
  host.write('FOFF', 1);
  await put('VAL', 0);
  assert.equal(host.num('OFF'), 8);
  assert.equal(host.num('DRBV'), 8);
  assert.equal(host.num('RBV'), 0);
  await put('SUSE', 1);
  assert.equal(host.num('SET'), 0);
});

test('relative moves, tweaks, RVAL and DVAL targets', async () => {
  const { clock, host, put } = setup({ VELO: 10, ACCL: 0, TWV: 0.5 });
  let p = put('RLV', 1.5);
  assert.equal(host.num('RLV'), 0);
  assert.equal(host.num('VAL'), 1.5);
  clock.advance(1000);
  await p;
  assert.equal(host.num('RBV'), 1.5);
  p = put('TWF', 1);
  assert.equal(host.num('TWF'), 0);
  clock.advance(1000);
  await p;
  assert.equal(host.num('RBV'), 2);
  p = put('TWR', 1);
  clock.advance(1000);
  await p;
  assert.equal(host.num('RBV'), 1.5);
  p = put('RVAL', 3000);
  assert.equal(host.num('VAL'), 3);
  clock.advance(1000);
  await p;
  assert.equal(host.num('RRBV'), 3000);
  p = put('DVAL', -1);
  clock.advance(1000);
  await p;
  assert.equal(host.num('RBV'), -1);
});

test('STOP and SPMG', async () => {
  const { clock, host, put } = setup({ VELO: 1, ACCL: 0 });
  const p = track(put('VAL', 10));
  clock.advance(2000);
  await put('STOP', 1);
  assert.equal(host.num('STOP'), 0);
  assert.equal(host.num('DMOV'), 1);
  assert.ok(Math.abs(host.num('RBV') - 2) < 0.11);
  assert.equal(host.num('VAL'), host.num('RBV'));
  await flush();
  assert.equal(p.done, true);

  // Pause keeps the target; Go resumes it
  const q = track(put('VAL', 5));
  clock.advance(1000);
  await put('SPMG', 1);
  assert.equal(host.num('DMOV'), 1);
  assert.equal(host.num('VAL'), 5);
  const stoppedAt = host.num('RBV');
  clock.advance(2000);
  assert.equal(host.num('RBV'), stoppedAt);
  await put('VAL', 6); // stored, no motion while paused
  assert.equal(host.num('DMOV'), 1);
  const r = track(put('SPMG', 3));
  assert.equal(host.num('DMOV'), 0);
  clock.advance(10000);
  await flush();
  assert.equal(host.num('RBV'), 6);
  assert.equal(r.done, true);
  assert.equal(q.done, true);

  // Move: one move, then Pause
  await put('SPMG', 1);
  await put('VAL', 7);
  const m = track(put('SPMG', 2));
  clock.advance(2000);
  await flush();
  assert.equal(m.done, true);
  assert.equal(host.num('RBV'), 7);
  assert.equal(host.num('SPMG'), 1);

  // Stop: VAL follows the readback, puts do not move
  await put('SPMG', 0);
  await put('VAL', 9);
  assert.equal(host.num('VAL'), 7);
  assert.equal(host.num('DMOV'), 1);
});

test('homing, jogging, hard limits', async () => {
  const { clock, host, put } = setup(
    { VELO: 2, ACCL: 0, HVEL: 4, JVEL: 1, DHLM: 0, DLLM: 0, HLSV: 2 },
    { hardHigh: 3, hardLow: -3, initialDial: 1 },
  );
  assert.equal(host.num('RBV'), 1);
  const h = track(put('HOMR', 1));
  assert.equal(host.num('MIP') & 0x10, 0x10);
  clock.advance(300);
  await flush();
  assert.equal(h.done, true);
  assert.equal(host.num('RBV'), 0);
  assert.equal(host.num('HOMR'), 0);
  assert.equal(host.num('ATHM'), 1);
  assert.equal(host.num('MSTA') & MSTA.HOMED, MSTA.HOMED);

  const jog = track(put('JOGF', 1)); // a jog's put completes when the jog ends
  clock.advance(1000);
  await flush();
  assert.equal(jog.done, false);
  assert.ok(Math.abs(host.num('RBV') - 1) < 0.11);
  await put('JOGF', 0);
  await flush();
  assert.equal(jog.done, true);
  assert.equal(host.num('DMOV'), 1);
  assert.equal(host.num('VAL'), host.num('RBV'));

  // a move beyond the hard limit stops on the switch
  const p = track(put('VAL', 10));
  clock.advance(10000);
  await flush();
  assert.equal(p.done, true);
  assert.equal(host.num('RBV'), 3);
  assert.equal(host.num('HLS'), 1);
  assert.equal(host.num('RHLS'), 1);
  assert.equal(host.num('LLS'), 0);
  assert.equal(host.num('MSTA') & MSTA.PLUS_LS, MSTA.PLUS_LS);
  assert.equal(host.severity, 2);
  assert.equal(host.status, 11); // HWLIMIT
  assert.equal(host.num('VAL'), 3);
  const q = put('VAL', 0);
  clock.advance(5000);
  await q;
  assert.equal(host.num('HLS'), 0);
  assert.equal(host.severity, 0);
});

test('backlash, settle delay, speeds and resolution', async () => {
  const { clock, host, put } = setup({ VELO: 1, ACCL: 0, BDST: 0.5, BVEL: 0.1, BACC: 0, DLY: 1 });
  // negative move: overshoot by BDST then approach at BVEL
  const p = track(put('VAL', -1));
  assert.equal(host.num('MIP') & 0x100, 0x100);
  clock.advance(1600); // first leg to -1.5 takes 1.5 s
  assert.ok(host.num('RBV') < -1.4, `RBV ${host.num('RBV')}`);
  clock.advance(5000); // second leg 0.5 at 0.1 -> 5 s
  assert.equal(host.num('RBV'), -1);
  assert.equal(host.num('DMOV'), 0); // settling (DLY)
  await flush();
  assert.equal(p.done, false);
  clock.advance(1000);
  await flush();
  assert.equal(host.num('DMOV'), 1);
  assert.equal(p.done, true);

  await put('VMAX', 5);
  await put('VELO', 10);
  assert.equal(host.num('VELO'), 5); // clamped to VMAX
  await put('S', 10);
  assert.equal(host.num('VELO'), 2); // S * UREV(0.2)
  await put('MRES', 0.002);
  assert.equal(host.num('UREV'), 0.4);
  assert.equal(host.num('RRBV'), -1000); // the controller keeps its steps
  assert.equal(host.num('RBV'), -2);
  assert.equal(host.num('VAL'), -2);
  assert.equal(host.num('RHLM'), 50000);
  assert.deepEqual(motorLimitsFor(host, 'VAL'), { upper: 100, lower: -100 });
  assert.deepEqual(motorLimitsFor(host, 'DRBV'), { upper: 100, lower: -100 });
  assert.deepEqual(motorLimitsFor(host, 'RVAL'), { upper: 50000, lower: -50000 });
  assert.equal(motorLimitsFor(host, 'EGU'), undefined);
});

test('encoder readback (UEIP/ERES) and stop() clears timers', async () => {
  const { clock, host, sim, put } = setup({ VELO: 1, ACCL: 0, ERES: 0.01, UEIP: 1 });
  const p = track(put('VAL', 0.123));
  clock.advance(1000);
  await flush();
  assert.equal(p.done, true);
  assert.equal(host.num('REP'), 12);
  assert.ok(Math.abs(host.num('DRBV') - 0.12) < 1e-12);
  assert.equal(host.num('MSTA') & MSTA.PRESENT, MSTA.PRESENT);
  void put('VAL', 50);
  assert.ok(clock.pending > 0);
  sim.stop();
  assert.equal(clock.pending, 0);
});

test('retries: RDBD, RTRY, RCNT, MISS with a simulated landing error', async () => {
  const { clock, host, put } = setup({ VELO: 1, ACCL: 0, RDBD: 0.002, RTRY: 3 }, { landingError: 8 });
  const p = track(put('VAL', 1));
  clock.advance(5000);
  await flush();
  assert.equal(p.done, true);
  // misses by 8, 4 steps (> RDBD = 2 steps), then 2 steps is within the deadband
  assert.equal(host.num('RCNT'), 2);
  assert.equal(host.num('MISS'), 0);
  assert.equal(host.num('RRBV'), 1002);
  assert.equal(host.num('DMOV'), 1);
  // no retries allowed: the miss is flagged
  await put('RTRY', 0);
  const q = track(put('VAL', 2));
  clock.advance(5000);
  await flush();
  assert.equal(q.done, true);
  assert.equal(host.num('RCNT'), 0);
  assert.equal(host.num('MISS'), 1);
  assert.equal(host.num('RRBV'), 2008);
});

test('STOP decelerates at the acceleration rate; a stopped home search does not home', async () => {
  const { clock, host, put } = setup({ VELO: 2, VBAS: 0, ACCL: 1, HVEL: 2 });
  const p = track(put('VAL', 20));
  clock.advance(3000); // accelerated to 2 EGU/s after 1 s: at 1 + 2*2 = 5
  assert.ok(Math.abs(host.num('RBV') - 5) < 0.25, `RBV ${host.num('RBV')}`);
  await put('STOP', 1);
  assert.equal(host.num('DMOV'), 0, 'still decelerating');
  assert.equal(host.num('MIP') & 0x200, 0x200);
  clock.advance(1100); // 1 s to stop from 2 EGU/s: 1 EGU more
  await flush();
  assert.equal(p.done, true);
  assert.equal(host.num('DMOV'), 1);
  assert.ok(Math.abs(host.num('RBV') - 6) < 0.25, `RBV ${host.num('RBV')}`);
  assert.equal(host.num('VAL'), host.num('RBV'));
  assert.equal(host.num('RCNT'), 0);

  const h = track(put('HOMR', 1));
  clock.advance(1500);
  await put('STOP', 1);
  clock.advance(2000);
  await flush();
  assert.equal(h.done, true);
  assert.equal(host.num('HOMR'), 0);
  assert.equal(host.num('ATHM'), 0);
  assert.equal(host.num('MSTA') & MSTA.HOMED, 0);
  assert.ok(host.num('RBV') > 0.5, 'stopped short of home');
});
