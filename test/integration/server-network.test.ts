// Ports, beacons, ignore lists and access security of a running server, on loopback.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import dgram from 'node:dgram';
import { Command, DBR, DBE, ECA } from '../../src/protocol/constants.js';
import { AccessSecurity, CaServer, PvProvider, serve } from '../../src/server/index.js';
import { LOOPBACK, RawClient, msg, nameBuf, sleep, testEnv, udpExchange } from './server-helpers.js';

function searchFor(name: string): Buffer {
  return Buffer.concat([msg(Command.VERSION, 1, 13, 1), msg(Command.SEARCH, 5, 13, 1, 1, nameBuf(name))]);
}

async function udpListener(): Promise<{ sock: dgram.Socket; port: number; got: { t: number; b: Buffer }[] }> {
  const sock = dgram.createSocket('udp4');
  const got: { t: number; b: Buffer }[] = [];
  sock.on('message', (b) => got.push({ t: performance.now(), b }));
  await new Promise<void>((r) => sock.bind(0, LOOPBACK, () => r()));
  return { sock, port: sock.address().port, got };
}

async function freeTcpPort(): Promise<net.Server> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, LOOPBACK, () => r()));
  return s;
}

describe('server network behaviour', () => {
  it('beacons: first at start, then 0.02, 0.04 … s up to the period; numbers 0, 0, 1, 2 …', async () => {
    const l = await udpListener();
    const server = await serve({
      env: testEnv({ EPICS_CAS_BEACON_PORT: String(l.port), EPICS_CAS_BEACON_ADDR_LIST: LOOPBACK }),
      port: 0,
      beaconPeriod: 0.25,
      pvs: { 'B:x': { type: 'double' } },
    });
    try {
      await sleep(1200);
      const bs = l.got.slice();
      assert.ok(bs.length >= 8, `${bs.length} beacons`);
      const nums = bs.map((x) => x.b.readUInt32BE(8));
      assert.deepEqual(nums.slice(0, 6), [0, 0, 1, 2, 3, 4]);
      for (const { b } of bs) {
        assert.equal(b.length, 16);
        assert.equal(b.readUInt16BE(0), Command.RSRV_IS_UP);
        assert.equal(b.readUInt16BE(4), 13);
        assert.equal(b.readUInt16BE(6), server.tcpPort);
        assert.equal(b.readUInt32BE(12), 0);
      }
      const gaps = bs.slice(1).map((x, i) => (x.t - bs[i].t) / 1000);
      const want = [0.02, 0.04, 0.08, 0.16, 0.25, 0.25];
      want.forEach((w, i) =>
        assert.ok(Math.abs(gaps[i] - w) < 0.03 + w * 0.3, `gap ${i}: ${gaps[i]} vs ${w}`),
      );
    } finally {
      await server.stop();
      l.sock.close();
    }
  });

  it('binds a random TCP port when the configured one is taken and advertises it; UDP is shared', async () => {
    const blocker = await freeTcpPort();
    const port = (blocker.address() as net.AddressInfo).port;
    const env = testEnv({ EPICS_CA_SERVER_PORT: String(port) });
    const a = new CaServer({ provider: new PvProvider({ 'P:a': { type: 'double' } }), env });
    const b = new CaServer({ provider: new PvProvider({ 'P:b': { type: 'double' } }), env });
    try {
      await a.start();
      await b.start();
      assert.notEqual(a.tcpPort, port);
      assert.notEqual(b.tcpPort, a.tcpPort);
      assert.equal(a.udpPort, port);
      assert.equal(b.udpPort, port);
      // Unicast datagrams reach one of the sockets sharing the port (on Linux the last bound); that
      // server answers for its own names and advertises its own, random, TCP port.
      let answered = 0;
      for (const [srv, name] of [
        [a, 'P:a'],
        [b, 'P:b'],
      ] as const) {
        const r = await udpExchange(port, searchFor(name), 150);
        if (r.length) {
          answered++;
          assert.equal(r[0].readUInt16BE(16 + 4), srv.tcpPort);
        }
      }
      assert.ok(answered >= 1);
      const c = await RawClient.connect(a.tcpPort);
      c.hello();
      assert.equal((await c.create('P:a', 1)).type, DBR.DOUBLE);
      c.close();
    } finally {
      await a.stop();
      await b.stop();
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });

  it('ignores searches from EPICS_CAS_IGNORE_ADDR_LIST', async () => {
    const server = await serve({
      env: testEnv({ EPICS_CAS_IGNORE_ADDR_LIST: LOOPBACK }),
      port: 0,
      pvs: { 'I:x': { type: 'double' } },
    });
    try {
      assert.equal((await udpExchange(server.udpPort, searchFor('I:x'), 200)).length, 0);
    } finally {
      await server.stop();
    }
  });

  it('access security: rights per user/host, reload re-sends ACCESS_RIGHTS and refreshes monitors', async () => {
    const acf1 = `UAG(ops) { alice }
      ASG(DEFAULT) { RULE(1, READ) RULE(1, WRITE) { UAG(ops) } }
      ASG(SECRET) { RULE(1, WRITE) { UAG(ops) } }`;
    const server = await serve({
      env: testEnv(),
      port: 0,
      accessSecurity: AccessSecurity.parse(acf1, 'one.acf'),
      pvs: { 'A:x': { type: 'double', value: 1.5 }, 'A:secret': { type: 'double', value: 2, asg: 'SECRET' } },
    });
    try {
      const alice = await RawClient.connect(server.tcpPort);
      alice.hello('alice', 'h1');
      const bob = await RawClient.connect(server.tcpPort);
      bob.hello('bob', 'h2');
      assert.equal((await alice.create('A:x', 1)).rights, 3);
      const bx = await bob.create('A:x', 1);
      assert.equal(bx.rights, 1);
      const bs = await bob.create('A:secret', 2);
      assert.equal(bs.rights, 0);

      // no read access: READ_NOTIFY answers ECA_NORDACCESS, WRITE gives ERROR ECA_NOWTACCESS
      bob.send(msg(Command.READ_NOTIFY, DBR.DOUBLE, 1, bs.sid, 5));
      const r = await bob.next((m) => m.command === Command.READ_NOTIFY && m.parameter2 === 5);
      assert.equal(r.parameter1, ECA.NORDACCESS);
      bob.send(msg(Command.WRITE, DBR.DOUBLE, 1, bx.sid, 1, Buffer.alloc(8)));
      assert.equal((await bob.nextCmd(Command.ERROR)).parameter2, ECA.NOWTACCESS);
      const mask = Buffer.alloc(16);
      mask.writeUInt16BE(DBE.VALUE, 12);
      bob.send(msg(Command.EVENT_ADD, DBR.DOUBLE, 1, bs.sid, 9, mask));
      const first = await bob.next((m) => m.command === Command.EVENT_ADD && m.parameter2 === 9);
      assert.equal(first.parameter1, ECA.NORDACCESS);
      assert.ok(first.payload.every((x) => x === 0));

      // reload: bob becomes an operator
      server.server.setAccessSecurity(
        AccessSecurity.parse(acf1.replace('{ alice }', '{ alice, bob }'), 'two.acf'),
      );
      const ar1 = await bob.next((m) => m.command === Command.ACCESS_RIGHTS && m.parameter1 === 1);
      const ar2 = await bob.next((m) => m.command === Command.ACCESS_RIGHTS && m.parameter1 === 2);
      assert.equal(ar1.parameter2, 3);
      assert.equal(ar2.parameter2, 3);
      const upd = await bob.next((m) => m.command === Command.EVENT_ADD && m.parameter2 === 9);
      assert.equal(upd.parameter1, ECA.NORMAL);
      assert.equal(upd.payload.readDoubleBE(0), 2);
      await sleep(30);
      assert.equal(
        alice.received.filter((m) => m.command === Command.ACCESS_RIGHTS).length,
        1,
        'unchanged rights are not re-sent',
      );
      alice.close();
      bob.close();
    } finally {
      await server.stop();
    }
  });

  it('reports writes marked TRAPWRITE to onTrapWrite', async () => {
    const acf = `UAG(ops) { alice }
      ASG(DEFAULT) { RULE(1, WRITE, TRAPWRITE) { UAG(ops) } RULE(1, WRITE) }`;
    const events: { channel: string; user: string; value: number; status: number }[] = [];
    const server = await serve({
      env: testEnv(),
      port: 0,
      accessSecurity: AccessSecurity.parse(acf),
      onTrapWrite: (e) =>
        events.push({ channel: e.channel, user: e.client.user, value: Number(e.value[0]), status: e.status }),
      pvs: { 'T:x': { type: 'double', value: 0 } },
    });
    try {
      for (const user of ['alice', 'bob']) {
        const c = await RawClient.connect(server.tcpPort);
        c.hello(user, 'h');
        const x = await c.create('T:x', 1);
        const v = Buffer.alloc(8);
        v.writeDoubleBE(user === 'alice' ? 1.5 : 2.5);
        c.send(msg(Command.WRITE_NOTIFY, DBR.DOUBLE, 1, x.sid, 1, v));
        await c.nextCmd(Command.WRITE_NOTIFY);
        c.send(msg(Command.WRITE, DBR.STRING, 1, x.sid, 1, Buffer.from('junk\0\0\0\0')));
        await c.nextCmd(Command.ERROR);
        c.close();
      }
      assert.deepEqual(events.slice(0, 1), [
        { channel: 'T:x', user: 'alice', value: 1.5, status: ECA.NORMAL },
      ]);
      assert.equal(events.length, 2);
      assert.equal(events[1].status, ECA.PUTFAIL);
    } finally {
      await server.stop();
    }
  });
});
