/**
 * Server-side EPICS environment variables (ca-protocol.md §1): ports, interface and beacon address
 * lists, beacon period. Pure functions over an env object.
 */
import { DEFAULT_REPEATER_PORT, DEFAULT_SERVER_PORT } from '../protocol/constants.js';

export type Env = Record<string, string | undefined>;

/** A UDP/TCP destination. */
export interface HostPort {
  host: string;
  port: number;
}

function nonEmpty(env: Env, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = env[n];
    if (v !== undefined && v.trim() !== '') return v.trim();
  }
  return undefined;
}

/** Parse a port number; undefined when absent or invalid (callers fall back). */
export function parsePort(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n > 0 && n <= 0xffff ? n : undefined;
}

/** EPICS_CAS_SERVER_PORT <- EPICS_CA_SERVER_PORT <- 5064. */
export function serverPort(env: Env): number {
  return (
    parsePort(nonEmpty(env, 'EPICS_CAS_SERVER_PORT')) ??
    parsePort(nonEmpty(env, 'EPICS_CA_SERVER_PORT')) ??
    DEFAULT_SERVER_PORT
  );
}

/** EPICS_CAS_BEACON_PORT <- EPICS_CA_REPEATER_PORT <- 5065. */
export function beaconPort(env: Env): number {
  return (
    parsePort(nonEmpty(env, 'EPICS_CAS_BEACON_PORT')) ??
    parsePort(nonEmpty(env, 'EPICS_CA_REPEATER_PORT')) ??
    DEFAULT_REPEATER_PORT
  );
}

/** EPICS_CAS_BEACON_PERIOD <- EPICS_CA_BEACON_PERIOD <- 15 s (seconds; invalid values fall back). */
export function beaconPeriod(env: Env): number {
  for (const n of ['EPICS_CAS_BEACON_PERIOD', 'EPICS_CA_BEACON_PERIOD']) {
    const v = nonEmpty(env, n);
    if (v === undefined) continue;
    const f = Number(v);
    if (Number.isFinite(f) && f > 0) return f;
  }
  return 15;
}

/** YES/NO variables: "NO" when the value contains `no` or `NO` (as libca does). */
export function envYes(env: Env, name: string, dflt: boolean): boolean {
  const v = env[name];
  if (v === undefined || v.trim() === '') return dflt;
  return !(v.includes('no') || v.includes('NO'));
}

/** Whitespace-separated list. */
export function envList(env: Env, name: string): string[] {
  const v = env[name];
  if (!v) return [];
  return v.split(/\s+/).filter((s) => s !== '');
}

/** Parse `host` or `host:port` entries (IPv4 literals or names); invalid ports are skipped. */
export function parseHostPortList(entries: string[], defaultPort: number): HostPort[] {
  const out: HostPort[] = [];
  for (const e of entries) {
    const i = e.lastIndexOf(':');
    if (i < 0) {
      out.push({ host: e, port: defaultPort });
      continue;
    }
    const port = parsePort(e.slice(i + 1));
    if (port === undefined || i === 0) continue;
    out.push({ host: e.slice(0, i), port });
  }
  return out;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function isIPv4(s: string): boolean {
  const m = IPV4.exec(s);
  return m !== null && m.slice(1).every((p) => Number(p) <= 255);
}

/** IPv4 dotted quad to u32; undefined when not an IPv4 literal. */
export function ipv4ToInt(s: string): number | undefined {
  if (!isIPv4(s)) return undefined;
  const p = s.split('.').map(Number);
  return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
}

export function intToIpv4(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Strip an IPv4-mapped IPv6 prefix (`::ffff:1.2.3.4` -> `1.2.3.4`). */
export function plainAddress(addr: string | undefined): string {
  if (!addr) return '';
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}

/** Interfaces to bind: explicit list, else EPICS_CAS_INTF_ADDR_LIST, else 0.0.0.0. */
export function interfaceList(env: Env, explicit?: string[]): string[] {
  const list = explicit && explicit.length ? explicit : envList(env, 'EPICS_CAS_INTF_ADDR_LIST');
  const v4 = list.map((s) => s.replace(/:\d+$/, '')).filter((s) => isIPv4(s));
  if (v4.length === 0) return ['0.0.0.0'];
  // 0.0.0.0 cannot be mixed with other interfaces.
  if (v4.includes('0.0.0.0')) return ['0.0.0.0'];
  return [...new Set(v4)];
}

/** Source addresses whose UDP searches are ignored (EPICS_CAS_IGNORE_ADDR_LIST). */
export function ignoreAddresses(env: Env): Set<string> {
  return new Set(envList(env, 'EPICS_CAS_IGNORE_ADDR_LIST').map((e) => e.replace(/:\d+$/, '')));
}
