/**
 * The circuit's fast lane (circuit-fast-lane.ts) against the general path: the same request bytes,
 * fed to one circuit in chunks of many sizes (fast lane on, requests cut anywhere) and to another
 * at once with the fast lane off, give the same reply bytes and leave the records in the same
 * state; and a one-number put through writeScalarNow equals writeNow with the value array.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { Circuit } from '../../src/server/circuit.js';
import type { CircuitContext } from '../../src/server/circuit.js';
import { RecordDatabase } from '../../src/ioc/database.js';
import type { FieldChannel } from '../../src/ioc/channel.js';
import { makeNumeric } from '../../src/ioc/record.js';
import { CaStatusError } from '../../src/server/provider.js';
import type { NativeArray } from '../../src/protocol/values.js';

const DB = `
record(ao, "ao") { field(PREC, "3") field(DRVH, "100") field(DRVL, "-100") field(HIHI, "50") field(HHSV, "MAJOR")
  field(LOW, "-5") field(LSV, "MINOR") field(LINR, "SLOPE") field(ESLO, "0.5") field(EOFF, "1") field(MDEL, "0.5") }
record(ao, "ao2") { field(ASLO, "3") field(ROFF, "2") field(ADEL, "-1") }
record(longout, "lo") { field(HIGH, "10") field(HSV, "MINOR") }
record(bo, "bo") { field(ZNAM, "Off") field(ONAM, "On") }
record(ai, "ai") { field(DISP, "1") }
record(calc, "calc") { field(CALC, "A+B") }
record(mbbo, "mbbo") { field(ZRST, "zero") field(ONST, "one") }
record(waveform, "wf") { field(FTVL, "DOUBLE") field(NELM, "4") }
record(stringout, "so") { field(VAL, "abc") }
`;

/** Channels of the circuit test, in sid order. */
const NAMES = [
  'ao',
  'ao.HIHI',
  'ao.RVAL',
  'ao.ORAW',
  'ao.PREC',
  'ao2',
  'lo',
  'bo',
  'ai',
  'calc.A',
  'calc.SCAN',
  'mbbo',
  'wf',
  'so',
  'nope',
];

class FakeSocket extends EventEmitter {
  writableLength = 0;
  remoteAddress = '127.0.0.1';
  remotePort = 5;
  readonly out: Buffer[] = [];
  setNoDelay(): void {}
  setKeepAlive(): void {}
  pause(): void {}
  resume(): void {}
  cork(): void {}
  uncork(): void {}
  write(b: Buffer, cb?: () => void): boolean {
    this.out.push(Buffer.from(b));
    cb?.();
    return true;
  }
  destroy(): void {}
  end(): void {}
}

function serve(db: RecordDatabase, fastLane: boolean): { sock: FakeSocket; circuit: Circuit } {
  let sid = 0;
  const ctx: CircuitContext = {
    provider: db,
    tcpPort: 5064,
    maxPayload: 1 << 20,
    highWaterMark: 1 << 20,
    hardLimit: 1 << 26,
    putCallbackTimeout: 60,
    allocSid: () => sid++,
    rightsFor: (ch, client) => ch.accessRights(client) & 3,
    acquire: () => undefined,
    release: () => undefined,
    log: () => undefined,
    onClose: () => undefined,
  };
  const sock = new FakeSocket();
  const circuit = new Circuit(sock as unknown as Socket, ctx);
  if (!fastLane) (circuit as unknown as { fastLaneOn: boolean }).fastLaneOn = false;
  return { sock, circuit };
}

function message(cmd: number, type: number, count: number, p1: number, p2: number, payload?: Buffer): Buffer {
  const size = payload ? (payload.length + 7) & ~7 : 0;
  const b = Buffer.alloc(16 + size);
  b.writeUInt16BE(cmd, 0);
  b.writeUInt16BE(size, 2);
  b.writeUInt16BE(type, 4);
  b.writeUInt16BE(count, 6);
  b.writeUInt32BE(p1, 8);
  b.writeUInt32BE(p2, 12);
  payload?.copy(b, 16);
  return b;
}

function numberPayload(type: number, x: number): Buffer {
  const b = Buffer.alloc(8);
  if (type === 6) b.writeDoubleBE(x);
  else if (type === 5) b.writeInt32BE(Math.max(-2147483648, Math.min(2147483647, Math.trunc(x) || 0)));
  else if (type === 2) b.writeFloatBE(x);
  else b.writeInt16BE(Math.max(-32768, Math.min(32767, Math.trunc(x) || 0)));
  return b;
}

