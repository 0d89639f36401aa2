/**
 * The record framework: field storage, dbPut-style writes with conversion and event posting,
 * dbProcess (disable check, record support process, asynchronous completion), alarms
 * (recGblSetSevr/recGblResetAlarms), time stamps, forward links, and per-field metadata for CA.
 */
import {
  AlarmStatus,
  DBE,
  DbrNative,
  ECA,
  EPICS_EPOCH_OFFSET,
  MAX_STRING_SIZE,
  Severity,
  type NativeType,
} from '../protocol/constants.js';
import type { EpicsTimeStamp, Limits, NativeArray } from '../protocol/values.js';
import { CaStatusError } from '../server/provider.js';
import {
  coerceToDbf,
  fitString,
  formatNumberText,
  isLink,
  nativeTypeOf,
  parseFloatText,
  type FieldDef,
} from './fields.js';
import { convertForPut, fieldMeta, loadFieldText, makeNumeric } from './field-access.js';
import { Link, type LinkResolver } from './links.js';

export { makeNumeric };

export type FieldValue = number | string;
export type Listener = (mask: number) => void;

/** Collects the completions of asynchronous processing started by one put or scan. */
export class ProcessContext {
  readonly pending: Promise<void>[] = [];
  add(p: Promise<void>): void {
    this.pending.push(p);
  }
  /** Resolves when everything added so far, and everything those add meanwhile, has completed. */
  async done(): Promise<void> {
    for (let i = 0; i < this.pending.length; i++) await this.pending[i];
  }
}

/** What records need from the database that holds them. */
export interface RecordEnv extends LinkResolver {
  /** Run `fn` after `seconds` (tracked so stop() cancels it). Returns a cancel function. */
  schedule(fn: () => void, seconds: number, onCancel?: () => void): () => void;
  /** SCAN/PHAS/EVNT changed. */
  scanChanged(rec: DbRecord): void;
  /** ASG changed. */
  accessChanged(rec: DbRecord): void;
  /** post_event: process the records with SCAN "Event" and this EVNT. */
  postEvent(name: string): number;
}

/** A record type: its fields and how to make an instance. */
export interface RecordTypeDef {
  readonly name: string;
  readonly fields: readonly FieldDef[];
  readonly fieldMap: ReadonlyMap<string, FieldDef>;
  readonly deviceTypes: readonly string[];
  create(name: string, env: RecordEnv): DbRecord;
}

/** Access to an array-valued field (waveform VAL, lsi VAL ...). */
export interface ArrayField {
  readonly nativeType: NativeType;
  /** Maximum element count (the channel's element count). */
  readonly nelm: number;
  /** menuFtype index of the elements, when the field has one (1: CHAR, signed, served as DBR_CHAR). */
  readonly ftvl?: number;
  get(): { value: NativeArray; count: number };
  put(value: NativeArray, dbrType: number): void;
}

/** Metadata of a field as CA reports it. */
export interface FieldMeta {
  units?: string;
  precision?: number;
  limits?: Limits;
  enumStrs?: string[];
  /** Text for an enum value without a state string ("Illegal_Value" for bi/bo, "" for mbb*). */
  enumUndefined?: string;
}

/** The time stamp of a record never processed (shared, never modified: stamp() replaces it). */
const NO_TIME: EpicsTimeStamp = Object.freeze({ secPastEpoch: 0, nsec: 0 });
/** The links of a record without any. */
const NO_LINKS: ReadonlyMap<string, Link> = new Map();

/** performance.timeOrigin, read once (its getter is slow and it does not change). */
const TIME_ORIGIN = performance.timeOrigin;

/** Current time as an EPICS time stamp (µs resolution). */
export function nowStamp(): EpicsTimeStamp {
  const ms = TIME_ORIGIN + performance.now();
  const sec = Math.floor(ms / 1000);
  return { secPastEpoch: sec - EPICS_EPOCH_OFFSET, nsec: Math.floor((ms - sec * 1000) * 1e6) };
}

/**
 * Per record type: a constructor of the field store (`v`) with one named store per field, so that
 * every record of the type has the same hidden class and its fields are fixed slots (keyed reads
 * like `num('VAL')` hit the inline caches instead of a dictionary), and the non-STRING fields
 * with an initial value to load through loadField.
 */
