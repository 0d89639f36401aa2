/**
 * Serve PVs declared from code (in the spirit of pcaspy / caproto's servers):
 *
 *   const server = await serve({ pvs: {
 *     'DEMO:temp': { type: 'double', value: 21.5, units: 'degC', precision: 2,
 *                    onPut: async (value, pv) => { ... } },
 *     'DEMO:state': { type: 'enum', enumStrs: ['Off', 'On'], value: 0 },
 *     'DEMO:wave': { type: 'double', count: 1000 },
 *   } });
 *   server.pv('DEMO:temp').post(22.0, { severity: 1, status: 4 });
 *   await server.stop();
 *
 * Client writes are converted to the PV's type with protocol/convert (as an IOC converts them),
 * then `onPut` runs; its completion is what put-callback clients (WRITE_NOTIFY, `caput -c`) wait for.
 * A throwing onPut fails the put with ECA_PUTFAIL (or the code of a thrown CaStatusError); returning
 * `false` leaves the value unchanged; otherwise the value is stored and posted.
 */
import {
  DBE,
  DBR,
  DbrNative,
  ECA,
  EPICS_EPOCH_OFFSET,
  MAX_ENUM_STATES,
  Severity,
  AlarmStatus,
} from '../protocol/constants.js';
import type { NativeType } from '../protocol/constants.js';
import { dbrValueType, isValidDbrType } from '../protocol/dbr.js';
import { ConversionError, convertValues, stringToCharArray } from '../protocol/convert.js';
import { allocNative } from '../protocol/values.js';
import type { EpicsTimeStamp, NativeArray } from '../protocol/values.js';
import { CaServer } from './server.js';
import type { CaServerOptions } from './server.js';
import { CaStatusError } from './provider.js';
import type {
  ChannelProvider,
  ChannelSnapshot,
  ClientIdentity,
  EventMask,
  ServedChannel,
} from './provider.js';

export type PvType = 'string' | 'short' | 'int16' | 'float' | 'enum' | 'char' | 'long' | 'int32' | 'double';

/** Values accepted by `post` and as initial values. */
export type PvValue =
  number | boolean | string | readonly number[] | readonly string[] | NativeArray | ArrayLike<number>;

/** What a put handler receives: a scalar for scalar PVs, the (typed) array otherwise. */
export type PutValue = number | string | NativeArray;

export interface PvSpec {
  type: PvType;
  /** Initial value (default zero / empty). */
  value?: PvValue;
  /** Maximum number of elements (default 1: a scalar). */
  count?: number;
  units?: string;
  /** Display precision (float types; also used for float -> string reads). */
  precision?: number;
  /** Enum state strings (type 'enum'), at most 16. */
  enumStrs?: string[];
  lowAlarm?: number;
  lowWarning?: number;
  highWarning?: number;
  highAlarm?: number;
  lowDisp?: number;
  highDisp?: number;
  lowCtrl?: number;
  highCtrl?: number;
  /** Refuse client writes (access rights read-only). */
  readOnly?: boolean;
  /** Access security group (with CaServer's accessSecurity). */
  asg?: string;
  /** Record type reported for DBR_CLASS_NAME (default from the type, e.g. "ao", "waveform"). */
  className?: string;
  /** Initial alarm. */
  severity?: number;
  status?: number;
  /** Initial time stamp (default: when the PV is declared); `{secPastEpoch: 0, nsec: 0}` = never set. */
  timestamp?: Date | number | EpicsTimeStamp;
  /** Called on a client write with the converted value; its completion completes the put. */
  onPut?: (value: PutValue, pv: ServedPv) => void | boolean | Promise<void | boolean>;
}

export interface PostOptions {
  severity?: number;
  status?: number;
  /** Time stamp: a Date, Unix seconds, or an EPICS time stamp (default now). */
  timestamp?: Date | number | EpicsTimeStamp;
}

