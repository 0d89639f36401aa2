/**
 * The motor simulation behind the `motor` record (motor.ts): motorRecord.cc's behaviour over a
 * `SimHost`. The controller position is kept in steps; moves follow a trapezoidal profile: base
 * speed VBAS, slew speed VELO, acceleration time ACCL, backlash BDST/BVEL, settle delay DLY, retries
 * (RDBD/RTRY). While moving it polls every `pollMs` updating
 * RMP/REP/RRBV/DRBV/RBV/DIFF/RDIF/MOVN/DMOV/MSTA/TDIR.
 */
import { MIP, SPMG_GO, SPMG_MOVE, SPMG_PAUSE, SPMG_STOP } from './motor-fields.js';
import {
  checkSpeedAndResolution,
  dialFromUser,
  dialLimitsFromUser,
  dirSign,
  limitViolationFlag,
  makeProfile,
  resolution,
  softLimitsOn,
  speedOrResolutionChanged,
  travelled,
  userFromDial,
  userLimitsFromDial,
  updateReadbackFields,
  velocityAt,
  type Profile,
  type Segment,
} from './motor-motion.js';
import { planMove, retrySegment, stopProfile, targetViolatesLimits, type MoveKind } from './motor-plan.js';
import { ActionWaiters, type RecordSimulation, type SimHost } from './sim-framework.js';

export interface MotorSimOptions {
  /** Poll period while moving (ms), like asynMotor's moving poll period. Default 100. */
  pollMs?: number;
  /** Hard limit switch positions in dial units (default: none). */
  hardHigh?: number;
  hardLow?: number;
  /** Initial dial position (default 0). */
  initialDial?: number;
  /**
   * Simulated positioning error in steps (default 0: the motor lands exactly). Each landing misses
   * the target by this much, halved on every retry; the record retries (RDBD/RTRY/RCNT/MISS).
   */
  landingError?: number;
}

/** The motor simulation. */
export class MotorSim implements RecordSimulation {
  private raw = 0; // controller position, steps
  private profile: Profile | undefined;
  private segments: Segment[] = [];
  private kind: MoveKind = 'move';
  private cancelPoll: (() => void) | undefined;
  private cancelDelay: (() => void) | undefined;
  private readonly waiters = new ActionWaiters();
  private homed = false;
  /** A stop is in progress / ended the motion: 'retarget' moves VAL to the readback. */
  private stopped: 'retarget' | 'keep' | undefined;
  private hitLimit = false;
  private readonly pollMs: number;

  constructor(
    private readonly h: SimHost,
    private readonly opts: MotorSimOptions = {},
  ) {
    this.pollMs = opts.pollMs ?? 100;
  }

  // --- coordinates
  private get dirSign(): number {
    return dirSign(this.h);
  }
  private get mres(): number {
    return resolution(this.h);
  }
  private userFromDial(d: number): number {
    return userFromDial(this.h, d);
  }
  private dialFromUser(u: number): number {
    return dialFromUser(this.h, u);
  }
  private softLimitsOn(): boolean {
    return softLimitsOn(this.h);
  }

  init(): void {
    const h = this.h;
    checkSpeedAndResolution(h);
    this.raw = (this.opts.initialDial ?? 0) / this.mres;
    if (h.num('ERES') === 0) h.set('ERES', this.mres);
    userLimitsFromDial(h);
    this.syncTargetsToReadback();
    h.set('DMOV', 1);
    h.set('MOVN', 0);
    h.set('LVIO', limitViolationFlag(h));
    h.set('LSPG', h.num('SPMG'));
    h.post();
  }

  stop(): void {
    this.cancelPoll?.();
    this.cancelDelay?.();
    this.cancelPoll = this.cancelDelay = undefined;
    this.profile = undefined;
    this.segments = [];
    this.waiters.release();
  }

  process(): Promise<void> {
    this.updateReadback();
    this.h.post();
    return Promise.resolve();
  }

  get moving(): boolean {
    return this.h.num('DMOV') === 0;
  }
  get busy(): boolean {
    return this.moving;
  }

  /** Current controller position in steps (for tests and diagnostics). */
  get rawPosition(): number {
    return this.raw;
  }

