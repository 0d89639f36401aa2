/**
 * Server beacons (RSRV_IS_UP, ca-protocol.md §5 and §11): the first at start, then after 0.02, 0.04,
 * 0.08 … s doubling up to the period; the first two both carry number 0. Sent from an ephemeral UDP
 * socket to every beacon address at the beacon port.
 */
import { createSocket } from 'node:dgram';
import type { Socket as UdpSocket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import type { NetworkInterfaceInfo } from 'node:os';
import { CA_MINOR_VERSION, Command } from '../protocol/constants.js';
import { HEADER_SIZE } from '../protocol/header.js';
import { beaconPort, envList, envYes, intToIpv4, ipv4ToInt, parseHostPortList } from './env.js';
import type { Env, HostPort } from './env.js';

/** The first delay after the initial beacon (seconds). */
export const FIRST_BEACON_DELAY = 0.02;

/** Encode one beacon. */
export function beaconMessage(tcpPort: number, beaconNumber: number, serverAddress = 0): Buffer {
  const buf = Buffer.alloc(HEADER_SIZE);
  buf.writeUInt16BE(Command.RSRV_IS_UP, 0);
  buf.writeUInt16BE(CA_MINOR_VERSION, 4);
  buf.writeUInt16BE(tcpPort & 0xffff, 6);
  buf.writeUInt32BE(beaconNumber >>> 0, 8);
  buf.writeUInt32BE(serverAddress >>> 0, 12);
  return buf;
}

/** Delays (s) between successive beacons: 0.02, 0.04, … capped at `period`. */
export function beaconDelays(period: number, n: number): number[] {
  const out: number[] = [];
  let d = FIRST_BEACON_DELAY;
  for (let i = 0; i < n; i++) {
    out.push(Math.min(d, period));
    d *= 2;
  }
  return out;
}

/** Broadcast address of an IPv4 interface (its own address for loopback / point-to-point). */
function broadcastOf(info: NetworkInterfaceInfo): string | undefined {
  const a = ipv4ToInt(info.address);
  const m = ipv4ToInt(info.netmask);
  if (a === undefined || m === undefined) return undefined;
  if (info.internal) return info.address;
  return intToIpv4((a | ~m) >>> 0);
}

/** The broadcast address of the interface holding IPv4 address `address` (itself for loopback). */
export function broadcastAddressOf(
  address: string,
  ifaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): string | undefined {
  for (const list of Object.values(ifaces)) {
    for (const info of list ?? []) {
      if (info.family === 'IPv4' && info.address === address) return broadcastOf(info);
    }
  }
  return undefined;
}

/**
 * Beacon destinations: EPICS_CAS_BEACON_ADDR_LIST, plus (EPICS_CAS_AUTO_BEACON_ADDR_LIST, default
 * YES) the broadcast address of every up IPv4 interface, only those in `interfaces` when that is not
 * 0.0.0.0, loopback only when it is all there is.
 */
export function beaconAddresses(
  env: Env,
  interfaces: string[],
  ifaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): HostPort[] {
  const port = beaconPort(env);
  const out: HostPort[] = parseHostPortList(envList(env, 'EPICS_CAS_BEACON_ADDR_LIST'), port);
  if (envYes(env, 'EPICS_CAS_AUTO_BEACON_ADDR_LIST', true)) {
    const any = interfaces.length === 0 || interfaces.includes('0.0.0.0');
    const all: NetworkInterfaceInfo[] = [];
    for (const list of Object.values(ifaces)) {
      for (const info of list ?? []) {
        if (info.family !== 'IPv4') continue;
        if (!any && !interfaces.includes(info.address)) continue;
        all.push(info);
      }
    }
    const external = all.filter((i) => !i.internal);
    const chosen = external.length > 0 ? external : all;
    for (const info of chosen) {
      const b = broadcastOf(info);
      if (b) out.push({ host: b, port });
    }
    if (chosen.length === 0 && !any) {
      // An interface that is not in the table (e.g. a routed address): beacon to itself.
      for (const i of interfaces) out.push({ host: i, port });
    }
  }
  const seen = new Set<string>();
  return out.filter((d) => {
    const k = `${d.host}:${d.port}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export class BeaconSender {
  private socket: UdpSocket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sent = 0;
  private counter = 0;
  private delay = FIRST_BEACON_DELAY;

  constructor(
    private readonly destinations: HostPort[],
    private readonly tcpPort: number,
    /** Steady period in seconds. */
    private readonly period: number,
  ) {}

  /** Beacons sent so far. */
  get count(): number {
    return this.sent;
  }

  async start(): Promise<void> {
    const s = createSocket({ type: 'udp4' });
    s.on('error', () => {
      /* a failed send (unreachable destination) must not bring the server down */
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(0, () => {
        s.off('error', reject);
        resolve();
      });
    });
    try {
      s.setBroadcast(true);
    } catch {
      /* not fatal */
    }
    s.unref();
    this.socket = s;
    this.beacon();
  }

  private beacon(): void {
    const s = this.socket;
    if (!s) return;
    const n = this.sent === 0 ? 0 : this.counter++;
    const msg = beaconMessage(this.tcpPort, n);
    for (const d of this.destinations) {
      s.send(msg, d.port, d.host, () => {
        /* ignore send errors */
      });
    }
    this.sent++;
    const wait = Math.min(this.delay, this.period);
    if (this.delay < this.period) this.delay *= 2;
    this.timer = setTimeout(() => this.beacon(), wait * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
