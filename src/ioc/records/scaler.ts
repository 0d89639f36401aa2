/**
 * Simulated `scaler` record (synApps scaler module's scalerRecord; any DTYP/OUT is simulated).
 *
 * Channel 1 counts the FREQ clock; channels 2..NCH count simulated detector signals at steady
 * rates with a few percent of variation from one count to the next. Counting runs in (simulated)
 * real time: CNT=Count zeroes the counters, waits DLY, counts until the first gated channel
 * (Gn=Y) reaches its preset PRn (TP is PR1/FREQ), or until CNT=Done is written; counts are posted
 * at RATE Hz while counting; then T, VAL (=T) and CNT=Done are posted and the record's forward link
 * fires. A put to CNT with callback completes when counting ends. CONT=AutoCount counts TP1
 * seconds in the background whenever the scaler is otherwise idle (after DLY1, and after a 10 s
 * hold following a user count), posting at RAT1 Hz, without touching CNT.
 */
import { COMMON_FIELDS, defineFields, type FieldDef } from '../fields.js';
import type { RecordTypeDef } from '../record.js';
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
  scalerCNT: ['Done', 'Count'],
  scalerCONT: ['OneShot', 'AutoCount'],
  scalerD1: ['Up', 'Dn'],
  scalerG1: ['N', 'Y'],
});

/** Number of channel fields the record type has (S1..S64 etc.). */
export const SCALER_MAX_CHANNELS = 64;

function channelSpec(prefix: string, rest: string, first?: string): string {
  const out: string[] = [];
  for (let i = 1; i <= SCALER_MAX_CHANNELS; i++) out.push(`${prefix}${i} ${i === 1 && first ? first : rest}`);
  return out.join('; ');
}

/** The scaler record's own fields, as scalerRecord.dbd declares them (fields.ts spec syntax). */
export const SCALER_SPEC = [
  'VERS FLOAT ro init=3.19; RPVT NOACCESS ro; VAL DOUBLE; FREQ DOUBLE; CNT MENU pp menu=scalerCNT',
  'PCNT MENU ro menu=scalerCNT; SS SHORT ro; US SHORT ro; CONT MENU pp menu=scalerCONT; OUT OUTLINK ro',
  'RATE FLOAT init=10; RAT1 FLOAT; DLY FLOAT; DLY1 FLOAT; NCH SHORT ro',
  channelSpec('D', 'MENU menu=scalerD1', 'MENU menu=scalerD1 init=1'),
  channelSpec('G', 'MENU menu=scalerG1', 'MENU menu=scalerG1 init=1'),
  'TP DOUBLE; TP1 DOUBLE init=1',
  channelSpec('PR', 'ULONG'),
  'T DOUBLE ro',
  channelSpec('S', 'ULONG ro'),
  channelSpec('NM', 'STRING size=16'),
  'EGU STRING size=16; PREC SHORT; COUT OUTLINK; COUTP OUTLINK',
].join('; ');

export const SCALER_FIELDS: readonly FieldDef[] = defineFields(SCALER_SPEC);

export const SCALER_ALL_FIELDS: readonly FieldDef[] = [...COMMON_FIELDS, ...SCALER_FIELDS];

const SS_IDLE = 0;
const SS_WAITING = 1;
const SS_COUNTING = 2;
const US_IDLE = 0;
const US_WAITING = 1;
const US_COUNTING = 3;

export interface ScalerSimOptions {
  /** Channels the simulated hardware has (NCH), 1..64. Default 32. */
  channels?: number;
  /** Count rates (counts/s) of channels 2..NCH; default a decreasing set of plausible rates. */
  rates?: readonly number[];
  /** Seed of the count-to-count variation (deterministic tests). */
  seed?: number;
  /** Hold after a user count before AutoCount resumes, seconds (scaler_wait_time). Default 10. */
  holdSeconds?: number;
}

export class ScalerSim implements RecordSimulation {
  private readonly nch: number;
  private readonly baseRates: Float64Array; // index 0 unused (clock)
  private readonly rates: Float64Array; // this count's rates, index 0 = FREQ
  private readonly random: () => number;
  private t0 = 0;
  private stopAfter = Infinity; // seconds
  private mode: 'user' | 'auto' | undefined;
  private cancelTimers: Array<() => void> = [];
  private cancelAuto: (() => void) | undefined;
  private readonly waiters = new ActionWaiters();
  private readonly hold: number;

