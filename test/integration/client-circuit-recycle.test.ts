// The client circuit's `send(buf, cb, recycle)`: a buffer of the large-buffer pool goes out intact
// and is given back to the pool only once written (or when the circuit closes before writing it).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { largeBuffers } from '../../src/protocol/buffer-pool.js';
import { Circuit } from '../../src/client/circuit.js';
import type { CircuitOwner } from '../../src/client/circuit.js';

const owner: CircuitOwner = {
  circuitMessage: () => undefined,
  circuitConnected: () => undefined,
  circuitClosed: () => undefined,
  circuitResponsive: () => undefined,
};

/** A TCP server on loopback that counts and checksums what it receives. */
async function sink(): Promise<{ port: number; received: () => Buffer; close: () => Promise<void> }> {
  const chunks: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on('data', (d) => chunks.push(d));
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    received: () => Buffer.concat(chunks),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

function circuit(port: number): Circuit {
  return new Circuit(owner, {
    host: '127.0.0.1',
    port,
    priority: 0,
    clientName: 'me',
    hostName: 'here',
    connTmo: 30,
    maxPayload: 1 << 20,
    ref: true,
    nameServer: true,
  });
}

describe('client circuit: recycled buffers', () => {
  it('gives a pooled buffer back once it is written, and sends it intact', async () => {
    largeBuffers.clear();
    const s = await sink();
    const c = circuit(s.port);
    try {
      const big = largeBuffers.take(3 * 1024 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 13) & 0xff;
      const expected = Buffer.from(big);
      const small = Buffer.from('tail of the tick');
      await new Promise<void>((resolve, reject) => {
        c.send(big, (err) => (err ? reject(err) : resolve()), true);
        c.send(small);
        assert.equal(largeBuffers.buffersHeld, 0, 'not given back before it is written');
      });
      assert.equal(largeBuffers.buffersHeld, 1);
      // what went out: the VERSION header, the big buffer, the small one
      for (let i = 0; i < 200 && s.received().length < 16 + expected.length + small.length; i++)
        await new Promise((r) => setTimeout(r, 10));
      const got = s.received();
      assert.equal(got.length, 16 + expected.length + small.length);
      assert.equal(got.subarray(16, 16 + expected.length).compare(expected), 0);
      assert.equal(got.subarray(16 + expected.length).toString(), 'tail of the tick');
      // a buffer sent without `recycle` stays the caller's
      const mine = largeBuffers.take(1024 * 1024);
      largeBuffers.clear();
      await new Promise<void>((resolve) => c.send(mine, () => resolve()));
      assert.equal(largeBuffers.buffersHeld, 0);
    } finally {
      c.destroy(new Error('test over'));
      await s.close();
      largeBuffers.clear();
    }
  });

  it('gives back buffers queued when the circuit closes, and refuses them once closed', async () => {
    largeBuffers.clear();
    const s = await sink();
    const c = circuit(s.port);
    try {
      const errors: unknown[] = [];
      c.send(largeBuffers.take(1024 * 1024), (err) => errors.push(err), true);
      c.destroy(new Error('gone')); // before the queued buffer was flushed
      assert.equal(largeBuffers.buffersHeld, 1);
      assert.equal(errors.length, 1);
      c.send(largeBuffers.take(1024 * 1024), (err) => errors.push(err), true);
      assert.equal(largeBuffers.buffersHeld, 1, 'the idle buffer was taken and given back');
      await new Promise((r) => setImmediate(r));
      assert.equal(errors.length, 2);
      assert.ok(errors[1] instanceof Error);
    } finally {
      await s.close();
      largeBuffers.clear();
    }
  });
});
