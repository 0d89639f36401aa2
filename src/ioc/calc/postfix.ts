/**
 * Infix to postfix translation of EPICS calc expressions, following EPICS base's
 * `libcom/src/calc/postfix.c` element by element: the same element tables (longest
 * case-insensitive prefix match, no word boundaries), the same two priorities per element, the same
 * runtime-depth bookkeeping and therefore the same accepted language and error codes.
 *
 * The output is a program of fixed-width instructions (opcode, argument) in an Int32Array, plus a
 * pool of literal values; `perform.ts` runs it.
 *
 * Extensions over base (accepted only where base would report a syntax error): the synApps sCalc
 * constants S2R / R2S (arc-seconds to radians and back) and the `<<<` operator (logical left shift,
 * the same bits as `<<`).
 */
import {
  CalcError,
  CALC_ERR_BAD_ASSIGNMENT,
  CALC_ERR_BAD_LITERAL,
  CALC_ERR_BAD_SEPERATOR,
  CALC_ERR_CONDITIONAL,
  CALC_ERR_INCOMPLETE,
  CALC_ERR_INTERNAL,
  CALC_ERR_NULL_ARG,
  CALC_ERR_OVERFLOW,
  CALC_ERR_PAREN_NOT_OPEN,
  CALC_ERR_PAREN_OPEN,
  CALC_ERR_SYNTAX,
  CALC_ERR_TOOMANY,
  CALC_ERR_UNDERFLOW,
} from './errors.js';

/** Size of the evaluation stack, as CALCPERFORM_STACK. */
export const CALC_STACK_SIZE = 80;
/** Number of inputs A..L. */
export const CALC_NARGS = 12;

/** Opcodes (the order of base's rpn_opcode, plus the extensions at the end). */
export const enum Op {
  END = 0,
  LITERAL,
  FETCH_VAL,
  FETCH_A, // .. FETCH_L = FETCH_A + 11
  STORE_A = FETCH_A + 12, // .. STORE_L
  CONST_PI = STORE_A + 12,
  CONST_D2R,
  CONST_R2D,
  UNARY_NEG,
  ADD,
  SUB,
  MULT,
  DIV,
  MODULO,
  POWER,
  ABS_VAL,
  EXP,
  LOG_10,
  LOG_E,
  MAX,
  MIN,
  SQU_RT,
  ACOS,
  ASIN,
  ATAN,
  ATAN2,
  COS,
  COSH,
  SIN,
  SINH,
  TAN,
  TANH,
  CEIL,
  FLOOR,
  FMOD,
  FINITE,
  ISINF,
  ISNAN,
  NINT,
  RANDOM,
  REL_OR,
  REL_AND,
  REL_NOT,
  BIT_OR,
  BIT_AND,
  BIT_EXCL_OR,
  BIT_NOT,
  RIGHT_SHIFT_ARITH,
  LEFT_SHIFT_ARITH,
  RIGHT_SHIFT_LOGIC,
  NOT_EQ,
  LESS_THAN,
  LESS_OR_EQ,
  EQUAL,
  GR_OR_EQ,
  GR_THAN,
  COND_IF,
  COND_ELSE,
  COND_END,
  /* extensions */
  CONST_S2R,
  CONST_R2S,
  LEFT_SHIFT_LOGIC,
  NOT_GENERATED,
}

const enum El {
  OPERAND,
  LITERAL_OPERAND,
  STORE_OPERATOR,
  UNARY_OPERATOR,
  VARARG_OPERATOR,
  BINARY_OPERATOR,
  SEPERATOR,
  CLOSE_PAREN,
  CONDITIONAL,
  EXPR_TERMINATOR,
}

/** LITERAL_OPERAND sub-kinds. */
const LIT_DOUBLE = 1;
const LIT_HEX = 2;

interface Element {
  name: string;
  inStackPri: number;
  inComingPri: number;
  runtimeEffect: number;
  type: El;
  code: number;
}

