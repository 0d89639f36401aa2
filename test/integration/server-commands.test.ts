// Every CA command and error path of the server, over raw loopback sockets.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Command, DBR, DBE, ECA } from '../../src/protocol/constants.js';
import { decodeDbr } from '../../src/protocol/dbr.js';
import { serve, CaServer, CaStatusError, PvProvider } from '../../src/server/index.js';
import type { PvServer, ServedChannel } from '../../src/server/index.js';
import { RawClient, msg, nameBuf, sleep, testEnv, udpExchange } from './server-helpers.js';

function searchDatagram(
  names: string[],
  opts: { minor?: number; seq?: number; reply?: number } = {},
): Buffer {
  const minor = opts.minor ?? 13;
  const parts = [msg(Command.VERSION, 1, minor, opts.seq ?? 7)];
  names.forEach((n, i) => parts.push(msg(Command.SEARCH, opts.reply ?? 5, minor, i + 1, i + 1, nameBuf(n))));
  return Buffer.concat(parts);
}

function evmask(mask: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16BE(mask, 12);
  return b;
}

describe('CA server commands', () => {
  let server: PvServer;
  let port = 0;
  const puts: unknown[] = [];
  let release: (() => void) | undefined;

  before(async () => {
    server = await serve({
      env: testEnv(),
      port: 0,
      beaconPeriod: 15,
      pvs: {
        'S:dbl': {
          type: 'double',
          value: 21.5,
          units: 'degC',
          precision: 3,
          highAlarm: 90,
          lowDisp: -20,
          highDisp: 100,
        },
        'S:ro': { type: 'long', value: 42, readOnly: true },
        'S:enum': { type: 'enum', enumStrs: ['Off', 'On', 'Fault'], value: 1 },
        'S:str': { type: 'string', value: 'hello world' },
        'S:wf': { type: 'double', count: 10, value: [1.5, 2.5, 3.5, -4e5] },
        'S:big': { type: 'double', count: 100000 },
        'S:put': {
          type: 'double',
          value: 0,
          onPut: async (v) => {
            puts.push(v);
            if (v === 13) throw new Error('unlucky');
            if (v === 66) throw new CaStatusError(ECA.NOWTACCESS, 'no');
            if (v === 99) await new Promise<void>((r) => (release = r));
          },
        },
      },
    });
    port = server.tcpPort;
    assert.equal(server.udpPort, port);
  });

  after(async () => {
    await server.stop();
  });

  describe('UDP search', () => {
    it('answers existing names with VERSION (sequence echoed) and SEARCH replies', async () => {
      const r = await udpExchange(port, searchDatagram(['S:dbl', 'NOPE', 'S:wf'], { seq: 4242 }));
      assert.equal(r.length, 1);
      const d = r[0];
      assert.equal(d.length, 16 + 24 * 2);
      assert.deepEqual(
        [d.readUInt16BE(0), d.readUInt16BE(4), d.readUInt16BE(6), d.readUInt32BE(8)],
        [0, 1, 13, 4242],
      );
      assert.equal(d.readUInt16BE(16), Command.SEARCH);
      assert.equal(d.readUInt16BE(18), 8);
      assert.equal(d.readUInt16BE(20), port);
      assert.equal(d.readUInt32BE(24), 0xffffffff);
      assert.equal(d.readUInt32BE(28), 1);
      assert.equal(d.readUInt16BE(32), 13);
      assert.equal(d.readUInt32BE(40 + 12), 3);
    });
    it('sends nothing for unknown names, even with DOREPLY', async () => {
      assert.equal((await udpExchange(port, searchDatagram(['NOPE1', 'NOPE2'], { reply: 10 }))).length, 0);
    });
    it('ignores clients below minor 4 and names of length <= 1', async () => {
      assert.equal((await udpExchange(port, searchDatagram(['S:dbl'], { minor: 3 }))).length, 0);
      assert.equal((await udpExchange(port, searchDatagram(['S'], {}))).length, 0);
    });
    it('splits many replies into datagrams of at most 1024 bytes', async () => {
      const names = Array.from({ length: 100 }, () => 'S:dbl');
      const r = await udpExchange(port, searchDatagram(names));
      let hits = 0;
      for (const d of r) {
        assert.ok(d.length <= 1024);
        assert.equal(d.readUInt16BE(0), Command.VERSION);
        hits += (d.length - 16) / 24;
      }
      assert.equal(hits, 100);
      assert.ok(r.length >= 3);
    });
    it('stops at a VERSION of an unsupported minor', async () => {
      const d = Buffer.concat([
        msg(Command.VERSION, 0, 0),
        msg(Command.SEARCH, 5, 13, 1, 1, nameBuf('S:dbl')),
      ]);
      assert.equal((await udpExchange(port, d, 150)).length, 0);
    });
    it('stops at garbage without crashing', async () => {
      const g = Buffer.concat([searchDatagram(['S:dbl']), Buffer.from([1, 2, 3])]);
      assert.equal((await udpExchange(port, g)).length, 1);
      assert.equal((await udpExchange(port, Buffer.alloc(0))).length, 0);
    });
  });

  describe('circuit', () => {
    it('sends VERSION first, then ACCESS_RIGHTS + CREATE_CHAN per channel; CREATE_CH_FAIL for unknown', async () => {
      const c = await RawClient.connect(port);
      c.hello();
      const v = await c.nextCmd(Command.VERSION);
      assert.equal(v.dataCount, 13);
      const ch = await c.create('S:dbl', 5);
      assert.deepEqual([ch.type, ch.count, ch.rights], [DBR.DOUBLE, 1, 3]);
      const ro = await c.create('S:ro', 6);
      assert.equal(ro.rights, 1);
      const wf = await c.create('S:wf', 7);
      assert.equal(wf.count, 10);
      assert.equal((await c.create('S:dbl.VAL', 8)).type, DBR.DOUBLE);
      await assert.rejects(c.create('NOPE', 9), /CREATE_CH_FAIL/);
      assert.equal(server.clientCount, 1);
      c.close();
    });

    it('READ_NOTIFY: TIME_DOUBLE, count 0 = current length, count > length zero-filled, conversions', async () => {
      const c = await RawClient.connect(port);
      c.hello();
      const d = await c.create('S:dbl', 1);
      const wf = await c.create('S:wf', 2);
      const en = await c.create('S:enum', 3);
      c.send(msg(Command.READ_NOTIFY, DBR.TIME_DOUBLE, 1, d.sid, 100));
      let r = await c.next((m) => m.command === Command.READ_NOTIFY && m.parameter2 === 100);
      assert.equal(r.parameter1, ECA.NORMAL);
      assert.equal(r.payloadSize, 24);
      assert.deepEqual([...(decodeDbr(DBR.TIME_DOUBLE, 1, r.payload).value as Float64Array)], [21.5]);

      c.send(msg(Command.READ_NOTIFY, DBR.DOUBLE, 0, wf.sid, 101));
      r = await c.next((m) => m.parameter2 === 101);
      assert.equal(r.dataCount, 4);
      assert.deepEqual(
        [...(decodeDbr(DBR.DOUBLE, 4, r.payload).value as Float64Array)],
        [1.5, 2.5, 3.5, -4e5],
      );

      c.send(msg(Command.READ_NOTIFY, DBR.DOUBLE, 12, wf.sid, 102));
      r = await c.next((m) => m.parameter2 === 102);
      assert.equal(r.dataCount, 12);
      const v = decodeDbr(DBR.DOUBLE, 12, r.payload).value as Float64Array;
      assert.deepEqual([...v.subarray(0, 4)], [1.5, 2.5, 3.5, -4e5]);
      assert.ok(v.subarray(4).every((x) => x === 0));

      c.send(msg(Command.READ_NOTIFY, DBR.STRING, 1, en.sid, 103));
      r = await c.next((m) => m.parameter2 === 103);
      assert.deepEqual(decodeDbr(DBR.STRING, 1, r.payload).value, ['On']);

      c.send(msg(Command.READ_NOTIFY, DBR.STS_STRING, 1, d.sid, 104));
      r = await c.next((m) => m.parameter2 === 104);
      assert.equal(r.payloadSize, 48);
      assert.deepEqual(decodeDbr(DBR.STS_STRING, 1, r.payload).value, ['21.500']);

      c.send(msg(Command.READ_NOTIFY, DBR.CTRL_DOUBLE, 1, d.sid, 105));
      r = await c.next((m) => m.parameter2 === 105);
      const ctrl = decodeDbr(DBR.CTRL_DOUBLE, 1, r.payload);
      assert.equal(ctrl.units, 'degC');
      assert.equal(ctrl.precision, 3);
      assert.equal(ctrl.upperAlarmLimit, 90);
      assert.ok(Number.isNaN(ctrl.lowerAlarmLimit));
      assert.equal(ctrl.upperDispLimit, 100);

      c.send(msg(Command.READ_NOTIFY, DBR.GR_ENUM, 1, en.sid, 106));
      r = await c.next((m) => m.parameter2 === 106);
      assert.deepEqual(decodeDbr(DBR.GR_ENUM, 1, r.payload).enumStrs, ['Off', 'On', 'Fault']);

      c.send(msg(Command.READ_NOTIFY, DBR.CLASS_NAME, 1, d.sid, 107));
      r = await c.next((m) => m.parameter2 === 107);
      assert.deepEqual(decodeDbr(DBR.CLASS_NAME, 1, r.payload).value, ['ao']);

      // unreadable type: ECA_GETFAIL, zeroed payload
      c.send(msg(Command.READ_NOTIFY, DBR.PUT_ACKT, 1, d.sid, 108));
      r = await c.next((m) => m.parameter2 === 108);
      assert.equal(r.parameter1, ECA.GETFAIL);
      assert.ok(r.payload.every((b) => b === 0));

      // legacy READ: parameter1 = cid, short string form
      c.send(msg(Command.READ, DBR.STRING, 1, d.sid, 109));
      r = await c.next((m) => m.command === Command.READ && m.parameter2 === 109);
      assert.equal(r.parameter1, 1);
      assert.equal(r.payloadSize, 8);
      assert.deepEqual(decodeDbr(DBR.STRING, 1, r.payload).value, ['21.500']);
      c.close();
    });

    it('uses the extended header for big arrays and caps the count for old clients', async () => {
      const c = await RawClient.connect(port);
      c.hello();
      const b = await c.create('S:big', 1);
      assert.equal(b.count, 100000);
      c.send(encodeExtendedRead(DBR.DOUBLE, 100000, b.sid, 5));
      const r = await c.next((m) => m.command === Command.READ_NOTIFY && m.parameter2 === 5);
      assert.equal(r.extended, true);
      assert.equal(r.payloadSize, 800000);
      c.close();

      const old = await RawClient.connect(port);
      old.hello('u', 'h', 8);
      old.send(msg(Command.CREATE_CHAN, 0, 0, 1, 8, nameBuf('S:big')));
      const cc = await old.nextCmd(Command.CREATE_CHAN);
      assert.equal(cc.dataCount, 0xfffe);
      old.close();
    });

    it('WRITE is silent on success; failures give ERROR with the name', async () => {
      const c = await RawClient.connect(port);
      c.hello();
      const d = await c.create('S:dbl', 1);
      const ro = await c.create('S:ro', 2);
      c.send(msg(Command.WRITE, DBR.STRING, 1, d.sid, 1, Buffer.from('7.125\0')));
      c.send(msg(Command.READ_NOTIFY, DBR.DOUBLE, 1, d.sid, 9));
      const r = await c.next((m) => m.command === Command.READ_NOTIFY);
      assert.equal((decodeDbr(DBR.DOUBLE, 1, r.payload).value as Float64Array)[0], 7.125);
      assert.equal(c.received.filter((m) => m.command === Command.ERROR).length, 0);

      c.send(msg(Command.WRITE, DBR.STRING, 1, d.sid, 1, Buffer.from('not-a-number\0')));
      let e = await c.nextCmd(Command.ERROR);
      assert.equal(e.parameter1, 1);
      assert.equal(e.parameter2, ECA.PUTFAIL);
      assert.equal(e.payloadSize, 24);
      assert.equal(e.payload.readUInt16BE(0), Command.WRITE);
      assert.equal(e.payload.toString('latin1', 16, 21), 'S:dbl');

      c.send(msg(Command.WRITE, DBR.DOUBLE, 1, ro.sid, 2, Buffer.alloc(8)));
      e = await c.nextCmd(Command.ERROR);
      assert.equal(e.parameter2, ECA.NOWTACCESS);
      assert.equal(e.parameter1, 2);

      c.send(msg(Command.WRITE, DBR.TIME_DOUBLE, 1, d.sid, 1, Buffer.alloc(24)));
      e = await c.nextCmd(Command.ERROR);
      assert.equal(e.parameter2, ECA.PUTFAIL);
      assert.equal(c.closed, false);
      await sleep(20);
      assert.equal(c.closed, false);
      server.pv('S:dbl').post(21.5);
      c.close();
    });

    it('WRITE_NOTIFY replies when onPut completes, with its status; queued per channel', async () => {
      const c = await RawClient.connect(port);
      c.hello();
      const p = await c.create('S:put', 1);
      const dbl = (x: number): Buffer => {
        const b = Buffer.alloc(8);
        b.writeDoubleBE(x);
        return b;
      };
      c.send(msg(Command.WRITE_NOTIFY, DBR.DOUBLE, 1, p.sid, 1, dbl(5)));
      let r = await c.next((m) => m.command === Command.WRITE_NOTIFY && m.parameter2 === 1);
      assert.deepEqual([r.parameter1, r.dataType, r.dataCount], [ECA.NORMAL, DBR.DOUBLE, 1]);
      assert.equal(server.pv('S:put').value, 5);

      c.send(msg(Command.WRITE_NOTIFY, DBR.DOUBLE, 1, p.sid, 2, dbl(13)));
      r = await c.next((m) => m.command === Command.WRITE_NOTIFY && m.parameter2 === 2);
      assert.equal(r.parameter1, ECA.PUTFAIL);
      assert.equal(server.pv('S:put').value, 5);

      c.send(msg(Command.WRITE_NOTIFY, DBR.DOUBLE, 1, p.sid, 3, dbl(66)));
      r = await c.next((m) => m.command === Command.WRITE_NOTIFY && m.parameter2 === 3);
      assert.equal(r.parameter1, ECA.NOWTACCESS);

      c.send(msg(Command.WRITE_NOTIFY, DBR.DOUBLE, 0, p.sid, 0));
      r = await c.next((m) => m.command === Command.WRITE_NOTIFY && m.parameter2 === 0);
      assert.equal(r.parameter1, ECA.BADCOUNT);

      c.send(msg(Command.WRITE_NOTIFY, DBR.STRING, 1, p.sid, 4, Buffer.from('abc\0\0\0\0\0')));
      r = await c.next((m) => m.command === Command.WRITE_NOTIFY && m.parameter2 === 4);
      assert.equal(r.parameter1, ECA.PUTFAIL);

      // a slow put holds its reply and the next put on that channel; other requests go on
      const d = await c.create('S:dbl', 2);
      c.send(msg(Command.WRITE_NOTIFY, DBR.DOUBLE, 1, p.sid, 5, dbl(99)));
      c.send(msg(Command.WRITE_NOTIFY, DBR.DOUBLE, 1, p.sid, 6, dbl(7)));
      c.send(msg(Command.READ_NOTIFY, DBR.DOUBLE, 1, d.sid, 50));
      await c.next((m) => m.command === Command.READ_NOTIFY && m.parameter2 === 50);
      await sleep(50);
      assert.equal(
        c.received.filter((m) => m.command === Command.WRITE_NOTIFY && m.parameter2 >= 5).length,
        0,
      );
      assert.ok(release);
      release();
      r = await c.next((m) => m.command === Command.WRITE_NOTIFY && m.parameter2 === 5);
      assert.equal(r.parameter1, ECA.NORMAL);
      r = await c.next((m) => m.command === Command.WRITE_NOTIFY && m.parameter2 === 6);
      assert.equal(server.pv('S:put').value, 7);
      assert.deepEqual(puts.slice(-2), [99, 7]);
      c.close();
    });

    it('EVENT_ADD: first update at once, then per mask; count 0 follows the length; cancel confirms', async () => {
      const c = await RawClient.connect(port);
      c.hello();
      const d = await c.create('S:dbl', 1);
      const wf = await c.create('S:wf', 2);
      c.send(msg(Command.EVENT_ADD, DBR.TIME_DOUBLE, 1, d.sid, 77, evmask(DBE.VALUE | DBE.ALARM)));
      let u = await c.next((m) => m.command === Command.EVENT_ADD && m.parameter2 === 77);
      assert.equal(u.parameter1, ECA.NORMAL);
      assert.equal((decodeDbr(DBR.TIME_DOUBLE, 1, u.payload).value as Float64Array)[0], 21.5);
      c.send(msg(Command.EVENT_ADD, DBR.DOUBLE, 0, wf.sid, 78, evmask(DBE.VALUE)));
      u = await c.next((m) => m.command === Command.EVENT_ADD && m.parameter2 === 78);
      assert.equal(u.dataCount, 4);
      c.send(msg(Command.EVENT_ADD, DBR.DOUBLE, 1, d.sid, 79, evmask(DBE.PROPERTY)));
      await c.next((m) => m.command === Command.EVENT_ADD && m.parameter2 === 79);

      server.pv('S:dbl').post(30, { severity: 1, status: 4 });
      u = await c.next((m) => m.command === Command.EVENT_ADD && m.parameter2 === 77);
      const dd = decodeDbr(DBR.TIME_DOUBLE, 1, u.payload);
      assert.equal((dd.value as Float64Array)[0], 30);
      assert.equal(dd.severity, 1);
      server.pv('S:wf').post([1, 2]);
      u = await c.next((m) => m.command === Command.EVENT_ADD && m.parameter2 === 78);
      assert.equal(u.dataCount, 2);
      await sleep(30);
      assert.equal(
        c.received.filter((m) => m.parameter2 === 79 && m.command === Command.EVENT_ADD).length,
        1,
      );

      c.send(msg(Command.EVENT_CANCEL, DBR.TIME_DOUBLE, 1, d.sid, 77));
      const conf = await c.next((m) => m.command === Command.EVENT_ADD && m.parameter2 === 77);
      assert.deepEqual(
        [conf.payloadSize, conf.dataType, conf.dataCount, conf.parameter1],
        [0, DBR.TIME_DOUBLE, 1, d.sid],
      );
      server.pv('S:dbl').post(21.5, { severity: 0, status: 0 });
      await sleep(30);
      assert.equal(c.received.filter((m) => m.parameter2 === 77).length, 3);

      // unknown subid: ERROR ECA_BADMONID, then the circuit is closed
      c.send(msg(Command.EVENT_CANCEL, DBR.TIME_DOUBLE, 1, d.sid, 12345));
      const e = await c.nextCmd(Command.ERROR);
      assert.equal(e.parameter2, ECA.BADMONID);
      await c.waitClosed();
      server.pv('S:wf').post([1.5, 2.5, 3.5, -4e5]);
    });

    it('EVENTS_OFF coalesces (latest value wins), EVENTS_ON flushes', async () => {
      const c = await RawClient.connect(port);
      c.hello();
      const d = await c.create('S:dbl', 1);
      c.send(msg(Command.EVENT_ADD, DBR.DOUBLE, 1, d.sid, 1, evmask(DBE.VALUE)));
      await c.nextCmd(Command.EVENT_ADD);
      c.send(msg(Command.EVENTS_OFF));
      c.send(msg(Command.ECHO));
      await c.nextCmd(Command.ECHO);
      for (const v of [1, 2, 3]) server.pv('S:dbl').post(v);
      await sleep(30);
      assert.equal(c.received.filter((m) => m.command === Command.EVENT_ADD).length, 1);
      c.send(msg(Command.EVENTS_ON));
      const u = await c.nextCmd(Command.EVENT_ADD);
      assert.equal((decodeDbr(DBR.DOUBLE, 1, u.payload).value as Float64Array)[0], 3);
      await sleep(30);
      assert.equal(c.received.filter((m) => m.command === Command.EVENT_ADD).length, 2);
      server.pv('S:dbl').post(21.5);
      c.close();
    });

    it('echoes ECHO and READ_SYNC; CLEAR_CHANNEL echoes and later use of the sid is fatal', async () => {
      const c = await RawClient.connect(port);
      c.hello();
      c.send(msg(Command.ECHO));
      const e = await c.nextCmd(Command.ECHO);
      assert.deepEqual([e.dataType, e.dataCount, e.parameter1, e.parameter2], [0, 0, 0, 0]);
      c.send(msg(Command.ECHO, 0, 0, 1, 2, Buffer.from('12345678')));
      const ep = await c.nextCmd(Command.ECHO);
      assert.equal(ep.payload.toString(), '12345678');
      c.send(msg(Command.READ_SYNC, 0, 0, 5, 6));
      const rs = await c.nextCmd(Command.READ_SYNC);
      assert.deepEqual([rs.parameter1, rs.parameter2], [5, 6]);
      const d = await c.create('S:dbl', 3);
      c.send(msg(Command.CLEAR_CHANNEL, 0, 0, d.sid, 3));
      const cl = await c.nextCmd(Command.CLEAR_CHANNEL);
      assert.deepEqual([cl.parameter1, cl.parameter2], [d.sid, 3]);
      c.send(msg(Command.READ_NOTIFY, DBR.DOUBLE, 1, d.sid, 1));
      const err = await c.nextCmd(Command.ERROR);
      assert.equal(err.parameter2, ECA.INTERNAL);
      assert.equal(err.parameter1, 0xffffffff);
      await c.waitClosed();
    });

    it('CLIENT_NAME after the first channel: ERROR ECA_INTERNAL, circuit kept; > 511 chars: closed', async () => {
      const c = await RawClient.connect(port);
      c.hello();
      await c.create('S:dbl', 1);
      c.send(msg(Command.CLIENT_NAME, 0, 0, 0, 0, nameBuf('late')));
      const e = await c.nextCmd(Command.ERROR);
      assert.equal(e.parameter2, ECA.INTERNAL);
      c.send(msg(Command.ECHO));
      await c.nextCmd(Command.ECHO);
      assert.equal(
        server.server.clients().some((x) => x.user === 'tester'),
        true,
      );
      c.close();

      const l = await RawClient.connect(port);
      l.send(msg(Command.VERSION, 0, 13), msg(Command.HOST_NAME, 0, 0, 0, 0, nameBuf('h'.repeat(600))));
      await l.waitClosed();
    });

    it('search over TCP: SEARCH reply without payload, NOT_FOUND only for DOREPLY', async () => {
      const c = await RawClient.connect(port);
      c.hello();
      c.send(msg(Command.SEARCH, 5, 13, 11, 11, nameBuf('S:dbl')));
      const r = await c.nextCmd(Command.SEARCH);
      assert.deepEqual([r.payloadSize, r.dataType, r.parameter1, r.parameter2], [0, port, 0xffffffff, 11]);
      c.send(msg(Command.SEARCH, 5, 13, 12, 12, nameBuf('NOPE')));
      c.send(msg(Command.SEARCH, 10, 13, 13, 13, nameBuf('NOPE')));
      const nf = await c.nextCmd(Command.NOT_FOUND);
      assert.deepEqual([nf.dataType, nf.parameter1, nf.parameter2], [10, 13, 13]);
      assert.equal(c.received.filter((m) => m.command === Command.NOT_FOUND).length, 1);
      c.close();
    });
  });

  describe('fatal and non-fatal errors', () => {
    const fatalCases: [string, (sid: number) => Buffer, boolean][] = [
      ['unknown sid', () => msg(Command.READ_NOTIFY, DBR.DOUBLE, 1, 999999, 1), true],
      ['obsolete command (SNAPSHOT)', () => msg(Command.SNAPSHOT), true],
      ['unknown command', () => msg(77), true],
      ['misaligned payload size', () => Buffer.from('0017000300000000000000000000000000000000', 'hex'), true],
      ['invalid DBR type in READ_NOTIFY (silent)', (sid) => msg(Command.READ_NOTIFY, 39, 1, sid, 1), false],
      ['invalid DBR type in READ', (sid) => msg(Command.READ, 200, 1, sid, 1), true],
      ['priority > 99', () => msg(Command.VERSION, 100, 13), false],
    ];
    for (const [what, make, withError] of fatalCases) {
      it(`${what} closes the circuit`, async () => {
        const c = await RawClient.connect(port);
        c.hello();
        const d = await c.create('S:dbl', 1);
        c.send(make(d.sid));
        await c.waitClosed();
        assert.equal(
          c.received.some((m) => m.command === Command.ERROR),
          withError,
        );
      });
    }
    it('requests before a VERSION get ECA_DEFUNCT; the circuit stays open', async () => {
      const c = await RawClient.connect(port);
      c.send(msg(Command.CREATE_CHAN, 0, 0, 1, 13, nameBuf('S:dbl')));
      const e = await c.nextCmd(Command.ERROR);
      assert.equal(e.parameter2, ECA.DEFUNCT);
      assert.match(e.payload.toString('latin1', 16), /^CAS: Client version 0 too old\0/);
      await sleep(20);
      c.hello();
      assert.equal((await c.create('S:dbl', 2)).type, DBR.DOUBLE);
      c.close();
    });
    it('a VERSION below minor 4 closes the circuit silently', async () => {
      const c = await RawClient.connect(port);
      c.send(msg(Command.VERSION, 0, 3));
      await c.waitClosed();
      assert.equal(c.received.filter((m) => m.command === Command.ERROR).length, 0);
    });
    it('ignores CREATE_CHAN with an empty name', async () => {
      const c = await RawClient.connect(port);
      c.hello();
      c.send(msg(Command.CREATE_CHAN, 0, 0, 1, 13), msg(Command.ECHO));
      await c.nextCmd(Command.ECHO);
      assert.deepEqual(
        c.received.map((m) => m.command),
        [Command.VERSION, Command.ECHO],
      );
      c.close();
    });
    it('the extended header is a protocol error from a client below minor 9', async () => {
      const c = await RawClient.connect(port);
      c.hello('u', 'h', 8);
      c.send(msg(Command.CREATE_CHAN, 0, 0, 1, 8, nameBuf('S:wf')));
      const cc = await c.nextCmd(Command.CREATE_CHAN);
      c.send(encodeExtendedRead(DBR.DOUBLE, 10, cc.parameter2, 1));
      const e = await c.nextCmd(Command.ERROR);
      assert.equal(e.parameter2, ECA.INTERNAL);
      await c.waitClosed();
    });
    it('invalid DBR type in WRITE_NOTIFY: reply ECA_BADTYPE, then close', async () => {
      const c = await RawClient.connect(port);
      c.hello();
      const d = await c.create('S:dbl', 1);
      c.send(msg(Command.WRITE_NOTIFY, 45, 1, d.sid, 3, Buffer.alloc(8)));
      const r = await c.nextCmd(Command.WRITE_NOTIFY);
      assert.equal(r.parameter1, ECA.BADTYPE);
      await c.waitClosed();
    });
    it('a request over the payload limit gets ECA_TOLARGE and the circuit goes on', async () => {
      const small = await serve({
        env: testEnv(),
        port: 0,
        maxPayload: 1024,
        pvs: { 'T:x': { type: 'double', count: 1000 } },
      });
      try {
        const c = await RawClient.connect(small.tcpPort);
        c.hello();
        const d = await c.create('T:x', 1);
        const big = msg(Command.WRITE, DBR.DOUBLE, 1000, d.sid, 1, Buffer.alloc(8000, 1));
        // in pieces, so the discarding spans several reads
        c.send(big.subarray(0, 100));
        await sleep(10);
        c.send(big.subarray(100, 5000));
        await sleep(10);
        c.send(big.subarray(5000));
        const e = await c.nextCmd(Command.ERROR);
        assert.equal(e.parameter2, ECA.TOLARGE);
        c.send(msg(Command.READ_NOTIFY, DBR.DOUBLE, 2, d.sid, 8));
        const r = await c.next((m) => m.command === Command.READ_NOTIFY);
        assert.equal(r.parameter1, ECA.NORMAL);
        assert.deepEqual([...(decodeDbr(DBR.DOUBLE, 2, r.payload).value as Float64Array)], [0, 0]);
        c.close();
      } finally {
        await small.stop();
      }
    });
  });
});

