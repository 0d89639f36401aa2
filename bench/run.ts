/**
 * The tsepics benchmark: `npm run bench [-- --quick] [-- --big] [-- --rounds N]`.
 *
 * Starts `tsepics ioc` with a generated database (10,000 ao records, 1,000 calc records updating at
 * 10 Hz, a 2,000,000-element DOUBLE waveform) on private loopback ports and runs each client workload
 * with tsepics (bench/ts-client.ts) and pyepics over Debian's libca (bench/py/client.py), each run in
 * a fresh process, alternating, several rounds. Reports median and spread (max-min over median) per
 * figure and the ratio "tsepics is better by": > 1 means tsepics is better (faster, more events,
 * less memory), whatever the unit.
 *
 * With EPICS_BASE set (an EPICS base build folder), it also runs the same clients against EPICS base's
 * softIoc serving the same database, catime against both servers, and the C caget against
 * `tsepics caget`. Server capacity figures: 100,000 records load time and memory, 500 concurrent
 * client circuits.
 *
 * Writes bench/results/<date>.json, bench/results/latest.json and bench/results/latest.md, and prints
 * the markdown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { caClientEnv, caEnv, childEnv, freePort } from '../test/helpers/ports.js';
import { writeBenchDb, AO_PREFIX, STORM_PREFIX } from './gen-db.js';
import { betterRatio, fmt, fmtStats, markdownTable, stats, type Stats } from './stats.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist/src/cli/main.js');
const TS_CLIENT = join(ROOT, 'dist/bench/ts-client.js');
const STORM = join(ROOT, 'dist/bench/storm-server.js');
const PY_CLIENT = join(ROOT, 'bench/py/client.py');
const PEERS_ENV = join(ROOT, '.peers/env.sh');
const RESULTS = join(ROOT, 'bench/results');
const READY = 'iocRun: All initialization complete';
const MAX_ARRAY = '20000000';

// ------------------------------------------------------------------ options

interface Options {
  quick: boolean;
  big: boolean;
  rounds: number;
  noPy: boolean;
  only?: Set<string>;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { quick: false, big: true, rounds: 3, noPy: false };
  let roundsSet = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') o.quick = true;
    else if (a === '--big') o.big = true;
    else if (a === '--small') o.big = false;
    else if (a === '--no-pyepics') o.noPy = true;
    else if (a === '--rounds') {
      o.rounds = Number(argv[++i]);
      roundsSet = true;
      if (!(Number.isInteger(o.rounds) && o.rounds > 0)) throw new Error('--rounds needs a positive integer');
    } else if (a === '--only') o.only = new Set((argv[++i] ?? '').split(','));
    else if (a === '-h' || a === '--help') {
      process.stdout.write(
        'usage: npm run bench -- [--quick] [--small] [--rounds N] [--only section,...] [--no-pyepics]\n' +
          '  sections: clients, storm, oneshot, cli, servers, capacity\n',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (o.quick && !roundsSet) o.rounds = 1;
  return o;
}

const log = (s: string): void => void process.stderr.write(`bench: ${s}\n`);

// ------------------------------------------------------------------ processes

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    for (const c of children) c.kill('SIGKILL');
    process.exit(130);
  });
}

function rssOf(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

interface Server {
  name: string;
  port: number;
  clientEnv: Record<string, string>;
  loadSeconds: number;
  rss(): number;
  stop(): Promise<void>;
}

/** Starts a long-running process, resolves when `readyText` appears on its output. */
function startProcess(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  readyText: string,
  timeoutS: number,
): Promise<{ child: ChildProcess; seconds: number }> {
  const t0 = performance.now();
  const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.stdin?.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} not ready in ${timeoutS} s:\n${out.slice(-2000)}`));
    }, timeoutS * 1000);
    const onData = (b: Buffer): void => {
      if (out.length < 100_000) out += b.toString();
      if (out.includes(readyText)) {
        clearTimeout(timer);
        child.stdout?.removeListener('data', onData);
        child.stderr?.removeListener('data', onData);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve({ child, seconds: (performance.now() - t0) / 1000 });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited (${code}) before it was ready:\n${out.slice(-2000)}`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function startServer(
  kind: 'tsepics' | 'softIoc',
  db: string,
  epicsBase: string | undefined,
): Promise<Server> {
  const port = await freePort();
  const env = childEnv({ ...caEnv(port), EPICS_CA_MAX_ARRAY_BYTES: MAX_ARRAY });
  const [cmd, args] =
    kind === 'tsepics'
      ? [process.execPath, [MAIN, 'ioc', '-S', '-d', db]]
      : [join(epicsBase!, 'bin', hostArch(), 'softIoc'), ['-S', '-d', db]];
  const { child, seconds } = await startProcess(cmd, args, env, READY, 300);
  // a repeater on this server's beacon port, so that both client libraries register as usual
  const rep = spawn(process.execPath, [MAIN, 'repeater', '-p', String(port + 1)], {
    env,
    stdio: 'ignore',
  });
  children.add(rep);
  rep.once('exit', () => children.delete(rep));
  return {
    name: kind === 'tsepics' ? 'tsepics ioc' : 'softIoc',
    port,
    clientEnv: { ...caClientEnv(port), EPICS_CA_MAX_ARRAY_BYTES: MAX_ARRAY },
    loadSeconds: seconds,
    rss: () => rssOf(child.pid),
    stop: async () => {
      await Promise.all([stopChild(child), stopChild(rep)]);
    },
  };
}

