// Side by side: our client and pyepics (Debian's 3.4.1 over Debian's libca) read the same PVs of one
// `tsepics ioc` (test/interop/fixtures/side-by-side.db) in every form each offers, and must agree:
// values, number vs array, numpy dtype <-> typed array kind, count, ctrl info (units, precision, all
// 8 limits incl. NaN), enum strings, char_value <-> charValue, status / severity, PV.info text.
//
// Deliberate differences, asserted as a mapping (see toJson / sameValue):
//   - numpy arrays <-> typed arrays of the same element kind (float64 <-> Float64Array ...);
//   - pyepics' None for a failed read <-> a rejected promise with a typed CaError (or undefined in
//     cagetMany, which mirrors caget_many's None per failed name);
//   - snake_case keys <-> camelCase keys (SNAKE below, key for key).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { writeFileSync } from 'node:fs';
import { Context } from '../../src/client/context.js';
import { PV } from '../../src/client/pv.js';
import { caget, cagetMany, cainfo, caput } from '../../src/client/procedural.js';
import * as ca from '../../src/client/ca.js';
import { startIoc, type IocProcess } from '../helpers/ioc-process.js';
import { killAllPython, peersSkipReason, runPyepicsJson } from '../helpers/peers.js';
import {
  NAMES,
  SBS_DB,
  WAVEFORMS,
  attempt,
  diff,
  toJson,
  toSnake,
  type PyReads,
  type Row,
} from './side-by-side-common.js';

const skip = peersSkipReason();

