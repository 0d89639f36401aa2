/** Malformed calc expressions: the error codes EPICS base's postfix() reports, with positions. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compileCalc,
  evaluateCalc,
  CalcError,
  calcErrorString,
  CALC_ERR_BAD_ASSIGNMENT,
  CALC_ERR_BAD_LITERAL,
  CALC_ERR_BAD_SEPERATOR,
  CALC_ERR_CONDITIONAL,
  CALC_ERR_INCOMPLETE,
  CALC_ERR_NULL_ARG,
  CALC_ERR_OVERFLOW,
  CALC_ERR_PAREN_NOT_OPEN,
  CALC_ERR_PAREN_OPEN,
  CALC_ERR_SYNTAX,
  CALC_ERR_TOOMANY,
} from '../../src/ioc/calc/index.js';

function bad(expr: string, code: number, position?: number): void {
  assert.throws(
    () => compileCalc(expr),
    (err: unknown) => {
      assert.ok(err instanceof CalcError, `${expr}: not a CalcError`);
      assert.equal(err.code, code, `${expr}: got '${calcErrorString(err.code)}' (${err.message})`);
      if (position !== undefined) assert.equal(err.position, position, `${expr}: position`);
      assert.equal(err.expression, expr);
      return true;
    },
  );
}

test('base test suite malformed expressions', () => {
  bad('0x0.1', CALC_ERR_SYNTAX, 3);
  bad('1*', CALC_ERR_INCOMPLETE);
  bad('*1', CALC_ERR_SYNTAX, 0);
  bad('MIN', CALC_ERR_INCOMPLETE);
  bad('MIN()', CALC_ERR_SYNTAX, 4);
  bad('MIN(A,)', CALC_ERR_SYNTAX, 6);
  bad('MIN(A,B,)', CALC_ERR_SYNTAX);
  bad('MAX', CALC_ERR_INCOMPLETE);
  bad('MAX()', CALC_ERR_SYNTAX);
  bad('MAX(A,)', CALC_ERR_SYNTAX);
  bad('MAX(A,B,)', CALC_ERR_SYNTAX);
  bad('1?', CALC_ERR_CONDITIONAL);
  bad('1?1', CALC_ERR_CONDITIONAL);
  bad(':1', CALC_ERR_SYNTAX);
  bad('0,', CALC_ERR_BAD_SEPERATOR, 1);
  bad('0)', CALC_ERR_PAREN_NOT_OPEN, 1);
});

test('more malformed expressions', () => {
  bad('', CALC_ERR_NULL_ARG);
  bad('   ', CALC_ERR_INCOMPLETE);
  bad('(1', CALC_ERR_PAREN_OPEN);
  bad('((A+B)', CALC_ERR_PAREN_OPEN);
  bad('A+B)', CALC_ERR_PAREN_NOT_OPEN, 3);
  bad('1:2', CALC_ERR_CONDITIONAL);
  bad('A B', CALC_ERR_SYNTAX, 2);
  bad('M', CALC_ERR_SYNTAX, 0);
  bad('A+Q', CALC_ERR_SYNTAX, 2);
  bad('1e999', CALC_ERR_BAD_LITERAL, 0);
  bad('1e-400', CALC_ERR_BAD_LITERAL);
  bad('.', CALC_ERR_BAD_LITERAL);
  bad('0x123456789', CALC_ERR_BAD_LITERAL);
  bad('1:=2', CALC_ERR_BAD_ASSIGNMENT);
  bad('(A:=2)', CALC_ERR_BAD_ASSIGNMENT);
  bad('B+A:=2', CALC_ERR_BAD_ASSIGNMENT);
  bad('PI:=2', CALC_ERR_BAD_ASSIGNMENT);
  bad('A:=1', CALC_ERR_INCOMPLETE); // nothing left for the result
  bad('A;B', CALC_ERR_INCOMPLETE);
  bad('A,B', CALC_ERR_BAD_SEPERATOR);
  bad('(A,B)', CALC_ERR_INCOMPLETE);
  bad('ATAN2(1)', CALC_ERR_INCOMPLETE);
  bad('A;B;C:=1', CALC_ERR_TOOMANY);
  bad('INT(2.5)', CALC_ERR_SYNTAX); // not a base function
  bad('1 e3', CALC_ERR_SYNTAX);
  // 80 nested operands overflow the runtime stack
  bad(Array.from({ length: 81 }, () => '1').join('+(') + ')'.repeat(80), CALC_ERR_OVERFLOW);
});

test('error objects', () => {
  try {
    compileCalc('A+*B');
    assert.fail('no error');
  } catch (err) {
    assert.ok(err instanceof CalcError);
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'CalcError');
    assert.equal(err.code, CALC_ERR_SYNTAX);
    assert.equal(err.position, 2);
    assert.match(err.message, /Syntax error, unknown operator\/operand at position 2 in 'A\+\*B'/);
  }
  assert.equal(calcErrorString(CALC_ERR_INCOMPLETE), 'Incomplete expression, operand missing');
  assert.equal(calcErrorString(99), undefined);
  assert.throws(() => compileCalc('A').evaluate(new Float64Array(3)), RangeError);
  assert.throws(() => compileCalc(undefined as unknown as string), CalcError);
});

test('long and deep expressions still compile', () => {
  const expr = Array.from({ length: 70 }, () => 'A').join('+');
  assert.equal(evaluateCalc(expr, [2]), 140);
  const nested = '('.repeat(60) + 'A' + ')'.repeat(60);
  assert.equal(evaluateCalc(nested, [3]), 3);
  const args = new Float64Array(12);
  const c = compileCalc('0xor 1'); // "0x" without digits is the literal 0, then XOR
  assert.equal(c.evaluate(args), 1);
});
