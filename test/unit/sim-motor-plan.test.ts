/** Motor move planning (motor-plan.ts): segments, soft-limit checks, retries and the stop ramp. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  planMove,
  retrySegment,
  stopProfile,
  targetViolatesLimits,
} from '../../src/ioc/records/motor-plan.js';
import { makeProfile, travelled, velocityAt } from '../../src/ioc/records/motor-motion.js';
import type { SimHost } from '../../src/ioc/records/sim-framework.js';

function host(fields: Record<string, number>): SimHost {
  const f: Record<string, number> = { MRES: 0.001, VELO: 1, VBAS: 0.1, ACCL: 0.5, ...fields };
  return { num: (name: string) => f[name] ?? 0 } as unknown as SimHost;
}

test('a plain move is one segment at VELO from VBAS with ACCL', () => {
  assert.deepEqual(planMove(host({}), 0, 2, 'move'), [
    { from: 0, to: 2000, vb: 100, vm: 1000, accelTime: 0.5 },
  ]);
  // a negative resolution: steps run the other way, speeds stay positive
  assert.deepEqual(planMove(host({ MRES: -0.01 }), 10, 1, 'move'), [
    { from: 10, to: -100, vb: 10, vm: 100, accelTime: 0.5 },
  ]);
});

test('backlash: from the other side or from afar, a fast segment then the BDST approach at BVEL with BACC', () => {
  const h = host({ BDST: 0.5, BVEL: 0.2, BACC: 0.1 });
  const approach = { vb: 100, vm: 200, accelTime: 0.1 };
  // from afar on the preferred side
  assert.deepEqual(planMove(h, 0, 3, 'move'), [
    { from: 0, to: 2500, vb: 100, vm: 1000, accelTime: 0.5 },
    { from: 2500, to: 3000, ...approach },
  ]);
  // from the other side (moving down)
  assert.deepEqual(planMove(h, 3000, 1, 'move'), [
    { from: 3000, to: 500, vb: 100, vm: 1000, accelTime: 0.5 },
    { from: 500, to: 1000, ...approach },
  ]);
  // within BDST on the preferred side: the approach only
  assert.deepEqual(planMove(h, 2800, 3, 'move'), [{ from: 2800, to: 3000, ...approach }]);
  // BVEL 0: the approach at VELO
  assert.equal(planMove(host({ BDST: 0.5, BACC: 0.1 }), 2800, 3, 'move')[0]!.vm, 1000);
  // BDST under a step, jogs and home searches: no backlash segment
  assert.equal(planMove(host({ BDST: 0.0004 }), 0, 3, 'move').length, 1);
  assert.equal(planMove(h, 0, 3, 'jog').length, 1);
  assert.equal(planMove(h, 0, 3, 'home').length, 1);
});

test('a home search runs at HVEL (VELO when HVEL is 0)', () => {
  assert.equal(planMove(host({ HVEL: 0.25 }), 500, 0, 'home')[0]!.vm, 250);
  assert.equal(planMove(host({}), 500, 0, 'home')[0]!.vm, 1000);
});

test('soft limits: off when both dial limits are 0; targets beyond them, or beyond with the backlash, violate', () => {
  assert.equal(targetViolatesLimits(host({ DHLM: 0, DLLM: 0 }), 1e6), false);
  const lim = { DHLM: 10, DLLM: -10, LDVL: 0 };
  assert.equal(targetViolatesLimits(host(lim), 5), false);
  assert.equal(targetViolatesLimits(host(lim), 10.5), true);
  assert.equal(targetViolatesLimits(host(lim), -10.5), true);
  assert.equal(targetViolatesLimits(host({ DHLM: -1, DLLM: 1 }), 0), true); // inverted limits
  // back towards the valid range from beyond it is allowed
  assert.equal(targetViolatesLimits(host({ ...lim, LDVL: 15 }), 12), false);
  assert.equal(targetViolatesLimits(host({ ...lim, LDVL: -15 }), -12), false);
  // moving down with a positive BDST: the move overshoots by BDST below the target
  assert.equal(targetViolatesLimits(host({ ...lim, BDST: 1 }), -9.5), true);
  assert.equal(targetViolatesLimits(host({ ...lim, BDST: 1 }), -8.5), false);
  // moving up with a positive BDST (preferred): the target alone counts
  assert.equal(targetViolatesLimits(host({ ...lim, BDST: 1 }), 9.5), false);
});

test('a retry segment runs at VELO from VBAS', () => {
  assert.deepEqual(retrySegment(host({ VELO: 2, VBAS: 0.5, ACCL: 0.3 }), 990, 1000), {
    from: 990,
    to: 1000,
    vb: 500,
    vm: 2000,
    accelTime: 0.3,
  });
});

test('the stop ramp decelerates from the current speed to the base speed at the profile acceleration', () => {
  const p = makeProfile({ from: 0, to: 100_000, vb: 100, vm: 1000, accelTime: 0.5 }, 0);
  const tau = 2; // at slew speed
  const v = velocityAt(p, tau);
  assert.equal(v, 1000);
  const s = stopProfile(p, v, 2000, 1234);
  assert.equal(s.t0, 2000);
  assert.equal(s.from, 1234);
  assert.equal(s.sign, p.sign);
  assert.equal(s.vb, p.vb);
  assert.equal(s.vp, v);
  assert.equal(s.a, p.a);
  const td = (v - p.vb) / p.a;
  assert.ok(Math.abs(s.total - td) < 1e-12);
  assert.ok(Math.abs(s.dist - (p.vb * td + 0.5 * p.a * td * td)) < 1e-9);
  assert.ok(Math.abs(travelled(s, s.total) - s.dist) < 1e-9);
  assert.equal(velocityAt(s, s.total), p.vb);
});
