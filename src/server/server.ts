/**
 * The CA server: TCP listeners (one circuit per client), the UDP search responder and the beacon
 * sender, over any ChannelProvider. Ports and addresses follow RSRV (ca-protocol.md §1, §12):
 * EPICS_CAS_SERVER_PORT <- EPICS_CA_SERVER_PORT <- 5064; when the TCP port is taken a random one is
 * bound and advertised; the UDP port is shared (SO_REUSEADDR).
 */
import { createServer } from 'node:net';
import { adoptForReads } from './socket-reads.js';
import type { Server as TcpServer, Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import type { Socket as UdpSocket } from 'node:dgram';
import { DEFAULT_MAX_PAYLOAD } from '../protocol/header.js';
import { BeaconSender, beaconAddresses, broadcastAddressOf } from './beacons.js';
import { Circuit } from './circuit.js';
import type { CircuitContext } from './circuit.js';
import {
  beaconPeriod as envBeaconPeriod,
  envYes,
  ignoreAddresses,
  interfaceList,
  serverPort,
} from './env.js';
import type { Env } from './env.js';
import type { ChannelProvider, ClientIdentity, ServedChannel } from './provider.js';
import type { NativeArray } from '../protocol/values.js';
import { UdpResponder } from './udp-responder.js';

/** What the server asks access security: the rights of a client for a group and level. */
export interface AccessPolicy {
  rightsFor(asg: string, client: ClientIdentity, asl?: number): number;
  /** Whether writes by this client to this group are trapped (ACF TRAPWRITE). Optional. */
  trapWrite?(asg: string, client: ClientIdentity, asl?: number): boolean;
}

/** A completed write that access security marked TRAPWRITE (what caPutLog records). */
export interface TrapWriteEvent {
  /** Channel name. */
  channel: string;
  client: ClientIdentity;
  /** The value as written by the client, in the array type of `dbrType`. */
  value: NativeArray;
  dbrType: number;
  /** ECA status of the write (ECA_NORMAL on success). */
  status: number;
}

export interface CaServerOptions {
  provider: ChannelProvider;
  /** Environment to read EPICS_CA(S)_* from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Server port (overrides the environment). 0: a free TCP port, and the same number for UDP. */
  port?: number;
  /** Interfaces to bind (default EPICS_CAS_INTF_ADDR_LIST, else 0.0.0.0). */
  interfaces?: string[];
  /** Steady beacon period in seconds (default EPICS_CAS_BEACON_PERIOD <- EPICS_CA_BEACON_PERIOD <- 15). */
  beaconPeriod?: number;
  /** Access security (e.g. an `AccessSecurity` parsed from an ACF file). */
  accessSecurity?: AccessPolicy;
  log?: (line: string) => void;
  /** Called after every write that access security marks TRAPWRITE (put logging). */
  onTrapWrite?: (event: TrapWriteEvent) => void;
  /** Largest request payload accepted (default 256 MiB, or EPICS_CA_MAX_ARRAY_BYTES when auto is NO). */
  maxPayload?: number;
  /** Unsent bytes per circuit above which input stops and monitors coalesce (default 1 MiB). */
  highWaterMark?: number;
  /** Unsent bytes per circuit above which it is dropped (default 64 MiB beyond the message sent). */
  hardLimit?: number;
  /**
   * Seconds a put callback may hold up the next one on the same channel before it is answered
   * ECA_PUTCBINPROG (default 60, as RSRV).
   */
  putCallbackTimeout?: number;
}

/** One connected client, for diagnostics (casr-like). */
export interface ClientInfo {
  peer: string;
  user: string;
  host: string;
  channels: number;
  priority: number;
  minor: number;
  backlog: number;
}

function listen(server: TcpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.listen({ port, host, exclusive: true }, () => {
      server.off('error', onError);
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : port);
    });
  });
}

function bindUdp(port: number, host: string): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const s = createSocket({ type: 'udp4', reuseAddr: true });
    const onError = (e: Error): void => {
      s.close();
      reject(e);
    };
    s.once('error', onError);
    s.bind({ port, address: host, exclusive: false }, () => {
      s.off('error', onError);
      s.on('error', () => {
        /* ICMP errors on sends must not kill the responder */
      });
      resolve(s);
    });
  });
}

