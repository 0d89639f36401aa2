/**
 * pyepics' Alarm: watch a PV and call back when its value crosses into the tripped state
 * (`comparison(value, tripPoint)` turning true), at most once per `alertDelay` seconds. Staying
 * tripped does not fire again; the value has to leave and re-enter the tripped state.
 */
import { resolveFactory } from './factory.js';
import type { PvCallbackArgs, PvFactory } from './pv-like.js';

export type ComparisonName = 'eq' | 'ne' | 'le' | 'lt' | 'ge' | 'gt' | '==' | '!=' | '<=' | '<' | '>=' | '>';
export type CompareFn = (value: unknown, tripPoint: unknown) => boolean;

export class AlarmError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AlarmError';
  }
}

/** What the alarm callback receives: the PV's callback keywords plus the trip point and comparison. */
export interface AlarmEvent extends PvCallbackArgs {
  tripPoint: unknown;
  comparison: string;
}

/** What an Alarm needs of a PV object (the client's `PV` and every PvLike qualify). */
export interface AlarmPv {
  readonly pvname: string;
  readonly connected: boolean;
  readonly value: unknown;
  readonly charValue?: unknown;
  addCallback(fn: (args: PvCallbackArgs) => void): number | string;
  removeCallback(index: number | string): void;
}

export interface AlarmOptions {
  /** A PV name (a PV is made with the factory) or a PV object (e.g. the client's `PV`). */
  pvname: string | AlarmPv;
  comparison: ComparisonName | `__${'eq' | 'ne' | 'le' | 'lt' | 'ge' | 'gt'}__` | CompareFn;
  tripPoint: unknown;
  callback?: (event: AlarmEvent) => void;
  /** Minimum time between two alerts, seconds (default 10). */
  alertDelay?: number;
  pvFactory?: PvFactory;
  /** Clock in seconds (default wall clock); for tests. */
  clock?: () => number;
  /** Where the default callback writes (default: console.log). */
  writer?: (line: string) => void;
}

function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : a === b ? 0 : NaN;
  const na = typeof a === 'string' ? Number(a) : a;
  const nb = typeof b === 'string' ? Number(b) : b;
  if (typeof na === 'number' && typeof nb === 'number' && !Number.isNaN(na) && !Number.isNaN(nb)) {
    return na < nb ? -1 : na > nb ? 1 : 0;
  }
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

const COMPARATORS: Record<string, { name: string; fn: CompareFn }> = {};
for (const [names, fn] of [
  [['eq', '=='], (a: unknown, b: unknown) => compareValues(a, b) === 0],
  [['ne', '!='], (a: unknown, b: unknown) => compareValues(a, b) !== 0],
  [['le', '<='], (a: unknown, b: unknown) => compareValues(a, b) <= 0],
  [['lt', '<'], (a: unknown, b: unknown) => compareValues(a, b) < 0],
  [['ge', '>='], (a: unknown, b: unknown) => compareValues(a, b) >= 0],
  [['gt', '>'], (a: unknown, b: unknown) => compareValues(a, b) > 0],
] as const) {
  for (const n of names) COMPARATORS[n] = { name: names[0], fn };
}

/** Resolve a comparison given by name (`'gt'`, `'>'`, `'__gt__'`) or function. */
export function resolveComparison(c: AlarmOptions['comparison']): { name: string; fn: CompareFn } {
  if (typeof c === 'function') return { name: c.name || 'custom', fn: c };
  const key = typeof c === 'string' ? c.replace(/_/g, '') : '';
  const found = COMPARATORS[key];
  if (!found)
    throw new AlarmError(`unknown comparison '${String(c)}' (use eq ne le lt ge gt == != <= < >= >)`);
  return found;
}

export class Alarm {
  readonly pv: AlarmPv;
  tripPoint: unknown;
  alertDelay: number;
  userCallback?: (event: AlarmEvent) => void;
  readonly cmp: CompareFn;
  readonly compName: string;
  alarmState = false;
  /** Time of the last alert (seconds of the clock), 0 when none. */
  lastAlert = 0;
  private readonly clock: () => number;
  private readonly writer: (line: string) => void;
  private cbIndex: number | string | undefined;

  constructor(opts: AlarmOptions) {
    if (opts.pvname === undefined || opts.pvname === null || opts.pvname === '') {
      throw new AlarmError('alarm requires a valid PV, comparison, and tripPoint');
    }
    if (opts.comparison === undefined || opts.tripPoint === undefined || opts.tripPoint === null) {
      throw new AlarmError('alarm requires a valid PV, comparison, and tripPoint');
    }
    const { name, fn } = resolveComparison(opts.comparison);
    this.cmp = fn;
    this.compName = name;
    this.tripPoint = opts.tripPoint;
    this.alertDelay = opts.alertDelay ?? 10;
    if (!(this.alertDelay >= 0)) throw new AlarmError(`alertDelay must be >= 0, got ${opts.alertDelay}`);
    this.userCallback = opts.callback;
    this.clock = opts.clock ?? (() => (performance.timeOrigin + performance.now()) / 1000);
    this.writer = opts.writer ?? ((line) => console.log(line));
    this.pv = typeof opts.pvname === 'string' ? resolveFactory(opts.pvFactory)(opts.pvname) : opts.pvname;
    this.cbIndex = this.pv.addCallback((args) => this.checkAlarm(args));
    // a shared PV that is already connected delivers no new initial event: check what it holds
    if (this.pv.connected && this.pv.value !== null && this.pv.value !== undefined) {
      const cv = this.pv.charValue;
      this.checkAlarm({
        pvname: this.pv.pvname,
        value: this.pv.value,
        charValue: typeof cv === 'string' || Array.isArray(cv) ? (cv as string | string[]) : null,
      });
    }
  }

  /** Evaluate a new value; fires the callback on a not-tripped → tripped transition. */
  checkAlarm(args: PvCallbackArgs): void {
    if (args.value === null || args.value === undefined) return;
    const old = this.alarmState;
    this.alarmState = this.cmp(args.value, this.tripPoint);
    const now = this.clock();
    if (this.alarmState && !old && (this.alertDelay <= 0 || now - this.lastAlert > this.alertDelay)) {
      this.lastAlert = now;
      const event: AlarmEvent = { ...args, tripPoint: this.tripPoint, comparison: this.compName };
      if (this.userCallback) {
        this.userCallback(event);
      } else {
        const cv = args.charValue ?? String(args.value);
        this.writer(`Alarm: ${args.pvname}=${cv} (${new Date(now * 1000).toString()})`);
      }
    }
  }

  /** Forget the alarm state and the time of the last alert. */
  reset(): void {
    this.alarmState = false;
    this.lastAlert = 0;
  }

  /** Stop watching the PV (the PV itself stays connected: it may be shared). */
  clear(): void {
    if (this.cbIndex !== undefined) {
      this.pv.removeCallback(this.cbIndex);
      this.cbIndex = undefined;
    }
  }

  toString(): string {
    return `<Alarm pvname='${this.pv.pvname}', comp='${this.compName}', tripPoint=${String(this.tripPoint)}>`;
  }
}