describe('side by side with pyepics: reads of every record type and form', { skip }, () => {
  let ioc: IocProcess;
  let ctx: Context;
  let py: PyReads;
  const ours: {
    pv: Record<string, Row>;
    ca: Record<string, Row>;
    caget_many: unknown;
    caget_many_str: unknown;
  } = { pv: {}, ca: {}, caget_many: [], caget_many_str: [] };

  before(async () => {
    ioc = await startIoc({ db: SBS_DB, timeout: 30 });
    ctx = new Context({ env: ioc.clientEnv, repeater: false });
    for (const [n, v] of WAVEFORMS) await caput(n, v, { wait: true, timeout: 10, context: ctx });
    py = await runPyepicsJson<PyReads>(
      `import runpy, sys; sys.argv = ['sbs_reads.py'] + ${JSON.stringify(NAMES)}; runpy.run_module('sbs_reads', run_name='__main__')`,
      ioc.clientEnv,
      { timeout: 60 },
    );
    for (const n of NAMES) {
      const pv = new PV(n, { context: ctx });
      assert.ok(await pv.waitForConnection(5), `${n} did not connect`);
      await pv.get({ useMonitor: false });
      await pv.getCtrlVars();
      const r: Row = {};
      r.caget = await attempt(() => caget(n, { useMonitor: false, context: ctx }));
      r.caget_str = await attempt(() => caget(n, { asString: true, useMonitor: false, context: ctx }));
      r.get = await attempt(() => pv.get({ useMonitor: false }));
      r.get_str = await attempt(() => pv.get({ asString: true, useMonitor: false }));
      r.get_mon = await attempt(() => pv.get());
      r.char_value = toJson(pv.charValue);
      r.ctrl = toSnake(await pv.getCtrlVars());
      r.time = toSnake(await pv.getTimeVars());
      const meta = await pv.getWithMetadata({ form: 'time', useMonitor: false });
      r.severity = toJson(meta.severity);
      r.status = toJson(meta.status);
      r.count = pv.count;
      r.nelm = pv.nelm;
      r.type = pv.type;
      r.ftype = pv.ftype;
      r.field_type = ca.fieldType(pv.channel);
      r.enum_strs = toJson(pv.enumStrs);
      r.units = toJson(pv.units);
      r.precision = toJson(pv.precision);
      r.info = pv.info.split('\n');
      r.cainfo = (await cainfo(n, { printOut: false, context: ctx })).split('\n');
      ours.pv[n] = r;
      pv.disconnect();

      const chid = ca.createChannel(n, { context: ctx });
      assert.ok(await ca.connectChannel(chid, 5), `${n}: ca.connectChannel`);
      const byft: Row = {};
      for (let ft = 0; ft < 7; ft++) byft[String(ft)] = await attempt(() => ca.get(chid, { ftype: ft }));
      byft.native = await attempt(() => ca.get(chid));
      byft.native_str = await attempt(() => ca.get(chid, { asString: true }));
      ours.ca[n] = byft;
      ca.clearChannel(chid);
    }
    ours.caget_many = toJson(await cagetMany(NAMES, { context: ctx }));
    ours.caget_many_str = toJson(await cagetMany(NAMES, { asString: true, context: ctx }));
    // SBS_DUMP=file: both sides as JSON, for debugging a difference
    if (process.env.SBS_DUMP) writeFileSync(process.env.SBS_DUMP, JSON.stringify({ py, ours }));
  });

  after(async () => {
    killAllPython();
    await ctx?.close();
    await ioc?.stop();
  });

  test('every PV connects on both sides with the same native type, count and nelm', () => {
    for (const n of NAMES) {
      const p = py.pv[n];
      const o = ours.pv[n];
      assert.ok(p && o, `${n}: missing (pyepics ${!!p}, ours ${!!o})`);
      for (const k of ['field_type', 'ftype', 'type', 'count', 'nelm']) assert.equal(o[k], p[k], `${n}.${k}`);
    }
  });

  test('values, string forms, ctrl and time metadata, severity and status agree for every PV', () => {
    const diffs: string[] = [];
    for (const n of NAMES) {
      const p = py.pv[n];
      const o = ours.pv[n];
      for (const k of Object.keys(p)) {
        if (k === 'info' || k === 'cainfo') continue;
        diff(pyNorm(p[k]), o[k], `${n}.${k}`, diffs);
      }
      assert.ok(!('info' in p) || 'info' in o, n);
    }
    assert.deepEqual(diffs, []);
  });

  test('typed array kinds map to numpy dtypes (explicit table)', () => {
    const expected: Record<string, string> = {
      'SBS:wf:d': 'float64',
      'SBS:wf:f': 'float32',
      'SBS:wf:l': 'int32',
      'SBS:wf:ul': 'float64', // ULONG is served as DBR_DOUBLE
      'SBS:wf:s': 'int16',
      'SBS:wf:us': 'int32', // USHORT is served as DBR_LONG
      'SBS:wf:uc': 'uint8',
      'SBS:wf:c': 'uint8',
      'SBS:sub': 'float64',
    };
    for (const [n, dtype] of Object.entries(expected)) {
      assert.equal((py.pv[n].get as { dtype: string }).dtype, dtype, `${n} pyepics dtype`);
      assert.equal((ours.pv[n].get as { dtype: string }).dtype, dtype, `${n} our typed array`);
    }
    // DBR_STRING arrays: numpy unicode array <-> string[]
    assert.match((py.pv['SBS:wf:str'].get as { dtype: string }).dtype, /^<U/);
    assert.deepEqual(ours.pv['SBS:wf:str'].get, ['one', 'two', 'three']);
  });

  test('scalars are numbers / strings on both sides, never one-element arrays', () => {
    for (const n of NAMES.filter((x) => !x.includes(':wf:') && x !== 'SBS:sub')) {
      assert.ok(
        ['number', 'string'].includes(typeof py.pv[n].get),
        `${n} pyepics ${JSON.stringify(py.pv[n].get)}`,
      );
      assert.equal(typeof ours.pv[n].get, typeof py.pv[n].get, n);
    }
  });

  test('the record values are the ones the .db and the writes set (not just equal to each other)', () => {
    const v = (n: string): unknown => ours.pv[n].get;
    assert.equal(v('SBS:ai'), 21.5);
    assert.equal(ours.pv['SBS:ai'].char_value, '21.500');
    assert.equal(ours.pv['SBS:ao:big'].char_value, '1.235e+05');
    assert.equal(ours.pv['SBS:mbbi'].char_value, 'Readout');
    assert.deepEqual(ours.pv['SBS:mbbi'].enum_strs, ['Idle', 'Acquire', 'Readout', 'Correct']);
    assert.equal(ours.pv['SBS:bi'].severity, 1, 'bi OSV MINOR');
    assert.equal(ours.pv['SBS:bi'].status, 7, 'bi STATE');
    assert.equal(ours.pv['SBS:wf:c'].char_value, 'hello tsepics');
    assert.deepEqual((v('SBS:sub') as { values: unknown[] }).values, [3.125, 4, 5.5]);
    assert.equal((ours.pv['SBS:ao'].ctrl as Row).upper_ctrl_limit, 10);
    assert.equal((ours.pv['SBS:ao'].ctrl as Row).upper_alarm_limit, 'NaN');
    assert.equal(ours.pv['SBS:cnt'].severity, 3, 'never processed calc: UDF INVALID');
  });

  test('ca.get with every ftype agrees (failed conversions: pyepics exception <-> GetError, same ECA)', () => {
    const diffs: string[] = [];
    for (const n of NAMES) {
      for (const ft of ['0', '1', '2', '3', '4', '5', '6', 'native']) {
        diff(pyNorm(py.ca[n][ft]), ours.ca[n][ft], `${n} ca.get(ftype=${ft})`, diffs, 0);
      }
    }
    assert.deepEqual(diffs, []);
  });

  test('ca.get(asString) agrees, except where pyepics 3.4.1 skips its own conversion', () => {
    // pyepics 3.4.1's ca.get passes count=0 to _as_string, so its enum-label and '<array ...>'
    // branches never run: enums come back as str(int), arrays as str(ndarray). Ours returns the
    // label (what _as_string means to do, and what caget_many, which passes the element count,
    // does) and, for arrays, the text of each element.
    const diffs: string[] = [];
    for (const n of NAMES) {
      const p = py.ca[n].native_str;
      const o = ours.ca[n].native_str;
      const native = py.pv[n].field_type;
      if (native === 3) {
        const strs = py.pv[n].enum_strs as string[];
        assert.equal(o, strs[Number(p)], `${n}: label of ${String(p)}`);
      } else if (Array.isArray(o)) {
        const nat = ours.ca[n].native;
        const vals = Array.isArray(nat) ? nat : (nat as { values: unknown[] }).values;
        assert.deepEqual(o, vals.map(String), n);
        assert.equal(typeof p, 'string', n);
      } else {
        diff(pyNorm(p), o, `${n} ca.get(as_string=True)`, diffs);
      }
    }
    assert.deepEqual(diffs, []);
  });

  test('cagetMany / caget_many agree, with and without asString', () => {
    const diffs: string[] = [];
    diff(pyNorm(py.caget_many), ours.caget_many, 'caget_many', diffs);
    diff(pyNorm(py.caget_many_str), ours.caget_many_str, 'caget_many(as_string)', diffs);
    assert.deepEqual(diffs, []);
  });

  test('PV.info and cainfo(): line by line, after mapping pyepics 3.4.1 layout to ours', () => {
    // Ours follows newer pyepics' layout (keys padded to 15/20, char_status / char_severity lines,
    // ', ....' array tail, no ':' after the callback count). Timestamp lines are skipped; libca
    // names the host by reverse lookup ('localhost'), we print the address.
    const diffs: string[] = [];
    for (const n of NAMES) {
      for (const form of ['info', 'cainfo']) {
        const p = infoPairs(py.pv[n][form] as string[]).map(([k, v]) => [
          k,
          k === 'host' ? v.replace(/^localhost:/, '127.0.0.1:') : v,
        ]);
        const o = infoPairs(ours.pv[n][form] as string[]).filter(
          ([k]) => k !== 'char_status' && k !== 'char_severity',
        );
        diff(p, o, `${n}.${form}`, diffs);
        const st = infoPairs(ours.pv[n][form] as string[]);
        const status = st.find(([k]) => k === 'status')?.[1];
        const cs = st.find(([k]) => k === 'char_status')?.[1];
        if (status !== undefined) assert.ok(cs, `${n}: char_status line`);
      }
    }
    assert.deepEqual(diffs, []);
  });
});

