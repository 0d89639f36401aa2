// The checks of pyepics' own test_pv_unittests.py (threads, put callbacks, force_connect),
// test_pv_disconnect.py, test_threading.py / test_cathread.py and test_camonitor_func.py that
// matter most (our own snippets, written for tsepics), run with Debian's pyepics + libca against
// `tsepics ioc` serving our pyepics-db databases with the simulator of pyepics-suite-sim.ts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { killAllPython, peersSkipReason } from '../helpers/peers.js';
import { SuiteIoc } from './pyepics-suite-sim.js';

const skip = peersSkipReason();

describe(
  "pyepics' thread, disconnect and monitor tests against tsepics ioc (pyepics-db + simulator)",
  { skip },
  () => {
    const ioc = new SuiteIoc();
    before(() => ioc.start());
    after(async () => {
      killAllPython();
      await ioc.stop();
    });

    test('1, 10 and 200 threads (CAThread and threading.Thread) get the same value and metadata', async () => {
      const r = await ioc.py(`
      import threading
      out = {}
      ca.use_initial_context()
      pv = epics.get_pv(P + 'ao1')
      pv.wait_for_connection(5)
      with paused():
          for cls in (ca.CAThread, threading.Thread):
              for n in (1, 10, 200):
                  res = {}
                  def work(i):
                      res[i] = (pv.get(), pv.get_with_metadata(form='ctrl')['value'],
                                pv.get_with_metadata(form='time')['value'])
                  ths = [cls(target=work, args=(i,)) for i in range(n)]
                  for t in ths:
                      t.start()
                  for t in ths:
                      t.join()
                  vals = set(res.values())
                  out['%s_%d' % (cls.__name__, n)] = [len(res), len(vals), None in next(iter(vals))]
      emit(out)
    `);
      for (const cls of ['CAThread', 'Thread'])
        for (const n of [1, 10, 200])
          assert.deepEqual(
            r[`${cls}_${n}`],
            [n, 1, false],
            `${cls} x ${n}: every thread, one value, never None`,
          );
    });

    test('1, 10 and 100 CAThreads put with a callback and callback_data: each callback once', async () => {
      const r = await ioc.py(
        `
      out = {}
      ca.use_initial_context()
      pv = epics.get_pv(P + 'ao4')
      pv.wait_for_connection(5)
      with paused():
          for n in (1, 10, 100):
              got = []
              def on_done(pvname, data):
                  got.append((pvname, data))
              def work(i):
                  pv.put(i, callback=on_done, callback_data=dict(data=i), wait=True)
                  time.sleep(0.1)
              ths = [ca.CAThread(target=work, args=(i,)) for i in range(n)]
              for t in ths:
                  t.start()
              for t in ths:
                  t.join()
              out[str(n)] = [len(got), sorted(d for _, d in got) == list(range(n)),
                             sorted(set(p for p, _ in got))]
      emit(out)
    `,
        { timeout: 90 },
      );
      for (const n of [1, 10, 100]) assert.deepEqual(r[String(n)], [n, true, ['PyTest:ao4']], `${n} threads`);
    });

    test('contexts: use_initial_context in a Thread, CAThread, create/detach/attach_context, a PV from main', async () => {
      const r = await ioc.py(`
      import threading
      out = {}
      ca.use_initial_context()
      main_ctx = ca.current_context()
      res = []
      def plain():
          ca.use_initial_context()
          res.append(epics.get_pv(P + 'ao1').get())
      t = threading.Thread(target=plain); t.start(); t.join()
      def in_cathread():
          res.append(epics.get_pv(P + 'ao1').get())
      t = ca.CAThread(target=in_cathread); t.start(); t.join()
      def attach():
          ca.create_context()
          p = epics.get_pv(P + 'ao2')
          res.append(p.get() if p.wait_for_connection(5) else None)
          ca.detach_context()
          ca.attach_context(main_ctx)
          p = epics.get_pv(P + 'ao1')
          res.append(p.get() if p.wait_for_connection(5) else None)
      t = threading.Thread(target=attach); t.start(); t.join()
      pv = epics.get_pv(P + 'ao2')
      pv.wait_for_connection(5)
      t = ca.CAThread(target=lambda: res.append(pv.get())); t.start(); t.join()
      out['res'] = [type_name(v) for v in res]
      emit(out)
    `);
      assert.deepEqual(r.res, ['float', 'float', 'float', 'float', 'float']);
    });

    test('disconnect: connected False and get() None; a new PV connects; PV vs get_pv sharing; caget keeps working', async () => {
      const r = await ioc.py(`
      out = {}
      name = P + 'ao1'
      pv = epics.PV(name, auto_monitor=True, callback=lambda **kw: None)
      pv.wait_for_connection(5)
      out['before'] = [pv.connected, pv.get() is not None]
      pv.disconnect()
      out['after'] = [pv.connected, pv.get()]
      # (PV.reconnect() of Debian's pyepics 3.4.1 never reconnects, whatever the server: a new
      # PV object on the same name must connect and read)
      again = epics.PV(name, auto_monitor=True, callback=lambda **kw: None)
      out['reconnect'] = again.wait_for_connection(5)
      out['after_reconnect'] = again.get() is not None
      pv1 = epics.PV(name, auto_monitor=True, callback=lambda **kw: None)
      pv2 = epics.PV(name, auto_monitor=True, callback=lambda **kw: None)
      pv1.wait_for_connection(5); pv2.wait_for_connection(5)
      pv1.disconnect()
      out['two'] = [pv1.connected, pv1.get(), pv2.connected, pv2.get() is not None]
      p3 = epics.PV(name, auto_monitor=True, callback=lambda **kw: None)
      p3.wait_for_connection(5)
      out['caget'] = epics.caget(name) is not None
      p3.disconnect()
      out['caget_after'] = [epics.caget(name) is not None, epics.caget(name, use_monitor=False) is not None]
      emit(out)
    `);
      assert.deepEqual(r.before, [true, true]);
      assert.deepEqual(r.after, [false, null]);
      assert.equal(r.reconnect, true);
      assert.equal(r.after_reconnect, true);
      assert.deepEqual(r.two, [false, null, true, true], 'the other PV object stays connected');
      assert.equal(r.caget, true);
      assert.deepEqual(r.caget_after, [true, true]);
    });

    test('camonitor keeps receiving after another PV object disconnects; camonitor_clear stops it; force_connect', async () => {
      const r = await ioc.py(`
      out = {}
      name = P + 'ao1'
      pv = epics.PV(name, auto_monitor=True, callback=lambda **kw: None)
      pv.wait_for_connection(5)
      hits = [0]
      def cb(**kw):
          hits[0] += 1
      epics.camonitor(name, callback=cb)
      wait_until(lambda: False, 1.0)
      out['first'] = hits[0]
      pv.disconnect()
      hits[0] = 0
      wait_until(lambda: False, 1.0)
      out['after_disconnect'] = hits[0]
      epics.camonitor_clear(name)
      wait_until(lambda: False, 0.3)
      hits[0] = 0
      wait_until(lambda: False, 1.0)
      out['after_clear'] = hits[0]
      d = epics.get_pv(P + 'double128', auto_monitor=True)
      d.wait_for_connection(5)
      d.disconnect()
      called = [0]
      def dcb(value=None, **kw):
          called[0] += 1
      d.add_callback(dcb)
      d.force_connect()
      out['force'] = d.wait_for_connection(5)
      epics.caput(P + 'double128', np.arange(128.0), wait=True)
      wait_until(lambda: called[0], 3)
      out['force_cb'] = called[0] > 0
      out['force_get'] = d.get() is not None
      emit(out)
    `);
      assert.ok((r.first as number) > 3, `camonitor callbacks in 1 s: ${String(r.first)}`);
      assert.ok(
        (r.after_disconnect as number) > 3,
        `after another PV disconnected: ${String(r.after_disconnect)}`,
      );
      assert.equal(r.after_clear, 0, 'no callback after camonitor_clear');
      assert.equal(r.force, true);
      assert.equal(r.force_cb, true, 'callbacks resume after force_connect');
      assert.equal(r.force_get, true);
    });
  },
);
