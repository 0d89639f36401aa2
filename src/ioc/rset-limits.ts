/**
 * Which record types' record support lacks get_graphic_double / get_control_double (base's
 * std/rec/*.c: `#define get_graphic_double NULL` ...). dbGet then leaves those limits 0 for every
 * field of the record, where a record with the routine reports the field type's range
 * (recGblGetGraphicDouble) or its own HOPR/LOPR. An enum or menu field has alarm limits NaN
 * (recGblGetAlarmDouble or no routine at all).
 */

/** Record types without get_graphic_double. */
const NO_GRAPHIC = new Set([
  'bi',
  'bo',
  'mbbi',
  'mbbo',
  'mbbiDirect',
  'mbboDirect',
  'lsi',
  'lso',
  'stringin',
  'stringout',
  'fanout',
  'event',
  'printf',
]);

/** Record types without get_control_double (bo has one: HIGH and recGblGetControlDouble). */
const NO_CONTROL = new Set([...NO_GRAPHIC].filter((t) => t !== 'bo'));

export function hasGraphicDouble(recordType: string): boolean {
  return !NO_GRAPHIC.has(recordType);
}

export function hasControlDouble(recordType: string): boolean {
  return !NO_CONTROL.has(recordType);
}

/**
 * Limits of an ENUM, MENU or DEVICE field: no display limits; control limits 0..65535 only for an
 * ENUM field of a record with get_control_double (recGblGetControlDouble's DBF_ENUM range), none
 * for a menu (getMaxRangeValues has no DBF_MENU case); alarm limits NaN.
 */
export function enumLimits(recordType: string, isEnum: boolean) {
  return noRangeLimits(isEnum && hasControlDouble(recordType) ? 65535 : 0);
}

/** Limits of a field without a numeric range: display 0..0, control 0..`upperCtrl`, alarm NaN. */
export function noRangeLimits(upperCtrl = 0) {
  return {
    upperDispLimit: 0,
    lowerDispLimit: 0,
    upperAlarmLimit: NaN,
    upperWarningLimit: NaN,
    lowerWarningLimit: NaN,
    lowerAlarmLimit: NaN,
    upperCtrlLimit: upperCtrl,
    lowerCtrlLimit: 0,
  };
}
