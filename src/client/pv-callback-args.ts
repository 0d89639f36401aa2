/**
 * The argument object a PV value callback (and a monitor() iterator) receives.
 */
import type { Channel } from './channel.js';
import type { PV } from './pv.js';
import type { PVCallbackArgs, PVData } from './pv-types.js';

/** The callback argument object for a PV's current data `a` (pyepics' callback keywords + pv, channel, cbInfo, kw). */
export function buildCallbackArgs(
  a: PVData,
  pv: PV,
  channel: Channel,
  index: number | string,
  kw: Record<string, unknown>,
): PVCallbackArgs {
  // An object literal of fixed shape is much cheaper to build than a spread of the data object.
  const args: PVCallbackArgs = {
    pvname: a.pvname,
    value: a.value,
    charValue: a.charValue,
    status: a.status,
    severity: a.severity,
    ftype: a.ftype,
    type: a.type,
    typefull: a.typefull,
    chid: a.chid,
    host: a.host,
    count: a.count,
    nelm: a.nelm,
    access: a.access,
    accessString: a.accessString,
    readAccess: a.readAccess,
    writeAccess: a.writeAccess,
    timestamp: a.timestamp,
    posixseconds: a.posixseconds,
    nanoseconds: a.nanoseconds,
    precision: a.precision,
    units: a.units,
    enumStrs: a.enumStrs,
    monitorDelta: a.monitorDelta,
    upperDispLimit: a.upperDispLimit,
    lowerDispLimit: a.lowerDispLimit,
    upperAlarmLimit: a.upperAlarmLimit,
    lowerAlarmLimit: a.lowerAlarmLimit,
    upperWarningLimit: a.upperWarningLimit,
    lowerWarningLimit: a.lowerWarningLimit,
    upperCtrlLimit: a.upperCtrlLimit,
    lowerCtrlLimit: a.lowerCtrlLimit,
    pv,
    channel,
    cbInfo: [index, pv],
  };
  for (const k in kw) {
    if (k === 'pv' || k === 'channel' || k === 'cbInfo') continue;
    args[k] = kw[k];
  }
  return args;
}