function hostArch(): string {
  return process.env.EPICS_HOST_ARCH ?? (process.arch === 'arm64' ? 'linux-aarch64' : 'linux-x86_64');
}

/** Runs a command to completion; resolves with stdout, rejects with stderr on failure or timeout. */
function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutS: number,
): Promise<{ stdout: string; seconds: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => {
      if (err.length < 20_000) err += b.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutS * 1000);
    child.once('error', (e) => {
      clearTimeout(timer);
      children.delete(child);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      const seconds = (performance.now() - t0) / 1000;
      if (code === 0) resolve({ stdout: out, seconds });
      else
        reject(
          new Error(
            `${cmd.split('/').pop()} ${args.join(' ')}: ${signal ?? code}: ${err.trim().slice(-600)}`,
          ),
        );
    });
  });
}

type Figures = Record<string, number>;

function lastJson(stdout: string): Figures {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Figures;
}

async function tsClient(server: Server, args: string[], timeoutS = 300): Promise<Figures> {
  const r = await run(
    process.execPath,
    ['--expose-gc', TS_CLIENT, ...args],
    childEnv(server.clientEnv),
    timeoutS,
  );
  return lastJson(r.stdout);
}

async function pyClient(server: Server, args: string[], timeoutS = 300): Promise<Figures> {
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = await run(
    'bash',
    ['-c', `. '${PEERS_ENV}' && exec "$PEERS_PYTHON" '${PY_CLIENT}' ${quoted}`],
    childEnv(server.clientEnv),
    timeoutS,
  );
  return lastJson(r.stdout);
}

// ------------------------------------------------------------------ results

interface Row {
  section: string;
  label: string;
  unit: string;
  /** 'info': shown without a ratio (e.g. memory growth, which should be about 0 on both sides). */
  better: 'higher' | 'lower' | 'info';
  /** Column names, e.g. ['tsepics', 'pyepics'] or ['tsepics ioc', 'softIoc']. */
  columns: [string, string];
  a: Stats | undefined;
  b: Stats | undefined;
  ratio: number | undefined;
  errors: string[];
}

const rows: Row[] = [];

