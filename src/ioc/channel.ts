/**
 * A CA channel onto one record field: `REC`, `REC.FIELD`, or `REC.FIELD$` (a string or link field
 * served as a CHAR array). Snapshots carry the record's alarm state and time stamp and the field's
 * metadata; writes go through dbPutField semantics (conversion, processing of Passive records,
 * completion when the processing chain it started has finished).
 */
import { DBR, DBE, DbrNative, ECA, MAX_ENUM_STATES, type NativeType } from '../protocol/constants.js';
import type { NativeArray } from '../protocol/values.js';
import {
  CaStatusError,
  type ChannelSnapshot,
  type ClientIdentity,
  type ScalarState,
  type ServedChannel,
  type StringEnumRead,
} from '../server/provider.js';
import { charsToString, isLink, nativeTypeOf, stringToChars, type FieldDef } from './fields.js';
import { ProcessContext, makeNumeric, type DbRecord } from './record.js';

/** Size of a link field read as a CHAR array (PVLINK_STRINGSZ). */
const LINK_CHARS = 1024;
/** Record types whose record support has put_enum_str. */
const PUT_ENUM_STR = new Set(['bi', 'bo', 'mbbi', 'mbbo']);
/** Integer field types CA serves as DOUBLE. */
const WIDE_INTEGER = new Set(['ULONG', 'INT64', 'UINT64']);

/** The database services a channel uses. */
export interface ChannelHost {
  rightsFor(rec: DbRecord, fd: FieldDef, client: ClientIdentity): number;
  onRightsChange(rec: DbRecord, listener: () => void): () => void;
}

/** Snapshot with the extra text RSRV shows for an enum value without a state string. */
export interface IocSnapshot extends ChannelSnapshot {
  enumUndefinedString?: string;
  /** A link field (dbGet of a link: DBR_STRING, or DBR_CHAR as count-1 characters + NUL). */
  linkText?: boolean;
  /**
   * A long-string (`.FIELD$`) channel: `count` is strlen + 1 (what a count-0 read answers) but an
   * explicit count reads the whole NUL-padded buffer, and a shorter read still ends with a NUL.
   */
  nulTerminated?: boolean;
  /** A link field as a long string (`.INPA$`): base's getLinkValue rules (see server/read-value.ts). */
  linkChars?: boolean;
  /** FTVL CHAR (epicsInt8) elements: converted to other types as signed numbers. */
  signedChars?: boolean;
}

const ASL0 = new Set(['VAL', 'ODLY', 'DLYA', 'OEVT', 'OVAL', 'POVL']);

/** Access security level of a field: 0 for the operational fields (asl(ASL0) in the dbd), else 1. */
export function fieldAsl(fd: FieldDef): number {
  return ASL0.has(fd.name) || /^B[0-9A-F]{1,2}$/.test(fd.name) ? 0 : 1;
}

export class FieldChannel implements ServedChannel {
  readonly nativeType: NativeType;
  readonly elementCount: number;
  readonly className: string;
  readonly asl: number;
  /** FTVL CHAR elements: signed in every conversion, though DBR_CHAR carries their bytes. */
  private readonly signedChars: boolean;
  /** ULONG/INT64/UINT64 values served as DOUBLE (see ServedChannel.integerValues). */
  readonly integerValues: boolean;
  /** putFieldNow always copies the value into the record: the server may lend pooled memory. */
  readonly writeNowCopies = true;
  /** The field as this channel serves it (record support's cvt_dbaddr may change its type). */
  readonly fd: FieldDef;
  /** A numeric (not ENUM) scalar field: reads can take the server's allocation-free path. */
  private readonly numericScalar: boolean;
  /** A field that stores a number: puts of one number can skip the value array (putNumber). */
  private readonly numberStore: boolean;

