/**
 * The CA repeater (ca-protocol.md §11): binds the repeater port, registers local clients, confirms
 * with REPEATER_CONFIRM, and fans out every other datagram (beacons) to the registered clients,
 * filling in the source address of beacons whose address field is 0. Usable in-process or from
 * the `tsepics repeater` command.
 */
import dgram from 'node:dgram';
import os from 'node:os';
import { Command } from '../protocol/constants.js';
import { HEADER_SIZE, encodeHeaderOnly } from '../protocol/header.js';
import { ipv4ToInt } from './env.js';

export interface RepeaterOptions {
  port: number;
  /** Address to bind (default all interfaces). */
  address?: string;
  /** Exit (close) after this many seconds without any registered client (0 = never). */
  idleExitSeconds?: number;
  /** Called when the repeater closes itself because it was idle. */
  onIdleExit?: () => void;
}

interface Client {
  host: string;
  port: number;
}

function localAddresses(): Set<string> {
  const s = new Set<string>(['127.0.0.1']);
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4') s.add(a.address);
  }
  return s;
}

export class CaRepeater {
  private socket: dgram.Socket | undefined;
  private readonly clients = new Map<string, Client>();
  private readonly opts: RepeaterOptions;
  private idleTimer: NodeJS.Timeout | undefined;
  private local = localAddresses();
  /** Datagrams forwarded (statistics / tests). */
  forwarded = 0;

  constructor(opts: RepeaterOptions) {
    this.opts = opts;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  get port(): number {
    return this.socket?.address().port ?? this.opts.port;
  }

  /** Bind the port. Resolves false (and holds nothing) when it is already taken. */
  start(): Promise<boolean> {
    return new Promise((resolve) => {
      const sock = dgram.createSocket({ type: 'udp4', reuseAddr: false });
      sock.once('error', () => {
        sock.close();
        resolve(false);
      });
      sock.bind({ port: this.opts.port, address: this.opts.address ?? '0.0.0.0', exclusive: true }, () => {
        sock.removeAllListeners('error');
        sock.on('error', () => {
          /* send failures to vanished clients are not fatal */
        });
        sock.on('message', (buf, rinfo) => this.onMessage(buf, rinfo));
        this.socket = sock;
        this.armIdle();
        resolve(true);
      });
    });
  }

  close(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const s = this.socket;
    this.socket = undefined;
    this.clients.clear();
    return new Promise((res) => (s ? s.close(() => res()) : res()));
  }

  /** Keep the process alive only while ref'd (the CLI keeps it ref'd, in-process users may not). */
  unref(): void {
    this.socket?.unref();
  }

  private armIdle(): void {
    const secs = this.opts.idleExitSeconds ?? 0;
    if (!(secs > 0)) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      void this.verifyClients().then(() => {
        if (this.clients.size === 0 && this.socket) {
          void this.close().then(() => this.opts.onIdleExit?.());
        } else this.armIdle();
      });
    }, secs * 1000);
  }

  private onMessage(buf: Buffer, rinfo: dgram.RemoteInfo): void {
    const cmd = buf.length >= HEADER_SIZE ? buf.readUInt16BE(0) : -1;
    if (buf.length === 0 || cmd === Command.REPEATER_REGISTER) {
      this.register(rinfo);
      return;
    }
    if (buf.length < HEADER_SIZE) return;
    let out = buf;
    if (cmd === Command.RSRV_IS_UP && buf.readUInt32BE(12) === 0) {
      out = Buffer.from(buf);
      out.writeUInt32BE(ipv4ToInt(rinfo.address) ?? 0, 12);
    }
    for (const c of this.clients.values()) {
      if (c.host === rinfo.address && c.port === rinfo.port) continue;
      this.socket?.send(out, c.port, c.host);
      this.forwarded++;
    }
  }

  private register(rinfo: dgram.RemoteInfo): void {
    if (!this.local.has(rinfo.address)) {
      this.local = localAddresses();
      if (!this.local.has(rinfo.address)) return; // registrations must come from this host
    }
    const key = `${rinfo.address}:${rinfo.port}`;
    const isNew = !this.clients.has(key);
    this.clients.set(key, { host: rinfo.address, port: rinfo.port });
    const confirm = encodeHeaderOnly(Command.REPEATER_CONFIRM, 0, 0, 0, ipv4ToInt(rinfo.address) ?? 0);
    this.socket?.send(confirm, rinfo.port, rinfo.address);
    if (isNew) {
      // Noop to the other clients; drop those whose port is gone.
      const noop = encodeHeaderOnly(Command.VERSION);
      for (const c of this.clients.values()) {
        if (c.host === rinfo.address && c.port === rinfo.port) continue;
        this.socket?.send(noop, c.port, c.host);
      }
      void this.verifyClients();
    }
    this.armIdle();
  }

  /** A client whose UDP port can be bound again has gone away (what caRepeater checks). */
  private async verifyClients(): Promise<void> {
    const checks = [...this.clients.entries()].map(
      ([key, c]) =>
        new Promise<void>((resolve) => {
          const probe = dgram.createSocket({ type: 'udp4', reuseAddr: false });
          probe.unref();
          probe.once('error', () => {
            probe.close();
            resolve();
          });
          probe.bind({ port: c.port, address: c.host, exclusive: true }, () => {
            // Bound: nobody holds that port any more.
            this.clients.delete(key);
            probe.close(() => resolve());
          });
        }),
    );
    await Promise.all(checks);
  }
}
