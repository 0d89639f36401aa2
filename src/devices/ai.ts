/** pyepics `devices.ai`: the fields of an ai record. */
import { Device } from './device.js';
import { recordName, type RecordDeviceOptions } from './records.js';

export const AI_FIELDS = [
  'VAL',
  'EGU',
  'HOPR',
  'LOPR',
  'PREC',
  'NAME',
  'DESC',
  'DTYP',
  'INP',
  'LINR',
  'RVAL',
  'ROFF',
  'EGUF',
  'EGUL',
  'AOFF',
  'ASLO',
  'ESLO',
  'EOFF',
  'SMOO',
  'HIHI',
  'LOLO',
  'HIGH',
  'LOW',
  'HHSV',
  'LLSV',
  'HSV',
  'LSV',
  'HYST',
] as const;

export class Ai extends Device {
  constructor(prefix: string, opts: RecordDeviceOptions = {}) {
    super(recordName(prefix), { ...opts, delim: '.', attrs: AI_FIELDS });
  }
}