function addRow(
  section: string,
  label: string,
  unit: string,
  better: 'higher' | 'lower' | 'info',
  columns: [string, string],
  a: number[],
  b: number[],
  errors: string[],
): Row {
  const sa = stats(a);
  const sb = stats(b);
  const row: Row = {
    section,
    label,
    unit,
    better,
    columns,
    a: sa,
    b: sb,
    ratio: sa && sb && better !== 'info' ? betterRatio(sa.median, sb.median, better) : undefined,
    errors,
  };
  rows.push(row);
  log(
    `${label}: ${fmtStats(sa)} vs ${fmtStats(sb)} ${unit} -> ratio ${fmt(row.ratio)}${errors.length ? ` (${errors.length} errors)` : ''}`,
  );
  return row;
}

interface FigureSpec {
  key: string;
  label: string;
  unit: string;
  better: 'higher' | 'lower' | 'info';
}

/**
 * Runs `args` with two runners, alternating, `rounds` times; one table row per figure.
 */
async function compare(
  section: string,
  columns: [string, string],
  runA: () => Promise<Figures>,
  runB: (() => Promise<Figures>) | undefined,
  rounds: number,
  figures: FigureSpec[],
): Promise<void> {
  const ra: Figures[] = [];
  const rb: Figures[] = [];
  const errors: string[] = [];
  for (let r = 0; r < rounds; r++) {
    // alternate which side goes first
    const order = r % 2 === 0 ? [0, 1] : [1, 0];
    for (const side of order) {
      const fn = side === 0 ? runA : runB;
      if (!fn) continue;
      try {
        (side === 0 ? ra : rb).push(await fn());
      } catch (e) {
        const msg = `${columns[side]}: ${e instanceof Error ? e.message : String(e)}`;
        errors.push(msg);
        log(msg);
      }
    }
  }
  for (const f of figures) {
    addRow(
      section,
      f.label,
      f.unit,
      f.better,
      columns,
      ra.map((x) => x[f.key]).filter((v): v is number => v !== undefined),
      rb.map((x) => x[f.key]).filter((v): v is number => v !== undefined),
      errors,
    );
  }
}

// ------------------------------------------------------------------ sections

interface ClientWorkload {
  args: string[];
  figures: FigureSpec[];
  /** Also run against softIoc in the server section. */
  server?: boolean;
}

function clientWorkloads(o: Options): ClientWorkload[] {
  const ns = o.quick || !o.big ? [1000, 10000] : [1000, 10000, 100000];
  const list: ClientWorkload[] = [];
  for (const n of ns) {
    list.push({
      args: ['connect_get_many', `n=${n}`],
      figures: [
        {
          key: 'seconds',
          label: `connect + read ${n.toLocaleString('en-US')} PVs (caget_many)`,
          unit: 's',
          better: 'lower',
        },
      ],
      server: n === 10000,
    });
  }
  for (const n of ns) {
    const figures: FigureSpec[] = [
      {
        key: 'seconds',
        label: `connect ${n.toLocaleString('en-US')} PV objects with monitors, first values`,
        unit: 's',
        better: 'lower',
      },
    ];
    if (n === 10000)
      figures.push({
        key: 'bytesPerPv',
        label: 'memory per connected PV object (10,000 PVs)',
        unit: 'bytes',
        better: 'lower',
      });
    list.push({ args: ['pv_connect', `n=${n}`], figures, server: n === 10000 });
  }
  const iters = o.quick ? 500 : 2000;
  list.push({
    args: ['get_rtt', `iters=${iters}`],
    figures: [{ key: 'usPerOp', label: 'sequential get round trip', unit: 'µs', better: 'lower' }],
    server: true,
  });
  list.push({
    args: ['put_rtt', `iters=${iters}`],
    figures: [{ key: 'usPerOp', label: 'sequential put-with-wait round trip', unit: 'µs', better: 'lower' }],
    server: true,
  });
  const witers = o.quick ? 3 : 10;
  list.push({
    args: ['wave_put', `warm=${o.quick ? 3 : 10}`, `iters=${o.quick ? 5 : 20}`],
    figures: [
      { key: 'MBps', label: '16 MB waveform put with wait, sustained', unit: 'MB/s', better: 'higher' },
    ],
    server: true,
  });
  list.push({
    args: ['wave_get', `cold=${witers}`, `warm=${o.quick ? 5 : 20}`, `iters=${o.quick ? 5 : 60}`],
    figures: [
      {
        key: 'MBps',
        label: '16 MB waveform get (2,000,000 doubles), sustained',
        unit: 'MB/s',
        better: 'higher',
      },
      {
        key: 'coldMBps',
        label: `16 MB waveform get, first ${witers} gets of a process`,
        unit: 'MB/s',
        better: 'higher',
      },
    ],
    server: true,
  });
  list.push({
    args: ['monitor', 'n=1000', `seconds=${o.quick ? 3 : 5}`],
    figures: [
      {
        key: 'perSecond',
        label: 'monitor events to callbacks, 1,000 PVs at 10 Hz',
        unit: 'events/s',
        better: 'higher',
      },
      {
        key: 'cpuUsPerEvent',
        label: 'client CPU per monitor event (1,000 PVs at 10 Hz)',
        unit: 'µs',
        better: 'lower',
      },
    ],
    server: true,
  });
  return list;
}

