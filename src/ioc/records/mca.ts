/**
 * Simulated `mca` record (synApps mca module's mcaRecord, PHA mode; any DTYP/INP is simulated).
 *
 * The simulated detector sees a spectrum of a few Gaussian peaks on a falling background at
 * `countRate` counts/s with a few percent dead time. While ACQG=Acquiring the spectrum (VAL, NMAX
 * elements of LONG, NORD = NUSE valid) fills up with statistically varying counts every `pollMs`;
 * ERTM/ELTM/DTIM/IDTIM/ACT follow; the 32 ROIs (RnLO/RnHI, RnBG background width, RnIP/RnP
 * presets) give Rn (sum) and RnN (net of a linear background, also written to BG) as mcaRecord's
 * PROCESS_ROI does. Acquisition stops at the real-time (PRTM), live-time (PLTM), counts (PCT over
 * PCTL..PCTH) or ROI presets, or on STOP. STRT/ERST puts with callback complete when acquisition
 * stops; the record's forward link fires then.
 */
import { DbrNative } from '../../protocol/constants.js';
import type { NativeArray } from '../../protocol/values.js';
import { COMMON_FIELDS, defineFields, parseFloatText, type FieldDef } from '../fields.js';
import type { ArrayField, RecordTypeDef } from '../record.js';
import { defineRecordType } from '../record-type.js';
import {
  ActionWaiters,
  SimRecord,
  acceptAnyDtyp,
  prng,
  registerMenus,
  type RecordSimulation,
  type SimHost,
} from './sim-framework.js';

registerMenus({
  mcaSTRT: ['Done', 'Acquire'],
  mcaREAD: ['Done', 'Read'],
  mcaERAS: ['Done', 'Erase'],
  mcaMODE: ['PHA', 'MCS', 'List'],
  mcaCHAS: ['Internal', 'External'],
  mcaR0IP: ['N', 'Y'],
});

export const MCA_NUM_ROI = 32;

function roiSpec(fmt: (i: number) => string): string {
  return Array.from({ length: MCA_NUM_ROI }, (_, i) => fmt(i)).join('; ');
}

/**
 * The mca record's own fields, as mcaRecord.dbd declares them. VAL and BG are declared NOACCESS in
 * the dbd and turned into FTVL (LONG) arrays of NMAX elements by cvt_dbaddr; here they are LONG
 * with the array size given by MCA_ARRAY_FIELDS.
 */
export const MCA_SPEC = [
  'VERS DOUBLE ro init=1; VAL LONG pp; BPTR NOACCESS ro; BG LONG pp; PBG NOACCESS ro; PSTATUS NOACCESS ro',
  'HOPR DOUBLE; LOPR DOUBLE; NMAX LONG ro init=1; NORD LONG ro; PREC SHORT; FTVL MENU ro menu=menuFtype init=5',
  'STRT MENU pp menu=mcaSTRT; ERST MENU pp menu=mcaSTRT; STOP MENU pp menu=mcaSTRT; ACQG MENU ro menu=mcaSTRT',
  'READ MENU pp menu=mcaREAD; RDNG MENU ro menu=mcaREAD; RDNS MENU ro menu=mcaREAD; ERAS MENU pp menu=mcaERAS',
  'CHAS MENU pp menu=mcaCHAS; NUSE LONG pp; SEQ LONG pp; DWEL DOUBLE pp init=1.0; PSCL LONG pp init=1',
  'PRTM DOUBLE pp; PLTM DOUBLE pp; PCT DOUBLE pp; PCTL LONG pp; PCTH LONG pp; PSWP LONG pp init=1',
  'MODE MENU pp menu=mcaMODE; CALO DOUBLE; CALS DOUBLE init=1; CALQ DOUBLE; EGU STRING size=16; TTH DOUBLE init=10',
  'ERTM DOUBLE; ELTM DOUBLE; DTIM DOUBLE ro; IDTIM DOUBLE ro; STIM STRING ro size=40; RTIM DOUBLE ro; ACT LONG ro',
  'NACK SHORT pp ro; INP INLINK ro; HIHI DOUBLE; LOLO DOUBLE; HIGH DOUBLE; LOW DOUBLE',
  'HHSV MENU menu=menuAlarmSevr; LLSV MENU menu=menuAlarmSevr; HSV MENU menu=menuAlarmSevr',
  'LSV MENU menu=menuAlarmSevr; HYST DOUBLE; LALM DOUBLE ro; SIOL INLINK ro; SIML INLINK ro',
  'SIMM MENU menu=menuYesNo; SIMS MENU menu=menuAlarmSevr; MMAP ULONG ro; RMAP ULONG ro; NEWV ULONG ro',
  'NEWR ULONG ro',
  roiSpec(
    (i) => `R${i}LO LONG pp init=-1; R${i}HI LONG pp init=-1; R${i}BG SHORT pp; R${i}IP MENU pp menu=mcaR0IP`,
  ),
  roiSpec((i) => `R${i} DOUBLE ro; R${i}N DOUBLE ro; R${i}P DOUBLE`),
  roiSpec((i) => `R${i}NM STRING size=16`),
].join('; ');

