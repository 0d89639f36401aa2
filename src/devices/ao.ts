/** pyepics `devices.ao`: the 34 fields of an ao record. */
import { Device } from './device.js';
import { recordName, type RecordDeviceOptions } from './records.js';

export const AO_FIELDS = [
  'OUT',
  'LINR',
  'RVAL',
  'ROFF',
  'EGUF',
  'EGUL',
  'AOFF',
  'ASLO',
  'ESLO',
  'EOFF',
  'VAL',
  'EGU',
  'HOPR',
  'LOPR',
  'PREC',
  'NAME',
  'DESC',
  'DTYP',
  'HIHI',
  'LOLO',
  'HIGH',
  'LOW',
  'HHSV',
  'LLSV',
  'HSV',
  'LSV',
  'HYST',
  'OMSL',
  'DOL',
  'OIF',
  'DRVH',
  'DRVL',
  'OROC',
  'OVAL',
] as const;

export class Ao extends Device {
  constructor(prefix: string, opts: RecordDeviceOptions = {}) {
    super(recordName(prefix), { ...opts, delim: '.', attrs: AO_FIELDS });
  }
}
