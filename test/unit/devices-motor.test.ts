import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Motor, MotorError, MotorLimitError, MOTOR_ALIASES } from '../../src/devices/motor.js';
import { FakePvNetwork } from '../../src/devices/testing.js';

/** A motor record reduced to its coordinate arithmetic, moving instantly. */
function fakeMotor(name = 'sim:m1'): FakePvNetwork {
  const n = new FakePvNetwork();
  const f = (field: string): string => `${name}.${field}`;
  const get = (field: string): number => n.read(f(field)) as number;
  const sign = (): number => (get('DIR') === 0 ? 1 : -1);
  const user = (dial: number): number => sign() * dial + get('OFF');
  const setAll = (dial: number): void => {
    if (get('SET') === 1) {
      // Set mode: the motor does not move; the new user value redefines OFF
      n.set(f('OFF'), get('VAL') - sign() * get('DRBV'));
      n.set(f('RBV'), get('VAL'));
      return;
    }
    const ok = dial >= get('DLLM') && dial <= get('DHLM');
    n.set(f('LVIO'), ok ? 0 : 1);
    if (!ok) {
      n.set(f('VAL'), user(get('DRBV')));
      return;
    }
    n.set(f('DVAL'), dial);
    n.set(f('RVAL'), Math.round(dial / get('MRES')));
    n.set(f('DRBV'), dial);
    n.set(f('RRBV'), Math.round(dial / get('MRES')));
    n.set(f('VAL'), user(dial));
    n.set(f('RBV'), user(dial));
    n.set(f('DMOV'), 1);
  };
  const defs: Record<string, unknown> = {
    RTYP: 'motor',
    DESC: 'fake motor',
    VAL: 0,
    DVAL: 0,
    RVAL: 0,
    RBV: 0,
    DRBV: 0,
    RRBV: 0,
    OFF: 0,
    DIR: 0,
    MRES: 0.001,
    LLM: -10,
    HLM: 10,
    DLLM: -10,
    DHLM: 10,
    LVIO: 0,
    HLS: 0,
    LLS: 0,
    DMOV: 1,
    MOVN: 0,
    SET: 0,
    TWV: 0.5,
    STOP: 0,
    PREC: 3,
    VELO: 1,
    STAT: 0,
    FOFF: 0,
    SPMG: 3,
  };
  for (const [k, v] of Object.entries(defs)) n.define(f(k), v);
  n.define(f('VAL'), { value: 0, onPut: (v: unknown) => setAll(sign() * ((v as number) - get('OFF'))) });
  n.define(f('DVAL'), { value: 0, onPut: (v: unknown) => setAll(v as number) });
  n.define(f('RVAL'), { value: 0, onPut: (v: unknown) => setAll((v as number) * get('MRES')) });
  n.define(f('TWF'), { value: 0, onPut: () => setAll(sign() * (get('VAL') + get('TWV') - get('OFF'))) });
  n.define(f('TWR'), { value: 0, onPut: () => setAll(sign() * (get('VAL') - get('TWV') - get('OFF'))) });
  return n;
}

test('aliases: camelCase and snake_case for all of pyepics', () => {
  assert.equal(MOTOR_ALIASES.slewSpeed, 'VELO');
  assert.equal(MOTOR_ALIASES.slew_speed, 'VELO');
  assert.equal(MOTOR_ALIASES.drive, 'VAL');
  assert.equal(MOTOR_ALIASES.highLimit, 'HLM');
  assert.equal(MOTOR_ALIASES.stopCommand, 'STOP');
  assert.equal(MOTOR_ALIASES.lastSPMG, 'LSPG');
  assert.equal(new Set(Object.values(MOTOR_ALIASES)).size, 95);
});

test('create checks RTYP; name normalisation; attribute access by field and alias', async () => {
  const n = fakeMotor();
  const m = await Motor.create('sim:m1.VAL', { pvFactory: n.factory });
  assert.equal(m.name, 'sim:m1');
  assert.equal(m.drive, 0);
  assert.equal(m.slewSpeed, 1);
  assert.equal(m.slew_speed, 1);
  assert.equal(m.description, 'fake motor');
  assert.equal(String(m), "<Motor: sim:m1: 'fake motor'>");
  const bad = new FakePvNetwork().define('x:ao.RTYP', 'ao');
  await assert.rejects(Motor.create('x:ao', { pvFactory: bad.factory }), /x:ao is not an Epics Motor/);
  await assert.rejects(Motor.create('none', { pvFactory: bad.factory, timeout: 0.01 }), MotorError);
  assert.throws(() => new Motor('', { pvFactory: bad.factory }), MotorError);
});

