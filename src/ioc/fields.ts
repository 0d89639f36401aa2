/**
 * Field definitions of record types: DBF types, menus, attributes (pp, prop, read-only), the mapping
 * of DBF types to CA native types (ca-protocol.md §12), and value conversions for .db text and for
 * CA writes (IOC rules: integer fields take a leading base-10 integer, float fields use strtod,
 * menus/enums take a choice string or an index).
 */
import { DbrNative, ECA, type NativeType } from '../protocol/constants.js';
import type { NativeArray } from '../protocol/values.js';
import { CaStatusError } from '../server/provider.js';
import {
  ConversionError,
  formatNumber,
  parseFloatString,
  parseIntegerString,
  type IntegerKind,
} from '../protocol/convert.js';

export type Dbf =
  | 'STRING'
  | 'CHAR'
  | 'UCHAR'
  | 'SHORT'
  | 'USHORT'
  | 'LONG'
  | 'ULONG'
  | 'INT64'
  | 'UINT64'
  | 'FLOAT'
  | 'DOUBLE'
  | 'ENUM'
  | 'MENU'
  | 'DEVICE'
  | 'INLINK'
  | 'OUTLINK'
  | 'FWDLINK'
  | 'NOACCESS';

export interface FieldDef {
  readonly name: string;
  readonly dbf: Dbf;
  /** Writing the field processes a Passive record (pp(TRUE)). */
  readonly pp: boolean;
  /** Writing the field posts DBE_PROPERTY (prop(YES)). */
  readonly prop: boolean;
  /** SPC_NOMOD: read only over CA and links. */
  readonly nomod: boolean;
  /** String size including the NUL (STRING fields). */
  readonly size: number;
  /** Menu choices (MENU fields). */
  readonly menu?: readonly string[];
  /** Initial value text. */
  readonly initial?: string;
}

export const MENUS: Record<string, readonly string[]> = {
  menuAlarmSevr: ['NO_ALARM', 'MINOR', 'MAJOR', 'INVALID'],
  menuAlarmStat: [
    'NO_ALARM', 'READ', 'WRITE', 'HIHI', 'HIGH', 'LOLO', 'LOW', 'STATE', 'COS', 'COMM', 'TIMEOUT', 'HWLIMIT',
    'CALC', 'SCAN', 'LINK', 'SOFT', 'BAD_SUB', 'UDF', 'DISABLE', 'SIMM', 'READ_ACCESS', 'WRITE_ACCESS',
  ], // prettier-ignore
  menuFtype: [
    'STRING',
    'CHAR',
    'UCHAR',
    'SHORT',
    'USHORT',
    'LONG',
    'ULONG',
    'INT64',
    'UINT64',
    'FLOAT',
    'DOUBLE',
    'ENUM',
  ],
  menuIvoa: ['Continue normally', "Don't drive outputs", 'Set output to IVOV'],
  menuOmsl: ['supervisory', 'closed_loop'],
  menuPini: ['NO', 'YES', 'RUN', 'RUNNING', 'PAUSE', 'PAUSED'],
  menuPost: ['On Change', 'Always'],
  menuPriority: ['LOW', 'MEDIUM', 'HIGH'],
  menuScan: [
    'Passive', 'Event', 'I/O Intr', '10 second', '5 second', '2 second', '1 second', '.5 second', '.2 second', '.1 second',
  ], // prettier-ignore
  menuSimm: ['NO', 'YES', 'RAW'],
  menuYesNo: ['NO', 'YES'],
  menuConvert: ['NO CONVERSION', 'SLOPE', 'LINEAR'],
  aoOIF: ['Full', 'Incremental'],
  OOPT: [
    'Every Time',
    'On Change',
    'When Zero',
    'When Non-zero',
    'Transition To Zero',
    'Transition To Non-zero',
  ],
  calcoutDOPT: ['Use CALC', 'Use OCAL'],
  calcoutINAV: ['Ext PV NC', 'Ext PV OK', 'Local PV', 'Constant'],
  postOnChangeFirst: ['On Change', 'Always'],
  postAlwaysFirst: ['Always', 'On Change'],
  SELM: ['All', 'Specified', 'Mask'],
  selSELM: ['Specified', 'High Signal', 'Low Signal', 'Median Signal'],
};

/** Periods of the periodic menuScan choices (index -> seconds). */
export const SCAN_PERIODS: Readonly<Record<number, number>> = {
  3: 10,
  4: 5,
  5: 2,
  6: 1,
  7: 0.5,
  8: 0.2,
  9: 0.1,
};

