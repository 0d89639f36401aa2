// The client's TCP reassembly under hostile sizes (found by the client fuzzer): a header announcing
// a huge payload must not make the client reserve it before the bytes arrive, and a large payload
// that does arrive in many reads must still be assembled exactly (the buffer grows as it fills).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StreamFramer } from '../../src/client/circuit.js';
import type { Message } from '../../src/protocol/header.js';
import { figure, mb, memNow } from './helpers.js';

function extHeader(command: number, payloadSize: number, dataType: number, dataCount: number): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt16BE(command, 0);
  h.writeUInt16BE(0xffff, 2);
  h.writeUInt16BE(dataType, 4);
  h.writeUInt16BE(0, 6);
  h.writeUInt32BE(1, 8);
  h.writeUInt32BE(7, 12);
  h.writeUInt32BE(payloadSize, 16);
  h.writeUInt32BE(dataCount, 20);
  return h;
}

describe('client framer limits', () => {
  it('a header announcing 2 GB reserves at most 16 MB until the bytes come', (t) => {
    const before = memNow();
    const frames: StreamFramer[] = [];
    // Eight circuits each announcing ~2 GB and sending 1 kB of it.
    for (let i = 0; i < 8; i++) {
      const g = new StreamFramer(0x7fffffff, true);
      g.push(Buffer.concat([extHeader(15, 0x7ffffff8, 6, 0x0fffffff), Buffer.alloc(1024)]), () => {
        throw new Error('no message expected');
      });
      assert.equal(g.pending, 1024);
      frames.push(g);
    }
    const grown = memNow() - before;
    figure(t, `8 circuits announcing 2 GB each hold ${mb(grown)}`);
    assert.ok(grown < 8 * 17 * 1048576, `reserved ${mb(grown)}`);
  });

  it('a 40 MB payload in 64 kB reads is assembled exactly', () => {
    const n = 5_000_000; // doubles
    const payload = Buffer.alloc(n * 8);
    for (let i = 0; i < n; i += 4096) payload.writeDoubleBE(i, i * 8);
    payload.writeDoubleBE(-1, (n - 1) * 8);
    const stream = Buffer.concat([extHeader(15, payload.length, 6, n), payload, extHeader(23, 0, 0, 0)]);
    const f = new StreamFramer(0x7fffffff, true);
    const got: { m: Message; owned: boolean }[] = [];
    for (let off = 0; off < stream.length; off += 65536) {
      f.push(stream.subarray(off, Math.min(stream.length, off + 65536)), (m, owned) =>
        got.push({ m: { ...m, payload: owned ? m.payload : Buffer.from(m.payload) }, owned }),
      );
    }
    assert.equal(got.length, 2);
    const big = got[0].m;
    assert.equal(big.command, 15);
    assert.equal(big.payloadSize, n * 8);
    assert.equal(big.payload.length, n * 8);
    assert.ok(got[0].owned);
    assert.equal(big.payload.byteOffset % 8, 0, '8-byte aligned for in-place views');
    assert.ok(big.payload.equals(payload));
    assert.equal(got[1].m.command, 23);
    assert.equal(f.pending, 0);
  });
});
