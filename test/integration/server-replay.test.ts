// Replay the client side of the recorded softIoc traces (test/fixtures/ca-traces) against our server,
// serving PVs declared with the code API that mimic test.db, and compare our replies with RSRV's:
// every header field (server ids mapped through the channels' cids) and, for data replies, the
// decoded values and metadata (time stamps excepted). Scenarios run in the recording's order on one
// server, so state carries over exactly as it did in the recording.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { Command, DBR } from '../../src/protocol/constants.js';
import { decodeDbr } from '../../src/protocol/dbr.js';
import { EXTENDED_HEADER_SIZE, HEADER_SIZE } from '../../src/protocol/header.js';
import type { Message } from '../../src/protocol/header.js';
import { beaconDelays, beaconMessage, serve } from '../../src/server/index.js';
import type { PvServer, PvSpec, ServedPv, PutValue } from '../../src/server/index.js';
import { circuits, loadTrace, tcpStreams, udpDatagrams } from '../helpers/traces.js';
import { LOOPBACK, RawClient, sleep, testEnv } from './server-helpers.js';

const TRACE_PORT = 25064;
const INVALID = 3;
const UDF = 17;

/** A put handler that behaves like record processing: store, clear the alarm, post. */
function processes(delayMs = 0) {
  return async (v: PutValue, pv: ServedPv): Promise<boolean> => {
    if (delayMs) await sleep(delayMs);
    pv.post(v, { severity: 0, status: 0 });
    return false;
  };
}

const never = { severity: INVALID, status: UDF, timestamp: { secPastEpoch: 0, nsec: 0 } };

/** test.db, declared with the code API. */
function testDb(): Record<string, PvSpec & { timestamp?: unknown }> {
  return {
    'T:ai': {
      type: 'double', value: 21.5, units: 'degC', precision: 3, highDisp: 100, lowDisp: -20,
      highAlarm: 90, highWarning: 80, lowWarning: 0, lowAlarm: -10, className: 'ai', onPut: processes(),
    },
    'T:ao': {
      type: 'double', value: 3.25, units: 'mm', precision: 2, highDisp: 12, lowDisp: -6, highCtrl: 10,
      lowCtrl: -5, className: 'ao', onPut: processes(),
    },
    'T:dbl': { type: 'double', value: 0, precision: 4, className: 'ao', onPut: processes() },
    'T:bi': { type: 'enum', enumStrs: ['Closed', 'Open'], value: 1, className: 'bi', onPut: processes() },
    'T:bo': { type: 'enum', enumStrs: ['Off', 'On'], value: 0, className: 'bo', onPut: processes() },
    'T:mbbi': {
      type: 'enum', enumStrs: ['Idle', 'Acquire', 'Readout', 'Correct'], value: 2, className: 'mbbi', onPut: processes(),
    },
    'T:mbbo': { type: 'enum', enumStrs: ['1x', '10x', '100x'], value: 0, className: 'mbbo', onPut: processes() },
    'T:li': {
      type: 'long', value: 123456, units: 'counts', highDisp: 1000000, lowDisp: 0, className: 'longin', onPut: processes(),
    },
    'T:lo': { type: 'long', value: 0, highCtrl: 1000, lowCtrl: -1000, className: 'longout', onPut: processes() },
    'T:i64': { type: 'double', value: 9007199254740993, className: 'int64in', onPut: processes() },
    'T:si': { type: 'string', value: 'hello world', className: 'stringin', onPut: processes() },
    'T:so': { type: 'string', value: '', className: 'stringout', severity: INVALID, status: UDF, onPut: processes() },
    'T:lsi': {
      type: 'string', value: 'a long string value beyond forty characters, from an lsi', className: 'lsi',
      onPut: processes(),
    },
    'T:wf': { type: 'double', count: 10, precision: 2, units: 'V', className: 'waveform', ...never, onPut: processes() },
    'T:cwf': { type: 'char', count: 64, className: 'waveform', ...never, onPut: processes() },
    'T:swf': { type: 'string', count: 4, className: 'waveform', ...never, onPut: processes() },
    'T:aai': { type: 'double', count: 8, className: 'aai', ...never, onPut: processes() },
    'T:big100k': { type: 'double', count: 100000, className: 'waveform', ...never, onPut: processes() },
    'T:cnt': { type: 'double', value: 0, className: 'calc' },
    'T:slow.A': { type: 'double', value: 0, className: 'calcout', severity: INVALID, status: UDF, onPut: processes(300) },
    'T:calc': { type: 'double', value: 0, className: 'calc', ...never },
    'T:ai.DESC': { type: 'string', value: 'analog in', className: 'ai' },
    'T:ai.NAME': { type: 'string', value: 'T:ai', className: 'ai', readOnly: true },
    'T:ai.RTYP': { type: 'string', value: 'ai', className: 'ai' },
    'T:calc.INPA': { type: 'string', value: 'T:ao NPP NMS', className: 'calc', ...never },
  } as Record<string, PvSpec>; // prettier-ignore
}