interface TypeDefaults {
  make: () => Record<string, FieldValue>;
  initial: FieldDef[];
}
const typeDefaults = new WeakMap<RecordTypeDef, TypeDefaults>();
/** Field names the generated store constructor takes (EPICS field names are of this form). */
const FIELD_NAME = /^[A-Z][A-Z0-9_]*$/;

function defaultsOf(def: RecordTypeDef): TypeDefaults {
  let d = typeDefaults.get(def);
  if (!d) {
    const values: FieldValue[] = [];
    const names: string[] = [];
    const stores: string[] = [];
    const initial: FieldDef[] = [];
    for (const fd of def.fields) {
      if (fd.dbf === 'NOACCESS') continue;
      stores.push(`this[${JSON.stringify(fd.name)}] = d[${values.length}];`);
      names.push(fd.name);
      if (isLink(fd.dbf)) values.push('');
      else if (fd.dbf === 'STRING') values.push(fd.initial ?? '');
      else values.push(0);
      if (fd.initial !== undefined && fd.dbf !== 'STRING') initial.push(fd);
    }
    let make: () => Record<string, FieldValue>;
    if (names.every((n) => FIELD_NAME.test(n))) {
      // a constructor generated from the field names: one named store (fixed slot) per field
      const Store = new Function('d', stores.join('\n')) as unknown as new (
        d: readonly FieldValue[],
      ) => Record<string, FieldValue>;
      // no Object.prototype behind the fields (a name that is no field reads as undefined)
      Store.prototype = Object.create(null) as object;
      make = () => new Store(values);
    } else {
      // (names no identifier could be: a plain store, slower but the same contents)
      make = () => {
        const v = Object.create(null) as Record<string, FieldValue>;
        names.forEach((n, i) => (v[n] = values[i]!));
        return v;
      };
    }
    d = { make, initial };
    typeDefaults.set(def, d);
  }
  return d;
}

export abstract class DbRecord {
  readonly v: Record<string, FieldValue>;
  /** Link objects, made when a link is set or first used (none for most records: no Map either). */
  private linkMap: Map<string, Link> | undefined;
  time: EpicsTimeStamp = NO_TIME;
  pact = false;
  rpro = false;
  /** Completion of the asynchronous processing in progress (while pact). */
  asyncDone?: Promise<void>;
  /** Monitor listeners per field name (made with the first one). */
  private listeners: Map<string, Set<Listener>> | undefined;
  /** Record-type specific choice strings of the DTYP field. */

  constructor(
    readonly name: string,
    readonly def: RecordTypeDef,
    readonly env: RecordEnv,
  ) {
    const defaults = defaultsOf(def);
    this.v = defaults.make();
    // Link objects are made when a link is set (loadField/putField) or first used (link()): an
    // empty link is a no-op to resolve, and 100,000 records do not carry ten empty links each.
    for (const fd of defaults.initial) this.loadField(fd, fd.initial!);
    this.v.NAME = name;
    this.v.RTYP = def.name;
  }

  // ---- field access helpers ----
  num(f: string): number {
    return this.v[f] as number;
  }
  str(f: string): string {
    return this.v[f] as string;
  }
  set(f: string, v: FieldValue): void {
    this.v[f] = v;
  }
  field(name: string): FieldDef | undefined {
    return this.def.fieldMap.get(name);
  }
  link(name: string): Link {
    let l = this.linkMap?.get(name);
    if (!l) {
      const fd = this.def.fieldMap.get(name);
      if (!fd || fd.dbf === 'NOACCESS' || !isLink(fd.dbf)) return l!;
      l = new Link(this, fd, '');
      this.setLink(name, l);
    }
    return l;
  }
  /** The link objects made so far (by name). */
  get links(): ReadonlyMap<string, Link> {
    return this.linkMap ?? NO_LINKS;
  }
  /** Install the link object of a link field. */
  setLink(name: string, l: Link): void {
    (this.linkMap ??= new Map()).set(name, l);
  }