/** The request stream: connect every channel, then puts, reads and a few other requests mixed. */
function requests(): Buffer {
  const parts: Buffer[] = [message(0, 0, 13, 0, 0)];
  NAMES.forEach((n, i) => parts.push(message(18, 0, 0, i, 13, Buffer.from(n + '\0'))));
  const sids = NAMES.length - 1; // 'nope' gets no sid
  // monitors (plain and STS: no time stamps in the bytes) on ao and lo
  const mask = Buffer.alloc(16);
  mask.writeUInt16BE(5, 12);
  parts.push(message(1, 6, 1, 0, 1000, mask));
  parts.push(message(1, 1, 1, 0, 1001, mask));
  parts.push(message(1, 13, 1, 6, 1002, mask));
  const values = [0, 1.5, -2.25, 49.9, 50, 51, 1e6, -1e6, -7.5, NaN, Infinity, -Infinity, 3e9, 255.5, 0.1];
  let ioid = 1;
  for (let k = 0; k < values.length; k++) {
    for (let sid = 0; sid < sids; sid++) {
      for (const type of [6, 5, 2, 1]) {
        const x = values[(k + sid + type) % values.length]!;
        parts.push(message(4, type, 1, sid, ioid++, numberPayload(type, x)));
        parts.push(message(19, type, 1, sid, ioid++, numberPayload(type, -x / 3)));
      }
      // plain and STS types (TIME types carry the processing time: not comparable)
      for (let type = 0; type <= 13; type++) parts.push(message(15, type, 1, sid, ioid++));
      parts.push(message(15, 6, 0, sid, ioid++));
    }
    // requests the fast lane leaves to the general path, between the ones it serves
    parts.push(message(23, 0, 0, 0, 0));
    parts.push(message(4, 6, 2, 0, ioid++, Buffer.concat([numberPayload(6, 1), numberPayload(6, 2)])));
    parts.push(message(4, 3, 1, 7, ioid++, numberPayload(1, 1)));
    parts.push(message(4, 0, 1, 0, ioid++, Buffer.from('12.5\0')));
    parts.push(message(15, 6, 1, 2, ioid++));
  }
  // a put with a count of 0 and a read of an unknown sid (fatal: the circuit ends there)
  parts.push(message(4, 6, 0, 0, ioid++, numberPayload(6, 1)));
  parts.push(message(15, 6, 1, 999, ioid++));
  parts.push(message(4, 6, 1, 0, ioid++, numberPayload(6, 42)));
  return Buffer.concat(parts);
}

async function run(fastLane: boolean, chunk: number): Promise<{ out: Buffer; state: unknown[] }> {
  const db = new RecordDatabase();
  db.loadDatabase(DB);
  db.init();
  const { sock } = serve(db, fastLane);
  const all = requests();
  for (let o = 0; o < all.length; o += chunk) {
    sock.emit('data', all.subarray(o, Math.min(all.length, o + chunk)));
    // a turn of the event loop now and then (output written, barriers lifted)
    if ((o / chunk) % 7 === 6) await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  const state = ['ao', 'ao2', 'lo', 'bo', 'ai', 'calc', 'mbbo', 'wf', 'so'].map((n) => {
    const rec = (db.channel(n) as FieldChannel).rec;
    return { ...rec.v, wf: n === 'wf' ? [...(db.get(n) as Float64Array)] : undefined };
  });
  db.stop();
  return { out: Buffer.concat(sock.out), state };
}

test('fast lane and general path: same replies, same record state, requests cut anywhere', async () => {
  const general = await run(false, 1 << 30);
  assert.ok(general.out.length > 10000, 'the general path answered');
  for (const chunk of [1 << 30, 65536, 16384, 1000, 100, 24, 17, 7, 1]) {
    const fast = await run(true, chunk);
    assert.deepEqual(fast.state, general.state, `record state, chunks of ${chunk}`);
    assert.equal(fast.out.length, general.out.length, `reply length, chunks of ${chunk}`);
    assert.ok(fast.out.equals(general.out), `reply bytes, chunks of ${chunk}`);
  }
});

function eca(f: () => unknown): number | string {
  try {
    const r = f();
    return r === undefined ? 'sync' : 'async';
  } catch (e) {
    assert.ok(e instanceof CaStatusError, String(e));
    return e.eca;
  }
}

test('writeScalarNow equals writeNow with the one-element array, field by field', () => {
  const who = { user: 'u', host: 'h', address: '127.0.0.1' };
  const a = new RecordDatabase();
  const b = new RecordDatabase();
  a.loadDatabase(DB);
  b.loadDatabase(DB);
  a.init();
  b.init();
  const values = [0, 1, -1, 2.5, -2.5, 99.99, 1e10, -1e10, 70000, -40000, NaN, Infinity, 4294967296.5];
  let checked = 0;
  for (const recName of ['ao', 'ao2', 'lo', 'bo', 'ai', 'calc', 'mbbo', 'wf', 'so']) {
    const rec = (a.channel(recName) as FieldChannel).rec;
    for (const fd of rec.def.fields) {
      const name = `${recName}.${fd.name}`;
      const ca = a.channel(name) as FieldChannel | undefined;
      const cb = b.channel(name) as FieldChannel | undefined;
      if (!ca || !cb) continue;
      for (const type of [6, 5, 2, 1]) {
        for (const v of values) {
          const arr = makeNumeric(type, [v]) as Exclude<NativeArray, string[]>;
          const x = arr[0]!;
          const ra = eca(() => ca.writeScalarNow(x, type, who));
          const rb = eca(() => cb.writeNow(arr, type, who));
          assert.equal(ra, rb, `${name} = ${v} (type ${type}): outcome`);
          const sa: Record<string, unknown> = { ...ca.rec.v };
          const sb: Record<string, unknown> = { ...cb.rec.v };
          assert.deepEqual(sa, sb, `${name} = ${v} (type ${type}): record state`);
          checked++;
        }
      }
    }
  }
  assert.ok(checked > 5000, `${checked} puts compared`);
  a.stop();
  b.stop();
});
