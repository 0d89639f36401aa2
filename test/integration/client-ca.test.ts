// The pyepics-like ca layer against recorded softIoc replies.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as ca from '../../src/client/ca.js';
import { Context } from '../../src/client/context.js';
import { DBR } from '../../src/protocol/constants.js';
import { FakeIoc, clientEnv, loadTracePvs } from './client-fake-ioc.js';

describe('ca layer', () => {
  let ioc: FakeIoc;
  let ctx: Context;
  before(async () => {
    ioc = new FakeIoc(loadTracePvs(['get_records', 'get_dbr_types', 'put_array', 'monitor']));
    const port = await ioc.start();
    ctx = new Context({ env: clientEnv(port), repeater: false, onException: () => {} });
  });
  after(async () => {
    await ctx.close();
    await ioc.stop();
  });

  it('createChannel / connectChannel / info functions', async () => {
    const conns: boolean[] = [];
    const chid = ca.createChannel('T:ai', { context: ctx, callback: (a) => conns.push(a.conn) });
    assert.equal(ca.state(chid), 0);
    assert.equal(ca.fieldType(chid), -1);
    assert.equal(await ca.connectChannel(chid, 2), true);
    assert.deepEqual(conns, [true]);
    assert.equal(ca.name(chid), 'T:ai');
    assert.equal(ca.fieldType(chid), 6);
    assert.equal(ca.elementCount(chid), 1);
    assert.equal(ca.isConnected(chid), true);
    assert.equal(ca.state(chid), 2);
    assert.equal(ca.readAccess(chid), true);
    assert.match(ca.host(chid), /^127\.0\.0\.1:/);
    assert.equal(ca.promoteType(chid, { useTime: true }), DBR.TIME_DOUBLE);
    const missing = ca.createChannel('T:nothing', { context: ctx });
    assert.equal(await ca.connectChannel(missing, 0.2), false);
    ca.clearChannel(missing);
    assert.equal(ca.state(missing), 3);
  });

  it('get, getWithMetadata, getTimevars, getCtrlvars', async () => {
    const chid = ca.createChannel('T:ai', { context: ctx });
    await ca.connectChannel(chid, 2);
    const t = await ca.getWithMetadata(chid, { ftype: DBR.TIME_DOUBLE, count: 1 });
    assert.equal(t?.value, 21.5);
    assert.ok(t!.posixseconds! > 1.7e9);
    const tv = await ca.getTimevars(chid);
    assert.equal(tv?.severity, 0);
    const cv = await ca.getCtrlvars(chid);
    assert.equal(typeof cv?.precision, 'number');
    const wf = ca.createChannel('T:wf', { context: ctx });
    await ca.connectChannel(wf, 2);
    const v = await ca.get(wf, { ftype: DBR.TIME_DOUBLE });
    assert.ok(v instanceof Float64Array);
    assert.deepEqual([...v], [1.5, 2.5, 3.5, -4e5]);
    const plain = await ca.get(wf, { ftype: DBR.TIME_DOUBLE, asNumpy: false });
    assert.deepEqual(plain, [1.5, 2.5, 3.5, -4e5]);
    const cwf = ca.createChannel('T:cwf', { context: ctx });
    await ca.connectChannel(cwf, 2);
    assert.equal(await ca.get(cwf, { ftype: DBR.TIME_CHAR, asString: true }), '/data/run 7/file_0001.h5');
  });

  it('put and createSubscription', async () => {
    const chid = ca.createChannel('T:ao', { context: ctx });
    await ca.connectChannel(chid, 2);
    let called: unknown;
    assert.equal(
      await ca.put(chid, 2.5, { wait: true, callback: (a) => (called = a.data), callbackData: 'x' }),
      1,
    );
    await ca.poll();
    assert.equal(called, 'x');
    assert.equal(await ca.put(chid, '3.25'), 1);
    const cnt = ca.createChannel('T:cnt', { context: ctx });
    await ca.connectChannel(cnt, 2);
    const seen: number[] = [];
    const s = ca.createSubscription(cnt, { useTime: true, callback: (ev) => seen.push(ev.value as number) });
    const end = Date.now() + 2000;
    while (seen.length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    assert.ok(seen.length >= 3);
    assert.equal(typeof seen[0], 'number');
    ca.clearSubscription(s);
  });
});