const NATIVE_OF: Record<PvType, NativeType> = {
  string: DbrNative.STRING,
  short: DbrNative.SHORT,
  int16: DbrNative.SHORT,
  float: DbrNative.FLOAT,
  enum: DbrNative.ENUM,
  char: DbrNative.CHAR,
  long: DbrNative.LONG,
  int32: DbrNative.LONG,
  double: DbrNative.DOUBLE,
};

/** Invalid PV declarations and values. */
export class PvDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PvDefinitionError';
  }
}

/** Current time as an EPICS time stamp. */
export function epicsNow(): EpicsTimeStamp {
  const ms = performance.timeOrigin + performance.now();
  const sec = Math.floor(ms / 1000);
  return {
    secPastEpoch: sec - EPICS_EPOCH_OFFSET,
    nsec: Math.min(999999999, Math.round((ms - sec * 1000) * 1e6)),
  };
}

function toStamp(t: Date | number | EpicsTimeStamp | undefined): EpicsTimeStamp {
  if (t === undefined) return epicsNow();
  if (t instanceof Date) t = t.getTime() / 1000;
  if (typeof t === 'number') {
    if (!Number.isFinite(t)) throw new PvDefinitionError(`invalid time stamp ${t}`);
    const sec = Math.floor(t);
    return { secPastEpoch: Math.max(0, sec - EPICS_EPOCH_OFFSET), nsec: Math.round((t - sec) * 1e9) % 1e9 };
  }
  return { secPastEpoch: t.secPastEpoch >>> 0, nsec: t.nsec >>> 0 };
}

function defaultClassName(type: NativeType, count: number, readOnly: boolean): string {
  if (count > 1) return 'waveform';
  switch (type) {
    case DbrNative.STRING:
      return readOnly ? 'stringin' : 'stringout';
    case DbrNative.ENUM:
      return readOnly ? 'mbbi' : 'mbbo';
    case DbrNative.SHORT:
    case DbrNative.LONG:
    case DbrNative.CHAR:
      return readOnly ? 'longin' : 'longout';
    default:
      return readOnly ? 'ai' : 'ao';
  }
}

function isNativeArray(v: unknown): v is NativeArray {
  return (
    v instanceof Int16Array ||
    v instanceof Float32Array ||
    v instanceof Uint16Array ||
    v instanceof Uint8Array ||
    v instanceof Int32Array ||
    v instanceof Float64Array
  );
}

function nativeTypeOfArray(v: NativeArray): NativeType {
  if (Array.isArray(v)) return DbrNative.STRING;
  if (v instanceof Int16Array) return DbrNative.SHORT;
  if (v instanceof Float32Array) return DbrNative.FLOAT;
  if (v instanceof Uint16Array) return DbrNative.ENUM;
  if (v instanceof Uint8Array) return DbrNative.CHAR;
  if (v instanceof Int32Array) return DbrNative.LONG;
  return DbrNative.DOUBLE;
}

/** A PV served from code. It is its own ServedChannel (shared by every client). */
export class ServedPv implements ServedChannel {
  readonly nativeType: NativeType;
  readonly elementCount: number;
  readonly className: string;
  readonly asg: string | undefined;
  readonly readOnly: boolean;
  private _value: NativeArray;
  private _severity: number;
  private _status: number;
  private _stamp: EpicsTimeStamp;
  private units: string;
  private precision: number;
  private enumStrs: string[] | undefined;
  /** Declared alarm limits [HIHI, LOLO, HIGH, LOW] (NaN: not declared); posts are checked against them. */
  private readonly alarmLimits: number[];
  private readonly limits: {
    upperDispLimit: number;
    lowerDispLimit: number;
    upperAlarmLimit: number;
    upperWarningLimit: number;
    lowerWarningLimit: number;
    lowerAlarmLimit: number;
    upperCtrlLimit: number;
    lowerCtrlLimit: number;
  };
  private readonly listeners = new Set<(mask: EventMask) => void>();
  private cached: ChannelSnapshot | undefined;
  private readonly onPut: PvSpec['onPut'];

