/**
 * The Motor example of the 2014 pyepics talk, against the demo IOC's simulated motor:
 * fields by name or English alias, move in dial coordinates with wait, ten forward tweaks.
 *
 *   tsepics demo &      then      node dist/examples/motor-tweak.js [sim:mtr1]
 */
import { Motor, closeClient } from '../src/devices/index.js';

async function main(): Promise<void> {
  const m1 = await Motor.create(process.argv[2] ?? 'sim:mtr1');
  console.log('Motor:', m1.DESC, ' Currently at', m1.RBV);
  m1.tweakVal = 0.1; // or m1.TWV = 0.10 (a put without waiting)
  const r = await m1.move(0.0, { dial: true, wait: true });
  console.log('move to dial 0:', r.result, `(pyepics code ${r.code})`);
  for (let i = 0; i < 10; i++) {
    await m1.tweak('forward', { wait: true });
    console.log('Motor:', m1.DESC, ' at', await m1.getPosition({ readback: true }));
  }
  console.log(m1.drive, m1.description, m1.slewSpeed);
  console.log(await m1.get('device_type', { asString: true }));
  const refused = await m1.move(1e9);
  console.log('move far beyond the soft limits:', refused.result, refused.code);
  m1.disconnect();
}

main()
  .catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  })
  .finally(() => closeClient());
