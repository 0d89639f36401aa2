// Half-written messages and connections reset in the middle of a large array, in both directions:
// a scripted server (raw sockets) cuts the real client off mid-reply; raw clients cut the real
// server off mid-request and mid-update. Each side reports a typed error or drops only that
// circuit, reconnects, and leaks neither circuits, subscriptions nor descriptors.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { Context } from '../../src/client/context.js';
import { DisconnectedError } from '../../src/client/errors.js';
import { Command, DBE, DBR, ECA } from '../../src/protocol/constants.js';
import { MessageReader, encodeMessage } from '../../src/protocol/header.js';
import { serve } from '../../src/server/index.js';
import { RawClient, msg, testEnv } from '../integration/server-helpers.js';
import { CrashGuard, LOOPBACK, figure, mb, memNow, openFds, sleep, until } from './helpers.js';

const N = 100_000; // 800 kB of doubles: many TCP segments

type Behaviour = 'half-header' | 'reset-mid-array' | 'end-mid-array' | 'good';

/** A one-PV scripted server: answers searches and serves M:wave, misbehaving as told per circuit. */
class ScriptedServer {
  readonly udp = dgram.createSocket('udp4');
  readonly tcp = net.createServer();
  readonly sockets = new Set<net.Socket>();
  /** Behaviour of the next circuits, in order; 'good' once exhausted. */
  script: Behaviour[] = [];
  circuits = 0;
  readonly payload: Buffer;

  constructor() {
    const v = new Float64Array(N);
    for (let i = 0; i < N; i++) v[i] = i * 0.5;
    this.payload = Buffer.from(v.buffer);
    this.payload.swap64();
  }

  async start(): Promise<void> {
    this.udp.on('error', () => undefined);
    this.udp.on('message', (buf, rinfo) => {
      if (buf.length < 32 || buf.readUInt16BE(16) !== Command.SEARCH) return;
      const body = Buffer.alloc(8);
      body.writeUInt16BE(13, 0);
      const port = (this.tcp.address() as net.AddressInfo).port;
      const reply = Buffer.concat([
        msg(Command.VERSION, 0, 13),
        msg(Command.SEARCH, port, 0, 0xffffffff, buf.readUInt32BE(24), body),
      ]);
      this.udp.send(reply, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => this.udp.bind(0, LOOPBACK, () => r()));
    this.tcp.on('connection', (s) => this.serve(s, this.script.shift() ?? 'good'));
    await new Promise<void>((r) => this.tcp.listen(0, LOOPBACK, () => r()));
  }

  get udpPort(): number {
    return this.udp.address().port;
  }

  private serve(s: net.Socket, how: Behaviour): void {
    this.circuits++;
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => undefined);
    const reader = new MessageReader(1 << 20, false);
    s.on('data', (chunk) =>
      reader.push(chunk, (m) => {
        if (m.command === Command.VERSION) s.write(msg(Command.VERSION, 0, 13));
        else if (m.command === Command.CREATE_CHAN) {
          s.write(
            Buffer.concat([
              msg(Command.ACCESS_RIGHTS, 0, 0, m.parameter1, 3),
              msg(Command.CREATE_CHAN, DBR.DOUBLE, N, m.parameter1, 77),
            ]),
          );
        } else if (m.command === Command.READ_NOTIFY) {
          const full = encodeMessage(
            {
              command: Command.READ_NOTIFY,
              dataType: DBR.DOUBLE,
              dataCount: N,
              parameter1: 1,
              parameter2: m.parameter2,
            },
            this.payload,
          );
          if (how === 'good') s.write(full);
          else if (how === 'half-header') {
            s.write(full.subarray(0, 10)); // 10 of the 24 header bytes
            setTimeout(() => s.end(), 20);
          } else {
            // Half the array in several writes, then RST (or FIN).
            const half = full.length >> 1;
            for (let off = 0; off < half; off += 65536)
              s.write(full.subarray(off, Math.min(half, off + 65536)));
            setTimeout(() => (how === 'reset-mid-array' ? s.resetAndDestroy() : s.end()), 20);
          }
        }
      }),
    );
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.tcp.close(() => r()));
    await new Promise<void>((r) => this.udp.close(() => r()));
  }
}

function mask(m: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16BE(m, 12);
  return b;
}