  constructor(
    readonly name: string,
    spec: PvSpec,
  ) {
    if (!spec || typeof spec !== 'object') throw new PvDefinitionError(`PV ${name}: missing specification`);
    const native = NATIVE_OF[spec.type];
    if (native === undefined) throw new PvDefinitionError(`PV ${name}: unknown type '${String(spec.type)}'`);
    const count = spec.count ?? 1;
    if (!Number.isInteger(count) || count < 1 || count > 0x7fffffff) {
      throw new PvDefinitionError(`PV ${name}: invalid count ${String(spec.count)}`);
    }
    if (spec.enumStrs !== undefined) {
      if (!Array.isArray(spec.enumStrs) || spec.enumStrs.length > MAX_ENUM_STATES) {
        throw new PvDefinitionError(
          `PV ${name}: enumStrs must be an array of at most ${MAX_ENUM_STATES} strings`,
        );
      }
    }
    this.nativeType = native;
    this.elementCount = count;
    this.readOnly = spec.readOnly === true;
    this.className = spec.className ?? defaultClassName(native, count, this.readOnly);
    this.asg = spec.asg;
    this.onPut = spec.onPut;
    this.units = spec.units ?? '';
    this.precision = spec.precision ?? 0;
    this.enumStrs = native === DbrNative.ENUM ? [...(spec.enumStrs ?? [])] : undefined;
    const isFloat = native === DbrNative.FLOAT || native === DbrNative.DOUBLE;
    const alarmDefault = isFloat ? NaN : 0;
    this.alarmLimits = [spec.highAlarm, spec.lowAlarm, spec.highWarning, spec.lowWarning].map(
      (x) => x ?? NaN,
    );
    this.limits = {
      upperDispLimit: spec.highDisp ?? 0,
      lowerDispLimit: spec.lowDisp ?? 0,
      upperAlarmLimit: spec.highAlarm ?? alarmDefault,
      upperWarningLimit: spec.highWarning ?? alarmDefault,
      lowerWarningLimit: spec.lowWarning ?? alarmDefault,
      lowerAlarmLimit: spec.lowAlarm ?? alarmDefault,
      upperCtrlLimit: spec.highCtrl ?? spec.highDisp ?? 0,
      lowerCtrlLimit: spec.lowCtrl ?? spec.lowDisp ?? 0,
    };
    this._value =
      spec.value === undefined ? allocNative(native, count === 1 ? 1 : 0) : this.normalize(spec.value);
    const initial = spec.severity === undefined ? this.limitAlarm(this._value) : undefined;
    this._severity = spec.severity ?? initial?.[0] ?? Severity.NO_ALARM;
    this._status = spec.status ?? initial?.[1] ?? AlarmStatus.NO_ALARM;
    this._stamp = spec.timestamp === undefined ? epicsNow() : toStamp(spec.timestamp);
  }

  /** The value: a number or string for scalars, the array (typed, or string[]) otherwise. */
  get value(): PutValue {
    return this.elementCount === 1 && this._value.length === 1 ? this._value[0] : this._value;
  }

  /** The value as its native array. */
  get raw(): NativeArray {
    return this._value;
  }

  get severity(): number {
    return this._severity;
  }

  get status(): number {
    return this._status;
  }

  get timestamp(): EpicsTimeStamp {
    return this._stamp;
  }