  constructor(
    readonly name: string,
    readonly rec: DbRecord,
    field: FieldDef,
    /** `$` suffix: string/link field as a CHAR array. */
    readonly longString: boolean,
    private readonly host: ChannelHost,
  ) {
    this.className = rec.def.name;
    const fd = longString ? field : rec.servedField(field);
    this.fd = fd;
    this.asl = fieldAsl(fd);
    const af = rec.arrayField(fd.name);
    this.signedChars = !longString && af?.ftvl === 1;
    if (longString) {
      this.nativeType = DbrNative.CHAR;
      this.elementCount = af ? af.nelm : isLink(fd.dbf) ? LINK_CHARS : rec.fieldSize(fd);
    } else if (af) {
      this.nativeType = af.nativeType;
      this.elementCount = af.nelm;
    } else {
      this.nativeType = nativeTypeOf(fd.dbf);
      this.elementCount = 1;
    }
    this.integerValues =
      !longString &&
      this.nativeType === DbrNative.DOUBLE &&
      (af ? af.ftvl !== undefined && af.ftvl >= 6 && af.ftvl <= 8 : WIDE_INTEGER.has(fd.dbf));
    this.numericScalar =
      !longString &&
      !af &&
      !isLink(fd.dbf) &&
      this.nativeType !== DbrNative.STRING &&
      this.nativeType !== DbrNative.ENUM;
    this.numberStore = !longString && rec.storesNumber(fd);
  }

  readScalar(out: ScalarState): boolean {
    if (!this.numericScalar) return false;
    const v = this.rec.v;
    const x = v[this.fd.name];
    // as getValue: a non-number reads as 0
    out.value = typeof x === 'number' ? x : 0;
    out.status = v.STAT as number;
    out.severity = v.SEVR as number;
    const t = this.rec.time;
    out.secPastEpoch = t.secPastEpoch;
    out.nsec = t.nsec;
    return true;
  }

  get asg(): string {
    return this.rec.str('ASG') || 'DEFAULT';
  }

  snapshot(): IocSnapshot {
    const rec = this.rec;
    const v = rec.v;
    let value: NativeArray;
    let count: number;
    if (this.longString) {
      const s = rec.readString(this.fd);
      // the text and its NUL (what a count-0 DBR_CHAR read answers); read-value.ts zero-pads the
      // rest of the field for longer reads
      count = Math.min(Buffer.byteLength(s, 'latin1') + 1, this.elementCount);
      value = stringToChars(s, this.elementCount).subarray(0, count);
    } else {
      const r = rec.getValue(this.fd);
      value = r.value;
      count = r.count;
    }
    const snap: IocSnapshot = {
      value,
      count,
      status: v.STAT as number,
      severity: v.SEVR as number,
      stamp: rec.time,
      ackt: v.ACKT as number,
      acks: v.ACKS as number,
    };
    if (this.longString) {
      snap.nulTerminated = true;
      if (isLink(this.fd.dbf)) snap.linkChars = true;
      return snap;
    }
    if (isLink(this.fd.dbf)) snap.linkText = true;
    if (this.signedChars) snap.signedChars = true;
    const m = rec.meta(this.fd);
    if (m.units !== undefined) snap.units = m.units;
    if (m.precision !== undefined) snap.precision = m.precision;
    if (m.enumUndefined !== undefined) snap.enumUndefinedString = m.enumUndefined;
    if (m.enumStrs) {
      if (m.enumStrs.length > MAX_ENUM_STATES) {
        snap.enumStrs = m.enumStrs.slice(0, MAX_ENUM_STATES);
        // CA carries 16 states, but a DBR_STRING read of a menu index past them (STAT UDF = 17,
        // DISABLE ...) still gives its text, as base's dbGet does
        const i = Number(value[0]);
        if (count === 1 && i >= MAX_ENUM_STATES && i < m.enumStrs.length)
          snap.enumUndefinedString = m.enumStrs[i];
      } else snap.enumStrs = m.enumStrs;
    }
    const l = m.limits;
    if (l) {
      snap.upperDispLimit = l.upperDispLimit;
      snap.lowerDispLimit = l.lowerDispLimit;
      snap.upperAlarmLimit = l.upperAlarmLimit;
      snap.upperWarningLimit = l.upperWarningLimit;
      snap.lowerWarningLimit = l.lowerWarningLimit;
      snap.lowerAlarmLimit = l.lowerAlarmLimit;
      snap.upperCtrlLimit = l.upperCtrlLimit;
      snap.lowerCtrlLimit = l.lowerCtrlLimit;
    }
    return snap;
  }