  put(field: string): Promise<void> {
    const h = this.h;
    let wait = false;
    switch (field) {
      case 'VAL':
        wait = this.targetChanged('VAL');
        break;
      case 'DVAL':
        wait = this.targetChanged('DVAL');
        break;
      case 'RVAL':
        wait = this.targetChanged('RVAL');
        break;
      case 'RLV': {
        const rlv = h.num('RLV');
        h.set('LRLV', rlv);
        h.set('RLV', 0);
        if (rlv !== 0) {
          h.set('VAL', h.num('VAL') + rlv);
          wait = this.targetChanged('VAL');
        }
        break;
      }
      case 'TWF':
      case 'TWR': {
        if (h.num(field) !== 0) {
          h.set(field, 0);
          h.set('VAL', h.num('VAL') + (field === 'TWF' ? 1 : -1) * h.num('TWV'));
          wait = this.targetChanged('VAL');
        }
        break;
      }
      case 'STOP':
        if (h.num('STOP') !== 0) {
          h.set('STOP', 0);
          this.halt(true);
        }
        break;
      case 'SPMG':
        wait = this.spmgChanged();
        break;
      case 'HOMF':
      case 'HOMR':
        if (h.num(field) !== 0) wait = this.startHome(field === 'HOMF');
        break;
      case 'JOGF':
      case 'JOGR':
        if (h.num(field) !== 0) wait = this.startJog(field === 'JOGF');
        else if (this.kind === 'jog' && this.profile) this.halt(true);
        break;
      case 'SSET':
      case 'SUSE':
        if (h.num(field) !== 0) h.set('SET', field === 'SSET' ? 1 : 0);
        h.set(field, 0);
        break;
      case 'SYNC':
        h.set('SYNC', 0);
        this.syncTargetsToReadback();
        break;
      case 'OFF':
      case 'DIR':
        userLimitsFromDial(h);
        h.set('VAL', this.userFromDial(h.num('DVAL')));
        h.set('LVAL', h.num('VAL'));
        break;
      case 'HLM':
      case 'LLM':
        dialLimitsFromUser(h, field);
        break;
      case 'DHLM':
      case 'DLLM':
        userLimitsFromDial(h);
        break;
      case 'MRES':
      case 'UREV':
      case 'SREV':
      case 'VELO':
      case 'S':
      case 'VBAS':
      case 'SBAS':
      case 'VMAX':
      case 'SMAX':
        if (speedOrResolutionChanged(h, field)) {
          // The controller keeps its step count: the dial readback rescales, the target follows it.
          userLimitsFromDial(h);
          if (!this.profile) this.syncTargetsToReadback();
        }
        break;
      case 'ERES':
        if (h.num('ERES') === 0) h.set('ERES', this.mres);
        break;
    }
    this.updateReadback();
    h.post();
    return this.waiters.completion(wait);
  }

  // --- targets and moves

  /** A target field (VAL/DVAL/RVAL) was written: derive the others, then move (or set). */
  private targetChanged(which: 'VAL' | 'DVAL' | 'RVAL'): boolean {
    const h = this.h;
    const mres = this.mres;
    let dval: number;
    if (which === 'VAL') dval = this.dialFromUser(h.num('VAL'));
    else if (which === 'DVAL') dval = h.num('DVAL');
    else dval = h.num('RVAL') * mres;

    if (h.num('SET') === 1) {
      // Set mode: redefine positions, no motion.
      if (which === 'VAL' && h.num('FOFF') === 0) {
        h.set('OFF', h.num('VAL') - this.dirSign * h.num('DVAL'));
        userLimitsFromDial(h);
      } else {
        this.raw = dval / mres;
        h.set('DVAL', dval);
        h.set('RVAL', Math.round(dval / mres));
        h.set('VAL', this.userFromDial(dval));
      }
      h.set('LVAL', h.num('VAL'));
      h.set('LDVL', h.num('DVAL'));
      h.set('LRVL', h.num('RVAL'));
      return false;
    }

    h.set('DVAL', dval);
    h.set('VAL', this.userFromDial(dval));
    h.set('RVAL', Math.round(dval / mres));
    if (targetViolatesLimits(h, dval)) {
      h.set('LVIO', 1);
      h.set('VAL', h.num('LVAL'));
      h.set('DVAL', h.num('LDVL'));
      h.set('RVAL', h.num('LRVL'));
      return false;
    }
    h.set('LVIO', 0);
    h.set('LVAL', h.num('VAL'));
    h.set('LDVL', h.num('DVAL'));
    h.set('LRVL', h.num('RVAL'));
    const spmg = h.num('SPMG');
    if (spmg === SPMG_STOP) {
      // Stopped: the target follows the readback.
      this.syncTargetsToReadback();
      return false;
    }
    if (spmg === SPMG_PAUSE) return false;
    return this.startMove(dval, 'move');
  }