  constructor(
    private readonly h: SimHost,
    opts: ScalerSimOptions = {},
  ) {
    this.nch = Math.max(1, Math.min(SCALER_MAX_CHANNELS, Math.trunc(opts.channels ?? 32)));
    this.baseRates = new Float64Array(this.nch);
    for (let i = 1; i < this.nch; i++) {
      this.baseRates[i] = opts.rates?.[i - 1] ?? Math.round(2e5 / (i * i) + 500 * (i % 3));
    }
    this.rates = new Float64Array(this.nch);
    this.random = prng(opts.seed ?? 12345);
    this.hold = opts.holdSeconds ?? 10;
  }

  init(): void {
    const h = this.h;
    h.set('NCH', this.nch);
    if (h.num('FREQ') === 0) h.set('FREQ', 1e7);
    if (h.num('TP') === 0 && h.num('PR1') === 0) h.set('TP', 1);
    if (h.num('TP')) h.set('PR1', Math.trunc(h.num('TP') * h.num('FREQ')));
    else if (h.num('PR1') && h.num('FREQ')) h.set('TP', h.num('PR1') / h.num('FREQ'));
    h.set('CNT', 0);
    h.set('PCNT', 0);
    h.set('SS', SS_IDLE);
    h.set('US', US_IDLE);
    h.post();
    if (h.num('CONT') === 1) this.scheduleAuto(h.num('DLY1'));
  }

  stop(): void {
    this.clearTimers();
    this.cancelAuto?.();
    this.cancelAuto = undefined;
    this.mode = undefined;
    this.waiters.release();
  }

  process(): Promise<void> {
    if (this.mode) this.updateCounts();
    this.h.post();
    return Promise.resolve();
  }

  get counting(): boolean {
    return this.mode !== undefined;
  }
  /** A user count (CNT) is waiting (DLY) or running; background counting is not "busy". */
  get busy(): boolean {
    return this.mode === 'user' || this.h.num('US') === US_WAITING;
  }

  put(field: string): Promise<void> {
    const h = this.h;
    let wait = false;
    if (field === 'CNT') {
      const cnt = h.num('CNT');
      const pcnt = h.num('PCNT');
      if (cnt && !pcnt) {
        h.set('PCNT', 1);
        this.userStart();
        wait = true;
      } else if (!cnt && pcnt) {
        this.finish(true);
      } else if (cnt) {
        wait = true; // already counting: complete with the running count
      }
    } else if (field === 'CONT') {
      if (h.num('CONT') === 1) {
        if (!this.mode && h.num('US') === US_IDLE) this.scheduleAuto(h.num('DLY1'));
      } else {
        this.cancelAuto?.();
        this.cancelAuto = undefined;
        if (this.mode === 'auto') this.finish(false);
        h.set('SS', this.mode ? SS_COUNTING : SS_IDLE);
      }
    } else if (field === 'TP') {
      h.set('PR1', Math.trunc(h.num('TP') * h.num('FREQ')));
      h.set('D1', 1);
      h.set('G1', 1);
    } else if (field === 'PR1') {
      h.set('TP', h.num('PR1') / h.num('FREQ'));
      if (h.num('TP') > 0) {
        h.set('D1', 1);
        h.set('G1', 1);
      }
    } else if (field === 'RATE' || field === 'RAT1') {
      h.set(field, Math.min(60, Math.max(0, h.num(field))));
    } else {
      const m = /^(PR|G)(\d+)$/.exec(field);
      if (m) {
        const i = Number(m[2]);
        if (m[1] === 'PR' && h.num(field) > 0) {
          h.set(`D${i}`, 1);
          h.set(`G${i}`, 1);
        } else if (m[1] === 'G' && h.num(field) && h.num(`PR${i}`) === 0) {
          h.set(`PR${i}`, 1000);
          if (i === 1) h.set('TP', 1000 / h.num('FREQ'));
        }
      }
    }
    h.post();
    return this.waiters.completion(wait);
  }

  // --- counting

  private clearTimers(): void {
    for (const c of this.cancelTimers) c();
    this.cancelTimers = [];
  }

  private userStart(): void {
    const h = this.h;
    this.cancelAuto?.();
    this.cancelAuto = undefined;
    if (this.mode === 'auto') {
      this.clearTimers();
      this.mode = undefined;
    }
    const dly = h.num('DLY');
    if (dly > 0) {
      h.set('US', US_WAITING);
      h.set('SS', SS_WAITING);
      this.cancelTimers.push(h.setTimeout(() => this.begin('user'), dly * 1000));
    } else {
      this.begin('user');
    }
  }

