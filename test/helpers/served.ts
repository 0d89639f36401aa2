/**
 * A tsepics CA server of code-declared PVs on loopback with a client Context on it: the shared
 * setup of the client-against-our-server tests (test/integration/client-{server,large-array}).
 */
import { Context } from '../../src/client/context.js';
import { serve, type PvServer, type PvSpec } from '../../src/server/pv-server.js';

export interface ServedClient {
  srv: PvServer;
  ctx: Context;
  /** Close the context, then stop the server. */
  close(): Promise<void>;
}

/**
 * Serve `pvs` on a free port of 127.0.0.1 (beacons to the discard port) and open a client Context
 * that searches only there (no repeater, CA exceptions ignored). `env` is added to both sides'
 * environment (e.g. EPICS_CA_MAX_ARRAY_BYTES).
 */
export async function serveWithClient(
  pvs: Record<string, PvSpec>,
  env: Record<string, string> = {},
): Promise<ServedClient> {
  const base = {
    EPICS_CAS_AUTO_BEACON_ADDR_LIST: 'NO',
    EPICS_CAS_BEACON_ADDR_LIST: '127.0.0.1',
    EPICS_CA_AUTO_ADDR_LIST: 'NO',
    EPICS_CA_ADDR_LIST: '127.0.0.1',
    ...env,
  };
  const srv = await serve({
    port: 0,
    interfaces: ['127.0.0.1'],
    env: { ...base, EPICS_CAS_BEACON_PORT: '9' },
    pvs,
  });
  const ctx = new Context({
    env: { ...base, EPICS_CA_SERVER_PORT: String(srv.udpPort) },
    repeater: false,
    onException: () => {},
  });
  return {
    srv,
    ctx,
    async close(): Promise<void> {
      await ctx.close();
      await srv.stop();
    },
  };
}
