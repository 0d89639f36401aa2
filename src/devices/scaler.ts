/**
 * pyepics' Scaler for the synApps scaler record: count for a preset time, one-shot / auto-count
 * modes, channel names and counts, optional per-channel calc records (`<prefix>_calc<i>`).
 */
import { Device, DeviceError } from './device.js';
import { recordName, type RecordDeviceOptions } from './records.js';

export interface ScalerOptions extends RecordDeviceOptions {
  /** Number of channels (default 8). */
  nchan?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class Scaler extends Device {
  readonly nchan: number;

  constructor(prefix: string, opts: ScalerOptions = {}) {
    const nchan = opts.nchan ?? 8;
    if (!Number.isInteger(nchan) || nchan < 1 || nchan > 64)
      throw new DeviceError(`nchan must be 1..64, got ${nchan}`);
    const attrs = ['CNT', 'CONT', 'TP', 'T', 'VAL'];
    for (let i = 1; i <= nchan; i++) attrs.push(`NM${i}`, `S${i}`);
    super(recordName(prefix), { ...opts, delim: '.', attrs });
    this.nchan = nchan;
  }

  private calcPv(i: number, field: 'VAL' | 'CALC'): string {
    const attr = field === 'VAL' ? `calc${i}` : `expr${i}`;
    this.addPv(`${this.prefix}_calc${i}.${field}`, attr);
    return attr;
  }

  /** Continuous counting (CONT=1). */
  async autoCountMode(): Promise<void> {
    await this.put('CONT', 1, { wait: true });
  }

  /** One-shot counting (CONT=0). */
  async oneShotMode(): Promise<void> {
    await this.put('CONT', 0, { wait: true });
  }

  /** Set the preset count time TP (seconds). */
  async countTime(seconds: number): Promise<void> {
    if (!(seconds >= 0) || !Number.isFinite(seconds))
      throw new DeviceError(`invalid count time ${seconds}`, this.pvName('TP'));
    await this.put('TP', seconds, { wait: true });
  }

  /**
   * Start counting (CNT=1), after setting TP when `time` is given. With `wait`, resolves when the
   * count has finished (CNT back to 0), or throws DeviceError after `timeout` seconds (default
   * time + 10).
   */
  async count(time?: number, waitOrOpts: boolean | { wait?: boolean; timeout?: number } = {}): Promise<void> {
    const opts = typeof waitOrOpts === 'boolean' ? { wait: waitOrOpts } : waitOrOpts;
    if (time !== undefined) await this.countTime(time);
    const tp = time ?? (Number(await this.get('TP', { useMonitor: false })) || 0);
    const timeout = opts.timeout ?? tp + 10;
    if (!opts.wait) {
      await this.put('CNT', 1);
      return;
    }
    const t0 = Date.now();
    const rc = await this.pv('CNT').put(1, { wait: true, timeout });
    if (rc === null || rc === undefined)
      throw new DeviceError(`${this.pvName('CNT')} is not connected`, this.pvName('CNT'));
    // put-callback completion normally means done; poll CNT in case the record completed early
    while (Number(await this.get('CNT', { useMonitor: false })) !== 0) {
      if ((Date.now() - t0) / 1000 > timeout)
        throw new DeviceError(`count did not finish within ${timeout} s`, this.pvName('CNT'));
      await sleep(20);
    }
  }

  /** Enable the channel calc records (`<prefix>_calcEnable`=1). */
  async enableCalcs(): Promise<void> {
    this.addPv(`${this.prefix}_calcEnable.VAL`, 'calc_enable');
    await this.put('calc_enable', 1, { wait: true });
  }

  /** Set the expression of channel `i`'s calc record. */
  async setCalc(i: number, calc: string): Promise<void> {
    this.checkChannel(i);
    await this.put(this.calcPv(i, 'CALC'), calc, { wait: true });
  }

  private checkChannel(i: number): void {
    if (!Number.isInteger(i) || i < 1 || i > this.nchan)
      throw new DeviceError(`channel ${i} outside 1..${this.nchan}`);
  }

  /** Channel names NM1..NMn. */
  async getNames(): Promise<string[]> {
    const names: string[] = [];
    for (let i = 1; i <= this.nchan; i++) names.push(`NM${i}`);
    return Promise.all(names.map((a) => this.get(a, { useMonitor: false }).then((v) => String(v))));
  }

  /** Counts S1..Sn (or the calc record values with useCalc). */
  async read(opts: { useCalc?: boolean } = {}): Promise<number[]> {
    const attrs: string[] = [];
    for (let i = 1; i <= this.nchan; i++) attrs.push(opts.useCalc ? this.calcPv(i, 'VAL') : `S${i}`);
    return Promise.all(attrs.map((a) => this.get(a, { useMonitor: false }).then((v) => Number(v))));
  }
}
