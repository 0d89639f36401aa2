/**
 * The EPICS calc expression engine (calc/calcout records, CALC links, access-security CALC rules).
 *
 *   const c = compileCalc('A:=A+1;A*2');     // throws CalcError on a bad expression
 *   const args = new Float64Array(12);        // A..L
 *   c.evaluate(args);                         // 2, and args[0] is now 1
 */
import { CALC_NARGS, postfix, dumpProgram, type CalcProgram } from './postfix.js';
import { calcPerform, CALC_SCRATCH_SIZE } from './perform.js';
import { compileClosure, type CalcFn } from './closure.js';

export { CalcError, calcErrorString } from './errors.js';
export * from './errors.js';
export { calcRandom, resetCalcRandom } from './perform.js';
export { CALC_NARGS, CALC_STACK_SIZE } from './postfix.js';

export interface CompiledCalc {
  readonly expression: string;
  /**
   * Evaluate with inputs A..L in `args` (length >= 12; `:=` assignments write into it). `val` is
   * what the operand VAL reads (the record's current VAL; 0 when omitted). Returns the result
   * (NaN and ±Inf are results, not errors, as in calcPerform).
   */
  evaluate(args: Float64Array, val?: number): number;
  /** Bitmask of A..L (bit 0 = A) read before being assigned, as calcArgUsage's inputs. */
  readonly inputsUsed: number;
  /** Bitmask of A..L assigned with `:=`, as calcArgUsage's stores. */
  readonly inputsStored: number;
  /** True when the expression reads VAL. */
  readonly usesVal: boolean;
  /** True when the expression reads RNDM (the result changes on every evaluation). */
  readonly usesRandom: boolean;
  /** The postfix program, one line per instruction (like calcExprDump). */
  dump(): string[];
  /** True when evaluation runs a closure tree, false when it interprets the postfix program. */
  readonly compiled: boolean;
}

class Compiled implements CompiledCalc {
  readonly inputsUsed: number;
  readonly inputsStored: number;
  readonly usesVal: boolean;
  readonly usesRandom: boolean;
  private readonly stack = new Float64Array(CALC_SCRATCH_SIZE);
  private readonly fn: CalcFn | undefined;

  constructor(
    readonly expression: string,
    private readonly program: CalcProgram,
    interpret: boolean,
  ) {
    this.inputsUsed = program.inputsUsed;
    this.inputsStored = program.inputsStored;
    this.usesVal = program.usesVal;
    this.usesRandom = program.usesRandom;
    this.fn = interpret ? undefined : compileClosure(program);
  }

  get compiled(): boolean {
    return this.fn !== undefined;
  }

  evaluate(args: Float64Array, val = 0): number {
    if (args.length < CALC_NARGS) {
      throw new RangeError(`calc arguments need ${CALC_NARGS} elements (A..L), got ${args.length}`);
    }
    const fn = this.fn;
    return fn ? fn(args, val) : calcPerform(this.program, args, val, this.stack);
  }

  dump(): string[] {
    return dumpProgram(this.program);
  }
}

export interface CompileOptions {
  /**
   * 'auto' (default): a closure tree, or the postfix interpreter for the rare programs the tree
   * cannot express; 'interpreter': always interpret the postfix program (calcPerform's loop).
   */
  mode?: 'auto' | 'interpreter';
}

/** Compile a calc expression; throws CalcError (with code and position) when it is invalid. */
export function compileCalc(expr: string, options: CompileOptions = {}): CompiledCalc {
  return new Compiled(expr, postfix(expr), options.mode === 'interpreter');
}

/** Compile, evaluate once with the given inputs (A.. in order, missing ones 0) and return the result. */
export function evaluateCalc(expr: string, inputs: ArrayLike<number> = [], val = 0): number {
  const args = new Float64Array(CALC_NARGS);
  for (let i = 0; i < Math.min(inputs.length, CALC_NARGS); i++) args[i] = inputs[i];
  return compileCalc(expr).evaluate(args, val);
}