test('move: wait, relative, soft limits, dial and raw with DIR and OFF', async () => {
  const n = fakeMotor();
  const m = await Motor.create('sim:m1', { pvFactory: n.factory });
  assert.deepEqual(await m.move(1.5, { wait: true }), { result: 'done', code: 0 });
  assert.equal(await m.getPosition({ readback: true }), 1.5);
  assert.deepEqual(await m.move(0.5, { relative: true, wait: true }), { result: 'done', code: 0 });
  assert.equal(await m.getPosition(), 2);
  assert.deepEqual(await m.move(11, { wait: true }), { result: 'softLimit', code: -12 });
  assert.equal(await m.getPosition(), 2, 'refused move does not move');
  assert.deepEqual(await m.move(Number.NaN), { result: 'invalidValue', code: -13 });
  assert.deepEqual(await m.move(11, { wait: true, ignoreLimits: true }), { result: 'softLimit', code: -4 });
  // DIR=Neg and an offset: user = -dial + OFF
  n.set('sim:m1.DIR', 1);
  n.set('sim:m1.OFF', 5);
  assert.deepEqual(await m.move(3, { wait: true }), { result: 'done', code: 0 });
  assert.equal(await m.getPosition({ dial: true }), 2);
  assert.equal(await m.getPosition({ raw: true, readback: true }), 2000);
  assert.deepEqual(await m.move(-1, { dial: true, wait: true }), { result: 'done', code: 0 });
  assert.equal(await m.getPosition(), 6);
  assert.deepEqual(await m.move(1500, { raw: true, wait: true }), { result: 'done', code: 0 });
  assert.equal(await m.getPosition({ dial: true, readback: true }), 1.5);
  assert.equal(await m.getPosition({ readback: true }), 3.5);
  assert.equal(await m.withinLimits(3.5), true);
  assert.equal(await m.withinLimits(-11, { dial: true }), false);
  assert.deepEqual(await m.move(0, {}), { result: 'started', code: 0 });
});

test('setPosition, tweak, checkLimits, stop, callbacks, info, step list', async () => {
  const n = fakeMotor();
  const m = await Motor.create('sim:m1', { pvFactory: n.factory });
  await m.move(1, { wait: true });
  await m.setPosition(4);
  assert.equal(n.read('sim:m1.SET'), 0, 'back in Use mode');
  assert.equal(n.read('sim:m1.OFF'), 3);
  assert.equal(await m.getPosition({ dial: true }), 1, 'dial position unchanged');
  assert.deepEqual(await m.tweak('forward', { wait: true }), { result: 'done', code: 0 });
  assert.equal(await m.getPosition(), 4.5);
  assert.deepEqual(await m.tweak('reverse', { wait: true }), { result: 'done', code: 0 });
  assert.equal(await m.getPosition(), 4);
  await m.checkLimits();
  n.set('sim:m1.HLS', 1);
  await assert.rejects(
    m.checkLimits(),
    (e: unknown) => e instanceof MotorLimitError && e.message === 'High hard limit violation',
  );
  assert.deepEqual(await m.tweak('forward', { wait: true }), { result: 'hardLimit', code: -1 });
  n.set('sim:m1.HLS', 0);
  n.set('sim:m1.LLS', 1);
  await assert.rejects(m.checkLimits(), /Low {2}hard limit violation/);
  n.set('sim:m1.LLS', 0);
  await m.stop();
  assert.equal(n.read('sim:m1.STOP'), 1);
  const seen: Array<[string, unknown]> = [];
  m.setCallback('drive', (a) => seen.push([a.motorField, a.value]));
  n.set('sim:m1.VAL', 2);
  assert.deepEqual(seen, [['drive', 2]]);
  m.clearCallback('drive');
  n.set('sim:m1.VAL', 3);
  assert.equal(seen.length, 1);
  const shown = await m.showInfo();
  assert.match(shown, /^<Motor: sim:m1: 'fake motor'>\n-+\nDESC {13}= fake motor\n/);
  const all = await m.showAll();
  assert.match(all, /^ slewSpeed +1 +sim:m1\.VELO$/m);
  assert.match(all, /^ acceleration +Not Connected\?\? +sim:m1\.ACCL$/m);
  const info = await m.getInfo();
  assert.equal(info.DESC, 'fake motor');
  assert.equal(info.HLM, '10');
  assert.deepEqual(
    (await m.makeStepList(0, 0.05)).map((x) => +x.toFixed(6)),
    [0.001, 0.002, 0.005, 0.01, 0.02, 0.05],
  );
});

test('100 moves with wait and readback checks', async () => {
  const n = fakeMotor();
  const m = await Motor.create('sim:m1', { pvFactory: n.factory });
  for (let i = 0; i < 100; i++) {
    const target = -5 + i * 0.1;
    const r = await m.move(target, { wait: true });
    assert.equal(r.result, 'done');
    assert.ok(Math.abs((await m.getPosition({ readback: true })) - target) < 1e-9);
  }
});

test('move return codes: no-wait confirmed, timeouts, hard limits, not connected', async () => {
  const n = fakeMotor();
  const m = await Motor.create('sim:m1', { pvFactory: n.factory });
  n.define('sim:m1.MOVN', 1);
  assert.deepEqual(await m.move(1), { result: 'started', code: 1 });
  n.set('sim:m1.MOVN', 0);
  n.set('sim:m1.HLS', 1);
  assert.deepEqual(await m.move(2), { result: 'hardLimit', code: 3 });
  assert.deepEqual(await m.move(2, { wait: true }), { result: 'hardLimit', code: -3 });
  n.set('sim:m1.HLS', 0);
  // a put-callback that times out while the motor is still moving, or already done
  n.define('sim:m1.VAL', { value: 2, onPut: () => -1 });
  n.set('sim:m1.DMOV', 0);
  assert.deepEqual(await m.move(3, { wait: true, timeout: 0.1 }), { result: 'timeout', code: -8 });
  n.set('sim:m1.DMOV', 1);
  assert.deepEqual(await m.move(3, { wait: true, timeout: 0.1 }), { result: 'timeout', code: -7 });
  n.define('sim:m1.VAL', { value: 2, onPut: () => null });
  assert.deepEqual(await m.move(3, { wait: true }), { result: 'notConnected', code: -11 });
  n.define('sim:m1.VAL', { value: 2, onPut: () => 7 });
  assert.deepEqual(await m.move(3, { wait: true }), { result: 'error', code: -5 });
});
