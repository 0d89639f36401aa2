/** pyepics `devices.bi`: the fields of a bi record. */
import { DISPLAY_FIELDS, RecordDevice, type RecordDeviceOptions } from './records.js';

export const BI_FIELDS = ['INP', 'ZNAM', 'ONAM', 'RVAL', ...DISPLAY_FIELDS] as const;

export class Bi extends RecordDevice {
  constructor(prefix: string, opts: RecordDeviceOptions = {}) {
    super(prefix, BI_FIELDS, opts);
  }
}
