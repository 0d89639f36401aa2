/** pyepics `devices.ai`: the fields of an ai record. */
import {
  ALARM_FIELDS,
  CONVERSION_FIELDS,
  DISPLAY_FIELDS,
  RecordDevice,
  type RecordDeviceOptions,
} from './records.js';

export const AI_FIELDS = [...DISPLAY_FIELDS, 'INP', ...CONVERSION_FIELDS, 'SMOO', ...ALARM_FIELDS] as const;

export class Ai extends RecordDevice {
  constructor(prefix: string, opts: RecordDeviceOptions = {}) {
    super(prefix, AI_FIELDS, opts);
  }
}
