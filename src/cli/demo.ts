/**
 * `tsepics demo`: a soft IOC serving the classroom demo database (36 prefixes id01..id36 with
 * randomly updating doubles/integers, strings, enums and waveforms; simulated motors sim:mtr1..6,
 * a scaler and an mca when those record types exist). Runs until SIGINT/SIGTERM.
 */
import { CaServer } from '../server/server.js';
import { RecordDatabase } from '../ioc/database.js';
import { mcaRecordType } from '../ioc/records/mca.js';
import { motorRecordType } from '../ioc/records/motor.js';
import { scalerRecordType } from '../ioc/records/scaler.js';
import { demoDatabase, demoInitialValues, type DemoOptions } from '../ioc/demo/index.js';
import { getopt } from './getopt.js';

export interface DemoIo {
  stdout(s: string): void;
  stderr(s: string): void;
  env: Readonly<Record<string, string | undefined>>;
  /** Stops the IOC when aborted (default: SIGINT/SIGTERM). */
  signal?: AbortSignal;
}

export interface DemoIocOptions extends DemoOptions {
  /** CA server port (0: any free port; default EPICS_CA_SERVER_PORT or 5064). */
  port?: number;
  env?: NodeJS.ProcessEnv;
}

export interface DemoIoc {
  db: RecordDatabase;
  server: CaServer;
  /** The TCP (and UDP) port served. */
  port: number;
  /** Names of all records loaded. */
  records: string[];
  stop(): Promise<void>;
}

/** Build, initialise and serve the demo database. */
export async function startDemoIoc(opts: DemoIocOptions = {}): Promise<DemoIoc> {
  const db = new RecordDatabase();
  // the simulated device records, in case the default record set does not include them
  for (const t of [motorRecordType, scalerRecordType, mcaRecordType]) {
    if (!db.recordTypes().includes(t.name)) db.registerRecordType(t);
  }
  db.loadDatabase(demoDatabase(opts, db.recordTypes()), undefined, { file: '<demo>' });
  db.init();
  await Promise.all(
    demoInitialValues(opts).map(([name, value]) => db.put(name, value).catch(() => undefined)),
  );
  const env = opts.env ?? process.env;
  const port = opts.port ?? (Number(env.EPICS_CA_SERVER_PORT) || 5064);
  const server = new CaServer({ provider: db, env, port });
  try {
    await server.start();
  } catch (e) {
    db.stop();
    throw e;
  }
  return {
    db,
    server,
    port: server.tcpPort,
    records: db.records().map((r) => r.name),
    async stop() {
      await server.stop();
      db.stop();
    },
  };
}

export function demoUsage(): string {
  return `Usage: tsepics demo [-h] [-p port] [-n count] [-m motors]
Serve the tsepics demo / classroom database over Channel Access.
  -h         this help
  -p port    CA server port (default $EPICS_CA_SERVER_PORT or 5064; 0 = any free port)
  -n count   number of classroom prefixes id01..idNN (default 36)
  -m motors  number of simulated motors sim:mtr1..N (default 6)
`;
}

function intArg(s: string | undefined, name: string, min: number, max: number): number {
  const n = Number(s);
  if (s === undefined || !/^\d+$/.test(s.trim()) || n < min || n > max)
    throw new Error(`invalid ${name} '${s ?? ''}' (${min}..${max})`);
  return n;
}

/** Entry point for `tsepics demo ARGS`; resolves to the exit status. */
export async function demoMain(argv: readonly string[], io?: Partial<DemoIo>): Promise<number> {
  const out = io?.stdout ?? ((s: string) => void process.stdout.write(s));
  const err = io?.stderr ?? ((s: string) => void process.stderr.write(s));
  const env = { ...(io?.env ?? process.env) } as NodeJS.ProcessEnv;
  const opts: DemoIocOptions = { env };
  const { options, operands } = getopt(argv, ':hp:n:m:');
  try {
    for (const o of options) {
      switch (o.opt) {
        case 'h':
          out(demoUsage());
          return 0;
        case 'p':
          opts.port = intArg(o.arg, 'port', 0, 65535);
          break;
        case 'n':
          opts.count = intArg(o.arg, 'count', 0, 99);
          break;
        case 'm':
          opts.motors = intArg(o.arg, 'motor count', 0, 99);
          break;
        case ':':
          throw new Error(`option -${o.optopt} requires an argument`);
        default:
          throw new Error(`invalid option -${o.optopt ?? o.opt}`);
      }
    }
    if (operands.length > 0) throw new Error(`unexpected argument '${operands[0]}'`);
  } catch (e) {
    err(`tsepics demo: ${(e as Error).message}\n${demoUsage()}`);
    return 1;
  }
  let ioc: DemoIoc;
  try {
    ioc = await startDemoIoc(opts);
  } catch (e) {
    err(`tsepics demo: cannot start the IOC: ${(e as Error).message}\n`);
    return 1;
  }
  const has = (n: string): boolean => ioc.records.includes(n);
  const lines = [
    `tsepics demo IOC: ${ioc.records.length} records on CA port ${ioc.port}`,
    ``,
    `Try (in another shell${ioc.port !== 5064 ? `, with EPICS_CA_SERVER_PORT=${ioc.port}` : ''}):`,
    `  tsepics caget id01:dbl1 id01:int1 id01:str1 id01:mbbi1`,
    `  tsepics camonitor id01:dbl1 id01:int2`,
    `  tsepics caput id01:str1 "hello world"`,
    `  tsepics caget -S id01:filename`,
    `  tsepics cainfo id01:dwave`,
  ];
  if (has('sim:mtr1'))
    lines.push(
      `  tsepics caput -c sim:mtr1 2.5     # a simulated motor (sim:mtr1..sim:mtr${opts.motors ?? 6})`,
    );
  if (has('sim:scaler1')) lines.push(`  tsepics caput -c sim:scaler1.CNT 1`);
  if (has('sim:mca1')) lines.push(`  tsepics caput sim:mca1.ERST 1`);
  lines.push(
    '',
    'Prefixes: id01 .. id' + String(opts.count ?? 36).padStart(2, '0') + '. Stop with Ctrl-C.',
    '',
  );
  out(lines.join('\n'));
  await new Promise<void>((resolve) => {
    if (io?.signal) {
      if (io.signal.aborted) resolve();
      else io.signal.addEventListener('abort', () => resolve(), { once: true });
      return;
    }
    const onSig = (): void => {
      process.off('SIGINT', onSig);
      process.off('SIGTERM', onSig);
      resolve();
    };
    process.on('SIGINT', onSig);
    process.on('SIGTERM', onSig);
  });
  await ioc.stop();
  return 0;
}
