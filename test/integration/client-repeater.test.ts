// The CA repeater: registration, fan-out with the beacon address filled in, dead-client pruning,
// idle exit, and the client spawning one when none answers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { CaRepeater } from '../../src/client/repeater.js';
import { repeaterMain } from '../../src/cli/repeater.js';
import { Context } from '../../src/client/context.js';
import { Command } from '../../src/protocol/constants.js';
import { encodeHeaderOnly } from '../../src/protocol/header.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function udp(): Promise<dgram.Socket> {
  return new Promise((res) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1', () => res(s));
  });
}

function nextMessage(s: dgram.Socket, ms = 2000): Promise<Buffer> {
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error('no datagram')), ms);
    s.once('message', (b) => {
      clearTimeout(t);
      res(b);
    });
  });
}

async function freeUdpPort(): Promise<number> {
  const s = await udp();
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

describe('CA repeater', () => {
  it('confirms registrations, fans out beacons with the source address, prunes dead clients', async () => {
    const port = await freeUdpPort();
    const rep = new CaRepeater({ port, address: '127.0.0.1' });
    assert.equal(await rep.start(), true);
    const second = new CaRepeater({ port, address: '127.0.0.1' });
    assert.equal(await second.start(), false, 'port taken: a second repeater gives up quietly');
    const a = await udp();
    const b = await udp();
    a.send(Buffer.alloc(0), port, '127.0.0.1');
    const ca = await nextMessage(a);
    assert.equal(ca.readUInt16BE(0), Command.REPEATER_CONFIRM);
    assert.equal(ca.readUInt32BE(12), 0x7f000001);
    b.send(encodeHeaderOnly(Command.REPEATER_REGISTER, 0, 0, 0, 0x7f000001), port, '127.0.0.1');
    const [cb, noop] = await Promise.all([nextMessage(b), nextMessage(a)]);
    assert.equal(cb.readUInt16BE(0), Command.REPEATER_CONFIRM);
    assert.equal(noop.readUInt16BE(0), Command.VERSION);
    assert.equal(rep.clientCount, 2);
    // A beacon from a server (address 0) reaches both clients with 127.0.0.1 filled in.
    const server = await udp();
    server.send(encodeHeaderOnly(Command.RSRV_IS_UP, 13, 5064, 7, 0), port, '127.0.0.1');
    const [ba, bb] = await Promise.all([nextMessage(a), nextMessage(b)]);
    for (const x of [ba, bb]) {
      assert.equal(x.readUInt16BE(0), Command.RSRV_IS_UP);
      assert.equal(x.readUInt32BE(8), 7);
      assert.equal(x.readUInt32BE(12), 0x7f000001);
    }
    // b goes away; the next registration prunes it.
    await new Promise<void>((r) => b.close(() => r()));
    const c = await udp();
    c.send(Buffer.alloc(0), port, '127.0.0.1');
    await nextMessage(c);
    await sleep(100);
    assert.equal(rep.clientCount, 2);
    for (const s of [a, c, server]) await new Promise<void>((r) => s.close(() => r()));
    await rep.close();
  });

  it('repeaterMain exits when idle, and on bad arguments', async () => {
    const port = await freeUdpPort();
    const t0 = performance.now();
    assert.equal(await repeaterMain(['-p', String(port), '--idle-exit', '0.3']), 0);
    assert.ok(performance.now() - t0 < 3000);
    assert.equal(await repeaterMain(['--bogus']), 2);
    assert.equal(await repeaterMain(['-p', 'x']), 2);
  });

  it('a client with no repeater spawns one (detached) and registers with it', async () => {
    const port = await freeUdpPort();
    const ctx = new Context({
      env: {
        EPICS_CA_AUTO_ADDR_LIST: 'NO',
        EPICS_CA_ADDR_LIST: '127.0.0.1',
        EPICS_CA_SERVER_PORT: String(port + 2),
        EPICS_CA_REPEATER_PORT: String(port),
      },
    });
    ctx.channel('NOBODY:HOME');
    const end = Date.now() + 5000;
    while (!ctx.repeaterRegistered && Date.now() < end) await sleep(20);
    await ctx.close();
    // Find the spawned repeater by its arguments and end it (only that process).
    let pids: number[] = [];
    try {
      pids = execFileSync('pgrep', ['-f', `cli/repeater.js -p ${port} `], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        .map(Number);
    } catch {
      pids = [];
    }
    for (const pid of pids) process.kill(pid, 'SIGTERM');
    assert.equal(ctx.repeaterRegistered, true);
    assert.equal(pids.length, 1);
  });
});
