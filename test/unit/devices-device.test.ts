import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Device, DeviceError } from '../../src/devices/device.js';
import { FakePvNetwork } from '../../src/devices/testing.js';

function net(): FakePvNetwork {
  return new FakePvNetwork()
    .define('D:ao1.VAL', 1.5)
    .define('D:ao1.EGU', 'mm')
    .define('D:ao1.PREC', 3)
    .define('D:ao1.DESC', 'analog out')
    .define('D:ao1.RTYP', { value: 'ao', writable: false })
    .define('D:ao1.WAVE', Float64Array.of(1, 2))
    .define('D:ao1.CWF', { value: Uint8Array.from([65, 66, 0]), type: 'time_char', nelm: 3 })
    .define('D:ao1.SCAN', { value: 0, enumStrs: ['Passive', 'Event'] });
}

test('attributes: names, aliases, sync access through the proxy, async get/put', async () => {
  const n = net();
  const dev = await Device.create('D:ao1', {
    attrs: ['VAL', 'EGU', 'PREC', 'DESC'],
    aliases: { drive: 'VAL', units: 'EGU' },
    pvFactory: n.factory,
  });
  assert.equal(dev.pvName('drive'), 'D:ao1.VAL');
  assert.deepEqual(dev.attrs(), ['VAL', 'EGU', 'PREC', 'DESC']);
  assert.equal(dev.VAL, 1.5);
  assert.equal(dev.drive, 1.5);
  assert.equal(dev.units, 'mm');
  assert.equal(dev.cachedNumber('PREC'), 3);
  assert.equal(dev.cachedString('EGU'), 'mm');
  assert.ok('VAL' in dev && 'drive' in dev && !('NOPE' in dev));
  dev.drive = 2.25;
  await Promise.resolve();
  assert.equal(n.read('D:ao1.VAL'), 2.25);
  assert.equal(await dev.put('units', 'um', { wait: true }), 1);
  assert.equal(n.read('D:ao1.EGU'), 'um');
  assert.equal(await dev.get('EGU'), 'um');
  assert.equal(await dev.get('SCAN', { asString: true }), 'Passive');
  assert.equal(String(dev), "<Device 'D:ao1', 5 attributes>");
});

test('mutable devices create PVs for capitalised names; missing PVs are typed errors naming the PV', async () => {
  const n = net();
  const dev = new Device('D:ao1', { attrs: ['VAL'], pvFactory: n.factory });
  await dev.connect();
  assert.equal(dev.RTYP, 'ao', 'created on first use (fake connects at once)');
  assert.ok(dev.attrs().includes('RTYP'));
  assert.equal(dev.lowercaseThing, undefined, 'lower-case unknown names are plain JS properties');
  assert.throws(
    () => dev.NOSUCH,
    (e: unknown) => e instanceof DeviceError && e.pvname === 'D:ao1.NOSUCH',
  );
  await assert.rejects(
    dev.get('NOSUCH2', { timeout: 0.01 }),
    (e: unknown) => e instanceof DeviceError && /D:ao1\.NOSUCH2 is not connected/.test(e.message),
  );
  await assert.rejects(dev.put('NOSUCH3', 1), DeviceError);
  assert.throws(() => {
    dev.NOSUCH4 = 1;
  }, DeviceError);
  const fixed = new Device('D:ao1', { attrs: ['VAL'], mutable: false, pvFactory: n.factory });
  assert.equal(fixed.EGU, undefined, 'immutable: unknown names do not make PVs');
  assert.throws(() => {
    fixed.EGU = 'x';
  }, /has no attribute 'EGU'/);
  assert.equal(await Device.prototype.connect.call(fixed), true);
  const partial = new Device('D:ao1', { attrs: ['VAL', 'GONE'], pvFactory: n.factory });
  assert.equal(await partial.connect(0.01), false);
  assert.deepEqual(partial.unconnected(), ['D:ao1.GONE']);
});

test('subclass with methods and fields works through the proxy', async () => {
  const n = net();
  class Stage extends Device {
    moves = 0;
    constructor(prefix: string) {
      super(prefix, { attrs: ['VAL', 'EGU'], pvFactory: n.factory });
    }
    async moveTo(v: number): Promise<void> {
      this.moves++;
      await this.put('VAL', v, { wait: true });
    }
    get position(): number {
      return this.cachedNumber('VAL');
    }
  }
  const s = await Stage.create('D:ao1');
  assert.ok(s instanceof Stage && s instanceof Device);
  await s.moveTo(4);
  assert.equal(s.moves, 1);
  assert.equal(s.position, 4);
  s.moves = 10;
  assert.equal(s.moves, 10);
  assert.equal(n.read('D:ao1.VAL'), 4);
});

test('callbacks: add and remove per attribute', async () => {
  const n = net();
  const dev = await Device.create('D:ao1', {
    attrs: ['VAL'],
    aliases: { drive: 'VAL' },
    pvFactory: n.factory,
  });
  const seen: unknown[] = [];
  const i1 = dev.addCallback('drive', (a) => seen.push(['a', a.value]));
  dev.addCallback('VAL', (a) => seen.push(['b', a.value]));
  n.set('D:ao1.VAL', 7);
  assert.deepEqual(seen, [
    ['a', 7],
    ['b', 7],
  ]);
  dev.removeCallbacks('VAL', i1);
  n.set('D:ao1.VAL', 8);
  assert.deepEqual(seen.at(-1), ['b', 8]);
  assert.equal(seen.length, 3);
  dev.removeCallbacks('VAL');
  n.set('D:ao1.VAL', 9);
  assert.equal(seen.length, 3);
});

test('saveState / restoreState / writeState / readState round trip', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsepics-dev-'));
  try {
    const n = net();
    const dev = await Device.create('D:ao1', {
      attrs: ['VAL', 'EGU', 'PREC', 'DESC', 'RTYP', 'WAVE', 'CWF'],
      pvFactory: n.factory,
    });
    const state = await dev.saveState();
    assert.deepEqual(state, {
      VAL: 1.5,
      EGU: 'mm',
      PREC: 3,
      DESC: 'analog out',
      RTYP: 'ao',
      WAVE: Float64Array.of(1, 2),
      CWF: 'AB',
    });
    assert.deepEqual(await dev.getAll(), state);
    n.set('D:ao1.VAL', 0);
    n.set('D:ao1.EGU', '');
    await dev.restoreState({ VAL: 1.5, EGU: 'mm', RTYP: 'xx' });
    assert.equal(n.read('D:ao1.VAL'), 1.5);
    assert.equal(n.read('D:ao1.EGU'), 'mm');
    assert.equal(n.read('D:ao1.RTYP'), 'ao', 'read-only PVs are skipped');

    const f = join(dir, 'state.txt');
    await dev.writeState(f);
    const lines = readFileSync(f, 'utf8').trim().split('\n');
    assert.match(lines[0], /^#Device Saved State for Device,prefix='D:ao1',time=/);
    assert.deepEqual(lines.slice(1), ['CWF AB', 'DESC analog out', 'EGU mm', 'PREC 3', 'VAL 1.5']);
    n.set('D:ao1.VAL', 3);
    n.set('D:ao1.DESC', 'changed');
    const back = await dev.readState(f, true);
    assert.equal(back.VAL, 1.5);
    assert.equal(back.PREC, 3);
    assert.equal(back.DESC, 'analog out');
    assert.equal(n.read('D:ao1.VAL'), 1.5);
    assert.equal(n.read('D:ao1.DESC'), 'analog out');
    await assert.rejects(dev.readState(join(dir, 'none.txt')), DeviceError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
