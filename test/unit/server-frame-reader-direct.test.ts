// The server's TCP reassembly (server/frame-reader.ts) receiving a large message straight into its
// buffer (directTarget / filled, as a socket with Node's onread does): the reads go exactly where the
// message's bytes belong, never past it, and the message comes out whole, followed by the rest of the
// stream; small, complete, oversize or skipped messages are not read that way.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from '../../src/protocol/constants.js';
import { FrameReader, isOversize } from '../../src/server/frame-reader.js';
import { bigPut, echo } from '../helpers/requests.js';

interface Received {
  command: number;
  parameter2: number;
  payload: Buffer;
}

/**
 * Feed `stream` as a server circuit with Node's onread does: each read of at most `chunk` bytes goes
 * to the reader's direct target when it has one (never more than its length), else it is pushed;
 * after each read, the whole messages are taken out (payloads copied).
 */
function receive(
  r: FrameReader,
  stream: Buffer,
  chunk: number,
): { direct: number; pushed: number; out: Received[] } {
  let o = 0;
  let direct = 0;
  let pushed = 0;
  const out: Received[] = [];
  while (o < stream.length) {
    const target = r.directTarget();
    if (target) {
      const n = Math.min(chunk, target.length, stream.length - o);
      stream.copy(target, 0, o, o + n);
      r.filled(n);
      direct += n;
      o += n;
    } else {
      const n = Math.min(chunk, stream.length - o);
      r.push(stream.subarray(o, o + n));
      pushed += n;
      o += n;
    }
    for (let m = r.next(); m; m = r.next()) {
      assert.ok(!isOversize(m));
      out.push({ command: m.command, parameter2: m.parameter2, payload: Buffer.from(m.payload) });
    }
  }
  return { direct, pushed, out };
}

describe('FrameReader direct reads', () => {
  it('reads a large message straight into its buffer, then hands it out whole', () => {
    const r = new FrameReader(64 * 1024 * 1024);
    r.allowExtended = true;
    const big = bigPut(3, 2_000_000 * 8, 3);
    const stream = Buffer.concat([echo(1), big, echo(2)]);
    const { direct, pushed, out } = receive(r, stream, 64 * 1024);
    // only the first read (the header and the payload's start) and the one after the message are
    // pushed; everything else of the 16 MB went straight to its place
    assert.ok(direct >= big.length - 2 * 64 * 1024, `direct ${direct}`);
    assert.equal(direct + pushed, stream.length);
    assert.deepEqual(
      out.map((m) => m.command),
      [Command.ECHO, Command.WRITE_NOTIFY, Command.ECHO],
    );
    assert.ok(out[1]!.payload.equals(big.subarray(24)), 'payload intact');
    assert.equal(r.pending, 0);
  });

  it('never reads past the end of the message in progress', () => {
    const r = new FrameReader(64 * 1024 * 1024);
    const a = bigPut(5, 256 * 1024, 5);
    const b = bigPut(6, 256 * 1024, 6);
    r.push(a.subarray(0, 1000)); // (the reader's buffer grows to hold the message)
    const t = r.directTarget();
    assert.ok(t);
    assert.equal(t.length, a.length - 1000);
    // two large messages back to back, in odd read sizes
    const r2 = new FrameReader(64 * 1024 * 1024);
    const { direct, out } = receive(r2, Buffer.concat([a, b, echo(9)]), 100_003);
    assert.ok(direct > 0);
    assert.deepEqual(
      out.map((m) => m.parameter2),
      [5, 6, 0],
    );
    // (extended headers: 24 bytes)
    assert.ok(out[0]!.payload.equals(a.subarray(24)) && out[1]!.payload.equals(b.subarray(24)));
  });

  it('has no direct target for small, complete, oversize or skipped messages', () => {
    const r = new FrameReader(1024 * 1024);
    assert.equal(r.directTarget(), undefined, 'nothing buffered');
    const small = bigPut(1, 4096, 1);
    r.push(small.subarray(0, 100));
    assert.equal(r.directTarget(), undefined, 'a message under 64 KiB');
    r.push(small.subarray(100));
    r.next();
    const big = bigPut(2, 512 * 1024, 2);
    r.push(big);
    assert.equal(r.directTarget(), undefined, 'a large message already whole');
    r.next();
    const over = bigPut(3, 2 * 1024 * 1024, 3); // over the reader's 1 MB limit
    r.push(over.subarray(0, 64 * 1024));
    assert.equal(r.directTarget(), undefined, 'an oversize message');
    const h = r.next();
    assert.ok(h && isOversize(h));
    assert.equal(r.directTarget(), undefined, 'while its payload is skipped');
  });
});
