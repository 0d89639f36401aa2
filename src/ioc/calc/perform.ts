/**
 * Evaluation of a compiled calc program, with the semantics of EPICS base's
 * `libcom/src/calc/calcPerform.c` (double arithmetic; C truth values where NaN is true; bit
 * operations on 32-bit integers converted the way calcPerform's d2i()/d2ui() do on x86-64 Linux;
 * `%` on (epicsInt32) operands giving NaN for a zero divisor; MIN/MAX propagating NaN; RNDM with
 * base's 16-bit linear congruential generator).
 */
import { CalcError, CALC_ERR_INTERNAL } from './errors.js';
import { CALC_STACK_SIZE, Op, type CalcProgram } from './postfix.js';

export const PI = 3.14159265358979323;
export const D2R = PI / 180;
export const R2D = 180 / PI;
export const S2R = PI / (180 * 3600);
export const R2S = (180 * 3600) / PI;
const INT_MIN = -2147483648;
const TWO31 = 2147483648;

/** (epicsInt32) x as compiled C does it on x86-64: out of range and NaN give INT_MIN. */
export function cInt32(x: number): number {
  return x > -TWO31 - 1 && x < TWO31 ? x | 0 : INT_MIN;
}

/**
 * calcPerform's d2i(): negative doubles through (epicsInt32), others through (epicsUInt32)
 * (x86-64 converts those via 64 bits, so they wrap modulo 2^32).
 */
export function d2i(x: number): number {
  if (x < 0) return x > -TWO31 - 1 ? x | 0 : INT_MIN;
  return x | 0; // NaN and +Inf give 0, as on x86-64
}

/** C pow(): unlike Math.pow, pow(1, y) is 1 for any y and pow(-1, ±Inf) is 1. */
export function cPow(x: number, y: number): number {
  if (x === 1) return 1;
  if (x === -1 && (y === Infinity || y === -Infinity)) return 1;
  return Math.pow(x, y);
}

let seed = 0xa3bf;
const MULTY = 191 * 8 + 5;
const ADDY = 0x3141;

/** calcRandom(): base's 16-bit LCG, seed shared by every expression like the C static. */
export function calcRandom(): number {
  seed = (seed * MULTY + ADDY) & 0xffff;
  return seed / 65535.0;
}

/** Reset the RNDM generator to base's initial seed (for reproducible tests). */
export function resetCalcRandom(value = 0xa3bf): void {
  seed = value & 0xffff;
}

/**
 * Run a program. `args` are A..L (stores write into it); `val` is what VAL fetches; `stack` is
 * scratch of at least CALC_STACK_SIZE + 1 doubles. Throws CalcError when the program leaves the
 * stack unbalanced (calcPerform returning -1; does not happen for programs postfix() accepted).
 */
