/**
 * An in-memory stand-in for Channel Access, for unit tests of devices (yours and ours): a
 * `FakePvNetwork` holds named values; its `factory` makes PV objects with the PvLike interface that
 * read, write and monitor them. No sockets, no timers.
 */
import type {
  PvCallback,
  PvCallbackArgs,
  PvFactory,
  PvFactoryOptions,
  PvGetOptions,
  PvLike,
  PvPutOptions,
} from './pv-like.js';

interface Slot {
  value: unknown;
  writable: boolean;
  type: string;
  nelm: number;
  enumStrs?: string[];
  pvs: Set<FakePv>;
  /** Called on every put, after the value is stored; may change other slots. */
  onPut?: (value: unknown) => void | number | null;
}

export interface FakeDefinition {
  value: unknown;
  writable?: boolean;
  type?: string;
  nelm?: number;
  enumStrs?: string[];
  /**
   * Called on every put after the value is stored; may change other slots. Returning a number or
   * null makes the put resolve to it (e.g. -1: put-callback timed out, null: not connected).
   */
  onPut?: (value: unknown) => void | number | null;
}

function typeOf(v: unknown): string {
  if (typeof v === 'string') return 'time_string';
  if (v instanceof Float64Array) return 'time_double';
  if (v instanceof Int32Array) return 'time_long';
  if (v instanceof Uint8Array) return 'time_char';
  if (Array.isArray(v)) return 'time_string';
  return Number.isInteger(v) ? 'time_long' : 'time_double';
}

export class FakePv implements PvLike {
  private callbacks = new Map<number, PvCallback>();
  private nextIndex = 1;
  private closed = false;
  putCount = 0;
  constructor(
    readonly pvname: string,
    private readonly net: FakePvNetwork,
    opts: PvFactoryOptions = {},
  ) {
    const slot = net.slot(pvname);
    if (slot) slot.pvs.add(this);
    if (opts.callback) {
      this.callbacks.set(0, opts.callback);
    }
  }
  get connected(): boolean {
    return !this.closed && this.net.slot(this.pvname) !== undefined;
  }
  get value(): unknown {
    return this.net.slot(this.pvname)?.value ?? null;
  }
  get charValue(): string | null {
    const slot = this.net.slot(this.pvname);
    if (!slot) return null;
    const v = slot.value;
    if (slot.enumStrs && typeof v === 'number') return slot.enumStrs[v] ?? String(v);
    return typeof v === 'string' ? v : String(v);
  }
  get writeAccess(): boolean | null {
    return this.net.slot(this.pvname)?.writable ?? null;
  }
  get access(): string | null {
    const s = this.net.slot(this.pvname);
    return s ? (s.writable ? 'read/write' : 'read-only') : null;
  }
  get type(): string | null {
    return this.net.slot(this.pvname)?.type ?? null;
  }
  get nelm(): number | null {
    return this.net.slot(this.pvname)?.nelm ?? null;
  }
  get enumStrs(): string[] | null {
    return this.net.slot(this.pvname)?.enumStrs ?? null;
  }
  waitForConnection(): Promise<boolean> {
    return Promise.resolve(this.connected);
  }
  get(opts: PvGetOptions = {}): Promise<unknown> {
    if (!this.connected) return Promise.resolve(null);
    return Promise.resolve(opts.asString ? this.charValue : this.value);
  }
  put(value: unknown, _opts: PvPutOptions = {}): Promise<number | null> {
    if (!this.connected) return Promise.resolve(null);
    const slot = this.net.slot(this.pvname)!;
    if (!slot.writable) return Promise.reject(new Error(`no write access to ${this.pvname}`));
    this.putCount++;
    let v = value;
    if (slot.enumStrs && typeof v === 'string') {
      const i = slot.enumStrs.indexOf(v);
      if (i >= 0) v = i;
    }
    this.net.set(this.pvname, v);
    const r = slot.onPut?.(v);
    return Promise.resolve(r === undefined ? 1 : r);
  }
  addCallback(fn: PvCallback): number {
    const i = this.nextIndex++;
    this.callbacks.set(i, fn);
    return i;
  }
  removeCallback(index: number): void {
    this.callbacks.delete(index);
  }
  disconnect(): void {
    this.closed = true;
    this.net.slot(this.pvname)?.pvs.delete(this);
  }
  /** Called by the network when the value changes. */
  fire(): void {
    const args: PvCallbackArgs = {
      pvname: this.pvname,
      value: this.value,
      charValue: this.charValue,
      status: 0,
      severity: 0,
      timestamp: this.net.now(),
    };
    for (const k of [...this.callbacks.keys()].sort((a, b) => a - b)) this.callbacks.get(k)?.(args);
  }
}

export class FakePvNetwork {
  private slots = new Map<string, Slot>();
  private pvCache = new Map<string, FakePv>();
  /** PV names the factory was asked for, in order. */
  readonly requested: string[] = [];
  /** Clock used for callback time stamps (seconds). */
  now: () => number = () => Date.now() / 1000;

  /** Define (or redefine) a PV. */
  define(name: string, def: FakeDefinition): this;
  define(name: string, value: unknown): this;
  define(name: string, def: unknown): this {
    const d: FakeDefinition =
      def !== null &&
      typeof def === 'object' &&
      'value' in (def as object) &&
      !ArrayBuffer.isView(def) &&
      !Array.isArray(def)
        ? (def as FakeDefinition)
        : { value: def };
    const old = this.slots.get(name);
    this.slots.set(name, {
      value: d.value,
      writable: d.writable ?? true,
      type: d.type ?? typeOf(d.value),
      nelm:
        d.nelm ??
        (ArrayBuffer.isView(d.value) || Array.isArray(d.value) ? (d.value as ArrayLike<unknown>).length : 1),
      enumStrs: d.enumStrs,
      pvs: old?.pvs ?? new Set(),
      onPut: d.onPut,
    });
    return this;
  }
  slot(name: string): Slot | undefined {
    return this.slots.get(name);
  }
  has(name: string): boolean {
    return this.slots.has(name);
  }
  /** Current value (undefined when the PV does not exist). */
  read(name: string): unknown {
    return this.slots.get(name)?.value;
  }
  /** Change a value as the IOC would and post a monitor event to every PV on it. */
  set(name: string, value: unknown): void {
    const slot = this.slots.get(name);
    if (!slot) throw new Error(`fake PV ${name} is not defined`);
    slot.value = value;
    for (const pv of slot.pvs) pv.fire();
  }
  /** A PvFactory sharing one PV object per name (like the client's getPV cache). */
  readonly factory: PvFactory = (name: string, opts?: PvFactoryOptions): PvLike => {
    this.requested.push(name);
    let pv = this.pvCache.get(name);
    if (!pv) {
      pv = new FakePv(name, this, opts);
      this.pvCache.set(name, pv);
    } else if (opts?.callback) {
      pv.addCallback(opts.callback);
    }
    const slot = this.slots.get(name);
    if (slot) slot.pvs.add(pv);
    return pv;
  };
}