  /**
   * Convert a value to this PV's native array (truncated to its element count). Throws
   * PvDefinitionError when it cannot be converted.
   */
  normalize(v: PvValue): NativeArray {
    const native = this.nativeType;
    const opts = { precision: this.precision, enumStrs: this.enumStrs };
    let out: NativeArray;
    try {
      if (typeof v === 'number' || typeof v === 'boolean') {
        out = convertValues(Float64Array.of(Number(v)), DbrNative.DOUBLE, native, opts);
      } else if (typeof v === 'string') {
        if (native === DbrNative.CHAR && this.elementCount > 1) out = stringToCharArray(v);
        else out = convertValues([v], DbrNative.STRING, native, opts);
      } else if (isNativeArray(v)) {
        const from = nativeTypeOfArray(v);
        out = from === native ? v.slice() : convertValues(v, from, native, opts);
      } else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) {
        out =
          native === DbrNative.STRING
            ? [...(v as string[])]
            : convertValues([...(v as string[])], 0, native, opts);
      } else if (v !== null && typeof v === 'object' && typeof (v as ArrayLike<number>).length === 'number') {
        const src = Float64Array.from(v as ArrayLike<number>, Number);
        out = native === DbrNative.DOUBLE ? src : convertValues(src, DbrNative.DOUBLE, native, opts);
      } else {
        throw new PvDefinitionError(`PV ${this.name}: unsupported value ${String(v)}`);
      }
    } catch (e) {
      if (e instanceof PvDefinitionError) throw e;
      throw new PvDefinitionError(
        `PV ${this.name}: cannot convert ${JSON.stringify(v)}: ${(e as Error).message}`,
      );
    }
    if (out.length > this.elementCount) {
      out = Array.isArray(out) ? out.slice(0, this.elementCount) : out.subarray(0, this.elementCount);
    }
    if (out === v) out = Array.isArray(out) ? out.slice() : out.slice();
    return out;
  }

  /** Post a new value (DBE_VALUE | DBE_LOG, plus DBE_ALARM when the alarm changes). */
  post(value: PvValue, opts: PostOptions = {}): void {
    const v = this.normalize(value);
    this.store(v, opts);
  }

  /** Change only the alarm state (posts DBE_ALARM when it changes). */
  setAlarm(severity: number, status: number = this._status): void {
    if (severity === this._severity && status === this._status) return;
    this._severity = severity;
    this._status = status;
    this.cached = undefined;
    this.emit(DBE.ALARM);
  }

  /** Change metadata (units, precision, enum strings, limits); posts DBE_PROPERTY. */
  setMetadata(
    meta: Partial<
      Pick<
        PvSpec,
        | 'units'
        | 'precision'
        | 'enumStrs'
        | 'lowAlarm'
        | 'lowWarning'
        | 'highWarning'
        | 'highAlarm'
        | 'lowDisp'
        | 'highDisp'
        | 'lowCtrl'
        | 'highCtrl'
      >
    >,
  ): void {
    if (meta.units !== undefined) this.units = meta.units;
    if (meta.precision !== undefined) this.precision = meta.precision;
    if (meta.enumStrs !== undefined && this.nativeType === DbrNative.ENUM) {
      if (meta.enumStrs.length > MAX_ENUM_STATES)
        throw new PvDefinitionError(`PV ${this.name}: too many enum states`);
      this.enumStrs = [...meta.enumStrs];
    }
    const l = this.limits;
    if (meta.highDisp !== undefined) l.upperDispLimit = meta.highDisp;
    if (meta.lowDisp !== undefined) l.lowerDispLimit = meta.lowDisp;
    if (meta.highAlarm !== undefined) l.upperAlarmLimit = this.alarmLimits[0] = meta.highAlarm;
    if (meta.lowAlarm !== undefined) l.lowerAlarmLimit = this.alarmLimits[1] = meta.lowAlarm;
    if (meta.highWarning !== undefined) l.upperWarningLimit = this.alarmLimits[2] = meta.highWarning;
    if (meta.lowWarning !== undefined) l.lowerWarningLimit = this.alarmLimits[3] = meta.lowWarning;
    if (meta.highCtrl !== undefined) l.upperCtrlLimit = meta.highCtrl;
    if (meta.lowCtrl !== undefined) l.lowerCtrlLimit = meta.lowCtrl;
    this.cached = undefined;
    this.emit(DBE.PROPERTY);
  }

  private store(v: NativeArray, opts: PostOptions): void {
    let mask = DBE.VALUE | DBE.LOG;
    const auto = opts.severity === undefined ? this.limitAlarm(v) : undefined;
    const sev = opts.severity ?? auto?.[0] ?? this._severity;
    const stat = opts.status ?? auto?.[1] ?? this._status;
    if (sev !== this._severity || stat !== this._status) mask |= DBE.ALARM;
    this._value = v;
    this._severity = sev;
    this._status = stat;
    this._stamp = toStamp(opts.timestamp);
    this.cached = undefined;
    this.emit(mask);
  }

  /**
   * Alarm from the declared alarm limits (as pcaspy and an ai record do: HIHI/LOLO major, HIGH/LOW
   * minor), for a numeric scalar whose spec set any of them; undefined when no limit applies.
   */
  private limitAlarm(v: NativeArray): [number, number] | undefined {
    const [hihi, lolo, high, low] = this.alarmLimits;
    if (this.alarmLimits.every(Number.isNaN) || v.length !== 1 || typeof v[0] !== 'number') return undefined;
    const x = v[0];
    if (x >= hihi) return [Severity.MAJOR, AlarmStatus.HIHI];
    if (x <= lolo) return [Severity.MAJOR, AlarmStatus.LOLO];
    if (x >= high) return [Severity.MINOR, AlarmStatus.HIGH];
    if (x <= low) return [Severity.MINOR, AlarmStatus.LOW];
    return [Severity.NO_ALARM, AlarmStatus.NO_ALARM];
  }

  private emit(mask: number): void {
    for (const l of [...this.listeners]) {
      try {
        l(mask);
      } catch {
        /* a failing listener must not stop the others */
      }
    }
  }

  // ServedChannel ------------------------------------------------------------------------------

  snapshot(): ChannelSnapshot {
    if (this.cached) return this.cached;
    const snap: ChannelSnapshot = {
      value: this._value,
      count: this._value.length,
      status: this._status,
      severity: this._severity,
      stamp: this._stamp,
      units: this.units,
      precision: this.precision,
      enumStrs: this.enumStrs,
      ackt: 1,
      acks: 0,
      ...this.limits,
    };
    this.cached = snap;
    return snap;
  }

  async write(value: NativeArray, dbrType: number, _client: ClientIdentity): Promise<void> {
    if (dbrType === DBR.PUT_ACKT || dbrType === DBR.PUT_ACKS) return;
    if (this.readOnly) throw new CaStatusError(ECA.NOWTACCESS, `${this.name} is read-only`);
    if (!isValidDbrType(dbrType) || dbrType > DBR.DOUBLE)
      throw new CaStatusError(ECA.BADTYPE, 'bad DBR type');
    let v: NativeArray;
    try {
      v = convertValues(value, dbrValueType(dbrType), this.nativeType, {
        precision: this.precision,
        enumStrs: this.enumStrs,
      });
    } catch (e) {
      if (e instanceof ConversionError) throw new CaStatusError(e.eca, e.message);
      throw new CaStatusError(ECA.PUTFAIL, (e as Error).message);
    }
    if (v.length > this.elementCount)
      v = Array.isArray(v) ? v.slice(0, this.elementCount) : v.subarray(0, this.elementCount);
    // a count-0 put empties an array PV; a scalar keeps its value
    if (v.length === 0 && this.elementCount === 1)
      throw new CaStatusError(ECA.BADCOUNT, `${this.name}: a put of no elements to a scalar`);
    // `value` was decoded from the wire for this call: it is ours to keep (no copy).
    if (this.onPut) {
      const user: PutValue = this.elementCount === 1 && v.length === 1 ? v[0] : v;
      let r: void | boolean;
      try {
        r = await this.onPut(user, this);
      } catch (e) {
        if (e instanceof CaStatusError) throw e;
        throw new CaStatusError(ECA.PUTFAIL, (e as Error)?.message ?? String(e));
      }
      if (r === false) return;
    }
    this.store(v, {});
  }

  subscribe(listener: (mask: EventMask) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  accessRights(_client: ClientIdentity): number {
    return this.readOnly ? 1 : 3;
  }

  /** Number of active subscribers (circuits monitoring this PV). */
  get subscriberCount(): number {
    return this.listeners.size;
  }
}

