/**
 * pyepics' Struck: the SIS3801/SIS3820 multi-channel scaler (synApps mca/SIS driver), with one
 * MCA per channel (`<prefix>mca<i>`) and an optional Scaler.
 */
import { writeFile } from 'node:fs/promises';
import { Device, DeviceError } from './device.js';
import { MCA } from './mca.js';
import type { RecordDeviceOptions } from './records.js';
import { Scaler } from './scaler.js';

export const STRUCK_ATTRS = [
  'ChannelAdvance',
  'Prescale',
  'EraseStart',
  'EraseAll',
  'StartAll',
  'StopAll',
  'PresetReal',
  'ElapsedReal',
  'Dwell',
  'Acquiring',
  'NuseAll',
  'CurrentChannel',
  'CountOnStart',
  'SoftwareChannelAdvance',
  'Channel1Source',
  'ReadAll',
  'DoReadAll',
  'Model',
  'Firmware',
] as const;

export interface StruckOptions extends RecordDeviceOptions {
  /** Prefix of the associated scaler record, if any. */
  scaler?: string;
  nchan?: number;
  /** Internal clock rate in MHz (default 50). */
  clockrate?: number;
}

export class Struck extends Device {
  readonly nchan: number;
  readonly clockrate: number;
  readonly mcas: MCA[];
  readonly scaler: Scaler | undefined;

  constructor(prefix: string, opts: StruckOptions = {}) {
    const p = prefix.endsWith(':') ? prefix : `${prefix}:`;
    super(p, { ...opts, delim: '', attrs: STRUCK_ATTRS });
    this.nchan = opts.nchan ?? 8;
    this.clockrate = opts.clockrate ?? 50;
    const sub = { timeout: opts.timeout, pvFactory: this.pvFactory };
    this.mcas = Array.from({ length: this.nchan }, (_, i) => new MCA(p, { ...sub, mca: i + 1, nrois: 2 }));
    this.scaler = opts.scaler ? new Scaler(opts.scaler, { ...sub, nchan: this.nchan }) : undefined;
  }

  /** Connect this device, its MCAs and its scaler in parallel. */
  override async connect(timeout: number = this.timeout): Promise<boolean> {
    const all = await Promise.all([
      super.connect(timeout),
      ...this.mcas.map((m) => m.connect(timeout)),
      this.scaler?.connect(timeout) ?? true,
    ]);
    return all.every(Boolean);
  }

  /** External channel advance (e.g. from a motor controller). */
  async externalMode(
    opts: { countOnStart?: number; initialAdvance?: number; realtime?: number; prescale?: number } = {},
  ): Promise<void> {
    await this.put('ChannelAdvance', 1, { wait: true });
    await this.put('Prescale', opts.prescale ?? 1, { wait: true });
    await this.put('CountOnStart', opts.countOnStart ?? 0, { wait: true });
    if (opts.initialAdvance !== undefined)
      await this.put('SoftwareChannelAdvance', opts.initialAdvance, { wait: true });
    await this.put('PresetReal', opts.realtime ?? 0, { wait: true });
  }

  /** Internal channel advance from the dwell time. */
  async internalMode(opts: { prescale?: number } = {}): Promise<void> {
    await this.put('ChannelAdvance', 0, { wait: true });
    if (opts.prescale !== undefined) await this.put('Prescale', opts.prescale, { wait: true });
  }

  async setPresetReal(seconds: number): Promise<void> {
    await this.put('PresetReal', seconds, { wait: true });
  }

  async setDwell(seconds: number): Promise<void> {
    await this.put('Dwell', seconds, { wait: true });
  }

  async start(): Promise<void> {
    await this.put('EraseStart', 1);
  }

  async stop(): Promise<void> {
    await this.put('StopAll', 1, { wait: true });
  }

  async erase(): Promise<void> {
    await this.put('EraseAll', 1, { wait: true });
  }

  private mca(n: number): MCA {
    if (!Number.isInteger(n) || n < 1 || n > this.nchan)
      throw new DeviceError(`mca ${n} outside 1..${this.nchan}`);
    return this.mcas[n - 1];
  }

  /** Number of channels read so far by mca `n` (its NORD). */
  async mcaNread(n = 1): Promise<number> {
    const m = this.mca(n);
    return Number(await m.get('NORD', { useMonitor: false }));
  }

  /** Data of mca `n` (first `count` points when given). */
  async readMca(n = 1, count?: number): Promise<Float64Array> {
    const d = await this.mca(n).getData();
    return count === undefined ? d : d.subarray(0, count);
  }

  /** Data of every mca. */
  async readAllMcas(): Promise<Float64Array[]> {
    return Promise.all(this.mcas.map((m) => m.getData()));
  }

  /**
   * Write the data of the mcas as columns of a text file (header lines start with '#'). Returns
   * [number of mcas, number of points].
   */
  async saveMcaData(file = 'Struck.dat', opts: { npts?: number } = {}): Promise<[number, number]> {
    const data = await this.readAllMcas();
    const npts = opts.npts ?? Math.min(...data.map((d) => d.length));
    const lines = [
      `# Struck MCA data: ${this.prefix}, ${data.length} channels, ${npts} points`,
      '# ' + data.map((_, i) => `mca${i + 1}`).join(' '),
    ];
    for (let i = 0; i < npts; i++) lines.push(data.map((d) => String(d[i] ?? 0)).join(' '));
    await writeFile(file, lines.join('\n') + '\n', 'utf8');
    return [data.length, npts];
  }
}