export const MCA_FIELDS: readonly FieldDef[] = defineFields(MCA_SPEC);

export const MCA_ALL_FIELDS: readonly FieldDef[] = [...COMMON_FIELDS, ...MCA_FIELDS];

/** Array fields of the mca record and the field giving their element count. */
export const MCA_ARRAY_FIELDS: Readonly<Record<string, string>> = { VAL: 'NMAX', BG: 'NMAX' };

export interface McaSimOptions {
  /** Update period while acquiring (ms). Default 100. */
  pollMs?: number;
  /** Input count rate, counts/s. Default 20000. */
  countRate?: number;
  /** Dead-time fraction, 0..1. Default 0.05. */
  deadFraction?: number;
  /** PRNG seed (deterministic tests). */
  seed?: number;
  /** Wall-clock for STIM (default Date.now). */
  wallClock?: () => number;
}

/** "Mon DD, YYYY HH:MM:SS.mmm" like the mca record's STIM. */
function formatStim(ms: number): string {
  const d = new Date(ms);
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][
    d.getMonth()
  ];
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${mon} ${p(d.getDate())}, ${d.getFullYear()} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

export class McaSim implements RecordSimulation {
  private shape = new Float64Array(0); // normalized expected counts per channel
  private shapeFor = -1;
  private readonly random: () => number;
  private readonly pollMs: number;
  private readonly rate: number;
  private readonly dead: number;
  private lastUpdate = 0;
  private acquiring = false;
  private cancelPoll: (() => void) | undefined;
  private readonly waiters = new ActionWaiters();
  private readonly wall: () => number;

  constructor(
    private readonly h: SimHost,
    opts: McaSimOptions = {},
  ) {
    this.random = prng(opts.seed ?? 4242);
    this.pollMs = opts.pollMs ?? 100;
    this.rate = opts.countRate ?? 20000;
    this.dead = Math.min(0.99, Math.max(0, opts.deadFraction ?? 0.05));
    this.wall = opts.wallClock ?? Date.now;
  }

  private get nmax(): number {
    return Math.max(1, Math.min(this.h.num('NMAX'), this.h.array('VAL').length));
  }
  private get nuse(): number {
    const n = this.h.num('NUSE');
    return n > 0 ? Math.min(n, this.nmax) : this.nmax;
  }

  init(): void {
    const h = this.h;
    if (h.num('NMAX') <= 0) h.set('NMAX', 1);
    if (h.num('NUSE') > this.nmax) h.set('NUSE', this.nmax);
    h.set('ACQG', 0);
    h.set('NORD', this.nuse);
    h.setCount('VAL', this.nuse);
    h.setCount('BG', this.nuse);
    this.computeRois();
    h.post();
  }

  stop(): void {
    this.cancelPoll?.();
    this.cancelPoll = undefined;
    this.acquiring = false;
    this.waiters.release();
  }

