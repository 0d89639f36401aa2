/**
 * Compilation of a postfix calc program into a tree of closures (faster than interpreting the
 * program: no dispatch, no stack traffic). Semantics are those of `perform.ts` (and the
 * differential test checks both agree). Programs the tree cannot express exactly, such as a value
 * left on the stack across a later assignment (`A; A:=0`), return undefined: the caller then uses
 * the interpreter.
 */
import { Op, type CalcProgram } from './postfix.js';
import { calcRandom, cInt32, cPow, d2i, PI, D2R, R2D, S2R, R2S } from './perform.js';

export type CalcFn = (a: Float64Array, v: number) => number;

const UNARY: Partial<Record<number, (x: number) => number>> = {
  [Op.UNARY_NEG]: (x) => -x,
  [Op.ABS_VAL]: Math.abs,
  [Op.EXP]: Math.exp,
  [Op.LOG_10]: Math.log10,
  [Op.LOG_E]: Math.log,
  [Op.SQU_RT]: Math.sqrt,
  [Op.ACOS]: Math.acos,
  [Op.ASIN]: Math.asin,
  [Op.ATAN]: Math.atan,
  [Op.COS]: Math.cos,
  [Op.SIN]: Math.sin,
  [Op.TAN]: Math.tan,
  [Op.COSH]: Math.cosh,
  [Op.SINH]: Math.sinh,
  [Op.TANH]: Math.tanh,
  [Op.CEIL]: Math.ceil,
  [Op.FLOOR]: Math.floor,
  [Op.ISINF]: (x) => (x === Infinity ? 1 : x === -Infinity ? -1 : 0),
  [Op.NINT]: (x) => cInt32(x >= 0 ? x + 0.5 : x - 0.5),
  [Op.REL_NOT]: (x) => (x === 0 ? 1 : 0),
  [Op.BIT_NOT]: (x) => ~d2i(x),
};

const BINARY: Partial<Record<number, (x: number, y: number) => number>> = {
  [Op.MODULO]: (x, y) => {
    const iy = cInt32(y);
    if (iy === 0) return NaN;
    return iy === -1 ? 0 : (cInt32(x) % iy) + 0;
  },
  [Op.POWER]: cPow,
  [Op.ATAN2]: (x, y) => Math.atan2(y, x),
  [Op.FMOD]: (x, y) => x % y,
  [Op.REL_OR]: (x, y) => (x !== 0 || y !== 0 ? 1 : 0),
  [Op.REL_AND]: (x, y) => (x !== 0 && y !== 0 ? 1 : 0),
  [Op.BIT_OR]: (x, y) => d2i(x) | d2i(y),
  [Op.BIT_AND]: (x, y) => d2i(x) & d2i(y),
  [Op.BIT_EXCL_OR]: (x, y) => d2i(x) ^ d2i(y),
  [Op.RIGHT_SHIFT_ARITH]: (x, y) => d2i(x) >> (d2i(y) & 31),
  [Op.LEFT_SHIFT_ARITH]: (x, y) => d2i(x) << (d2i(y) & 31),
  [Op.LEFT_SHIFT_LOGIC]: (x, y) => d2i(x) << (d2i(y) & 31),
  [Op.RIGHT_SHIFT_LOGIC]: (x, y) => d2i(x) >>> (d2i(y) & 31),
};

interface Node {
  fn: CalcFn;
  /** Known constant value (no inputs, no RNDM). */
  k?: number;
}

const konst = (k: number): Node => ({ fn: () => k, k });

function binaryNode(op: number, l: Node, r: Node): Node | undefined {
  const lf = l.fn;
  const rf = r.fn;
  let fn: CalcFn;
  switch (op) {
    case Op.ADD:
      fn = (a, v) => lf(a, v) + rf(a, v);
      break;
    case Op.SUB:
      fn = (a, v) => lf(a, v) - rf(a, v);
      break;
    case Op.MULT:
      fn = (a, v) => lf(a, v) * rf(a, v);
      break;
    case Op.DIV:
      fn = (a, v) => lf(a, v) / rf(a, v);
      break;
    case Op.NOT_EQ:
      fn = (a, v) => (lf(a, v) !== rf(a, v) ? 1 : 0);
      break;
    case Op.LESS_THAN:
      fn = (a, v) => (lf(a, v) < rf(a, v) ? 1 : 0);
      break;
    case Op.LESS_OR_EQ:
      fn = (a, v) => (lf(a, v) <= rf(a, v) ? 1 : 0);
      break;
    case Op.EQUAL:
      fn = (a, v) => (lf(a, v) === rf(a, v) ? 1 : 0);
      break;
    case Op.GR_OR_EQ:
      fn = (a, v) => (lf(a, v) >= rf(a, v) ? 1 : 0);
      break;
    case Op.GR_THAN:
      fn = (a, v) => (lf(a, v) > rf(a, v) ? 1 : 0);
      break;
    case Op.REL_OR:
      // both operands are evaluated (they may use RNDM), as calcPerform does
      fn = (a, v) => {
        const x = lf(a, v);
        const y = rf(a, v);
        return x !== 0 || y !== 0 ? 1 : 0;
      };
      break;
    case Op.REL_AND:
      fn = (a, v) => {
        const x = lf(a, v);
        const y = rf(a, v);
        return x !== 0 && y !== 0 ? 1 : 0;
      };
      break;
    default: {
      const f = BINARY[op];
      if (!f) return undefined;
      fn = (a, v) => f(lf(a, v), rf(a, v));
    }
  }
  if (l.k !== undefined && r.k !== undefined) return konst(fn(EMPTY, 0));
  return { fn };
}

