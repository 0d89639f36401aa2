/**
 * The argument object a PV value callback (and a monitor() iterator) receives.
 */
import type { Channel } from './channel.js';
import type { PV } from './pv.js';
import { fullData, type PVCallbackArgs, type PVData } from './pv-types.js';

/** The callback argument object for a PV's current data `a` (pyepics' callback keywords + pv, channel, cbInfo, kw). */
export function buildCallbackArgs(
  a: PVData,
  pv: PV,
  channel: Channel,
  index: number | string,
  kw: Record<string, unknown>,
): PVCallbackArgs {
  // fullData's object literal of fixed shape is much cheaper to build than a spread of the data
  // object; the three extra keys are added in the same order every time (one hidden class).
  const args = fullData(a) as PVCallbackArgs;
  args.pv = pv;
  args.channel = channel;
  args.cbInfo = [index, pv];
  for (const k in kw) {
    if (k === 'pv' || k === 'channel' || k === 'cbInfo') continue;
    args[k] = kw[k];
  }
  return args;
}
