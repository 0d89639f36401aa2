/**
 * Building a device by subclassing Device (the pattern of the 2014 pyepics talk's Scaler example):
 * the fields become attributes, and methods turn the PV collection into a high-level object.
 *
 * Run the demo IOC first (`tsepics demo`), then:
 *   node dist/examples/custom-device.js [prefix]       (default prefix id01)
 */
import { Device, closeClient } from '../src/devices/index.js';

/** One classroom station: three noisy doubles, a mode enum, a status string. */
class Station extends Device {
  constructor(prefix: string) {
    // delim ':' → PV names id01:dbl1, id01:mbbi1, ...
    super(prefix, { delim: ':', attrs: ['dbl1', 'dbl2', 'dbl3', 'int1', 'mbbi1', 'str1', 'bo1'] });
  }

  /** Mean of the three doubles, from the monitored values (no network round trip). */
  mean(): number {
    return (this.cachedNumber('dbl1') + this.cachedNumber('dbl2') + this.cachedNumber('dbl3')) / 3;
  }

  /** Switch the station on and leave a note. */
  async switchOn(note: string): Promise<void> {
    await this.put('bo1', 1, { wait: true });
    await this.put('str1', note.slice(0, 39), { wait: true });
  }

  /** Mode label of the enum record. */
  mode(): string {
    return this.cachedString('mbbi1');
  }
}

async function main(): Promise<void> {
  const prefix = process.argv[2] ?? 'id01';
  const st = await Station.create(prefix);
  console.log(String(st), 'unconnected:', st.unconnected());
  console.log('dbl1 =', st.dbl1, ' int1 =', st.int1, ' mode =', st.mode());
  console.log('mean of the doubles =', st.mean().toFixed(4));
  await st.switchOn(`switched on at ${new Date().toISOString().slice(11, 19)}`);
  console.log('bo1 =', await st.get('bo1', { asString: true }), ' str1 =', await st.get('str1'));
  const saved = await st.saveState();
  console.log('state:', saved);
  st.disconnect();
}

main()
  .catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  })
  .finally(() => closeClient());
