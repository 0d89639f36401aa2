/** tsepics CA server: the network layer, access security and the PVs-from-code API. */
export { CaServer } from './server.js';
export type { AccessPolicy, CaServerOptions, ClientInfo, TrapWriteEvent } from './server.js';
export { AccessSecurity, AcfParseError } from './access-security.js';
export type {
  AccessLevel,
  AcfGroup,
  AcfRule,
  AccessSecurityOptions,
  CalcCompiler,
} from './access-security.js';
export {
  serve,
  PvServer,
  PvProvider,
  ServedPv,
  PvDefinitionError,
  combineProviders,
  epicsNow,
} from './pv-server.js';
export type { PvSpec, PvType, PvValue, PutValue, PostOptions, ServeOptions } from './pv-server.js';
export { CaStatusError } from './provider.js';
export type {
  ChannelProvider,
  ServedChannel,
  ChannelSnapshot,
  ClientIdentity,
  EventMask,
  WriteCompletion,
} from './provider.js';
export { searchReplies } from './udp-responder.js';
export { beaconAddresses, beaconDelays, beaconMessage } from './beacons.js';
