/**
 * The Scaler of the 2014 pyepics talk against the demo IOC's simulated scaler: one-shot mode,
 * count for a preset time, read channel names and counts.
 *
 *   node dist/examples/scaler-count.js [seconds]
 */
import { Scaler, closeClient } from '../src/devices/index.js';

async function main(): Promise<void> {
  const s1 = await Scaler.create('sim:scaler1', { nchan: 8 });
  await s1.oneShotMode();
  const t = Number(process.argv[2] ?? 1);
  await s1.count(t, { wait: true });
  const names = await s1.getNames();
  const counts = await s1.read();
  console.log(`counted ${t} s:`);
  names.forEach((n, i) => console.log(`  ${(n || `S${i + 1}`).padEnd(8)} ${counts[i]}`));
  s1.disconnect();
}

main()
  .catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  })
  .finally(() => closeClient());