  process(): Promise<void> {
    if (this.acquiring) this.accumulate();
    this.h.post();
    return Promise.resolve();
  }

  get isAcquiring(): boolean {
    return this.acquiring;
  }
  get busy(): boolean {
    return this.isAcquiring;
  }

  put(field: string): Promise<void> {
    const h = this.h;
    let wait = false;
    switch (field) {
      case 'STRT':
      case 'ERST':
        if (h.num(field)) {
          h.set(field, 0);
          if (field === 'ERST') this.erase();
          this.start();
          wait = this.acquiring;
        }
        break;
      case 'STOP':
        if (h.num('STOP')) {
          h.set('STOP', 0);
          if (this.acquiring) this.halt();
        }
        break;
      case 'ERAS':
        if (h.num('ERAS')) {
          h.set('ERAS', 0);
          this.erase();
        }
        break;
      case 'READ':
        if (h.num('READ')) {
          h.set('READ', 0);
          if (this.acquiring) this.accumulate();
        }
        break;
      case 'NUSE':
        if (h.num('NUSE') > this.nmax) h.set('NUSE', this.nmax);
        if (h.num('NUSE') < 0) h.set('NUSE', 0);
        h.set('NORD', this.nuse);
        h.setCount('VAL', this.nuse);
        h.setCount('BG', this.nuse);
        this.computeRois();
        break;
      case 'VAL':
        this.computeRois();
        break;
      case 'PRTM':
      case 'PLTM':
      case 'PCT':
        if (this.acquiring && this.presetReached()) this.halt();
        break;
      default:
        if (/^R\d+(LO|HI|BG|IP|P)$/.test(field)) this.computeRois();
    }
    h.post();
    return this.waiters.completion(wait);
  }

  // --- acquisition

  private erase(): void {
    const h = this.h;
    h.array('VAL').fill(0);
    h.array('BG').fill(0);
    h.touch('VAL');
    h.touch('BG');
    h.set('ERTM', 0);
    h.set('ELTM', 0);
    h.set('ACT', 0);
    h.set('DTIM', 0);
    h.set('IDTIM', 0);
    h.set('NORD', this.nuse);
    h.setCount('VAL', this.nuse);
    h.setCount('BG', this.nuse);
    if (this.acquiring) this.lastUpdate = h.now();
    this.computeRois();
  }

  private start(): void {
    const h = this.h;
    if (this.acquiring) return;
    if (this.presetReached()) return; // nothing to do: a preset is already reached
    this.acquiring = true;
    this.lastUpdate = h.now();
    h.set('ACQG', 1);
    h.set('STIM', formatStim(this.wall()));
    h.set('NORD', this.nuse);
    this.schedulePoll();
  }

  private schedulePoll(): void {
    this.cancelPoll?.();
    this.cancelPoll = this.h.setTimeout(() => {
      this.cancelPoll = undefined;
      if (!this.acquiring) return;
      this.accumulate();
      if (this.acquiring) this.schedulePoll();
      this.h.post();
    }, this.pollMs);
  }

  private halt(): void {
    this.accumulate();
    this.finish();
  }

  private finish(): void {
    const h = this.h;
    this.cancelPoll?.();
    this.cancelPoll = undefined;
    this.acquiring = false;
    h.set('ACQG', 0);
    h.post();
    this.waiters.actionEnded(h);
  }

  /** The spectrum shape: peaks on an exponential background, normalized to 1. */
  private ensureShape(n: number): void {
    if (this.shapeFor === n) return;
    const s = new Float64Array(n);
    const peaks: Array<[number, number, number]> = [
      [0.18, 0.012, 3],
      [0.27, 0.014, 1.5],
      [0.5, 0.01, 4],
      [0.54, 0.011, 1],
      [0.78, 0.016, 2],
    ];
    let total = 0;
    for (let i = 0; i < n; i++) {
      const x = i / n;
      let y = 0.6 * Math.exp(-x / 0.25) + 0.02;
      for (const [c, w, a] of peaks) {
        const d = (x - c) / w;
        y += a * Math.exp(-0.5 * d * d);
      }
      s[i] = y;
      total += y;
    }
    for (let i = 0; i < n; i++) s[i] /= total;
    this.shape = s;
    this.shapeFor = n;
  }

