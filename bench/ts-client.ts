/**
 * tsepics client workloads for the benchmark, one per process run:
 *
 *   node dist/bench/ts-client.js WORKLOAD [key=value ...]
 *
 * Prints one JSON object on stdout: the workload's measured figures. The CA environment (server port,
 * EPICS_CA_ADDR_LIST=127.0.0.1 ...) comes from the parent (bench/run.ts). Workloads mirror
 * bench/py/client.py one for one.
 */
import { Context } from '../src/client/context.js';
import { PV } from '../src/client/pv.js';
import { cagetMany } from '../src/client/procedural.js';
import type { Channel } from '../src/client/channel.js';
import { AO_PREFIX, UPD_PREFIX, WAVE } from './gen-db.js';

type Args = Record<string, string>;
type Result = Record<string, number | string>;

function num(a: Args, k: string, d: number): number {
  const v = a[k];
  if (v === undefined) return d;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`bad number for ${k}: ${v}`);
  return n;
}

const now = (): number => performance.now() / 1000;
const rss = (): number => process.memoryUsage().rss;
const names = (prefix: string, n: number, from = 0): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}${from + i}`);

async function connected(ctx: Context, name: string): Promise<Channel> {
  const ch = ctx.channel(name);
  await ch.waitForConnection(10);
  return ch;
}

/** caget_many style: connect N channels and read each once (no PV objects). */
async function connectGetMany(a: Args): Promise<Result> {
  const n = num(a, 'n', 1000);
  const ctx = new Context();
  const list = names(a.prefix ?? AO_PREFIX, n);
  const t0 = now();
  const values = await cagetMany(list, { context: ctx, connectionTimeout: 60, timeout: 60 });
  const dt = now() - t0;
  let bad = 0;
  for (const v of values) if (v === undefined) bad++;
  await ctx.close();
  if (bad) throw new Error(`${bad} of ${n} reads failed`);
  return { seconds: dt, perSecond: n / dt };
}

/** PV objects with monitors: create N, wait until every one is connected and has its first value. */
async function pvConnect(a: Args): Promise<Result> {
  const n = num(a, 'n', 1000);
  const ctx = new Context();
  const list = names(a.prefix ?? AO_PREFIX, n);
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const rss0 = rss();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = now();
  let pending = n;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  const pvs = list.map(
    (name) =>
      new PV(name, {
        context: ctx,
        connectionTimeout: 60,
        callback: ({ pv }) => {
          // the first monitor update: connected and valued
          pv.clearCallbacks();
          if (--pending === 0) done();
        },
      }),
  );
  const timer = setTimeout(() => done(), 120_000);
  await all;
  clearTimeout(timer);
  const dt = now() - t0;
  if (pending) throw new Error(`${pending} of ${n} PVs got no value`);
  gc?.();
  const bytes = (rss() - rss0) / n;
  const heapBytes = (process.memoryUsage().heapUsed - heap0) / n;
  for (const pv of pvs) pv.disconnect();
  await ctx.close();
  return { seconds: dt, perSecond: n / dt, bytesPerPv: bytes, heapBytesPerPv: heapBytes };
}

async function getRtt(a: Args): Promise<Result> {
  const iters = num(a, 'iters', 2000);
  const ctx = new Context();
  const ch = await connected(ctx, a.pv ?? `${AO_PREFIX}0`);
  for (let i = 0; i < 50; i++) await ch.get();
  const t0 = now();
  for (let i = 0; i < iters; i++) await ch.get();
  const dt = now() - t0;
  await ctx.close();
  return { usPerOp: (dt / iters) * 1e6, perSecond: iters / dt };
}

async function putRtt(a: Args): Promise<Result> {
  const iters = num(a, 'iters', 2000);
  const ctx = new Context();
  const pv = new PV(a.pv ?? `${AO_PREFIX}1`, { context: ctx, autoMonitor: false });
  if (!(await pv.waitForConnection(10))) throw new Error('not connected');
  for (let i = 0; i < 50; i++) await pv.put(i, { wait: true });
  const t0 = now();
  for (let i = 0; i < iters; i++) await pv.put(i, { wait: true });
  const dt = now() - t0;
  pv.disconnect();
  await ctx.close();
  return { usPerOp: (dt / iters) * 1e6, perSecond: iters / dt };
}

/**
 * "cold": the first `cold` gets after the first one, as a fresh process sees them (a Node process
 * grows its heap over its first ~30 large arrays: fresh memory until the GC's dead arrays can be
 * reused); then `warm` more untimed, then `iters` timed: the sustained rate.
 */
async function waveGet(a: Args): Promise<Result> {
  const cold = num(a, 'cold', 10);
  const warm = num(a, 'warm', 20);
  const iters = num(a, 'iters', 20);
  const ctx = new Context();
  const ch = await connected(ctx, a.pv ?? WAVE);
  const r0 = await ch.get({ timeout: 30 });
  if (r0.count !== ch.elementCount) throw new Error(`short read ${r0.count}`);
  const bytes = ch.elementCount * 8;
  let sum = 0;
  const gets = async (n: number): Promise<number> => {
    const t0 = now();
    for (let i = 0; i < n; i++) {
      const r = await ch.get({ timeout: 30 });
      sum += (r.value as Float64Array)[r.count - 1]!;
    }
    return now() - t0;
  };
  const dtCold = await gets(cold);
  await gets(warm);
  const dt = await gets(iters);
  await ctx.close();
  return {
    MBps: (bytes * iters) / dt / 1e6,
    msPerOp: (dt / iters) * 1e3,
    coldMBps: (bytes * cold) / dtCold / 1e6,
    check: sum,
  };
}

/** `warm` puts untimed, then `iters` timed: the sustained rate. */
async function wavePut(a: Args): Promise<Result> {
  const warm = num(a, 'warm', 10);
  const iters = num(a, 'iters', 20);
  const ctx = new Context();
  const ch = await connected(ctx, a.pv ?? WAVE);
  const data = new Float64Array(ch.elementCount);
  for (let i = 0; i < data.length; i++) data[i] = i * 0.5;
  for (let i = 0; i < 1 + warm; i++) {
    data[0] = -i;
    await ch.put(data, { dbrType: 6, wait: true, timeout: 30 });
  }
  const t0 = now();
  for (let i = 0; i < iters; i++) {
    data[0] = i;
    await ch.put(data, { dbrType: 6, wait: true, timeout: 30 });
  }
  const dt = now() - t0;
  await ctx.close();
  return { MBps: (data.byteLength * iters) / dt / 1e6, msPerOp: (dt / iters) * 1e3 };
}

/** Monitor events delivered to user callbacks, as PV objects with callbacks (pyepics' usual way). */
async function monitor(a: Args): Promise<Result> {
  const n = num(a, 'n', 1000);
  const seconds = num(a, 'seconds', 5);
  const ctx = new Context();
  let events = 0;
  const pvs = names(a.prefix ?? UPD_PREFIX, n).map(
    (name) => new PV(name, { context: ctx, connectionTimeout: 30, callback: () => void events++ }),
  );
  const ok = await Promise.all(pvs.map((p) => p.waitForConnection(30)));
  if (ok.includes(false)) throw new Error('not all connected');
  await new Promise((r) => setTimeout(r, 1000)); // settle: initial updates
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const rss0 = rss();
  const cpu0 = process.cpuUsage();
  events = 0;
  const t0 = now();
  await new Promise((r) => setTimeout(r, (seconds / 2) * 1000));
  const rssMid = rss();
  await new Promise((r) => setTimeout(r, (seconds / 2) * 1000));
  const got = events;
  const dt = now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const late = rss() - rssMid;
  gc?.();
  const grow = rss() - rss0;
  for (const p of pvs) p.disconnect();
  await ctx.close();
  const cpuS = (cpu.user + cpu.system) / 1e6;
  return {
    perSecond: got / dt,
    cpuUsPerEvent: got ? (cpuS / got) * 1e6 : 0,
    cpuFraction: cpuS / dt,
    rssGrowthMB: grow / 1e6,
    rssGrowthLateMB: late / 1e6,
    rssEndMB: rss() / 1e6,
  };
}

/** Many circuits against one server: `n` contexts (one circuit each), each reads `pvs` channels. */
async function circuits(a: Args): Promise<Result> {
  const n = num(a, 'n', 500);
  const per = num(a, 'pvs', 2);
  const rounds = num(a, 'rounds', 20);
  const t0 = now();
  const ctxs = Array.from({ length: n }, () => new Context({ repeater: false }));
  const chans = ctxs.map((c, i) => names(AO_PREFIX, per, (i * per) % 5000).map((nm) => c.channel(nm)));
  await Promise.all(chans.flat().map((c) => c.waitForConnection(60)));
  const tConnect = now() - t0;
  const t1 = now();
  for (let r = 0; r < rounds; r++) await Promise.all(chans.flat().map((c) => c.get({ timeout: 30 })));
  const dt = now() - t1;
  const circuitsOpen = ctxs.reduce((s, c) => s + c.circuitCount, 0);
  await Promise.all(ctxs.map((c) => c.close()));
  return { circuits: circuitsOpen, connectSeconds: tConnect, getsPerSecond: (n * per * rounds) / dt };
}

const WORKLOADS: Record<string, (a: Args) => Promise<Result>> = {
  connect_get_many: connectGetMany,
  pv_connect: pvConnect,
  get_rtt: getRtt,
  put_rtt: putRtt,
  wave_get: waveGet,
  wave_put: wavePut,
  monitor,
  circuits,
};

async function main(): Promise<void> {
  const [wl, ...rest] = process.argv.slice(2);
  const fn = wl ? WORKLOADS[wl] : undefined;
  if (!fn) {
    process.stderr.write(`usage: ts-client.js ${Object.keys(WORKLOADS).join('|')} [key=value ...]\n`);
    process.exit(2);
  }
  const args: Args = {};
  for (const kv of rest) {
    const i = kv.indexOf('=');
    if (i > 0) args[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const r = await fn(args);
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`ts-client: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
