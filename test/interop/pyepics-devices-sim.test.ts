// pyepics' own devices (Debian's pyepics over Debian's libca) driving the simulated records of
// `tsepics ioc -d beamline.db`: a beamline database whose motor, scaler and mca records carry their
// hardware DTYPs (asynMotor, Asyn Scaler, asynMCA), plus a simulated SIS3820 (Struck), a transform
// record, ai/ao/bi/bo records and the scaler's user-calc records. The Python side is
// test/interop/py/devices_checks.py.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { struckDatabase } from '../../src/ioc/demo/struck.js';
import { startIoc, type IocProcess } from '../helpers/ioc-process.js';
import { killAllPython, peersSkipReason, runPyepicsJson } from '../helpers/peers.js';

const P = 'BL:';

/** A beamline's own database, as it would run on real hardware (hardware DTYPs, asyn links). */
export function beamlineDb(): string {
  const motor = (n: number): string => `
record(motor, "${P}m${n}") {
  field(DESC, "stage ${n}")
  field(DTYP, "asynMotor")
  field(OUT, "@asyn(motor1,${n - 1})")
  field(EGU, "mm")
  field(PREC, "4")
  field(MRES, "0.001")
  field(VELO, "5")
  field(VBAS, "0.5")
  field(VMAX, "20")
  field(ACCL, "0.1")
  field(DHLM, "50")
  field(DLLM, "-50")
  field(TWV, "0.25")
  field(RDBD, "0.002")
}`;
  const calcs = Array.from(
    { length: 8 },
    (_, i) => `
record(calc, "${P}scaler1_calc${i + 1}") {
  field(CALC, "A")
  field(INPA, "${P}scaler1.S${i + 1} CP")
  field(SDIS, "${P}scaler1_calcEnable")
  field(DISV, "0")
}`,
  ).join('');
  return `# beamline database (hardware DTYPs; tsepics simulates them)
${motor(1)}
${motor(2)}
record(scaler, "${P}scaler1") {
  field(DESC, "counter")
  field(DTYP, "Asyn Scaler")
  field(OUT, "@asyn(scaler1)")
  field(FREQ, "10000000")
  field(TP, "1")
  field(NM1, "clock")
  field(NM2, "I0")
  field(NM3, "I1")
  field(NM4, "It")
}
record(bo, "${P}scaler1_calcEnable") {
  field(ZNAM, "DISABLE")
  field(ONAM, "ENABLE")
}
${calcs}
record(mca, "${P}mca1") {
  field(DTYP, "asynMCA")
  field(INP, "@asyn(xmap1,0)")
  field(NMAX, "2048")
  field(NUSE, "2048")
  field(CALO, "0")
  field(CALS, "0.01")
  field(EGU, "keV")
}
record(transform, "${P}tran1") {
  field(PREC, "4")
}
record(ao, "${P}ao1") {
  field(EGU, "V")
  field(PREC, "3")
  field(FLNK, "${P}ai1")
}
record(ai, "${P}ai1") {
  field(INP, "${P}ao1")
  field(PREC, "3")
}
record(bo, "${P}bo1") {
  field(ZNAM, "Off")
  field(ONAM, "On")
  field(FLNK, "${P}bi1")
}
record(bi, "${P}bi1") {
  field(INP, "${P}bo1")
  field(ZNAM, "Off")
  field(ONAM, "On")
}
${struckDatabase(`${P}SIS1:`, { nchan: 4, nuse: 512 })}
`;
}

type Json = Record<string, unknown>;
const close = (a: unknown, b: number, tol: number, what: string): void =>
  assert.ok(Math.abs(Number(a) - b) <= tol, `${what}: expected ${b} ± ${tol}, got ${String(a)}`);

const skip = peersSkipReason();

