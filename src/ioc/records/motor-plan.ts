/**
 * Motor move planning (motorRecord.cc's rules): which segments a move is made of (backlash
 * approach BDST/BVEL/BACC, home speed HVEL, retries), whether a target violates the soft limits, and
 * the deceleration ramp of a stop. Pure functions over a `SimHost`'s fields; motor-sim.ts runs them.
 */
import { resolution, softLimitsOn, type Profile, type Segment } from './motor-motion.js';
import type { SimHost } from './sim-framework.js';

export type MoveKind = 'move' | 'home' | 'jog';

/** Whether a move to dial position `dval` violates the soft limits (moving back towards them is allowed). */
export function targetViolatesLimits(h: SimHost, dval: number): boolean {
  if (!softLimitsOn(h)) return false;
  const dhlm = h.num('DHLM');
  const dllm = h.num('DLLM');
  if (dllm > dhlm) return true;
  const ldvl = h.num('LDVL');
  // moving back towards the valid range is allowed
  if ((dval > dhlm && dval < ldvl) || (dval < dllm && dval > ldvl)) return false;
  const bdst = h.num('BDST');
  const preferred = dval > ldvl === bdst > 0;
  const check = preferred ? dval : dval - bdst;
  return dval > dhlm || dval < dllm || check > dhlm || check < dllm;
}

/**
 * The segments (in steps) of a move from `here` (steps) to dial position `dval`: a backlash approach
 * for a plain move when BDST is at least a step (one slow segment when already within BDST on the
 * preferred side), else one segment at VELO (HVEL for a home search).
 */
export function planMove(h: SimHost, here: number, dval: number, kind: MoveKind): Segment[] {
  const mres = resolution(h);
  const target = dval / mres;
  const absMres = Math.abs(mres);
  const velo = h.num('VELO') / absMres;
  const vbas = h.num('VBAS') / absMres;
  const accl = h.num('ACCL');
  const segments: Segment[] = [];
  const bdst = h.num('BDST');
  const bdstSteps = bdst / mres;
  const distDial = dval - here * mres;
  if (bdst !== 0 && Math.abs(bdstSteps) >= 1 && kind === 'move') {
    const preferred = distDial > 0 === bdst > 0;
    const bvel = (h.num('BVEL') || h.num('VELO')) / absMres;
    if (preferred && Math.abs(distDial) <= Math.abs(bdst)) {
      segments.push({ from: here, to: target, vb: vbas, vm: bvel, accelTime: h.num('BACC') });
    } else {
      segments.push({ from: here, to: target - bdstSteps, vb: vbas, vm: velo, accelTime: accl });
      segments.push({
        from: target - bdstSteps,
        to: target,
        vb: vbas,
        vm: bvel,
        accelTime: h.num('BACC'),
      });
    }
  } else {
    const speed = kind === 'home' ? (h.num('HVEL') || h.num('VELO')) / absMres : velo;
    segments.push({ from: here, to: target, vb: vbas, vm: speed, accelTime: accl });
  }
  return segments;
}

/** The segment of a retry from `from` to `target` (steps), at VELO. */
export function retrySegment(h: SimHost, from: number, target: number): Segment {
  const mres = resolution(h);
  const speed = h.num('VELO') / Math.abs(mres);
  return {
    from,
    to: target,
    vb: h.num('VBAS') / Math.abs(mres),
    vm: speed,
    accelTime: h.num('ACCL'),
  };
}

/**
 * The ramp of a stop: from speed `v` (steps/s) at position `from`, time `now` (ms), down to the base
 * speed at profile `p`'s acceleration.
 */
export function stopProfile(p: Profile, v: number, now: number, from: number): Profile {
  const td = (v - p.vb) / p.a;
  const dist = p.vb * td + 0.5 * p.a * td * td;
  return {
    t0: now,
    from,
    sign: p.sign,
    dist,
    vb: p.vb,
    vp: v,
    a: p.a,
    ta: 0,
    tc: 0,
    total: td,
  };
}