const STRING_DEFAULT_SIZE = 40;

/**
 * Compact field specification: `NAME TYPE [pp] [prop] [ro] [size=N] [menu=NAME] [init=TEXT]`,
 * entries separated by ';'. TYPE is a DBF name without the prefix.
 */
export function defineFields(spec: string): FieldDef[] {
  const out: FieldDef[] = [];
  for (const raw of spec.split(';')) {
    const entry = raw.trim();
    if (!entry) continue;
    const toks = entry.split(/\s+/);
    const name = internal(toks[0]!);
    const dbf = (toks[1] === undefined ? undefined : internal(toks[1])) as Dbf;
    let pp = false;
    let prop = false;
    let nomod = false;
    let size = dbf === 'STRING' ? STRING_DEFAULT_SIZE : 0;
    let menu: readonly string[] | undefined;
    let initial: string | undefined;
    for (const t of toks.slice(2)) {
      if (t === 'pp') pp = true;
      else if (t === 'prop') prop = true;
      else if (t === 'ro') nomod = true;
      else if (t.startsWith('size=')) size = Number(t.slice(5));
      else if (t.startsWith('menu=')) {
        menu = MENUS[t.slice(5)];
        if (!menu) throw new Error(`unknown menu ${t.slice(5)} for field ${name}`);
      } else if (t.startsWith('init=')) initial = t.slice(5).replace(/_/g, ' ');
      else throw new Error(`bad field spec token '${t}' in '${entry}'`);
    }
    out.push({ name, dbf, pp, prop, nomod, size, menu, initial });
  }
  return out;
}

/**
 * The internalized copy of a string (as property names are): field names and DBF types are compared
 * on every put and processing, and two internalized strings compare by identity.
 */
function internal(s: string): string {
  return Object.keys({ [s]: 0 })[0]!;
}

/** Fields every record has (dbCommon). */
export const COMMON_FIELDS = defineFields(`
NAME STRING ro size=61; DESC STRING size=41; ASG STRING size=29; SCAN MENU menu=menuScan; PINI MENU menu=menuPini;
PHAS SHORT; EVNT STRING size=40; TSE SHORT; TSEL INLINK; DTYP DEVICE; DISV SHORT init=1; DISA SHORT; SDIS INLINK;
MLOK NOACCESS ro; MLIS NOACCESS ro; BKLNK NOACCESS ro; DISP UCHAR; PROC UCHAR pp;
STAT MENU ro menu=menuAlarmStat init=UDF; SEVR MENU ro menu=menuAlarmSevr; AMSG STRING ro size=40;
NSTA MENU ro menu=menuAlarmStat; NSEV MENU ro menu=menuAlarmSevr; NAMSG STRING ro size=40;
ACKS MENU ro menu=menuAlarmSevr; ACKT MENU ro menu=menuYesNo init=YES; DISS MENU menu=menuAlarmSevr;
LCNT UCHAR ro; PACT UCHAR ro; PUTF UCHAR ro; RPRO UCHAR ro; ASP NOACCESS ro; PPN NOACCESS ro; PPNR NOACCESS ro;
SPVT NOACCESS ro; RSET NOACCESS ro; DSET NOACCESS ro; DPVT NOACCESS ro; RDES NOACCESS ro; LSET NOACCESS ro;
PRIO MENU menu=menuPriority; TPRO UCHAR; BKPT NOACCESS ro; UDF UCHAR pp init=1; UDFS MENU menu=menuAlarmSevr init=INVALID;
TIME NOACCESS ro; UTAG UINT64 ro; FLNK FWDLINK; RTYP STRING ro size=40`);

/** Simulation-mode fields shared by most soft records (accepted and stored, simulation not run). */
export const SIM_IN =
  'SIOL INLINK; SIML INLINK; SIMM MENU menu=menuYesNo; SIMS MENU menu=menuAlarmSevr; OLDSIMM MENU ro menu=menuSimm; SSCN MENU menu=menuScan init=65535; SDLY DOUBLE init=-1.0; SIMPVT NOACCESS ro';
export const SIM_OUT = SIM_IN.replace('SIOL INLINK', 'SIOL OUTLINK');

export function isLink(dbf: Dbf): boolean {
  return dbf === 'INLINK' || dbf === 'OUTLINK' || dbf === 'FWDLINK';
}

