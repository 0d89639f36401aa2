/**
 * Simulated `motor` record (synApps motor module's motorRecord, any DTYP/OUT is simulated).
 *
 * The simulation is in motor-sim.ts, the fields and MSTA/MIP tables in motor-fields.ts, the profile
 * and coordinate math in motor-motion.ts, the simulation framework (SimHost, MemoryHost, FakeClock,
 * SimRecord) in sim-framework.ts; this module re-exports them for existing importers.
 */
import type { FieldDef } from '../fields.js';
import type { FieldMeta, RecordTypeDef } from '../record.js';
import { defineRecordType } from '../record-type.js';
import { MOTOR_SPEC, motorLimitsFor } from './motor-fields.js';
import { MotorSim, type MotorSimOptions } from './motor-sim.js';
import { SimRecord, acceptAnyDtyp, type RecordSimulation } from './sim-framework.js';

export * from './sim-framework.js';
export * from './motor-fields.js';
export * from './motor-sim.js';

// ---------------------------------------------------------------------------------------------
// The motor record type

/** DTYP choices known up front; any other DTYP from a .db file is added (and simulated). */
export const MOTOR_DEVICE_TYPES: string[] = [
  'Soft Channel',
  'asynMotor',
  'Motor Simulation',
  'OMS MAXv',
  'OMS VME58',
];

export class MotorRecord extends SimRecord {
  protected createSimulation(): RecordSimulation {
    // Simulated hard limit switches sit 10% of the travel range beyond the soft limits.
    const dh = this.num('DHLM');
    const dl = this.num('DLLM');
    const opts: MotorSimOptions = {};
    if (!(dh === 0 && dl === 0) && dh > dl) {
      const margin = 0.1 * (dh - dl);
      opts.hardHigh = dh + margin;
      opts.hardLow = dl - margin;
    }
    return new MotorSim(this, opts);
  }
  override loadField(fd: FieldDef, text: string): void {
    acceptAnyDtyp(MOTOR_DEVICE_TYPES, fd, text);
    super.loadField(fd, text);
  }
  override meta(fd: FieldDef): FieldMeta {
    const m = super.meta(fd);
    const lim = motorLimitsFor(this, fd.name);
    if (lim && m.limits) {
      m.limits = {
        ...m.limits,
        upperDispLimit: lim.upper,
        lowerDispLimit: lim.lower,
        upperCtrlLimit: lim.upper,
        lowerCtrlLimit: lim.lower,
      };
    }
    if (lim || POSITION_FIELDS.has(fd.name)) m.units = this.str('EGU');
    return m;
  }
}

const POSITION_FIELDS = new Set(['RBV', 'DRBV', 'OFF', 'TWV', 'RLV', 'DIFF', 'BDST', 'RDBD', 'SPDB']);

export const motorRecordType: RecordTypeDef = defineRecordType(
  'motor',
  MOTOR_SPEC,
  MotorRecord,
  MOTOR_DEVICE_TYPES,
);
