/**
 * Shared pieces of the fuzz tests (test/fault/{client,ioc}-fuzz, test/integration/server-fuzz):
 * the seeded PRNG (reproducible from a printed seed), random integers and bytes, and re-encoding
 * of recorded messages.
 */
import { encodeMessage, type Message } from '../../src/protocol/header.js';

/** Small deterministic PRNG (mulberry32): uniform numbers in [0, 1), reproducible from the seed. */
export { prng as rng } from '../../src/ioc/records/sim-framework.js';

/** A random integer in [0, n) drawn from `r`. */
export function randInt(r: () => number, n: number): number {
  return Math.floor(r() * n);
}

/** `n` random bytes drawn from `r`. */
export function randomBytes(r: () => number, n: number): Buffer {
  const g = Buffer.alloc(n);
  for (let i = 0; i < g.length; i++) g[i] = randInt(r, 256);
  return g;
}

/** Overwrite 1 to 4 random bytes of `out` (in place) with random values; returns `out`. */
export function flipBytes(out: Buffer, r: () => number): Buffer {
  for (let i = 0; i < 1 + randInt(r, 4) && out.length; i++) out[randInt(r, out.length)] = randInt(r, 256);
  return out;
}

/** A decoded message encoded again (header and payload as they were recorded). */
export function reencode(m: Message): Buffer {
  return encodeMessage(
    {
      command: m.command,
      dataType: m.dataType,
      dataCount: m.dataCount,
      parameter1: m.parameter1,
      parameter2: m.parameter2,
    },
    m.payload,
  );
}
