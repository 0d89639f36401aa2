// Fuzz the CA client: a fake server (raw UDP + TCP on loopback) answers a real client's searches,
// channel creations, gets, puts and subscriptions with random and mutated messages drawn from the
// server messages softIoc sent in the recorded traces (test/fixtures/ca-traces/*.jsonl), while the
// same client also uses a well-behaved server. For a bounded time: no uncaught exception, no
// unhandled rejection, every failure reaching a caller is a typed CaError, and the circuit to the
// good server keeps working (gets succeed, its subscription keeps delivering).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { Context } from '../../src/client/context.js';
import { CaError } from '../../src/client/errors.js';
import type { Channel } from '../../src/client/channel.js';
import { Command, DBR } from '../../src/protocol/constants.js';
import { MessageReader, encodeMessage } from '../../src/protocol/header.js';
import { serve } from '../../src/server/index.js';
import { flipBytes, randomBytes, reencode, rng } from '../helpers/fuzz.js';
import { loadTrace, tcpStreams, traceNames, udpDatagrams } from '../helpers/traces.js';
import { CrashGuard, LOOPBACK, figure, mb, memNow, openFds, sleep, until } from './helpers.js';

const FUZZ_MS = Number(process.env.TSEPICS_FUZZ_MS ?? 4000);

interface Corpus {
  /** Server → client TCP messages, by command. */
  byCommand: Map<number, Buffer[]>;
  all: Buffer[];
  /** Server → client UDP datagrams (search replies, beacons...). */
  udp: Buffer[];
}

function loadCorpus(): Corpus {
  const byCommand = new Map<number, Buffer[]>();
  const all: Buffer[] = [];
  const udp: Buffer[] = [];
  for (const name of traceNames()) {
    const packets = loadTrace(name);
    for (const s of tcpStreams(packets).values()) {
      if (s.from !== 'server') continue;
      for (const m of s.messages) {
        if (m.payload.length > 256 * 1024) continue; // keep the corpus small
        const b = reencode(m);
        all.push(b);
        const list = byCommand.get(m.command) ?? [];
        list.push(b);
        byCommand.set(m.command, list);
      }
    }
    for (const d of udpDatagrams(packets)) if (d.packet.from === 'server') udp.push(d.packet.data);
  }
  return { byCommand, all, udp };
}

function mutate(b: Buffer, r: () => number): Buffer {
  const out = Buffer.from(b);
  const int = (n: number): number => Math.floor(r() * n);
  switch (int(7)) {
    case 0: // flip bytes anywhere
      return flipBytes(out, r);
    case 1: // flip header bytes (command, size, type, count)
      for (let i = 0; i < 1 + int(3); i++) out[int(Math.min(16, out.length))] = int(256);
      return out;
    case 2: // truncated: shifts the framing
      return out.subarray(0, int(out.length));
    case 3: {
      // a random, possibly huge or misaligned, payload size (short or extended header)
      if (out.length < 16) return out;
      if (r() < 0.5) {
        out.writeUInt16BE(int(0x10000), 2);
        return out;
      }
      const ext = Buffer.alloc(24);
      out.copy(ext, 0, 0, 16);
      ext.writeUInt16BE(0xffff, 2);
      ext.writeUInt32BE(r() < 0.5 ? int(4096) * 8 : int(0x100000000), 16);
      ext.writeUInt32BE(int(0x100000000), 20);
      return ext;
    }
    case 4: {
      // random data type / count (decoders must reject what does not fit)
      if (out.length < 16) return out;
      out.writeUInt16BE(r() < 0.7 ? int(40) : int(0x10000), 4);
      out.writeUInt16BE(r() < 0.5 ? int(4) : int(0x10000), 6);
      return out;
    }
    case 5: {
      return randomBytes(r, 1 + int(64));
    }
    default:
      return out;
  }
}

