// The CA client against tsepics' own CA server (src/server): round trips of every kind.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Context } from '../../src/client/context.js';
import { PutError } from '../../src/client/errors.js';
import { toNativeArray } from '../../src/client/put-value.js';
import { DBR } from '../../src/protocol/constants.js';
import { serveWithClient, type ServedClient } from '../helpers/served.js';

describe('client against the tsepics server', () => {
  let served: ServedClient;
  let ctx: Context;
  before(async () => {
    served = await serveWithClient({
      'TS:d': { type: 'double', value: 1.25, units: 'mm', precision: 3 },
      'TS:e': { type: 'enum', value: 0, enumStrs: ['Off', 'On'] },
      'TS:wf': { type: 'double', count: 1000, value: [1, 2, 3] },
      'TS:s': { type: 'string', value: 'hello' },
      'TS:ro': { type: 'long', value: 7, readOnly: true },
      'TS:fail': {
        type: 'double',
        value: 0,
        onPut: () => {
          throw new Error('refused');
        },
      },
    });
    ({ ctx } = served);
  });
  after(async () => {
    await served.close();
  });

  it('get / put / monitor round trips', async () => {
    const d = ctx.channel('TS:d');
    await d.waitForConnection(2);
    assert.equal(d.nativeType, 6);
    const c = await d.get({ dbrType: DBR.CTRL_DOUBLE });
    assert.equal((c.value as Float64Array)[0], 1.25);
    assert.equal(c.units, 'mm');
    assert.equal(c.precision, 3);
    const seen: number[] = [];
    const sub = d.subscribe({ family: 2 }, (r) => seen.push((r.value as Float64Array)[0]!));
    await d.put(Float64Array.of(2.5), { dbrType: DBR.DOUBLE, wait: true, timeout: 2 });
    const end = Date.now() + 2000;
    while (!seen.includes(2.5) && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(seen.slice(0, 2), [1.25, 2.5]);
    sub.clear();
    const e = ctx.channel('TS:e');
    await e.waitForConnection(2);
    const gr = await e.get({ dbrType: DBR.GR_ENUM });
    const pv = toNativeArray('On', 3, { enumStrs: gr.enumStrs! });
    await e.put(pv.value, { dbrType: pv.dbrType, wait: true });
    assert.deepEqual((await e.get({ dbrType: DBR.STRING })).value, ['On']);
    const wf = ctx.channel('TS:wf');
    await wf.waitForConnection(2);
    const r0 = await wf.get({ count: 0 });
    assert.deepEqual([...(r0.value as Float64Array)], [1, 2, 3]);
    const s = ctx.channel('TS:s');
    assert.deepEqual((await s.get()).value, ['hello']);
  });

  it('put failures and read-only channels', async () => {
    const ro = ctx.channel('TS:ro');
    await ro.waitForConnection(2);
    assert.equal(ro.writeAccess, false);
    const f = ctx.channel('TS:fail');
    await f.waitForConnection(2);
    await assert.rejects(
      f.put(Float64Array.of(1), { dbrType: DBR.DOUBLE, wait: true, timeout: 2 }),
      PutError,
    );
  });
});