async function clientsSection(o: Options, server: Server): Promise<void> {
  for (const w of clientWorkloads(o)) {
    log(`clients: ${w.args.join(' ')}`);
    await compare(
      'clients',
      ['tsepics', 'pyepics'],
      () => tsClient(server, w.args),
      o.noPy ? undefined : () => pyClient(server, w.args),
      o.rounds,
      w.figures,
    );
  }
}

async function stormSection(o: Options): Promise<void> {
  const port = await freePort();
  const env = childEnv({ ...caEnv(port) });
  const n = 1000;
  const hz = 100;
  log(`storm: ${n} PVs × ${hz} Hz = ${n * hz} events/s offered`);
  const { child } = await startProcess(process.execPath, [STORM, `n=${n}`, `hz=${hz}`], env, 'ready', 60);
  const server: Server = {
    name: 'storm',
    port,
    clientEnv: caClientEnv(port),
    loadSeconds: 0,
    rss: () => rssOf(child.pid),
    stop: () => stopChild(child),
  };
  try {
    const args = ['monitor', `n=${n}`, `prefix=${STORM_PREFIX}`, `seconds=${o.quick ? 3 : 12}`];
    await compare(
      'storm',
      ['tsepics', 'pyepics'],
      () => tsClient(server, args),
      o.noPy ? undefined : () => pyClient(server, args),
      o.rounds,
      [
        {
          key: 'perSecond',
          label: `monitor storm: events to callbacks (${(n * hz).toLocaleString('en-US')}/s offered)`,
          unit: 'events/s',
          better: 'higher',
        },
        { key: 'cpuUsPerEvent', label: 'monitor storm: client CPU per event', unit: 'µs', better: 'lower' },
        {
          // the whole process, runtime included (a bare `node` is ~40 MB, python3 with numpy and
          // libca loaded ~43 MB): not a ratio of the libraries; memory per PV is that figure
          key: 'rssEndMB',
          label: 'monitor storm: client process RSS at the end (runtime included)',
          unit: 'MB',
          better: 'info',
        },
        {
          key: 'rssGrowthMB',
          label: 'monitor storm: client RSS change during the storm',
          unit: 'MB',
          better: 'info',
        },
        {
          key: 'rssGrowthLateMB',
          label: 'monitor storm: client RSS change over its second half (≈0: no growth)',
          unit: 'MB',
          better: 'info',
        },
      ],
    );
  } finally {
    await server.stop();
  }
}

