/**
 * pyepics' MCA and ROI for the synApps mca record: spectrum data, calibration, presets, start /
 * stop / erase, and regions of interest R0..R31 (`R<n>LO`, `R<n>HI`, `R<n>NM`, sum `R<n>`, net
 * `R<n>N`).
 */
import { Device, DeviceError } from './device.js';
import type { PvLike } from './pv-like.js';
import { recordName, type RecordDeviceOptions } from './records.js';

export const MCA_FIELDS = [
  'CALO',
  'CALS',
  'CALQ',
  'TTH',
  'EGU',
  'PRTM',
  'PLTM',
  'ACQG',
  'NUSE',
  'DWEL',
  'ERTM',
  'ELTM',
  'IDTIM',
] as const;
export const MAX_ROIS = 32;

export interface McaOptions extends RecordDeviceOptions {
  /** With a number, the record is `<prefix>mca<n>` (as Struck's channels). */
  mca?: number;
  /** Number of ROIs looked at by getRois/clearRois (default 32). */
  nrois?: number;
  /** A PV holding the spectrum instead of `<record>.VAL`. */
  dataPv?: string;
}

export interface RoiInfo {
  index: number;
  name: string;
  left: number;
  right: number;
}

export interface RoiOptions extends RecordDeviceOptions {
  /** Background width in channels for net counts (default 3). */
  bgrWidth?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function toNumbers(v: unknown): Float64Array {
  if (v instanceof Float64Array) return v;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView))
    return Float64Array.from(v as unknown as ArrayLike<number>);
  if (Array.isArray(v)) return Float64Array.from(v, Number);
  if (typeof v === 'number') return Float64Array.of(v);
  return new Float64Array(0);
}

/** One region of interest of an mca record. */
export class ROI extends Device {
  readonly roi: number;
  readonly bgrWidth: number;

  constructor(mcaPrefix: string, roi = 0, opts: RoiOptions = {}) {
    if (!Number.isInteger(roi) || roi < 0 || roi >= MAX_ROIS)
      throw new DeviceError(`ROI index must be 0..${MAX_ROIS - 1}, got ${roi}`);
    const r = `R${roi}`;
    super(recordName(mcaPrefix), {
      ...opts,
      delim: '.',
      attrs: [r, `${r}N`, `${r}NM`, `${r}LO`, `${r}HI`],
      aliases: { total: r, net: `${r}N`, name: `${r}NM`, left: `${r}LO`, right: `${r}HI` },
      createAliasPvs: false,
    });
    this.roi = roi;
    this.bgrWidth = opts.bgrWidth ?? 3;
  }

  async info(): Promise<RoiInfo> {
    const [name, left, right] = await Promise.all([this.get('name'), this.get('left'), this.get('right')]);
    return { index: this.roi, name: String(name).trim(), left: Number(left), right: Number(right) };
  }

  /** Clear the ROI: empty name, LO = HI = -1. */
  async clear(): Promise<void> {
    await Promise.all([
      this.put('name', '', { wait: true }),
      this.put('left', -1, { wait: true }),
      this.put('right', -1, { wait: true }),
    ]);
  }

  /** Set name and bounds. */
  async set(name: string, left: number, right: number): Promise<void> {
    await Promise.all([
      this.put('name', name, { wait: true }),
      this.put('left', left, { wait: true }),
      this.put('right', right, { wait: true }),
    ]);
  }

  /**
   * Counts in [LO, HI] of a spectrum; with `net`, minus a linear background estimated from
   * `bgrWidth` channels at each end of the region.
   */
  async getCounts(data: ArrayLike<number>, net = false): Promise<number> {
    const { left, right } = await this.info();
    return roiCounts(data, left, right, net ? this.bgrWidth : 0);
  }
}

/** Sum of data[left..right] (inclusive); with bgrWidth > 0, minus a linear background. */
export function roiCounts(data: ArrayLike<number>, left: number, right: number, bgrWidth = 0): number {
  const lo = Math.max(0, Math.floor(left));
  const hi = Math.min(data.length - 1, Math.floor(right));
  if (hi < lo) return 0;
  let sum = 0;
  for (let i = lo; i <= hi; i++) sum += data[i];
  if (bgrWidth <= 0) return sum;
  const w = Math.max(1, Math.floor(bgrWidth));
  const avg = (a: number, b: number): number => {
    let s = 0;
    let n = 0;
    for (let i = Math.max(0, a); i <= Math.min(data.length - 1, b); i++) {
      s += data[i];
      n++;
    }
    return n > 0 ? s / n : 0;
  };
  const bl = avg(lo, lo + w - 1);
  const br = avg(hi - w + 1, hi);
  const npts = hi - lo + 1;
  return sum - ((bl + br) / 2) * npts;
}

export class MCA extends Device {
  readonly nrois: number;
  private readonly dataAttr: string;

  constructor(prefix: string, opts: McaOptions = {}) {
    let name = recordName(prefix);
    if (opts.mca !== undefined) name = `${name}mca${opts.mca}`;
    super(name, { ...opts, delim: '.', attrs: MCA_FIELDS });
    this.nrois = opts.nrois ?? MAX_ROIS;
    if (opts.dataPv) {
      this.addPvNoMonitor(opts.dataPv, 'VAL');
    } else {
      this.addPvNoMonitor(`${name}.VAL`, 'VAL');
    }
    this.dataAttr = 'VAL';
  }