  private scheduleAuto(delaySeconds: number): void {
    const h = this.h;
    this.cancelAuto?.();
    if (delaySeconds > 0) h.set('SS', SS_WAITING);
    this.cancelAuto = h.setTimeout(
      () => {
        this.cancelAuto = undefined;
        if (!this.mode && h.num('CONT') === 1 && h.num('US') === US_IDLE) {
          this.begin('auto');
          h.post();
        }
      },
      Math.max(0, delaySeconds) * 1000,
    );
  }

  /** Zero the counters and start counting. */
  private begin(mode: 'user' | 'auto'): void {
    const h = this.h;
    this.clearTimers();
    this.mode = mode;
    this.t0 = h.now();
    const freq = h.num('FREQ') || 1e7;
    this.rates[0] = freq;
    for (let i = 1; i < this.nch; i++) this.rates[i] = this.baseRates[i] * (0.97 + 0.06 * this.random());
    // time at which the first preset is reached
    let stop = Infinity;
    const tp1 = h.num('TP1');
    if (mode === 'auto' && tp1 >= 1e-3) stop = tp1;
    else {
      for (let i = 0; i < this.nch; i++) {
        const pr = h.num(`PR${i + 1}`);
        if (h.num(`G${i + 1}`) && pr > 0 && this.rates[i] > 0) stop = Math.min(stop, pr / this.rates[i]);
      }
    }
    this.stopAfter = stop;
    for (let i = 1; i <= this.nch; i++) h.set(`S${i}`, 0);
    h.set('T', 0);
    h.set('SS', SS_COUNTING);
    if (mode === 'user') h.set('US', US_COUNTING);
    if (stop !== Infinity) this.cancelTimers.push(h.setTimeout(() => this.finish(false, true), stop * 1000));
    const rate = mode === 'user' ? h.num('RATE') : h.num('RAT1');
    if (rate > 0.1) this.scheduleUpdate(1000 / rate);
    h.post();
  }

  private scheduleUpdate(ms: number): void {
    this.cancelTimers.push(
      this.h.setTimeout(() => {
        if (!this.mode) return;
        this.updateCounts();
        this.h.post();
        this.scheduleUpdate(ms);
      }, ms),
    );
  }

  /**
   * Counts at the current time (capped at the preset time). `presetReached`: the preset timer fired
   * (timers may fire a little early against the clock): the counts are those at the preset.
   */
  private updateCounts(presetReached = false): void {
    const h = this.h;
    const elapsed = presetReached ? this.stopAfter : Math.min((h.now() - this.t0) / 1000, this.stopAfter);
    for (let i = 0; i < this.nch; i++) {
      let c = Math.floor(this.rates[i] * elapsed + 1e-6);
      const pr = h.num(`PR${i + 1}`);
      // the channel whose preset stopped the count shows exactly its preset
      if (this.mode === 'user' && h.num(`G${i + 1}`) && pr > 0 && c > pr) c = pr;
      h.set(`S${i + 1}`, c);
    }
    h.set('T', h.num('S1') / (h.num('FREQ') || 1e7));
  }

  /** Counting ended (preset reached, CNT=Done, or AutoCount period over). */
  private finish(userStopped: boolean, presetReached = false): void {
    const h = this.h;
    const mode = this.mode;
    const wasWaiting = h.num('US') === US_WAITING;
    if (mode) this.updateCounts(presetReached);
    this.clearTimers();
    this.mode = undefined;
    h.set('SS', SS_IDLE);
    if (mode === 'user' || wasWaiting || userStopped) {
      h.set('US', US_IDLE);
      h.set('CNT', 0);
      h.set('PCNT', 0);
      if (mode === 'user') h.set('VAL', h.num('T'));
      h.post();
      this.waiters.actionEnded(h);
      if (h.num('CONT') === 1) this.scheduleAuto(Math.max(h.num('DLY1'), this.hold));
      return;
    }
    h.post();
    // AutoCount: next background period
    if (mode === 'auto' && h.num('CONT') === 1) this.scheduleAuto(h.num('DLY1'));
  }
}

/** DTYP choices known up front; any other DTYP from a .db file is added (and simulated). */
export const SCALER_DEVICE_TYPES: string[] = [
  'Soft Channel',
  'Asyn Scaler',
  'Joerger VSC8/16',
  'Joerger VS',
  'SIS 38XX',
];

export class ScalerRecord extends SimRecord {
  protected createSimulation(): RecordSimulation {
    return new ScalerSim(this);
  }
  override loadField(fd: FieldDef, text: string): void {
    acceptAnyDtyp(SCALER_DEVICE_TYPES, fd, text);
    super.loadField(fd, text);
  }
}

export const scalerRecordType: RecordTypeDef = defineRecordType(
  'scaler',
  SCALER_SPEC,
  ScalerRecord,
  SCALER_DEVICE_TYPES,
);
