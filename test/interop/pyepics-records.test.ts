// pyepics (Debian's, over Debian's libca) against `tsepics ioc -d interop.db`: every scalar record
// type read with its control information, written and read back, enums by label, fields as channels.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { killAllPython, peersSkipReason } from '../helpers/peers.js';
import { InteropIoc, assertClose } from './setup.js';

type Info = {
  connected: boolean;
  type: string;
  ftype: number;
  count: number;
  nelm: number;
  host: string;
  access: string;
  value: unknown;
  char_value: string;
  severity: number;
  status: number;
  timestamp: number;
  ctrl: Record<string, unknown>;
};

const skip = peersSkipReason();

describe('pyepics reads and writes every scalar record type', { skip }, () => {
  const ioc = new InteropIoc();
  before(() => ioc.start());
  after(async () => {
    killAllPython();
    await ioc.stop();
  });

  const names = [
    'IO:ai',
    'IO:ao',
    'IO:bi',
    'IO:bo',
    'IO:mbbi',
    'IO:mbbo',
    'IO:li',
    'IO:lo',
    'IO:si',
    'IO:so',
    'IO:calc',
    'IO:slow',
    'IO:fan',
  ];
  let info: Record<string, Info> = {};

  before(async () => {
    info = await ioc.py<Record<string, Info>>(`
      names = ${JSON.stringify(names)}
      pvs = connect(names)
      out = {}
      for n, pv in pvs.items():
          v = pv.get(use_monitor=False)
          meta = pv.get_with_metadata(form='time', use_monitor=False)
          out[n] = dict(connected=pv.connected, type=pv.type, ftype=ca.field_type(pv.chid), count=pv.count,
                        nelm=pv.nelm, host=pv.host, access=pv.access, value=v,
                        char_value=pv.get(as_string=True), severity=meta['severity'],
                        status=meta['status'], timestamp=meta['timestamp'],
                        ctrl=pv.get_ctrlvars())
      emit(out)
    `);
  });

  test('every record connects, with host and access rights', () => {
    for (const n of names) {
      const i = info[n];
      assert.ok(i, `${n} missing`);
      assert.equal(i.connected, true, n);
      assert.equal(i.count, 1, `${n} count`);
      assert.equal(i.nelm, 1, `${n} nelm`);
      assert.match(i.host, new RegExp(`:${ioc.port}$`), `${n} host`);
      assert.equal(i.access, 'read/write', `${n} access`);
    }
  });

  test('native types as pyepics sees them (dbr codes: 0 string, 1 short, 3 enum, 5 long, 6 double)', () => {
    const expected: Record<string, number> = {
      'IO:ai': 6,
      'IO:ao': 6,
      'IO:bi': 3,
      'IO:bo': 3,
      'IO:mbbi': 3,
      'IO:mbbo': 3,
      'IO:li': 5,
      'IO:lo': 5,
      'IO:si': 0,
      'IO:so': 0,
      'IO:calc': 6,
      'IO:slow': 6,
      'IO:fan': 5,
    };
    for (const [n, ft] of Object.entries(expected)) {
      assert.equal(info[n].ftype, ft, `${n} ftype (type ${info[n].type})`);
    }
  });

  test('ai: value, units, precision, all limits, time stamp from PINI', () => {
    const i = info['IO:ai'];
    assert.equal(i.value, 21.5);
    assert.equal(i.char_value, '21.500');
    assert.equal(i.severity, 0);
    assert.equal(i.status, 0);
    const now = Date.now() / 1000;
    assert.ok(Math.abs(now - i.timestamp) < 120, `timestamp ${i.timestamp} is not recent (now ${now})`);
    const c = i.ctrl;
    assert.equal(c.units, 'degC');
    assert.equal(c.precision, 3);
    assertClose(c.upper_disp_limit, 100, 0, 'upper_disp_limit');
    assertClose(c.lower_disp_limit, -20, 0, 'lower_disp_limit');
    assertClose(c.upper_ctrl_limit, 100, 0, 'upper_ctrl_limit');
    assertClose(c.lower_ctrl_limit, -20, 0, 'lower_ctrl_limit');
    assertClose(c.upper_alarm_limit, 90, 0, 'upper_alarm_limit');
    assertClose(c.upper_warning_limit, 80, 0, 'upper_warning_limit');
    assertClose(c.lower_warning_limit, 0, 0, 'lower_warning_limit');
    assertClose(c.lower_alarm_limit, -10, 0, 'lower_alarm_limit');
  });

  test('ao: control limits are DRVH/DRVL, display HOPR/LOPR, alarm limits NaN without severities', () => {
    const c = info['IO:ao'].ctrl;
    assert.equal(info['IO:ao'].value, 3.25);
    assert.equal(c.units, 'mm');
    assert.equal(c.precision, 2);
    assertClose(c.upper_ctrl_limit, 10, 0, 'upper_ctrl_limit');
    assertClose(c.lower_ctrl_limit, -5, 0, 'lower_ctrl_limit');
    assertClose(c.upper_disp_limit, 12, 0, 'upper_disp_limit');
    assertClose(c.lower_disp_limit, -6, 0, 'lower_disp_limit');
    for (const k of [
      'upper_alarm_limit',
      'upper_warning_limit',
      'lower_warning_limit',
      'lower_alarm_limit',
    ]) {
      assertClose(c[k], NaN, 0, k);
    }
  });

  test('bi / bo / mbbi / mbbo: enum strings and labels', () => {
    assert.deepEqual(info['IO:bi'].ctrl.enum_strs, ['Closed', 'Open']);
    assert.equal(info['IO:bi'].value, 1);
    assert.equal(info['IO:bi'].char_value, 'Open');
    assert.deepEqual(info['IO:bo'].ctrl.enum_strs, ['Off', 'On']);
    assert.equal(info['IO:bo'].char_value, 'Off');
    assert.deepEqual(info['IO:mbbi'].ctrl.enum_strs, ['Idle', 'Acquire', 'Readout', 'Correct']);
    assert.equal(info['IO:mbbi'].value, 2);
    assert.equal(info['IO:mbbi'].char_value, 'Readout');
    assert.deepEqual(info['IO:mbbo'].ctrl.enum_strs, ['Stop', 'Slow', 'Fast']);
    assert.equal(info['IO:mbbo'].value, 0);
  });

  test('longin / longout: integer limits and units', () => {
    const li = info['IO:li'];
    assert.equal(li.value, 123456);
    assert.equal(li.ctrl.units, 'counts');
    assert.equal(li.ctrl.upper_disp_limit, 1000000);
    assert.equal(li.ctrl.lower_disp_limit, 0);
    const lo = info['IO:lo'];
    assert.equal(lo.value, -7);
    assert.equal(lo.ctrl.upper_ctrl_limit, 1000);
    assert.equal(lo.ctrl.lower_ctrl_limit, -1000);
    assert.equal(lo.ctrl.upper_disp_limit, 2000);
    assert.equal(lo.ctrl.lower_disp_limit, -2000);
    // integer types report 0 (not NaN) for alarm limits that are not set
    assert.equal(lo.ctrl.upper_alarm_limit, 0);
  });

  test('stringin / stringout values', () => {
    assert.equal(info['IO:si'].value, 'hello world');
    assert.equal(info['IO:so'].value, 'initial');
  });

  test('calc / calcout / fanout never processed: UDF INVALID', () => {
    for (const n of ['IO:calc', 'IO:slow', 'IO:fan']) {
      assert.equal(info[n].severity, 3, `${n} severity`);
      assert.equal(info[n].status, 17, `${n} status (UDF)`);
    }
    assert.equal(info['IO:calc'].ctrl.units, 'arb');
    assert.equal(info['IO:calc'].ctrl.precision, 2);
  });

  test('writes read back through pyepics: clamps, FLNK, enum by label and index, strings, calc', async () => {
    const r = await ioc.py<Record<string, unknown>>(`
      out = {}
      def put_get(name, value, key=None, as_string=False, **kw):
          rc = epics.caput(name, value, wait=True, timeout=10)
          out[key or name] = dict(rc=rc, value=epics.caget(name, as_string=as_string, use_monitor=False, **kw))
      put_get('IO:ao', 7.125)
      out['IO:calcao'] = epics.caget('IO:calcao', use_monitor=False)
      put_get('IO:ao', 50, key='ao_clamped')
      out['IO:calcao_clamped'] = epics.caget('IO:calcao', use_monitor=False)
      put_get('IO:lo', 5000, key='lo_clamped')
      put_get('IO:lo', -42)
      put_get('IO:li', 42)
      put_get('IO:so', 'tsepics ok')
      put_get('IO:si', 'written in')
      put_get('IO:bo', 'On', key='bo_label', as_string=True)
      out['bo_index'] = epics.caget('IO:bo')
      put_get('IO:mbbo', 'Fast', key='mbbo_label')
      put_get('IO:mbbo', 1, key='mbbo_index', as_string=True)
      put_get('IO:bi', 0, key='bi_index', as_string=True)
      put_get('IO:mbbi', 'Correct', key='mbbi_label')
      pv = epics.PV('IO:mbbo')
      pv.wait_for_connection(5)
      pv.put('Stop', wait=True)
      out['pv_label'] = pv.get(as_string=True, use_monitor=False)
      epics.caput('IO:calc.A', 3, wait=True)
      epics.caput('IO:calc.B', 1, wait=True)
      m = epics.PV('IO:calc').get_with_metadata(use_monitor=False)
      out['calc'] = dict(value=m['value'], severity=m['severity'], status=m['status'])
      emit(out)
    `);
    assert.deepEqual(r['IO:ao'], { rc: 1, value: 7.125 });
    assert.equal(r['IO:calcao'], 71.25, 'calc follows ao through FLNK');
    assert.deepEqual(r['ao_clamped'], { rc: 1, value: 10 }, 'DRVH clamps');
    assert.equal(r['IO:calcao_clamped'], 100);
    assert.deepEqual(r['lo_clamped'], { rc: 1, value: 1000 }, 'longout DRVH clamps');
    assert.deepEqual(r['IO:lo'], { rc: 1, value: -42 });
    assert.deepEqual(r['IO:li'], { rc: 1, value: 42 });
    assert.deepEqual(r['IO:so'], { rc: 1, value: 'tsepics ok' });
    assert.deepEqual(r['IO:si'], { rc: 1, value: 'written in' });
    assert.deepEqual(r['bo_label'], { rc: 1, value: 'On' });
    assert.equal(r['bo_index'], 1);
    assert.deepEqual(r['mbbo_label'], { rc: 1, value: 2 });
    assert.deepEqual(r['mbbo_index'], { rc: 1, value: 'Slow' });
    assert.deepEqual(r['bi_index'], { rc: 1, value: 'Closed' });
    assert.deepEqual(r['mbbi_label'], { rc: 1, value: 3 });
    assert.equal(r['pv_label'], 'Stop');
    assert.deepEqual(r['calc'], { value: 7, severity: 0, status: 0 });
  });

  test('fields as channels: DESC, RTYP, NAME, EGU, PREC, link fields, .PROC', async () => {
    const r = await ioc.py<Record<string, unknown>>(`
      out = {}
      for n in ['IO:ai.DESC', 'IO:ai.RTYP', 'IO:ai.NAME', 'IO:ai.EGU', 'IO:ai.PREC', 'IO:ai.HIHI',
                'IO:calcao.INPA', 'IO:ao.FLNK', 'IO:mbbi.TWST', 'IO:ai.HHSV', 'IO:ai.SCAN']:
          out[n] = epics.caget(n, use_monitor=False)
      out['IO:ai.HHSV as string'] = epics.caget('IO:ai.HHSV', as_string=True, use_monitor=False)
      before_ = epics.caget('IO:fc1', use_monitor=False)
      epics.caput('IO:fc1.PROC', 1, wait=True)
      out['proc'] = epics.caget('IO:fc1', use_monitor=False) - before_
      epics.caput('IO:ao.EGU', 'um', wait=True)
      out['egu_written'] = epics.PV('IO:ao', form='ctrl').get_ctrlvars()['units']
      epics.caput('IO:ao.EGU', 'mm', wait=True)
      out['name_put'] = None
      try:
          out['name_put'] = epics.caput('IO:ai.NAME', 'foo', wait=True, timeout=3)
      except Exception as e:
          out['name_put'] = 'raised %s' % type(e).__name__
      out['name_after'] = epics.caget('IO:ai.NAME', use_monitor=False)
      emit(out)
    `);
    assert.equal(r['IO:ai.DESC'], 'analog in');
    assert.equal(r['IO:ai.RTYP'], 'ai');
    assert.equal(r['IO:ai.NAME'], 'IO:ai');
    assert.equal(r['IO:ai.EGU'], 'degC');
    assert.equal(r['IO:ai.PREC'], 3);
    assert.equal(r['IO:ai.HIHI'], 90);
    assert.equal(r['IO:calcao.INPA'], 'IO:ao NPP NMS');
    assert.equal(r['IO:mbbi.TWST'], 'Readout');
    assert.match(String(r['IO:ao.FLNK']), /^IO:calcao( |$)/);
    assert.equal(r['IO:ai.HHSV'], 2, 'menu field as enum index');
    assert.equal(r['IO:ai.HHSV as string'], 'MAJOR');
    assert.equal(r['IO:ai.SCAN'], 0);
    assert.equal(r['proc'], 1, 'writing .PROC processes the record');
    assert.equal(r['egu_written'], 'um');
    assert.notEqual(r['name_put'], 1, 'NAME is read-only');
    assert.equal(r['name_after'], 'IO:ai');
  });
});
