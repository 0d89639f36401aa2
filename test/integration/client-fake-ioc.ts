/**
 * A fake CA server for client tests that answers with the bytes RSRV (softIoc) recorded in
 * test/fixtures/ca-traces/*.jsonl: channel types/counts/rights, READ_NOTIFY replies, subscription
 * updates, WRITE_NOTIFY statuses and ERROR texts are taken from the recordings, with ids rewritten
 * to the ones the client under test uses. Loopback only, port chosen by the OS (or given).
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from '../../src/protocol/constants.js';
import {
  MessageReader,
  decodeDatagram,
  encodeHeaderOnly,
  encodeMessage,
  writeHeader,
} from '../../src/protocol/header.js';
import type { Message } from '../../src/protocol/header.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** test/fixtures/ca-traces, found from dist/test/integration or test/integration. */
export const TRACE_DIR = [
  path.resolve(here, '../../../test/fixtures/ca-traces'),
  path.resolve(here, '../fixtures/ca-traces'),
].find((d) => fs.existsSync(d))!;

interface TraceLine {
  t: number;
  proto: 'tcp' | 'udp';
  from: 'client' | 'server';
  src_port: number;
  dst_port: number;
  hex: string;
}

export interface RecordedReply {
  dataType: number;
  dataCount: number;
  status: number;
  payload: Buffer;
}

export interface FakePv {
  name: string;
  type: number;
  count: number;
  rights: number;
  /** key `${dbrType}:${count}` → reply */
  reads: Map<string, RecordedReply>;
  /** recorded subscription updates (in order) */
  events: RecordedReply[];
  /** written payload hex → WRITE_NOTIFY status */
  writeNotify: Map<string, number>;
  /** written payload hex → ERROR status + text for a plain WRITE */
  writeError: Map<string, { status: number; text: string }>;
}

function copyMsg(m: Message): RecordedReply {
  return {
    dataType: m.dataType,
    dataCount: m.dataCount,
    status: m.parameter1,
    payload: Buffer.from(m.payload),
  };
}

/** Load the PVs seen in recorded traces. */
export function loadTracePvs(names: string[]): Map<string, FakePv> {
  const pvs = new Map<string, FakePv>();
  for (const n of names) {
    const lines = fs
      .readFileSync(path.join(TRACE_DIR, `${n}.jsonl`), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as TraceLine);
    const streams = new Map<string, Buffer[]>();
    for (const l of lines) {
      if (l.proto !== 'tcp') continue;
      const k = `${l.src_port}>${l.dst_port}`;
      const list = streams.get(k) ?? [];
      list.push(Buffer.from(l.hex, 'hex'));
      streams.set(k, list);
    }
    for (const [k, chunks] of streams) {
      const [src, dst] = k.split('>');
      if (dst !== '25064') continue; // client → server stream
      const cli = decodeAll(Buffer.concat(chunks));
      const srv = decodeAll(Buffer.concat(streams.get(`${dst}>${src}`) ?? []));
      const cidName = new Map<number, string>();
      const sidName = new Map<number, string>();
      const ioReq = new Map<number, Message>();
      const subName = new Map<number, string>();
      for (const m of cli) {
        if (m.command === Command.CREATE_CHAN) cidName.set(m.parameter1, cstr(m.payload));
      }
      for (const m of srv) {
        if (m.command === Command.CREATE_CHAN) {
          const name = cidName.get(m.parameter1)!;
          sidName.set(m.parameter2, name);
          const pv = pvs.get(name) ?? newPv(name);
          pv.type = m.dataType;
          pv.count = m.dataCount;
          pvs.set(name, pv);
        } else if (m.command === Command.ACCESS_RIGHTS) {
          const name = cidName.get(m.parameter1)!;
          const pv = pvs.get(name) ?? newPv(name);
          pv.rights = m.parameter2;
          pvs.set(name, pv);
        }
      }
      for (const m of cli) {
        if (m.command === Command.READ_NOTIFY || m.command === Command.WRITE_NOTIFY)
          ioReq.set(m.parameter2, m);
        if (m.command === Command.EVENT_ADD) subName.set(m.parameter2, sidName.get(m.parameter1)!);
      }
      for (const m of srv) {
        if (m.command === Command.READ_NOTIFY) {
          const req = ioReq.get(m.parameter2);
          if (!req) continue;
          const pv = pvs.get(sidName.get(req.parameter1)!)!;
          pv.reads.set(`${req.dataType}:${req.dataCount}`, copyMsg(m));
        } else if (m.command === Command.WRITE_NOTIFY) {
          const req = ioReq.get(m.parameter2);
          if (!req) continue;
          pvs.get(sidName.get(req.parameter1)!)!.writeNotify.set(req.payload.toString('hex'), m.parameter1);
        } else if (m.command === Command.EVENT_ADD && m.payloadSize > 0) {
          const name = subName.get(m.parameter2);
          if (name) pvs.get(name)!.events.push(copyMsg(m));
        } else if (m.command === Command.ERROR) {
          // Payload = the failed request's header (no payload) + text; find the request by its header.
          const h = m.payload.subarray(0, 16);
          const req = cli.find(
            (q) =>
              q.command === h.readUInt16BE(0) &&
              q.parameter1 === h.readUInt32BE(8) &&
              q.parameter2 === h.readUInt32BE(12),
          );
          if (req && req.command === Command.WRITE) {
            const text = cstr(m.payload.subarray(16));
            pvs
              .get(sidName.get(req.parameter1)!)!
              .writeError.set(req.payload.toString('hex'), { status: m.parameter2, text });
          }
        }
      }
    }
  }
  return pvs;
}

