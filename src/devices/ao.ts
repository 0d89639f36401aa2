/** pyepics `devices.ao`: the 34 fields of an ao record. */
import {
  ALARM_FIELDS,
  CONVERSION_FIELDS,
  DISPLAY_FIELDS,
  RecordDevice,
  type RecordDeviceOptions,
} from './records.js';

export const AO_FIELDS = [
  'OUT',
  ...CONVERSION_FIELDS,
  ...DISPLAY_FIELDS,
  ...ALARM_FIELDS,
  'OMSL',
  'DOL',
  'OIF',
  'DRVH',
  'DRVL',
  'OROC',
  'OVAL',
] as const;

export class Ao extends RecordDevice {
  constructor(prefix: string, opts: RecordDeviceOptions = {}) {
    super(prefix, AO_FIELDS, opts);
  }
}
