/**
 * Motor simulation math: the trapezoidal move profile (base speed, slew speed, acceleration time)
 * and the coordinate, limit and speed bookkeeping of motorRecord.cc over a `SimHost`'s fields
 * (user = DIR sign * dial + OFF; raw = dial / MRES; speeds in EGU/s and revolutions/s).
 */
import { MSTA } from './motor-fields.js';
import { AlarmStatus } from '../../protocol/constants.js';
import type { SimHost } from './sim-framework.js';

/** One constant-acceleration trapezoid (or triangle) from `from` to `to` in steps. */
export interface Segment {
  from: number;
  to: number;
  vb: number; // steps/s
  vm: number;
  accelTime: number;
}

export interface Profile {
  t0: number;
  from: number;
  sign: number;
  dist: number;
  vb: number;
  vp: number;
  a: number;
  ta: number;
  tc: number;
  total: number;
}

export function makeProfile(seg: Segment, t0: number): Profile {
  const dist = Math.abs(seg.to - seg.from);
  const sign = seg.to >= seg.from ? 1 : -1;
  const vb = Math.max(0, Math.min(seg.vb, seg.vm));
  const vm = seg.vm;
  if (!(vm > 0) || dist === 0)
    return { t0, from: seg.from, sign, dist, vb, vp: vm, a: 0, ta: 0, tc: 0, total: 0 };
  const a = seg.accelTime > 0 && vm > vb ? (vm - vb) / seg.accelTime : Infinity;
  if (a === Infinity)
    return { t0, from: seg.from, sign, dist, vb: vm, vp: vm, a, ta: 0, tc: dist / vm, total: dist / vm };
  const da = (vm * vm - vb * vb) / (2 * a);
  if (2 * da >= dist) {
    const vp = Math.sqrt(vb * vb + a * dist);
    const ta = (vp - vb) / a;
    return { t0, from: seg.from, sign, dist, vb, vp, a, ta, tc: 0, total: 2 * ta };
  }
  const ta = (vm - vb) / a;
  const tc = (dist - 2 * da) / vm;
  return { t0, from: seg.from, sign, dist, vb, vp: vm, a, ta, tc, total: 2 * ta + tc };
}

/** Speed (steps/s, >= 0) `tau` seconds into a profile. */
export function velocityAt(p: Profile, tau: number): number {
  if (tau <= 0 || tau >= p.total) return p.vb;
  if (p.a === Infinity) return p.vp;
  if (tau < p.ta) return p.vb + p.a * tau;
  if (tau < p.ta + p.tc) return p.vp;
  return Math.max(p.vb, p.vp - p.a * (tau - p.ta - p.tc));
}

/** Distance travelled (>= 0) `tau` seconds into a profile. */
export function travelled(p: Profile, tau: number): number {
  if (tau >= p.total) return p.dist;
  if (tau <= 0) return 0;
  const accel = (t: number): number => (p.a === Infinity ? p.vp * t : p.vb * t + 0.5 * p.a * t * t);
  if (tau < p.ta) return accel(tau);
  const da = accel(p.ta);
  if (tau < p.ta + p.tc) return da + p.vp * (tau - p.ta);
  return p.dist - accel(p.total - tau);
}
// ---------------------------------------------------------------------------------------------
// Coordinates, limits and speeds (motorRecord.cc)

/** +1, or -1 when DIR=Neg. */
export function dirSign(h: SimHost): number {
  return h.num('DIR') === 1 ? -1 : 1;
}
/** MRES (never 0). */
export function resolution(h: SimHost): number {
  return h.num('MRES') || 1;
}
export function userFromDial(h: SimHost, d: number): number {
  return dirSign(h) * d + h.num('OFF');
}
export function dialFromUser(h: SimHost, u: number): number {
  return (u - h.num('OFF')) * dirSign(h);
}
/** Soft limits are off when DHLM = DLLM = 0. */
export function softLimitsOn(h: SimHost): boolean {
  return !(h.num('DHLM') === h.num('DLLM') && h.num('DLLM') === 0);
}
/** LVIO for the current DVAL and dial limits. */
export function limitViolationFlag(h: SimHost): number {
  const dval = h.num('DVAL');
  return softLimitsOn(h) && (dval > h.num('DHLM') || dval < h.num('DLLM')) ? 1 : 0;
}

/** HLM/LLM and RHLM/RLLM from the dial limits (DHLM/DLLM), OFF and DIR. */
export function userLimitsFromDial(h: SimHost): void {
  const off = h.num('OFF');
  const dhlm = h.num('DHLM');
  const dllm = h.num('DLLM');
  if (dirSign(h) > 0) {
    h.set('HLM', dhlm + off);
    h.set('LLM', dllm + off);
  } else {
    h.set('HLM', -dllm + off);
    h.set('LLM', -dhlm + off);
  }
  const mres = resolution(h);
  h.set('RHLM', (mres > 0 ? dhlm : dllm) / mres);
  h.set('RLLM', (mres > 0 ? dllm : dhlm) / mres);
}

/** A user limit (HLM/LLM) was written: the dial limits follow, then LVIO. */
export function dialLimitsFromUser(h: SimHost, field: 'HLM' | 'LLM'): void {
  const off = h.num('OFF');
  const v = h.num(field);
  if (dirSign(h) > 0) h.set(field === 'HLM' ? 'DHLM' : 'DLLM', v - off);
  else h.set(field === 'HLM' ? 'DLLM' : 'DHLM', off - v);
  userLimitsFromDial(h);
  h.set('LVIO', limitViolationFlag(h));
}

