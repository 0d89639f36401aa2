// A put of a large array encodes its request into a buffer of the shared large-buffer pool
// (protocol/buffer-pool.ts), which goes back to the pool once the circuit has written it: never while
// it is still queued, and the server must receive the values intact.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { largeBuffers } from '../../src/protocol/buffer-pool.js';
import { DBR } from '../../src/protocol/constants.js';
import type { Context } from '../../src/client/context.js';
import { serveWithClient, type ServedClient } from '../helpers/served.js';

const N = 100_000; // 800 KB of doubles: a pooled request

function ramp(k: number): Float64Array {
  const a = new Float64Array(N);
  for (let i = 0; i < N; i++) a[i] = i * 0.25 + k;
  return a;
}

describe('client put: pooled request buffers', () => {
  let served: ServedClient;
  let ctx: Context;
  before(async () => {
    served = await serveWithClient(
      { 'PUT:wf': { type: 'double', count: N, value: new Float64Array(N) } },
      { EPICS_CA_MAX_ARRAY_BYTES: '10000000', EPICS_CAS_MAX_ARRAY_BYTES: '10000000' },
    );
    ({ ctx } = served);
  });
  after(async () => {
    await served.close();
  });

  for (const wait of [true, false]) {
    it(`a large put (${wait ? 'WRITE_NOTIFY' : 'WRITE'}) uses a pool buffer, given back only once written`, async () => {
      const ch = ctx.channel('PUT:wf');
      await ch.waitForConnection(5);
      const given: ArrayBufferLike[] = [];
      const give = largeBuffers.give.bind(largeBuffers);
      largeBuffers.give = (b: ArrayBufferView): void => {
        given.push(b.buffer);
        give(b);
      };
      try {
        for (let k = 1; k <= 3; k++) {
          largeBuffers.clear();
          // one idle pool buffer, large enough for the request: the put must take it
          const x = largeBuffers.take(1024 * 1024);
          const ab = x.buffer;
          largeBuffers.give(x);
          given.length = 0;
          const value = ramp(k);
          const p = ch.put(value, { dbrType: DBR.DOUBLE, wait });
          // the request is queued on the circuit (written at the next tick): not back in the pool
          assert.equal(largeBuffers.buffersHeld, 0, 'the put took the idle buffer');
          const y = largeBuffers.take(1024 * 1024);
          assert.notEqual(y.buffer, ab, 'a queued request buffer is not lent again');
          y.fill(0xa5); // would corrupt the request if it shared its memory
          assert.ok(!given.includes(ab), 'not given back before it is written');
          await p;
          for (let i = 0; i < 100 && !given.includes(ab); i++) await new Promise((r) => setTimeout(r, 10));
          assert.ok(given.includes(ab), 'given back once written');
          const got = await ch.get({ timeout: 5 });
          assert.deepEqual(got.value, value);
        }
      } finally {
        largeBuffers.give = give;
        largeBuffers.clear();
      }
    });
  }

  it('a small put does not touch the pool', async () => {
    const ch = ctx.channel('PUT:wf');
    await ch.waitForConnection(5);
    largeBuffers.clear();
    await ch.put(Float64Array.of(1, 2, 3), { dbrType: DBR.DOUBLE, wait: true });
    assert.equal(largeBuffers.buffersHeld, 0);
    const got = await ch.get({ count: 3, timeout: 5 });
    assert.deepEqual(Array.from(got.value as Float64Array), [1, 2, 3]);
  });
});