function encodeExtendedRead(type: number, count: number, sid: number, ioid: number): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt16BE(Command.READ_NOTIFY, 0);
  b.writeUInt16BE(0xffff, 2);
  b.writeUInt16BE(type, 4);
  b.writeUInt32BE(sid, 8);
  b.writeUInt32BE(ioid, 12);
  b.writeUInt32BE(0, 16);
  b.writeUInt32BE(count, 20);
  return b;
}

describe('a faulty provider', () => {
  it('does not take the server down: ERROR ECA_INTERNAL, the circuit goes on', async () => {
    const good = new PvProvider({ 'G:ok': { type: 'double', value: 1 } });
    const broken: ServedChannel = {
      name: 'G:broken',
      nativeType: 6,
      elementCount: 1,
      className: 'ai',
      snapshot: () => {
        throw new Error('boom');
      },
      write: () => Promise.reject(new Error('no')),
      subscribe: () => () => undefined,
      accessRights: () => 3,
    };
    const lines: string[] = [];
    const server = new CaServer({
      env: testEnv(),
      port: 0,
      log: (l) => lines.push(l),
      provider: {
        has: (n) => n === 'G:broken' || good.has(n),
        channel: (n) => {
          if (n === 'G:throws') throw new Error('bad provider');
          return n === 'G:broken' ? broken : good.channel(n);
        },
      },
    });
    await server.start();
    try {
      const c = await RawClient.connect(server.tcpPort);
      c.hello();
      const b = await c.create('G:broken', 1);
      await assert.rejects(c.create('G:throws', 2), /CREATE_CH_FAIL/);
      c.send(msg(Command.READ_NOTIFY, DBR.DOUBLE, 1, b.sid, 1));
      assert.equal((await c.nextCmd(Command.ERROR)).parameter2, ECA.INTERNAL);
      c.send(msg(Command.WRITE_NOTIFY, DBR.DOUBLE, 1, b.sid, 2, Buffer.alloc(8)));
      assert.equal((await c.nextCmd(Command.WRITE_NOTIFY)).parameter1, ECA.PUTFAIL);
      const g = await c.create('G:ok', 3);
      c.send(msg(Command.READ_NOTIFY, DBR.DOUBLE, 1, g.sid, 4));
      assert.equal((await c.nextCmd(Command.READ_NOTIFY)).parameter1, ECA.NORMAL);
      assert.ok(lines.some((l) => l.includes('boom')));
      c.close();
    } finally {
      await server.stop();
    }
  });
});

