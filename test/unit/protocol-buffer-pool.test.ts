// The pool of large buffers (protocol/buffer-pool.ts) and the DBR decoder drawing on it: buffers are
// reused, never lent twice, bounded; pooled decodes give exactly what fresh decodes give.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool, POOL_MIN_SIZE, primeLargeAllocations } from '../../src/protocol/buffer-pool.js';
import { decodeDbr, encodeDbr } from '../../src/protocol/dbr.js';
import { NUMERIC_CTORS } from '../../src/protocol/dbr.js';
import type { NativeArray } from '../../src/protocol/values.js';

const MB = 1024 * 1024;

describe('BufferPool', () => {
  it('gives buffers of the size asked for, reusing one given back', () => {
    const pool = new BufferPool(8 * MB, 64 * 1024);
    const a = pool.take(MB + 3);
    assert.equal(a.length, MB + 3);
    assert.ok(a.buffer.byteLength >= MB + 3);
    a.fill(7);
    pool.give(a);
    assert.equal(pool.buffersHeld, 1);
    const b = pool.take(MB);
    assert.equal(b.length, MB);
    assert.equal(b.buffer, a.buffer, 'the idle buffer is reused');
    assert.equal(pool.buffersHeld, 0);
    // a request larger than every idle buffer gets fresh memory
    pool.give(b);
    const c = pool.take(2 * MB);
    assert.notEqual(c.buffer, a.buffer);
    assert.equal(pool.buffersHeld, 1);
  });

  it('never lends the same memory twice (double give, foreign buffers)', () => {
    const pool = new BufferPool(8 * MB, 64 * 1024);
    const a = pool.take(MB);
    pool.give(a);
    pool.give(a); // second give ignored
    pool.give(a.subarray(10)); // another view of it: ignored too
    assert.equal(pool.buffersHeld, 1);
    const x = pool.take(MB);
    const y = pool.take(MB);
    assert.notEqual(x.buffer, y.buffer);
    // memory the pool did not lend is not taken in
    pool.give(Buffer.allocUnsafeSlow(2 * MB));
    pool.give(new Float64Array(MB));
    assert.equal(pool.buffersHeld, 0);
  });

  it('keeps at most maxBytes, preferring the larger buffers', () => {
    const pool = new BufferPool(3 * MB, 64 * 1024);
    const small = pool.take(MB);
    const big = pool.take(2 * MB);
    const mid = pool.take(MB + MB / 2);
    pool.give(small);
    pool.give(big);
    assert.equal(pool.bytesHeld, 3 * MB);
    pool.give(mid); // over the limit: the smallest (1 MB) goes to make room
    assert.equal(pool.buffersHeld, 1);
    assert.equal(pool.bytesHeld, 2 * MB);
    assert.equal(pool.take(2 * MB).buffer, big.buffer, 'the larger one was kept');
    // no room, and every buffer kept is larger than the one given back: that one is not kept
    const again = pool.take(2 * MB);
    const other = pool.take(MB + MB / 2);
    pool.give(again);
    pool.give(other);
    assert.equal(pool.buffersHeld, 1);
    assert.equal(pool.take(2 * MB).buffer, again.buffer);
    // larger than the whole pool: never kept
    const over = pool.take(4 * MB);
    pool.give(over);
    assert.equal(pool.buffersHeld, 0);
  });

  it('serves small requests without pooling', () => {
    const pool = new BufferPool(8 * MB, 64 * 1024);
    const s = pool.take(100);
    assert.equal(s.length, 100);
    pool.give(s);
    assert.equal(pool.buffersHeld, 0);
    assert.ok(POOL_MIN_SIZE > 0);
  });
});

const TYPES = [1, 2, 3, 4, 5, 6] as const;

function sample(type: (typeof TYPES)[number], n: number): NativeArray {
  const a = new NUMERIC_CTORS[type](n);
  for (let i = 0; i < n; i++)
    a[i] = type === 2 || type === 6 ? (i - n / 2) * 1.25 + 1 / 3 : (i * 7919) % 60000;
  return a;
}

describe('decodeDbr into pooled memory', () => {
  const pool = new BufferPool(64 * MB, 1024);
  for (const type of TYPES) {
    for (const n of [0, 1, 17, 129, 1001, 300_001]) {
      it(`DBR type ${type} (and its TIME form), ${n} elements, any payload offset`, () => {
        for (const dbrType of [type, type + 14]) {
          const data = {
            value: sample(type, n),
            status: 3,
            severity: 1,
            stamp: { secPastEpoch: 5, nsec: 6 },
          };
          const enc = encodeDbr(dbrType, n, data);
          for (const shift of [0, 1, 3]) {
            // the payload at an odd offset of a larger buffer (as in a reassembly buffer)
            const host = Buffer.alloc(enc.length + shift + 8, 0xee);
            enc.copy(host, shift);
            const payload = host.subarray(shift, shift + enc.length);
            const fresh = decodeDbr(dbrType, n, payload);
            const pooled = decodeDbr(dbrType, n, payload, pool);
            assert.deepEqual(pooled, fresh);
            assert.deepEqual(
              Array.from(pooled.value as ArrayLike<number>),
              Array.from(data.value as ArrayLike<number>),
            );
            assert.equal(pooled.value.constructor, fresh.value.constructor);
            assert.equal(payload.compare(enc), 0, 'the payload is not modified');
            const bytes = (pooled.value as Uint8Array).byteLength;
            if (bytes >= pool.minSize) pool.give(pooled.value as Uint8Array);
          }
        }
      });
    }
  }

  it('reuses the memory given back', () => {
    const p = new BufferPool(64 * MB, 1024);
    const enc = encodeDbr(6, 1000, { value: sample(6, 1000) });
    const a = decodeDbr(6, 1000, enc, p).value as Float64Array;
    const buffer = a.buffer;
    p.give(a);
    const b = decodeDbr(6, 1000, enc, p).value as Float64Array;
    assert.equal(b.buffer, buffer);
    assert.deepEqual(Array.from(b), Array.from(sample(6, 1000) as Float64Array));
  });
});

describe('primeLargeAllocations', () => {
  it('can be called any number of times; large buffers work after it', () => {
    primeLargeAllocations();
    primeLargeAllocations();
    const pool = new BufferPool(8 * MB, 64 * 1024);
    const a = pool.take(3 * MB);
    a.fill(0x5a);
    assert.equal(a[a.length - 1], 0x5a);
    const enc = encodeDbr(6, 100_000, { value: sample(6, 100_000) });
    assert.deepEqual(decodeDbr(6, 100_000, enc).value, sample(6, 100_000));
  });
});