function el(name: string, isp: number, icp: number, effect: number, type: El, code: number): Element {
  return { name, inStackPri: isp, inComingPri: icp, runtimeEffect: effect, type, code };
}

const OPERANDS: Element[] = [
  el('!', 7, 8, 0, El.UNARY_OPERATOR, Op.REL_NOT),
  el('(', 0, 8, 0, El.UNARY_OPERATOR, Op.NOT_GENERATED),
  el('-', 7, 8, 0, El.UNARY_OPERATOR, Op.UNARY_NEG),
  el('.', 0, 0, 1, El.LITERAL_OPERAND, LIT_DOUBLE),
  ...'0123456789'.split('').map((d) => el(d, 0, 0, 1, El.LITERAL_OPERAND, LIT_DOUBLE)),
  el('0X', 0, 0, 1, El.LITERAL_OPERAND, LIT_HEX),
  ...'ABCDEFGHIJKL'.split('').map((c, i) => el(c, 0, 0, 1, El.OPERAND, Op.FETCH_A + i)),
  el('ABS', 7, 8, 0, El.UNARY_OPERATOR, Op.ABS_VAL),
  el('ACOS', 7, 8, 0, El.UNARY_OPERATOR, Op.ACOS),
  el('ASIN', 7, 8, 0, El.UNARY_OPERATOR, Op.ASIN),
  el('ATAN', 7, 8, 0, El.UNARY_OPERATOR, Op.ATAN),
  el('ATAN2', 7, 8, -1, El.UNARY_OPERATOR, Op.ATAN2),
  el('CEIL', 7, 8, 0, El.UNARY_OPERATOR, Op.CEIL),
  el('COS', 7, 8, 0, El.UNARY_OPERATOR, Op.COS),
  el('COSH', 7, 8, 0, El.UNARY_OPERATOR, Op.COSH),
  el('D2R', 0, 0, 1, El.OPERAND, Op.CONST_D2R),
  el('EXP', 7, 8, 0, El.UNARY_OPERATOR, Op.EXP),
  el('FINITE', 7, 8, 0, El.VARARG_OPERATOR, Op.FINITE),
  el('FLOOR', 7, 8, 0, El.UNARY_OPERATOR, Op.FLOOR),
  el('FMOD', 7, 8, -1, El.UNARY_OPERATOR, Op.FMOD),
  el('INF', 0, 0, 1, El.LITERAL_OPERAND, LIT_DOUBLE),
  el('ISINF', 7, 8, 0, El.UNARY_OPERATOR, Op.ISINF),
  el('ISNAN', 7, 8, 0, El.VARARG_OPERATOR, Op.ISNAN),
  el('LN', 7, 8, 0, El.UNARY_OPERATOR, Op.LOG_E),
  el('LOG', 7, 8, 0, El.UNARY_OPERATOR, Op.LOG_10),
  el('LOGE', 7, 8, 0, El.UNARY_OPERATOR, Op.LOG_E),
  el('MAX', 7, 8, 0, El.VARARG_OPERATOR, Op.MAX),
  el('MIN', 7, 8, 0, El.VARARG_OPERATOR, Op.MIN),
  el('NINT', 7, 8, 0, El.UNARY_OPERATOR, Op.NINT),
  el('NAN', 0, 0, 1, El.LITERAL_OPERAND, LIT_DOUBLE),
  el('NOT', 7, 8, 0, El.UNARY_OPERATOR, Op.BIT_NOT),
  el('PI', 0, 0, 1, El.OPERAND, Op.CONST_PI),
  el('R2D', 0, 0, 1, El.OPERAND, Op.CONST_R2D),
  el('R2S', 0, 0, 1, El.OPERAND, Op.CONST_R2S),
  el('RNDM', 0, 0, 1, El.OPERAND, Op.RANDOM),
  el('S2R', 0, 0, 1, El.OPERAND, Op.CONST_S2R),
  el('SIN', 7, 8, 0, El.UNARY_OPERATOR, Op.SIN),
  el('SINH', 7, 8, 0, El.UNARY_OPERATOR, Op.SINH),
  el('SQR', 7, 8, 0, El.UNARY_OPERATOR, Op.SQU_RT),
  el('SQRT', 7, 8, 0, El.UNARY_OPERATOR, Op.SQU_RT),
  el('TAN', 7, 8, 0, El.UNARY_OPERATOR, Op.TAN),
  el('TANH', 7, 8, 0, El.UNARY_OPERATOR, Op.TANH),
  el('VAL', 0, 0, 1, El.OPERAND, Op.FETCH_VAL),
  el('~', 7, 8, 0, El.UNARY_OPERATOR, Op.BIT_NOT),
];