/** A ChannelProvider of PVs declared from code. `NAME.VAL` is an alias of `NAME`. */
export class PvProvider implements ChannelProvider {
  private readonly pvs = new Map<string, ServedPv>();

  constructor(pvs?: Record<string, PvSpec>) {
    if (pvs) for (const [name, spec] of Object.entries(pvs)) this.add(name, spec);
  }

  add(name: string, spec: PvSpec): ServedPv {
    if (typeof name !== 'string' || name.length < 2 || name.length > 500 || /[\s\0]/.test(name)) {
      throw new PvDefinitionError(`invalid PV name ${JSON.stringify(name)}`);
    }
    if (this.pvs.has(name)) throw new PvDefinitionError(`PV ${name} is already defined`);
    const pv = new ServedPv(name, spec);
    this.pvs.set(name, pv);
    return pv;
  }

  /** Remove a PV (clients already connected keep the object until they drop it). */
  remove(name: string): boolean {
    return this.pvs.delete(name);
  }

  get(name: string): ServedPv | undefined {
    return this.pvs.get(name) ?? (name.endsWith('.VAL') ? this.pvs.get(name.slice(0, -4)) : undefined);
  }

  names(): string[] {
    return [...this.pvs.keys()];
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  channel(name: string): ServedChannel | undefined {
    return this.get(name);
  }
}

/** Combine several providers: the first that has a name serves it. */
export function combineProviders(...providers: ChannelProvider[]): ChannelProvider {
  return {
    has: (name) => providers.some((p) => p.has(name)),
    channel: (name) => {
      for (const p of providers) {
        if (p.has(name)) {
          const c = p.channel(name);
          if (c) return c;
        }
      }
      return undefined;
    },
  };
}

export interface ServeOptions extends Omit<CaServerOptions, 'provider'> {
  pvs?: Record<string, PvSpec>;
  /** Prefix added to every PV name of `pvs`. */
  prefix?: string;
}

/** A running server of code-declared PVs. */
export class PvServer {
  readonly provider: PvProvider;
  readonly server: CaServer;
  private readonly prefix: string;

