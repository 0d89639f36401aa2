// Free loopback ports and the Channel Access environment for networked tests.
//
// A CA test needs two ports: the server port (TCP and UDP: searches and circuits) and the
// repeater/beacon port (UDP). freePort() returns a port P such that P and P + 1 are both free for
// TCP and UDP on 127.0.0.1, so caEnv(P) can use P + 1 as the test's own repeater port and tests
// never share a repeater. Ports are drawn at random below the Linux ephemeral range (32768+),
// so an outgoing connection of another process cannot take them between the check and the use.
import dgram from 'node:dgram';
import net from 'node:net';

const LOOPBACK = '127.0.0.1';
const LOW = 20000;
const HIGH = 32000;

/** Error thrown when no free port pair was found. */
export class NoFreePortError extends Error {
  override name = 'NoFreePortError';
}

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ host: LOOPBACK, port, exclusive: true }, () => {
      srv.close(() => resolve(true));
    });
  });
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket({ type: 'udp4', reuseAddr: false });
    sock.unref();
    sock.once('error', () => {
      sock.close();
      resolve(false);
    });
    sock.bind({ address: LOOPBACK, port, exclusive: true }, () => {
      sock.close(() => resolve(true));
    });
  });
}

// Ports handed out by this process, so two calls never return overlapping pairs.
const handedOut = new Set<number>();

/** True when `port` is free for both TCP and UDP on 127.0.0.1. */
export async function portFree(port: number): Promise<boolean> {
  return (await tcpFree(port)) && (await udpFree(port));
}

/**
 * A port P with P and P + 1 both free for TCP and UDP on 127.0.0.1 (P is the CA server port,
 * P + 1 the repeater/beacon port used by caEnv(P)).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const p = LOW + 2 * Math.floor(Math.random() * ((HIGH - LOW) / 2));
    if (handedOut.has(p)) continue;
    if ((await portFree(p)) && (await portFree(p + 1))) {
      handedOut.add(p);
      return p;
    }
  }
  throw new NoFreePortError(`no free TCP+UDP port pair on ${LOOPBACK} in ${LOW}-${HIGH}`);
}

/** The EPICS environment variables for a private, loopback-only CA setup on `port`. */
export interface CaEnv {
  EPICS_CA_SERVER_PORT: string;
  EPICS_CAS_SERVER_PORT: string;
  EPICS_CA_REPEATER_PORT: string;
  EPICS_CAS_BEACON_PORT: string;
  EPICS_CA_ADDR_LIST: string;
  EPICS_CA_AUTO_ADDR_LIST: string;
  EPICS_CAS_INTF_ADDR_LIST: string;
  EPICS_CAS_BEACON_ADDR_LIST: string;
  EPICS_CAS_AUTO_BEACON_ADDR_LIST: string;
  [name: string]: string;
}

/**
 * The env block for server port `port` (repeater/beacon port `repeaterPort`, default port + 1):
 * every search, beacon and circuit stays on 127.0.0.1.
 */
export function caEnv(port: number, repeaterPort: number = port + 1): CaEnv {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`bad CA server port ${port}`);
  if (!Number.isInteger(repeaterPort) || repeaterPort < 1 || repeaterPort > 65535) {
    throw new RangeError(`bad CA repeater port ${repeaterPort}`);
  }
  return {
    EPICS_CA_SERVER_PORT: String(port),
    EPICS_CAS_SERVER_PORT: String(port),
    EPICS_CA_REPEATER_PORT: String(repeaterPort),
    EPICS_CAS_BEACON_PORT: String(repeaterPort),
    EPICS_CA_ADDR_LIST: LOOPBACK,
    EPICS_CA_AUTO_ADDR_LIST: 'NO',
    EPICS_CAS_INTF_ADDR_LIST: LOOPBACK,
    EPICS_CAS_BEACON_ADDR_LIST: LOOPBACK,
    EPICS_CAS_AUTO_BEACON_ADDR_LIST: 'NO',
  };
}

/** The client part of caEnv (EPICS_CA_* only): libca warns about EPICS_CAS_BEACON_ADDR_LIST. */
export function caClientEnv(port: number, repeaterPort: number = port + 1): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(caEnv(port, repeaterPort))) {
    if (k.startsWith('EPICS_CA_')) env[k] = v;
  }
  return env;
}

/**
 * process.env without any EPICS_* variable, merged with `extra` (e.g. caEnv(port)): the
 * environment for a child process that must see only this test's CA setup.
 */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('EPICS_') && v !== undefined) env[k] = v;
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}
