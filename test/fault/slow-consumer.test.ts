// A slow consumer: the real client's monitor callback blocks for 20 ms per update while a server in
// another process posts a 160 kB waveform as fast as it can. Flow control and coalescing must keep
// the client's memory bounded (no queue of stale updates), and once the consumer is fast again the
// latest value arrives at once.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Context } from '../../src/client/context.js';
import { DBR } from '../../src/protocol/constants.js';
import { childEnv } from '../helpers/ports.js';
import { CrashGuard, LOOPBACK, figure, mb, memNow, until } from './helpers.js';

const SERVER = fileURLToPath(new URL('./servers/fast-server.js', import.meta.url));

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* a slow consumer */
  }
}

describe('slow consumer', () => {
  it('a blocking monitor callback: bounded memory, updates coalesced, latest value at once afterwards', async (t) => {
    const guard = new CrashGuard().install();
    const child = spawn(process.execPath, [SERVER], { env: childEnv(), stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    let ctx: Context | undefined;
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error('fast-server did not start')), 20000);
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          const m = /\{"port": ?(\d+)\}/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        });
        child.once('exit', () => reject(new Error('fast-server exited')));
      });
      ctx = new Context({
        env: { EPICS_CA_ADDR_LIST: `${LOOPBACK}:${port}`, EPICS_CA_AUTO_ADDR_LIST: 'NO' },
        repeater: false,
        onException: () => undefined,
      });
      const wave = ctx.channel('S:wave');
      const run = ctx.channel('S:run');
      const count = ctx.channel('S:count');
      await Promise.all([wave, run, count].map((c) => c.waitForConnection(5)));
      const mem0 = memNow();
      let peak = mem0;
      let slow = true;
      let delivered = 0;
      let last = 0;
      let lastAt = 0;
      wave.subscribe({ dbrType: DBR.DOUBLE }, (d) => {
        delivered++;
        last = (d.value as Float64Array)[0];
        lastAt = performance.now();
        peak = Math.max(peak, memNow());
        if (slow) busy(20);
      });
      const t0 = performance.now();
      await until(() => performance.now() - t0 > 2500, 5, 'the slow phase');
      slow = false;
      const deliveredSlow = delivered;
      const stopAt = performance.now();
      await run.put(new Int32Array([0]), { dbrType: DBR.LONG, wait: true, timeout: 10 });
      await until(() => last === -1, 5, 'the last update');
      const latestMs = lastAt - stopAt;
      const posts = (await count.get({ dbrType: DBR.LONG, timeout: 5 })).value as Int32Array;
      const growth = peak - mem0;
      figure(
        t,
        `slow consumer: ${posts[0]} updates posted, ${deliveredSlow} delivered while slow (${posts[0] - deliveredSlow} coalesced), peak memory +${mb(growth)}, last value ${latestMs.toFixed(1)} ms after the stop request`,
      );
      assert.ok(deliveredSlow >= 20, `only ${deliveredSlow} updates delivered while slow`);
      assert.ok(posts[0] > deliveredSlow * 2, 'the server coalesced rather than queued');
      assert.ok(growth < 100 * 1048576, `client memory grew by ${mb(growth)}`);
      assert.ok(latestMs < 1500, `latest value ${latestMs.toFixed(1)} ms after the stop`);
    } finally {
      await ctx?.close();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(killer);
      guard.uninstall();
    }
    assert.deepEqual(guard.errors, []);
  });
});
