/**
 * `tsepics ioc`: a soft IOC like EPICS base's softIoc.
 *
 *   tsepics ioc [-h] [-S] [-v] [-a file.acf] [-m macro=value,...] [-d file.db] [-x prefix] [--dbl] [st.cmd]
 *
 * `-m` sets the macros for the following `-d`/`-a` (each `-m` replaces the previous set), `-d` loads
 * a database, `-a` an access security file, `-x PREFIX` adds the record `PREFIX:exit` (a put to it
 * exits with that status), `-S` runs without the interactive shell, `--dbl` prints the record names
 * and exits. An optional st.cmd script may use dbLoadRecords, epicsEnvSet, iocInit, asSetFilename,
 * asSetSubstitutions and cd. The CA server takes its ports from the environment (EPICS_CA_SERVER_PORT,
 * EPICS_CAS_INTF_ADDR_LIST ...). SIGINT/SIGTERM stop the IOC cleanly (exit status 0). As softIoc it
 * prints `Starting iocInit` and `iocRun: All initialization complete` on stderr.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { AccessSecurity } from '../server/access-security.js';
import { CaServer } from '../server/server.js';
import { compileCalc } from '../ioc/calc/index.js';
import { RecordDatabase } from '../ioc/database.js';
import { ParseError } from '../ioc/db-parser.js';
import { expandMacros, parseMacroString, MacroError } from '../ioc/macros.js';
import { mcaRecordType } from '../ioc/records/mca.js';
import { motorRecordType } from '../ioc/records/motor.js';
import { scalerRecordType } from '../ioc/records/scaler.js';

export interface IocMainOptions {
  env?: NodeJS.ProcessEnv;
  stdout?: (s: string) => void;
  stderr?: (s: string) => void;
  /** Aborting it stops the IOC (as SIGINT does). Signals are not hooked when given. */
  signal?: AbortSignal;
  /** Called once serving, with the database and the TCP port. */
  onReady?: (info: { db: RecordDatabase; tcpPort: number; udpPort: number }) => void;
  /** Force the interactive shell off/on (default: on when stdin is a TTY and -S is absent). */
  interactive?: boolean;
}

const USAGE = `Usage: tsepics ioc [-D softIoc.dbd] [-h] [-S] [-s] [-v] [-a ascf]
        [-m macro=value,macro2=value2] [-d file.db]
        [-x prefix] [--dbl] [st.cmd]
Compiled-in path to softIoc.dbd is not used (record types are built in).
  -D <path>  ignored (accepted for compatibility)
  -h  Print this message and exit.
  -S  Prevents an interactive shell being started.
  -s  Previously caused a shell to be started.  Now accepted and ignored.
  -v  Verbose, display steps taken during startup.
  -a <acf>  Access Security configuration file.  Macro substitution is
      performed.
  -m <MAC>=<value>,...  Set/replace macro definitions used by subsequent -d and
      -a.
  -d <.db>  Load records from file (dbLoadRecords).  Macro substitution is
      performed.
  -x <prefix>  Load softIocExit.db.  Provides a record "<prefix>:exit".
      Put 0 to exit with success, or non-zero to exit with an error.
  --dbl  Load, initialise, print the record names (as dbl) and exit.
`;

class UsageError extends Error {}

interface Ctx {
  db: RecordDatabase;
  macros: Map<string, string>;
  acf?: { file: string; macros: Map<string, string> };
  env: NodeJS.ProcessEnv;
  verbose: boolean;
  out: (s: string) => void;
  cwd: string;
}

function loadDb(c: Ctx, file: string, macros: Map<string, string>): void {
  if (c.verbose)
    c.out(
      `dbLoadRecords("${file}"${macros.size ? `, "${[...macros].map(([k, v]) => `${k}=${v}`).join(',')}"` : ''})\n`,
    );
  const warnings = c.db.loadDatabaseFile(resolve(c.cwd, file), macros);
  for (const w of warnings) c.out(`Warning: ${w}\n`);
}