export class CaServer {
  private readonly provider: ChannelProvider;
  private readonly env: Env;
  private readonly log: (line: string) => void;
  private accessSecurity: AccessPolicy | undefined;
  private readonly tcpServers: TcpServer[] = [];
  private readonly udpSockets: UdpSocket[] = [];
  private readonly circuits = new Set<Circuit>();
  private readonly sockets = new Set<Socket>();
  private readonly refs = new Map<ServedChannel, number>();
  private beacons: BeaconSender | undefined;
  private nextSid = 0;
  private started = false;
  private stopped = false;
  private _tcpPort = 0;
  private _udpPort = 0;
  private readonly ctx: CircuitContext;

  constructor(private readonly opts: CaServerOptions) {
    this.provider = opts.provider;
    this.env = opts.env ?? process.env;
    this.log = opts.log ?? (() => undefined);
    this.accessSecurity = opts.accessSecurity;
    let maxPayload = opts.maxPayload;
    if (maxPayload === undefined) {
      maxPayload = DEFAULT_MAX_PAYLOAD;
      if (!envYes(this.env, 'EPICS_CA_AUTO_ARRAY_BYTES', true)) {
        const n = Number(this.env.EPICS_CA_MAX_ARRAY_BYTES);
        if (Number.isFinite(n) && n > 0) maxPayload = Math.max(16384, Math.floor(n)) + 8;
      }
    }
    const tcpPort = (): number => this._tcpPort;
    this.ctx = {
      provider: this.provider,
      get tcpPort() {
        return tcpPort();
      },
      maxPayload,
      highWaterMark: opts.highWaterMark ?? 1024 * 1024,
      hardLimit: opts.hardLimit ?? 64 * 1024 * 1024,
      putCallbackTimeout: opts.putCallbackTimeout ?? 60,
      allocSid: () => this.allocSid(),
      rightsFor: (ch, client) => this.rightsFor(ch, client),
      // (absent without a put logger: the circuits then need no copy of the value written)
      trapWrite: opts.onTrapWrite
        ? (ch, client, value, dbrType) => this.trapWrite(ch, client, value, dbrType)
        : undefined,
      acquire: (ch) => this.refs.set(ch, (this.refs.get(ch) ?? 0) + 1),
      release: (ch) => {
        const n = (this.refs.get(ch) ?? 1) - 1;
        if (n > 0) this.refs.set(ch, n);
        else {
          this.refs.delete(ch);
          try {
            ch.release?.();
          } catch {
            /* a provider error must not break the circuit */
          }
        }
      },
      log: (line) => this.log(line),
      onClose: (c) => this.circuits.delete(c),
    };
  }

  /** TCP port clients connect to (as advertised in search replies and beacons). */
  get tcpPort(): number {
    return this._tcpPort;
  }

  /** UDP port searches are answered on. */
  get udpPort(): number {
    return this._udpPort;
  }

  /** Number of connected circuits. */
  get clientCount(): number {
    return this.circuits.size;
  }

  /** Connected clients. */
  clients(): ClientInfo[] {
    return [...this.circuits].map((c) => ({
      peer: c.peer,
      user: c.identity.user,
      host: c.identity.host,
      channels: c.channelCount,
      priority: c.priority,
      minor: c.clientMinor,
      backlog: c.backlog,
    }));
  }

  /** Replace the access security configuration (ACF reload): rights are re-sent where they change. */
  setAccessSecurity(as: AccessPolicy | undefined): void {
    this.accessSecurity = as;
    for (const c of this.circuits) c.refreshRights();
  }

  private allocSid(): number {
    const sid = this.nextSid;
    this.nextSid = (this.nextSid + 1) >>> 0;
    return sid;
  }

  private rightsFor(ch: ServedChannel, client: ClientIdentity): number {
    let r: number;
    try {
      r = ch.accessRights(client) & 3;
    } catch {
      r = 0;
    }
    const as = this.accessSecurity;
    if (as && r !== 0) r &= as.rightsFor(ch.asg ?? 'DEFAULT', client, ch.asl ?? 0);
    return r;
  }

