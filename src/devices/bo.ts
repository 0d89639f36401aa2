/** pyepics `devices.bo`: the fields of a bo record. */
import { DISPLAY_FIELDS, RecordDevice, type RecordDeviceOptions } from './records.js';

export const BO_FIELDS = ['DOL', 'OMSL', 'RVAL', 'HIGH', 'ZNAM', 'ONAM', ...DISPLAY_FIELDS] as const;

export class Bo extends RecordDevice {
  constructor(prefix: string, opts: RecordDeviceOptions = {}) {
    super(prefix, BO_FIELDS, opts);
  }
}