  // ---- hooks for record support ----
  /** Array-valued fields (VAL of waveform etc.). */
  arrayField(_name: string): ArrayField | undefined {
    return undefined;
  }
  /** init_record, after every link is resolved. */
  initRecord(): void {}
  /** The record support's process(). Return true when processing went asynchronous (pact stays set). */
  protected abstract processRecord(ctx: ProcessContext | undefined): boolean;
  /** Before a put: throw CaStatusError to refuse the value (e.g. a bad CALC). */
  checkPut(_fd: FieldDef, _value: FieldValue): void {}
  /** After a put (special processing). */
  special(_fd: FieldDef): void {}
  /** Enum strings of the record's ENUM fields (VAL of bi/bo/mbbi/mbbo). */
  enumStrings(_fd: FieldDef): string[] {
    return [];
  }
  /**
   * The element count record support's get_array_info gives a string field served through
   * cvt_dbaddr (lsi/lso VAL: LEN), or undefined for a plain one-element field.
   */
  stringElements(_fd: FieldDef): number | undefined {
    return undefined;
  }
  /** The strings a put of text to an ENUM field matches (record support's put_enum_str). */
  putEnumStrings(fd: FieldDef): string[] {
    return this.enumStrings(fd);
  }
  /** Text of an enum value without a state string (`value`: the current value, when known). */
  enumUndefined(_value?: number): string {
    return '';
  }
  /**
   * cvt_dbaddr: the field as a new channel serves it (type and all); mbbo serves a VAL without
   * states as DBF_USHORT.
   */
  servedField(fd: FieldDef): FieldDef {
    return fd;
  }
  /** get_units: false for a field of VAL's type that still reports no EGU (ai.ASLO ...). */
  hasUnits(_fd: FieldDef): boolean {
    return true;
  }
  /** Size (with the NUL) of a string field; lsi/lso override it for VAL (SIZV). */
  fieldSize(fd: FieldDef): number {
    return fd.size;
  }

  // ---- monitors ----
  addListener(field: string, l: Listener): () => void {
    const m = (this.listeners ??= new Map());
    let s = m.get(field);
    if (!s) m.set(field, (s = new Set()));
    s.add(l);
    return () => {
      s.delete(l);
    };
  }
  post(field: string, mask: number): void {
    const s = this.listeners?.get(field);
    if (!s || s.size === 0) return;
    for (const l of s) l(mask);
  }
  postAll(mask: number): void {
    if (!this.listeners) return;
    for (const s of this.listeners.values()) for (const l of s) l(mask);
  }

  // ---- alarms ----
  setSevr(stat: number, sevr: number): boolean {
    if ((this.v.NSEV as number) < sevr) {
      this.v.NSTA = stat;
      this.v.NSEV = sevr;
      return true;
    }
    return false;
  }
  /** recGblResetAlarms: returns DBE_ALARM when status or severity changed. */
  resetAlarms(): number {
    const v = this.v;
    const prevStat = v.STAT as number;
    const prevSevr = v.SEVR as number;
    const newStat = v.NSTA as number;
    const newSevr = Math.min(v.NSEV as number, Severity.INVALID);
    v.STAT = newStat;
    v.SEVR = newSevr;
    v.NSTA = 0;
    v.NSEV = 0;
    let statMask = 0;
    if (prevSevr !== newSevr) {
      statMask = DBE.ALARM;
      this.post('SEVR', DBE.VALUE);
    }
    if (prevStat !== newStat) statMask |= DBE.VALUE;
    if (!statMask) return 0;
    this.post('STAT', statMask);
    if (!v.ACKT || newSevr >= (v.ACKS as number)) {
      v.ACKS = newSevr;
      this.post('ACKS', DBE.VALUE);
    }
    return DBE.ALARM;
  }

  /** recGblGetTimeStamp. */
  stamp(): void {
    if (this.v.TSE === -2) return;
    this.time = nowStamp();
  }