/** The hostile server: answers searches for F:* and speaks fuzzed CA on its circuits. */
class FuzzServer {
  udp = dgram.createSocket('udp4');
  tcp = net.createServer();
  readonly sockets = new Set<net.Socket>();
  readonly clientUdp = new Set<string>();
  circuits = 0;
  sent = 0;
  private timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly corpus: Corpus,
    private readonly r: () => number,
  ) {}

  get tcpPort(): number {
    return (this.tcp.address() as net.AddressInfo).port;
  }
  get udpPort(): number {
    return this.udp.address().port;
  }

  async start(): Promise<void> {
    this.udp.on('error', () => undefined);
    this.udp.on('message', (buf, rinfo) => this.onSearch(buf, rinfo));
    await new Promise<void>((res) => this.udp.bind(0, LOOPBACK, () => res()));
    this.tcp.on('connection', (s) => this.onCircuit(s));
    await new Promise<void>((res) => this.tcp.listen(0, LOOPBACK, () => res()));
  }

  private pick(list: Buffer[] | undefined): Buffer | undefined {
    if (!list || list.length === 0) return undefined;
    return list[Math.floor(this.r() * list.length)];
  }

  private onSearch(buf: Buffer, rinfo: dgram.RemoteInfo): void {
    this.clientUdp.add(`${rinfo.address}:${rinfo.port}`);
    const r = this.r;
    const out: Buffer[] = [];
    for (let off = 0; off + 16 <= buf.length; off += 16 + buf.readUInt16BE(off + 2)) {
      if (buf.readUInt16BE(off) !== Command.SEARCH) continue;
      const cid = buf.readUInt32BE(off + 8);
      const nameEnd = buf.indexOf(0, off + 16);
      const name = buf.toString('latin1', off + 16, nameEnd < 0 ? buf.length : nameEnd);
      if (!name.startsWith('F:')) continue;
      const body = Buffer.alloc(8);
      body.writeUInt16BE(13, 0);
      const reply = encodeMessage(
        {
          command: Command.SEARCH,
          dataType: this.tcpPort,
          dataCount: 0,
          parameter1: 0xffffffff,
          parameter2: cid,
        },
        body,
      );
      out.push(r() < 0.85 ? reply : mutate(reply, r));
    }
    if (out.length === 0) return;
    const version = encodeMessage({
      command: Command.VERSION,
      dataType: 0,
      dataCount: 13,
      parameter1: 0,
      parameter2: 0,
    });
    const parts = [version, ...out];
    if (r() < 0.3) {
      const d = this.pick(this.corpus.udp);
      if (d) parts.push(mutate(d, r));
    }
    this.udp.send(Buffer.concat(parts), rinfo.port, rinfo.address);
  }

  /** Mutated datagrams straight at the client's UDP port (search replies, beacons, garbage). */
  sprayUdp(): void {
    for (const dest of this.clientUdp) {
      const [host, port] = dest.split(':');
      const d = this.pick(this.corpus.udp);
      if (d) this.udp.send(this.r() < 0.7 ? mutate(d, this.r) : d, Number(port), host);
    }
  }

  private onCircuit(s: net.Socket): void {
    this.circuits++;
    this.sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => this.sockets.delete(s));
    const r = this.r;
    const write = (b: Buffer): void => {
      if (!s.destroyed && s.writable) {
        s.write(b);
        this.sent++;
      }
    };
    const answer = (b: Buffer | undefined, fix: (o: Buffer) => void): void => {
      if (!b) return;
      const o = Buffer.from(b);
      if (o.length >= 16) fix(o);
      write(r() < 0.3 ? mutate(o, r) : o);
    };
    const reader = new MessageReader(16 * 1024 * 1024, false);
    s.on('data', (chunk) => {
      try {
        reader.push(chunk, (m) => {
          const c = this.corpus.byCommand;
          switch (m.command) {
            case Command.VERSION:
              answer(this.pick(c.get(Command.VERSION)), () => undefined);
              break;
            case Command.CREATE_CHAN:
              answer(this.pick(c.get(Command.ACCESS_RIGHTS)), (o) => o.writeUInt32BE(m.parameter1, 8));
              answer(this.pick(c.get(r() < 0.9 ? Command.CREATE_CHAN : Command.CREATE_CH_FAIL)), (o) => {
                o.writeUInt32BE(m.parameter1, 8);
                o.writeUInt32BE(1000 + m.parameter1, 12);
              });
              break;
            case Command.READ_NOTIFY:
            case Command.WRITE_NOTIFY:
            case Command.EVENT_ADD: {
              const n = m.command === Command.EVENT_ADD ? 1 + Math.floor(r() * 4) : 1;
              for (let k = 0; k < n; k++) {
                const pool = r() < 0.1 ? c.get(Command.ERROR) : c.get(m.command);
                answer(this.pick(pool), (o) => {
                  if (o.readUInt16BE(0) !== Command.ERROR) o.writeUInt32BE(m.parameter2, 12);
                });
              }
              break;
            }
            case Command.ECHO:
              if (r() < 0.8) write(Buffer.from(chunk.subarray(0, 16)));
              break;
            default:
              break;
          }
        });
      } catch {
        s.destroy();
      }
    });
    // Unsolicited traffic: corpus messages (some mutated), now and then a reset mid-message.
    const tick = (): void => {
      if (this.stopped || s.destroyed) return;
      const b = this.pick(this.corpus.all);
      if (b) {
        const roll = r();
        if (roll < 0.02) {
          s.write(b.subarray(0, Math.floor(b.length / 2)));
          s.resetAndDestroy();
          return;
        }
        write(roll < 0.4 ? mutate(b, r) : b);
      }
      const t = setTimeout(tick, 2 + Math.floor(r() * 20));
      this.timers.add(t);
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((res) => this.tcp.close(() => res()));
    await new Promise<void>((res) => this.udp.close(() => res()));
  }
}

