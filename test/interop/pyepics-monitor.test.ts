// pyepics against `tsepics ioc`: monitors with callbacks, alarm transitions in callbacks,
// put with completion (calcout ODLY), caget_many / caput_many, cainfo.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { killAllPython, peersSkipReason } from '../helpers/peers.js';
import { InteropIoc } from './setup.js';

const skip = peersSkipReason();

describe('pyepics monitors, alarms, put-wait and helpers against the IOC', { skip }, () => {
  const ioc = new InteropIoc();
  before(() => ioc.start());
  after(async () => {
    killAllPython();
    await ioc.stop();
  });

  test('a 10 Hz scanned counter delivers monitor callbacks with consecutive values', async () => {
    const r = await ioc.py<{ values: number[]; stamps: number[] }>(`
      values, stamps = [], []
      def cb(pvname=None, value=None, timestamp=None, **kw):
          values.append(value)
          stamps.append(timestamp)
      pv = epics.PV('IO:cnt', callback=cb)
      pv.wait_for_connection(5)
      t0 = time.time()
      while time.time() - t0 < 1.5:
          epics.poll(evt=0.01, iot=0.01)
      pv.clear_callbacks()
      emit(dict(values=values, stamps=stamps))
    `);
    assert.ok(r.values.length >= 8, `expected >= 8 events in 1.5 s at 10 Hz, got ${r.values.length}`);
    assert.ok(r.values.length <= 20, `too many events: ${r.values.length}`);
    for (let i = 1; i < r.values.length; i++) {
      assert.equal(r.values[i], (r.values[i - 1] + 1) % 1000, `event ${i}: ${JSON.stringify(r.values)}`);
      assert.ok(r.stamps[i] > r.stamps[i - 1], 'time stamps increase');
    }
    const span = r.stamps[r.stamps.length - 1] - r.stamps[1];
    const expected = (r.values.length - 2) * 0.1;
    assert.ok(Math.abs(span - expected) < 0.15, `scan period: ${span} s for ${r.values.length - 2} periods`);
  });

  test('monitor callbacks carry each written value, in order, initial value first', async () => {
    const r = await ioc.py<{ events: [number, string][] }>(`
      events = []
      def cb(pvname=None, value=None, char_value=None, **kw):
          events.append((value, char_value))
      pv = epics.PV('IO:lo', callback=cb)
      pv.wait_for_connection(5)
      wait_until(lambda: len(events) >= 1)
      for v in (11, 12, 13, 13, -14):
          epics.caput('IO:lo', v, wait=True)
      wait_until(lambda: len(events) >= 5, timeout=3)
      time.sleep(0.2); epics.poll()
      emit(dict(events=events))
    `);
    const values = r.events.map((e) => e[0]);
    // MDEL 0: a longout posts a value event only when the value changed (13 then 13: one event)
    assert.equal(values[0], -7, 'initial event has the value from the .db');
    assert.deepEqual(values.slice(1), [11, 12, 13, -14], JSON.stringify(values));
    assert.equal(r.events[r.events.length - 1][1], '-14');
  });

  test('alarm severity and status in callbacks when crossing LOW/HIGH/HIHI/LOLO', async () => {
    const r = await ioc.py<{ events: [number, number, number][]; alarm_mask: [number, number, number][] }>(`
      events = []
      def cb(pvname=None, value=None, severity=None, status=None, **kw):
          events.append((value, severity, status))
      pv = epics.PV('IO:alarm', callback=cb)
      pv.wait_for_connection(5)
      wait_until(lambda: len(events) >= 1)
      for v in (85, 95, 50, -5, -15, 20):
          epics.caput('IO:alarm', v, wait=True)
          wait_until(lambda: events[-1][0] == v, timeout=3)
      first = list(events)
      # an alarm-only subscription (DBE_ALARM) fires on severity changes, not on value changes
      alarm_events = []
      def acb(value=None, severity=None, status=None, **kw):
          alarm_events.append((value, severity, status))
      chid = ca.create_channel('IO:alarm')
      ca.connect_channel(chid)
      cbref, uarg, evid = ca.create_subscription(chid, mask=epics.dbr.DBE_ALARM, callback=acb,
                                                 use_time=True)
      wait_until(lambda: len(alarm_events) >= 1)
      for v in (21, 22, 85, 86, 95):
          epics.caput('IO:alarm', v, wait=True)
      time.sleep(0.3); epics.poll()
      emit(dict(events=first, alarm_mask=alarm_events))
    `);
    // status codes: 0 NO_ALARM, 3 HIHI, 4 HIGH, 5 LOLO, 6 LOW; severity 1 MINOR, 2 MAJOR
    assert.deepEqual(r.events, [
      [50, 0, 0],
      [85, 1, 4],
      [95, 2, 3],
      [50, 0, 0],
      [-5, 1, 6],
      [-15, 2, 5],
      [20, 0, 0],
    ]);
    assert.deepEqual(r.alarm_mask, [
      [20, 0, 0],
      [85, 1, 4],
      [95, 2, 3],
    ]);
  });

  test('put with wait on a calcout with ODLY 1 s completes after ~1 s; without wait at once', async () => {
    const r = await ioc.py<Record<string, number>>(`
      out = {}
      epics.caput('IO:slow.A', 1, wait=True, timeout=10)
      t0 = time.time()
      out['rc'] = epics.caput('IO:slow.A', 5, wait=True, timeout=10)
      out['wait_s'] = time.time() - t0
      out['dbl'] = epics.caget('IO:dbl', use_monitor=False)
      t0 = time.time()
      out['rc_nowait'] = epics.caput('IO:slow.A', 6)
      out['nowait_s'] = time.time() - t0
      out['dbl_right_after'] = epics.caget('IO:dbl', use_monitor=False)
      pv = epics.PV('IO:slow.A')
      pv.wait_for_connection(5)
      done = []
      t0 = time.time()
      pv.put(7, use_complete=True, callback=lambda pvname=None, **kw: done.append(time.time() - t0))
      out['complete_at_once'] = 1 if pv.put_complete else 0
      wait_until(lambda: pv.put_complete, timeout=5)
      out['complete_s'] = time.time() - t0
      wait_until(lambda: done, timeout=1)
      out['callback_s'] = done[0] if done else -1
      out['dbl_final'] = epics.caget('IO:dbl', use_monitor=False)
      out['timeout_rc'] = epics.PV('IO:slow.A').put(8, wait=True, timeout=0.3)
      emit(out)
    `);
    assert.equal(r.rc, 1);
    assert.ok(r.wait_s >= 0.9 && r.wait_s < 2.5, `put(wait=True) took ${r.wait_s} s, expected ~1 s`);
    assert.equal(r.dbl, 5, 'OUT written before completion');
    assert.equal(r.rc_nowait, 1);
    assert.ok(r.nowait_s < 0.5, `put without wait took ${r.nowait_s} s`);
    assert.equal(r.dbl_right_after, 5, 'the plain put has not completed yet');
    assert.equal(r.complete_at_once, 0);
    assert.ok(r.complete_s >= 0.9 && r.complete_s < 2.5, `use_complete took ${r.complete_s} s`);
    assert.ok(r.callback_s >= 0.9 && r.callback_s < 2.5, `put callback after ${r.callback_s} s`);
    assert.equal(r.dbl_final, 7);
    assert.equal(r.timeout_rc, -1, 'put(wait=True, timeout=0.3) on a 1 s put times out with -1');
  });

  test('caget_many / caput_many (wait each, wait all, a name that does not exist)', async () => {
    const r = await ioc.py<Record<string, unknown>>(
      `
      out = {}
      # (a missing name in caget_many costs pyepics ~8 s of connection waits: tested in caput_many)
      out['many'] = epics.caget_many(['IO:ai', 'IO:li', 'IO:si', 'IO:mbbi'], timeout=1.0)
      out['many_str'] = epics.caget_many(['IO:ai', 'IO:mbbi'], as_string=True)
      out['put_each'] = epics.caput_many(['IO:ao', 'IO:lo', 'IO:so'], [1.5, 12, 'many'], wait='each')
      out['put_all'] = epics.caput_many(['IO:ao', 'IO:slow.A'], [2.5, 9], wait='all', put_timeout=5)
      out['after'] = epics.caget_many(['IO:ao', 'IO:lo', 'IO:so', 'IO:dbl'])
      out['put_bad'] = epics.caput_many(['IO:ao', 'IO:nope'], [3.5, 1], wait='each', connection_timeout=0.5)
      emit(out)
    `,
      { timeout: 60 },
    );
    assert.deepEqual(r['many'], [21.5, 123456, 'hello world', 2]);
    // ca.get(as_string=True) formats a double with str() (no precision): '21.5'
    assert.deepEqual(r['many_str'], ['21.5', 'Readout']);
    assert.deepEqual(r['put_each'], [1, 1, 1]);
    assert.deepEqual(r['put_all'], [1, 1]);
    assert.deepEqual(r['after'], [2.5, 12, 'many', 9]);
    assert.deepEqual(r['put_bad'], [1, -1]);
  });

  test('cainfo output for a double, an enum and an array', async () => {
    const r = await ioc.py<Record<string, string>>(`
      out = {}
      for n in ('IO:ai', 'IO:mbbi', 'IO:wf:d'):
          epics.PV(n, form='ctrl').wait_for_connection(5)
          out[n] = epics.cainfo(n, print_out=False)
      emit(out)
    `);
    // key = value lines; pyepics pads the keys itself, so only the values are asserted
    const line = (key: string, value: string): RegExp => new RegExp(`^ {3}${key}\\s*= ${value}$`, 'm');
    const ai = r['IO:ai'];
    assert.match(ai, /^== IO:ai {2}\(time_double\) ==$/m);
    assert.match(ai, line('value', '21\\.5'));
    assert.match(ai, line('char_value', "'21\\.500'"));
    assert.match(ai, line('count', '1'));
    assert.match(ai, line('units', 'degC'));
    assert.match(ai, line('precision', '3'));
    assert.match(ai, line('host', `.+:${ioc.port}`));
    assert.match(ai, line('access', 'read/write'));
    assert.match(ai, line('severity', '0'));
    assert.match(ai, line('upper_ctrl_limit', '100\\.0'));
    assert.match(ai, line('lower_alarm_limit', '-10\\.0'));
    assert.match(ai, line('upper_warning_limit', '80\\.0'));
    assert.match(ai, /^ {3}PV is internally monitored, with 0 user-defined callbacks:?$/m);
    const mbbi = r['IO:mbbi'];
    assert.match(mbbi, line('value', '2'));
    assert.match(mbbi, line('char_value', "'Readout'"));
    assert.match(
      mbbi,
      /enum strings: ?\n\s+0 = Idle ?\n\s+1 = Acquire ?\n\s+2 = Readout ?\n\s+3 = Correct ?\n/,
    );
    const wf = r['IO:wf:d'];
    assert.match(wf, /^== IO:wf:d {2}\(time_double\) ==$/m);
    assert.match(wf, line('nelm', '10'));
    assert.match(wf, line('units', 'V'));
  });
});
