// pyepics against `tsepics ioc`: waveforms of several FTVL with numpy dtypes, char arrays as
// strings, string arrays, dynamic length (NORD), subArray, a 100 000-element array.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { killAllPython, peersSkipReason } from '../helpers/peers.js';
import { InteropIoc, asNd } from './setup.js';

const skip = peersSkipReason();

describe('pyepics arrays against the IOC', { skip }, () => {
  const ioc = new InteropIoc();
  before(() => ioc.start());
  after(async () => {
    killAllPython();
    await ioc.stop();
  });

  test('never-written waveforms: native type, nelm, empty dynamic length, UDF INVALID', async () => {
    const r = await ioc.py<Record<string, Record<string, unknown>>>(`
      out = {}
      names = ['IO:wf:d', 'IO:wf:f', 'IO:wf:l', 'IO:wf:s', 'IO:wf:uc', 'IO:wf:c', 'IO:wf:str', 'IO:wf:big']
      pvs = connect(names, auto_monitor=False)
      for n, pv in pvs.items():
          m = pv.get_with_metadata(use_monitor=False)
          out[n] = dict(ftype=ca.field_type(pv.chid), nelm=pv.nelm, severity=m['severity'],
                        status=m['status'], n=len(m['value']), stamp=m['timestamp'])
      emit(out)
    `);
    const types: Record<string, [number, number]> = {
      'IO:wf:d': [6, 10],
      'IO:wf:f': [2, 8],
      'IO:wf:l': [5, 8],
      'IO:wf:s': [1, 8],
      'IO:wf:uc': [4, 8],
      'IO:wf:c': [4, 64],
      'IO:wf:str': [0, 4],
      'IO:wf:big': [6, 100000],
    };
    for (const [n, [ftype, nelm]] of Object.entries(types)) {
      assert.equal(r[n].ftype, ftype, `${n} native type`);
      assert.equal(r[n].nelm, nelm, `${n} element count`);
      assert.equal(r[n].severity, 3, `${n} INVALID`);
      assert.equal(r[n].status, 17, `${n} UDF`);
      assert.equal(r[n].n, 0, `${n}: count 0 request returns NORD = 0 elements`);
      // never processed: EPICS epoch 0 = POSIX 631152000
      assert.equal(r[n].stamp, 631152000, `${n} time stamp`);
    }
  });

  test('numeric waveforms round-trip with the right numpy dtypes', async () => {
    const r = await ioc.py<Record<string, unknown>>(`
      cases = {
          'IO:wf:d': np.array([1.5, -2.25, 3e10, -4e-5, 0.0], dtype='float64'),
          'IO:wf:f': np.array([1.5, -2.25, 1024.125], dtype='float32'),
          'IO:wf:l': np.array([1, -2, 2147483647, -2147483648, 7], dtype='int32'),
          'IO:wf:s': np.array([1, -2, 32767, -32768], dtype='int16'),
          'IO:wf:uc': np.array([0, 1, 127, 128, 200, 255], dtype='uint8'),
      }
      out = {}
      for n, arr in cases.items():
          rc = epics.caput(n, arr, wait=True, timeout=10)
          pv = epics.PV(n, auto_monitor=False)
          pv.wait_for_connection(5)
          got = pv.get(use_monitor=False)
          full = pv.get(count=pv.nelm, use_monitor=False)
          out[n] = dict(rc=rc, got=got, nord=epics.caget(n + '.NORD', use_monitor=False),
                        full_len=len(full), tail=full[len(arr):], three=pv.get(count=3, use_monitor=False))
      emit(out)
    `);
    type Case = { rc: number; got: unknown; nord: number; full_len: number; tail: unknown; three: unknown };
    const expect: Record<string, [string, number[]]> = {
      'IO:wf:d': ['float64', [1.5, -2.25, 3e10, -4e-5, 0]],
      'IO:wf:f': ['float32', [1.5, -2.25, 1024.125]],
      'IO:wf:l': ['int32', [1, -2, 2147483647, -2147483648, 7]],
      'IO:wf:s': ['int16', [1, -2, 32767, -32768]],
      'IO:wf:uc': ['uint8', [0, 1, 127, 128, 200, 255]],
    };
    const nelm: Record<string, number> = {
      'IO:wf:d': 10,
      'IO:wf:f': 8,
      'IO:wf:l': 8,
      'IO:wf:s': 8,
      'IO:wf:uc': 8,
    };
    for (const [n, [dtype, values]] of Object.entries(expect)) {
      const c = r[n] as Case;
      assert.equal(c.rc, 1, `${n} put`);
      const got = asNd(c.got, n);
      assert.equal(got.dtype, dtype, `${n} dtype`);
      assert.deepEqual(got.values, values, `${n} values`);
      assert.equal(c.nord, values.length, `${n} NORD after the put`);
      assert.equal(c.full_len, nelm[n], `${n}: a request for NELM elements returns NELM`);
      const tail = asNd(c.tail, `${n} tail`);
      assert.ok(
        tail.values.every((v) => v === 0),
        `${n}: elements past NORD are zero, got ${JSON.stringify(tail.values)}`,
      );
      assert.deepEqual(asNd(c.three).values, values.slice(0, 3), `${n} count=3`);
    }
  });

  test('char waveform as a string (as_string) and string waveform as a list', async () => {
    const r = await ioc.py<Record<string, unknown>>(`
      out = {}
      # reads through PV objects without a subscription: the value read is the IOC's, not a
      # monitor cache that may still hold the initial (empty) event
      epics.caput('IO:wf:c', '/data/run 7/file_0001.h5', wait=True)
      pv = epics.PV('IO:wf:c', auto_monitor=False)
      pv.wait_for_connection(5)
      out['as_string'] = pv.get(as_string=True)
      out['raw'] = pv.get()
      out['caget_as_string'] = epics.caget('IO:wf:c', as_string=True, use_monitor=False)
      epics.caput('IO:wf:str', ['alpha', 'beta gamma', 'x' * 39], wait=True)
      spv = epics.PV('IO:wf:str', auto_monitor=False)
      spv.wait_for_connection(5)
      out['strings'] = spv.get()
      out['strings_nord'] = epics.caget('IO:wf:str.NORD', use_monitor=False)
      out['strings_as_string'] = spv.get(as_string=True)
      emit(out)
    `);
    const text = '/data/run 7/file_0001.h5';
    assert.equal(r['as_string'], text);
    assert.equal(r['caget_as_string'], text);
    const raw = asNd(r['raw']);
    assert.equal(raw.dtype, 'uint8');
    assert.deepEqual(raw.values.slice(0, text.length), [...Buffer.from(text)]);
    // pyepics returns a numpy unicode array for a string waveform, a list with as_string
    assert.deepEqual(asNd(r['strings']).values, ['alpha', 'beta gamma', 'x'.repeat(39)]);
    assert.equal(r['strings_nord'], 3);
    assert.deepEqual(r['strings_as_string'], ['alpha', 'beta gamma', 'x'.repeat(39)]);
  });

  test('subArray follows its source through FLNK (INDX 2, NELM 3) and NELM/INDX writes', async () => {
    const r = await ioc.py<Record<string, unknown>>(`
      out = {}
      pv = epics.PV('IO:sub', auto_monitor=False)
      pv.wait_for_connection(5)
      epics.caput('IO:wf:d', np.arange(10, dtype='float64') * 1.5, wait=True)
      out['sub'] = pv.get()
      epics.caput('IO:sub.INDX', 5, wait=True)
      epics.caput('IO:sub.NELM', 4, wait=True)
      epics.caput('IO:sub.PROC', 1, wait=True)
      out['sub2'] = pv.get()
      m = pv.get_with_metadata()
      out['severity'] = m['severity']
      emit(out)
    `);
    assert.deepEqual(asNd(r['sub']).values, [3, 4.5, 6]);
    assert.deepEqual(asNd(r['sub2']).values, [7.5, 9, 10.5, 12]);
    assert.equal(r['severity'], 0);
  });

  test('100 000 doubles: numpy array in, identical array out', async () => {
    const r = await ioc.py<Record<string, unknown>>(`
      rng = np.random.default_rng(12345)
      arr = rng.standard_normal(100000)
      arr[7] = np.nan
      rc = epics.caput('IO:wf:big', arr, wait=True, timeout=20)
      got = epics.caget('IO:wf:big', use_monitor=False, timeout=20)
      emit(dict(rc=rc, dtype=str(got.dtype), n=len(got),
                same=bool(np.array_equal(got, arr, equal_nan=True)),
                first=got[:3], nan7=bool(np.isnan(got[7]))))
    `);
    assert.equal(r['rc'], 1);
    assert.equal(r['dtype'], 'float64');
    assert.equal(r['n'], 100000);
    assert.equal(r['nan7'], true, 'NaN survives the round trip');
    assert.equal(r['same'], true, 'all 100000 values identical');
  });
});