export function calcPerform(p: CalcProgram, args: Float64Array, val: number, stack: Float64Array): number {
  const code = p.code;
  const lits = p.literals;
  let sp = 0; // stack[sp] is the top; stack[0] unused, as in calcPerform
  let pc = 0;
  let top: number;
  let n: number;
  for (;;) {
    const op = code[pc];
    const arg = code[pc + 1];
    pc += 2;
    switch (op) {
      case Op.END:
        if (sp !== 1) throw new CalcError(CALC_ERR_INTERNAL, 0, '<program>');
        return stack[1];
      case Op.LITERAL:
        stack[++sp] = lits[arg];
        break;
      case Op.FETCH_VAL:
        stack[++sp] = val;
        break;
      case Op.FETCH_A:
      case Op.FETCH_A + 1:
      case Op.FETCH_A + 2:
      case Op.FETCH_A + 3:
      case Op.FETCH_A + 4:
      case Op.FETCH_A + 5:
      case Op.FETCH_A + 6:
      case Op.FETCH_A + 7:
      case Op.FETCH_A + 8:
      case Op.FETCH_A + 9:
      case Op.FETCH_A + 10:
      case Op.FETCH_A + 11:
        stack[++sp] = args[op - Op.FETCH_A];
        break;
      case Op.STORE_A:
      case Op.STORE_A + 1:
      case Op.STORE_A + 2:
      case Op.STORE_A + 3:
      case Op.STORE_A + 4:
      case Op.STORE_A + 5:
      case Op.STORE_A + 6:
      case Op.STORE_A + 7:
      case Op.STORE_A + 8:
      case Op.STORE_A + 9:
      case Op.STORE_A + 10:
      case Op.STORE_A + 11:
        args[op - Op.STORE_A] = stack[sp--];
        break;
      case Op.CONST_PI:
        stack[++sp] = PI;
        break;
      case Op.CONST_D2R:
        stack[++sp] = D2R;
        break;
      case Op.CONST_R2D:
        stack[++sp] = R2D;
        break;
      case Op.CONST_S2R:
        stack[++sp] = S2R;
        break;
      case Op.CONST_R2S:
        stack[++sp] = R2S;
        break;
      case Op.UNARY_NEG:
        stack[sp] = -stack[sp];
        break;
      case Op.ADD:
        top = stack[sp--];
        stack[sp] += top;
        break;
      case Op.SUB:
        top = stack[sp--];
        stack[sp] -= top;
        break;
      case Op.MULT:
        top = stack[sp--];
        stack[sp] *= top;
        break;
      case Op.DIV:
        top = stack[sp--];
        stack[sp] /= top;
        break;
      case Op.MODULO: {
        const itop = cInt32(stack[sp--]);
        if (itop !== 0) {
          const a = cInt32(stack[sp]);
          // INT_MIN % -1 traps in C; the mathematical answer is 0.
          stack[sp] = itop === -1 ? 0 : (a % itop) + 0;
        } else stack[sp] = NaN;
        break;
      }
      case Op.POWER:
        top = stack[sp--];
        stack[sp] = cPow(stack[sp], top);
        break;
      case Op.ABS_VAL:
        stack[sp] = Math.abs(stack[sp]);
        break;
      case Op.EXP:
        stack[sp] = Math.exp(stack[sp]);
        break;
      case Op.LOG_10:
        stack[sp] = Math.log10(stack[sp]);
        break;
      case Op.LOG_E:
        stack[sp] = Math.log(stack[sp]);
        break;
      case Op.MAX:
        n = arg;
        while (--n > 0) {
          top = stack[sp--];
          if (stack[sp] < top || top !== top) stack[sp] = top;
        }
        break;
      case Op.MIN:
        n = arg;
        while (--n > 0) {
          top = stack[sp--];
          if (stack[sp] > top || top !== top) stack[sp] = top;
        }
        break;
      case Op.SQU_RT:
        stack[sp] = Math.sqrt(stack[sp]);
        break;
      case Op.ACOS:
        stack[sp] = Math.acos(stack[sp]);
        break;
      case Op.ASIN:
        stack[sp] = Math.asin(stack[sp]);
        break;
      case Op.ATAN:
        stack[sp] = Math.atan(stack[sp]);
        break;
      case Op.ATAN2:
        top = stack[sp--];
        stack[sp] = Math.atan2(top, stack[sp]); // arguments reversed, as in base
        break;
      case Op.COS:
        stack[sp] = Math.cos(stack[sp]);
        break;
      case Op.SIN:
        stack[sp] = Math.sin(stack[sp]);
        break;
      case Op.TAN:
        stack[sp] = Math.tan(stack[sp]);
        break;
      case Op.COSH:
        stack[sp] = Math.cosh(stack[sp]);
        break;
      case Op.SINH:
        stack[sp] = Math.sinh(stack[sp]);
        break;
      case Op.TANH:
        stack[sp] = Math.tanh(stack[sp]);
        break;
      case Op.CEIL:
        stack[sp] = Math.ceil(stack[sp]);
        break;
      case Op.FLOOR:
        stack[sp] = Math.floor(stack[sp]);
        break;
      case Op.FMOD:
        top = stack[sp--];
        stack[sp] = stack[sp] % top; // JS % on doubles is C fmod()
        break;
      case Op.FINITE: {
        n = arg;
        let ok = Number.isFinite(stack[sp]);
        while (--n > 0) {
          --sp;
          ok = ok && Number.isFinite(stack[sp]);
        }
        stack[sp] = ok ? 1 : 0;
        break;
      }
      case Op.ISINF:
        top = stack[sp];
        // glibc's isinf() is __builtin_isinf_sign(): -1 for -Inf.
        stack[sp] = top === Infinity ? 1 : top === -Infinity ? -1 : 0;
        break;
      case Op.ISNAN: {
        n = arg;
        let any = stack[sp] !== stack[sp];
        while (--n > 0) {
          --sp;
          any = any || stack[sp] !== stack[sp];
        }
        stack[sp] = any ? 1 : 0;
        break;
      }
      case Op.NINT:
        top = stack[sp];
        stack[sp] = cInt32(top >= 0 ? top + 0.5 : top - 0.5);
        break;
      case Op.RANDOM:
        stack[++sp] = calcRandom();
        break;
      case Op.REL_OR:
        top = stack[sp--];
        stack[sp] = stack[sp] !== 0 || top !== 0 ? 1 : 0;
        break;
      case Op.REL_AND:
        top = stack[sp--];
        stack[sp] = stack[sp] !== 0 && top !== 0 ? 1 : 0;
        break;
      case Op.REL_NOT:
        stack[sp] = stack[sp] === 0 ? 1 : 0;
        break;
      case Op.BIT_OR:
        top = stack[sp--];
        stack[sp] = d2i(stack[sp]) | d2i(top);
        break;
      case Op.BIT_AND:
        top = stack[sp--];
        stack[sp] = d2i(stack[sp]) & d2i(top);
        break;
      case Op.BIT_EXCL_OR:
        top = stack[sp--];
        stack[sp] = d2i(stack[sp]) ^ d2i(top);
        break;
      case Op.BIT_NOT:
        stack[sp] = ~d2i(stack[sp]);
        break;
      case Op.RIGHT_SHIFT_ARITH:
        top = stack[sp--];
        stack[sp] = d2i(stack[sp]) >> (d2i(top) & 31);
        break;
      case Op.LEFT_SHIFT_ARITH:
      case Op.LEFT_SHIFT_LOGIC:
        top = stack[sp--];
        stack[sp] = d2i(stack[sp]) << (d2i(top) & 31);
        break;
      case Op.RIGHT_SHIFT_LOGIC:
        top = stack[sp--];
        stack[sp] = d2i(stack[sp]) >>> (d2i(top) & 31);
        break;
      case Op.NOT_EQ:
        top = stack[sp--];
        stack[sp] = stack[sp] !== top ? 1 : 0;
        break;
      case Op.LESS_THAN:
        top = stack[sp--];
        stack[sp] = stack[sp] < top ? 1 : 0;
        break;
      case Op.LESS_OR_EQ:
        top = stack[sp--];
        stack[sp] = stack[sp] <= top ? 1 : 0;
        break;
      case Op.EQUAL:
        top = stack[sp--];
        stack[sp] = stack[sp] === top ? 1 : 0;
        break;
      case Op.GR_OR_EQ:
        top = stack[sp--];
        stack[sp] = stack[sp] >= top ? 1 : 0;
        break;
      case Op.GR_THAN:
        top = stack[sp--];
        stack[sp] = stack[sp] > top ? 1 : 0;
        break;
      case Op.COND_IF:
        if (stack[sp--] === 0) pc = arg;
        break;
      case Op.COND_ELSE:
        pc = arg;
        break;
      case Op.COND_END:
        break;
      default:
        throw new CalcError(CALC_ERR_INTERNAL, 0, '<program>');
    }
  }
}

/** Stack size needed by calcPerform(). */
export const CALC_SCRATCH_SIZE = CALC_STACK_SIZE + 2;
