/**
 * The README's quick tour, as a script that runs: serve a few PVs from code, then read, write and
 * watch them with the pyepics-style client. Run it with the CA environment pointing at loopback:
 *
 *   EPICS_CA_ADDR_LIST=127.0.0.1 EPICS_CA_AUTO_ADDR_LIST=NO EPICS_CA_SERVER_PORT=25064 \
 *     node dist/examples/quickstart.js
 *
 * It prints what it reads and exits by itself (no explicit close of the client is needed).
 */
import { caget, caput, cagetMany, PV, serve } from '../src/index.js';

async function main(): Promise<void> {
  // A CA server with PVs declared from code (a soft IOC loading .db files is `tsepics ioc -d`).
  const server = await serve({
    pvs: {
      'QS:temp': { type: 'double', value: 21.5, units: 'degC', precision: 2, highAlarm: 90, highWarning: 80 },
      'QS:mode': { type: 'enum', enumStrs: ['Idle', 'Acquire', 'Readout'], value: 0 },
      'QS:file': { type: 'char', count: 128, value: 'scan_0001.h5' },
      'QS:wave': { type: 'double', count: 8, value: [1, 2, 3, 4, 5, 6, 7, 8] },
      'QS:setpoint': {
        type: 'double',
        value: 0,
        // Completion of this handler is what put-with-wait (WRITE_NOTIFY) clients wait for.
        onPut: async () => {
          await new Promise((r) => setTimeout(r, 200));
        },
      },
    },
  });

  // Procedural functions: await caget / caput, with pyepics' options in camelCase.
  console.log('temp =', await caget('QS:temp'));
  console.log('mode =', await caget('QS:mode', { asString: true }));
  console.log('file =', await caget('QS:file', { asString: true }));
  console.log('wave =', Array.from((await caget('QS:wave')) as Float64Array));
  await caput('QS:mode', 'Acquire', { wait: true }); // enum by state string
  const t0 = Date.now();
  await caput('QS:setpoint', 1.25, { wait: true }); // returns when the server's handler finished
  console.log(`put with wait took ${Date.now() - t0 >= 200 ? '>= 200' : '< 200'} ms`);
  console.log('many =', await cagetMany(['QS:temp', 'QS:mode', 'QS:setpoint']));

  // PV objects: connection and monitoring are automatic; callbacks get pyepics' keywords.
  const pv = new PV('QS:temp');
  await pv.waitForConnection(5);
  await pv.getCtrlVars(); // units, precision, limits (pyepics fetches them on first use)
  const seen = new Promise<void>((resolve) => {
    pv.addCallback(({ pvname, value, severity, units }) => {
      if (value === 95) {
        console.log(`callback: ${pvname} = ${String(value)} ${String(units)} severity ${String(severity)}`);
        resolve();
      }
    });
  });
  server.pv('QS:temp').post(95); // the server posts a new value: above HIHI
  await seen;
  console.log('units =', pv.units, 'precision =', pv.precision, 'upperAlarmLimit =', pv.upperAlarmLimit);
  pv.disconnect();

  await server.stop();
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
