/**
 * The README's code snippets, type-checked by `npm test` (tsc) so the README cannot drift from the
 * API. Not meant to be run as a whole: each function is one snippet (they need the demo IOC).
 */
import {
  caget,
  caput,
  cagetMany,
  caputMany,
  cainfo,
  camonitor,
  PV,
  ca,
  DBR,
  serve,
  Device,
  Motor,
  Alarm,
  Scaler,
  autosave,
} from '../src/index.js';

export async function clientSnippet(): Promise<void> {
  const v = await caget('id01:dbl1');
  const mode = await caget('id01:mbbi1', { asString: true });
  const name = await caget('id01:filename', { asString: true });
  await caput('sim:mtr1', 1.5, { wait: true, timeout: 30 });
  const values = await cagetMany(['id01:dbl1', 'id01:int1', 'nope']);
  const status = await caputMany(['id01:dbl2', 'id01:int2'], [1.5, 7], { wait: 'all' });
  console.log(v, mode, name, values, status);
  console.log(await cainfo('id01:dbl1', { printOut: false }));
  await camonitor('id01:dbl1', { callback: ({ pvname, value }) => console.log(pvname, value) });

  const pv = new PV('id01:dbl1');
  await pv.waitForConnection(5);
  await pv.getCtrlVars();
  pv.addCallback(({ pvname, value, charValue, severity, timestamp, units }) => {
    console.log(pvname, value, charValue, units, severity, new Date((timestamp ?? 0) * 1000));
  });
  for await (const ev of pv.monitor()) {
    if ((ev.value as number) > 12) break;
  }
  await pv.put(3.5, { wait: true });
  pv.disconnect();
}

export async function caSnippet(): Promise<void> {
  const chid = ca.createChannel('id01:dwave');
  await ca.connectChannel(chid, 2);
  const data = await ca.get(chid, { ftype: DBR.TIME_DOUBLE, count: 16 });
  console.log(data);
}

export async function serveSnippet(moveSomething: (v: unknown) => Promise<void>): Promise<void> {
  const server = await serve({
    pvs: {
      'DEMO:temp': {
        type: 'double',
        value: 21.5,
        units: 'degC',
        precision: 2,
        highAlarm: 90,
        highWarning: 80,
      },
      'DEMO:state': { type: 'enum', enumStrs: ['Off', 'On'], value: 0 },
      'DEMO:wave': { type: 'double', count: 1000 },
      'DEMO:setpoint': { type: 'double', onPut: async (value) => moveSomething(value) },
    },
  });
  server.pv('DEMO:temp').post(85);
  await server.stop();
}

export async function devicesSnippet(): Promise<void> {
  const m1 = await Motor.create('sim:mtr1');
  const r = await m1.move(0.5, { wait: true });
  console.log(r.result, r.code, m1.readback, m1.slewSpeed, await m1.getPosition({ dial: true }));
  await m1.tweak('forward', { wait: true });

  class Station extends Device {
    constructor(prefix: string) {
      super(prefix, { delim: ':', attrs: ['dbl1', 'int1', 'mbbi1', 'str1'] });
    }
    mean(): number {
      return (this.cachedNumber('dbl1') + this.cachedNumber('int1')) / 2;
    }
  }
  const st = await Station.create('id01');
  console.log(st.mean());

  new Alarm({
    pvname: 'id01:int1',
    comparison: 'ge',
    tripPoint: 7,
    alertDelay: 10,
    callback: (ev) => console.log(ev),
  });

  const sc = await Scaler.create('sim:scaler1');
  await sc.count(1.0, { wait: true });
  console.log(await sc.read());

  await autosave.saveState('positions.req', 'positions.sav', { macros: { P: 'sim:' } });
  await autosave.restoreState('positions.sav');
}
