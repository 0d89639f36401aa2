/**
 * Field value access shared by all records: .db text and CA-put conversion to a field's DBF type,
 * and the metadata (units, precision, limits, enum strings) a field reports over CA.
 */
import { DbrNative, ECA } from '../protocol/constants.js';
import type { NativeArray } from '../protocol/values.js';
import { CaStatusError } from '../server/provider.js';
import {
  charsToString,
  coerceToDbf,
  firstAsNumber,
  firstAsString,
  fitString,
  isLink,
  parseChoice,
  parseDbFloatField,
  parseDbInteger,
  type Dbf,
  type FieldDef,
} from './fields.js';
import { Link } from './links.js';
import { enumLimits, hasControlDouble, hasGraphicDouble, noRangeLimits } from './rset-limits.js';
import type { DbRecord, FieldMeta, FieldValue } from './record.js';

const VALUE_LIKE = new Set([
  'VAL',
  'HIHI',
  'HIGH',
  'LOW',
  'LOLO',
  'LALM',
  'ALST',
  'MLST',
  'SVAL',
  'OVAL',
  'PVAL',
  'IVOV',
  'POVL',
]);

function typeRange(dbf: Dbf): [number, number] {
  switch (dbf) {
    case 'CHAR':
      return [127, -128];
    case 'UCHAR':
      return [255, 0];
    case 'SHORT':
      return [32767, -32768];
    case 'USHORT':
    case 'ENUM':
      return [65535, 0];
    case 'LONG':
      return [2147483647, -2147483648];
    case 'ULONG':
      return [4294967295, 0];
    case 'INT64':
      return [9223372036854775808, -9223372036854775808];
    case 'UINT64':
      return [18446744073709551615, 0];
    case 'FLOAT':
      return [1e30, -1e30];
    case 'DOUBLE':
      return [1e300, -1e300];
    default:
      return [0, 0];
  }
}

/** Set a field from .db text. Throws Error with a message on bad text. */
export function loadFieldText(rec: DbRecord, fd: FieldDef, text: string): void {
  const af = rec.arrayField(fd.name);
  if (af) {
    af.put([text], DbrNative.STRING);
    return;
  }
  const f = fd.name;
  switch (fd.dbf) {
    case 'STRING': {
      // dbPutString: a .db value longer than the field is an error (softIoc refuses the file)
      const size = rec.fieldSize(fd);
      if (size > 0 && Buffer.byteLength(text, 'latin1') > size - 1)
        throw new Error(`string "${text}" too long for ${rec.name}.${f} (at most ${size - 1} characters)`);
      rec.v[f] = text;
      break;
    }
    case 'INLINK':
    case 'OUTLINK':
    case 'FWDLINK':
      rec.setLink(f, new Link(rec, fd, text));
      rec.v[f] = text;
      break;
    case 'MENU': {
      const i = parseChoice(text, fd.menu!);
      if (i < 0) {
        const n = Number(text);
        if (Number.isInteger(n) && n >= 0 && n <= 0xffff && fd.initial === text) rec.v[f] = n;
        else throw new Error(`bad menu choice "${text}" (choices: ${fd.menu!.join(', ')})`);
      } else rec.v[f] = i;
      break;
    }
    case 'DEVICE': {
      const i = rec.def.deviceTypes.indexOf(text);
      if (i < 0) throw new Error(`unknown device type "${text}" for record type ${rec.def.name}`);
      rec.v[f] = i;
      break;
    }
    case 'ENUM': {
      const i = parseChoice(text, rec.enumStrings(fd), 0x10000);
      if (i < 0) throw new Error(`bad enum value "${text}"`);
      rec.v[f] = i;
      break;
    }
    case 'NOACCESS':
      throw new Error('field cannot be set in a database file');
    case 'FLOAT':
    case 'DOUBLE':
      rec.v[f] = coerceToDbf(fd.dbf, parseDbFloatField(text, fd.dbf === 'FLOAT'));
      break;
    default:
      rec.v[f] = coerceToDbf(fd.dbf, parseDbInteger(text));
  }
  if (f === 'VAL') rec.v.UDF = 0;
}

function putFailed(rec: DbRecord, fd: FieldDef, m: string): never {
  throw new CaStatusError(ECA.PUTFAIL, `${rec.name}.${fd.name}: ${m}`);
}

/** Convert a CA/link value to what the field stores; CaStatusError(ECA_PUTFAIL) when impossible. */
export function convertForPut(rec: DbRecord, fd: FieldDef, value: NativeArray, dbrType: number): FieldValue {
  if (value.length === 0) putFailed(rec, fd, 'no value');
  switch (fd.dbf) {
    case 'STRING':
    case 'INLINK':
    case 'OUTLINK':
    case 'FWDLINK': {
      const s =
        dbrType === DbrNative.CHAR && value.length > 1
          ? charsToString(value as Uint8Array)
          : firstAsString(value, dbrType);
      return fd.dbf === 'STRING' ? fitString(s, rec.fieldSize(fd)) : s;
    }
    case 'MENU':
    case 'DEVICE': {
      const choices = fd.dbf === 'MENU' ? fd.menu! : rec.def.deviceTypes;
      if (typeof value[0] === 'string') {
        const i = parseChoice(value[0], choices);
        if (i < 0) putFailed(rec, fd, `"${value[0]}" is not one of ${choices.join(', ')}`);
        return i;
      }
      const n = Math.trunc(value[0] as number);
      // base's dbPut from a numeric type stores any menu index (it reads back as its number)
      if (fd.dbf === 'MENU') return coerceToDbf('ENUM', n);
      if (!(n >= 0 && n < choices.length)) putFailed(rec, fd, `choice ${n} out of range`);
      return n;
    }
    case 'ENUM': {
      if (typeof value[0] === 'string') {
        // put_enum_str matches its own strings; a number must be below get_enum_strs' count
        const i = parseChoice(value[0], rec.putEnumStrings(fd), rec.enumStrings(fd).length);
        if (i < 0) putFailed(rec, fd, `"${value[0]}" is not a state of ${rec.name}`);
        return i;
      }
      return coerceToDbf('ENUM', value[0] as number);
    }
    case 'NOACCESS':
      return putFailed(rec, fd, 'not accessible');
    default: {
      const n = firstAsNumber(value, fd.dbf);
      return coerceToDbf(fd.dbf, n);
    }
  }
}

