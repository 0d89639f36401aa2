/**
 * Where devices get their PVs from. By default the client's `PV` class (installed by
 * `src/devices/client-pv.ts`, which `src/devices/index.ts` imports); tests and embedders may install
 * another factory or pass one per device.
 */
import type { PvFactory } from './pv-like.js';

let defaultFactory: PvFactory | undefined;

/** Install the factory used when a device/alarm/autosave call is given none. */
export function setDefaultPvFactory(factory: PvFactory | undefined): void {
  defaultFactory = factory;
}

/** The installed default factory; throws a clear error when there is none. */
export function getDefaultPvFactory(): PvFactory {
  if (!defaultFactory) {
    throw new Error('tsepics devices: no PV factory installed (import "tsepics/devices" or pass pvFactory)');
  }
  return defaultFactory;
}

/** The given factory, or the default. */
export function resolveFactory(factory?: PvFactory): PvFactory {
  return factory ?? getDefaultPvFactory();
}