function newPv(name: string): FakePv {
  return {
    name,
    type: 0,
    count: 1,
    rights: 3,
    reads: new Map(),
    events: [],
    writeNotify: new Map(),
    writeError: new Map(),
  };
}

function cstr(b: Buffer): string {
  const i = b.indexOf(0);
  return b.subarray(0, i < 0 ? b.length : i).toString('latin1');
}

function decodeAll(b: Buffer): Message[] {
  const out: Message[] = [];
  const r = new MessageReader();
  r.push(b, (m) => out.push({ ...m, payload: Buffer.from(m.payload) }));
  return out;
}

export interface FakeIocOptions {
  port?: number;
  /** Do not answer ECHO (to test the client's unresponsive detection). */
  ignoreEcho?: boolean;
  /** Server minor version announced (default 13). */
  minor?: number;
  /** Interval between replayed subscription updates after the first, ms (default 20). */
  eventIntervalMs?: number;
}

interface ServedChannel {
  pv: FakePv;
  cid: number;
  sid: number;
}

interface Conn {
  socket: net.Socket;
  channels: Map<number, ServedChannel>;
  timers: Set<NodeJS.Timeout>;
  priority: number;
}

/** Fake IOC serving the PVs of recorded traces. */
export class FakeIoc {
  readonly pvs: Map<string, FakePv>;
  port = 0;
  private udp: dgram.Socket | undefined;
  private tcp: net.Server | undefined;
  private readonly conns = new Set<Conn>();
  private nextSid = 100;
  /** Every message received over TCP (tests inspect it). */
  readonly received: Message[] = [];
  /** Search requests received (names). */
  readonly searches: string[] = [];
  /** Extra per-message hook: return true when handled. */
  hook: ((m: Message, conn: Conn, reply: (b: Buffer) => void) => boolean) | undefined;
  ignoreEcho: boolean;
  /** Keep every received message in `received` (default true). */
  record = true;