/** CA native type of a DBF type (§12 "Type mapping"). */
export function nativeTypeOf(dbf: Dbf): NativeType {
  switch (dbf) {
    case 'STRING':
    case 'INLINK':
    case 'OUTLINK':
    case 'FWDLINK':
      return DbrNative.STRING;
    case 'CHAR':
    case 'UCHAR':
      return DbrNative.CHAR;
    case 'SHORT':
      return DbrNative.SHORT;
    case 'USHORT':
    case 'LONG':
      return DbrNative.LONG;
    case 'ULONG':
    case 'INT64':
    case 'UINT64':
    case 'DOUBLE':
      return DbrNative.DOUBLE;
    case 'FLOAT':
      return DbrNative.FLOAT;
    case 'ENUM':
    case 'MENU':
    case 'DEVICE':
      return DbrNative.ENUM;
    case 'NOACCESS':
      return DbrNative.LONG;
  }
}

export function isIntegerDbf(dbf: Dbf): boolean {
  return /^(CHAR|UCHAR|SHORT|USHORT|LONG|ULONG|INT64|UINT64|ENUM|MENU|DEVICE)$/.test(dbf);
}

/** Wrap/limit a number to what a DBF integer type can hold (C conversion semantics, truncation). */
export function coerceToDbf(dbf: Dbf, v: number): number {
  switch (dbf) {
    case 'CHAR':
      return (Math.trunc(v) << 24) >> 24;
    case 'UCHAR':
      return Math.trunc(v) & 0xff;
    case 'SHORT':
      return (Math.trunc(v) << 16) >> 16;
    case 'USHORT':
    case 'ENUM':
    case 'MENU':
    case 'DEVICE':
      return Math.trunc(v) & 0xffff;
    case 'LONG':
      return Number.isFinite(v) ? Math.trunc(v) | 0 : 0;
    case 'ULONG':
      return Number.isFinite(v) ? Math.trunc(v) >>> 0 : 0;
    case 'INT64':
    case 'UINT64':
      return Number.isFinite(v) ? Math.trunc(v) : 0;
    case 'FLOAT':
      return Math.fround(v);
    default:
      return v;
  }
}

function putFail(msg: string): never {
  throw new CaStatusError(ECA.PUTFAIL, msg);
}

/** The epicsParseIntN kind of an integer DBF type (undefined: 64-bit, parsed here). */
function intKind(dbf: Dbf): IntegerKind | undefined {
  switch (dbf) {
    case 'CHAR':
      return 'i8';
    case 'UCHAR':
      return 'u8';
    case 'SHORT':
      return 'i16';
    case 'USHORT':
    case 'ENUM':
    case 'MENU':
    case 'DEVICE':
      return 'u16';
    case 'ULONG':
      return 'u32';
    case 'INT64':
    case 'UINT64':
      return undefined;
    default:
      return 'i32';
  }
}

function rethrow(e: unknown): never {
  if (e instanceof ConversionError) throw new CaStatusError(e.eca, e.message);
  throw e;
}

/**
 * IOC integer-field string rule (protocol/convert): leading base-10 integer, rest ignored, "" -> 0,
 * no digits or out of range for the field type -> CaStatusError(ECA_PUTFAIL).
 */
export function parseIntegerText(s: string, dbf: Dbf = 'LONG'): number {
  const kind = intKind(dbf);
  if (kind) {
    try {
      return parseIntegerString(s, kind);
    } catch (e) {
      rethrow(e);
    }
  }
  const t = s.trim();
  if (t === '') return 0;
  const m = /^[+-]?\d+/.exec(t);
  if (!m) putFail(`"${s}" is not an integer`);
  const v = Number(m[0]);
  if (Math.abs(v) > 2 ** 64) putFail(`"${s}" is out of range`);
  return v;
}

/** strtod rules (protocol/convert): hex, inf, nan, trailing text ignored; "" -> 0; overflow fails. */
export function parseFloatText(s: string, float32 = false): number {
  try {
    return parseFloatString(s, float32);
  } catch (e) {
    rethrow(e);
  }
}

/** .db-file integer text: like strtol base 0 (hex allowed); a float text is truncated. */
export function parseDbInteger(s: string): number {
  const t = s.trim();
  if (t === '') return 0;
  const hex = /^([+-]?)0[xX]([0-9a-fA-F]+)$/.exec(t);
  if (hex) return (hex[1] === '-' ? -1 : 1) * parseInt(hex[2]!, 16);
  // dbPutString parses integers with strtol base 0: a leading 0 means octal
  const oct = /^([+-]?)0([0-7]+)$/.exec(t);
  if (oct) return (oct[1] === '-' ? -1 : 1) * parseInt(oct[2]!, 8);
  // anything else strtol does not consume completely ("1.7", "08", "1e3") is an error in softIoc
  if (!/^[+-]?\d+$/.test(t) || /^[+-]?0\d/.test(t)) throw new Error(`"${s}" is not an integer`);
  return Number(t);
}

