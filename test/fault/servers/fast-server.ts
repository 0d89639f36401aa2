// A CA server process for the slow-consumer test: serves S:wave (20,000 doubles) posted as fast as
// the event loop allows while S:run is 1. Writing 0 to S:run stops the pump and posts a last
// update whose first element is -1; S:count holds the number of updates posted. Prints
// `{"port": N}` on stdout once serving; exits on SIGTERM / stdin EOF. Loopback only.
import { serve } from '../../../src/server/index.js';

const N = 20000;

async function main(): Promise<void> {
  const wave = new Float64Array(N);
  let posts = 0;
  let running = true;
  const server = await serve({
    port: 0,
    env: {
      EPICS_CAS_INTF_ADDR_LIST: '127.0.0.1',
      EPICS_CAS_AUTO_BEACON_ADDR_LIST: 'NO',
      EPICS_CAS_BEACON_ADDR_LIST: '127.0.0.1',
      EPICS_CAS_BEACON_PORT: '9',
    },
    pvs: {
      'S:wave': { type: 'double', count: N },
      'S:count': { type: 'long', value: 0 },
      'S:run': {
        type: 'long',
        value: 1,
        onPut: (v) => {
          if (v === 0 && running) {
            running = false;
            wave[0] = -1;
            server.pv('S:wave').post(wave);
            server.pv('S:count').post(posts);
          }
        },
      },
    },
  });
  const pump = (): void => {
    if (!running) return;
    wave[0] = ++posts;
    server.pv('S:wave').post(wave);
    setImmediate(pump);
  };
  pump();
  const stop = (): void => {
    running = false;
    void server.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
  process.stdout.write(JSON.stringify({ port: server.tcpPort }) + '\n');
}

void main();
