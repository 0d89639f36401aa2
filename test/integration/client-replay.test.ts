// CA client against a fake IOC answering with RSRV's recorded bytes (test/fixtures/ca-traces).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Context } from '../../src/client/context.js';
import type { CaException } from '../../src/client/context.js';
import { AccessError, NotFoundError, PutError } from '../../src/client/errors.js';
import { DBR, ECA } from '../../src/protocol/constants.js';
import { FakeIoc, clientEnv, loadTracePvs } from './client-fake-ioc.js';

describe('client against recorded softIoc replies', () => {
  let ioc: FakeIoc;
  let ctx: Context;
  const exceptions: CaException[] = [];

  before(async () => {
    ioc = new FakeIoc(loadTracePvs(['get_records', 'get_dbr_types', 'put_errors', 'put_array', 'monitor']));
    const port = await ioc.start();
    ctx = new Context({ env: clientEnv(port), repeater: false, onException: (e) => exceptions.push(e) });
  });
  after(async () => {
    await ctx.close();
    await ioc.stop();
  });

  it('connects many channels over one circuit and reads DBR_TIME of every native type', async () => {
    const names = ['T:ai', 'T:bi', 'T:mbbi', 'T:li', 'T:si', 'T:i64', 'T:lsi', 'T:wf', 'T:cwf'];
    const chans = names.map((n) => ctx.channel(n));
    await Promise.all(chans.map((c) => c.waitForConnection(2)));
    assert.equal(ctx.circuitCount, 1);
    const ai = chans[0]!;
    assert.equal(ai.nativeType, 6);
    assert.equal(ai.elementCount, 1);
    assert.equal(ai.readAccess, true);
    assert.equal(ai.writeAccess, true);
    assert.equal(ai.serverMinor, 13);
    assert.match(ai.host, /^127\.0\.0\.1:\d+$/);
    const r = await ai.get({ dbrType: DBR.TIME_DOUBLE });
    assert.equal(r.dbrType, DBR.TIME_DOUBLE);
    assert.equal(r.count, 1);
    assert.deepEqual([...(r.value as Float64Array)], [21.5]);
    assert.ok(r.stamp && r.stamp.secPastEpoch > 1164450000);
    const bi = await chans[1]!.get({ dbrType: DBR.TIME_STRING });
    assert.deepEqual(bi.value, ['Open']);
    const mbbi = await chans[2]!.get({ dbrType: DBR.TIME_STRING });
    assert.deepEqual(mbbi.value, ['Readout']);
    const li = await chans[3]!.get({ family: 2 });
    assert.deepEqual([...(li.value as Int32Array)], [123456]);
    const si = await chans[4]!.get({ family: 2 });
    assert.deepEqual(si.value, ['hello world']);
    const lsi = await chans[6]!.get({ family: 2 });
    assert.deepEqual(lsi.value, ['a long string value beyond forty charac']);
    const wf = await chans[7]!.get({ family: 2 });
    assert.equal(wf.count, 10);
    assert.ok(wf.value instanceof Float64Array);
    const cwf = await chans[8]!.get({ family: 2 });
    assert.equal(cwf.count, 64);
    assert.ok(cwf.value instanceof Uint8Array);
    for (const c of chans) c.close();
    assert.equal(ai.state, 'closed');
  });

  it('reads metadata structures (CTRL_DOUBLE, GR_ENUM, STSACK_STRING, CLASS_NAME)', async () => {
    const ai = ctx.channel('T:ai');
    const mbbi = ctx.channel('T:mbbi');
    const ctrl = await ai.get({ dbrType: DBR.CTRL_DOUBLE, timeout: 2 });
    assert.equal(typeof ctrl.precision, 'number');
    assert.equal(typeof ctrl.units, 'string');
    const gr = await mbbi.get({ dbrType: DBR.GR_ENUM, timeout: 2 });
    assert.ok(Array.isArray(gr.enumStrs) && gr.enumStrs.length > 0);
    const ao = ctx.channel('T:ao');
    const grd = await ao.get({ dbrType: DBR.GR_DOUBLE, timeout: 2 });
    assert.ok(Number.isNaN(grd.upperAlarmLimit), 'NaN alarm limits survive');
    ao.close();
    const cls = await ai.get({ dbrType: DBR.CLASS_NAME });
    assert.deepEqual(cls.value, ['ai']);
    const ack = await ai.get({ dbrType: DBR.STSACK_STRING });
    assert.equal(ack.ackt, 1);
    assert.deepEqual(ack.value, ['21.500']);
    ai.close();
    mbbi.close();
  });

  it('put with wait rejects PutError with the server status; plain put failure is an exception', async () => {
    const ao = ctx.channel('T:ao');
    await ao.waitForConnection(2);
    await assert.rejects(
      ao.put(['not-a-number'], { dbrType: DBR.STRING, wait: true, timeout: 2 }),
      (e: unknown) => {
        assert.ok(e instanceof PutError);
        assert.equal(e.eca, ECA.PUTFAIL);
        assert.equal(e.pvname, 'T:ao');
        return true;
      },
    );
    exceptions.length = 0;
    await ao.put(['not-a-number'], { dbrType: DBR.STRING });
    const deadline = Date.now() + 2000;
    while (exceptions.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(exceptions.length, 1);
    assert.equal(exceptions[0]!.eca, ECA.PUTFAIL);
    assert.equal(exceptions[0]!.pvname, 'T:ao');
    assert.equal(exceptions[0]!.context, 'op=1, channel=T:ao, type=DBR_STRING, count=1, ctx="T:ao"');
    assert.equal(exceptions[0]!.message, 'Channel write request failed');
    // put with wait that succeeds
    await ao.put(new Float64Array([2.5]), { dbrType: DBR.DOUBLE, wait: true, timeout: 2 });
    ao.close();
  });

  it('refuses a put to a read-only channel locally (no WRITE on the wire)', async () => {
    const n = ctx.channel('T:ai.NAME');
    await n.waitForConnection(2);
    assert.equal(n.writeAccess, false);
    const before = ioc.received.filter((m) => m.command === 4 || m.command === 19).length;
    await assert.rejects(
      n.put(['foo'], { dbrType: 0 }),
      (e: unknown) => e instanceof AccessError && e.eca === ECA.NOWTACCESS,
    );
    assert.equal(ioc.received.filter((m) => m.command === 4 || m.command === 19).length, before);
    n.close();
  });

  it('count 0 asks the server for the current length', async () => {
    const wf = ctx.channel('T:wf');
    await wf.waitForConnection(2);
    const r = await wf.get({ dbrType: DBR.TIME_DOUBLE, count: 0 });
    assert.equal(r.count, 4);
    assert.deepEqual([...(r.value as Float64Array)], [1.5, 2.5, 3.5, -4e5]);
    wf.close();
  });

  it('subscriptions deliver the recorded updates in order', async () => {
    const cnt = ctx.channel('T:cnt');
    const got: number[] = [];
    const sub = cnt.subscribe({ family: 2 }, (d) => got.push((d.value as Float64Array)[0]!));
    await cnt.waitForConnection(2);
    const deadline = Date.now() + 3000;
    while (got.length < 21 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(got.length, 21);
    for (let i = 1; i < got.length; i++) assert.equal(got[i], got[i - 1]! + 1);
    assert.equal(sub.active, true);
    sub.clear();
    assert.equal(sub.active, false);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(
      ioc.received.some((m) => m.command === 2),
      'EVENT_CANCEL sent',
    );
    cnt.close();
  });

  it('a name nobody serves rejects NotFoundError, and keeps being searched', async () => {
    const ch = ctx.channel('T:missing');
    await assert.rejects(ch.waitForConnection(0.6), (e: unknown) => e instanceof NotFoundError);
    assert.equal(ch.state, 'searching');
    const n = ioc.searches.filter((s) => s === 'T:missing').length;
    assert.ok(n >= 3, `searched ${n} times`);
    ch.close();
  });
});
