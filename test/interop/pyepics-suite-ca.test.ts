// The checks of pyepics' own test_ca_unittests.py that matter most (our own snippets, written for
// tsepics), run with Debian's pyepics + libca against `tsepics ioc` serving our pyepics-db
// databases with the simulator of pyepics-suite-sim.ts: the `ca` layer's connection and channel
// info, ctrl vars, put with wait, enum puts, subscriptions (scalar, char-as-string, arrays in the
// three forms with exact numpy dtypes), type promotions, ctypes arrays, get_complete, count=0
// after a short put and char arrays as strings.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { killAllPython, peersSkipReason } from '../helpers/peers.js';
import { SuiteIoc } from './pyepics-suite-sim.js';
import { assertClose } from './setup.js';

const skip = peersSkipReason();

describe("pyepics' ca unit tests against tsepics ioc (pyepics-db + simulator)", { skip }, () => {
  const ioc = new SuiteIoc();
  before(() => ioc.start());
  after(async () => {
    killAllPython();
    await ioc.stop();
  });

  test('channels: create, connect, field type/count/host/access, state, connection callback, missing PV', async () => {
    const r = await ioc.py(`
      out = {}
      def on_conn(pvname=None, conn=None, chid=None, **kw):
          conn_seen[pvname] = conn
      conn_seen = {}
      chid = ca.create_channel(P + 'ao1')
      out['created'] = chid is not None
      out['connect'] = ca.connect_channel(chid)
      ca.pend_event(1e-3)
      out['ftype'] = ca.field_type(chid)
      out['count'] = ca.element_count(chid)
      out['host'] = ca.host_name(chid)
      out['access'] = ca.access(chid)
      out['state'] = ca.state(chid)
      out['CS_CONN'] = ca.dbr.CS_CONN
      out['isConnected'] = ca.isConnected(chid)
      out['read'] = ca.read_access(chid)
      out['write'] = ca.write_access(chid)
      out['name'] = ca.name(chid)
      c2 = ca.create_channel(P + 'long2', callback=on_conn)
      out['long2'] = ca.get(c2)
      out['conn_cb'] = conn_seen.get(P + 'long2')
      out['long2_ftype'] = ca.field_type(c2)
      missing = ca.create_channel('Definitely-Not-A-tsepics-PV')
      out['missing_get'] = ca.get(missing, timeout=0.5)
      t0 = time.time()
      while time.time() - t0 < 1.0 and ca.state(missing) != ca.dbr.CS_CONN:
          ca.poll(1e-3, 1e-3)
      out['missing_connected'] = ca.state(missing) == ca.dbr.CS_CONN
      emit(out)
    `);
    assert.equal(r.created, true);
    assert.equal(r.connect, true);
    assert.equal(r.ftype, 6, 'ao1 is a DOUBLE');
    assert.equal(r.count, 1);
    assert.match(String(r.host), new RegExp(`:${ioc.env.EPICS_CA_SERVER_PORT}$`), 'host:port of our IOC');
    assert.equal(r.access, 'read/write');
    assert.equal(r.state, r.CS_CONN);
    assert.equal(r.isConnected, true);
    assert.equal(r.read, 1);
    assert.equal(r.write, 1);
    assert.equal(r.name, 'PyTest:ao1');
    assert.equal(r.long2, 2, 'long2 as the simulator set it');
    assert.equal(r.long2_ftype, 5, 'longout is a LONG');
    assert.equal(r.conn_cb, true, 'connection callback called with conn=True');
    assert.equal(r.missing_get, null);
    assert.equal(r.missing_connected, false);
  });

  test('records never processed: VAL from the .db clears UDF (NO_ALARM), menu texts past 16 states', async () => {
    const r = await ioc.py(`
      out = {}
      def one(name, **kw):
          c = ca.create_channel(name, connect=True)
          return ca.get(c, **kw)
      for rec in ('PyTest:xbi', 'PyTest:string2k', 'PyTestClearCache:3'):
          c = ca.create_channel(rec, connect=True)
          tv = ca.get_timevars(c)
          out[rec] = dict(sevr=tv['severity'], stat=tv['status'], udf=one(rec + '.UDF'),
                          stat_s=one(rec + '.STAT', ftype=ca.dbr.STRING),
                          sevr_s=one(rec + '.SEVR', ftype=ca.dbr.STRING),
                          stat_n=len(ca.get_enum_strings(ca.create_channel(rec + '.STAT', connect=True))))
      out['xbi_mlst'] = one('PyTest:xbi.MLST')
      emit(out)
    `);
    // bi with VAL 1 in the .db: UDF cleared at load, so iocInit leaves SEVR at NO_ALARM (STAT UDF)
    assert.deepEqual(r['PyTest:xbi'], {
      sevr: 0,
      stat: 17,
      udf: 0,
      stat_s: 'UDF',
      sevr_s: 'NO_ALARM',
      stat_n: 16,
    });
    assert.equal(r.xbi_mlst, 1, 'init_record starts MLST at VAL');
    // a waveform nobody wrote: UDF INVALID
    assert.deepEqual(r['PyTest:string2k'], {
      sevr: 3,
      stat: 17,
      udf: 1,
      stat_s: 'UDF',
      sevr_s: 'INVALID',
      stat_n: 16,
    });
    // the scanned calc disabled by SDIS (PyTestClearCache:enabled = 0): DISABLE (menu index 18)
    const c3 = r['PyTestClearCache:3'] as Record<string, unknown>;
    assert.equal(c3.stat, 18);
    assert.equal(c3.stat_s, 'DISABLE');
    assert.equal(c3.sevr, 0);
  });

  test('ctrl vars of a double: units, precision, severity; promote_type', async () => {
    const r = await ioc.py(`
      chid = ca.create_channel(P + 'ao1', connect=True)
      cv = ca.get_ctrlvars(chid)
      tv = ca.get_timevars(chid)
      emit(dict(keys=sorted(cv), units=cv['units'], precision=cv['precision'], severity=cv['severity'],
                get_precision=ca.get_precision(chid), tkeys=sorted(tv),
                time_type=ca.promote_type(chid, use_time=True), ctrl_type=ca.promote_type(chid, use_ctrl=True),
                TIME_DOUBLE=ca.dbr.TIME_DOUBLE, CTRL_DOUBLE=ca.dbr.CTRL_DOUBLE))
    `);
    assert.equal(r.units, 'microns');
    assert.equal(r.precision, 4);
    assert.equal(r.get_precision, 4);
    assert.equal(r.severity, 0);
    for (const k of [
      'upper_disp_limit',
      'lower_disp_limit',
      'upper_ctrl_limit',
      'lower_ctrl_limit',
      'status',
    ])
      assert.ok((r.keys as string[]).includes(k), `ctrl vars have ${k}`);
    for (const k of ['severity', 'status', 'timestamp'])
      assert.ok((r.tkeys as string[]).includes(k), `time vars have ${k}`);
    assert.equal(r.time_type, r.TIME_DOUBLE);
    assert.equal(r.time_type, 20);
    assert.equal(r.ctrl_type, 34);
  });

  test('put with wait reads back; enum puts by index and PROC puts return', async () => {
    const r = await ioc.py(`
      out = {}
      chid = ca.create_channel(P + 'ao4', connect=True)
      out['put1'] = ca.put(chid, -1, wait=True)
      out['get1'] = ca.get(chid)
      ca.put(chid, 2, wait=True)
      out['get2'] = ca.get(chid)
      e = ca.create_channel(P + 'mbbo1', connect=True)
      rets = []
      for v in (1, '1', 2, '2', 0, '0', 3):
          rets.append(ca.put(e, v, wait=True))
      out['rets'] = rets
      ca.put(e, 2, wait=True)
      out['enum'] = ca.get(e)
      out['enum_str'] = ca.get(e, as_string=True)
      out['enum_strs'] = list(ca.get_enum_strings(e))
      proc = ca.create_channel(P + 'ao1.PROC', connect=True)
      out['proc_ftype'] = ca.field_type(proc)
      out['proc_put'] = ca.put(proc, 1, wait=True)
      ca.put(e, 1, wait=True)
      emit(out)
    `);
    assert.equal(r.put1, 1, 'ECA_NORMAL');
    assert.equal(r.get1, -1);
    assert.equal(r.get2, 2);
    assert.deepEqual(r.rets, [1, 1, 1, 1, 1, 1, 1]);
    assert.equal(r.enum, 2);
    assert.equal(
      r.enum_str,
      '2',
      "the ca layer's as_string of an enum is its index (labels are the PV layer's)",
    );
    assert.deepEqual(r.enum_strs, ['Stop', 'Start', 'Pause', 'Resume']);
    assert.equal(r.proc_ftype, 4, '.PROC is a CHAR (DBF_UCHAR)');
    assert.equal(r.proc_put, 1);
  });

  test('subscriptions: the updating double delivers changes; char waveform callbacks on string puts', async () => {
    const r = await ioc.py(`
      out = {}
      chid = ca.create_channel(P + 'ao1', connect=True)
      vals = []
      def cb(pvname=None, value=None, **kw):
          vals.append(value)
      _, _, ev = ca.create_subscription(chid, callback=cb)
      t0 = time.time()
      while time.time() - t0 < 2.0:
          ca.poll(0.01, 0.01)
      ca.clear_subscription(ev)
      n = len(vals)
      t0 = time.time()
      while time.time() - t0 < 0.4:
          ca.poll(0.01, 0.01)
      out['n'] = n
      out['after_clear'] = len(vals) - n
      out['distinct'] = len(set(vals))
      out['types'] = sorted(set(type_name(v) for v in vals))
      c = ca.create_channel(P + 'char256', connect=True)
      got = []
      def ccb(pvname=None, value=None, **kw):
          got.append((list(value), kw.get('count'), kw.get('ftype')))
      _, _, ev2 = ca.create_subscription(c, callback=ccb)
      ca.poll(0.05, 0.05)
      got.clear()
      ca.put(c, '12.5', wait=True)
      t0 = time.time()
      while time.time() - t0 < 3.0 and not got:
          ca.poll(0.01, 0.01)
      ca.clear_subscription(ev2)
      out['char'] = got[-1] if got else None
      out['as_string'] = ca.get(c, as_string=True)
      emit(out)
    `);
    assert.ok((r.n as number) > 5, `more than 5 updates of ao1 in 2 s at 10 Hz, got ${String(r.n)}`);
    assert.ok((r.distinct as number) > 5, 'the values change');
    assert.equal(r.after_clear, 0, 'no callback after clear_subscription');
    assert.deepEqual(r.types, ['float']);
    // a string put to a char waveform: the characters plus a terminating NUL (NORD = 5)
    assert.deepEqual(r.char, [[49, 50, 46, 53, 0], 5, 4]);
    assert.equal(r.as_string, '12.5');
  });

  test('array subscriptions in the plain, time and ctrl forms with exact numpy dtypes', async () => {
    const r = await ioc.py<Record<string, Record<string, unknown>>>(`
      import numpy
      out = {}
      for name in ('long2k', 'double2k', 'char128', 'string128'):
          for form in ('normal', 'time', 'ctrl'):
              v, keys = collect_subscription(P + name, use_time=form == 'time', use_ctrl=form == 'ctrl')
              out[name + ':' + form] = dict(
                  type=type_name(v), n=None if v is None else len(v),
                  dtype=str(v.dtype) if isinstance(v, numpy.ndarray) else None,
                  elem=sorted(set(type_name(e) for e in v)) if v is not None else None,
                  first=v[0] if isinstance(v, list) else None, keys=keys)
      emit(out)
    `);
    const want: Record<string, [string, number, string | null, string]> = {
      long2k: ['numpy.ndarray', 2048, 'int32', 'numpy.int32'],
      double2k: ['numpy.ndarray', 2048, 'float64', 'numpy.float64'],
      char128: ['numpy.ndarray', 128, 'uint8', 'numpy.uint8'],
      string128: ['list', 128, null, 'str'],
    };
    for (const [name, [type, n, dtype, elem]] of Object.entries(want)) {
      for (const form of ['normal', 'time', 'ctrl']) {
        const got = r[`${name}:${form}`];
        const what = `${name} (${form})`;
        assert.equal(got.type, type, `${what}: value type`);
        assert.equal(got.n, n, `${what}: length`);
        assert.equal(got.dtype, dtype, `${what}: dtype`);
        assert.deepEqual(got.elem, [elem], `${what}: element type`);
        if (name === 'string128') assert.equal(got.first, ' String 1', `${what}: first string`);
        const keys = got.keys as string[];
        assert.ok(keys.includes('count') && keys.includes('ftype'), `${what}: callback keywords`);
        if (form === 'time') assert.ok(keys.includes('timestamp'), `${what}: time form has a timestamp`);
        // DBR_CTRL_STRING is DBR_STS_STRING: no limits for a string waveform
        if (form === 'ctrl' && name !== 'string128')
          assert.ok(keys.includes('upper_disp_limit'), `${what}: ctrl form has limits`);
      }
    }
  });

  test('type promotions: scalars keep their string form, arrays their values, in ctrl and time forms', async () => {
    const r = await ioc.py(`
      names = [P + 'ao1.DESC', P + 'long2', P + 'ao3', P + 'mbbo1', P + 'ao2', P + 'char128', P + 'long2k', P + 'double2k']
      out = dict(mismatch=[], checked=0)
      with paused():
          chids = [(ca.create_channel(n), n) for n in names]
          for c, n in chids:
              ca.connect_channel(c)
          base_s = {n: ca.get(c, as_string=True) for c, n in chids}
          base_v = {n: ca.get(c) for c, n in chids}
          for c, n in chids:
              for kind in ('ctrl', 'time'):
                  t = ca.promote_type(c, use_ctrl=kind == 'ctrl', use_time=kind == 'time')
                  v = ca.get(c, ftype=t)
                  s = ca.get(c, as_string=True)
                  out['checked'] += 1
                  if ca.element_count(c) > 1:
                      if not all(a == b for a, b in zip(v, base_v[n])) or len(v) != len(base_v[n]):
                          out['mismatch'].append((n, kind, 'values'))
                  elif v != base_v[n] or s != base_s[n]:
                      out['mismatch'].append((n, kind, repr(v), repr(base_v[n]), s, base_s[n]))
          out['desc'] = base_s[P + 'ao1.DESC']
          out['enum_s'] = base_s[P + 'mbbo1']
          out['long_s'] = base_s[P + 'long2']
      emit(out)
    `);
    assert.deepEqual(r.mismatch, []);
    assert.equal(r.checked, 16);
    assert.equal(r.desc, 'ao');
    assert.equal(r.enum_s, '1', 'mbbo1 = 1 (the ca layer gives the index as a string)');
    assert.equal(r.long_s, '2');
  });

  test('arrays: ctypes with as_numpy=False, get(wait=False) + get_complete, count=0 after a short put, char as string', async () => {
    const r = await ioc.py(`
      import ctypes
      out = {}
      with paused():
          c = ca.create_channel(P + 'double128', connect=True)
          a = ca.get(c)
          cv = ca.get(c, as_numpy=False)
          out['numpy'] = type_name(a)
          out['ctypes'] = isinstance(cv, ctypes.Array)
          out['same'] = list(cv) == list(a)
          out['len'] = len(a)
          out['nowait'] = ca.get(c, wait=False)
          out['complete_same'] = bool(all(ca.get_complete(c) == a))
          maxpts = ca.element_count(c)
          npts = int(max(2, maxpts / 2.3 - 1))
          dat = np.linspace(-1.5, 1.5, npts)
          out['npts'] = npts
          ca.put(c, dat, wait=True)
          o1 = ca.get(c)
          o0 = ca.get(c, count=0)
          full = ca.get(c, count=maxpts)
          out['short'] = [type_name(o1), len(o1), bool(all(o1 == dat))]
          out['count0'] = [type_name(o0), len(o0), bool(all(o0 == dat))]
          out['full'] = [len(full), bool(all(full[npts:] == 0))]
          out['nord'] = epics.caget(P + 'double128.NORD')
          ch = ca.create_channel(P + 'char128', connect=True)
          v = ca.get(ch)
          s = ca.get(ch, as_string=True)
          out['char'] = [type_name(v), str(v.dtype), type_name(s), s == ''.join(chr(i) for i in v), len(s)]
      emit(out)
    `);
    assert.equal(r.numpy, 'numpy.ndarray');
    assert.equal(r.ctypes, true);
    assert.equal(r.same, true);
    assert.equal(r.len, 128);
    assert.equal(r.nowait, null, 'get(wait=False) returns None');
    assert.equal(r.complete_same, true);
    assert.equal(r.npts, 54);
    assert.deepEqual(r.short, ['numpy.ndarray', 54, true]);
    assert.deepEqual(r.count0, ['numpy.ndarray', 54, true], 'count=0 returns NORD elements');
    assert.deepEqual(r.full, [128, true], 'count > NORD pads with zeros');
    assertClose(r.nord, 54, 0, 'NORD');
    assert.deepEqual(r.char, ['numpy.ndarray', 'uint8', 'str', true, 128]);
  });
});