/** Metadata of a field (see DbRecord.meta). */
export function fieldMeta(rec: DbRecord, fd: FieldDef): FieldMeta {
  const dbf = fd.dbf;
  // base's getMenuString: an out-of-range menu index reads back as its number
  const rtype = rec.def.name;
  if (dbf === 'MENU')
    return {
      enumStrs: [...fd.menu!],
      enumUndefined: String(rec.v[fd.name]),
      limits: enumLimits(rtype, false),
    };
  if (dbf === 'DEVICE') return { enumStrs: [...rec.def.deviceTypes], limits: enumLimits(rtype, false) };
  if (dbf === 'ENUM')
    return {
      enumStrs: rec.enumStrings(fd),
      enumUndefined: rec.enumUndefined(rec.v[fd.name] as number),
      limits: enumLimits(rtype, true),
    };
  if (dbf === 'STRING' || isLink(dbf)) {
    // recGblGetGraphicDouble/ControlDouble give 0 for a string field, recGblGetAlarmDouble NaN
    return { limits: noRangeLimits() };
  }
  const fm = rec.def.fieldMap;
  const isArrayVal = !!rec.arrayField(fd.name);
  const valDbf = fm.get('VAL')?.dbf;
  const valueLike = VALUE_LIKE.has(fd.name) && (isArrayVal || dbf === valDbf || fd.name === 'VAL');
  const out: FieldMeta = {};
  // record support get_units: EGU for VAL and every field of VAL's type (ai.HOPR, ai.HYST, longin.HIGH ...)
  out.units =
    fm.has('EGU') && (valueLike || isArrayVal || dbf === valDbf) && rec.hasUnits(fd) ? rec.str('EGU') : '';
  const float = dbf === 'FLOAT' || dbf === 'DOUBLE' || (isArrayVal && rec.isFloatArray());
  // get_precision: VAL reports PREC as is (even negative); other fields go through recGblGetPrec,
  // which replaces a PREC outside 0..15 with 15
  const prec = fm.has('PREC') ? rec.num('PREC') : 0;
  out.precision = !float ? 0 : fd.name === 'VAL' || isArrayVal ? prec : prec < 0 || prec > 15 ? 15 : prec;
  if ((valueLike || isArrayVal) && (fm.has('HOPR') || fm.has('DRVH'))) {
    const hopr = fm.has('HOPR') ? rec.num('HOPR') : 0;
    const lopr = fm.has('LOPR') ? rec.num('LOPR') : 0;
    const hasDrv = fm.has('DRVH');
    const alarm = fd.name === 'VAL' && fm.has('HHSV');
    out.limits = {
      upperDispLimit: hopr,
      lowerDispLimit: lopr,
      upperAlarmLimit: alarm && rec.num('HHSV') ? rec.num('HIHI') : NaN,
      upperWarningLimit: alarm && rec.num('HSV') ? rec.num('HIGH') : NaN,
      lowerWarningLimit: alarm && rec.num('LSV') ? rec.num('LOW') : NaN,
      lowerAlarmLimit: alarm && rec.num('LLSV') ? rec.num('LOLO') : NaN,
      upperCtrlLimit: hasDrv ? rec.num('DRVH') : hopr,
      lowerCtrlLimit: hasDrv ? rec.num('DRVL') : lopr,
    };
  } else {
    // recGblGetGraphicDouble / ControlDouble: the field type's range (also a VAL without HOPR/LOPR, seq's)
    const [hi, lo] = typeRange(dbf);
    out.limits = {
      upperDispLimit: hi,
      lowerDispLimit: lo,
      upperAlarmLimit: NaN,
      upperWarningLimit: NaN,
      lowerWarningLimit: NaN,
      lowerAlarmLimit: NaN,
      upperCtrlLimit: hi,
      lowerCtrlLimit: lo,
    };
  }
  // dbGet leaves the limits of a record support without the routine at 0
  if (!hasGraphicDouble(rec.def.name)) out.limits.upperDispLimit = out.limits.lowerDispLimit = 0;
  if (!hasControlDouble(rec.def.name)) out.limits.upperCtrlLimit = out.limits.lowerCtrlLimit = 0;
  return out;
}

/** A numeric CA array of `type` from numbers, or an empty one of length n. */
export function makeNumeric(type: number, src: number[] | number): Exclude<NativeArray, string[]> {
  const n = typeof src === 'number' ? src : src.length;
  let a: Exclude<NativeArray, string[]>;
  switch (type) {
    case DbrNative.SHORT:
      a = new Int16Array(n);
      break;
    case DbrNative.FLOAT:
      a = new Float32Array(n);
      break;
    case DbrNative.ENUM:
      a = new Uint16Array(n);
      break;
    case DbrNative.CHAR:
      a = new Uint8Array(n);
      break;
    case DbrNative.LONG:
      a = new Int32Array(n);
      break;
    default:
      a = new Float64Array(n);
  }
  if (typeof src !== 'number') a.set(src);
  return a;
}
