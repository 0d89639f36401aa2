/**
 * EPICS_CA_* environment of the client (ca-protocol.md §1): parsed once per context.
 */
import os from 'node:os';
import { DEFAULT_REPEATER_PORT, DEFAULT_SERVER_PORT } from '../protocol/constants.js';

export interface HostPort {
  host: string;
  port: number;
}

export interface CaClientEnv {
  serverPort: number;
  repeaterPort: number;
  addrList: HostPort[];
  autoAddrList: boolean;
  nameServers: HostPort[];
  /** Receive-silence period before an ECHO probe, seconds. */
  connTmo: number;
  beaconPeriod: number;
  /** Upper bound of the search back-off, seconds (minimum 60). */
  maxSearchPeriod: number;
  maxArrayBytes: number;
  autoArrayBytes: boolean;
  mcastTtl: number;
}

export type EnvLike = Readonly<Record<string, string | undefined>>;

function parsePort(s: string | undefined, dflt: number): number {
  if (s === undefined || s.trim() === '') return dflt;
  const n = Number(s.trim());
  if (!Number.isInteger(n) || n <= 0 || n > 0xffff) return dflt;
  return n;
}

/** EPICS "YES/NO" variable: NO when the value contains "no" or "NO" (as envGetConfigParam users do). */
export function parseYesNo(s: string | undefined, dflt: boolean): boolean {
  if (s === undefined || s.trim() === '') return dflt;
  const v = s.trim();
  if (/no/i.test(v)) return false;
  if (/yes/i.test(v)) return true;
  return dflt;
}

/** A positive real number with a default and a minimum (values below the minimum are raised to it). */
export function parseNumber(s: string | undefined, dflt: number, min = -Infinity): number {
  if (s === undefined || s.trim() === '') return dflt;
  const n = Number(s.trim());
  if (!Number.isFinite(n)) return dflt;
  return n < min ? min : n;
}

/**
 * Parse an address list: whitespace-separated entries `host` or `host:port` (no port = defaultPort).
 * Malformed entries (bad port) are skipped.
 */
export function parseAddrList(s: string | undefined, defaultPort: number): HostPort[] {
  if (!s) return [];
  const out: HostPort[] = [];
  for (const tok of s.trim().split(/\s+/)) {
    if (!tok) continue;
    let host = tok;
    let port = defaultPort;
    const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(tok);
    if (bracket) {
      host = bracket[1]!;
      if (bracket[2]) port = Number(bracket[2]);
    } else {
      const i = tok.lastIndexOf(':');
      if (tok.indexOf(':') !== i) continue; // more than one ':' (and not [v6]:port)
      if (i > 0) {
        host = tok.slice(0, i);
        const p = tok.slice(i + 1);
        if (!/^\d+$/.test(p)) continue;
        port = Number(p);
      }
    }
    if (!(port > 0 && port <= 0xffff) || host === '') continue;
    out.push({ host, port });
  }
  return out;
}

export function readClientEnv(env: EnvLike): CaClientEnv {
  const serverPort = parsePort(env.EPICS_CA_SERVER_PORT, DEFAULT_SERVER_PORT);
  return {
    serverPort,
    repeaterPort: parsePort(env.EPICS_CA_REPEATER_PORT, DEFAULT_REPEATER_PORT),
    addrList: parseAddrList(env.EPICS_CA_ADDR_LIST, serverPort),
    autoAddrList: parseYesNo(env.EPICS_CA_AUTO_ADDR_LIST, true),
    nameServers: parseAddrList(env.EPICS_CA_NAME_SERVERS, serverPort),
    connTmo: parseNumber(env.EPICS_CA_CONN_TMO, 30, 0.1),
    beaconPeriod: parseNumber(env.EPICS_CA_BEACON_PERIOD, 15, 0.1),
    maxSearchPeriod: parseNumber(env.EPICS_CA_MAX_SEARCH_PERIOD, 300, 60),
    maxArrayBytes: Math.floor(parseNumber(env.EPICS_CA_MAX_ARRAY_BYTES, 16384, 16384)),
    autoArrayBytes: parseYesNo(env.EPICS_CA_AUTO_ARRAY_BYTES, true),
    mcastTtl: Math.floor(parseNumber(env.EPICS_CA_MCAST_TTL, 1, 1)),
  };
}

/** IPv4 broadcast address of every up, non-internal interface (ip | ~netmask). */
export function interfaceBroadcastAddresses(): string[] {
  const out = new Set<string>();
  const ifs = os.networkInterfaces();
  for (const list of Object.values(ifs)) {
    for (const a of list ?? []) {
      if (a.family !== 'IPv4' || a.internal) continue;
      const ip = ipv4ToInt(a.address);
      const mask = ipv4ToInt(a.netmask);
      if (ip === undefined || mask === undefined) continue;
      out.add(intToIpv4((ip | ~mask) >>> 0));
    }
  }
  return [...out];
}

/** The search destinations: EPICS_CA_ADDR_LIST plus (AUTO) broadcast addresses, or 127.0.0.1. */
export function searchDestinations(e: CaClientEnv): HostPort[] {
  const out: HostPort[] = [...e.addrList];
  if (e.autoAddrList) {
    const bc = interfaceBroadcastAddresses();
    if (bc.length === 0) out.push({ host: '127.0.0.1', port: e.serverPort });
    for (const host of bc) out.push({ host, port: e.serverPort });
  }
  const seen = new Set<string>();
  return out.filter((d) => {
    const k = `${d.host}:${d.port}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function ipv4ToInt(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const b = Number(m[i]);
    if (b > 255) return undefined;
    v = v * 256 + b;
  }
  return v >>> 0;
}

export function intToIpv4(v: number): string {
  return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}
