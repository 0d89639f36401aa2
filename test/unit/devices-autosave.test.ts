import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AutosaveError,
  expandMacros,
  formatSavFile,
  parseMacros,
  parseRequestText,
  parseSavFile,
  readRequestFile,
  restoreState,
  saveState,
  savTimestamp,
} from '../../src/devices/autosave/index.js';
import { FakePvNetwork } from '../../src/devices/testing.js';

test('parseMacros: commas, semicolons, quotes, references', () => {
  assert.deepEqual(parseMacros('P=X:,Q=Y'), { P: 'X:', Q: 'Y' });
  assert.deepEqual(parseMacros(' P = IOC: ; M=m1 '), { P: 'IOC:', M: 'm1' });
  assert.deepEqual(parseMacros('D="a, b",E=$(P,x)'), { D: 'a, b', E: '$(P,x)' });
  assert.deepEqual(parseMacros(''), {});
  assert.throws(() => parseMacros('1X=3'), /bad macro name/);
  assert.throws(() => parseMacros('P'), /no '=value'/);
});

test('expandMacros: $() ${} defaults, nested, undefined', () => {
  assert.equal(expandMacros('$(P)m1.VAL', { P: 'IOC:' }), 'IOC:m1.VAL');
  assert.equal(expandMacros('${P}${M}', { P: 'a:', M: 'b' }), 'a:b');
  assert.equal(expandMacros('$(Q=dflt)', {}), 'dflt');
  assert.equal(expandMacros('$(A)', { A: '$(B)x', B: 'y' }), 'yx');
  assert.throws(() => expandMacros('$(NOPE)', {}), /undefined macro \$\(NOPE\)/);
  assert.throws(() => expandMacros('$(A)', { A: '$(A)' }), /too deep/);
  assert.throws(() => expandMacros('$(A', {}), /unterminated/);
});

test('request files: comments, includes with macros, relative paths, dedupe', () => {
  const files: Record<string, string> = {
    '/r/top.req':
      '# top\n$(P)ao1.VAL\nfile "sub/motor.req", P=$(P), M=m1\nfile sub/motor.req P=$(P),M=m2 # second\n\n$(P)ao1.VAL\n',
    '/r/sub/motor.req': '$(P)$(M).VAL\n$(P)$(M).VELO   # speed\nfile "deeper.req" X=$(M)\n',
    '/r/sub/deeper.req': '$(P)$(X)_able.VAL\n',
  };
  const readFile = (p: string): string => {
    if (!(p in files)) throw new Error('ENOENT ' + p);
    return files[p];
  };
  const entries = readRequestFile('/r/top.req', { macros: { P: 'IOC:' }, readFile });
  assert.deepEqual(
    entries.map((e) => e.pvname),
    [
      'IOC:ao1.VAL',
      'IOC:m1.VAL',
      'IOC:m1.VELO',
      'IOC:m1_able.VAL',
      'IOC:m2.VAL',
      'IOC:m2.VELO',
      'IOC:m2_able.VAL',
    ],
  );
  assert.equal(entries[1].file, '/r/sub/motor.req');
  assert.equal(entries[1].line, 1);
  const all = readRequestFile('/r/top.req', { macros: { P: 'IOC:' }, readFile, keepDuplicates: true });
  assert.equal(all.length, 8);
});

test('request files: errors name file and line', () => {
  const files: Record<string, string> = {
    '/r/a.req': 'ok:pv\nfile b.req\n',
    '/r/b.req': 'x\n$(UNDEF)pv\n',
    '/r/loop.req': 'file loop.req\n',
    '/r/missing.req': 'a\nfile nothere.req P=1\n',
  };
  const readFile = (p: string): string => {
    if (!(p in files)) throw new Error('ENOENT');
    return files[p];
  };
  assert.throws(
    () => readRequestFile('/r/a.req', { readFile }),
    (e: unknown) =>
      e instanceof AutosaveError && e.file === '/r/b.req' && e.line === 2 && /UNDEF/.test(e.message),
  );
  assert.throws(() => readRequestFile('/r/loop.req', { readFile }), /recursive include/);
  assert.throws(
    () => readRequestFile('/r/missing.req', { readFile }),
    (e: unknown) => e instanceof AutosaveError && e.line === 2 && /nothere\.req/.test(e.message),
  );
  assert.throws(() => readRequestFile('/r/none.req', { readFile }), AutosaveError);
  assert.throws(() => parseRequestText('bad"name\n', 'x.req'), /invalid PV name/);
});