/** check_speed_and_resolution() at init. */
export function checkSpeedAndResolution(h: SimHost): void {
  if (h.num('SREV') <= 0) h.set('SREV', 200);
  if (h.num('UREV') !== 0) h.set('MRES', h.num('UREV') / h.num('SREV'));
  if (h.num('MRES') === 0) h.set('MRES', 1);
  h.set('UREV', h.num('MRES') * h.num('SREV'));
  const urev = Math.abs(h.num('UREV'));
  if (h.num('SMAX') > 0) h.set('VMAX', h.num('SMAX') * urev);
  else if (h.num('VMAX') > 0) h.set('SMAX', h.num('VMAX') / urev);
  if (h.num('SBAS') !== 0) h.set('VBAS', h.num('SBAS') * urev);
  else h.set('SBAS', h.num('VBAS') / urev);
  if (h.num('S') !== 0) h.set('VELO', h.num('S') * urev);
  clampVelo(h);
  h.set('S', h.num('VELO') / urev);
}

/** VELO within VBAS..VMAX (VMAX 0: no maximum). */
export function clampVelo(h: SimHost): void {
  let v = h.num('VELO');
  const vmax = h.num('VMAX');
  if (vmax > 0 && v > vmax) v = vmax;
  if (v < h.num('VBAS')) v = h.num('VBAS');
  h.set('VELO', v);
}

/**
 * A speed or resolution field was written: the related fields follow (MRES/UREV/SREV,
 * VELO/S, VBAS/SBAS, VMAX/SMAX). Returns true when the resolution changed (the caller rescales
 * the limits and targets).
 */
export function speedOrResolutionChanged(h: SimHost, field: string): boolean {
  switch (field) {
    case 'MRES':
      if (h.num('MRES') === 0) h.set('MRES', 1);
      h.set('UREV', h.num('MRES') * h.num('SREV'));
      break;
    case 'UREV':
      h.set('MRES', h.num('UREV') / h.num('SREV') || 1);
      break;
    case 'SREV':
      if (h.num('SREV') <= 0) h.set('SREV', 200);
      h.set('MRES', h.num('UREV') / h.num('SREV') || 1);
      break;
  }
  const urev = Math.abs(h.num('UREV')) || 1;
  switch (field) {
    case 'S':
      h.set('VELO', h.num('S') * urev);
      break;
    case 'SBAS':
      h.set('VBAS', h.num('SBAS') * urev);
      break;
    case 'SMAX':
      h.set('VMAX', h.num('SMAX') * urev);
      break;
  }
  clampVelo(h);
  h.set('S', h.num('VELO') / urev);
  h.set('SBAS', h.num('VBAS') / urev);
  h.set('SMAX', h.num('VMAX') / urev);
  return field === 'MRES' || field === 'UREV' || field === 'SREV';
}

/**
 * The readback fields from the controller position `raw` (steps): RMP, REP, RRBV, DRBV, RBV, DIFF,
 * RDIF, TDIR, RVEL, the limit switches (simulated at `hard` dial positions), MSTA and the
 * HW_LIMIT alarm. `profile`: the move in progress, if any.
 */
export function updateReadbackFields(
  h: SimHost,
  raw: number,
  profile: Profile | undefined,
  homed: boolean,
  hard: { hardHigh?: number; hardLow?: number },
): void {
  const mres = resolution(h);
  const rmp = Math.round(raw);
  const eres = h.num('ERES') || mres;
  const rep = Math.round((raw * mres) / eres);
  const useEnc = h.num('UEIP') === 1;
  const drbv = useEnc ? rep * eres : rmp * mres;
  const rrbv = useEnc ? Math.round(drbv / mres) : rmp;
  const prevDrbv = h.num('DRBV');
  h.set('RMP', rmp);
  h.set('REP', rep);
  h.set('RRBV', rrbv);
  h.set('DRBV', drbv);
  h.set('RBV', userFromDial(h, drbv));
  const diff = drbv - h.num('DVAL');
  h.set('DIFF', diff);
  h.set('RDIF', Math.round(diff / mres));
  if (drbv !== prevDrbv) h.set('TDIR', drbv > prevDrbv === mres > 0 ? 1 : 0);
  const moving = profile !== undefined;
  h.set('RVEL', profile ? Math.round(profile.sign * profile.vp) : 0);
  const hh = hard.hardHigh;
  const hl = hard.hardLow;
  const dial = rmp * mres;
  const rhls = hh !== undefined && dial >= hh - Math.abs(mres) / 2 ? 1 : 0;
  const rlls = hl !== undefined && dial <= hl + Math.abs(mres) / 2 ? 1 : 0;
  // raw limit switches are in motor (step) direction; HLS/LLS in user direction
  const plusLs = mres > 0 ? rhls : rlls;
  const minusLs = mres > 0 ? rlls : rhls;
  h.set('RHLS', plusLs);
  h.set('RLLS', minusLs);
  const userPos = dirSign(h) * (mres > 0 ? 1 : -1) > 0;
  h.set('HLS', userPos ? plusLs : minusLs);
  h.set('LLS', userPos ? minusLs : plusLs);
  let msta = MSTA.GAIN_SUPPORT;
  if (h.num('TDIR')) msta |= MSTA.DIRECTION;
  if (!moving) msta |= MSTA.DONE;
  else msta |= MSTA.MOVING;
  if (plusLs) msta |= MSTA.PLUS_LS;
  if (minusLs) msta |= MSTA.MINUS_LS;
  if (rmp === 0) msta |= MSTA.HOME;
  if (homed) msta |= MSTA.HOMED;
  if (useEnc) msta |= MSTA.PRESENT;
  h.set('MSTA', msta);
  if (h.num('HLS') || h.num('LLS')) h.setAlarm(AlarmStatus.HWLIMIT, h.num('HLSV'));
}
