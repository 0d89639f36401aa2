/**
 * The context's table of pending get / put operations (keyed by ioid): starting one (timer, keeping
 * the process alive), settling it once, and completing it from its reply (READ_NOTIFY, WRITE_NOTIFY,
 * or an ERROR standing in for one).
 */
import { Command, ECA, ecaIsSuccess, ecaMessage } from '../protocol/constants.js';
import type { Message } from '../protocol/header.js';
import type { Channel, GetResult } from './channel.js';
import type { Context } from './context.js';
import { decodeResult } from './decode-result.js';
import { AccessError, GetError, PutError, TimeoutError } from './errors.js';

/** @internal */
export interface PendingOp {
  ioid: number;
  channel: Channel;
  kind: 'get' | 'put';
  dbrType: number;
  timer: NodeJS.Timeout | undefined;
  resolve(v: GetResult | undefined): void;
  reject(e: Error): void;
}

/** @internal start an operation: a new ioid in the context's table, a timeout, the process held. */
export function startOp(
  ctx: Context,
  ch: Channel,
  kind: 'get' | 'put',
  dbrType: number,
  timeout: number,
  resolve: (v: GetResult | undefined) => void,
  reject: (e: Error) => void,
): PendingOp {
  const op: PendingOp = {
    ioid: ctx._nextId(),
    channel: ch,
    kind,
    dbrType,
    timer: undefined,
    resolve,
    reject,
  };
  ctx._ops.set(op.ioid, op);
  (ch.pending ??= new Set()).add(op);
  ctx._hold();
  op.timer = setTimeout(() => {
    op.timer = undefined;
    finishOp(
      ctx,
      op,
      new TimeoutError(`${kind} of '${ch.name}' timed out after ${timeout} s`, { pvname: ch.name }),
    );
  }, timeout * 1000);
  op.timer.unref();
  return op;
}

/** @internal settle an operation once. */
export function finishOp(ctx: Context, op: PendingOp, err: Error | undefined, value?: GetResult): void {
  if (!ctx._ops.delete(op.ioid)) return;
  if (op.timer) clearTimeout(op.timer);
  op.channel.pending?.delete(op);
  ctx._release();
  if (err) op.reject(err);
  else op.resolve(value);
}

/** @internal complete an operation from its reply. */
export function completeOp(op: PendingOp, m: Message, ctx: Context, owned = false): void {
  const status = m.command === Command.READ ? ECA.NORMAL : m.parameter1;
  const name = op.channel.name;
  if (!ecaIsSuccess(status)) {
    const text = ecaMessage(status);
    const E =
      status === ECA.NORDACCESS || status === ECA.NOWTACCESS
        ? AccessError
        : op.kind === 'get'
          ? GetError
          : PutError;
    finishOp(ctx, op, new E(`${text} (${name})`, { eca: status, pvname: name }));
    return;
  }
  if (op.kind === 'put') {
    finishOp(ctx, op, undefined, undefined);
    return;
  }
  let r: GetResult;
  try {
    r = decodeResult(m, owned);
  } catch (err) {
    finishOp(
      ctx,
      op,
      new GetError(`bad reply for '${name}': ${(err as Error).message}`, {
        eca: ECA.GETFAIL,
        pvname: name,
      }),
    );
    return;
  }
  finishOp(ctx, op, undefined, r);
}