  // ---- processing ----
  /** dbProcess. */
  process(ctx?: ProcessContext): void {
    if (this.pact) return;
    // (a link field's text is '' exactly when its link is empty: no lookup then)
    if (this.v.SDIS !== '') {
      const sdis = this.link('SDIS');
      if (sdis.isReadable()) {
        const d = sdis.getNumber(ctx);
        if (d !== undefined) this.v.DISA = coerceToDbf('SHORT', d);
      }
    }
    if (this.v.DISA === this.v.DISV) {
      if (this.v.STAT === AlarmStatus.DISABLE) return;
      this.v.SEVR = this.v.DISS;
      this.v.STAT = AlarmStatus.DISABLE;
      this.v.NSEV = 0;
      this.v.NSTA = 0;
      this.post('STAT', DBE.VALUE);
      this.post('SEVR', DBE.VALUE);
      this.post('VAL', DBE.VALUE | DBE.ALARM);
      return;
    }
    this.pact = true;
    let async = false;
    try {
      async = this.processRecord(ctx);
    } finally {
      if (!async) this.pact = false;
    }
  }

  /** Processing requested by a scan or a CP link: a fresh context. */
  scanProcess(): void {
    this.process(new ProcessContext());
  }

  /** recGblFwdLink. */
  fwdLink(ctx: ProcessContext | undefined): void {
    if (this.v.FLNK !== '') this.link('FLNK').forward(ctx);
  }

  /**
   * Go asynchronous: completes after `seconds`, when `finish` runs (with its own context whose
   * work the completion also waits for). Reprocesses afterwards when a put arrived meanwhile (RPRO).
   */
  protected goAsync(
    ctx: ProcessContext | undefined,
    seconds: number,
    finish: (sub: ProcessContext) => void,
  ): void {
    const p = new Promise<void>((resolve) => {
      this.env.schedule(
        () => {
          const sub = new ProcessContext();
          try {
            finish(sub);
          } finally {
            this.endAsync(sub);
          }
          sub.done().then(resolve, resolve);
        },
        seconds,
        () => {
          this.pact = false;
          resolve();
        },
      );
    });
    this.asyncDone = p;
    ctx?.add(p);
  }

  /** End of asynchronous processing: clear PACT, reprocess when a put arrived meanwhile (RPRO). */
  protected endAsync(sub: ProcessContext): void {
    this.pact = false;
    if (this.rpro) {
      this.rpro = false;
      this.process(sub);
    }
  }

  // ---- dbPut ----
  /** Set a field from .db text. Throws Error with a message on bad text. */
  loadField(fd: FieldDef, text: string): void {
    loadFieldText(this, fd, text);
    // dbPutString: a VAL given in the database clears UDF (so iocInit keeps SEVR at NO_ALARM
    // while STAT stays UDF, as softIoc reports such records before they process)
    if (fd.name === 'VAL') this.v.UDF = 0;
  }

  /**
   * dbPut: convert a CA/link value to the field, run special processing and post events.
   * Does not process the record. Throws CaStatusError(ECA_PUTFAIL) on a bad value.
   */
  putField(fd: FieldDef, value: NativeArray, dbrType: number): void {
    const af = this.arrayField(fd.name);
    if (fd.dbf === 'NOACCESS' && !af)
      throw new CaStatusError(ECA.PUTFAIL, `${this.name}.${fd.name} is not accessible`);
    if (af) af.put(value, dbrType);
    else if (value.length === 0) {
      // dbPut of no element to a scalar: nothing stored, a LINK/INVALID alarm for the next processing
      this.setSevr(AlarmStatus.LINK, Severity.INVALID);
    } else {
      const nv = convertForPut(this, fd, value, dbrType);
      this.checkPut(fd, nv);
      if (isLink(fd.dbf)) {
        const old = this.linkMap?.get(fd.name);
        old?.dispose();
        const l = new Link(this, fd, nv as string, false);
        l.resolve(this.env);
        this.setLink(fd.name, l);
      }
      this.v[fd.name] = nv;
    }
    this.afterPut(fd);
  }

  /**
   * putField of one number to a field that stores a number (not an array, link, string, menu,
   * device, enum or NOACCESS field; see `storesNumber`): the same conversion, without an array.
   */
  putNumber(fd: FieldDef, x: number): void {
    const nv = coerceToDbf(fd.dbf, x);
    this.checkPut(fd, nv);
    this.v[fd.name] = nv;
    this.afterPut(fd);
  }

  /** Whether putNumber applies to a field. */
  storesNumber(fd: FieldDef): boolean {
    const t = nativeTypeOf(fd.dbf);
    return (
      fd.dbf !== 'NOACCESS' &&
      t !== DbrNative.STRING &&
      t !== DbrNative.ENUM &&
      !isLink(fd.dbf) &&
      !this.arrayField(fd.name)
    );
  }

