/**
 * Alarm: call back when a PV crosses a trip point (not on every update while tripped), at most
 * once per alertDelay seconds. Watches the demo IOC's random integer id01:int1 (0..9) for >= 7.
 *
 *   node dist/examples/alarm-watch.js [seconds]
 */
import { Alarm, closeClient } from '../src/devices/index.js';

const seconds = Number(process.argv[2] ?? 20);
const alarm = new Alarm({
  pvname: 'id01:int1',
  comparison: 'ge',
  tripPoint: 7,
  alertDelay: 3,
  callback: ({ pvname, value, tripPoint, comparison }) => {
    console.log(
      `${new Date().toISOString()} ALARM ${pvname} = ${String(value)} (${comparison} ${String(tripPoint)})`,
    );
  },
});
setTimeout(() => {
  alarm.clear();
  void closeClient();
}, seconds * 1000);
