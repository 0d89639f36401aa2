/**
 * pyepics' Device: a set of PVs sharing a prefix (`prefix + delim + attr`), read and written by
 * attribute name. All PVs connect in parallel (`await dev.connect()` or `await Device.create(...)`).
 *
 * Attribute access goes through a Proxy: `dev.VAL` returns the latest monitored value synchronously
 * (throws DeviceError when the PV is not connected); `dev.VAL = 3` puts without waiting. Methods and
 * real properties of the object always win over PV attributes, so subclasses add methods freely.
 * The async `get(attr)` / `put(attr, value, {wait})` do network round trips and report failures as
 * DeviceError naming the PV.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { resolveFactory } from './factory.js';
import type { PvCallback, PvFactory, PvGetOptions, PvLike, PvPutOptions } from './pv-like.js';

export class DeviceError extends Error {
  constructor(
    message: string,
    /** The PV concerned, when there is one. */
    public readonly pvname?: string,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
  }
}

export interface DeviceOptions {
  /** Attributes (field names / suffixes) whose PVs are created up front. */
  attrs?: readonly string[];
  /** Between prefix and attribute (default '.'). */
  delim?: string;
  /** Extra names for attributes: `{ drive: 'VAL' }`. */
  aliases?: Readonly<Record<string, string>>;
  /** Connection timeout, seconds (default 2). */
  timeout?: number;
  /** Create PVs for unknown (capitalised) attributes on first use (default true). */
  mutable?: boolean;
  pvFactory?: PvFactory;
  /** Create the PVs of every alias target up front (default true, as pyepics). */
  createAliasPvs?: boolean;
}

export type DeviceState = Record<string, unknown>;

const FIELD_LIKE = /^[A-Z][A-Za-z0-9_]*\$?$/;

