/**
 * A small shared pool of large byte buffers (reassembly of big messages, encoding of big replies).
 *
 * Fresh memory is far from free: every page of a new 16 MB buffer is faulted in on first touch
 * (and, in a VM that returns freed memory to its host, faulted in again at the host), which costs
 * several times the copy of those bytes. A buffer that is handed back once its bytes are no longer
 * needed is reused by the next large message instead: its pages are already mapped.
 *
 * Rules: `take` gives a Buffer of exactly the size asked for, of undefined contents, backed by an
 * ArrayBuffer of its own. Whoever took it may `give` it back once nothing reads or writes it any
 * more (after the socket write completed, after the message was decoded); giving back is optional
 * (a buffer never given back is simply garbage collected). The pool keeps at most `maxBytes`.
 */

/**
 * glibc's malloc serves blocks above M_MMAP_THRESHOLD (128 KiB at start) with a fresh mmap each, and
 * gives back (trims) free heap memory above M_TRIM_THRESHOLD (128 KiB): every large array, and the
 * 64 KiB socket reads of a large message once freed, then cost fresh pages again. Freeing one block
 * that came from mmap raises both thresholds for the rest of the process (mallopt(3), "dynamic mmap
 * threshold": to the block's size, at most 32 MiB, and twice that), so that memory is reused.
 * A process that moves large arrays does that once, with this block (freed at its next GC).
 */
const PRIMER_SIZE = 32 * 1024 * 1024 - 16 * 1024;
let primed = false;

/**
 * Make large allocations of this process reuse freed memory (see PRIMER_SIZE): called when a large
 * array is first handled. Harmless where the C library does not work that way.
 */
export function primeLargeAllocations(): void {
  if (primed) return;
  primed = true;
  // allocated (by mmap: larger than the threshold), never referenced: freed at the next GC
  Buffer.allocUnsafeSlow(PRIMER_SIZE).fill(0, 0, 1);
}

/** Buffers below this size are not worth pooling (allocation from the heap is cheap). */
export const POOL_MIN_SIZE = 256 * 1024;
/** Capacity granularity: sizes that differ by a little share buffers. */
const GRANULE = 64 * 1024;

export class BufferPool {
  /** Idle buffers, smallest first. */
  private readonly idle: ArrayBuffer[] = [];
  private idleBytes = 0;
  /** Memory handed out by `take` and not given back yet (only that is accepted back). */
  private readonly lent = new WeakSet<ArrayBuffer>();

  constructor(
    /** Largest total size of the idle buffers kept. */
    readonly maxBytes = 64 * 1024 * 1024,
    /** Requests smaller than this get a plain (unpooled) buffer. */
    readonly minSize = POOL_MIN_SIZE,
  ) {}

  /** Bytes held by idle buffers. */
  get bytesHeld(): number {
    return this.idleBytes;
  }

  /** Number of idle buffers. */
  get buffersHeld(): number {
    return this.idle.length;
  }

  /** A buffer of `size` bytes (contents undefined): an idle one when one is big enough. */
  take(size: number): Buffer {
    if (size < this.minSize) return Buffer.allocUnsafe(size);
    primeLargeAllocations();
    const idle = this.idle;
    for (let i = 0; i < idle.length; i++) {
      const ab = idle[i]!;
      if (ab.byteLength >= size) {
        idle.splice(i, 1);
        this.idleBytes -= ab.byteLength;
        this.lent.add(ab);
        return Buffer.from(ab, 0, size);
      }
    }
    const ab = Buffer.allocUnsafeSlow(Math.ceil(size / GRANULE) * GRANULE).buffer;
    this.lent.add(ab);
    return Buffer.from(ab, 0, size);
  }

  /**
   * Hand back a buffer obtained from `take` (any view of its memory will do). The caller must not
   * touch it afterwards. Anything else (a buffer the pool did not lend, one given back twice) is
   * ignored, so memory is never lent out twice.
   */
  give(buf: ArrayBufferView): void {
    const ab = buf.buffer;
    if (!(ab instanceof ArrayBuffer) || !this.lent.has(ab)) return;
    this.lent.delete(ab);
    const cap = ab.byteLength;
    if (cap > this.maxBytes) return;
    const idle = this.idle;
    // make room by dropping the smallest idle buffers (the larger ones serve more requests)
    while (this.idleBytes + cap > this.maxBytes && idle.length > 0) {
      if (idle[0]!.byteLength > cap) return; // everything kept is larger: keep those
      this.idleBytes -= idle.shift()!.byteLength;
    }
    let i = 0;
    while (i < idle.length && idle[i]!.byteLength < cap) i++;
    idle.splice(i, 0, ab);
    this.idleBytes += cap;
  }

  /** Drop every idle buffer. */
  clear(): void {
    this.idle.length = 0;
    this.idleBytes = 0;
  }
}

/** The pool shared by the client and the server of this process. */
export const largeBuffers = new BufferPool();
