import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParseError, parseDatabase, type DbRecordItem } from '../../src/ioc/db-parser.js';
import { toMacroMap } from '../../src/ioc/macros.js';

const recs = (text: string, opts = {}): DbRecordItem[] =>
  parseDatabase(text, opts).items.filter((i): i is DbRecordItem => i.kind === 'record');

test('records, fields, quoted and bare values, comments, grecord, empty body', () => {
  const r = recs(`# comment
record(ai, "A:b") {
  field(DESC, "a \\"quoted\\" desc")  # trailing comment
  field(VAL, 0)
  field(SCAN, ".1 second")
  field(INP, "X:y.VAL NPP MS")
}
grecord(bo, B:c) { field(ZNAM,Off) }
record(calc, "C")
`);
  assert.equal(r.length, 3);
  assert.equal(r[0]!.type, 'ai');
  assert.equal(r[0]!.name, 'A:b');
  assert.deepEqual(
    r[0]!.fields.map((f) => [f.name, f.value, f.line]),
    [
      ['DESC', 'a "quoted" desc', 3],
      ['VAL', '0', 4],
      ['SCAN', '.1 second', 5],
      ['INP', 'X:y.VAL NPP MS', 6],
    ],
  );
  assert.equal(r[1]!.name, 'B:c');
  assert.deepEqual(r[1]!.fields[0], { name: 'ZNAM', value: 'Off', line: 8 });
  assert.equal(r[2]!.fields.length, 0);
});

test('JSON link values, info(), alias inside and outside records', () => {
  const res = parseDatabase(`record(lsi, "L") {
  field(INP, {const:"text, with comma"})
  info(autosaveFields, "VAL DESC")
  alias("L:alias")
}
alias("L", "L:other")
record(waveform, "W") { field(INP, [1, 2, 3]) }`);
  const [l, a, w] = res.items;
  assert.equal(l!.kind, 'record');
  const lr = l as DbRecordItem;
  assert.equal(lr.fields[0]!.value, '{const:"text, with comma"}');
  assert.deepEqual(lr.infos, [{ name: 'autosaveFields', value: 'VAL DESC' }]);
  assert.deepEqual(lr.aliases, ['L:alias']);
  assert.deepEqual(a, { kind: 'alias', target: 'L', alias: 'L:other', file: '<string>', line: 6 });
  assert.equal((w as DbRecordItem).fields[0]!.value, '[1, 2, 3]');
});

test('macros are expanded per line; undefined ones give warnings', () => {
  const res = parseDatabase('record(ai, "$(P)ai") { field(DESC, "$(D=default) $(U)") }', {
    macros: toMacroMap('P=X:'),
  });
  const r = res.items[0] as DbRecordItem;
  assert.equal(r.name, 'X:ai');
  assert.equal(r.fields[0]!.value, 'default $(U)');
  assert.equal(res.warnings.length, 1);
  assert.match(res.warnings[0]!, /<string>:1: macro U is undefined/);
});

test('an undefined macro in a record name is an error with file:line', () => {
  assert.throws(
    () => parseDatabase('\n\nrecord(ai, "$(P)ai") {}', { file: 'x.db' }),
    (e: unknown) =>
      e instanceof ParseError && e.message === 'x.db:3: record name "$(P)ai" contains an undefined macro',
  );
});

test('include: relative to the including file, then the search path; nested; errors', () => {
  const files: Record<string, string> = {
    'dir/main.db': 'include "sub.db"\nrecord(ai, "M") {}\ninclude "lib.db"',
    'dir/sub.db': 'record(ai, "S$(N)") {}',
    'inc/lib.db': 'record(bo, "L") {}',
  };
  const readFile = (p: string): string => {
    const t = files[p];
    if (t === undefined) throw new Error('ENOENT');
    return t;
  };
  const r = recs(files['dir/main.db']!, {
    file: 'dir/main.db',
    readFile,
    includePath: ['inc'],
    macros: toMacroMap('N=1'),
  });
  assert.deepEqual(
    r.map((x) => [x.name, x.file]),
    [
      ['S1', 'dir/sub.db'],
      ['M', 'dir/main.db'],
      ['L', 'inc/lib.db'],
    ],
  );
  assert.throws(
    () => parseDatabase('\ninclude "nope.db"', { file: 'dir/main.db', readFile }),
    (e: unknown) =>
      e instanceof ParseError && /^dir\/main\.db:2: include "nope\.db": file not found/.test(e.message),
  );
  const loop = { 'a.db': 'include "a.db"' } as Record<string, string>;
  assert.throws(
    () => parseDatabase(loop['a.db']!, { file: 'a.db', readFile: (p) => loop[p]! }),
    /nested too deeply/,
  );
});

test('syntax errors carry file:line and say what was expected', () => {
  const cases: [string, RegExp][] = [
    ['record(ai "x") {}', /^t\.db:1: expected ',' in record\(type, name\)/],
    [
      'record(ai, "x") {\n field(DESC, "x")\n field(VAL 1)\n}',
      /^t\.db:3: expected ',' in field\(name, value\)/,
    ],
    ['record(ai, "x") {\n field(DESC, "unterminated)\n}', /^t\.db:2: newline in quoted string/],
    ['record(ai, "x") {\n', /^t\.db:1: missing '}' for record "x"/],
    ['recrod(ai, "x")', /^t\.db:1: unknown keyword 'recrod'/],
    ['record(ai, "x") { bogus(A, 1) }', /^t\.db:1: unknown keyword 'bogus' in record "x"/],
    ['menu(x) {}', /^t\.db:1: 'menu' is a database definition/],
    ['record(ai, "x") { field(desc, "lower") }', /^t\.db:1: bad field name "desc"/],
    ['record(ai, "a b") {}', /^t\.db:1: bad character in record name/],
    ['record(ai, "x") { field(INP, {const: "x") }', /unterminated JSON value|expected/],
  ];
  for (const [text, re] of cases) {
    assert.throws(
      () => parseDatabase(text, { file: 't.db' }),
      (e: unknown) => e instanceof ParseError && re.test(e.message),
      text,
    );
  }
});