function isTypedArray(v: unknown): v is ArrayLike<number> {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

function charArrayText(v: Uint8Array): string {
  let end = v.indexOf(0);
  if (end < 0) end = v.length;
  return Buffer.from(v.buffer, v.byteOffset, end).toString('latin1');
}

function isCharPv(pv: PvLike, value: unknown): value is Uint8Array {
  if (!(value instanceof Uint8Array)) return false;
  const t = pv.type ?? '';
  return t === '' || t.endsWith('char');
}

export class Device {
  /** Any attribute (PV field) can be read/assigned by name; see the class comment. */
  [attr: string]: unknown;

  readonly prefix: string;
  readonly delim: string;
  readonly timeout: number;
  readonly mutable: boolean;
  /** The error of the last put started by an attribute assignment, if it failed. */
  lastPutError: Error | undefined = undefined;
  protected readonly pvFactory: PvFactory;
  protected readonly pvs = new Map<string, PvLike>();
  protected readonly aliases = new Map<string, string>();
  private readonly callbackIndices = new Map<string, number[]>();
  /** Attributes connect() does not wait for (extras that may not exist on every IOC). */
  protected readonly optionalAttrs = new Set<string>();

  constructor(prefix = '', opts: DeviceOptions = {}) {
    this.delim = opts.delim ?? '.';
    this.prefix = prefix;
    this.timeout = opts.timeout ?? 2;
    this.mutable = opts.mutable ?? true;
    this.pvFactory = resolveFactory(opts.pvFactory);
    for (const [k, v] of Object.entries(opts.aliases ?? {})) this.aliases.set(k, v);
    for (const a of opts.attrs ?? []) this.pv(a);
    if (opts.createAliasPvs ?? true) for (const target of this.aliases.values()) this.pv(target);
    return new Proxy(this, {
      get(target, prop, receiver) {
        if (typeof prop === 'symbol' || prop in target) return Reflect.get(target, prop, receiver);
        return target.attrAccess(prop);
      },
      set(target, prop, value, receiver) {
        if (typeof prop === 'symbol' || prop in target) return Reflect.set(target, prop, value, receiver);
        target.attrAssign(prop, value);
        return true;
      },
      has(target, prop) {
        if (typeof prop === 'symbol' || prop in target) return Reflect.has(target, prop);
        return target.isAttr(prop);
      },
    });
  }

  /** Construct and connect (all PVs in parallel). */
  static async create<T extends Device, A extends unknown[]>(
    this: new (...args: A) => T,
    ...args: A
  ): Promise<T> {
    const dev = new this(...args);
    await dev.connect();
    return dev;
  }

  // ---------------------------------------------------------------- names and PVs

  /** The attribute an alias stands for (or the name itself). */
  resolveAttr(attr: string): string {
    return this.aliases.get(attr) ?? attr;
  }

  /** Full PV name of an attribute. */
  pvName(attr: string): string {
    return this.prefix + this.delim + this.resolveAttr(attr);
  }

  /** Attribute names with PVs (in creation order). */
  attrs(): string[] {
    return [...this.pvs.keys()];
  }

  isAttr(attr: string): boolean {
    return this.pvs.has(attr) || this.aliases.has(attr);
  }

  /** The PV of an attribute (alias-aware), created on first use. */
  pv(attr: string): PvLike {
    const key = this.resolveAttr(attr);
    let pv = this.pvs.get(key);
    if (!pv) {
      pv = this.pvFactory(this.prefix + this.delim + key, { connectionTimeout: this.timeout });
      this.pvs.set(key, pv);
    }
    return pv;
  }

  /** Add a PV under an arbitrary full name; `attr` defaults to the full name. */
  addPv(pvname: string, attr: string = pvname): PvLike {
    let pv = this.pvs.get(attr);
    if (!pv) {
      pv = this.pvFactory(pvname, { connectionTimeout: this.timeout });
      this.pvs.set(attr, pv);
    }
    return pv;
  }

  /**
   * Wait (in parallel) for every PV to connect and to hold a first value. Resolves true when all
   * connected; see `unconnected()` for the others.
   */
  async connect(timeout: number = this.timeout): Promise<boolean> {
    const entries = [...this.pvs.entries()].filter(([attr]) => !this.optionalAttrs.has(attr));
    const ok = await Promise.all(
      entries.map(async ([, pv]) => {
        const c = pv.connected || (await pv.waitForConnection(timeout).catch(() => false));
        if (c && (pv.value === null || pv.value === undefined || (pv.type ?? '').endsWith('enum'))) {
          // a first value; for enums as string, which also loads the state strings (charValue)
          await pv.get({ timeout, asString: (pv.type ?? '').endsWith('enum') }).catch(() => null);
        }
        return c;
      }),
    );
    return ok.every(Boolean);
  }

  /** Full names of the PVs that are not connected. */
  unconnected(): string[] {
    return [...this.pvs.values()].filter((pv) => !pv.connected).map((pv) => pv.pvname);
  }

  private async connected(attr: string, timeout?: number): Promise<PvLike> {
    const pv = this.pv(attr);
    if (!pv.connected) {
      const ok = await pv.waitForConnection(timeout ?? this.timeout).catch(() => false);
      if (!ok) throw new DeviceError(`${pv.pvname} is not connected`, pv.pvname);
    }
    return pv;
  }

  // ---------------------------------------------------------------- async get / put

  /** Read an attribute over the network (or from the monitor cache unless useMonitor is false). */
  async get(attr: string, opts: PvGetOptions = {}): Promise<unknown> {
    const pv = await this.connected(attr, opts.timeout);
    let v: unknown;
    try {
      v = await pv.get(opts);
    } catch (e) {
      throw new DeviceError(`get of ${pv.pvname} failed: ${(e as Error).message}`, pv.pvname, e);
    }
    if (v === null || v === undefined)
      throw new DeviceError(`get of ${pv.pvname} failed or timed out`, pv.pvname);
    return v;
  }

  /** Write an attribute; with `wait` resolves when processing completed. Returns the PV's status (1). */
  async put(attr: string, value: unknown, opts: PvPutOptions = {}): Promise<number> {
    const pv = await this.connected(attr, opts.timeout);
    let rc: number | null | undefined;
    try {
      rc = await pv.put(value, { timeout: 10, ...opts });
    } catch (e) {
      throw new DeviceError(`put to ${pv.pvname} failed: ${(e as Error).message}`, pv.pvname, e);
    }
    if (rc === null || rc === undefined)
      throw new DeviceError(`put to ${pv.pvname} failed: not connected`, pv.pvname);
    if (rc < 0) throw new DeviceError(`put to ${pv.pvname} timed out waiting for completion`, pv.pvname);
    return rc;
  }

  // ---------------------------------------------------------------- synchronous (cached) access

  /** The latest monitored value of an attribute; DeviceError when it is not connected. */
  cached(attr: string): unknown {
    const pv = this.pv(attr);
    if (!pv.connected) {
      throw new DeviceError(
        `${pv.pvname} is not connected (await device.connect() or device.get())`,
        pv.pvname,
      );
    }
    return pv.value;
  }

  /** `cached(attr)` as a number (enum indexes, numeric strings); DeviceError when not numeric. */
  cachedNumber(attr: string): number {
    const v = this.cached(attr);
    if (typeof v === 'number') return v;
    if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
    if (isTypedArray(v) && v.length > 0) return v[0];
    throw new DeviceError(`${this.pvName(attr)} has no numeric value (${String(v)})`, this.pvName(attr));
  }

  /** `cached(attr)` as text (char arrays decoded, enums as their label when known). */
  cachedString(attr: string): string {
    const pv = this.pv(attr);
    const v = this.cached(attr);
    if (typeof v === 'string') return v;
    if (isCharPv(pv, v)) return charArrayText(v);
    return pv.charValue ?? String(v);
  }

  /** Put without waiting; a failure is kept in `lastPutError`. */
  putNoWait(attr: string, value: unknown): void {
    const pv = this.pv(attr);
    if (!pv.connected) throw new DeviceError(`${pv.pvname} is not connected`, pv.pvname);
    this.lastPutError = undefined;
    pv.put(value, { wait: false }).then(
      (rc) => {
        if (rc === null || rc === undefined)
          this.lastPutError = new DeviceError(`put to ${pv.pvname} failed`, pv.pvname);
      },
      (e: unknown) => {
        this.lastPutError = e instanceof Error ? e : new DeviceError(String(e), pv.pvname);
      },
    );
  }

  protected attrAccess(name: string): unknown {
    if (this.isAttr(name)) return this.cached(name);
    if (this.mutable && FIELD_LIKE.test(name)) {
      const pv = this.pv(name);
      if (pv.connected) return pv.value;
      throw new DeviceError(`${pv.pvname} is not connected (await device.get('${name}'))`, pv.pvname);
    }
    return undefined;
  }

  protected attrAssign(name: string, value: unknown): void {
    if (this.isAttr(name) || (this.mutable && FIELD_LIKE.test(name))) {
      this.putNoWait(name, value);
      return;
    }
    throw new DeviceError(`${this.constructor.name} has no attribute '${name}'`);
  }

  // ---------------------------------------------------------------- callbacks

  /** Add a value callback to an attribute's PV; returns its index. */
  addCallback(attr: string, fn: PvCallback): number {
    const key = this.resolveAttr(attr);
    const index = this.pv(key).addCallback(fn);
    const list = this.callbackIndices.get(key) ?? [];
    list.push(index);
    this.callbackIndices.set(key, list);
    return index;
  }

  /** Remove one callback (by index) or all callbacks this device added to an attribute. */
  removeCallbacks(attr: string, index?: number): void {
    const key = this.resolveAttr(attr);
    const pv = this.pvs.get(key);
    const list = this.callbackIndices.get(key) ?? [];
    if (!pv) return;
    const drop = index === undefined ? list : list.filter((i) => i === index);
    for (const i of drop) pv.removeCallback(i);
    this.callbackIndices.set(
      key,
      list.filter((i) => !drop.includes(i)),
    );
  }

  // ---------------------------------------------------------------- state

  /** `{attr: value}` for every connected attribute (char arrays as text). Alias of saveState(). */
  async getAll(): Promise<DeviceState> {
    return this.saveState();
  }

  /** `{attr: value}` for every connected attribute (char arrays as text). */
  async saveState(): Promise<DeviceState> {
    const entries = [...this.pvs.entries()];
    const values = await Promise.all(
      entries.map(async ([, pv]) => {
        if (!pv.connected) return undefined;
        try {
          const v = await pv.get();
          return isCharPv(pv, v) && (pv.nelm ?? 2) > 1 ? charArrayText(v) : v;
        } catch {
          return undefined;
        }
      }),
    );
    const state: DeviceState = {};
    entries.forEach(([attr], i) => {
      if (values[i] !== undefined && values[i] !== null) state[attr] = values[i];
    });
    return state;
  }

  private writable(pv: PvLike): boolean {
    if (pv.writeAccess !== undefined && pv.writeAccess !== null) return pv.writeAccess;
    if (pv.access) return pv.access.includes('write');
    return true;
  }

  /** Put every value of a state to its (connected, writable) PV, in order, without waiting. */
  async restoreState(state: DeviceState): Promise<void> {
    for (const [attr, value] of Object.entries(state)) {
      const pv = this.pv(attr);
      if (!pv.connected && !(await pv.waitForConnection(this.timeout).catch(() => false))) continue;
      if (!this.writable(pv)) continue;
      await pv.put(value, { wait: false });
    }
  }

  /** Write a state (default: saveState()) to a text file, one `attr value` line per scalar writable PV. */
  async writeState(file: string, state?: DeviceState): Promise<void> {
    const s = state ?? (await this.saveState());
    const lines = [
      `#Device Saved State for ${this.constructor.name},prefix='${this.prefix}',time=${new Date().toString()}`,
    ];
    for (const attr of Object.keys(s).sort()) {
      const pv = this.pvs.get(attr);
      const v = s[attr];
      if (pv && !this.writable(pv)) continue;
      if (typeof v === 'string') {
        if (/[\r\n]/.test(v)) continue;
        lines.push(`${attr} ${v}`);
      } else if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') {
        lines.push(`${attr} ${String(v)}`);
      }
      // arrays are not written (as pyepics)
    }
    await writeFile(file, lines.join('\n') + '\n', 'utf8');
  }

  /**
   * Read a file written by writeState(). Values become numbers when the attribute's PV currently
   * holds a number. With `restore`, the state is also put to the PVs.
   */
  async readState(file: string, restore = false): Promise<DeviceState> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new DeviceError(`cannot read state file ${file}: ${(e as Error).message}`);
    }
    const state: DeviceState = {};
    const lines = text.split(/\r?\n/);
    for (let k = 0; k < lines.length; k++) {
      const line = lines[k];
      if (line.trim() === '' || line.startsWith('#')) continue;
      const m = /^(\S+)(?: (.*))?$/.exec(line);
      if (!m) throw new DeviceError(`${file}:${k + 1}: unparsable line`);
      const attr = m[1];
      const raw = m[2] ?? '';
      const pv = this.pvs.get(this.resolveAttr(attr));
      const cur = pv?.value;
      const n = raw.trim() === '' ? NaN : Number(raw);
      state[attr] = typeof cur === 'number' && !Number.isNaN(n) ? n : raw;
    }
    if (restore) await this.restoreState(state);
    return state;
  }

  /** Disconnect every PV of this device. */
  disconnect(): void {
    for (const pv of this.pvs.values()) pv.disconnect();
  }

  toString(): string {
    let p = this.prefix + this.delim;
    if (p.endsWith('.')) p = p.slice(0, -1);
    return `<${this.constructor.name} '${p}', ${this.pvs.size} attributes>`;
  }
}