const EMPTY = new Float64Array(12);

function fetchNode(i: number): Node {
  return { fn: (a) => a[i] };
}

/** Build the closure tree; undefined when the program needs the interpreter. */
export function compileClosure(p: CalcProgram): CalcFn | undefined {
  const code = p.code;
  const lits = p.literals;
  const stack: Node[] = [];
  const effects: CalcFn[] = [];
  // open conditionals: stack depth at COND_IF (after popping the condition), condition, then-branch
  const conds: Array<{ depth: number; cond: Node; then?: Node }> = [];

  for (let pc = 0; ; pc += 2) {
    const op = code[pc];
    const arg = code[pc + 1];
    if (op === Op.END) break;
    if (op === Op.LITERAL) stack.push(konst(lits[arg]));
    else if (op === Op.FETCH_VAL) stack.push({ fn: (_a, v) => v });
    else if (op >= Op.FETCH_A && op < Op.FETCH_A + 12) stack.push(fetchNode(op - Op.FETCH_A));
    else if (op >= Op.STORE_A && op < Op.STORE_A + 12) {
      // values below the stored one would be read after the store: not expressible here
      if (stack.length !== 1 || conds.length) return undefined;
      const i = op - Op.STORE_A;
      const f = (stack.pop() as Node).fn;
      effects.push((a, v) => (a[i] = f(a, v)));
    } else
      switch (op) {
        case Op.CONST_PI:
          stack.push(konst(PI));
          break;
        case Op.CONST_D2R:
          stack.push(konst(D2R));
          break;
        case Op.CONST_R2D:
          stack.push(konst(R2D));
          break;
        case Op.CONST_S2R:
          stack.push(konst(S2R));
          break;
        case Op.CONST_R2S:
          stack.push(konst(R2S));
          break;
        case Op.RANDOM:
          stack.push({ fn: calcRandom });
          break;
        case Op.MAX:
        case Op.MIN:
        case Op.FINITE:
        case Op.ISNAN: {
          if (stack.length < arg || arg < 1) return undefined;
          const xs = stack.splice(stack.length - arg, arg);
          const fs = xs.map((x) => x.fn);
          const n = fs.length;
          let fn: CalcFn;
          if (op === Op.MAX || op === Op.MIN) {
            const max = op === Op.MAX;
            const vals = new Float64Array(n); // scratch: a node is never evaluated re-entrantly
            fn = (a, v) => {
              // evaluate left to right, reduce right to left as calcPerform does
              for (let i = 0; i < n; i++) vals[i] = fs[i](a, v);
              let acc = vals[n - 1];
              for (let i = n - 2; i >= 0; i--) {
                const x = vals[i];
                if (acc !== acc) continue;
                if (max ? x < acc : x > acc) continue;
                acc = x;
              }
              return acc;
            };
            if (n === 2) {
              const [f0, f1] = fs;
              fn = max
                ? (a, v) => {
                    const x = f0(a, v);
                    const y = f1(a, v);
                    return x < y || y !== y ? y : x;
                  }
                : (a, v) => {
                    const x = f0(a, v);
                    const y = f1(a, v);
                    return x > y || y !== y ? y : x;
                  };
            }
          } else if (op === Op.FINITE) {
            fn = (a, v) => {
              let ok = true;
              for (let i = 0; i < n; i++) if (!Number.isFinite(fs[i](a, v))) ok = false;
              return ok ? 1 : 0;
            };
          } else {
            fn = (a, v) => {
              let any = false;
              for (let i = 0; i < n; i++) {
                const x = fs[i](a, v);
                if (x !== x) any = true;
              }
              return any ? 1 : 0;
            };
          }
          stack.push(xs.every((x) => x.k !== undefined) ? konst(fn(EMPTY, 0)) : { fn });
          break;
        }
        case Op.COND_IF: {
          const c = stack.pop();
          if (!c) return undefined;
          conds.push({ depth: stack.length, cond: c });
          break;
        }
        case Op.COND_ELSE: {
          const top = conds[conds.length - 1];
          if (!top || top.then || stack.length !== top.depth + 1) return undefined;
          top.then = stack.pop();
          break;
        }
        case Op.COND_END: {
          const top = conds.pop();
          if (!top || !top.then || stack.length !== top.depth + 1) return undefined;
          const e = stack.pop() as Node;
          const cf = top.cond.fn;
          const tf = top.then.fn;
          const ef = e.fn;
          if (top.cond.k !== undefined) stack.push(top.cond.k !== 0 ? top.then : e);
          else stack.push({ fn: (a, v) => (cf(a, v) !== 0 ? tf(a, v) : ef(a, v)) });
          break;
        }
        default: {
          const u = UNARY[op];
          if (u) {
            const x = stack.pop();
            if (!x) return undefined;
            const xf = x.fn;
            if (x.k !== undefined) stack.push(konst(u(x.k)));
            else if (op === Op.UNARY_NEG) stack.push({ fn: (a, v) => -xf(a, v) });
            else stack.push({ fn: (a, v) => u(xf(a, v)) });
            break;
          }
          const r = stack.pop();
          const l = stack.pop();
          if (!l || !r) return undefined;
          const n = binaryNode(op, l, r);
          if (!n) return undefined;
          stack.push(n);
        }
      }
  }
  if (stack.length !== 1 || conds.length) return undefined;
  const result = stack[0].fn;
  if (effects.length === 0) return result;
  if (effects.length === 1) {
    const e0 = effects[0];
    return (a, v) => {
      e0(a, v);
      return result(a, v);
    };
  }
  return (a, v) => {
    for (let i = 0; i < effects.length; i++) effects[i](a, v);
    return result(a, v);
  };
}