const OPERATORS: Element[] = [
  el('!=', 3, 3, -1, El.BINARY_OPERATOR, Op.NOT_EQ),
  el('#', 3, 3, -1, El.BINARY_OPERATOR, Op.NOT_EQ),
  el('%', 5, 5, -1, El.BINARY_OPERATOR, Op.MODULO),
  el('&', 2, 2, -1, El.BINARY_OPERATOR, Op.BIT_AND),
  el('&&', 2, 2, -1, El.BINARY_OPERATOR, Op.REL_AND),
  el(')', 0, 0, 0, El.CLOSE_PAREN, Op.NOT_GENERATED),
  el('*', 5, 5, -1, El.BINARY_OPERATOR, Op.MULT),
  el('**', 6, 6, -1, El.BINARY_OPERATOR, Op.POWER),
  el('+', 4, 4, -1, El.BINARY_OPERATOR, Op.ADD),
  el(',', 0, 0, 0, El.SEPERATOR, Op.NOT_GENERATED),
  el('-', 4, 4, -1, El.BINARY_OPERATOR, Op.SUB),
  el('/', 5, 5, -1, El.BINARY_OPERATOR, Op.DIV),
  el(':', 0, 0, -1, El.CONDITIONAL, Op.COND_ELSE),
  el(':=', 0, 0, -1, El.STORE_OPERATOR, Op.STORE_A),
  el(';', 0, 0, 0, El.EXPR_TERMINATOR, Op.NOT_GENERATED),
  el('<', 3, 3, -1, El.BINARY_OPERATOR, Op.LESS_THAN),
  el('<<', 2, 2, -1, El.BINARY_OPERATOR, Op.LEFT_SHIFT_ARITH),
  el('<<<', 2, 2, -1, El.BINARY_OPERATOR, Op.LEFT_SHIFT_LOGIC),
  el('<=', 3, 3, -1, El.BINARY_OPERATOR, Op.LESS_OR_EQ),
  el('=', 3, 3, -1, El.BINARY_OPERATOR, Op.EQUAL),
  el('==', 3, 3, -1, El.BINARY_OPERATOR, Op.EQUAL),
  el('>', 3, 3, -1, El.BINARY_OPERATOR, Op.GR_THAN),
  el('>=', 3, 3, -1, El.BINARY_OPERATOR, Op.GR_OR_EQ),
  el('>>', 2, 2, -1, El.BINARY_OPERATOR, Op.RIGHT_SHIFT_ARITH),
  el('>>>', 2, 2, -1, El.BINARY_OPERATOR, Op.RIGHT_SHIFT_LOGIC),
  el('?', 0, 0, -1, El.CONDITIONAL, Op.COND_IF),
  el('AND', 2, 2, -1, El.BINARY_OPERATOR, Op.BIT_AND),
  el('OR', 1, 1, -1, El.BINARY_OPERATOR, Op.BIT_OR),
  el('XOR', 1, 1, -1, El.BINARY_OPERATOR, Op.BIT_EXCL_OR),
  el('^', 6, 6, -1, El.BINARY_OPERATOR, Op.POWER),
  el('|', 1, 1, -1, El.BINARY_OPERATOR, Op.BIT_OR),
  el('||', 1, 1, -1, El.BINARY_OPERATOR, Op.REL_OR),
];