/** Commands whose parameter1 is a server channel id. */
const SID_COMMANDS = new Set<number>([
  Command.READ, Command.READ_NOTIFY, Command.WRITE, Command.WRITE_NOTIFY, Command.EVENT_ADD,
  Command.EVENT_CANCEL, Command.CLEAR_CHANNEL,
]); // prettier-ignore

function reencode(m: Message, parameter1: number): Buffer {
  const ext = m.extended;
  const h = Buffer.alloc(ext ? EXTENDED_HEADER_SIZE : HEADER_SIZE);
  h.writeUInt16BE(m.command, 0);
  h.writeUInt16BE(ext ? 0xffff : m.payloadSize, 2);
  h.writeUInt16BE(m.dataType, 4);
  h.writeUInt16BE(ext ? 0 : m.dataCount, 6);
  h.writeUInt32BE(parameter1 >>> 0, 8);
  h.writeUInt32BE(m.parameter2 >>> 0, 12);
  if (ext) {
    h.writeUInt32BE(m.payloadSize, 16);
    h.writeUInt32BE(m.dataCount, 20);
  }
  return Buffer.concat([h, m.payload]);
}

interface Normalized {
  command: number;
  payloadSize: number;
  dataType: number;
  dataCount: number;
  parameter1: number | string;
  parameter2: number | string;
  data?: unknown;
}

/**
 * Server messages in comparable form: sids replaced by "sid(cid)", unsolicited monitor updates
 * (every EVENT_ADD update after the first of its subscription) dropped, data decoded without stamps.
 */
function normalize(
  msgs: Message[],
  sidToCid: Map<number, number>,
  subChannel: Map<number, string>,
): Normalized[] {
  const seenSub = new Set<number>();
  const out: Normalized[] = [];
  const sidTag = (sid: number): string => `sid(${sidToCid.get(sid) ?? '?'})`;
  for (const m of msgs) {
    const n: Normalized = {
      command: m.command,
      payloadSize: m.payloadSize,
      dataType: m.dataType,
      dataCount: m.dataCount,
      parameter1: m.parameter1,
      parameter2: m.parameter2,
    };
    if (m.command === Command.CREATE_CHAN) n.parameter2 = sidTag(m.parameter2);
    if (m.command === Command.CLEAR_CHANNEL) n.parameter1 = sidTag(m.parameter1);
    if (m.command === Command.EVENT_ADD && m.payloadSize === 0) n.parameter1 = sidTag(m.parameter1);
    if (m.command === Command.EVENT_ADD && m.payloadSize > 0) {
      if (seenSub.has(m.parameter2)) continue;
      seenSub.add(m.parameter2);
    }
    const isData =
      (m.command === Command.READ_NOTIFY || m.command === Command.EVENT_ADD || m.command === Command.READ) &&
      m.payloadSize > 0;
    if (isData && m.command === Command.EVENT_ADD && subChannel.get(m.parameter2) === 'T:cnt') {
      n.data = 'T:cnt (counter value)';
    } else if (isData) {
      const d = decodeDbr(m.dataType, m.dataCount, m.payload) as unknown as Record<string, unknown>;
      delete d.stamp;
      n.data = d;
    }
    out.push(n);
  }
  return out;
}

