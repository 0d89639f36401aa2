/**
 * Quoted field values of a .db file as EPICS base reads them (checked against softIoc in
 * test/fixtures/conformance/strings.cmd): JSON-mode lexing, then epicsStrnRawFromEscaped.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonStringError, rawFromEscaped } from '../../src/ioc/db-escapes.js';
import { ParseError, parseDatabase, type DbRecordItem } from '../../src/ioc/db-parser.js';

test('rawFromEscaped translates C escapes, \\x with one or two digits, ends at \\0', () => {
  assert.equal(rawFromEscaped('a\\ab\\bf\\fv\\v'), 'a\x07b\bf\fv\v');
  assert.equal(rawFromEscaped('t\\tn\\nr\\r'), 't\tn\nr\r');
  assert.equal(rawFromEscaped('\\x41\\x414\\x7e'), 'AA4~');
  assert.equal(rawFromEscaped('\\x4g'), '\x04g');
  assert.equal(rawFromEscaped('\\xZ'), 'Z');
  assert.equal(rawFromEscaped('q\\?\\q\\\'\\"\\\\'), 'q?q\'"\\');
  assert.equal(rawFromEscaped('x\\0y'), 'x');
  assert.equal(rawFromEscaped('ab\\x00cd'), 'ab');
  assert.equal(rawFromEscaped('\\u0041b'), 'u0041b');
  assert.equal(rawFromEscaped('plain'), 'plain');
});

test('jsonStringError: base lexer rejects \\1-\\9, short \\x/\\u, control characters', () => {
  assert.equal(jsonStringError('a\\tb\\x41\\u00e9\\0\\q'), undefined);
  assert.match(jsonStringError('\\101')!, /bad escape \\1/);
  assert.match(jsonStringError('\\x4g')!, /bad \\x escape/);
  assert.match(jsonStringError('\\u12')!, /bad \\u escape/);
  assert.match(jsonStringError('a\tb')!, /control character/);
  assert.match(jsonStringError('end\\')!, /backslash at the end/);
});

test('field and info values: escapes translated, single quotes accepted, bad escapes refused', () => {
  const { items } = parseDatabase(
    'record(stringin, "E:a") {\n' +
      '  field(VAL, "\\x41\\x42C")\n' +
      "  field(DESC, 'single \"dq\" it\\'s')\n" +
      '  info(note, "a\\tb")\n' +
      '}\n',
  );
  const rec = items[0] as DbRecordItem;
  assert.equal(rec.fields.find((f) => f.name === 'VAL')!.value, 'ABC');
  assert.equal(rec.fields.find((f) => f.name === 'DESC')!.value, 'single "dq" it\'s');
  assert.equal(rec.infos[0]!.value, 'a\tb');
  assert.throws(
    () => parseDatabase('record(stringin, "E:o") {\n  field(VAL, "\\101")\n}\n', { file: 'x.db' }),
    (e: unknown) => e instanceof ParseError && /x\.db:2: bad escape \\1/.test(e.message),
  );
  assert.throws(
    () => parseDatabase('record(stringin, "E:o") { field(VAL, "a\tb") }\n'),
    (e: unknown) => e instanceof ParseError && /control character/.test(e.message),
  );
  assert.throws(
    () => parseDatabase('record(stringin, "E:o") { field(VAL, "abc) }'),
    (e: unknown) => e instanceof ParseError && /unterminated quoted string/.test(e.message),
  );
});