/** Split an iocsh argument list: `("a", "b")` or `a b`. */
function shellArgs(rest: string): string[] {
  const s = rest
    .trim()
    .replace(/^\(/, '')
    .replace(/\)\s*;?\s*$/, '');
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|([^\s,"]+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return out;
}

function runScript(c: Ctx, file: string): boolean {
  const path = resolve(c.cwd, file);
  const text = readFileSync(path, 'utf8');
  let initRequested = false;
  let lineNo = 0;
  for (const raw of text.split(/\r?\n/)) {
    lineNo++;
    const envMacros = new Map(Object.entries(c.env).filter((e): e is [string, string] => e[1] !== undefined));
    const line = expandMacros(raw, envMacros).text.trim();
    if (!line || line.startsWith('#')) continue;
    if (c.verbose) c.out(`${line}\n`);
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*(.*)$/.exec(line);
    if (!m) {
      if (line.startsWith('<')) {
        initRequested = runScript({ ...c, cwd: dirname(path) }, line.slice(1).trim()) || initRequested;
        continue;
      }
      throw new ParseError(path, lineNo, `cannot parse "${line}"`);
    }
    const [, cmd, rest] = m as unknown as [string, string, string];
    const args = shellArgs(rest);
    switch (cmd) {
      case 'dbLoadRecords':
        if (!args[0]) throw new ParseError(path, lineNo, 'dbLoadRecords needs a file name');
        loadDb(c, args[0], args[1] ? parseMacroString(args[1]) : new Map());
        break;
      case 'epicsEnvSet':
        if (args.length < 2) throw new ParseError(path, lineNo, 'epicsEnvSet needs a name and a value');
        c.env[args[0]!] = args[1];
        break;
      case 'cd':
        c.cwd = resolve(c.cwd, args[0] ?? '.');
        break;
      case 'iocInit':
        initRequested = true;
        break;
      case 'asSetFilename':
        c.acf = { file: resolve(c.cwd, args[0] ?? ''), macros: c.acf?.macros ?? new Map() };
        break;
      case 'asSetSubstitutions':
        c.acf = { file: c.acf?.file ?? '', macros: parseMacroString(args[0] ?? '') };
        break;
      case 'dbLoadDatabase':
      case 'registerRecordDeviceDriver':
      case 'softIoc_registerRecordDeviceDriver':
      case 'errlogInit':
      case 'errlogInit2':
      case 'iocLogInit':
      case 'dbLoadTemplate':
        if (cmd === 'dbLoadTemplate')
          c.out(`Warning: ${path}:${lineNo}: dbLoadTemplate is not supported; ignored\n`);
        break;
      default:
        c.out(`Warning: ${path}:${lineNo}: command '${cmd}' not supported; ignored\n`);
    }
  }
  return initRequested;
}

function loadAcf(c: Ctx): AccessSecurity | undefined {
  if (!c.acf || !c.acf.file) return undefined;
  const text = expandMacros(readFileSync(c.acf.file, 'utf8'), c.acf.macros).text;
  return AccessSecurity.parse(text, c.acf.file, {
    compileCalc: (expr: string) => {
      const compiled = compileCalc(expr);
      return (inputs: Float64Array) => compiled.evaluate(inputs);
    },
  });
}

/** The text of a `dbl` listing: one record name per line. */
export function dblText(db: RecordDatabase, type?: string): string {
  return db
    .records(type)
    .map((r) => `${r.name}\n`)
    .join('');
}

function shellCommand(
  db: RecordDatabase,
  line: string,
  out: (s: string) => void,
  exit: () => void,
): Promise<void> | void {
  const [cmd, ...rest] = line.trim().split(/\s+/);
  const args = shellArgs(rest.join(' '));
  switch (cmd) {
    case undefined:
    case '':
      return;
    case 'dbl':
      out(dblText(db, args[0] && args[0] !== '*' ? args[0] : undefined));
      return;
    case 'dbgf': {
      const ch = db.channel(args[0] ?? '');
      if (!ch) return out(`PV '${args[0] ?? ''}' not found\n`);
      const v = ch.snapshot().value;
      return out(`${Array.isArray(v) ? v.join(' ') : Array.from(v).join(' ')}\n`);
    }
    case 'dbpf':
      return db.put(args[0] ?? '', args[1] ?? '').then(
        () => shellCommand(db, `dbgf ${args[0]}`, out, exit),
        (e: Error) => out(`dbpf: ${e.message}\n`),
      );
    case 'exit':
      return exit();
    case 'help':
      return out('Commands: dbl [type], dbgf PV, dbpf PV VALUE, exit\n');
    default:
      out(`Command ${cmd} not found.\n`);
  }
}

/** Run the soft IOC; resolves with the exit status when it stops. */
export async function iocMain(argv: readonly string[], opts: IocMainOptions = {}): Promise<number> {
  const out = opts.stdout ?? ((s: string) => void process.stdout.write(s));
  const err = opts.stderr ?? ((s: string) => void process.stderr.write(s));
  const env = { ...(opts.env ?? process.env) };
  const db = new RecordDatabase();
  // simulated synApps records (motor, scaler, mca): any DTYP is simulated
  for (const t of [motorRecordType, scalerRecordType, mcaRecordType]) db.registerRecordType(t);
  const c: Ctx = { db, macros: new Map(), env, verbose: false, out, cwd: process.cwd() };
  let noShell = false;
  let dbl = false;
  let exitPrefix: string | undefined;
  try {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      const needArg = (): string => {
        const attached = a.length > 2 ? a.slice(2) : undefined;
        if (attached !== undefined) return attached;
        const v = argv[++i];
        if (v === undefined) throw new UsageError(`option ${a} needs an argument`);
        return v;
      };
      if (a === '--dbl') dbl = true;
      else if (a === '-h' || a === '--help') {
        out(USAGE);
        return 0;
      } else if (a === '-S') noShell = true;
      else if (a === '-s') {
        /* ignored */
      } else if (a === '-v') c.verbose = true;
      else if (a.startsWith('-D')) needArg();
      else if (a.startsWith('-m')) c.macros = parseMacroString(needArg());
      else if (a.startsWith('-d')) loadDb(c, needArg(), c.macros);
      else if (a.startsWith('-a')) c.acf = { file: resolve(c.cwd, needArg()), macros: new Map(c.macros) };
      else if (a.startsWith('-x')) {
        exitPrefix = needArg();
        db.loadDatabase(
          `record(ao, "${exitPrefix}:exit") { field(DESC, "Exit subroutine") field(MDEL, "-1") }`,
          undefined,
          { file: 'softIocExit.db' },
        );
      } else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
      else runScript(c, a);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      err(`tsepics ioc: ${e.message}\n${USAGE}`);
      return 2;
    }
    if (
      e instanceof ParseError ||
      e instanceof MacroError ||
      (e as NodeJS.ErrnoException).code === 'ENOENT'
    ) {
      // softIoc: a failed dbLoadRecords throws out of main, which exits with status 2
      err(`ERROR: ${(e as Error).message}\n`);
      return 2;
    }
    err(`ERROR: ${(e as Error).message}\n`);
    return 1;
  }

  let as: AccessSecurity | undefined;
  try {
    as = loadAcf(c);
  } catch (e) {
    err(`ERROR: access security: ${(e as Error).message}\n`);
    return 1;
  }

  err('Starting iocInit\n');
  db.init();
  if (as) db.setAccessSecurity(as);
  if (dbl) {
    out(dblText(db));
    db.stop();
    return 0;
  }

  const server = new CaServer({ provider: db, env, accessSecurity: as, log: (l) => err(`${l}\n`) });
  try {
    await server.start();
  } catch (e) {
    db.stop();
    err(`ERROR: CA server: ${(e as Error).message}\n`);
    return 1;
  }
  err('iocRun: All initialization complete\n');

  return await new Promise<number>((resolveExit) => {
    let done = false;
    let rl: ReturnType<typeof createInterface> | undefined;
    const finish = (code: number): void => {
      if (done) return;
      done = true;
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      opts.signal?.removeEventListener('abort', onAbort);
      rl?.close();
      db.stop();
      server.stop().then(
        () => resolveExit(code),
        () => resolveExit(code),
      );
    };
    const onSignal = (): void => finish(0);
    const onAbort = (): void => finish(0);
    if (opts.signal) {
      if (opts.signal.aborted) return finish(0);
      opts.signal.addEventListener('abort', onAbort);
    } else {
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    }
    if (exitPrefix) {
      const rec = db.getRecord(`${exitPrefix}:exit`)!;
      rec.addListener('VAL', () => finish(Math.trunc(rec.num('VAL')) & 0xff));
    }
    // iocsh-like shell on stdin unless -S: prompts on a terminal; at end of input a terminal
    // session exits (as iocsh does on ^D), a pipe just stops being read.
    const interactive = opts.interactive ?? (!noShell && !opts.signal);
    if (interactive) {
      const tty = process.stdin.isTTY === true;
      rl = createInterface({
        input: process.stdin,
        output: tty ? process.stdout : undefined,
        prompt: 'epics> ',
        terminal: tty,
      });
      if (tty) rl.prompt();
      rl.on('line', (line) => {
        const r = shellCommand(db, line, out, () => finish(0));
        const again = (): void => {
          if (tty && !done) rl?.prompt();
        };
        if (r) void r.then(again);
        else again();
      });
      rl.on('close', () => {
        if (tty) finish(0);
      });
    }
    opts.onReady?.({ db, tcpPort: server.tcpPort, udpPort: server.udpPort });
  });
}
