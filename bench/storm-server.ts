/**
 * A monitor storm source for the benchmark: serves `n` DOUBLE PVs `STORM:<i>` from code and posts a
 * new value to all of them `hz` times a second (n × hz events/s in total), on the CA ports of the
 * environment. Prints `ready` once serving; exits on SIGTERM/SIGINT or when stdin closes.
 *
 *   node dist/bench/storm-server.js n=1000 hz=100
 */
import { serve } from '../src/server/pv-server.js';
import type { PvSpec } from '../src/server/pv-server.js';
import { STORM_PREFIX } from './gen-db.js';

async function main(): Promise<void> {
  const args: Record<string, string> = {};
  for (const kv of process.argv.slice(2)) {
    const i = kv.indexOf('=');
    if (i > 0) args[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const n = Number(args.n ?? 1000);
  const hz = Number(args.hz ?? 100);
  if (!(Number.isInteger(n) && n > 0 && hz > 0)) throw new Error(`bad n=${args.n} hz=${args.hz}`);
  const pvs: Record<string, PvSpec> = {};
  for (let i = 0; i < n; i++) pvs[`${STORM_PREFIX}${i}`] = { type: 'double', value: 0 };
  const server = await serve({ pvs });
  const served = Array.from({ length: n }, (_, i) => server.pv(`${STORM_PREFIX}${i}`));
  let k = 0;
  // Timers fire at most every ~1 ms: post in batches so the total rate is n × hz events/s.
  const t0 = performance.now();
  let posted = 0;
  const tick = setInterval(() => {
    const due = Math.floor(((performance.now() - t0) / 1000) * hz);
    for (; posted < due; posted++) {
      k++;
      for (let i = 0; i < n; i++) served[i]!.post(k + i);
    }
  }, 5);
  const stop = (): void => {
    clearInterval(tick);
    void server.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
  process.stdout.write(`ready ${server.tcpPort}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`storm-server: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
