/** Helpers for the simulated-record unit tests (test/unit/sim-*.test.ts): a simulation on a fake clock. */
import type { FieldDef } from '../../src/ioc/fields.js';
import {
  FakeClock,
  MemoryHost,
  type ArraySizes,
  type RecordSimulation,
} from '../../src/ioc/records/sim-framework.js';

export interface SimSetup<S extends RecordSimulation> {
  clock: FakeClock;
  host: MemoryHost;
  sim: S;
  /** Write a field as a CA put does, then let the simulation handle it (resolves when its action ends). */
  put(field: string, value: number): Promise<void>;
}

/**
 * A MemoryHost over `defs` on a FakeClock, `fields` stored in order, then `make(host)` initialized.
 * `arrays`: array fields (name -> element count) of the host.
 */
export function setupSim<S extends RecordSimulation>(
  defs: readonly FieldDef[],
  fields: Record<string, number>,
  make: (host: MemoryHost) => S,
  arrays: ArraySizes = {},
): SimSetup<S> {
  const clock = new FakeClock();
  const host = new MemoryHost(defs, clock, arrays);
  for (const [k, v] of Object.entries(fields)) host.set(k, v);
  const sim = make(host);
  sim.init();
  const put = (field: string, value: number): Promise<void> => {
    host.write(field, value);
    return sim.put(field);
  };
  return { clock, host, sim, put };
}

/** Track whether a promise has settled. */
export function track(p: Promise<void>): { done: boolean } {
  const s = { done: false };
  void p.then(() => (s.done = true));
  return s;
}

/** Let pending promise callbacks run. */
export const flush = (): Promise<void> => new Promise<void>((r) => setImmediate(r));