  private trapWrite(
    ch: ServedChannel,
    client: ClientIdentity,
    value: NativeArray,
    dbrType: number,
  ): ((status: number) => void) | undefined {
    const as = this.accessSecurity;
    const listener = this.opts.onTrapWrite;
    if (!as?.trapWrite || !listener) return undefined;
    let trapped: boolean;
    try {
      trapped = as.trapWrite(ch.asg ?? 'DEFAULT', client, ch.asl ?? 0);
    } catch {
      trapped = false;
    }
    if (!trapped) return undefined;
    return (status) => {
      try {
        listener({ channel: ch.name, client: { ...client }, value, dbrType, status });
      } catch {
        /* a failing put logger must not disturb the circuit */
      }
    };
  }

  async start(): Promise<void> {
    if (this.started) throw new Error('CaServer already started');
    this.started = true;
    const interfaces = interfaceList(this.env, this.opts.interfaces);
    const wanted = this.opts.port ?? serverPort(this.env);
    try {
      let tcpPort = wanted;
      for (let i = 0; i < interfaces.length; i++) {
        const srv = createServer({ noDelay: true, keepAlive: true, pauseOnConnect: true }, (sock) =>
          this.accept(sock),
        );
        srv.on('error', (e) => this.log(`CAS: TCP server error: ${e.message}`));
        this.tcpServers.push(srv);
        try {
          tcpPort = await listen(srv, tcpPort, interfaces[i]);
        } catch (e) {
          if (i === 0 && (e as NodeJS.ErrnoException).code === 'EADDRINUSE' && tcpPort !== 0) {
            this.log(`CAS: TCP port ${tcpPort} is in use; using a random port`);
            tcpPort = await listen(srv, 0, interfaces[i]);
          } else {
            throw e;
          }
        }
      }
      this._tcpPort = tcpPort;
      const udpPort = wanted === 0 ? tcpPort : wanted;
      const has = (name: string): boolean => {
        try {
          return this.provider.has(name);
        } catch {
          return false;
        }
      };
      const ignore = ignoreAddresses(this.env);
      for (const iface of interfaces) {
        let s: UdpSocket;
        try {
          s = await bindUdp(udpPort, iface);
        } catch (e) {
          if (wanted !== 0) throw e;
          s = await bindUdp(0, iface);
        }
        this.udpSockets.push(s);
        new UdpResponder(s, has, () => this._tcpPort, ignore);
        // A socket bound to one interface does not see broadcasts: also listen on the interface's
        // broadcast address (as RSRV does), answering from the interface's socket.
        const bcast = iface === '0.0.0.0' ? undefined : broadcastAddressOf(iface);
        if (bcast && bcast !== iface) {
          try {
            const b = await bindUdp(s.address().port, bcast);
            this.udpSockets.push(b);
            new UdpResponder(b, has, () => this._tcpPort, ignore, s);
          } catch {
            /* not fatal: unicast and name-server searches still work */
          }
        }
      }
      this._udpPort = this.udpSockets[0].address().port;
      const period = this.opts.beaconPeriod ?? envBeaconPeriod(this.env);
      this.beacons = new BeaconSender(beaconAddresses(this.env, interfaces), this._tcpPort, period);
      await this.beacons.start();
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  private accept(accepted: Socket): void {
    if (this.stopped) {
      accepted.destroy();
      return;
    }
    let c: Circuit | undefined;
    const sock = adoptForReads(accepted, () => c);
    if (!sock) return;
    this.sockets.add(sock);
    sock.once('close', () => this.sockets.delete(sock));
    try {
      c = new Circuit(sock, this.ctx, 'onread');
      this.circuits.add(c);
      sock.resume();
    } catch (e) {
      this.log(`CAS: cannot set up a circuit: ${(e as Error).message}`);
      sock.destroy();
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.beacons?.stop();
    for (const c of [...this.circuits]) c.close();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await Promise.all(
      this.tcpServers.map(
        (srv) => new Promise<void>((resolve) => (srv.listening ? srv.close(() => resolve()) : resolve())),
      ),
    );
    await Promise.all(this.udpSockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.tcpServers.length = 0;
    this.udpSockets.length = 0;
  }
}
