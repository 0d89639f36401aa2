/**
 * The PV object's public types and constants: PVData (the cached state, pyepics' callback keywords),
 * callback and option types, and the empty state a PV starts from.
 */
import { DBE } from '../protocol/constants.js';
import type { NativeArray } from '../protocol/values.js';
import type { Channel } from './channel.js';
import type { Context } from './context.js';
import type { PV } from './pv.js';

/** Arrays with this many elements or more are not monitored automatically (fetched on demand). */
export const AUTOMONITOR_LENGTH = 65536;
/** Default seconds to wait for a connection (pyepics' ca.DEFAULT_CONNECTION_TIMEOUT). */
export const DEFAULT_CONNECTION_TIMEOUT = 2.0;
/** DBE_VALUE | DBE_ALARM. */
export const DEFAULT_SUBSCRIPTION_MASK = DBE.VALUE | DBE.ALARM;

export type PVForm = 'native' | 'time' | 'ctrl';

/** A PV value: number (scalars), string (STRING scalars), typed array or string[] (arrays). */
export type PVValue = number | string | string[] | Exclude<NativeArray, string[]>;

/** Everything known about a PV, as pyepics' callback keywords in camelCase. */
export interface PVData {
  pvname: string;
  value: PVValue | undefined;
  /** String form of the value (pyepics' char_value). */
  charValue: string | string[] | undefined;
  status: number | undefined;
  severity: number | undefined;
  /** DBR type code of the PV's requests (20 = TIME_DOUBLE for form 'time'). */
  ftype: number;
  /** Lower-case DBR type name ('time_double'). */
  type: string;
  typefull: string;
  /** Client channel id. */
  chid: number;
  host: string;
  /** Elements in this update (current length). */
  count: number;
  /** Native element count. */
  nelm: number;
  /** 'read/write' | 'read-only' | 'write-only' | 'no access'. */
  access: string;
  accessString: string;
  readAccess: boolean;
  writeAccess: boolean;
  /** POSIX seconds (µs resolution); client time for forms 'native' and 'ctrl'. */
  timestamp: number | undefined;
  posixseconds: number | undefined;
  nanoseconds: number | undefined;
  precision: number | undefined;
  units: string | undefined;
  enumStrs: string[] | undefined;
  monitorDelta: number | undefined;
  upperDispLimit: number | undefined;
  lowerDispLimit: number | undefined;
  upperAlarmLimit: number | undefined;
  lowerAlarmLimit: number | undefined;
  upperWarningLimit: number | undefined;
  lowerWarningLimit: number | undefined;
  upperCtrlLimit: number | undefined;
  lowerCtrlLimit: number | undefined;
}

/** What a value callback receives: PVData + the PV, the underlying channel, cbInfo and user keywords. */
export interface PVCallbackArgs extends PVData {
  pv: PV;
  channel: Channel;
  /** [callback index, pv]. */
  cbInfo: [number | string, PV];
  [key: string]: unknown;
}

export type PVCallback = (args: PVCallbackArgs) => void;
export type ConnectionCallback = (args: { pvname: string; conn: boolean; pv: PV }) => void;
export type AccessCallback = (args: {
  pvname: string;
  readAccess: boolean;
  writeAccess: boolean;
  pv: PV;
}) => void;

export interface PVOptions {
  callback?: PVCallback | PVCallback[];
  /** 'time' (default): DBR_TIME requests; 'ctrl': DBR_CTRL; 'native': plain. */
  form?: PVForm;
  /** undefined: monitor when count < AUTOMONITOR_LENGTH; false: never; true: mask VALUE|ALARM; a number: that mask. */
  autoMonitor?: boolean | number;
  /** Cap on the element count of gets and of the subscription. */
  count?: number;
  connectionCallback?: ConnectionCallback;
  /** Seconds (default 2). */
  connectionTimeout?: number;
  accessCallback?: AccessCallback;
  context?: Context;
  /** pyepics' monitor_delta (kept and reported; not applied, as in pyepics). */
  monitorDelta?: number;
}

