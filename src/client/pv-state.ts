/**
 * The PV object's cached state: merging DBR results into it, the value's string form (pyepics'
 * char_value) and the synchronous read-only properties over it. PV (pv.ts) extends this class.
 */
import { ALARM_STATUS_NAMES, EPICS_EPOCH_OFFSET, SEVERITY_NAMES } from '../protocol/constants.js';
import type { DbrData, NativeArray } from '../protocol/values.js';
import type { ScalarDbr } from '../protocol/dbr-scalar.js';
import type { Channel, GetResult } from './channel.js';
import { floatCharValue } from './pv-format.js';
import { AUTOMONITOR_LENGTH, LIMIT_KEYS, fullData } from './pv-types.js';
import type { PVData, PVValue } from './pv-types.js';

/** The cached data of a PV and the properties that read it (no network). */
export class PVState {
  // declared only: PV defines these fields (in its own field order)
  declare protected data: PVData;
  declare protected ch: Channel;

  // ------------------------------------------------------------------ data

  protected merge(d: GetResult, ftype: number, clientStamp: boolean): void {
    const a = this.data;
    a.value = this.shape(d.value);
    a.count = d.count;
    if (d.status !== undefined) a.status = d.status;
    if (d.severity !== undefined) a.severity = d.severity;
    if (d.stamp) {
      const secs = d.stamp.secPastEpoch + EPICS_EPOCH_OFFSET;
      a.posixseconds = secs;
      a.nanoseconds = d.stamp.nsec;
      a.timestamp = secs + 1e-6 * Math.floor(d.stamp.nsec / 1000);
    } else if (clientStamp) {
      a.timestamp = Date.now() / 1000;
      a.posixseconds = 0;
      a.nanoseconds = 0;
    }
    this.mergeMeta(d);
    void ftype;
  }

  /** merge() of a one-element plain / STS / TIME update, for a PV whose value is a scalar (nelm <= 1). */
  protected mergeScalar(d: ScalarDbr, clientStamp: boolean): void {
    const a = this.data;
    a.value = d.value;
    a.count = 1;
    if (d.hasAlarm) {
      a.status = d.status;
      a.severity = d.severity;
    }
    if (d.hasStamp) {
      const secs = d.secPastEpoch + EPICS_EPOCH_OFFSET;
      a.posixseconds = secs;
      a.nanoseconds = d.nsec;
      a.timestamp = secs + 1e-6 * Math.floor(d.nsec / 1000);
    } else if (clientStamp) {
      a.timestamp = Date.now() / 1000;
      a.posixseconds = 0;
      a.nanoseconds = 0;
    }
  }

  protected mergeMeta(d: DbrData): void {
    const a = this.data;
    if (d.units !== undefined) a.units = d.units;
    if (d.precision !== undefined) a.precision = d.precision;
    if (d.enumStrs !== undefined) a.enumStrs = [...d.enumStrs];
    for (let i = 0; i < LIMIT_KEYS.length; i++) {
      const k = LIMIT_KEYS[i]!;
      if (d[k] !== undefined) a[k] = d[k];
    }
  }

  /** A NativeArray as the PV's value: scalar for one-element channels, the array otherwise. */
  protected shape(v: NativeArray): PVValue {
    if (this.data.nelm > 1) return v as PVValue;
    if (Array.isArray(v)) return v[0] ?? '';
    return v.length ? v[0] : 0;
  }

  /** char_value from the cached data (no network). */
  protected computeCharValue(asString = false): string | string[] | undefined {
    const a = this.data;
    const v = a.value;
    if (v === undefined) return 'None';
    const native = this.ch.nativeType;
    if (native === 0) return v as string | string[];
    const n = typeof v === 'number' ? 1 : (v as ArrayLike<unknown>).length;
    if (native === 4 && (a.count < AUTOMONITOR_LENGTH || asString)) {
      const bytes = typeof v === 'number' ? Uint8Array.of(v) : (v as Uint8Array);
      let end = bytes.indexOf(0);
      if (end < 0) end = bytes.length;
      return Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('utf8').trimEnd();
    }
    if (this.data.nelm > 1 || n > 1) return `<array size=${n}, type=${a.type}>`;
    const x = typeof v === 'number' ? v : Number((v as ArrayLike<number>)[0]);
    if (native === 2 || native === 6) return floatCharValue(x, a.precision);
    if (native === 3) return a.enumStrs && x < a.enumStrs.length ? a.enumStrs[x] : String(x);
    return String(x);
  }

