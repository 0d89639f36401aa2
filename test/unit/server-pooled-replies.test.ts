// Server parts that use the pool of large buffers: `dataReply` encoding into a pooled buffer (the
// same bytes as a fresh one, a dirty buffer fully overwritten), and `FrameReader.recycle`, which
// gives the reader's large buffer back once what it handed out is done with.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Command, DBR } from '../../src/protocol/constants.js';
import { encodeMessage } from '../../src/protocol/header.js';
import { BufferPool, largeBuffers } from '../../src/protocol/buffer-pool.js';
import { dataReply } from '../../src/server/replies.js';
import { FrameReader, isOversize } from '../../src/server/frame-reader.js';

describe('dataReply with a pool', () => {
  it('encodes into a buffer taken from the pool, byte for byte as without it', () => {
    const pool = new BufferPool(64 * 1024 * 1024, 1024);
    const value = Float64Array.from({ length: 1000 }, (_, i) => i * 0.25);
    const plain = dataReply(Command.READ_NOTIFY, DBR.TIME_DOUBLE, 1000, 1, 7, {
      value,
      status: 3,
      severity: 1,
    });
    const dirty = pool.take(plain.length);
    dirty.fill(0xee);
    pool.give(dirty);
    const pooled = dataReply(
      Command.READ_NOTIFY,
      DBR.TIME_DOUBLE,
      1000,
      1,
      7,
      { value, status: 3, severity: 1 },
      undefined,
      pool,
    );
    assert.equal(pooled.buffer, dirty.buffer, 'the idle buffer is used');
    assert.equal(pool.buffersHeld, 0);
    assert.deepEqual(pooled, plain);
    // a failed read (no data): the payload is zeroed whatever the buffer held
    pool.give(pooled);
    const zero = dataReply(Command.READ_NOTIFY, DBR.DOUBLE, 1000, 0, 8, undefined, undefined, pool);
    assert.equal(zero.buffer, dirty.buffer);
    assert.ok(zero.subarray(24).every((b) => b === 0));
    assert.deepEqual(zero, dataReply(Command.READ_NOTIFY, DBR.DOUBLE, 1000, 0, 8, undefined));
  });

  it('small replies are plain buffers, never lent', () => {
    const pool = new BufferPool();
    const r = dataReply(
      Command.READ,
      DBR.DOUBLE,
      4,
      1,
      2,
      { value: Float64Array.of(1, 2, 3, 4) },
      undefined,
      pool,
    );
    pool.give(r);
    assert.equal(pool.buffersHeld, 0);
  });
});

describe('FrameReader.recycle', () => {
  const big = (ioid: number): Buffer =>
    encodeMessage(
      { command: Command.WRITE_NOTIFY, dataType: 6, dataCount: 65536, parameter1: 1, parameter2: ioid },
      Buffer.alloc(512 * 1024, ioid),
    );

  it('gives the large buffer back once its message is consumed, not before', () => {
    largeBuffers.clear();
    const r = new FrameReader(64 * 1024 * 1024);
    r.allowExtended = true;
    const s = Buffer.concat([big(1), big(2)]);
    const cut = s.length - 1000;
    r.push(s.subarray(0, 70000));
    r.push(s.subarray(70000, cut));
    const m1 = r.next();
    assert.ok(m1 && !isOversize(m1));
    assert.equal(m1.payload[0], 1);
    assert.equal(r.next(), undefined);
    r.recycle(); // the second message is still being received: nothing given back
    assert.equal(largeBuffers.buffersHeld, 0);
    r.push(s.subarray(cut));
    const m2 = r.next();
    assert.ok(m2 && !isOversize(m2));
    assert.equal(m2.payload[0], 2);
    assert.equal(m2.payload[m2.payload.length - 1], 2);
    assert.equal(r.pending, 0);
    r.recycle();
    assert.equal(largeBuffers.buffersHeld, 1, 'given back when nothing is buffered');
    r.recycle();
    assert.equal(largeBuffers.buffersHeld, 1, 'once');
    // the reader goes on with a small buffer of its own
    r.push(encodeMessage({ command: Command.ECHO, dataType: 0, dataCount: 0, parameter1: 0, parameter2: 0 }));
    assert.equal(r.next()?.command, Command.ECHO);
    assert.equal(largeBuffers.buffersHeld, 1);
  });
});