  /** Start (or retarget) a move to dial position `dval`; returns false when nothing moves. */
  private startMove(dval: number, kind: MoveKind): boolean {
    const h = this.h;
    const mres = this.mres;
    const target = dval / mres;
    const here = this.currentRaw();
    this.segments = [];
    if (Math.abs(target - here) < 0.5 && !this.profile) return false;
    this.segments = planMove(h, here, dval, kind);
    this.kind = kind;
    this.raw = here;
    this.hitLimit = false;
    this.stopped = undefined;
    this.cancelDelay?.();
    this.cancelDelay = undefined;
    let mip = kind === 'move' ? MIP.MOVE : kind === 'home' ? (h.num('HOMF') ? MIP.HOMF : MIP.HOMR) : 0;
    if (this.segments.length > 1) mip |= MIP.MOVE_BL;
    if (kind === 'jog') mip = h.num('JOGF') ? MIP.JOGF : MIP.JOGR;
    h.set('MIP', mip);
    h.set('CDIR', target >= here ? 1 : 0);
    h.set('DMOV', 0);
    h.set('MOVN', 1);
    h.set('RCNT', 0);
    this.nextSegment();
    return true;
  }

  private nextSegment(): void {
    const seg = this.segments.shift();
    if (!seg) {
      this.profile = undefined;
      if (this.kind === 'move' && !this.stopped && this.retryIfNeeded()) return;
      this.motionEnded();
      return;
    }
    seg.from = this.raw;
    this.profile = makeProfile(seg, this.h.now());
    this.schedulePoll();
  }

  /** At the end of a move: land (with the simulated error), then retry when outside RDBD. */
  private retryIfNeeded(): boolean {
    const h = this.h;
    const mres = this.mres;
    const target = h.num('DVAL') / mres;
    const err = this.opts.landingError ?? 0;
    const rcnt = h.num('RCNT');
    if (err !== 0) this.raw = target + err * 0.5 ** rcnt;
    const miss = Math.abs(Math.round(this.raw) - target) * Math.abs(mres);
    const rdbd = Math.max(h.num('RDBD'), Math.abs(mres));
    if (miss <= rdbd) {
      h.set('MISS', 0);
      return false;
    }
    if (rcnt < h.num('RTRY')) {
      h.set('RCNT', rcnt + 1);
      h.set('MIP', (h.num('MIP') & ~MIP.MOVE_BL) | MIP.RETRY);
      this.segments.push(retrySegment(h, this.raw, target));
      this.nextSegment();
      return true;
    }
    h.set('MISS', 1);
    return false;
  }

  private schedulePoll(): void {
    this.cancelPoll?.();
    this.cancelPoll = this.h.setTimeout(() => this.poll(), this.pollMs);
  }

  /** Position now along the current profile (steps), without committing it. */
  private currentRaw(): number {
    const p = this.profile;
    if (!p) return this.raw;
    return p.from + p.sign * travelled(p, (this.h.now() - p.t0) / 1000);
  }

  private poll(): void {
    this.cancelPoll = undefined;
    const p = this.profile;
    if (!p) return;
    const tau = (this.h.now() - p.t0) / 1000;
    this.raw = this.currentRaw();
    const hh = this.opts.hardHigh;
    const hl = this.opts.hardLow;
    const mres = this.mres;
    const dial = this.raw * mres;
    if (hh !== undefined && dial >= hh && p.sign * mres > 0) {
      this.raw = hh / mres;
      this.hitLimit = true;
    } else if (hl !== undefined && dial <= hl && p.sign * mres < 0) {
      this.raw = hl / mres;
      this.hitLimit = true;
    }
    if (this.hitLimit) {
      this.profile = undefined;
      this.segments = [];
      this.motionEnded();
      return;
    }
    if (tau >= p.total) {
      this.raw = p.from + p.sign * p.dist;
      this.nextSegment();
      if (this.profile) {
        this.updateReadback();
        this.h.post();
      }
      return;
    }
    this.updateReadback();
    this.h.post();
    this.schedulePoll();
  }

  /** Motion stopped (target reached, stopped, or limit): settle delay then done. */
  private motionEnded(): void {
    const h = this.h;
    this.cancelPoll?.();
    this.cancelPoll = undefined;
    h.set('MOVN', 0);
    this.updateReadback();
    const dly = h.num('DLY');
    if (dly > 0) {
      h.set('MIP', h.num('MIP') | MIP.DELAY_REQ);
      h.post();
      this.cancelDelay = h.setTimeout(() => {
        this.cancelDelay = undefined;
        this.finish();
      }, dly * 1000);
      return;
    }
    this.finish();
  }