  // ------------------------------------------------------------------ properties (cached state)

  get charValue(): string | string[] | undefined {
    return this.data.value === undefined ? undefined : this.computeCharValue();
  }
  get count(): number {
    return this.data.count;
  }
  get nelm(): number {
    return this.data.nelm;
  }
  get ftype(): number {
    return this.data.ftype;
  }
  get type(): string {
    return this.data.type;
  }
  get typefull(): string {
    return this.data.typefull;
  }
  get host(): string {
    return this.data.host;
  }
  get chid(): number {
    return this.data.chid;
  }
  get units(): string | undefined {
    return this.data.units;
  }
  get precision(): number | undefined {
    return this.data.precision;
  }
  get enumStrs(): string[] | undefined {
    return this.data.enumStrs;
  }
  get status(): number | undefined {
    return this.data.status;
  }
  get charStatus(): string | undefined {
    const s = this.data.status;
    return s === undefined ? undefined : (ALARM_STATUS_NAMES[s] ?? 'UNKNOWN');
  }
  get severity(): number | undefined {
    return this.data.severity;
  }
  get charSeverity(): string | undefined {
    const s = this.data.severity;
    return s === undefined ? undefined : (SEVERITY_NAMES[s] ?? 'UNKNOWN');
  }
  get timestamp(): number | undefined {
    return this.data.timestamp;
  }
  get posixseconds(): number | undefined {
    return this.data.posixseconds;
  }
  get nanoseconds(): number | undefined {
    return this.data.nanoseconds;
  }
  get readAccess(): boolean {
    return this.data.readAccess;
  }
  get writeAccess(): boolean {
    return this.data.writeAccess;
  }
  get access(): string {
    return this.data.access;
  }
  get accessString(): string {
    return this.data.accessString;
  }
  get monitorDelta(): number | undefined {
    return this.data.monitorDelta;
  }
  get upperDispLimit(): number | undefined {
    return this.data.upperDispLimit;
  }
  get lowerDispLimit(): number | undefined {
    return this.data.lowerDispLimit;
  }
  get upperAlarmLimit(): number | undefined {
    return this.data.upperAlarmLimit;
  }
  get lowerAlarmLimit(): number | undefined {
    return this.data.lowerAlarmLimit;
  }
  get upperWarningLimit(): number | undefined {
    return this.data.upperWarningLimit;
  }
  get lowerWarningLimit(): number | undefined {
    return this.data.lowerWarningLimit;
  }
  get upperCtrlLimit(): number | undefined {
    return this.data.upperCtrlLimit;
  }
  get lowerCtrlLimit(): number | undefined {
    return this.data.lowerCtrlLimit;
  }

  /** Merge a reply's time stamp (a DBR_TIME / DBR_CTRL_STRING read), if it has one. */
  protected applyStamp(r: DbrData): void {
    if (!r.stamp) return;
    const secs = r.stamp.secPastEpoch + EPICS_EPOCH_OFFSET;
    this.data.posixseconds = secs;
    this.data.nanoseconds = r.stamp.nsec;
    this.data.timestamp = secs + 1e-6 * Math.floor(r.stamp.nsec / 1000);
  }

  /** The control metadata of the channel's native type, as getCtrlVars returns it. */
  protected ctrlSnapshot(): Partial<PVData> {
    const a = this.data;
    const out: Partial<PVData> = { status: a.status, severity: a.severity };
    const native = this.ch.nativeType;
    if (native === 3) out.enumStrs = a.enumStrs;
    else if (native === 0) {
      out.timestamp = a.timestamp;
      out.posixseconds = a.posixseconds;
      out.nanoseconds = a.nanoseconds;
    } else {
      out.units = a.units;
      if (native === 2 || native === 6) out.precision = a.precision;
      for (const k of LIMIT_KEYS) out[k] = a[k];
    }
    return out;
  }

  /** A copy of everything known (pyepics' _args). */
  snapshot(): PVData {
    const d = fullData(this.data);
    d.charValue = this.charValue;
    return d;
  }
}