  private addPvNoMonitor(pvname: string, attr: string): PvLike {
    let pv = this.pvs.get(attr);
    if (!pv) {
      pv = this.pvFactory(pvname, { connectionTimeout: this.timeout, autoMonitor: false });
      this.pvs.set(attr, pv);
    }
    return pv;
  }

  /** The spectrum (NUSE channels) as doubles. */
  async getData(): Promise<Float64Array> {
    return toNumbers(await this.get(this.dataAttr, { useMonitor: false }));
  }

  /** Erase the spectrum and start acquiring (ERST=1), or only start (STRT=1) with erase false. */
  async start(opts: { erase?: boolean } = {}): Promise<void> {
    await this.put(opts.erase === false ? 'STRT' : 'ERST', 1);
  }

  async stop(): Promise<void> {
    await this.put('STOP', 1, { wait: true });
  }

  async erase(): Promise<void> {
    await this.put('ERAS', 1, { wait: true });
  }

  /**
   * Acquire for a preset real time: set PRTM, erase and start, and wait until ACQG returns to 0
   * (or throw DeviceError after `timeout`, default time + 10 s). Resolves to the spectrum.
   */
  async acquire(seconds: number, opts: { timeout?: number } = {}): Promise<Float64Array> {
    if (!(seconds > 0) || !Number.isFinite(seconds))
      throw new DeviceError(`invalid acquisition time ${seconds}`, this.pvName('PRTM'));
    const timeout = opts.timeout ?? seconds + 10;
    await this.put('PRTM', seconds, { wait: true });
    await this.put('ERST', 1);
    const t0 = Date.now();
    // wait for acquisition to begin, then to end
    let started = false;
    for (;;) {
      const acqg = Number(await this.get('ACQG', { useMonitor: false }));
      if (acqg !== 0) started = true;
      if (acqg === 0 && (started || Date.now() - t0 > 500)) break;
      if ((Date.now() - t0) / 1000 > timeout)
        throw new DeviceError(`acquisition did not finish within ${timeout} s`, this.pvName('ACQG'));
      await sleep(20);
    }
    return this.getData();
  }

  /** [CALO, CALS, CALQ]. */
  async getCalib(): Promise<[number, number, number]> {
    const [o, s, q] = await Promise.all([this.get('CALO'), this.get('CALS'), this.get('CALQ')]);
    return [Number(o), Number(s), Number(q)];
  }

  /** Energy of each channel from the quadratic calibration (NUSE channels). */
  async getEnergy(): Promise<Float64Array> {
    const [[o, s, q], nuse] = await Promise.all([this.getCalib(), this.get('NUSE')]);
    const n = Math.max(0, Math.floor(Number(nuse)));
    const e = new Float64Array(n);
    for (let i = 0; i < n; i++) e[i] = o + i * (s + i * q);
    return e;
  }

  /** The ROI object for index `i` (PVs shared through the factory). */
  roi(i: number): ROI {
    return new ROI(this.prefix, i, { timeout: this.timeout, pvFactory: this.pvFactory });
  }

  /** Defined ROIs, in index order, up to the first one with an empty name or HI <= 0. */
  async getRois(nrois: number = this.nrois): Promise<RoiInfo[]> {
    const n = Math.min(nrois, MAX_ROIS);
    const infos = await Promise.all(Array.from({ length: n }, (_, i) => this.roi(i).info()));
    const out: RoiInfo[] = [];
    for (const r of infos) {
      if (r.name === '' || r.right <= 0) break;
      out.push(r);
    }
    return out;
  }

  /** Clear ROIs 0..nrois-1. */
  async clearRois(nrois: number = this.nrois): Promise<void> {
    await Promise.all(Array.from({ length: Math.min(nrois, MAX_ROIS) }, (_, i) => this.roi(i).clear()));
  }

  /** Replace all ROIs: sorted by left edge, written contiguously from R0, the rest cleared. */
  async setRois(rois: ReadonlyArray<{ name: string; left: number; right: number }>): Promise<void> {
    if (rois.length > MAX_ROIS) throw new DeviceError(`at most ${MAX_ROIS} ROIs, got ${rois.length}`);
    for (const r of rois) {
      if (!(r.left >= 0) || !(r.right >= r.left))
        throw new DeviceError(`invalid ROI '${r.name}' [${r.left}, ${r.right}]`);
    }
    const sorted = [...rois].sort((a, b) => a.left - b.left);
    await Promise.all(sorted.map((r, i) => this.roi(i).set(r.name, r.left, r.right)));
    await Promise.all(
      Array.from({ length: this.nrois - sorted.length }, (_, k) => this.roi(sorted.length + k).clear()),
    );
  }

  /** Add an ROI (keeps the list sorted by left edge). */
  async addRoi(name: string, left: number, right: number): Promise<void> {
    const rois: Array<{ name: string; left: number; right: number }> = (await this.getRois()).filter(
      (r) => r.name !== name,
    );
    rois.push({ name, left, right });
    await this.setRois(rois);
  }

  /** Remove the ROI with this name; DeviceError when there is none. */
  async delRoi(name: string): Promise<void> {
    const rois = await this.getRois();
    const kept = rois.filter((r) => r.name !== name);
    if (kept.length === rois.length) throw new DeviceError(`no ROI named '${name}' in ${this.prefix}`);
    await this.setRois(kept);
  }
}

/** pyepics' other name for MCA. */
export { MCA as Mca };
