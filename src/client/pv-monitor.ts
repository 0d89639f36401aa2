/**
 * PV.monitor(): a PV's updates as a bounded async iterator.
 */
import type { Context } from './context.js';
import type { PVCallbackArgs, PVMonitorOptions } from './pv-types.js';

/** What the iterator needs of its PV (whose state is private to it). */
export interface MonitorHooks {
  context: Context;
  /** Add an iterator's listener to the PV (runCallbacks() feeds it; undefined means the PV was disconnected). */
  listen(push: (d: PVCallbackArgs) => void): void;
  unlisten(push: (d: PVCallbackArgs) => void): void;
  /** The current data as callback arguments, or undefined when no value is known. */
  current(): PVCallbackArgs | undefined;
  /** Subscribe when connected and not monitored yet. */
  ensureMonitored(): void;
}

/**
 * The updates as an async iterator: `for await (const ev of pv.monitor()) ...`, starting with the
 * current value when one is known. The queue is bounded
 * (queueSize, default 1): when the consumer falls behind the oldest updates are dropped (latest wins).
 * Ends when the loop breaks, the signal aborts or the PV is disconnected.
 */
export async function* monitorUpdates(
  hooks: MonitorHooks,
  opts: PVMonitorOptions = {},
): AsyncGenerator<PVCallbackArgs, void, undefined> {
  const size = Math.max(1, opts.queueSize ?? 1);
  const queue: PVCallbackArgs[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  const push = (d: PVCallbackArgs): void => {
    if (d === undefined) ended = true;
    else {
      queue.push(d);
      if (queue.length > size) queue.shift();
    }
    wake?.();
  };
  const onAbort = (): void => {
    ended = true;
    wake?.();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  hooks.listen(push);
  if (opts.current ?? true) {
    const cur = hooks.current();
    if (cur !== undefined) queue.push(cur);
  }
  hooks.ensureMonitored();
  try {
    for (;;) {
      if (queue.length) {
        yield queue.shift()!;
        continue;
      }
      if (ended || opts.signal?.aborted) return;
      // waiting for an update is a pending operation: keep the process alive meanwhile
      hooks.context._hold();
      try {
        await new Promise<void>((r) => (wake = r));
      } finally {
        hooks.context._release();
      }
      wake = undefined;
    }
  } finally {
    hooks.unlisten(push);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
