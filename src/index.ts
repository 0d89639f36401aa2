/**
 * tsepics: EPICS Channel Access in TypeScript.
 * - client: caget / caput / cainfo / camonitor / cagetMany / caputMany, PV objects, the `ca` layer;
 * - server: `serve({ pvs })` for PVs from code, `CaServer` for any ChannelProvider.
 * The soft IOC is in `tsepics/ioc`, the protocol codecs in `tsepics/protocol`.
 */
export * from './client/index.js';
export { serve, CaServer, PvServer, ServedPv, CaStatusError } from './server/index.js';
export type { ServeOptions, PvSpec, PvType, CaServerOptions, ChannelProvider } from './server/index.js';
export * from './devices/index.js';