  constructor(opts: ServeOptions) {
    this.prefix = opts.prefix ?? '';
    this.provider = new PvProvider();
    for (const [name, spec] of Object.entries(opts.pvs ?? {})) this.provider.add(this.prefix + name, spec);
    const { pvs: _pvs, prefix: _prefix, ...rest } = opts;
    this.server = new CaServer({ ...rest, provider: this.provider });
  }

  /** The PV of this name (with or without the prefix); throws when it does not exist. */
  pv(name: string): ServedPv {
    const pv = this.provider.get(name) ?? this.provider.get(this.prefix + name);
    if (!pv) throw new PvDefinitionError(`no PV named ${name}`);
    return pv;
  }

  /** Declare another PV while running (name gets the prefix). */
  addPv(name: string, spec: PvSpec): ServedPv {
    return this.provider.add(this.prefix + name, spec);
  }

  get tcpPort(): number {
    return this.server.tcpPort;
  }

  get udpPort(): number {
    return this.server.udpPort;
  }

  get clientCount(): number {
    return this.server.clientCount;
  }

  start(): Promise<void> {
    return this.server.start();
  }

  stop(): Promise<void> {
    return this.server.stop();
  }
}

/** Declare PVs and start serving them. */
export async function serve(opts: ServeOptions): Promise<PvServer> {
  const s = new PvServer(opts);
  await s.start();
  return s;
}