describe('pyepics devices drive the simulated records of tsepics ioc', { skip }, () => {
  let ioc: IocProcess;
  let dir: string;
  const py = (call: string, timeout = 60): Promise<Json> =>
    runPyepicsJson<Json>(
      `from common import emit\nfrom devices_checks import *\nemit(${call})`,
      ioc.clientEnv,
      {
        timeout,
      },
    );

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsepics-pydev-'));
    const db = join(dir, 'beamline.db');
    writeFileSync(db, beamlineDb());
    ioc = await startIoc({ db, timeout: 30 });
  });
  after(async () => {
    killAllPython();
    await ioc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('epics.Motor: move with wait, RDBD, soft limits, user/dial/raw with DIR and OFF, tweak', async () => {
    const r = await py(`check_motor("${P}m1")`, 120);
    assert.equal(r.move, 0, 'move-with-wait finished OK');
    close(r.rbv, 1.5, Number(r.rdbd), 'readback within RDBD');
    assert.ok(Number(r.move_seconds) > 0.05, 'the move took time');
    assert.equal(r.dmov, 1);
    assert.equal(r.softlimit, -12, 'target outside soft limits refused');
    assert.deepEqual(r.within, [true, false, false]);
    close(r.val_after_refusal, 1.5, 1e-9, 'VAL unchanged by the refused move');
    assert.equal(r.move_neg, 0);
    const [user, dial, raw] = r.user_dial_raw as number[];
    close(user, 2.0, 0.002, 'user');
    close(dial, 1.0, 0.002, 'dial = OFF - user with DIR=Neg');
    close(raw, 1000, 2, 'raw = dial / MRES');
    assert.equal(r.dial_move, 0);
    close(r.user_after_dial_move, 2.5, 0.002, 'dial 0.5 is user 2.5');
    assert.equal(r.tweak_fwd, 0);
    close(r.after_tweak_fwd, 2.75, 0.002, 'tweak forward by TWV');
    assert.equal(r.tweak_rev, 0);
    close(r.after_tweak_rev, 2.5, 0.002, 'tweak reverse by TWV');
    const [setUser, setDial, dialBefore] = r.after_set_position as number[];
    close(setUser, 10, 1e-6, 'set_position changes the user position');
    close(setDial, dialBefore!, 0.002, 'set_position does not move');
    close(r.off_after_set, 10 + dialBefore!, 0.002, 'OFF = user + dial (DIR=Neg)');
    const dmovs = r.dmovs as number[];
    assert.ok(dmovs.includes(0) && dmovs.at(-1) === 1, `DMOV went 0 -> 1: ${JSON.stringify(dmovs)}`);
    close(r.final, 11, 0.002, 'move without wait arrived');
  });

  test('epics.devices.Scaler: count for a preset time, names, channels, user calcs', async () => {
    const r = await py(`check_scaler("${P}scaler1", 0.5)`);
    assert.ok(
      Number(r.count_seconds) >= 0.45,
      `Count(wait=True) returned after TP: ${String(r.count_seconds)}`,
    );
    assert.ok(Number(r.count_seconds) < 5);
    close(r.T, 0.5, 0.02, 'elapsed time T');
    assert.equal(r.CNT, 0, 'Done');
    assert.deepEqual((r.names as string[]).slice(0, 4), ['clock', 'I0', 'I1', 'It']);
    const read = r.read as number[];
    close(read[0], 0.5 * 1e7, 0.02 * 1e7, 'clock channel S1 = T * FREQ');
    assert.ok(read[1]! > 0, 'I0 counted');
    close(r.calc2, 2 * read[1]!, 1e-6 * read[1]!, 'user calc 2 = A*2 of S2');
    close((r.read_calc as number[])[1], 2 * read[1]!, 1e-6 * read[1]!, 'Read(use_calc=True)');
  });

  test('epics.devices.Mca: acquisition for a real-time preset and ROIs', async () => {
    const r = await py(`check_mca("${P}mca1", 0.5)`);
    assert.ok(
      Number(r.acquire_seconds) >= 0.45,
      `ERST with wait returned after PRTM: ${String(r.acquire_seconds)}`,
    );
    assert.equal(r.ACQG, 0);
    close(r.ERTM, 0.5, 0.02, 'ERTM');
    assert.equal(r.nord, 1024);
    assert.ok(Number(r.len) >= 1024);
    assert.ok(Number(r.total) > 0);
    assert.deepEqual(r.calib, [0, 0.01, 0]);
    assert.deepEqual(r.rois, [
      ['peak', 100, 300],
      ['tail', 400, 700],
    ]);
    assert.deepEqual(r.roi_sums, r.roi_data_sums, 'Rn = sum of the spectrum over LO..HI');
    for (const [i, n] of (r.roi_nets as number[]).entries())
      assert.ok(n <= (r.roi_sums as number[])[i]!, 'net <= total');
    assert.equal(r.energy_len, 1024);
  });

  test('epics.devices.Struck: start, preset stop, per-channel data, stop, external mode', async () => {
    const r = await py(`check_struck("${P}SIS1:", 4)`);
    assert.equal(r.model, 'SIS3820');
    assert.equal(r.saw_acquiring, true);
    assert.equal(r.done, true);
    assert.ok(Number(r.seconds) >= 0.35);
    close(r.elapsed, 0.4, 0.05, 'ElapsedReal');
    assert.deepEqual(r.nread, [200, 200, 200, 200]);
    assert.deepEqual(r.lens, [200, 200, 200, 200]);
    for (const s of r.sums as number[]) assert.ok(s > 0, 'every channel counted');
    assert.equal(r.running, 1, 'StartAll without preset keeps counting');
    assert.equal(r.stopped, true, 'StopAll stops');
    assert.deepEqual(r.external, [1, 1, 2]);
  });

  test('epics.devices.Transform: rows, expressions, COPT', async () => {
    const r = await py(`check_transform("${P}tran1")`);
    const b = r.row_b as Json;
    assert.equal(b.Expression, 'A*2');
    close(b.Value, 3, 1e-12, 'B = A*2');
    assert.equal(b.Expression_Valid, 0);
    close((r.row_c as Json).Value, 3.5, 1e-12, 'C = B+P');
    assert.equal(r.cdv, 1, 'bad expression flagged in CDV');
    assert.equal(r.bad_row, null);
    const e = r.row_e as Json;
    assert.equal(e.Comment, 'offset');
    close(e.Value, 101.5, 1e-12, 'set_row expression evaluated');
    close(r.b_always, 3, 1e-12, 'COPT Always recomputes the written row');
  });

  test('epics.Device, ai/ao devices, save/restore, Alarm', async () => {
    const r = await py(`check_device_alarm("${P}")`);
    close(r.ao1, 3.5, 1e-12, 'ao1');
    close(r.ai1, 3.5, 1e-12, 'ai1 follows ao1');
    assert.equal(r.bi1, 'On');
    close(r.restored, 3.5, 1e-12, 'restore_state');
    close(r.ai_dev, 2.25, 1e-12, 'epics.devices.ai reads what epics.devices.ao wrote');
    assert.equal(r.ao_egu, 'V');
    assert.equal(r.fired_low, 0, 'no alarm below the trip point');
    const fired = r.fired as [string, number][];
    assert.ok(fired.length >= 1, 'alarm fired');
    assert.equal(fired[0]![0], `${P}ao1`);
    close(fired[0]![1], 6, 1e-12, 'alarm value');
  });
});
