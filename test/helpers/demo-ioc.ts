/**
 * The in-process demo IOC on loopback with a CA client context and a device PV factory on it:
 * the shared setup of the device integration tests (test/integration/devices-*-ioc.test.ts).
 */
import { Context } from '../../src/client/context.js';
import { startDemoIoc, type DemoIoc } from '../../src/cli/demo.js';
import { makeClientPvFactory, type ClientPvFactory } from '../../src/devices/client-pv.js';

export interface DemoSetup {
  ioc: DemoIoc;
  ctx: Context;
  client: ClientPvFactory;
  /** Close the factory, the context and the IOC, in that order. */
  close(): Promise<void>;
}

/** Start the demo IOC (`count` prefixes id01.., `motors` motors) on a free port, loopback only, with a client on it. */
export async function startDemoSetup(opts: { count: number; motors: number }): Promise<DemoSetup> {
  const ioc = await startDemoIoc({
    port: 0,
    count: opts.count,
    motors: opts.motors,
    env: {
      EPICS_CAS_INTF_ADDR_LIST: '127.0.0.1',
      EPICS_CAS_BEACON_ADDR_LIST: '127.0.0.1',
      EPICS_CAS_AUTO_BEACON_ADDR_LIST: 'NO',
    },
  });
  const ctx = new Context({
    env: {
      EPICS_CA_ADDR_LIST: '127.0.0.1',
      EPICS_CA_AUTO_ADDR_LIST: 'NO',
      EPICS_CA_SERVER_PORT: String(ioc.port),
    },
    repeater: false,
  });
  const client = makeClientPvFactory({ context: ctx });
  return {
    ioc,
    ctx,
    client,
    async close(): Promise<void> {
      await client.close();
      await ctx.close();
      await ioc.stop();
    },
  };
}