  /** dbGet's choice for a read of this string field as DBR_ENUM, from its element count. */
  stringEnumRead(count: number): StringEnumRead | undefined {
    if (this.nativeType !== DbrNative.STRING || this.longString || isLink(this.fd.dbf)) return undefined;
    const rec = this.rec;
    const n = rec.arrayField(this.fd.name) ? count : (rec.stringElements(this.fd) ?? 1);
    if (n === 0) return 'zero';
    if (n > 1) return 'array';
    return PUT_ENUM_STR.has(rec.def.name) ? rec.enumStrings(rec.def.fieldMap.get('VAL')!).length : 'fail';
  }

  write(value: NativeArray, dbrType: number, client: ClientIdentity): Promise<void> {
    try {
      return this.writeNow(value, dbrType, client) ?? Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  writeNow(value: NativeArray, dbrType: number, client: ClientIdentity): Promise<void> | undefined {
    try {
      if ((this.accessRights(client) & 2) === 0)
        throw new CaStatusError(ECA.NOWTACCESS, `${this.name}: write access denied`);
      return putFieldNow(this.rec, this.fd, this.longString, value, dbrType);
    } catch (e) {
      throw e instanceof CaStatusError ? e : new CaStatusError(ECA.PUTFAIL, (e as Error).message);
    }
  }

  writeScalarNow(x: number, dbrType: number, client: ClientIdentity): Promise<void> | undefined {
    if (dbrType === DbrNative.STRING) return this.writeNow([String(x)], dbrType, client);
    if (!this.numberStore || dbrType < 0 || dbrType > DbrNative.DOUBLE)
      return this.writeNow(makeNumeric(dbrType, [x]), dbrType, client);
    try {
      if ((this.accessRights(client) & 2) === 0)
        throw new CaStatusError(ECA.NOWTACCESS, `${this.name}: write access denied`);
      const rec = this.rec;
      const fd = this.fd;
      checkPutAllowed(rec, fd);
      rec.putNumber(fd, x);
      return processAfterPut(rec, fd);
    } catch (e) {
      throw e instanceof CaStatusError ? e : new CaStatusError(ECA.PUTFAIL, (e as Error).message);
    }
  }

  subscribe(listener: (mask: number) => void): () => void {
    return this.rec.addListener(this.fd.name, listener);
  }

  accessRights(client: ClientIdentity): number {
    // RTYP is base's pseudo-field: access security grants write, the put itself fails (PUTFAIL)
    if (this.fd.nomod && this.fd.name !== 'RTYP') return 1;
    if (this.fd.dbf === 'NOACCESS' && !this.rec.arrayField(this.fd.name)) return 1;
    return this.host.rightsFor(this.rec, this.fd, client) & 3;
  }

  onAccessRightsChange(listener: () => void): () => void {
    return this.host.onRightsChange(this.rec, listener);
  }
}

/**
 * dbPutField: the whole write path of a CA put (also used by the IOC API): ACKT/ACKS, read-only
 * and DISP checks, conversion, processing when the field is PROC or pp(TRUE) on a Passive record.
 * Resolves when that processing (including asynchronous records it started) has completed.
 */
export function putField(
  rec: DbRecord,
  fd: FieldDef,
  longString: boolean,
  value: NativeArray,
  dbrType: number,
): Promise<void> {
  return putFieldNow(rec, fd, longString, value, dbrType) ?? Promise.resolve();
}

/**
 * putField without a promise when nothing is left to wait for: undefined once the write (and the
 * processing it started) has completed synchronously, else the completion. Throws as putField.
 */
export function putFieldNow(
  rec: DbRecord,
  fd: FieldDef,
  longString: boolean,
  value: NativeArray,
  dbrType: number,
): Promise<void> | undefined {
  if (dbrType === DBR.PUT_ACKT || dbrType === DBR.PUT_ACKS) {
    const n = value.length ? Number(value[0]) : 0;
    if (dbrType === DBR.PUT_ACKT) {
      rec.v.ACKT = n ? 1 : 0;
      rec.post('ACKT', DBE.VALUE);
      if (!rec.v.ACKT && (rec.v.ACKS as number) > (rec.v.SEVR as number)) {
        rec.v.ACKS = rec.v.SEVR as number;
        rec.post('ACKS', DBE.VALUE);
      }
    } else if (n >= (rec.v.ACKS as number)) {
      rec.v.ACKS = 0;
      rec.post('ACKS', DBE.VALUE);
    }
    return undefined;
  }
  if (dbrType < 0 || dbrType > DbrNative.DOUBLE)
    throw new CaStatusError(ECA.BADTYPE, `bad DBR type ${dbrType}`);
  checkPutAllowed(rec, fd);
  if (longString && !rec.arrayField(fd.name)) {
    const s =
      dbrType === DbrNative.CHAR
        ? charsToString(value as Uint8Array)
        : dbrType === DbrNative.STRING && !isLink(fd.dbf)
          ? stringIntoChars(rec, fd, value)
          : String(value[0] ?? '');
    rec.putField(fd, [s], DbrNative.STRING);
  } else {
    rec.putField(fd, value, dbrType);
  }
  return processAfterPut(rec, fd);
}

/**
 * A DBR_STRING put to a string field served as characters (`.DESC$`): base converts the string to
 * one DBF_CHAR (cvt_st_c: an integer -128..127) stored in the first byte; any other text fails.
 */
function stringIntoChars(rec: DbRecord, fd: FieldDef, value: NativeArray): string {
  const text = String(value[0] ?? '');
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|\d+)\s*$/.exec(text);
  // strtol base 0: 0x hex, a leading 0 octal
  const digits = m?.[2] ?? '';
  const mag = /^0\d/.test(digits) ? (/^[0-7]+$/.test(digits) ? parseInt(digits, 8) : NaN) : Number(digits);
  const n = m ? (m[1] === '-' ? -1 : 1) * mag : NaN;
  if (!(n >= -128 && n <= 127))
    throw new CaStatusError(ECA.PUTFAIL, `${rec.name}.${fd.name}$: "${text}" is not a character code`);
  const old = rec.readString(fd);
  if (n === 0) return '';
  return String.fromCharCode(n & 0xff) + old.slice(1);
}

/** dbPutField's refusals of a put: a read-only field, puts disabled by DISP. */
function checkPutAllowed(rec: DbRecord, fd: FieldDef): void {
  if (fd.nomod)
    throw new CaStatusError(
      fd.name === 'RTYP' ? ECA.PUTFAIL : ECA.NOWTACCESS,
      `${rec.name}.${fd.name} is read only`,
    );
  if (rec.v.DISP && fd.name !== 'DISP')
    throw new CaStatusError(ECA.PUTFAIL, `${rec.name}: puts disabled (DISP)`);
}

/**
 * dbPutField after the value is stored: process the record when the field is PROC or pp(TRUE) on a
 * Passive record. Undefined once that has completed, else its completion.
 */
function processAfterPut(rec: DbRecord, fd: FieldDef): Promise<void> | undefined {
  if (!(fd.name === 'PROC' || (fd.pp && rec.v.SCAN === 0))) return undefined;
  // The context of a put that completes at once is used again by the next put (a put made while
  // one is in progress, from a monitor callback, takes a new one); one that is still waited for
  // is handed to the caller.
  const ctx = spareContext ?? new ProcessContext();
  spareContext = undefined;
  if (rec.pact) {
    rec.rpro = true;
    if (rec.asyncDone) ctx.add(rec.asyncDone);
  } else {
    rec.v.PUTF = 1;
    rec.process(ctx);
    rec.v.PUTF = 0;
  }
  if (ctx.pending.length) return ctx.done();
  spareContext = ctx;
  return undefined;
}

let spareContext: ProcessContext | undefined;
