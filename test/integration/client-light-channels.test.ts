/**
 * The memory-light paths of the client against a tsepics server on private loopback ports: a
 * channel's first subscription uses the channel id as its subscription id (no table entry), later
 * ones get ids of their own and never see updates meant for an earlier one; requests batched per
 * event-loop turn keep their order; PV value callbacks kept as one entry or a list.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Context } from '../../src/client/context.js';
import type { GetResult } from '../../src/client/channel.js';
import { PV } from '../../src/client/pv.js';
import type { PVCallbackArgs } from '../../src/client/pv.js';
import { serve } from '../../src/server/pv-server.js';
import type { PvServer } from '../../src/server/pv-server.js';
import { caClientEnv, caEnv, freePort } from '../helpers/ports.js';

let server: PvServer;
let ctx: Context;

before(async () => {
  const port = await freePort();
  server = await serve({
    env: { ...caEnv(port) },
    pvs: {
      'L:a': { type: 'double', value: 1 },
      'L:b': { type: 'long', value: 5 },
    },
  });
  ctx = new Context({ env: caClientEnv(port), repeater: false });
});

after(async () => {
  await ctx.close();
  await server.stop();
});

function waitFor(pred: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (pred()) resolve();
      else if (Date.now() - t0 > ms) reject(new Error('timed out'));
      else setTimeout(poll, 5);
    };
    poll();
  });
}

test('first subscription: the channel id; later ones: ids of their own, no stale updates', async () => {
  const ch = ctx.channel('L:a');
  await ch.waitForConnection(5);
  const first: number[] = [];
  const s1 = ch.subscribe({ family: 2 }, (d: GetResult) => first.push((d.value as Float64Array)[0]!));
  assert.equal((s1 as unknown as { subid: number }).subid, ch.cid);
  await waitFor(() => first.length === 1);
  assert.deepEqual(first, [1]);

  // a second subscription while the first is active
  const second: number[] = [];
  const s2 = ch.subscribe({}, (d) => second.push((d.value as Float64Array)[0]!));
  assert.notEqual((s2 as unknown as { subid: number }).subid, ch.cid);
  await waitFor(() => second.length === 1);

  server.pv('L:a').post(2);
  await waitFor(() => first.length === 2 && second.length === 2);
  assert.deepEqual(first, [1, 2]);
  assert.deepEqual(second, [1, 2]);

  // clear the first and post at once, then subscribe anew: the new one has an id of its own and
  // gets only its own updates
  s1.clear();
  server.pv('L:a').post(3);
  const third: number[] = [];
  const s3 = ch.subscribe({}, (d) => third.push((d.value as Float64Array)[0]!));
  const id3 = (s3 as unknown as { subid: number }).subid;
  assert.notEqual(id3, ch.cid);
  assert.notEqual(id3, (s2 as unknown as { subid: number }).subid);
  await waitFor(() => third.length >= 1 && second.length === 3);
  server.pv('L:a').post(4);
  await waitFor(() => third.includes(4) && second.length === 4);
  assert.deepEqual(first, [1, 2], 'no update after clear()');
  assert.deepEqual(second, [1, 2, 3, 4]);
  assert.equal(third[third.length - 1], 4);
  assert.ok(
    third.every((v) => v >= 3),
    `only current values: ${third.join(',')}`,
  );
  s2.clear();
  s3.clear();
  ch.close();
});

test('a subscription made before the connection is sent once connected; gets and puts keep their order', async () => {
  const ch = ctx.channel('L:b');
  const got: number[] = [];
  ch.subscribe({}, (d) => got.push((d.value as Int32Array)[0]!));
  await ch.waitForConnection(5);
  await waitFor(() => got.length === 1);
  // many requests in one turn: each reply answers its own request
  const puts = [10, 11, 12].map((v) => ch.put(Int32Array.of(v), { dbrType: 5, wait: true }));
  const reads = [ch.get(), ch.get()];
  await Promise.all(puts);
  const values = (await Promise.all(reads)).map((r) => (r.value as Int32Array)[0]);
  assert.deepEqual(values, [12, 12]);
  await waitFor(() => got[got.length - 1] === 12);
  ch.close();
});

test('PV value callbacks: one entry, then a list; indices, replacement, removal, order', async () => {
  const calls: string[] = [];
  const pv = new PV('L:a', {
    context: ctx,
    callback: (a: PVCallbackArgs) => calls.push(`c0:${String(a.value)}:${String(a.cbInfo[0])}`),
  });
  assert.deepEqual(pv.callbackIndices, [0]);
  const i1 = pv.addCallback((a) => calls.push(`c1:${String(a.value)}:${String(a.extra)}`), {
    withCtrlvars: false,
    extra: 'kw',
  });
  assert.equal(i1, 1);
  const i2 = pv.addCallback(() => calls.push('c2'), { withCtrlvars: false, index: 'x' });
  assert.equal(i2, 'x');
  assert.deepEqual(pv.callbackIndices, [0, 1, 'x']);
  // replacing an index keeps its place
  pv.addCallback((a) => calls.push(`c1b:${String(a.value)}`), { withCtrlvars: false, index: 1 });
  assert.deepEqual(pv.callbackIndices, [0, 1, 'x']);
  assert.ok(await pv.waitForConnection(5));
  await waitFor(() => calls.length >= 3);
  assert.deepEqual(calls.slice(0, 3), ['c0:4:0', 'c1b:4', 'c2']);
  pv.removeCallback(0);
  pv.removeCallback('x');
  assert.deepEqual(pv.callbackIndices, [1]);
  calls.length = 0;
  pv.runCallbacks();
  assert.deepEqual(calls, ['c1b:4']);
  pv.clearCallbacks();
  assert.deepEqual(pv.callbackIndices, []);
  // a single callback (no list) can be removed by its index
  const pv2 = new PV('L:b', { context: ctx, callback: () => undefined });
  pv2.removeCallback(5);
  assert.deepEqual(pv2.callbackIndices, [0]);
  pv2.removeCallback(0);
  assert.deepEqual(pv2.callbackIndices, []);
  assert.equal(
    pv2.addCallback(() => undefined, { withCtrlvars: false }),
    1,
  );
  // connection callbacks are created on first use and kept by reference
  const conns: boolean[] = [];
  pv2.connectionCallbacks.push(({ conn }) => conns.push(conn));
  assert.equal(pv2.connectionCallbacks.length, 1);
  assert.equal(pv2.accessCallbacks.length, 0);
  assert.ok(await pv2.waitForConnection(5));
  pv.disconnect();
  pv2.disconnect();
});
