/**
 * tsepics CA client: pyepics-style procedural functions and PV objects, the `ca` layer, the
 * Context / Channel core, typed errors and the protocol constants a user needs.
 */
export {
  caget,
  caput,
  cainfo,
  camonitor,
  camonitorClear,
  cagetMany,
  caputMany,
  getPV,
  clearCache,
} from './procedural.js';
export type {
  CagetOptions,
  CaputOptions,
  CainfoOptions,
  CamonitorOptions,
  CagetManyOptions,
  CaputManyOptions,
  GetPVOptions,
} from './procedural.js';
export {
  PV,
  AUTOMONITOR_LENGTH,
  DEFAULT_CONNECTION_TIMEOUT,
  DEFAULT_SUBSCRIPTION_MASK,
  dbrTypeName,
  promoteType,
  fmtTime,
  pvInfo,
  formatFixed,
  formatExp,
  formatGeneral,
  formatDouble,
} from './pv.js';
export type {
  PVForm,
  PVValue,
  PVData,
  PVCallbackArgs,
  PVCallback,
  ConnectionCallback,
  AccessCallback,
  PVOptions,
  PVGetOptions,
  PVGetResult,
  PVPutOptions,
  AddCallbackOptions,
  PVMonitorOptions,
  DoubleFormat,
} from './pv.js';
export * as ca from './ca.js';
export { Context, defaultContext, closeDefaultContext } from './context.js';
export type { ContextOptions, CaException } from './context.js';
export { Channel } from './channel.js';
export type {
  ChannelState,
  GetResult,
  GetOptions,
  PutOptions,
  SubscribeOptions,
  Subscription,
} from './channel.js';
export {
  CaError,
  TimeoutError,
  NotFoundError,
  DisconnectedError,
  AccessError,
  PutError,
  GetError,
} from './errors.js';
export { toNativeArray } from './put-value.js';
export { DBR, DBE, ECA, ecaMessage, AlarmStatus, Severity } from '../protocol/constants.js';
export type { NativeArray, DbrData, EpicsTimeStamp } from '../protocol/values.js';