async function cliSection(o: Options, server: Server, epicsBase: string): Promise<void> {
  const cget = join(epicsBase, 'bin', hostArch(), 'caget');
  const env = childEnv(server.clientEnv);
  // NODE_EXTRA_CA_CERTS (TLS certificates, set on some machines) makes every Node process parse a
  // certificate bundle at start-up (~40 ms here) before any of our code runs; CA never uses TLS, so
  // the Node processes run without it (stated with the table).
  const nodeEnv = { ...env };
  delete nodeEnv.NODE_EXTRA_CA_CERTS;
  const runs = o.quick ? 3 : 10;
  await compare(
    'cli',
    ['tsepics caget', 'C caget'],
    async () => ({
      ms: (await run(process.execPath, [MAIN, 'caget', `${AO_PREFIX}5`], nodeEnv, 30)).seconds * 1e3,
      nodeMs: (await run(process.execPath, ['-e', '0'], nodeEnv, 30)).seconds * 1e3,
    }),
    async () => ({ ms: (await run(cget, [`${AO_PREFIX}5`], env, 30)).seconds * 1e3 }),
    runs,
    [
      { key: 'ms', label: 'caget of one PV as a whole process', unit: 'ms', better: 'lower' },
      { key: 'nodeMs', label: 'of which: Node.js start-up alone (`node -e 0`)', unit: 'ms', better: 'info' },
    ],
  );
}

/** The variables .peers/env.sh exports (Debian's python3, libca and the unpacked pyepics). */
async function peersEnv(): Promise<NodeJS.ProcessEnv> {
  const r = await run('bash', ['-c', `. '${PEERS_ENV}' && env -0`], {}, 30);
  const env: NodeJS.ProcessEnv = {};
  for (const kv of r.stdout.split('\0')) {
    const i = kv.indexOf('=');
    const k = kv.slice(0, i);
    if (k === 'PEERS_PYTHON' || k === 'PYEPICS_LIBCA' || k === 'PYTHONPATH') env[k] = kv.slice(i + 1);
  }
  if (!env.PEERS_PYTHON) throw new Error(`${PEERS_ENV} does not set PEERS_PYTHON`);
  return env;
}

/**
 * A one-shot read as a whole process, the way a script reads one PV: `tsepics caget PV` against
 * `python3 -c "import epics; print(epics.caget(PV))"` (pyepics over libca), started directly (no shell).
 */
async function oneshotSection(o: Options, server: Server): Promise<void> {
  const pv = `${AO_PREFIX}5`;
  const env = childEnv(server.clientEnv);
  const nodeEnv = { ...env };
  delete nodeEnv.NODE_EXTRA_CA_CERTS;
  const py = await peersEnv();
  const pyEnv = { ...env, PYEPICS_LIBCA: py.PYEPICS_LIBCA, PYTHONPATH: py.PYTHONPATH };
  const check = (out: string, who: string): void => {
    if (!/\b5(\.0)?\s*$/.test(out.trim())) throw new Error(`${who} printed ${JSON.stringify(out)}`);
  };
  await compare(
    'oneshot',
    ['tsepics caget', 'pyepics script'],
    async () => {
      const r = await run(process.execPath, [MAIN, 'caget', pv], nodeEnv, 30);
      check(r.stdout, 'tsepics caget');
      return { ms: r.seconds * 1e3 };
    },
    async () => {
      const r = await run(py.PEERS_PYTHON!, ['-c', `import epics; print(epics.caget('${pv}'))`], pyEnv, 30);
      check(r.stdout, 'pyepics');
      return { ms: r.seconds * 1e3 };
    },
    o.quick ? 3 : 10,
    [{ key: 'ms', label: 'read one PV as a whole process', unit: 'ms', better: 'lower' }],
  );
}