describe('client fuzzing', () => {
  it(`a hostile server for ${FUZZ_MS} ms: no crash, typed errors, the good circuit keeps working`, async (t) => {
    const seed = Number(process.env.TSEPICS_FUZZ_SEED ?? Date.now() % 1000000);
    t.diagnostic(`seed ${seed} (TSEPICS_FUZZ_SEED to replay)`);
    const r = rng(seed);
    const corpus = loadCorpus();
    assert.ok(corpus.all.length > 100, `corpus of ${corpus.all.length} messages`);
    const guard = new CrashGuard().install();
    const good = await serve({
      port: 0,
      env: {
        EPICS_CAS_INTF_ADDR_LIST: LOOPBACK,
        EPICS_CAS_AUTO_BEACON_ADDR_LIST: 'NO',
        EPICS_CAS_BEACON_ADDR_LIST: LOOPBACK,
        EPICS_CAS_BEACON_PORT: '9',
      },
      pvs: { 'G:x': { type: 'double', value: 5 }, 'G:tick': { type: 'long', value: 0 } },
    });
    const fuzz = new FuzzServer(corpus, r);
    await fuzz.start();
    const fds0 = openFds();
    const mem0 = memNow();
    const ctx = new Context({
      env: {
        EPICS_CA_ADDR_LIST: `${LOOPBACK}:${fuzz.udpPort} ${LOOPBACK}:${good.udpPort}`,
        EPICS_CA_AUTO_ADDR_LIST: 'NO',
        EPICS_CA_MAX_SEARCH_PERIOD: '60',
      },
      repeater: false,
      onException: () => undefined,
    });
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, memNow())), 20);
    let tickN = 0;
    const ticker = setInterval(() => good.pv('G:tick').post(++tickN), 10);
    const stats = { ops: 0, typed: 0, untyped: [] as unknown[], goodGets: 0, goodFail: [] as unknown[] };
    const expectTyped = (e: unknown): void => {
      if (e instanceof CaError) stats.typed++;
      else stats.untyped.push(e);
    };
    try {
      const g = ctx.channel('G:x');
      const gt = ctx.channel('G:tick');
      await Promise.all([g.waitForConnection(5), gt.waitForConnection(5)]);
      let ticks = 0;
      gt.subscribe({ dbrType: DBR.LONG }, () => ticks++);
      const end = Date.now() + FUZZ_MS;

      const goodLoop = async (): Promise<void> => {
        while (Date.now() < end) {
          try {
            const v = await g.get({ dbrType: DBR.DOUBLE, timeout: 2 });
            assert.equal((v.value as Float64Array)[0], 5);
            stats.goodGets++;
          } catch (e) {
            stats.goodFail.push(e);
          }
          await sleep(5);
        }
      };
      const hostileLoop = async (k: number): Promise<void> => {
        while (Date.now() < end) {
          const ch: Channel = ctx.channel(`F:pv${k}_${Math.floor(r() * 8)}`, {
            priority: Math.floor(r() * 3),
          });
          const ops: Promise<void>[] = [];
          const track = (p: Promise<unknown>): void => {
            ops.push(p.then(() => undefined, expectTyped));
          };
          try {
            await ch.waitForConnection(0.5);
            track(ch.get({ timeout: 0.5 }));
            track(ch.get({ dbrType: Math.floor(r() * 35), timeout: 0.5 }));
            track(ch.put(new Float64Array([r()]), { dbrType: DBR.DOUBLE, wait: true, timeout: 0.5 }));
            const sub = ch.subscribe({ dbrType: DBR.TIME_DOUBLE }, () => undefined);
            await sleep(20 + Math.floor(r() * 50));
            sub.clear();
          } catch (e) {
            expectTyped(e);
          }
          stats.ops += ops.length + 1;
          await Promise.all(ops);
          ch.close();
          if (r() < 0.3) fuzz.sprayUdp();
        }
      };
      await Promise.all([goodLoop(), ...Array.from({ length: 6 }, (_, k) => hostileLoop(k))]);
      const ticksAtEnd = ticks;
      await until(() => ticks > ticksAtEnd + 5, 3, 'the good subscription still delivering');

      figure(
        t,
        `client fuzz: ${fuzz.sent} hostile messages on ${fuzz.circuits} circuits, ${stats.ops} operations, ${stats.typed} typed errors, ${stats.goodGets} good gets, 0 crashes`,
      );
      assert.deepEqual(stats.untyped, [], 'every failure a caller saw is a CaError');
      assert.deepEqual(stats.goodFail, [], 'no get on the good server failed');
      assert.ok(stats.goodGets > 20, `only ${stats.goodGets} good gets`);
      assert.ok(fuzz.circuits > 0 && fuzz.sent > 100, 'the hostile server was exercised');
      assert.equal(ctx.circuitCount >= 1, true);
    } finally {
      clearInterval(ticker);
      clearInterval(sampler);
      await ctx.close();
      await fuzz.stop();
      await good.stop();
      guard.uninstall();
    }
    await sleep(50);
    (globalThis as { gc?: () => void }).gc?.(); // with --expose-gc: memory after = what is retained
    const fds1 = openFds();
    figure(
      t,
      `client fuzz: descriptors ${fds0} -> ${fds1}, memory ${mb(mem0)} -> ${mb(memNow())} (peak ${mb(peak)})`,
    );
    // A hostile size field must not make the client reserve what was never sent.
    assert.ok(peak - mem0 < 150 * 1048576, `memory peaked at ${mb(peak)}`);
    assert.deepEqual(guard.errors, [], 'no uncaught exception or unhandled rejection');
    if (fds0 >= 0) assert.ok(fds1 <= fds0 + 2, `descriptors leaked: ${fds0} -> ${fds1}`);
  });
});