async function replayUdp(name: string, port: number): Promise<void> {
  const dgs = udpDatagrams(loadTrace(name)).filter(
    (d) => d.messages.length > 0 && d.messages[0].command !== Command.RSRV_IS_UP,
  );
  const sock = dgram.createSocket('udp4');
  const got: Buffer[] = [];
  sock.on('message', (m) => got.push(m));
  await new Promise<void>((r) => sock.bind(0, LOOPBACK, () => r()));
  try {
    for (let i = 0; i < dgs.length; i++) {
      const d = dgs[i];
      if (d.packet.from !== 'client') continue;
      const expected: Buffer[] = [];
      for (let j = i + 1; j < dgs.length && dgs[j].packet.from === 'server'; j++) {
        if (dgs[j].packet.dstPort === d.packet.srcPort) expected.push(dgs[j].packet.data);
      }
      got.length = 0;
      sock.send(d.packet.data, port, LOOPBACK);
      const deadline = Date.now() + (expected.length ? 2000 : 150);
      while (Date.now() < deadline && got.length < expected.length) await sleep(5);
      if (!expected.length) await sleep(20);
      assert.equal(got.length, expected.length, `${name}: reply datagrams to datagram ${d.packet.index}`);
      for (let k = 0; k < expected.length; k++) {
        const want: Buffer = Buffer.from(expected[k]);
        // the advertised TCP port is ours, not 25064
        for (let o = 0; o + 16 <= want.length; o += 16 + want.readUInt16BE(o + 2)) {
          if (want.readUInt16BE(o) === Command.SEARCH) {
            assert.equal(want.readUInt16BE(o + 4), TRACE_PORT);
            want.writeUInt16BE(port, o + 4);
          }
        }
        assert.deepEqual(got[k], want, `${name}: datagram ${k} after ${d.packet.index}`);
      }
    }
  } finally {
    await new Promise<void>((r) => sock.close(() => r()));
  }
}

async function replayTcp(name: string, port: number): Promise<void> {
  const streams = [...tcpStreams(loadTrace(name)).values()];
  const clientStreams = streams.filter((st) => st.from === 'client');
  for (const cs of clientStreams) {
    const ss = streams.find((st) => st.from === 'server' && st.dstPort === cs.srcPort);
    assert.ok(ss, `${name}: server stream of client port ${cs.srcPort}`);
    const rsrvSidToCid = new Map<number, number>();
    for (const m of ss.messages)
      if (m.command === Command.CREATE_CHAN) rsrvSidToCid.set(m.parameter2, m.parameter1);
    const cidName = new Map<number, string>();
    const subChannel = new Map<number, string>();
    const client = await RawClient.connect(port);
    try {
      const mySidByCid = new Map<number, number>();
      for (let i = 0; i < cs.messages.length; i++) {
        const m = cs.messages[i];
        // The client sent this only after it had received what the server had sent before it.
        const before = ss.times.filter((t) => t < cs.times[i]).length;
        const until = Date.now() + 3000;
        while (client.received.length < before && Date.now() < until) await sleep(2);
        if (m.command === Command.CREATE_CHAN) {
          const z = m.payload.indexOf(0);
          cidName.set(m.parameter1, m.payload.toString('latin1', 0, z < 0 ? m.payload.length : z));
        }
        if (SID_COMMANDS.has(m.command)) {
          const cid = rsrvSidToCid.get(m.parameter1);
          assert.notEqual(cid, undefined, `${name}: sid ${m.parameter1} of an unknown channel`);
          let sid = mySidByCid.get(cid as number);
          if (sid === undefined) {
            const r = await client.next(
              (x) => x.command === Command.CREATE_CHAN && x.parameter1 === cid,
              3000,
            );
            sid = r.parameter2;
            mySidByCid.set(cid as number, sid);
          }
          if (m.command === Command.EVENT_ADD) subChannel.set(m.parameter2, cidName.get(cid as number) ?? '');
          client.send(reencode(m, sid));
        } else {
          client.send(reencode(m, m.parameter1));
        }
      }
      const want: Normalized[] = normalize(ss.messages, rsrvSidToCid, subChannel);
      const myCidOf = new Map<number, number>();
      const deadline = Date.now() + 5000;
      let got: Normalized[] = [];
      for (;;) {
        myCidOf.clear();
        for (const r of client.received)
          if (r.command === Command.CREATE_CHAN) myCidOf.set(r.parameter2, r.parameter1);
        got = normalize(client.received, myCidOf, subChannel);
        if (got.length >= want.length || Date.now() > deadline) break;
        await sleep(10);
      }
      assert.deepEqual(got, want, `${name}: circuit of client port ${cs.srcPort}`);
    } finally {
      client.close();
    }
  }
}