export interface PVGetOptions {
  /** Return the string form (charValue). */
  asString?: boolean;
  /** Elements to read (default: the PV's count cap, else the current length). */
  count?: number;
  /** Use the monitored value when there is one (default true). */
  useMonitor?: boolean;
  /** Seconds to wait (connection and read). */
  timeout?: number;
  /** Fetch control metadata first (getWithMetadata includes it). */
  withCtrlvars?: boolean;
  /** One-off request form. */
  form?: PVForm;
}

/** getWithMetadata's result: the value (or its string form) and the metadata of the read. */
export type PVGetResult = Omit<Partial<PVData>, 'value'> & { value: PVValue | string | string[] | undefined };

export interface PVPutOptions {
  /** Wait for completion (put-callback). */
  wait?: boolean;
  /** Seconds (default 30). */
  timeout?: number;
  /** Called as callback({pvname, ...callbackData}) on completion (put-callback in the background). */
  callback?: (args: { pvname: string; [key: string]: unknown }) => void;
  callbackData?: unknown;
  /** Track completion in pv.putComplete. */
  useComplete?: boolean;
}

export interface AddCallbackOptions {
  index?: number | string;
  /** Fetch control metadata (precision, enum strings) first (default true). */
  withCtrlvars?: boolean;
  /** Run the callback at once with the current data when connected. */
  runNow?: boolean;
  /** Extra keywords passed to the callback. */
  [key: string]: unknown;
}

/** A registered value callback. */
export interface Cb {
  index: number | string;
  fn: PVCallback;
  kw: Record<string, unknown>;
  withCtrlvars: boolean;
}

/**
 * The state of a PV before it connects (or after disconnect()). Internally the state is sparse: the
 * metadata keys that most PVs never get (units, precision, enum strings, limits, monitorDelta) are
 * added when first known (memory per PV); `fullData` gives the complete PVData.
 */
export function emptyData(pvname: string): PVData {
  const d = {
    pvname,
    value: undefined,
    charValue: undefined,
    status: undefined,
    severity: undefined,
    ftype: -1,
    type: 'unknown',
    typefull: 'unknown',
    chid: 0,
    host: '',
    count: 0,
    nelm: 0,
    access: 'no access',
    accessString: 'no access',
    readAccess: false,
    writeAccess: false,
    timestamp: undefined,
    posixseconds: undefined,
    nanoseconds: undefined,
  };
  return d as PVData;
}

/** A complete copy of (possibly sparse) PV state: every PVData key, in the order of the interface. */
export function fullData(a: PVData): PVData {
  return {
    pvname: a.pvname,
    value: a.value,
    charValue: a.charValue,
    status: a.status,
    severity: a.severity,
    ftype: a.ftype,
    type: a.type,
    typefull: a.typefull,
    chid: a.chid,
    host: a.host,
    count: a.count,
    nelm: a.nelm,
    access: a.access,
    accessString: a.accessString,
    readAccess: a.readAccess,
    writeAccess: a.writeAccess,
    timestamp: a.timestamp,
    posixseconds: a.posixseconds,
    nanoseconds: a.nanoseconds,
    precision: a.precision,
    units: a.units,
    enumStrs: a.enumStrs,
    monitorDelta: a.monitorDelta,
    upperDispLimit: a.upperDispLimit,
    lowerDispLimit: a.lowerDispLimit,
    upperAlarmLimit: a.upperAlarmLimit,
    lowerAlarmLimit: a.lowerAlarmLimit,
    upperWarningLimit: a.upperWarningLimit,
    lowerWarningLimit: a.lowerWarningLimit,
    upperCtrlLimit: a.upperCtrlLimit,
    lowerCtrlLimit: a.lowerCtrlLimit,
  };
}

/** The control-limit keys of PVData / DbrData. */
export const LIMIT_KEYS = [
  'upperDispLimit',
  'lowerDispLimit',
  'upperAlarmLimit',
  'lowerAlarmLimit',
  'upperWarningLimit',
  'lowerWarningLimit',
  'upperCtrlLimit',
  'lowerCtrlLimit',
] as const;

/** An iterator over the updates of a PV (see PV.monitor()). */
export interface PVMonitorOptions {
  /** Updates kept while the consumer is busy; older ones are dropped (default 1: latest wins). */
  queueSize?: number;
  /** Start with the current value when one is known (default true). */
  current?: boolean;
  signal?: AbortSignal;
}
