/**
 * Errors of the calc expression compiler. The codes and texts are those of EPICS base's
 * `postfix.h` / `calcErrorStr()` so that messages read like an IOC's.
 */

export const CALC_ERR_NONE = 0;
export const CALC_ERR_TOOMANY = 1;
export const CALC_ERR_BAD_LITERAL = 2;
export const CALC_ERR_BAD_ASSIGNMENT = 3;
export const CALC_ERR_BAD_SEPERATOR = 4;
export const CALC_ERR_PAREN_NOT_OPEN = 5;
export const CALC_ERR_PAREN_OPEN = 6;
export const CALC_ERR_CONDITIONAL = 7;
export const CALC_ERR_INCOMPLETE = 8;
export const CALC_ERR_UNDERFLOW = 9;
export const CALC_ERR_OVERFLOW = 10;
export const CALC_ERR_SYNTAX = 11;
export const CALC_ERR_NULL_ARG = 12;
export const CALC_ERR_INTERNAL = 13;

const ERROR_TEXTS = [
  'No error',
  'Too many results returned',
  'Badly formed numeric literal',
  'Bad assignment target',
  'Comma without enclosing parentheses',
  'Close parenthesis found without open',
  'Parenthesis still open at end of expression',
  'Unbalanced conditional ?: operators',
  'Incomplete expression, operand missing',
  'Not enough operands provided',
  'Runtime stack overflow',
  'Syntax error, unknown operator/operand',
  'NULL or empty input argument to postfix()',
  'Internal error, unknown element type',
];

/** The text EPICS base's calcErrorStr() gives for a code (undefined for an unknown code). */
export function calcErrorString(code: number): string | undefined {
  return ERROR_TEXTS[code];
}

/** A calc expression that does not compile (or, rarely, fails at run time). */
export class CalcError extends Error {
  constructor(
    /** One of the CALC_ERR_* codes. */
    public readonly code: number,
    /** Character offset in the expression where the problem was found. */
    public readonly position: number,
    /** The expression. */
    public readonly expression: string,
  ) {
    super(`${ERROR_TEXTS[code] ?? 'Unknown calc error'} at position ${position} in '${expression}'`);
    this.name = 'CalcError';
  }
}