describe('replay of recorded softIoc traces against our server', () => {
  let server: PvServer;
  let counter: NodeJS.Timeout;

  before(async () => {
    server = await serve({ env: testEnv(), port: 0, pvs: testDb() });
    let n = 0;
    counter = setInterval(() => server.pv('T:cnt').post((n = (n + 1) % 1000)), 100);
  });

  after(async () => {
    clearInterval(counter);
    await server.stop();
  });

  // The order of the recording (README): state carries over from one scenario to the next.
  const order = [
    'search',
    'get_records',
    'get_time',
    'put_scalar',
    'put_array',
    'put_errors',
    'put_enum',
    'get_dbr_types',
    'monitor',
    'not_found',
    'cainfo',
    'put_callback_slow',
    'echo',
    'big_array',
  ];
  for (const name of order) {
    it(name, async () => {
      if (name === 'big_array') {
        const v = new Float64Array(100000);
        for (let i = 0; i < v.length; i++) v[i] = i / 2;
        server.pv('T:big100k').post(v, { severity: 0, status: 0 });
      }
      await replayUdp(name, server.udpPort);
      await replayTcp(name, server.tcpPort);
    });
  }

  it("beacons: our beacon bytes and schedule are RSRV's (beacons.jsonl)", () => {
    const bs = udpDatagrams(loadTrace('beacons')).filter(
      (d) => d.messages[0]?.command === Command.RSRV_IS_UP,
    );
    assert.equal(bs.length, 9);
    const numbers = [0, 0, 1, 2, 3, 4, 5, 6, 7];
    bs.forEach((d, i) =>
      assert.deepEqual(d.packet.data, beaconMessage(TRACE_PORT, numbers[i]), `beacon ${i}`),
    );
    const delays = beaconDelays(15, 8);
    for (let i = 1; i < bs.length; i++) {
      const gap = bs[i].packet.t - bs[i - 1].packet.t;
      assert.ok(Math.abs(gap - delays[i - 1]) < 0.005, `gap ${i}: ${gap} vs ${delays[i - 1]}`);
    }
  });

  it('every client request type of the traces was exercised', () => {
    const seen = new Set<number>();
    for (const n of order)
      for (const c of circuits(loadTrace(n))) for (const m of c.client) seen.add(m.command);
    for (const cmd of [
      Command.VERSION, Command.CLIENT_NAME, Command.HOST_NAME, Command.CREATE_CHAN, Command.READ_NOTIFY,
      Command.WRITE, Command.WRITE_NOTIFY, Command.EVENT_ADD, Command.CLEAR_CHANNEL, Command.ECHO,
      Command.EVENTS_OFF, Command.EVENTS_ON,
    ]) assert.ok(seen.has(cmd), `command ${cmd}`); // prettier-ignore
    assert.equal(DBR.TIME_DOUBLE, 20);
  });
});