  /** Add the counts of the time since the last update (stopping at a time preset). */
  private accumulate(): void {
    const h = this.h;
    const now = h.now();
    let dt = (now - this.lastUpdate) / 1000;
    this.lastUpdate = now;
    if (dt <= 0) return;
    const live = 1 - this.dead;
    const ertm = h.num('ERTM');
    const eltm = h.num('ELTM');
    const prtm = h.num('PRTM');
    const pltm = h.num('PLTM');
    if (prtm > 0) dt = Math.min(dt, Math.max(0, prtm - ertm));
    if (pltm > 0) dt = Math.min(dt, Math.max(0, (pltm - eltm) / live));
    const n = this.nuse;
    this.ensureShape(n);
    const val = h.array('VAL');
    const expectedTotal = this.rate * live * dt;
    let added = 0;
    const rnd = this.random;
    for (let i = 0; i < n; i++) {
      const mean = expectedTotal * this.shape[i];
      // Gaussian approximation of Poisson statistics (Box-Muller), never negative
      let c = mean;
      if (mean > 0) {
        const u = rnd() || 1e-12;
        const g = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
        c = Math.max(0, Math.round(mean + Math.sqrt(mean) * g));
      }
      val[i] += c;
      added += c;
    }
    h.touch('VAL');
    h.set('NORD', n);
    h.setCount('VAL', n);
    const newErtm = ertm + dt;
    const newEltm = eltm + dt * live;
    h.set('ERTM', newErtm);
    h.set('ELTM', newEltm);
    h.set('RTIM', this.wall() / 1000);
    h.set('ACT', h.num('ACT') + added);
    h.set('DTIM', newErtm > 0.001 ? (100 * (newErtm - newEltm)) / newErtm : 0);
    h.set('IDTIM', dt > 0 ? (100 * (dt - dt * live)) / dt : 0);
    const roiPreset = this.computeRois();
    if (this.acquiring && (roiPreset || this.presetReached())) this.finish();
  }

  private presetReached(): boolean {
    const h = this.h;
    const prtm = h.num('PRTM');
    const pltm = h.num('PLTM');
    if (prtm > 0 && h.num('ERTM') >= prtm - 1e-9) return true;
    if (pltm > 0 && h.num('ELTM') >= pltm - 1e-9) return true;
    const pct = h.num('PCT');
    if (pct > 0) {
      const val = h.array('VAL');
      const lo = Math.max(0, h.num('PCTL'));
      const hi = Math.min(this.nuse - 1, h.num('PCTH'));
      let sum = 0;
      for (let i = lo; i <= hi; i++) sum += val[i];
      if (hi >= lo && sum >= pct) return true;
    }
    return false;
  }