function parseCatime(text: string): Figures {
  const f: Figures = {};
  const section = (name: string): string => {
    const i = text.indexOf(`${name} Test`);
    if (i < 0) return '';
    const j = text.indexOf(' Test\n', i + name.length + 6);
    return text.slice(i, j < 0 ? undefined : j);
  };
  const perOp = (s: string, what: string): number => {
    const i = s.indexOf(what);
    if (i < 0) return NaN;
    const m = /Per Op,\s*([\d.]+) uS/.exec(s.slice(i));
    return m ? Number(m[1]) : NaN;
  };
  const dbl = section('DBR_DOUBLE');
  f.asyncGetUs = perOp(dbl, 'async get');
  f.asyncPutUs = perOp(dbl, 'async put');
  f.syncGetUs = perOp(dbl, 'synch get');
  f.connectUs = perOp(text, 'Channel Connect Test');
  return f;
}

async function serversSection(o: Options, ours: Server, theirs: Server, epicsBase: string): Promise<void> {
  const catime = join(epicsBase, 'bin', hostArch(), 'catime');
  const channels = '1000';
  const runCatime = async (s: Server): Promise<Figures> =>
    parseCatime((await run(catime, [`${AO_PREFIX}0`, channels], childEnv(s.clientEnv), 120)).stdout);
  log('servers: catime');
  // one run each first, not counted: the servers' code paths warmed up (V8 compiles ours on use)
  await runCatime(ours);
  await runCatime(theirs);
  await compare(
    'servers',
    ['tsepics ioc', 'softIoc'],
    () => runCatime(ours),
    () => runCatime(theirs),
    o.rounds,
    [
      {
        key: 'connectUs',
        label: `catime (C client) ${channels} channels: connect per channel`,
        unit: 'µs',
        better: 'lower',
      },
      { key: 'asyncGetUs', label: 'catime: DBR_DOUBLE async get per item', unit: 'µs', better: 'lower' },
      { key: 'asyncPutUs', label: 'catime: DBR_DOUBLE async put per item', unit: 'µs', better: 'lower' },
      { key: 'syncGetUs', label: 'catime: DBR_DOUBLE synchronous get per item', unit: 'µs', better: 'lower' },
    ],
  );
  for (const w of clientWorkloads(o).filter((x) => x.server)) {
    for (const [client, fn] of [
      ['tsepics', tsClient],
      ['pyepics', pyClient],
    ] as const) {
      if (client === 'pyepics' && o.noPy) continue;
      log(`servers: ${client} ${w.args.join(' ')}`);
      await compare(
        'servers',
        ['tsepics ioc', 'softIoc'],
        () => fn(ours, w.args),
        () => fn(theirs, w.args),
        Math.min(o.rounds, 2),
        w.figures.map((f) => ({ ...f, label: `${client} client: ${f.label}` })),
      );
    }
  }
}

