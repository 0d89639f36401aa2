// Fuzz the real `tsepics ioc` (a child process serving the recorded traces' test.db): several raw
// circuits replay the client messages of test/fixtures/ca-traces/*.jsonl, mutated, with their
// server ids rewritten to the ones this IOC hands out, plus mutated search datagrams, for a bounded
// time. Afterwards the IOC must still run, serve a well-behaved client (the real client), and hold
// no more descriptors than before (every fuzz circuit released).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import { Context } from '../../src/client/context.js';
import { Command, DBR } from '../../src/protocol/constants.js';
import { MessageReader } from '../../src/protocol/header.js';
import type { Message } from '../../src/protocol/header.js';
import { flipBytes, randomBytes, reencode, rng } from '../helpers/fuzz.js';
import { startIoc } from '../helpers/ioc-process.js';
import { caClientEnv } from '../helpers/ports.js';
import { loadTrace, tcpStreams, traceNames, tracesDir, udpDatagrams } from '../helpers/traces.js';
import { LOOPBACK, figure, sleep, until } from './helpers.js';

const FUZZ_MS = Number(process.env.TSEPICS_FUZZ_MS ?? 4000);
const CLIENTS = 6;

interface Corpus {
  /** Each recorded client circuit: its messages in order. */
  sessions: Message[][];
  searches: Buffer[];
}

function loadCorpus(): Corpus {
  const sessions: Message[][] = [];
  const searches: Buffer[] = [];
  for (const name of traceNames()) {
    const packets = loadTrace(name);
    for (const s of tcpStreams(packets).values()) if (s.from === 'client') sessions.push(s.messages);
    for (const d of udpDatagrams(packets)) {
      if (d.packet.from === 'client' && d.messages.some((m) => m.command === Command.SEARCH))
        searches.push(d.packet.data);
    }
  }
  return { sessions, searches };
}

function mutate(b: Buffer, r: () => number): Buffer {
  const out = Buffer.from(b);
  const int = (n: number): number => Math.floor(r() * n);
  switch (int(6)) {
    case 0:
      return flipBytes(out, r);
    case 1:
      return out.subarray(0, int(out.length));
    case 2:
      if (out.length >= 16) {
        out.writeUInt16BE(r() < 0.5 ? int(40) : int(0x10000), 4);
        out.writeUInt16BE(r() < 0.5 ? int(4) : int(0x10000), 6);
      }
      return out;
    case 3:
      if (out.length >= 16) out.writeUInt16BE(int(0x10000), 2);
      return out;
    case 4: {
      return randomBytes(r, 1 + int(48));
    }
    default:
      return out;
  }
}

/** Commands whose parameter1 is a server channel id. */
const SID_COMMANDS = new Set<number>([
  Command.READ_NOTIFY,
  Command.READ,
  Command.WRITE,
  Command.WRITE_NOTIFY,
  Command.EVENT_ADD,
  Command.EVENT_CANCEL,
  Command.CLEAR_CHANNEL,
]);

