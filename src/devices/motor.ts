/**
 * pyepics' Motor for the EPICS motor record: every field under its own name and under pyepics'
 * English alias (camelCase `slewSpeed`, and the snake_case `slew_speed` too), moves in user, dial or
 * raw coordinates with soft-limit checks, tweaks, set-position, limit checks.
 */
import { Device, DeviceError } from './device.js';
import type { PvCallbackArgs, PvFactory } from './pv-like.js';

export class MotorError extends DeviceError {}
export class MotorLimitError extends MotorError {}

/** pyepics' alias table (snake_case → field). */
const SNAKE_ALIASES: Readonly<Record<string, string>> = {
  acceleration: 'ACCL',
  back_accel: 'BACC',
  backlash: 'BDST',
  back_speed: 'BVEL',
  card: 'CARD',
  dial_high_limit: 'DHLM',
  direction: 'DIR',
  dial_low_limit: 'DLLM',
  settle_time: 'DLY',
  done_moving: 'DMOV',
  dial_readback: 'DRBV',
  description: 'DESC',
  dial_drive: 'DVAL',
  units: 'EGU',
  encoder_step: 'ERES',
  freeze_offset: 'FOFF',
  move_fraction: 'FRAC',
  hi_severity: 'HHSV',
  hi_alarm: 'HIGH',
  hihi_alarm: 'HIHI',
  high_limit: 'HLM',
  high_limit_set: 'HLS',
  hw_limit: 'HLSV',
  home_forward: 'HOMF',
  home_reverse: 'HOMR',
  high_op_range: 'HOPR',
  high_severity: 'HSV',
  integral_gain: 'ICOF',
  jog_accel: 'JAR',
  jog_forward: 'JOGF',
  jog_reverse: 'JOGR',
  jog_speed: 'JVEL',
  last_dial_val: 'LDVL',
  low_limit: 'LLM',
  low_limit_set: 'LLS',
  lo_severity: 'LLSV',
  lolo_alarm: 'LOLO',
  low_op_range: 'LOPR',
  low_alarm: 'LOW',
  last_rel_val: 'LRLV',
  last_dial_drive: 'LRVL',
  last_SPMG: 'LSPG',
  low_severity: 'LSV',
  last_drive: 'LVAL',
  soft_limit: 'LVIO',
  in_progress: 'MIP',
  missed: 'MISS',
  moving: 'MOVN',
  resolution: 'MRES',
  motor_status: 'MSTA',
  offset: 'OFF',
  output_mode: 'OMSL',
  output: 'OUT',
  prop_gain: 'PCOF',
  precision: 'PREC',
  readback: 'RBV',
  retry_max: 'RTRY',
  retry_count: 'RCNT',
  retry_deadband: 'RDBD',
  dial_difference: 'RDIF',
  raw_encoder_pos: 'REP',
  raw_high_limit: 'RHLS',
  raw_low_limit: 'RLLS',
  relative_value: 'RLV',
  raw_motor_pos: 'RMP',
  raw_readback: 'RRBV',
  readback_res: 'RRES',
  raw_drive: 'RVAL',
  dial_speed: 'RVEL',
  s_speed: 'S',
  s_back_speed: 'SBAK',
  s_base_speed: 'SBAS',
  s_max_speed: 'SMAX',
  set: 'SET',
  stop_go: 'SPMG',
  s_revolutions: 'SREV',
  stop_command: 'STOP',
  t_direction: 'TDIR',
  tweak_forward: 'TWF',
  tweak_reverse: 'TWR',
  tweak_val: 'TWV',
  use_encoder: 'UEIP',
  u_revolutions: 'UREV',
  use_rdbl: 'URIP',
  drive: 'VAL',
  base_speed: 'VBAS',
  slew_speed: 'VELO',
  version: 'VERS',
  max_speed: 'VMAX',
  use_home: 'ATHM',
  deriv_gain: 'DCOF',
  use_torque: 'CNEN',
  device_type: 'DTYP',
  record_type: 'RTYP',
  status: 'STAT',
};

function camel(s: string): string {
  return s.replace(/_([A-Za-z])/g, (_, c: string) => c.toUpperCase());
}

/** Every alias: camelCase (`slewSpeed`) and pyepics' snake_case (`slew_speed`) → field. */
export const MOTOR_ALIASES: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(
    Object.entries(SNAKE_ALIASES).flatMap(([k, v]) =>
      camel(k) === k
        ? [[k, v]]
        : [
            [camel(k), v],
            [k, v],
          ],
    ),
  ),
);