  /** PROCESS_ROI: sums, net counts and the background array; true when an ROI preset is reached. */
  private computeRois(): boolean {
    const h = this.h;
    const val = h.array('VAL');
    const bg = h.array('BG');
    const max = this.nuse - 1;
    let ymax = 0;
    for (let i = 0; i < max; i++) if (val[i] > ymax) ymax = val[i];
    let presetReached = false;
    let bgTouched = false;
    for (let r = 0; r < MCA_NUM_ROI; r++) {
      const lo = h.num(`R${r}LO`);
      let hi = h.num(`R${r}HI`);
      if (hi > max) hi = max;
      let sum = 0;
      let net = 0;
      if (lo >= 0 && hi >= lo) {
        const nbg = h.num(`R${r}BG`);
        let bgLo = 0;
        let bgHi = 0;
        if (nbg >= 0) {
          for (let i = Math.max(lo - nbg, 0); i <= Math.min(lo + nbg, max); i++) bgLo += val[i];
          bgLo /= 2 * nbg + 1;
          for (let i = Math.max(hi - nbg, 0); i <= Math.min(hi + nbg, max); i++) bgHi += val[i];
          bgHi /= 2 * nbg + 1;
        }
        const n = hi - lo;
        for (let j = 0; j <= n; j++) {
          const y = val[lo + j];
          sum += y;
          if (nbg >= 0) {
            const b = bgLo + (n ? (j * (bgHi - bgLo)) / n : 0);
            bg[lo + j] = b; // stored as LONG, like the record's DATA_TYPE
            net += y - bg[lo + j];
          } else net += y;
        }
        bgTouched = true;
      }
      h.set(`R${r}`, sum);
      h.set(`R${r}N`, net);
      if (h.num(`R${r}IP`) && h.num(`R${r}P`) > 0 && net >= h.num(`R${r}P`)) presetReached = true;
    }
    for (let r = 0; r < MCA_NUM_ROI; r++) {
      const lo = h.num(`R${r}LO`);
      const hi = Math.min(h.num(`R${r}HI`), max);
      if (lo >= 0 && hi >= lo) bg[lo] = bg[hi] = ymax; // ROI markers for display, as the record does
    }
    if (bgTouched) h.touch('BG');
    return presetReached;
  }
}

/** DTYP choices known up front; any other DTYP from a .db file is added (and simulated). */
export const MCA_DEVICE_TYPES: string[] = ['Soft Channel', 'asynMCA', 'asynMcaSim'];

/** VAL / BG of an mca record as a CA array field (LONG, NMAX elements, NORD valid). */
class McaArrayField implements ArrayField {
  readonly nativeType = DbrNative.LONG;
  constructor(
    private readonly rec: McaRecord,
    private readonly field: string,
  ) {}
  get nelm(): number {
    return this.rec.array(this.field).length;
  }
  get(): { value: NativeArray; count: number } {
    const a = this.rec.array(this.field) as Int32Array;
    const n = Math.min(this.rec.countOf(this.field), a.length);
    return { value: a.subarray(0, n), count: n };
  }
  put(value: NativeArray, _dbrType: number): void {
    const a = this.rec.array(this.field) as Int32Array;
    const n = Math.min(value.length, a.length);
    if (Array.isArray(value)) for (let i = 0; i < n; i++) a[i] = Math.trunc(parseFloatText(value[i]));
    else if (value instanceof Int32Array) a.set(value.subarray(0, n));
    else for (let i = 0; i < n; i++) a[i] = Math.trunc(value[i]); // C double->long conversion
    a.fill(0, n);
    this.rec.setCount(this.field, n);
    if (this.field === 'VAL') this.rec.set('NORD', n);
  }
}

export class McaRecord extends SimRecord {
  private fieldsOfArrays: Map<string, McaArrayField> | undefined;

  protected createSimulation(): RecordSimulation {
    // a seed per record name: the mcas of one IOC (e.g. a Struck's channels) count independently
    let seed = 4242;
    for (let i = 0; i < this.name.length; i++) seed = (Math.imul(seed, 31) + this.name.charCodeAt(i)) >>> 0;
    return new McaSim(this, { seed });
  }
  protected override arraySize(field: string): number {
    return field in MCA_ARRAY_FIELDS ? Math.max(1, this.num('NMAX')) : 0;
  }
  countOf(field: string): number {
    return this.arrayCount(field);
  }
  override arrayField(name: string): ArrayField | undefined {
    if (!(name in MCA_ARRAY_FIELDS)) return undefined;
    // (called from the base constructor before this class's fields exist)
    this.fieldsOfArrays ??= new Map();
    let f = this.fieldsOfArrays.get(name);
    if (!f) this.fieldsOfArrays.set(name, (f = new McaArrayField(this, name)));
    return f;
  }
  override loadField(fd: FieldDef, text: string): void {
    acceptAnyDtyp(MCA_DEVICE_TYPES, fd, text);
    super.loadField(fd, text);
  }
}

export const mcaRecordType: RecordTypeDef = defineRecordType('mca', MCA_SPEC, McaRecord, MCA_DEVICE_TYPES);
