// Large arrays through the client's socket reads: the circuit reads a large payload straight into
// its own buffer (no per-read copy) and the recycled read buffer for everything else. The values
// must arrive exactly, repeatedly, interleaved with small messages and monitors.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Context } from '../../src/client/context.js';
import { DBR } from '../../src/protocol/constants.js';
import type { PvServer } from '../../src/server/pv-server.js';
import { serveWithClient, type ServedClient } from '../helpers/served.js';

const N = 1_500_000; // 12 MB of doubles: many socket reads per reply

function ramp(n: number, k: number): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = i * 0.5 + k;
  return a;
}

function assertRamp(v: Float64Array, n: number, k: number): void {
  assert.equal(v.length, n);
  // every element: a wrong offset anywhere (a read landing at the wrong place) shows up
  for (let i = 0; i < n; i++) {
    if (v[i] !== i * 0.5 + k) assert.fail(`element ${i}: ${v[i]} instead of ${i * 0.5 + k}`);
  }
}

describe('client large arrays', () => {
  let served: ServedClient;
  let srv: PvServer;
  let ctx: Context;
  before(async () => {
    served = await serveWithClient(
      {
        'BIG:wf': { type: 'double', count: N, value: ramp(N, 0) },
        'BIG:i16': { type: 'short', count: 300_001, value: new Int16Array(300_001).map((_, i) => i - 20000) },
        'BIG:d': { type: 'double', value: 2.5 },
      },
      {
        EPICS_CA_MAX_ARRAY_BYTES: '100000000',
        EPICS_CAS_MAX_ARRAY_BYTES: '100000000',
      },
    );
    ({ srv, ctx } = served);
  });
  after(async () => {
    await served.close();
  });

  it('gets a 12 MB array exactly, several times, with small reads in between', async () => {
    const wf = ctx.channel('BIG:wf');
    const d = ctx.channel('BIG:d');
    await Promise.all([wf.waitForConnection(5), d.waitForConnection(5)]);
    for (let k = 0; k < 3; k++) {
      // a big reply and small replies in flight on the same circuit at once
      const [big, small, big2] = await Promise.all([
        wf.get({ timeout: 20 }),
        d.get(),
        wf.get({ dbrType: DBR.TIME_DOUBLE, timeout: 20 }),
      ]);
      assertRamp(big.value as Float64Array, N, 0);
      assert.equal((small.value as Float64Array)[0], 2.5);
      assertRamp(big2.value as Float64Array, N, 0);
      assert.ok(big2.stamp, 'TIME metadata decoded before the array');
      // arrays handed out are independent of each other (no shared receive buffer)
      assert.notEqual((big.value as Float64Array).buffer, (big2.value as Float64Array).buffer);
    }
  });

  it('odd-sized element arrays and monitors of large arrays arrive exactly', async () => {
    const i16 = ctx.channel('BIG:i16');
    await i16.waitForConnection(5);
    const r = await i16.get({ timeout: 20 });
    const v = r.value as Int16Array;
    assert.equal(v.length, 300_001);
    for (let i = 0; i < v.length; i++) {
      if (v[i] !== ((i - 20000) << 16) >> 16) assert.fail(`element ${i}: ${v[i]}`);
    }
    assert.equal(v[300_000], 280_000 - 65536 * 4);

    const wf = ctx.channel('BIG:wf');
    await wf.waitForConnection(5);
    const got: Float64Array[] = [];
    let wake!: () => void;
    const posted = new Promise<void>((res) => (wake = res));
    const sub = wf.subscribe({}, (u) => {
      const a = u.value as Float64Array;
      got.push(a);
      if (a[0] === 7) wake();
    });
    const timer = setTimeout(() => wake(), 20_000);
    for (let i = 0; i < 500 && got.length === 0; i++) await new Promise((res) => setTimeout(res, 20));
    assert.ok(got.length > 0, 'no first update');
    srv.pv('BIG:wf').post(ramp(N, 7));
    await posted;
    clearTimeout(timer);
    sub.clear();
    assert.ok(got.length >= 2, `${got.length} updates`);
    assertRamp(got[0]!, N, 0);
    assertRamp(got[got.length - 1]!, N, 7);
    // the stream is still in step afterwards
    const d = ctx.channel('BIG:d');
    await d.waitForConnection(5);
    assert.equal(((await d.get()).value as Float64Array)[0], 2.5);
  });
});