const DBL_MIN = 2.2250738585072014e-308;
const FLT_MIN = 1.1754943508222875e-38;
const FLT_MAX = 3.4028234663852886e38;

/**
 * .db-file float text into a DOUBLE (or FLOAT, `float32`) field, as dbPutString's epicsParseFloat64
 * / epicsParseFloat: strtod's ERANGE (a result that overflows, underflows to 0 or is subnormal) is
 * an error, and for a FLOAT a positive value up to FLT_MIN or any finite one from FLT_MAX.
 */
export function parseDbFloatField(s: string, float32: boolean): number {
  const v = parseDbFloat(s);
  const t = s.trim();
  const decimal = /^[+-]?(\d|\.\d)/.test(t);
  if (decimal) {
    const a = Math.abs(v);
    if (a === Infinity) throw new Error(`"${s}" is out of range (overflow)`);
    const mantissa = t.replace(/[eE].*$/, '');
    if ((a === 0 && /[1-9]/.test(mantissa)) || (a > 0 && a < DBL_MIN))
      throw new Error(`"${s}" is out of range (underflow)`);
  }
  if (float32) {
    if (v > 0 && v <= FLT_MIN) throw new Error(`"${s}" is out of range for a FLOAT (underflow)`);
    if (Number.isFinite(v) && Math.abs(v) >= FLT_MAX)
      throw new Error(`"${s}" is out of range for a FLOAT (overflow)`);
  }
  return v;
}

/** .db-file float text. */
export function parseDbFloat(s: string): number {
  const t = s.trim();
  if (t === '') return 0;
  if (/^[+-]?(inf(inity)?)$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(t)) return NaN;
  const hex = /^([+-]?)0[xX]([0-9a-fA-F]+)$/.exec(t);
  if (hex) return (hex[1] === '-' ? -1 : 1) * parseInt(hex[2]!, 16);
  const v = Number(t);
  if (Number.isNaN(v)) throw new Error(`"${s}" is not a number`);
  return v;
}

/** Choice index for a menu/enum text: exact choice, else a decimal index below `n`. */
export function parseChoice(s: string, choices: readonly string[], n = choices.length): number {
  const i = choices.indexOf(s);
  if (i >= 0) return i;
  const t = s.trim();
  if (/^\d+$/.test(t)) {
    const v = Number(t);
    if (v < n) return v;
  }
  return -1;
}

/** Format a number as the IOC converts a float to DBR_STRING (precision absent: 6). */
export function formatNumberText(v: number, precision?: number): string {
  return formatNumber(v, DbrNative.DOUBLE, precision);
}

/** First element of a CA value as a number for a field of type `dbf` (strings are parsed). */
export function firstAsNumber(value: NativeArray, dbf: Dbf): number {
  if (value.length === 0) putFail('empty value');
  const v = value[0]!;
  if (typeof v === 'string')
    return isIntegerDbf(dbf) ? parseIntegerText(v, dbf) : parseFloatText(v, dbf === 'FLOAT');
  return v;
}

/** First element of a CA value as text. */
export function firstAsString(value: NativeArray, dbrType: number): string {
  if (value.length === 0) putFail('empty value');
  const v = value[0]!;
  if (typeof v === 'string') return v;
  if (dbrType === DbrNative.FLOAT || dbrType === DbrNative.DOUBLE) return formatNumberText(v);
  return String(v);
}

/** Bytes (CHAR array, NUL terminated or not) to a string. */
export function charsToString(a: Uint8Array): string {
  let end = a.indexOf(0);
  if (end < 0) end = a.length;
  return Buffer.from(a.buffer, a.byteOffset, end).toString('latin1');
}

/** String to a CHAR array of `count` bytes (NUL terminated when it fits). */
export function stringToChars(s: string, count: number): Uint8Array {
  const out = new Uint8Array(count);
  const b = Buffer.from(s, 'latin1');
  out.set(b.subarray(0, Math.min(b.length, count)));
  return out;
}

/** Truncate a string to a field size (size includes the NUL). */
export function fitString(s: string, size: number): string {
  if (size > 0 && s.length > size - 1) return s.slice(0, size - 1);
  return s;
}