  constructor(
    pvs: Map<string, FakePv>,
    private readonly opts: FakeIocOptions = {},
  ) {
    this.pvs = pvs;
    this.ignoreEcho = opts.ignoreEcho ?? false;
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  async start(): Promise<number> {
    const tcp = net.createServer((s) => this.accept(s));
    await new Promise<void>((res, rej) => {
      tcp.once('error', rej);
      tcp.listen({ host: '127.0.0.1', port: this.opts.port ?? this.port ?? 0, exclusive: true }, () => res());
    });
    this.tcp = tcp;
    this.port = (tcp.address() as net.AddressInfo).port;
    const udp = dgram.createSocket({ type: 'udp4' });
    await new Promise<void>((res, rej) => {
      udp.once('error', rej);
      udp.bind({ address: '127.0.0.1', port: this.port, exclusive: true }, () => res());
    });
    udp.on('message', (b, r) => this.onUdp(b, r));
    this.udp = udp;
    return this.port;
  }

  /** Stop: close every circuit (like an IOC dying) and the sockets. */
  async stop(): Promise<void> {
    for (const c of this.conns) {
      for (const t of c.timers) clearTimeout(t);
      c.socket.destroy();
    }
    this.conns.clear();
    const u = this.udp;
    this.udp = undefined;
    if (u) await new Promise<void>((res) => u.close(() => res()));
    const t = this.tcp;
    this.tcp = undefined;
    if (t) await new Promise<void>((res) => t.close(() => res()));
  }

  /** Send raw bytes on every open circuit. */
  sendRaw(b: Buffer): void {
    for (const c of this.conns) c.socket.write(b);
  }

  /** Send a beacon to a repeater port. */
  beacon(repeaterPort: number, number: number): void {
    const b = encodeHeaderOnly(Command.RSRV_IS_UP, 13, this.port, number, 0x7f000001);
    this.udp?.send(b, repeaterPort, '127.0.0.1');
  }

  private onUdp(buf: Buffer, rinfo: dgram.RemoteInfo): void {
    let msgs: Message[];
    try {
      msgs = decodeDatagram(buf);
    } catch {
      return;
    }
    const out: Buffer[] = [];
    let seq = 0;
    for (const m of msgs) {
      if (m.command === Command.VERSION) seq = m.parameter1;
      if (m.command !== Command.SEARCH) continue;
      const name = cstr(m.payload);
      this.searches.push(name);
      if (!this.pvs.has(name)) continue;
      const minor = Buffer.alloc(8);
      minor.writeUInt16BE(this.opts.minor ?? 13, 0);
      out.push(
        encodeMessage(
          {
            command: Command.SEARCH,
            dataType: this.port,
            dataCount: 0,
            parameter1: 0xffffffff,
            parameter2: m.parameter2,
          },
          minor,
        ),
      );
    }
    if (out.length === 0) return;
    out.unshift(encodeHeaderOnly(Command.VERSION, 1, 13, seq, 0));
    this.udp?.send(Buffer.concat(out), rinfo.port, rinfo.address);
  }

  private accept(s: net.Socket): void {
    s.setNoDelay(true);
    const conn: Conn = { socket: s, channels: new Map(), timers: new Set(), priority: -1 };
    this.conns.add(conn);
    s.write(encodeHeaderOnly(Command.VERSION, 0, this.opts.minor ?? 13, 0, 0));
    const reader = new MessageReader(1 << 30, true);
    s.on('data', (chunk) => {
      s.cork();
      try {
        reader.push(chunk, (m) => this.onTcp(conn, m));
      } catch {
        s.destroy();
      }
      process.nextTick(() => s.uncork());
    });
    s.on('error', () => {});
    s.on('close', () => {
      for (const t of conn.timers) clearTimeout(t);
      this.conns.delete(conn);
    });
  }

  private onTcp(conn: Conn, m: Message): void {
    if (this.record) this.received.push({ ...m, payload: Buffer.from(m.payload) });
    const reply = (b: Buffer): void => {
      if (!conn.socket.destroyed) conn.socket.write(b);
    };
    if (this.hook?.(m, conn, reply)) return;
    switch (m.command) {
      case Command.VERSION:
        conn.priority = m.dataType;
        return;
      case Command.SEARCH: {
        // Name-server use: reply without payload, address = this circuit's peer.
        const name = cstr(m.payload);
        this.searches.push(name);
        if (this.pvs.has(name)) reply(header(Command.SEARCH, 0, this.port, 0, 0xffffffff, m.parameter2));
        else if (m.dataType === 10)
          reply(header(Command.NOT_FOUND, 0, m.dataType, m.dataCount, m.parameter1, m.parameter2));
        return;
      }
      case Command.CREATE_CHAN: {
        const name = cstr(m.payload);
        const pv = this.pvs.get(name);
        if (!pv) {
          reply(encodeHeaderOnly(Command.CREATE_CH_FAIL, 0, 0, m.parameter1, 0));
          return;
        }
        const sid = this.nextSid++;
        conn.channels.set(sid, { pv, cid: m.parameter1, sid });
        reply(
          Buffer.concat([
            encodeHeaderOnly(Command.ACCESS_RIGHTS, 0, 0, m.parameter1, pv.rights),
            header(Command.CREATE_CHAN, 0, pv.type, pv.count, m.parameter1, sid),
          ]),
        );
        return;
      }
      case Command.READ_NOTIFY: {
        const ch = conn.channels.get(m.parameter1);
        if (!ch) return void conn.socket.destroy();
        const r =
          ch.pv.reads.get(`${m.dataType}:${m.dataCount}`) ??
          [...ch.pv.reads.entries()].find(([k]) => k.startsWith(`${m.dataType}:`))?.[1];
        if (!r) {
          reply(header(Command.READ_NOTIFY, 0, m.dataType, m.dataCount, 152, m.parameter2));
          return;
        }
        reply(withPayload(Command.READ_NOTIFY, r.dataType, r.dataCount, r.status, m.parameter2, r.payload));
        return;
      }
      case Command.WRITE_NOTIFY: {
        const ch = conn.channels.get(m.parameter1);
        if (!ch) return void conn.socket.destroy();
        const st = ch.pv.writeNotify.get(m.payload.toString('hex')) ?? 1;
        reply(header(Command.WRITE_NOTIFY, 0, m.dataType, m.dataCount, st, m.parameter2));
        return;
      }
      case Command.WRITE: {
        const ch = conn.channels.get(m.parameter1);
        if (!ch) return void conn.socket.destroy();
        const e = ch.pv.writeError.get(m.payload.toString('hex'));
        if (e) {
          const h = header(m.command, m.payloadSize, m.dataType, m.dataCount, m.parameter1, m.parameter2);
          reply(
            encodeMessage(
              { command: Command.ERROR, dataType: 0, dataCount: 0, parameter1: ch.cid, parameter2: e.status },
              Buffer.concat([h, Buffer.from(e.text + '\0', 'latin1')]),
            ),
          );
        }
        return;
      }
      case Command.EVENT_ADD: {
        const ch = conn.channels.get(m.parameter1);
        if (!ch) return void conn.socket.destroy();
        const evs =
          ch.pv.events.length > 0
            ? ch.pv.events
            : [...ch.pv.reads.values()].filter((r) => r.dataType === m.dataType).slice(0, 1);
        let i = 0;
        const subid = m.parameter2;
        const send = (): void => {
          const e = evs[i++];
          if (!e) return;
          reply(withPayload(Command.EVENT_ADD, e.dataType, e.dataCount, e.status, subid, e.payload));
          if (i < evs.length) {
            const t = setTimeout(() => {
              conn.timers.delete(t);
              send();
            }, this.opts.eventIntervalMs ?? 20);
            conn.timers.add(t);
          }
        };
        send();
        return;
      }
      case Command.EVENT_CANCEL:
        reply(header(Command.EVENT_ADD, 0, m.dataType, m.dataCount, m.parameter1, m.parameter2));
        return;
      case Command.CLEAR_CHANNEL:
        conn.channels.delete(m.parameter1);
        reply(header(Command.CLEAR_CHANNEL, 0, 0, 0, m.parameter1, m.parameter2));
        return;
      case Command.ECHO:
        if (!this.ignoreEcho) reply(encodeHeaderOnly(Command.ECHO));
        return;
      default:
        return;
    }
  }
}

export function header(
  command: number,
  payloadSize: number,
  dataType: number,
  dataCount: number,
  p1: number,
  p2: number,
): Buffer {
  const b = Buffer.alloc(dataCount >= 0xffff || payloadSize >= 0xffff ? 24 : 16);
  writeHeader(b, 0, { command, payloadSize, dataType, dataCount, parameter1: p1, parameter2: p2 });
  return b;
}

export function withPayload(
  command: number,
  dataType: number,
  dataCount: number,
  p1: number,
  p2: number,
  payload: Buffer,
): Buffer {
  return encodeMessage({ command, dataType, dataCount, parameter1: p1, parameter2: p2 }, payload);
}

/** Client environment pointing at a fake IOC on `port`. */
export function clientEnv(port: number, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    EPICS_CA_ADDR_LIST: '127.0.0.1',
    EPICS_CA_AUTO_ADDR_LIST: 'NO',
    EPICS_CA_SERVER_PORT: String(port),
    EPICS_CA_REPEATER_PORT: String(port + 1),
    ...extra,
  };
}