// Longest names first: the first prefix match is then the longest one, which is what base's
// reverse search of its sorted tables finds.
OPERANDS.sort((a, b) => b.name.length - a.name.length);
OPERATORS.sort((a, b) => b.name.length - a.name.length);

function isSpace(c: number): boolean {
  // C isspace(): space, \t \n \v \f \r
  return c === 32 || (c >= 9 && c <= 13);
}

/** ASCII-only upper case (keeps offsets identical to the source). */
function asciiUpper(s: string): string {
  return s.replace(/[a-z]+/g, (m) => m.toUpperCase());
}

// strtod() grammar (decimal, inf/infinity, nan, nan(chars)); hex never reaches it (see "0X").
const DOUBLE_RE = /(?:INF(?:INITY)?|NAN(?:\([0-9A-Z_]*\))?|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:E[+-]?[0-9]+)?)/y;
const HEX_RE = /0X([0-9A-F]+)/y;
const DBL_MIN = 2.2250738585072014e-308;

/** A compiled calc program. */
export interface CalcProgram {
  /** Instructions: code[2i] is the opcode, code[2i+1] its argument (literal index, nargs,
   * or the word offset to jump to). */
  readonly code: Int32Array;
  /** Literal values referenced by LITERAL instructions. */
  readonly literals: Float64Array;
  /** Bitmask of A..L read before being stored to (calcArgUsage). */
  readonly inputsUsed: number;
  /** Bitmask of A..L assigned (calcArgUsage). */
  readonly inputsStored: number;
  /** True when the expression reads VAL. */
  readonly usesVal: boolean;
  /** True when the expression uses RNDM. */
  readonly usesRandom: boolean;
}