/** Fields whose PVs are created when a Motor is made (as pyepics' `_init_list`). */
export const MOTOR_INIT_FIELDS = [
  'VAL',
  'DESC',
  'RTYP',
  'RBV',
  'PREC',
  'TWV',
  'FOFF',
  'VELO',
  'STAT',
  'SET',
  'LLM',
  'HLM',
  'SPMG',
  'LVIO',
  'HLS',
  'LLS',
] as const;

export type MoveOutcome =
  | 'done' // waited, finished without limit violation (0)
  | 'started' // no wait: move started (1 when MOVN confirmed it, 0 otherwise)
  | 'softLimit' // -12 refused (outside soft limits), -4 waited and LVIO set, 4 no-wait LVIO
  | 'hardLimit' // -3 waited and HLS/LLS set, 3 no-wait HLS/LLS
  | 'timeout' // -8 still moving after timeout, -7 timed out but DMOV says done
  | 'notConnected' // -11
  | 'invalidValue' // -13
  | 'error'; // -5 unexpected put status

export interface MoveResult {
  result: MoveOutcome;
  /** pyepics' integer return code of Motor.move(). */
  code: number;
}

export interface MoveOptions {
  relative?: boolean;
  wait?: boolean;
  /** Seconds (default 300). */
  timeout?: number;
  dial?: boolean;
  raw?: boolean;
  /** Same as raw (pyepics' older name). */
  step?: boolean;
  ignoreLimits?: boolean;
  /** Without wait: poll MOVN for up to 0.25 s to confirm the move began. */
  confirmMove?: boolean;
}

export interface MotorOptions {
  /** Connection timeout, seconds (default 3 as pyepics' code). */
  timeout?: number;
  pvFactory?: PvFactory;
}

