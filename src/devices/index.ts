/**
 * tsepics devices: pyepics' Device, Motor, Alarm, autosave and the synApps device wrappers
 * (ai, ao, bi, bo, Scaler, MCA/ROI, Struck, Transform). Importing this module installs the CA
 * client's PV class as the default PV factory.
 */
import './client-pv.js';

export { Device, DeviceError, type DeviceOptions, type DeviceState } from './device.js';
export {
  Motor,
  MotorError,
  MotorLimitError,
  MOTOR_ALIASES,
  MOTOR_INIT_FIELDS,
  type MoveOptions,
  type MoveOutcome,
  type MoveResult,
  type MotorOptions,
  type MotorCallbackArgs,
} from './motor.js';
export {
  Alarm,
  AlarmError,
  resolveComparison,
  type AlarmEvent,
  type AlarmOptions,
  type ComparisonName,
  type CompareFn,
} from './alarm.js';
export { Ai, AI_FIELDS } from './ai.js';
export { Ao, AO_FIELDS } from './ao.js';
export { Bi, BI_FIELDS } from './bi.js';
export { Bo, BO_FIELDS } from './bo.js';
export { Scaler, type ScalerOptions } from './scaler.js';
export {
  MCA,
  Mca,
  ROI,
  roiCounts,
  MCA_FIELDS,
  MAX_ROIS,
  type McaOptions,
  type RoiOptions,
  type RoiInfo,
} from './mca.js';
export { Struck, STRUCK_ATTRS, type StruckOptions } from './struck.js';
export { Transform, TRANSFORM_ROWS, type TransformRow } from './transform.js';
export { type RecordDeviceOptions } from './records.js';
export { setDefaultPvFactory, getDefaultPvFactory } from './factory.js';
export {
  clientPvFactory,
  closeClient,
  makeClientPvFactory,
  ClientPv,
  type ClientPvFactory,
} from './client-pv.js';
export type {
  PvLike,
  PvFactory,
  PvFactoryOptions,
  PvCallback,
  PvCallbackArgs,
  PvGetOptions,
  PvPutOptions,
} from './pv-like.js';
export * as autosave from './autosave/index.js';
