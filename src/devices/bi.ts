/** pyepics `devices.bi`: the fields of a bi record. */
import { Device } from './device.js';
import { recordName, type RecordDeviceOptions } from './records.js';

export const BI_FIELDS = [
  'INP',
  'ZNAM',
  'ONAM',
  'RVAL',
  'VAL',
  'EGU',
  'HOPR',
  'LOPR',
  'PREC',
  'NAME',
  'DESC',
  'DTYP',
] as const;

export class Bi extends Device {
  constructor(prefix: string, opts: RecordDeviceOptions = {}) {
    super(recordName(prefix), { ...opts, delim: '.', attrs: BI_FIELDS });
  }
}