/** Translate an infix calc expression to a program; throws CalcError like postfix() fails. */
export function postfix(source: string): CalcProgram {
  if (typeof source !== 'string' || source.length === 0) {
    throw new CalcError(CALC_ERR_NULL_ARG, 0, String(source));
  }
  // postfix() works on a C string: a NUL ends it.
  const nul = source.indexOf('\0');
  const text = asciiUpper(nul >= 0 ? source.slice(0, nul) : source);
  const len = text.length;

  const ops: number[] = [];
  const args: number[] = [];
  const literals: number[] = [];
  const stack: Element[] = [];
  let operandNeeded = true;
  let runtimeDepth = 0;
  let condCount = 0;
  let pos = 0;
  let elStart = 0;

  const fail = (code: number, at: number = elStart): never => {
    throw new CalcError(code, at, source);
  };
  const emit = (op: number, arg = 0): void => {
    ops.push(op);
    args.push(arg);
  };
  /** Move the top stack element to the output (with its vararg count). */
  const popToOutput = (): void => {
    const top = stack.pop() as Element;
    emit(top.code, top.type === El.VARARG_OPERATOR ? 1 - top.runtimeEffect : 0);
    runtimeDepth += top.runtimeEffect;
  };

  for (;;) {
    while (pos < len && isSpace(text.charCodeAt(pos))) pos++;
    if (pos >= len) break;
    elStart = pos;
    const table = operandNeeded ? OPERANDS : OPERATORS;
    let found: Element | undefined;
    for (const e of table) {
      if (text.startsWith(e.name, pos)) {
        found = e;
        break;
      }
    }
    if (!found) break;
    pos += found.name.length;

    switch (found.type) {
      case El.OPERAND:
        emit(found.code);
        runtimeDepth += found.runtimeEffect;
        operandNeeded = false;
        break;

      case El.LITERAL_OPERAND: {
        runtimeDepth += found.runtimeEffect;
        pos = elStart;
        let value: number;
        if (found.code === LIT_DOUBLE) {
          DOUBLE_RE.lastIndex = pos;
          const m = DOUBLE_RE.exec(text);
          if (!m) fail(CALC_ERR_BAD_LITERAL);
          const s = (m as RegExpExecArray)[0];
          if (s.startsWith('INF')) value = Infinity;
          else if (s.startsWith('NAN')) value = NaN;
          else {
            value = Number(s);
            // strtod() reports ERANGE on overflow and on underflow (zero or subnormal results).
            if (!Number.isFinite(value)) fail(CALC_ERR_BAD_LITERAL);
            if (Math.abs(value) < DBL_MIN && /[1-9]/.test(s.replace(/E.*$/, ''))) fail(CALC_ERR_BAD_LITERAL);
          }
          pos += s.length;
        } else {
          // strtoul(base 0) on "0x...": without hex digits it converts just the "0".
          HEX_RE.lastIndex = pos;
          const m = HEX_RE.exec(text);
          if (m) {
            const digits = m[1].replace(/^0+/, '');
            if (digits.length > 8) fail(CALC_ERR_BAD_LITERAL);
            value = parseInt(digits || '0', 16) | 0; // stored as epicsUInt32, read as epicsInt32
            pos += m[0].length;
          } else {
            value = 0;
            pos += 1;
          }
        }
        emit(Op.LITERAL, literals.length);
        literals.push(value);
        operandNeeded = false;
        break;
      }

      case El.STORE_OPERATOR: {
        const last = ops.length - 1;
        if (last < 0 || stack.length > 0 || ops[last] < Op.FETCH_A || ops[last] > Op.FETCH_A + 11) {
          fail(CALC_ERR_BAD_ASSIGNMENT);
        }
        const target = ops[last] - Op.FETCH_A;
        ops.pop();
        args.pop();
        stack.push({ ...found, code: Op.STORE_A + target });
        runtimeDepth -= 1;
        operandNeeded = true;
        break;
      }

      case El.UNARY_OPERATOR:
      case El.VARARG_OPERATOR:
        while (stack.length > 0 && stack[stack.length - 1].inStackPri >= found.inComingPri) popToOutput();
        stack.push({ ...found });
        break;

      case El.BINARY_OPERATOR:
        while (stack.length > 0 && stack[stack.length - 1].inStackPri >= found.inComingPri) popToOutput();
        stack.push({ ...found });
        operandNeeded = true;
        break;

      case El.SEPERATOR: {
        if (stack.length === 0) fail(CALC_ERR_BAD_SEPERATOR);
        while (stack[stack.length - 1].name !== '(') {
          if (stack.length <= 1) fail(CALC_ERR_BAD_SEPERATOR);
          popToOutput();
        }
        operandNeeded = true;
        stack[stack.length - 1].runtimeEffect -= 1;
        break;
      }

      case El.CLOSE_PAREN: {
        if (stack.length === 0) fail(CALC_ERR_PAREN_NOT_OPEN);
        while (stack[stack.length - 1].name !== '(') {
          if (stack.length <= 1) fail(CALC_ERR_PAREN_NOT_OPEN);
          popToOutput();
        }
        const paren = stack.pop() as Element;
        // A vararg operator before the opening paren inherits the paren's stack effect.
        const fn = stack[stack.length - 1];
        if (fn !== undefined && fn.type === El.VARARG_OPERATOR) {
          fn.runtimeEffect = paren.runtimeEffect;
          if (fn.runtimeEffect > 0) fail(CALC_ERR_INCOMPLETE);
        }
        break;
      }

      case El.CONDITIONAL:
        while (stack.length > 0 && stack[stack.length - 1].inStackPri > found.inComingPri) popToOutput();
        emit(found.code);
        runtimeDepth += found.runtimeEffect;
        if (found.name === ':') {
          if (--condCount < 0) fail(CALC_ERR_CONDITIONAL);
          stack.push({ ...found, code: Op.COND_END, runtimeEffect: 0 });
        } else {
          condCount++;
        }
        operandNeeded = true;
        break;

      case El.EXPR_TERMINATOR:
        while (stack.length > 0) {
          if (stack[stack.length - 1].name === '(') fail(CALC_ERR_PAREN_OPEN);
          popToOutput();
        }
        if (condCount !== 0) fail(CALC_ERR_CONDITIONAL);
        if (runtimeDepth > 1) fail(CALC_ERR_TOOMANY);
        operandNeeded = true;
        break;

      default:
        fail(CALC_ERR_INTERNAL);
    }

    if (runtimeDepth < 0) fail(CALC_ERR_UNDERFLOW);
    if (runtimeDepth >= CALC_STACK_SIZE) fail(CALC_ERR_OVERFLOW);
  }

  if (pos < len) fail(CALC_ERR_SYNTAX, pos);

  while (stack.length > 0) {
    if (stack[stack.length - 1].name === '(') fail(CALC_ERR_PAREN_OPEN, len);
    popToOutput();
  }
  if (condCount !== 0) fail(CALC_ERR_CONDITIONAL, len);
  if (operandNeeded || runtimeDepth !== 1) fail(CALC_ERR_INCOMPLETE, len);

  return link(ops, args, literals, source);
}