  /** What dbPut does after storing a value: special, scan and access changes, monitors. */
  private afterPut(fd: FieldDef): void {
    this.special(fd);
    if (fd.name === 'SCAN' || fd.name === 'PHAS' || fd.name === 'EVNT') this.env.scanChanged(this);
    if (fd.name === 'ASG') this.env.accessChanged(this);
    const isVal = fd.name === 'VAL';
    if (isVal) this.v.UDF = 0;
    if (!(isVal && fd.pp)) this.post(fd.name, DBE.VALUE | DBE.LOG);
    if (fd.prop) this.postAll(DBE.PROPERTY);
  }

  // ---- reads (links and CA) ----
  /** Value of a field as a number (link reads). */
  readNumber(fd: FieldDef): number {
    const af = this.arrayField(fd.name);
    if (af) {
      const { value, count } = af.get();
      if (count === 0) return 0;
      const x = value[0]!;
      return typeof x === 'string' ? parseFloatText(x) : x;
    }
    const x = this.v[fd.name];
    if (typeof x === 'string') return isLink(fd.dbf) ? 0 : parseFloatText(x);
    return x ?? 0;
  }

  /** Value of a field as DBR_STRING text. */
  readString(fd: FieldDef): string {
    const af = this.arrayField(fd.name);
    if (af) {
      const { value, count } = af.get();
      if (count === 0) return '';
      const x = value[0]!;
      return typeof x === 'string' ? x : formatNumberText(x, this.meta(fd).precision);
    }
    if (isLink(fd.dbf)) return this.link(fd.name).display();
    const x = this.v[fd.name];
    if (typeof x === 'string') return x;
    switch (fd.dbf) {
      case 'MENU':
        return fd.menu![x!] ?? String(x);
      case 'DEVICE':
        return this.def.deviceTypes[x!] ?? String(x);
      case 'ENUM': {
        const strs = this.enumStrings(fd);
        return x! < strs.length ? strs[x!]! : this.enumUndefined(x!);
      }
      case 'FLOAT':
      case 'DOUBLE':
        return formatNumberText(x!, this.meta(fd).precision);
      default:
        return String(x);
    }
  }

  /** Up to `max` elements of a field converted to the CA array type `type`. */
  readArray(fd: FieldDef, type: number, max: number): NativeArray {
    const af = this.arrayField(fd.name);
    if (!af) {
      if (type === DbrNative.STRING) return [this.readString(fd)];
      return makeNumeric(type, [this.readNumber(fd)]);
    }
    const { value, count } = af.get();
    const n = Math.min(count, max);
    if (type === DbrNative.STRING) {
      const out: string[] = new Array<string>(n);
      for (let i = 0; i < n; i++) {
        const x = value[i]!;
        out[i] = typeof x === 'string' ? x : formatNumberText(x);
      }
      return out;
    }
    if (Array.isArray(value)) {
      const nums = new Array<number>(n);
      for (let i = 0; i < n; i++) nums[i] = parseFloatText(value[i]!);
      return makeNumeric(type, nums);
    }
    const out = makeNumeric(type, n) as Exclude<NativeArray, string[]>;
    out.set(value.subarray(0, n) as ArrayLike<number>);
    return out;
  }

  /** The CA-native value of a field: {value (length = count), count}. */
  getValue(fd: FieldDef): { value: NativeArray; count: number } {
    const af = this.arrayField(fd.name);
    if (af) return af.get();
    const t = nativeTypeOf(fd.dbf);
    if (t === DbrNative.STRING) return { value: [fitString(this.readString(fd), MAX_STRING_SIZE)], count: 1 };
    const x = this.v[fd.name];
    return { value: makeNumeric(t, [typeof x === 'number' ? x : 0]), count: 1 };
  }

  /** Metadata (units, precision, limits, enum strings) of a field. */
  meta(fd: FieldDef): FieldMeta {
    return fieldMeta(this, fd);
  }

  /** Whether an array VAL holds FLOAT/DOUBLE (for precision). */
  isFloatArray(): boolean {
    return false;
  }
}