describe('put callback timeout', () => {
  it('a put waiting behind an unfinished one: the old one is answered ECA_PUTCBINPROG', async () => {
    const server = await serve({
      env: testEnv(),
      port: 0,
      putCallbackTimeout: 0.2,
      pvs: {
        'P:hang': {
          type: 'double',
          onPut: (v) => (v === 99 ? new Promise<void>(() => undefined) : undefined),
        },
      },
    });
    try {
      const c = await RawClient.connect(server.tcpPort);
      c.hello();
      const h = await c.create('P:hang', 1);
      const dbl = (x: number): Buffer => {
        const b = Buffer.alloc(8);
        b.writeDoubleBE(x);
        return b;
      };
      const t0 = Date.now();
      c.send(msg(Command.WRITE_NOTIFY, DBR.DOUBLE, 1, h.sid, 1, dbl(99)));
      await sleep(50);
      c.send(msg(Command.WRITE_NOTIFY, DBR.DOUBLE, 1, h.sid, 2, dbl(5)));
      const r1 = await c.next((m) => m.command === Command.WRITE_NOTIFY);
      assert.deepEqual([r1.parameter2, r1.parameter1], [1, ECA.PUTCBINPROG]);
      assert.ok(Date.now() - t0 >= 200);
      const r2 = await c.next((m) => m.command === Command.WRITE_NOTIFY);
      assert.deepEqual([r2.parameter2, r2.parameter1], [2, ECA.NORMAL]);
      assert.equal(server.pv('P:hang').value, 5);
      c.close();
    } finally {
      await server.stop();
    }
  });
});
