// The allocation-free monitor path: the framer's reused message, the one-element DBR decoder
// (protocol/dbr-scalar.ts) and the PV's merge of it must give exactly what the general path gives.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StreamFramer } from '../../src/client/circuit.js';
import { EMPTY_PAYLOAD, FramedMessage } from '../../src/client/stream-framer.js';
import { SubscriptionImpl, decodeResult } from '../../src/client/channel.js';
import type { Channel, GetResult } from '../../src/client/channel.js';
import { PVState } from '../../src/client/pv-state.js';
import { emptyData } from '../../src/client/pv-types.js';
import type { PVData } from '../../src/client/pv-types.js';
import { ScalarDbr, decodeScalarInto, isScalarDbr } from '../../src/protocol/dbr-scalar.js';
import { decodeDbr, encodeDbr } from '../../src/protocol/dbr.js';
import { encodeMessage } from '../../src/protocol/header.js';
import type { Message } from '../../src/protocol/header.js';
import { Command } from '../../src/protocol/constants.js';
import type { NativeArray } from '../../src/protocol/values.js';

const SAMPLES: readonly (readonly (number | string)[])[] = [
  ['', 'abc', 'x'.repeat(39), 'héllo'],
  [0, -32768, 32767, 1234],
  [0, 1.5, -3.25e10, 0.1, Number.NaN, Infinity],
  [0, 1, 15, 65535],
  [0, 1, 127, 255],
  [0, -2147483648, 2147483647, 99],
  [0, Math.PI, -1e300, 5e-324, Number.NaN, -Infinity],
];

function nativeOf(type: number, v: number | string): NativeArray {
  switch (type % 7) {
    case 0:
      return [v as string];
    case 1:
      return Int16Array.of(v as number);
    case 2:
      return Float32Array.of(v as number);
    case 3:
      return Uint16Array.of(v as number);
    case 4:
      return Uint8Array.of(v as number);
    case 5:
      return Int32Array.of(v as number);
    default:
      return Float64Array.of(v as number);
  }
}

function payloadFor(type: number, v: number | string, shortString = false): Buffer {
  return encodeDbr(
    type,
    1,
    {
      value: nativeOf(type, v),
      status: 3,
      severity: 2,
      stamp: { secPastEpoch: 1_000_000_007, nsec: 123_456_789 },
    },
    { shortString },
  );
}

/** The message as a circuit reads it: inside a larger read, between other bytes. */
function framed(command: number, type: number, payload: Buffer): Message {
  const msg = encodeMessage(
    { command, dataType: type, dataCount: 1, parameter1: 1, parameter2: 7 },
    Buffer.concat([payload, Buffer.alloc((8 - (payload.length % 8)) % 8)]),
  );
  const f = new StreamFramer(1 << 20);
  let got: Message | undefined;
  f.push(Buffer.concat([Buffer.from([1, 2, 3]), msg]).subarray(3), (m) => {
    assert.ok(m instanceof FramedMessage);
    got = m;
  });
  assert.ok(got);
  return got;
}

describe('one-element DBR decoder', () => {
  it('reads every plain / STS / TIME type exactly as decodeDbr', () => {
    for (let t = 0; t <= 20; t++) {
      assert.ok(isScalarDbr(t, 1));
      for (const v of SAMPLES[t % 7]!) {
        for (const short of t === 0 ? [false, true] : [false]) {
          const p = payloadFor(t, v, short);
          const ref = decodeDbr(t, 1, p);
          const s = new ScalarDbr();
          const buf = Buffer.concat([Buffer.alloc(5, 0xee), p, Buffer.alloc(3, 0x41)]);
          assert.equal(decodeScalarInto(t, buf, 5, p.length, s), true);
          const where = `type ${t} value ${String(v)}${short ? ' (short)' : ''}`;
          assert.deepEqual(s.value, (ref.value as ArrayLike<number | string>)[0], where);
          assert.equal(s.dbrType, t);
          assert.equal(s.hasAlarm, ref.status !== undefined, where);
          if (ref.status !== undefined) {
            assert.equal(s.status, ref.status);
            assert.equal(s.severity, ref.severity);
          }
          assert.equal(s.hasStamp, ref.stamp !== undefined, where);
          if (ref.stamp) {
            assert.equal(s.secPastEpoch, ref.stamp.secPastEpoch);
            assert.equal(s.nsec, ref.stamp.nsec);
          }
        }
      }
    }
  });

  it('refuses what it does not handle, and too few bytes (where decodeDbr throws)', () => {
    assert.equal(isScalarDbr(6, 2), false);
    assert.equal(isScalarDbr(21, 1), false);
    assert.equal(isScalarDbr(34, 1), false);
    assert.equal(isScalarDbr(1.5, 1), false);
    for (const t of [1, 6, 8, 13, 20]) {
      const p = payloadFor(t, 1);
      assert.throws(() => decodeDbr(t, 1, p.subarray(0, p.length - 1)));
      assert.equal(decodeScalarInto(t, p, 0, p.length - 1, new ScalarDbr()), false);
    }
    assert.throws(() => decodeDbr(14, 1, Buffer.alloc(11)));
    assert.equal(decodeScalarInto(14, Buffer.alloc(11), 0, 11, new ScalarDbr()), false);
  });
});