async function fuzzCircuit(
  port: number,
  corpus: Corpus,
  r: () => number,
  until: number,
  stats: { sent: number; circuits: number; replies: number },
): Promise<void> {
  while (Date.now() < until) {
    const sock = net.connect({ host: LOOPBACK, port });
    stats.circuits++;
    const sids: number[] = [];
    const reader = new MessageReader(64 * 1024 * 1024, false);
    let closed = false;
    sock.on('data', (chunk) => {
      try {
        reader.push(chunk, (m) => {
          stats.replies++;
          if (m.command === Command.CREATE_CHAN) sids.push(m.parameter2);
        });
      } catch {
        /* a reply split oddly by our own garbage: ignore */
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => (closed = true));
    await new Promise<void>((res) => {
      sock.once('connect', () => res());
      sock.once('close', () => res());
    });
    const session = corpus.sessions[Math.floor(r() * corpus.sessions.length)];
    const steps = 20 + Math.floor(r() * 200);
    for (let i = 0; i < steps && !closed && Date.now() < until; i++) {
      const m =
        r() < 0.7
          ? session[i % session.length]
          : corpus.sessions[0][Math.floor(r() * corpus.sessions[0].length)];
      if (!m) continue;
      const copy: Message = { ...m };
      if (SID_COMMANDS.has(m.command) && sids.length > 0 && r() < 0.8)
        copy.parameter1 = sids[Math.floor(r() * sids.length)];
      let b = reencode(copy);
      if (r() < 0.25) b = mutate(b, r);
      sock.write(b);
      stats.sent++;
      if (i % 8 === 0) await sleep(1);
    }
    if (r() < 0.3) sock.resetAndDestroy();
    else sock.destroy();
    await sleep(1);
  }
}

async function udpFuzz(port: number, corpus: Corpus, r: () => number, until: number): Promise<number> {
  const s = dgram.createSocket('udp4');
  s.on('message', () => undefined);
  s.on('error', () => undefined);
  await new Promise<void>((res) => s.bind(0, LOOPBACK, () => res()));
  let n = 0;
  while (Date.now() < until) {
    const d = corpus.searches[Math.floor(r() * corpus.searches.length)];
    s.send(r() < 0.5 ? mutate(d, r) : d, port, LOOPBACK);
    n++;
    await sleep(3);
  }
  await new Promise<void>((res) => s.close(() => res()));
  return n;
}

function procStat(pid: number): { fds: number; rssKb: number } {
  try {
    const fds = fs.readdirSync(`/proc/${pid}/fd`).length;
    const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { fds, rssKb: m ? Number(m[1]) : -1 };
  } catch {
    return { fds: -1, rssKb: -1 };
  }
}

describe('IOC fuzzing (tsepics ioc child process)', () => {
  it(`survives ${CLIENTS} circuits of mutated recorded client traffic for ${FUZZ_MS} ms`, async (t) => {
    const seed = Number(process.env.TSEPICS_FUZZ_SEED ?? Date.now() % 1000000);
    t.diagnostic(`seed ${seed} (TSEPICS_FUZZ_SEED to replay)`);
    const corpus = loadCorpus();
    assert.ok(corpus.sessions.length > 5 && corpus.searches.length > 0);
    const ioc = await startIoc({ db: `${tracesDir()}/test.db` });
    try {
      const before = procStat(ioc.pid);
      const end = Date.now() + FUZZ_MS;
      const stats = { sent: 0, circuits: 0, replies: 0 };
      const udp = udpFuzz(ioc.port, corpus, rng(seed), end);
      await Promise.all(
        Array.from({ length: CLIENTS }, (_, i) =>
          fuzzCircuit(ioc.port, corpus, rng(seed * 31 + i), end, stats),
        ),
      );
      const datagrams = await udp;
      assert.equal(ioc.child.exitCode, null, `the IOC died:\n${ioc.output()}`);
      assert.equal(ioc.child.signalCode, null);
      assert.ok(stats.sent > 500, `only ${stats.sent} messages sent`);

      // A well-behaved client is served: get, put with completion, monitor.
      const ctx = new Context({ env: caClientEnv(ioc.port), repeater: false, onException: () => undefined });
      try {
        const ao = ctx.channel('T:ao');
        await ao.waitForConnection(5);
        await ao.put(new Float64Array([4.5]), { dbrType: DBR.DOUBLE, wait: true, timeout: 5 });
        const g = await ao.get({ dbrType: DBR.DOUBLE, timeout: 5 });
        assert.equal((g.value as Float64Array)[0], 4.5);
      } finally {
        await ctx.close();
      }
      // Every fuzz circuit released: the IOC holds no more descriptors than before.
      let after = procStat(ioc.pid);
      if (before.fds >= 0) {
        await until(
          () => (after = procStat(ioc.pid)).fds <= before.fds,
          5,
          'the IOC to release the fuzz circuits',
        );
      }
      figure(
        t,
        `ioc fuzz: ${stats.sent} messages on ${stats.circuits} circuits + ${datagrams} datagrams, ${stats.replies} replies; IOC alive, fds ${before.fds} -> ${after.fds}, RSS ${(before.rssKb / 1024).toFixed(1)} -> ${(after.rssKb / 1024).toFixed(1)} MB`,
      );
      if (before.rssKb > 0) {
        assert.ok(
          after.rssKb - before.rssKb < 300 * 1024,
          `IOC RSS grew by ${after.rssKb - before.rssKb} kB`,
        );
      }
    } finally {
      await ioc.stop();
    }
  });
});
