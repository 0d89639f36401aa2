/** pyepics `devices.bo`: the fields of a bo record. */
import { Device } from './device.js';
import { recordName, type RecordDeviceOptions } from './records.js';

export const BO_FIELDS = [
  'DOL',
  'OMSL',
  'RVAL',
  'HIGH',
  'ZNAM',
  'ONAM',
  'VAL',
  'EGU',
  'HOPR',
  'LOPR',
  'PREC',
  'NAME',
  'DESC',
  'DTYP',
] as const;

export class Bo extends Device {
  constructor(prefix: string, opts: RecordDeviceOptions = {}) {
    super(recordName(prefix), { ...opts, delim: '.', attrs: BO_FIELDS });
  }
}
