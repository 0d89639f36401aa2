import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandMacros, MacroError, parseMacroString, toMacroMap } from '../../src/ioc/macros.js';

test('parseMacroString: pairs, quotes, escapes, empty values', () => {
  assert.deepEqual(
    [...parseMacroString('P=X:,R=Y')],
    [
      ['P', 'X:'],
      ['R', 'Y'],
    ],
  );
  assert.deepEqual(
    [...parseMacroString(' A = 1 , B="a, b" ,C=\'q\',D=, E=x\\,y')],
    [
      ['A', '1'],
      ['B', 'a, b'],
      ['C', 'q'],
      ['D', ''],
      ['E', 'x,y'],
    ],
  );
  assert.equal(parseMacroString('').size, 0);
});

test('parseMacroString: malformed definitions throw MacroError', () => {
  assert.throws(() => parseMacroString('=x'), MacroError);
  assert.throws(() => parseMacroString('P'), MacroError);
  assert.throws(() => parseMacroString('P="unterminated'), MacroError);
});

test('expandMacros: $() and ${}, defaults, nesting, escapes', () => {
  const m = toMacroMap('P=IOC:,N=2,R=rec$(N),Q=$(P)')!;
  assert.equal(expandMacros('$(P)ai', m).text, 'IOC:ai');
  assert.equal(expandMacros('${P}ai', m).text, 'IOC:ai');
  assert.equal(expandMacros('$(X=def)', m).text, 'def');
  assert.equal(expandMacros('$(X=$(P)d)', m).text, 'IOC:d');
  assert.equal(expandMacros('$(R)', m).text, 'rec2');
  assert.equal(expandMacros('$(Q)x', m).text, 'IOC:x');
  assert.equal(expandMacros('\\$(P)', m).text, '$(P)');
  assert.equal(expandMacros('$(A$(N))', toMacroMap({ A2: 'two', N: '2' })).text, 'two');
  assert.equal(expandMacros('$(Z,Z=scoped)', m).text, 'scoped');
  assert.equal(expandMacros('no macros here', m).text, 'no macros here');
});

test('expandMacros: undefined macros stay as written and are reported', () => {
  const r = expandMacros('$(P)x$(UNDEF)y${ALSO}', toMacroMap('P=a'));
  assert.equal(r.text, 'ax$(UNDEF)y${ALSO}');
  assert.deepEqual(r.undefinedNames.sort(), ['ALSO', 'UNDEF']);
});

test('expandMacros: recursive definitions are an error, not a hang', () => {
  assert.throws(() => expandMacros('$(A)', toMacroMap('A=$(B),B=$(A)')), MacroError);
});