async function capacitySection(o: Options, tmp: string, epicsBase: string | undefined): Promise<void> {
  const db = join(tmp, 'bench100k.db');
  writeBenchDb(db, { records: 100_000, updating: 0, waveformElements: 0 });
  const kinds: ('tsepics' | 'softIoc')[] = epicsBase ? ['tsepics', 'softIoc'] : ['tsepics'];
  const cols: [string, string] = ['tsepics ioc', 'softIoc'];
  const load: Record<
    string,
    {
      seconds: number[];
      mb: number[];
      circ: number[];
      circConnect: number[];
      circRss: number[];
      getMany: number[];
    }
  > = {};
  const errors: string[] = [];
  const rounds = Math.min(o.rounds, 2);
  for (let r = 0; r < rounds; r++) {
    for (const kind of kinds) {
      const e = (load[kind] ??= { seconds: [], mb: [], circ: [], circConnect: [], circRss: [], getMany: [] });
      log(`capacity: ${kind} with 100,000 records (round ${r + 1})`);
      let s: Server | undefined;
      try {
        s = await startServer(kind, db, epicsBase);
        e.seconds.push(s.loadSeconds);
        e.mb.push(s.rss() / 1e6);
        if (o.big || r === 0) {
          const n = o.quick ? 20000 : 100000;
          const f = await tsClient(s, ['connect_get_many', `n=${n}`], 600);
          e.getMany.push(f.seconds!);
        }
        const c = await tsClient(
          s,
          ['circuits', `n=${o.quick ? 100 : 500}`, 'pvs=2', `rounds=${o.quick ? 5 : 20}`],
          600,
        );
        e.circ.push(c.getsPerSecond!);
        e.circConnect.push(c.connectSeconds!);
        e.circRss.push(s.rss() / 1e6);
        if (c.circuits !== (o.quick ? 100 : 500)) errors.push(`${kind}: only ${c.circuits} circuits open`);
      } catch (err) {
        const msg = `${kind}: ${err instanceof Error ? err.message : String(err)}`;
        errors.push(msg);
        log(msg);
      } finally {
        await s?.stop();
      }
    }
  }
  const t = load.tsepics;
  const b = load.softIoc;
  const nC = o.quick ? 100 : 500;
  const nG = o.quick ? 20000 : 100000;
  addRow(
    'capacity',
    'load 100,000 records until serving',
    's',
    'lower',
    cols,
    t?.seconds ?? [],
    b?.seconds ?? [],
    errors,
  );
  addRow(
    'capacity',
    'server memory with 100,000 records (RSS)',
    'MB',
    'lower',
    cols,
    t?.mb ?? [],
    b?.mb ?? [],
    errors,
  );
  addRow(
    'capacity',
    `tsepics client: connect + read ${nG.toLocaleString('en-US')} PVs of that server`,
    's',
    'lower',
    cols,
    t?.getMany ?? [],
    b?.getMany ?? [],
    errors,
  );
  addRow(
    'capacity',
    `${nC} concurrent client circuits: all connected`,
    's',
    'lower',
    cols,
    t?.circConnect ?? [],
    b?.circConnect ?? [],
    errors,
  );
  addRow(
    'capacity',
    `${nC} circuits × 2 channels: reads served`,
    'reads/s',
    'higher',
    cols,
    t?.circ ?? [],
    b?.circ ?? [],
    errors,
  );
  addRow(
    'capacity',
    `server memory with ${nC} circuits open (RSS)`,
    'MB',
    'lower',
    cols,
    t?.circRss ?? [],
    b?.circRss ?? [],
    errors,
  );
}

// ------------------------------------------------------------------ report

function machine(): Record<string, string | number> {
  const cpus = os.cpus();
  return {
    nproc: cpus.length,
    cpu: cpus[0]?.model ?? 'unknown',
    memoryGB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
  };
}

const SECTION_TITLES: Record<string, string> = {
  clients: 'Client: tsepics vs pyepics (Debian libca), both against tsepics ioc',
  storm: 'Client under a monitor storm (1,000 PVs posted at 100 Hz by a tsepics server)',
  oneshot:
    'One-shot read as a whole process: `tsepics caget PV` vs `python3 -c "import epics; print(epics.caget(PV))"` (pyepics over libca), both started directly',
  cli: 'Command line: `tsepics caget` vs EPICS base C `caget` (whole process; Node runs without `NODE_EXTRA_CA_CERTS`, which only adds TLS certificate parsing to its start-up)',
  servers: 'Server: tsepics ioc vs EPICS base softIoc, same database, same client',
  capacity: 'Server capacity',
};