describe('half-written messages and resets mid-array', () => {
  it('client: a reply cut mid-header or mid-array rejects the get with DisconnectedError; the channel reconnects', async (t) => {
    const guard = new CrashGuard().install();
    const srv = new ScriptedServer();
    await srv.start();
    const fds0 = openFds();
    const ctx = new Context({
      env: { EPICS_CA_ADDR_LIST: `${LOOPBACK}:${srv.udpPort}`, EPICS_CA_AUTO_ADDR_LIST: 'NO' },
      repeater: false,
      onException: () => undefined,
    });
    try {
      const ch = ctx.channel('M:wave');
      const conn: boolean[] = [];
      ch.onConnectionChange((c) => conn.push(c));
      const cases: Behaviour[] = ['half-header', 'reset-mid-array', 'end-mid-array', 'reset-mid-array'];
      srv.script = [...cases];
      for (const how of cases) {
        await ch.waitForConnection(5);
        const t0 = performance.now();
        await assert.rejects(
          ch.get({ timeout: 5 }),
          (e: unknown) => e instanceof DisconnectedError && e.eca === ECA.DISCONN,
          `${how}: DisconnectedError`,
        );
        figure(t, `${how}: get rejected ${(performance.now() - t0).toFixed(1)} ms after the request`);
        await until(() => ch.connected, 5, `reconnection after ${how}`);
      }
      // The next circuit behaves: the whole array arrives intact.
      const t1 = performance.now();
      const r = await ch.get({ timeout: 5 });
      const v = r.value as Float64Array;
      assert.equal(v.length, N);
      for (let i = 0; i < N; i += 997) assert.equal(v[i], i * 0.5);
      assert.equal(v[N - 1], (N - 1) * 0.5);
      figure(t, `intact 800 kB get after 4 cut circuits: ${(performance.now() - t1).toFixed(1)} ms`);
      assert.deepEqual(
        conn,
        [true, false, true, false, true, false, true, false, true].slice(0, conn.length),
      );
      assert.equal(conn.at(-1), true);
      assert.equal(srv.circuits, 5);
      assert.equal(ctx.circuitCount, 1);
    } finally {
      await ctx.close();
      await srv.stop();
      guard.uninstall();
    }
    await sleep(50);
    const fds1 = openFds();
    figure(t, `client cut circuits: descriptors ${fds0} -> ${fds1}`);
    if (fds0 >= 0) assert.ok(fds1 <= fds0 + 1, `descriptors leaked: ${fds0} -> ${fds1}`);
    assert.deepEqual(guard.errors, []);
  });

  it('server: requests cut mid-header or mid-array and subscribers reset mid-update drop only that circuit', async (t) => {
    const guard = new CrashGuard().install();
    const server = await serve({
      env: testEnv(),
      port: 0,
      pvs: { 'M:wave': { type: 'double', count: N }, 'M:x': { type: 'double', value: 3 } },
    });
    const wave = new Float64Array(N);
    let running = true;
    const pump = (): void => {
      if (!running) return;
      wave[0]++;
      server.pv('M:wave').post(wave);
      setTimeout(pump, 2);
    };
    try {
      // A steady client that must be served throughout.
      const steady = await RawClient.connect(server.tcpPort);
      steady.hello('steady');
      const x = await steady.create('M:x', 1);
      pump();
      const fds0 = openFds();
      const mem0 = memNow();
      const ROUNDS = 60;
      const t0 = performance.now();
      for (let i = 0; i < ROUNDS; i++) {
        const c = await RawClient.connect(server.tcpPort);
        c.hello(`cut${i}`);
        const w = await c.create('M:wave', 1);
        const kind = i % 3;
        if (kind === 0) {
          // half a header, then RST
          c.socket.write(msg(Command.READ_NOTIFY, DBR.DOUBLE, 1, w.sid, 5).subarray(0, 7));
        } else if (kind === 1) {
          // a WRITE of the whole array, cut after half its payload, then RST
          const body = Buffer.alloc(N * 8, 0x41);
          const full = encodeMessage(
            { command: Command.WRITE, dataType: DBR.DOUBLE, dataCount: N, parameter1: w.sid, parameter2: 1 },
            body,
          );
          c.socket.write(full.subarray(0, full.length >> 1));
        } else {
          // subscribe to the array, stop reading, reset while the server is writing updates
          c.send(msg(Command.EVENT_ADD, DBR.DOUBLE, 0, w.sid, 9, mask(DBE.VALUE)));
          c.socket.pause();
        }
        await sleep(kind === 2 ? 30 : 5);
        c.socket.resetAndDestroy();
        if (i % 10 === 9) {
          steady.send(msg(Command.READ_NOTIFY, DBR.DOUBLE, 1, x.sid, 100 + i));
          const rd = await steady.next((m) => m.command === Command.READ_NOTIFY && m.parameter2 === 100 + i);
          assert.equal(rd.parameter1, ECA.NORMAL);
        }
      }
      await until(() => server.clientCount === 1, 5, 'every cut circuit dropped');
      figure(
        t,
        `server: ${ROUNDS} circuits cut mid-message in ${((performance.now() - t0) / 1000).toFixed(2)} s; clients left 1 (the steady one)`,
      );
      assert.equal(server.pv('M:wave').subscriberCount, 0, 'no subscription left behind');
      // The half-written WRITEs never reached the PV.
      const rd = await (async () => {
        const c = await RawClient.connect(server.tcpPort);
        c.hello();
        const w = await c.create('M:wave', 2);
        c.send(msg(Command.READ_NOTIFY, DBR.DOUBLE, 2, w.sid, 1));
        const m = await c.next((mm) => mm.command === Command.READ_NOTIFY);
        c.close();
        return m;
      })();
      assert.equal(rd.parameter1, ECA.NORMAL);
      assert.notEqual(rd.payload.readDoubleBE(8), Buffer.alloc(8, 0x41).readDoubleBE(0));
      steady.close();
      await until(() => server.clientCount === 0, 5, 'all circuits closed');
      const fds1 = openFds();
      figure(t, `server cut circuits: descriptors ${fds0} -> ${fds1}, memory ${mb(mem0)} -> ${mb(memNow())}`);
      if (fds0 >= 0) assert.ok(fds1 <= fds0, `descriptors leaked: ${fds0} -> ${fds1}`);
    } finally {
      running = false;
      await server.stop();
      guard.uninstall();
    }
    assert.deepEqual(guard.errors, []);
  });
});