test('sav format: header, scalars, arrays with escapes, disconnected, END', () => {
  const d = new Date(2026, 10, 25, 11, 35, 7);
  assert.equal(savTimestamp(d), '261125-113507');
  const text = formatSavFile(
    [
      { pvname: 'a:ao1.VAL', value: '1.25' },
      { pvname: 'a:str', value: 'hello world' },
      { pvname: 'a:empty', value: '' },
      { pvname: 'a:wave', value: ['1', '2.5', 'he said "hi"', 'back\\slash'] },
      { pvname: 'a:gone', value: null },
    ],
    d,
  );
  const lines = text.split('\n');
  assert.equal(lines[0], '# save/restore V5.10\tAutomatically generated - DO NOT MODIFY - 261125-113507');
  assert.equal(lines[1], '! 1 channel(s) not connected - or not all gets were successful');
  assert.equal(lines[2], 'a:ao1.VAL 1.25');
  assert.equal(lines[5], 'a:wave @array@ { "1" "2.5" "he said \\"hi\\"" "back\\\\slash" }');
  assert.equal(lines[6], '#a:gone Search Issued');
  assert.equal(lines[7], '<END>');
  const parsed = parseSavFile(text, 'x.sav');
  assert.equal(parsed.complete, true);
  assert.match(parsed.header, /^# save\/restore V5\.10/);
  assert.deepEqual(parsed.notConnected, ['a:gone']);
  assert.deepEqual(
    parsed.entries.map((e) => [e.pvname, e.value]),
    [
      ['a:ao1.VAL', '1.25'],
      ['a:str', 'hello world'],
      ['a:empty', ''],
      ['a:wave', ['1', '2.5', 'he said "hi"', 'back\\slash']],
    ],
  );
});

test('sav parsing: synApps and pyepics variants, CRLF, errors', () => {
  const synapps =
    '# save/restore V5.1\tAutomatically generated - DO NOT MODIFY - 120525-100420\r\nxxx:m1.VAL 0\r\nxxx:w @array@ { "1" "2" "3" }\r\n<END>\r\n';
  const p = parseSavFile(synapps, 's.sav');
  assert.deepEqual(p.entries[1].value, ['1', '2', '3']);
  assert.equal(p.entries[0].value, '0');
  const py =
    '# File saved by pyepics AutoSaver.save() on 2020\n# Edit with extreme care.\na:b @array@ [1, 2.5, 3]\n<END>\n';
  assert.deepEqual(parseSavFile(py, 'p.sav').entries[0].value, ['1', '2.5', '3']);
  assert.equal(parseSavFile('a 1\n', 'n.sav').complete, false);
  assert.throws(
    () => parseSavFile('# h\na 1\nb @array@ { "1" "2"\n<END>\n', 'bad.sav'),
    (e: unknown) => e instanceof AutosaveError && e.line === 3 && e.file === 'bad.sav',
  );
  assert.throws(() => parseSavFile('a @array@ { "x }\n', 'q.sav'), /unterminated/);
  assert.throws(() => parseSavFile('a @array@ nope\n', 'q.sav'), /not followed/);
  assert.throws(() => parseSavFile('a 1\n<END>\nb 2\n', 'q.sav'), /after <END>/);
});

test('saveState / restoreState round trip over fake PVs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsepics-as-'));
  try {
    const net = new FakePvNetwork();
    net
      .define('T:ao1.VAL', 1.5)
      .define('T:long1.VAL', 42)
      .define('T:str1.VAL', 'some text')
      .define('T:mbbo.VAL', { value: 2, enumStrs: ['Stop', 'Start', 'Pause'] })
      .define('T:wave.VAL', Float64Array.of(1, 2, 3.5))
      .define('T:char.VAL', { value: Uint8Array.from([104, 105, 0, 0]), type: 'time_char', nelm: 4 })
      .define('T:ro.VAL', { value: 7, writable: false });
    writeFileSync(join(dir, 'top.req'), 'file "inc.req" P=$(P)\n$(P)missing.VAL\n$(P)ro.VAL\n');
    writeFileSync(
      join(dir, 'inc.req'),
      '$(P)ao1.VAL\n$(P)long1.VAL\n$(P)str1.VAL\n$(P)mbbo.VAL\n$(P)wave.VAL\n$(P)char.VAL\n',
    );
    const sav = join(dir, 'out.sav');
    const res = await saveState(join(dir, 'top.req'), sav, {
      macros: { P: 'T:' },
      pvFactory: net.factory,
      timeout: 0.1,
    });
    assert.equal(res.total, 8);
    assert.equal(res.saved, 7);
    assert.deepEqual(res.failed, ['T:missing.VAL']);
    const text = readFileSync(sav, 'utf8');
    assert.match(text, /^T:ao1\.VAL 1\.5$/m);
    assert.match(text, /^T:str1\.VAL some text$/m);
    assert.match(text, /^T:wave\.VAL @array@ \{ "1" "2" "3\.5" \}$/m);
    assert.match(text, /^T:char\.VAL hi$/m);
    assert.match(text, /^#T:missing\.VAL Search Issued$/m);
    assert.match(text, /<END>\n$/);

    // change everything, then restore
    net.set('T:ao1.VAL', 0);
    net.set('T:long1.VAL', 0);
    net.set('T:str1.VAL', '');
    net.set('T:mbbo.VAL', 0);
    net.set('T:wave.VAL', new Float64Array(3));
    net.set('T:char.VAL', new Uint8Array(4));
    const r = await restoreState(sav, { pvFactory: net.factory, timeout: 0.1 });
    assert.equal(r.total, 7);
    assert.equal(r.restored, 6);
    assert.deepEqual(r.failed, [{ pvname: 'T:ro.VAL', reason: 'no write access' }]);
    assert.equal(net.read('T:ao1.VAL'), 1.5);
    assert.equal(net.read('T:long1.VAL'), 42);
    assert.equal(net.read('T:str1.VAL'), 'some text');
    assert.equal(net.read('T:mbbo.VAL'), 2);
    assert.deepEqual(net.read('T:wave.VAL'), Float64Array.of(1, 2, 3.5));
    assert.deepEqual(net.read('T:char.VAL'), Uint8Array.from([104, 105, 0]));

    // an incomplete file is refused unless allowed
    writeFileSync(join(dir, 'cut.sav'), 'T:ao1.VAL 9\n');
    await assert.rejects(restoreState(join(dir, 'cut.sav'), { pvFactory: net.factory }), /incomplete/);
    const r2 = await restoreState(join(dir, 'cut.sav'), { pvFactory: net.factory, allowIncomplete: true });
    assert.equal(r2.restored, 1);
    assert.equal(net.read('T:ao1.VAL'), 9);
    // non-numeric text for a numeric array is a per-PV failure, not a crash
    writeFileSync(join(dir, 'badnum.sav'), 'T:wave.VAL @array@ { "1" "x" }\n<END>\n');
    const r3 = await restoreState(join(dir, 'badnum.sav'), { pvFactory: net.factory });
    assert.equal(r3.restored, 0);
    assert.match(r3.failed[0].reason, /not a number/);
    await assert.rejects(restoreState(join(dir, 'nofile.sav'), { pvFactory: net.factory }), AutosaveError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