  private finish(): void {
    const h = this.h;
    const stopped = this.stopped;
    this.stopped = undefined;
    if (stopped) {
      if (this.kind === 'home') {
        h.set('HOMF', 0);
        h.set('HOMR', 0);
      }
      if (stopped === 'retarget' || this.kind !== 'move') this.syncTargetsToReadback();
      else this.updateReadback();
    } else if (this.kind === 'home') {
      this.homed = true;
      h.set('ATHM', 1);
      h.set('HOMF', 0);
      h.set('HOMR', 0);
      this.syncTargetsToReadback();
    } else if (this.kind === 'jog') {
      h.set('JOGF', 0);
      h.set('JOGR', 0);
      this.syncTargetsToReadback();
    } else if (this.hitLimit) {
      this.syncTargetsToReadback();
    }
    h.set('MIP', 0);
    h.set('MOVN', 0);
    h.set('DMOV', 1);
    if (h.num('SPMG') === SPMG_MOVE) {
      h.set('SPMG', SPMG_PAUSE);
      h.set('LSPG', SPMG_PAUSE);
    }
    this.updateReadback();
    h.post();
    this.waiters.actionEnded(h);
  }

  /**
   * Stop (STOP, SPMG Stop/Pause, jog release): decelerate from the current speed to VBAS at the
   * profile's acceleration, then end the motion. `retarget`: VAL follows the readback.
   */
  private halt(retarget: boolean): void {
    if (!this.profile && this.segments.length === 0) {
      if (retarget && !this.cancelDelay) this.syncTargetsToReadback();
      return;
    }
    this.stopped = retarget ? 'retarget' : 'keep';
    this.segments = [];
    const p = this.profile;
    const now = this.h.now();
    if (p) {
      const tau = (now - p.t0) / 1000;
      const v = velocityAt(p, tau);
      if (p.a !== Infinity && p.a > 0 && v > p.vb && tau < p.total) {
        this.raw = this.currentRaw();
        this.profile = stopProfile(p, v, now, this.raw);
        this.h.set('MIP', this.h.num('MIP') | MIP.STOP);
        this.schedulePoll();
        return;
      }
    }
    this.raw = Math.round(this.currentRaw());
    this.profile = undefined;
    this.motionEnded();
  }

  private syncTargetsToReadback(): void {
    const h = this.h;
    this.updateReadback();
    h.set('DVAL', h.num('DRBV'));
    h.set('VAL', h.num('RBV'));
    h.set('RVAL', h.num('RRBV'));
    h.set('LVAL', h.num('VAL'));
    h.set('LDVL', h.num('DVAL'));
    h.set('LRVL', h.num('RVAL'));
  }

  private spmgChanged(): boolean {
    const h = this.h;
    const spmg = h.num('SPMG');
    const last = h.num('LSPG');
    h.set('LSPG', spmg);
    if (spmg === SPMG_STOP) {
      this.halt(true);
      return false;
    }
    if (spmg === SPMG_PAUSE) {
      this.halt(false);
      return false;
    }
    // Move or Go: resume towards DVAL when not there.
    if (last === SPMG_STOP || last === SPMG_PAUSE || spmg === SPMG_MOVE) {
      const moved = this.startMove(h.num('DVAL'), 'move');
      if (!moved && spmg === SPMG_MOVE) {
        h.set('SPMG', SPMG_PAUSE);
        h.set('LSPG', SPMG_PAUSE);
      }
      return moved;
    }
    return false;
  }

  private startHome(forward: boolean): boolean {
    const h = this.h;
    if (h.num('SPMG') === SPMG_STOP || h.num('SPMG') === SPMG_PAUSE) {
      h.set(forward ? 'HOMF' : 'HOMR', 0);
      return false;
    }
    h.set('ATHM', 0);
    // The home switch is at dial 0; a home search from there still completes at once.
    if (!this.startMove(0, 'home')) {
      this.kind = 'home';
      this.finish();
      return false;
    }
    return true;
  }

  private startJog(forward: boolean): boolean {
    const h = this.h;
    if (h.num('SPMG') !== SPMG_GO) {
      h.set(forward ? 'JOGF' : 'JOGR', 0);
      return false;
    }
    const mres = this.mres;
    // Jog towards the soft limit (or hard limit, or far away) at JVEL.
    const dialDir = (forward ? 1 : -1) * this.dirSign;
    let end: number;
    if (this.softLimitsOn()) end = dialDir > 0 ? h.num('DHLM') : h.num('DLLM');
    else if (dialDir > 0) end = this.opts.hardHigh ?? this.raw * mres + 1e9 * Math.abs(mres);
    else end = this.opts.hardLow ?? this.raw * mres - 1e9 * Math.abs(mres);
    const jvel = h.num('JVEL') || h.num('VELO');
    const saveVelo = h.num('VELO');
    h.set('VELO', jvel);
    const moved = this.startMove(end, 'jog');
    h.set('VELO', saveVelo);
    if (!moved) h.set(forward ? 'JOGF' : 'JOGR', 0);
    return moved;
  }

  // --- limits, speeds, readback

  private updateReadback(): void {
    updateReadbackFields(
      this.h,
      this.profile ? this.currentRaw() : this.raw,
      this.profile,
      this.homed,
      this.opts,
    );
  }
}
