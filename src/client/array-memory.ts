/**
 * Memory of the large arrays the client hands out, reused soon after the user drops them.
 *
 * Each large array a get or a monitor delivers is memory of its own that the user owns (the bytes
 * were read straight into it). V8 frees that memory only when a garbage collection finds the array
 * dead, and nothing in a loop of large gets prompts one: they allocate few JavaScript objects, and
 * external memory only forces a collection after ~64 MB more of it. So a process that reads a 16 MB
 * waveform again and again holds several dead copies before the first is freed, and each new one is
 * fresh memory: 3,900 page faults, 50-70 ms on a VM, several times the time its bytes take to arrive.
 * (CPython frees such an array the moment its last reference goes, and pyepics reuses the memory
 * from its second get on.)
 *
 * So before the client allocates a large array, if it handed out large arrays since the last time,
 * it collects the young generation (a scavenge: 0.1-0.5 ms), and the arrays the user dropped give
 * their memory to the new one. An array still referenced at two such collections (kept for a
 * while, or left in a finished function's frame) moves to the old generation, which V8 collects in
 * its own time; it then costs one fresh array more, once.
 *
 * V8 offers collections through its `gc` extension only: Node installs it with --expose-gc, and
 * otherwise it is taken once from a context created with that flag set for the moment (cleared
 * again at once, so no other context gets it).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Arrays at least this large are worth a collection. */
const COLLECT_MIN_BYTES = 1024 * 1024;

type Collector = (options: { type: 'minor' }) => void;

let collector: Collector | null | undefined;
/** Whether a large array was handed out since the last collection. */
let delivered = false;
/** Whether a large array was allocated yet. */
let started = false;

function getCollector(): Collector | null {
  if (collector !== undefined) return collector;
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === 'function') return (collector = exposed as Collector);
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    collector = typeof gc === 'function' ? (gc as Collector) : null;
  } catch {
    collector = null;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
  return collector;
}

/** Whether this process chose how ArrayBuffers are swept (then that is left alone). */
const sweepingChosen = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) =>
  a.includes('concurrent-array-buffer-sweeping'),
);

/** Collect the young generation now, its dead ArrayBuffers freed before this returns. */
function collectYoung(gc: Collector): void {
  if (sweepingChosen) return gc({ type: 'minor' });
  // V8 frees the memory of dead ArrayBuffers on a background thread after a collection; when that
  // thread is late, the allocation that follows still gets fresh memory. Just for this collection,
  // they are freed by the collection itself.
  setFlagsFromString('--no-concurrent-array-buffer-sweeping');
  try {
    gc({ type: 'minor' });
  } finally {
    setFlagsFromString('--concurrent-array-buffer-sweeping');
  }
}

/** A large array the client received was handed over to its user (who may keep or drop it). */
export function largeArrayDelivered(bytes: number): void {
  if (bytes >= COLLECT_MIN_BYTES) delivered = true;
}

/**
 * The client is about to allocate a large array of `bytes` for a message that started arriving:
 * collect the young generation first if large arrays were handed out since the last time, or if
 * this is the first large array (then for the block `primeLargeAllocations` has just dropped).
 */
export function beforeLargeArray(bytes: number): void {
  if (bytes < COLLECT_MIN_BYTES || (started && !delivered)) return;
  started = true;
  delivered = false;
  const gc = getCollector();
  if (gc) collectYoung(gc);
}
