// The server's TCP reassembly (server/frame-reader.ts) with large messages: the buffer grown for one
// comes from the shared pool of large buffers, stays valid until the next push, then goes back to the
// pool and is reused by the next large message; what follows it in the stream is not disturbed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from '../../src/protocol/constants.js';
import type { Message } from '../../src/protocol/header.js';
import { largeBuffers } from '../../src/protocol/buffer-pool.js';
import { FrameReader, isOversize } from '../../src/server/frame-reader.js';
import { bigPut, echo } from '../helpers/requests.js';

/** Push `stream` in chunks of `chunk` bytes, collecting the messages (payloads copied out). */
function feed(r: FrameReader, stream: Buffer, chunk: number, out: Message[], views: Message[] = []): void {
  for (let o = 0; o < stream.length; o += chunk) {
    r.push(stream.subarray(o, Math.min(o + chunk, stream.length)));
    for (let m = r.next(); m; m = r.next()) {
      assert.ok(!isOversize(m));
      views.push(m);
      out.push({ ...m, payload: Buffer.from(m.payload) });
    }
  }
}

describe('FrameReader and the pool of large buffers', () => {
  it('reassembles large messages in pooled memory, reused from one message to the next', () => {
    largeBuffers.clear();
    const r = new FrameReader(64 * 1024 * 1024);
    r.allowExtended = true;
    const a = bigPut(1, 2 * 1024 * 1024, 1);
    const b = bigPut(2, 2 * 1024 * 1024 - 64, 2);
    const out: Message[] = [];
    const views: Message[] = [];
    feed(r, Buffer.concat([echo(1), a, echo(2)]), 65536, out, views);
    assert.deepEqual(
      out.map((m) => [m.command, m.parameter1 || m.parameter2]),
      [
        [Command.ECHO, 1],
        [Command.WRITE_NOTIFY, 1],
        [Command.ECHO, 2],
      ],
    );
    assert.equal(out[1]!.payload.compare(a.subarray(24)), 0);
    // the view of the large payload is still intact: nothing was pushed since the last message
    assert.equal(views[1]!.payload.compare(a.subarray(24)), 0);
    const firstMemory = views[1]!.payload.buffer;
    assert.equal(largeBuffers.buffersHeld, 0, 'the buffer is kept until the next push');
    // the next push gives it back, and the next large message takes it again
    feed(r, Buffer.concat([b, echo(3)]), 100_000, out, views);
    assert.equal(out.length, 5);
    assert.equal(out[3]!.payload.compare(b.subarray(24)), 0);
    assert.equal(out[4]!.parameter1, 3);
    assert.equal(views[3]!.payload.buffer, firstMemory, 'the second large message reused the memory');
    r.push(echo(4));
    assert.equal(largeBuffers.buffersHeld, 1, 'given back once consumed');
    const m = r.next();
    assert.ok(m && !isOversize(m) && m.parameter1 === 4);
    largeBuffers.clear();
  });

  it('keeps a large buffer while a message is still partly in it', () => {
    largeBuffers.clear();
    const r = new FrameReader(64 * 1024 * 1024);
    r.allowExtended = true;
    const a = bigPut(1, 1024 * 1024, 3);
    const b = bigPut(2, 1024 * 1024, 4);
    const stream = Buffer.concat([a, b]);
    const out: Message[] = [];
    // a chunk boundary inside b: b's head stays buffered with a's memory
    feed(r, stream, 700_000, out);
    assert.equal(out.length, 2);
    assert.equal(out[0]!.payload.compare(a.subarray(24)), 0);
    assert.equal(out[1]!.payload.compare(b.subarray(24)), 0);
    assert.equal(r.pending, 0);
    largeBuffers.clear();
  });

  it('gives the buffer back after a discard', () => {
    largeBuffers.clear();
    const r = new FrameReader(64 * 1024 * 1024);
    r.allowExtended = true;
    const a = bigPut(1, 1024 * 1024, 5);
    r.push(a.subarray(0, 600_000));
    assert.equal(r.next(), undefined);
    r.discardAll();
    r.push(echo(9));
    assert.equal(largeBuffers.buffersHeld, 1);
    const m = r.next();
    assert.ok(m && !isOversize(m) && m.command === Command.ECHO && m.parameter1 === 9);
    largeBuffers.clear();
  });
});