export interface MotorCallbackArgs extends PvCallbackArgs {
  motorField: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class Motor extends Device {
  /** Motor name without `.VAL`. */
  readonly name: string;
  private readonly fieldCallbacks = new Map<string, number>();

  constructor(name: string, opts: MotorOptions = {}) {
    if (typeof name !== 'string' || name.trim() === '') throw new MotorError('must supply motor name');
    let n = name.trim();
    if (n.endsWith('.VAL')) n = n.slice(0, -4);
    if (n.endsWith('.')) n = n.slice(0, -1);
    super(n, {
      delim: '.',
      attrs: MOTOR_INIT_FIELDS,
      aliases: MOTOR_ALIASES,
      timeout: opts.timeout ?? 3,
      pvFactory: opts.pvFactory,
    });
    this.name = n;
    this.addPv(`${n}_able.VAL`, 'disabled');
    this.optionalAttrs.add('disabled');
  }

  /**
   * Connect every PV in parallel and check that the record is a motor record. Resolves true when
   * every PV connected (the optional `disabled` PV is not required); throws MotorError when RTYP is
   * unreachable or not 'motor'.
   */
  override async connect(timeout: number = this.timeout): Promise<boolean> {
    await super.connect(timeout);
    let rtyp: unknown;
    try {
      rtyp = await this.get('RTYP', { timeout });
    } catch {
      throw new MotorError(`${this.name} is not connected`, `${this.name}.RTYP`);
    }
    if (rtyp !== 'motor') throw new MotorError(`${this.name} is not an Epics Motor`, `${this.name}.RTYP`);
    return this.unconnected().filter((n) => n !== `${this.name}_able.VAL`).length === 0;
  }

  private async num(attr: string, timeout?: number): Promise<number> {
    const v = await this.get(attr, { useMonitor: false, timeout });
    if (typeof v === 'number') return v;
    const n = Number(v);
    if (Number.isNaN(n))
      throw new MotorError(`${this.pvName(attr)} is not numeric (${String(v)})`, this.pvName(attr));
    return n;
  }

  /** True when `value` is within the soft limits (LLM..HLM, or DLLM..DHLM with dial). */
  async withinLimits(value: number, opts: { dial?: boolean } = {}): Promise<boolean> {
    const [lo, hi] = await Promise.all(
      opts.dial ? [this.num('DLLM'), this.num('DHLM')] : [this.num('LLM'), this.num('HLM')],
    );
    return value <= hi && value >= lo;
  }

  /** Throws MotorLimitError when LVIO, HLS or LLS is set. */
  async checkLimits(): Promise<void> {
    const [lvio, hls, lls] = await Promise.all([this.num('LVIO'), this.num('HLS'), this.num('LLS')]);
    if (lvio !== 0) throw new MotorLimitError('Soft limit violation', `${this.name}.LVIO`);
    if (hls !== 0) throw new MotorLimitError('High hard limit violation', `${this.name}.HLS`);
    if (lls !== 0) throw new MotorLimitError('Low  hard limit violation', `${this.name}.LLS`);
  }

  /** Move to `value` (user units; dial or raw on request); see MoveOutcome for what it resolves to. */
  async move(value: number, opts: MoveOptions = {}): Promise<MoveResult> {
    const raw = Boolean(opts.raw || opts.step);
    const timeout = opts.timeout ?? 300;
    let val = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
    if (!Number.isFinite(val)) return { result: 'invalidValue', code: -13 };
    const drv = opts.dial ? 'DVAL' : raw ? 'RVAL' : 'VAL';
    const pv = this.pv(drv);
    if (!pv.connected && !(await pv.waitForConnection(this.timeout).catch(() => false))) {
      return { result: 'notConnected', code: -11 };
    }
    if (opts.relative) val += await this.num(drv);
    if (!opts.ignoreLimits && !raw && !(await this.withinLimits(val, { dial: opts.dial }))) {
      return { result: 'softLimit', code: -12 };
    }
    let stat: number | null | undefined;
    try {
      stat = await pv.put(val, { wait: Boolean(opts.wait), timeout });
    } catch {
      return { result: 'error', code: -5 };
    }
    if (stat === null || stat === undefined) return { result: 'notConnected', code: -11 };
    if (opts.wait && stat === -1) {
      return (await this.num('DMOV')) === 0
        ? { result: 'timeout', code: -8 }
        : { result: 'timeout', code: -7 };
    }
    if (stat !== 1) return { result: 'error', code: -5 };
    if (opts.wait) {
      const [lvio, hls, lls] = await Promise.all([this.num('LVIO'), this.num('HLS'), this.num('LLS')]);
      if (lvio === 1) return { result: 'softLimit', code: -4 };
      if (hls === 1 || lls === 1) return { result: 'hardLimit', code: -3 };
      return { result: 'done', code: 0 };
    }
    if (opts.confirmMove) {
      const t0 = Date.now();
      while ((await this.num('MOVN')) === 0 && Date.now() - t0 < 250) await sleep(5);
    }
    const [movn, lvio, hls, lls] = await Promise.all([
      this.num('MOVN'),
      this.num('LVIO'),
      this.num('HLS'),
      this.num('LLS'),
    ]);
    if (movn === 1) return { result: 'started', code: 1 };
    if (lvio === 1) return { result: 'softLimit', code: 4 };
    if (hls === 1 || lls === 1) return { result: 'hardLimit', code: 3 };
    return { result: 'started', code: 0 };
  }

  /** Drive position (VAL / DVAL / RVAL) or, with readback, RBV / DRBV / RRBV. */
  async getPosition(
    opts: { dial?: boolean; raw?: boolean; step?: boolean; readback?: boolean } = {},
  ): Promise<number> {
    const raw = opts.raw || opts.step;
    let field = opts.dial ? 'VAL' : raw ? 'RVAL' : 'VAL';
    if (opts.dial) field = opts.readback ? 'DRBV' : 'DVAL';
    else if (raw) field = opts.readback ? 'RRBV' : 'RVAL';
    else field = opts.readback ? 'RBV' : 'VAL';
    return this.num(field);
  }

  /**
   * Redefine the current position without moving: SET=1 (Set mode), write the drive field, SET=0
   * (Use mode). SET is put back to Use even if the write fails.
   */
  async setPosition(
    position: number,
    opts: { dial?: boolean; raw?: boolean; step?: boolean } = {},
  ): Promise<void> {
    if (!Number.isFinite(position)) throw new MotorError(`invalid position ${String(position)}`);
    const drv = opts.dial ? 'DVAL' : opts.raw || opts.step ? 'RVAL' : 'VAL';
    await this.put('SET', 1, { wait: true, timeout: 10 });
    try {
      await this.put(drv, position, { wait: true, timeout: 10 });
    } finally {
      await this.put('SET', 0, { wait: true, timeout: 10 });
    }
  }

  /** Move by TWV forward or reverse (direction starting with 'rev' or 'back' is reverse). */
  async tweak(
    direction: string = 'forward',
    opts: { wait?: boolean; timeout?: number } = {},
  ): Promise<MoveResult> {
    const field = direction.startsWith('rev') || direction.startsWith('back') ? 'TWR' : 'TWF';
    const pv = this.pv(field);
    if (!pv.connected && !(await pv.waitForConnection(this.timeout).catch(() => false))) {
      return { result: 'notConnected', code: -11 };
    }
    const stat = await pv.put(1, { wait: Boolean(opts.wait), timeout: opts.timeout ?? 300 });
    if (stat === null || stat === undefined) return { result: 'notConnected', code: -11 };
    if (stat === -1) return { result: 'timeout', code: -1 };
    try {
      await this.checkLimits();
    } catch (e) {
      if (e instanceof MotorLimitError) {
        return { result: e.message.startsWith('Soft') ? 'softLimit' : 'hardLimit', code: -1 };
      }
      throw e;
    }
    return opts.wait ? { result: 'done', code: 0 } : { result: 'started', code: 0 };
  }

  /** Stop the motor as soon as possible (STOP=1). */
  async stop(): Promise<void> {
    await this.put('STOP', 1);
  }

  /** Add a callback on one field (alias-aware); the callback also gets `motorField`. */
  setCallback(
    attr: string = 'VAL',
    callback: (args: MotorCallbackArgs) => void,
    kws: Record<string, unknown> = {},
  ): number {
    const field = this.resolveAttr(attr);
    this.clearCallback(attr);
    const index = this.addCallback(field, (args) => callback({ ...args, ...kws, motorField: attr }));
    this.fieldCallbacks.set(field, index);
    return index;
  }

  /** Remove the callback setCallback() installed on a field. */
  clearCallback(attr: string = 'drive'): void {
    const field = this.resolveAttr(attr);
    const index = this.fieldCallbacks.get(field);
    if (index !== undefined) {
      this.removeCallbacks(field, index);
      this.fieldCallbacks.delete(field);
    }
  }

  /** Current values as strings of DESC VAL RBV PREC VELO STAT SET TWV LLM HLM SPMG. */
  async getInfo(): Promise<Record<string, string>> {
    const fields = ['DESC', 'VAL', 'RBV', 'PREC', 'VELO', 'STAT', 'SET', 'TWV', 'LLM', 'HLM', 'SPMG'];
    const values = await Promise.all(
      fields.map((f) => this.get(f, { asString: true }).then(String, () => 'Not Connected')),
    );
    return Object.fromEntries(fields.map((f, i) => [f, values[i]]));
  }

  /** pyepics' show_info() as text: the getInfo() table under the motor's description line. */
  async showInfo(): Promise<string> {
    const info = await this.getInfo();
    const rule = '--------------------------------------';
    const lines = [
      String(this),
      rule,
      ...Object.entries(info).map(([k, v]) => `${k.padEnd(16)} = ${v}`),
      rule,
    ];
    return lines.join('\n');
  }

  /** pyepics' show_all() as text: every alias with its value and PV name, sorted by alias. */
  async showAll(): Promise<string> {
    const names = Object.keys(SNAKE_ALIASES)
      .map(camel)
      .sort((a, b) => a.localeCompare(b));
    const values = await Promise.all(
      names.map((a) => this.get(a, { asString: true }).then(String, () => 'Not Connected??')),
    );
    const out = [
      `# Motor ${this.name}`,
      '#  field               value                 PV name',
      '#------------------------------------------------------------',
    ];
    names.forEach((a, i) => out.push(` ${a.padEnd(18)}  ${values[i].padEnd(18)}  ${this.pvName(a)}`));
    return out.join('\n');
  }

  /** Tweak step sizes `j*10**(i-PREC)` (j in 1,2,5) within (0.98*minStep, maxStep]. */
  async makeStepList(minStep = 0, maxStep?: number, decades = 10): Promise<number[]> {
    const prec = await this.num('PREC');
    const max = maxStep ?? 0.6 * Math.abs((await this.num('HLM')) - (await this.num('LLM')));
    const out: number[] = [];
    for (let i = 0; i < decades; i++) {
      for (const j of [1, 2, 5]) {
        const step = j * 10 ** (i - prec);
        if (step <= max && step > 0.98 * minStep) out.push(step);
      }
    }
    return out;
  }

  override toString(): string {
    let desc = '';
    try {
      desc = this.cachedString('DESC');
    } catch {
      desc = '';
    }
    return `<Motor: ${this.name}: '${desc}'>`;
  }
}