/** Resolve conditional jumps (as calcPerform's cond_search) and compute argument usage. */
function link(ops: number[], args: number[], literals: number[], source: string): CalcProgram {
  const n = ops.length;
  let inputs = 0;
  let stores = 0;
  let usesVal = false;
  let usesRandom = false;
  for (let i = 0; i < n; i++) {
    const op = ops[i];
    if (op >= Op.FETCH_A && op < Op.FETCH_A + 12) inputs |= (1 << (op - Op.FETCH_A)) & ~stores;
    else if (op >= Op.STORE_A && op < Op.STORE_A + 12) stores |= 1 << (op - Op.STORE_A);
    else if (op === Op.FETCH_VAL) usesVal = true;
    else if (op === Op.RANDOM) usesRandom = true;
    else if (op === Op.COND_IF || op === Op.COND_ELSE) {
      const match = op === Op.COND_IF ? Op.COND_ELSE : Op.COND_END;
      let count = 1;
      let target = -1;
      for (let j = i + 1; j < n; j++) {
        const o = ops[j];
        if (o === match && --count === 0) {
          target = 2 * (j + 1); // word offset of the instruction after the match
          break;
        }
        if (o === Op.COND_IF) count++;
      }
      if (target < 0) throw new CalcError(CALC_ERR_INTERNAL, source.length, source);
      args[i] = target;
    }
  }
  const code = new Int32Array(2 * n + 2);
  for (let i = 0; i < n; i++) {
    code[2 * i] = ops[i];
    code[2 * i + 1] = args[i];
  }
  code[2 * n] = Op.END;
  return {
    code,
    literals: Float64Array.from(literals),
    inputsUsed: inputs,
    inputsStored: stores,
    usesVal,
    usesRandom,
  };
}

/** Disassemble a program (for diagnostics, like calcExprDump). */
export function dumpProgram(p: CalcProgram): string[] {
  const names: Record<number, string> = {};
  for (const e of [...OPERANDS, ...OPERATORS]) if (e.type !== El.LITERAL_OPERAND) names[e.code] ??= e.name;
  const out: string[] = [];
  for (let i = 0; p.code[i] !== Op.END; i += 2) {
    const op = p.code[i];
    const arg = p.code[i + 1];
    if (op === Op.LITERAL) out.push(`LITERAL ${p.literals[arg]}`);
    else if (op >= Op.FETCH_A && op < Op.FETCH_A + 12)
      out.push(`FETCH_${String.fromCharCode(65 + op - Op.FETCH_A)}`);
    else if (op >= Op.STORE_A && op < Op.STORE_A + 12)
      out.push(`STORE_${String.fromCharCode(65 + op - Op.STORE_A)}`);
    else if (op === Op.COND_IF) out.push(`COND_IF -> ${arg / 2}`);
    else if (op === Op.COND_ELSE) out.push(`COND_ELSE -> ${arg / 2}`);
    else if (op === Op.COND_END) out.push('COND_END');
    else if (op === Op.MAX || op === Op.MIN || op === Op.FINITE || op === Op.ISNAN)
      out.push(`${names[op]} ${arg} arg(s)`);
    else out.push(names[op] ?? `op ${op}`);
  }
  return out;
}