function markdown(o: Options, m: Record<string, string | number>, command: string): string {
  const out: string[] = [];
  out.push(`Command: \`${command}\``);
  out.push('');
  out.push(`Machine: ${m.nproc} cores (${m.cpu}), ${m.memoryGB} GB memory, Node ${m.node}, ${m.os}.`);
  out.push(
    `Rounds: ${o.rounds} per figure, each run in a fresh process, tsepics and the other alternating. ` +
      'Figures: median ±spread (max−min over the median). **Ratio: how many times tsepics is better** ' +
      "(> 1: tsepics faster / more events / less memory; it is the other side's figure over ours when lower is better).",
  );
  for (const section of ['clients', 'storm', 'oneshot', 'cli', 'servers', 'capacity']) {
    const rs = rows.filter((r) => r.section === section);
    if (!rs.length) continue;
    out.push('');
    out.push(`### ${SECTION_TITLES[section]}`);
    out.push('');
    const cols = rs[0]!.columns;
    out.push(
      markdownTable(
        ['workload', 'unit', cols[0], cols[1], 'ratio (>1: tsepics better)'],
        rs.map((r) => [
          r.label,
          r.better === 'info' ? r.unit : `${r.unit} (${r.better} is better)`,
          fmtStats(r.a),
          fmtStats(r.b),
          r.ratio === undefined ? '–' : `**${fmt(r.ratio)}**`,
        ]),
      ),
    );
    const errs = [...new Set(rs.flatMap((r) => r.errors))];
    if (errs.length)
      out.push('', 'Errors: ' + errs.map((e) => `\`${e.split('\n')[0]!.slice(0, 200)}\``).join('; '));
  }
  return out.join('\n') + '\n';
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const want = (s: string): boolean => !o.only || o.only.has(s);
  const epicsBase =
    process.env.EPICS_BASE && existsSync(process.env.EPICS_BASE) ? process.env.EPICS_BASE : undefined;
  if (!o.noPy && !existsSync(PEERS_ENV)) {
    log('no .peers/env.sh (run scripts/install-peers.sh): pyepics workloads skipped');
    o.noPy = true;
  }
  const t0 = performance.now();
  const tmp = mkdtempSync(join(os.tmpdir(), 'tsepics-bench-'));
  const db = join(tmp, 'bench.db');
  writeBenchDb(db, {
    records: o.big && !o.quick ? 100_000 : 10_000,
    updating: 1000,
    waveformElements: 2_000_000,
  });
  const m = machine();
  log(
    `machine: ${JSON.stringify(m)}; EPICS_BASE ${epicsBase ?? 'not set: no softIoc / C tools comparisons'}`,
  );
  let ours: Server | undefined;
  let theirs: Server | undefined;
  try {
    ours = await startServer('tsepics', db, epicsBase);
    log(`tsepics ioc serving on port ${ours.port} (loaded in ${ours.loadSeconds.toFixed(2)} s)`);
    if (want('clients')) await clientsSection(o, ours);
    if (want('storm')) await stormSection(o);
    if (!o.noPy && want('oneshot')) await oneshotSection(o, ours);
    if (epicsBase && want('cli')) await cliSection(o, ours, epicsBase);
    if (epicsBase && want('servers')) {
      theirs = await startServer('softIoc', db, epicsBase);
      log(`softIoc serving on port ${theirs.port}`);
      await serversSection(o, ours, theirs, epicsBase);
    }
  } finally {
    await ours?.stop();
    await theirs?.stop();
  }
  if (want('capacity')) await capacitySection(o, tmp, epicsBase);
  rmSync(tmp, { recursive: true, force: true });

  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}${epicsBase ? ` (EPICS_BASE=${epicsBase})` : ''}`;
  const md = markdown(o, m, command);
  const result = {
    date: new Date().toISOString(),
    command,
    machine: m,
    options: { ...o, only: o.only ? [...o.only] : undefined },
    seconds: (performance.now() - t0) / 1000,
    ratioDefinition:
      'how many times tsepics is better: ours/theirs when higher is better, theirs/ours when lower is better',
    rows,
  };
  mkdirSync(RESULTS, { recursive: true });
  const stamp = result.date.replace(/[:.]/g, '-');
  writeFileSync(join(RESULTS, `${stamp}.json`), JSON.stringify(result, null, 2) + '\n');
  writeFileSync(join(RESULTS, 'latest.json'), JSON.stringify(result, null, 2) + '\n');
  writeFileSync(join(RESULTS, 'latest.md'), md);
  process.stdout.write(md);
  log(`done in ${result.seconds.toFixed(0)} s; results in bench/results/`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