/** pyepics JSON mapped onto ours where the difference is by design. */
function pyNorm(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(pyNorm);
  if (v && typeof v === 'object') {
    const o = v as Row;
    // numpy unicode array (DBR_STRING waveform) <-> string[]
    if (typeof o.dtype === 'string' && o.dtype.startsWith('<U') && Array.isArray(o.values)) return o.values;
    // pyepics raises ChannelAccessGetFailure with the ECA code; we reject with GetError carrying it
    if (typeof o.error === 'string') {
      const m = /ChannelAccessGetFailure: .*status code: (\d+)/.exec(o.error);
      if (m) return { error: 'GetError', eca: Number(m[1]) };
      return o;
    }
    const r: Row = {};
    for (const [k, x] of Object.entries(o)) r[k] = pyNorm(x);
    return r;
  }
  return v;
}

/** PV.info lines as [key, value] pairs, whatever the padding (timestamp lines skipped). */
function infoPairs(lines: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (const raw of lines) {
    const l = raw.trimEnd().replace(/ user-defined callbacks:$/, ' user-defined callbacks');
    const m = /^ {3}(\w+)\s*= ?(.*)$/.exec(l);
    if (m) {
      if (m[1] === 'timestamp') continue;
      let val = m[2].trim();
      // array values: 3.4.1 'array  [a,b,c...]', ours ' array  [a, b, c, ....]'
      val = val.replace(/, /g, ',').replace(/,?\.\.\.\.?\]$/, '...]');
      out.push([m[1], val]);
    } else {
      out.push(['', l.trim()]);
    }
  }
  return out;
}
