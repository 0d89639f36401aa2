/**
 * DBR type names and request-type promotion for the PV object (pyepics' dbr.Name, promote_fieldtype),
 * and the access-rights text.
 */
import type { PVForm } from './pv-types.js';

const TYPE_NAMES = ['string', 'int', 'float', 'enum', 'char', 'long', 'double'];
const TIME_NAMES = [
  'time_string',
  'time_short',
  'time_float',
  'time_enum',
  'time_char',
  'time_long',
  'time_double',
];
const CTRL_NAMES = [
  'ctrl_string',
  'ctrl_short',
  'ctrl_float',
  'ctrl_enum',
  'ctrl_char',
  'ctrl_long',
  'ctrl_double',
];

/** pyepics' dbr.Name(ftype).lower(): 'double', 'time_double', 'ctrl_enum' ... */
export function dbrTypeName(ftype: number): string {
  if (ftype >= 0 && ftype <= 6) return TYPE_NAMES[ftype];
  if (ftype >= 14 && ftype <= 20) return TIME_NAMES[ftype - 14];
  if (ftype >= 28 && ftype <= 34) return CTRL_NAMES[ftype - 28];
  return 'unknown';
}

/** promote_fieldtype: the request type for a form (CTRL_STRING is served as TIME_STRING). */
export function promoteType(native: number, form: PVForm): number {
  if (native < 0) return native;
  if (form === 'time') return native + 14;
  if (form === 'ctrl') return native === 0 ? 14 : native + 28;
  return native;
}

/** pyepics' access text for read / write rights. */
export function accessText(r: boolean, w: boolean): string {
  return ACCESS_TEXTS[(r ? 1 : 0) + (w ? 2 : 0)]!;
}

const ACCESS_TEXTS = ['no access', 'read-only', 'write-only', 'read/write'];