describe('StreamFramer: one reused message per framer', () => {
  it('hands out the same FramedMessage for whole messages, empty payloads as one shared buffer', () => {
    const a = encodeMessage({
      command: Command.ACCESS_RIGHTS,
      dataType: 0,
      dataCount: 0,
      parameter1: 5,
      parameter2: 3,
    });
    const b = encodeMessage(
      { command: Command.EVENT_ADD, dataType: 20, dataCount: 1, parameter1: 1, parameter2: 9 },
      payloadFor(20, 2.5),
    );
    const f = new StreamFramer(1 << 20);
    const seen: Message[] = [];
    const summary: string[] = [];
    f.push(Buffer.concat([a, b, a]), (m, owned) => {
      assert.equal(owned, false);
      seen.push(m);
      summary.push(`${m.command}/${m.dataType}/${m.parameter1}/${m.parameter2}/${m.payload.toString('hex')}`);
    });
    assert.equal(seen.length, 3);
    assert.equal(seen[0], seen[1]);
    assert.equal(seen[1], seen[2]);
    assert.deepEqual(summary, [
      `${Command.ACCESS_RIGHTS}/0/5/3/`,
      `${Command.EVENT_ADD}/20/1/9/${payloadFor(20, 2.5).toString('hex')}`,
      `${Command.ACCESS_RIGHTS}/0/5/3/`,
    ]);
    const empty: Buffer[] = [];
    f.push(Buffer.concat([a, a]), (m) => empty.push(m.payload));
    assert.equal(empty[0], EMPTY_PAYLOAD);
    assert.equal(empty[1], EMPTY_PAYLOAD);
    assert.equal(EMPTY_PAYLOAD.length, 0);
  });

  it('a large owned payload comes in a message of its own', () => {
    const big = Buffer.alloc(200_000, 7);
    const msg = encodeMessage(
      { command: Command.READ_NOTIFY, dataType: 4, dataCount: big.length, parameter1: 1, parameter2: 2 },
      big,
    );
    const f = new StreamFramer(1 << 20);
    const got: Array<{ m: Message; owned: boolean }> = [];
    for (let off = 0; off < msg.length; off += 30_000)
      f.push(msg.subarray(off, off + 30_000), (m, owned) => got.push({ m, owned }));
    assert.equal(got.length, 1);
    assert.equal(got[0]!.owned, true);
    assert.ok(!(got[0]!.m instanceof FramedMessage));
    assert.equal(got[0]!.m.payload.compare(big), 0);
  });
});

/** A PV's cached state alone, as PV sets it up for a connected scalar channel. */
class State extends PVState {
  constructor(native: number) {
    super();
    this.data = emptyData('X');
    this.data.nelm = 1;
    this.ch = { nativeType: native } as unknown as Channel;
  }
  viaResult(d: GetResult, clientStamp: boolean): PVData {
    this.merge(d, d.dbrType, clientStamp);
    return { ...this.data };
  }
  viaScalar(d: ScalarDbr, clientStamp: boolean): PVData {
    this.mergeScalar(d, clientStamp);
    return { ...this.data };
  }
}

describe('subscription updates: the scalar path equals the general one', () => {
  it('delivers one-element updates to an observer that takes them, the others as GetResults', () => {
    for (let t = 0; t <= 20; t++) {
      for (const v of SAMPLES[t % 7]!) {
        const m = framed(Command.EVENT_ADD, t, payloadFor(t, v));
        const ref = decodeResult(m, false);
        // the general decoder's result, keys in the same order
        const full = { ...decodeDbr(t, 1, m.payload), dbrType: t, count: 1 };
        assert.deepEqual(ref, full);
        assert.deepEqual(Object.keys(ref), Object.keys(full));
        const scalars: ScalarDbr[] = [];
        const results: GetResult[] = [];
        let takes = true;
        const observer = {
          _subscriptionData: (d: GetResult): void => void results.push(d),
          _takesScalar: (): boolean => takes,
          _subscriptionScalar: (d: ScalarDbr): void => {
            const copy = new ScalarDbr();
            Object.assign(copy, d);
            scalars.push(copy);
          },
        };
        const sub = new SubscriptionImpl(1, {} as Channel, {}, 5, observer);
        sub.deliver(m);
        assert.equal(scalars.length, 1);
        assert.equal(results.length, 0);
        // and into a PV's state: the same cached data either way
        for (const clientStamp of [false, true]) {
          const a = new State(t % 7).viaResult(ref, clientStamp);
          const b = new State(t % 7).viaScalar(scalars[0]!, clientStamp);
          if (clientStamp && ref.stamp === undefined) {
            assert.ok(Math.abs((a.timestamp as number) - (b.timestamp as number)) < 5);
            a.timestamp = b.timestamp;
          }
          assert.deepEqual(b, a, `type ${t} value ${String(v)}`);
        }
        takes = false;
        sub.deliver(m);
        assert.equal(results.length, 1);
        assert.deepEqual(results[0], ref);
      }
    }
  });

  it('drops a too-short one-element update, as the general path does', () => {
    const p = payloadFor(20, 1).subarray(0, 8);
    const m = framed(Command.EVENT_ADD, 20, p);
    let calls = 0;
    const sub = new SubscriptionImpl(1, {} as Channel, {}, 5, {
      _subscriptionData: () => void calls++,
      _takesScalar: () => true,
      _subscriptionScalar: () => void calls++,
    });
    sub.deliver(m);
    assert.equal(calls, 0);
    const fn = new SubscriptionImpl(2, {} as Channel, {}, 5, () => void calls++);
    fn.deliver(m);
    assert.equal(calls, 0);
  });
});
