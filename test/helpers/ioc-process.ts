// Runs `tsepics ioc` (node dist/src/cli/main.js ioc ...) as a child process for tests: on its own
// free loopback ports, waits for `iocRun: All initialization complete`, and stops it on cleanup.
//
//   const ioc = await startIoc({ db: fixture('interop.db'), macros: 'P=X:' });
//   after(() => ioc.stop());
//   ... ioc.env is the CA env block a client must use (caEnv(ioc.port)).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { caClientEnv, caEnv, childEnv, freePort, type CaEnv } from './ports.js';

/** The repository root (this file runs from dist/test/helpers/). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The compiled tsepics command. */
export const TSEPICS_MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export const READY_LINE = 'iocRun: All initialization complete';

/** The IOC did not come up (exited, or no ready line before the timeout). */
export class IocStartError extends Error {
  override name = 'IocStartError';
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(`${message}\n--- ioc output ---\n${output}`);
  }
}

export interface IocOptions {
  /** .db files, loaded in order (each becomes `-d FILE`). */
  db?: string | string[];
  /** Macros for the .db files (`-m MACROS` before the first `-d`). */
  macros?: string;
  /** Access security file (`-a FILE`). */
  acf?: string;
  /** Extra arguments appended after the generated ones. */
  args?: string[];
  /** Server port; default a fresh freePort(). The repeater port is port + 1 (see caEnv). */
  port?: number;
  /** Extra environment (added after the CA env block). */
  env?: Record<string, string>;
  /** Seconds to wait for the ready line (default 20). */
  timeout?: number;
  /** Command to run instead of `node dist/src/cli/main.js ioc` (e.g. EPICS base's softIoc). */
  command?: string[];
  /** Working directory (default: the repository root). */
  cwd?: string;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface IocProcess {
  readonly port: number;
  readonly repeaterPort: number;
  /** The CA env block the IOC runs with (caEnv(port)). */
  readonly env: CaEnv;
  /** The env block for clients of this IOC (EPICS_CA_* only: caClientEnv(port)). */
  readonly clientEnv: Record<string, string>;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves when the process has exited. */
  readonly exited: Promise<ExitInfo>;
  /** Everything the process printed so far (stdout and stderr interleaved). */
  output(): string;
  /** Writes a line to the IOC's stdin (its iocsh, when it has one). */
  send(line: string): void;
  /** SIGTERM, then SIGKILL after `graceSeconds` (default 3); resolves when it has exited. Idempotent. */
  stop(graceSeconds?: number): Promise<ExitInfo>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kills every IOC child still running (synchronous: used from exit and signal handlers). */
function killAllIocs(): void {
  for (const c of running) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when a test process ends without running its cleanups: on exit, and when it is
  // killed by a signal (e.g. the test runner interrupted), the IOCs it started must not outlive it.
  process.on('exit', killAllIocs);
  onTerminatingSignal(killAllIocs);
}

/**
 * Runs `fn` when this process gets SIGTERM/SIGINT/SIGHUP, then lets the signal take its default
 * effect (the handler removes itself and re-raises the signal).
 */
export function onTerminatingSignal(fn: () => void): void {
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    const handler = (): void => {
      fn();
      process.removeListener(sig, handler);
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, handler);
  }
}

/** The argument list for `tsepics ioc` from the options. */
export function iocArgs(opts: IocOptions): string[] {
  const args: string[] = [];
  if (opts.macros !== undefined) args.push('-m', opts.macros);
  if (opts.acf !== undefined) args.push('-a', opts.acf);
  const dbs = opts.db === undefined ? [] : Array.isArray(opts.db) ? opts.db : [opts.db];
  for (const d of dbs) args.push('-d', d);
  if (opts.args) args.push(...opts.args);
  return args;
}

/**
 * The IOC command the tests run: `node dist/src/cli/main.js ioc` by default. With
 * TSEPICS_TEST_IOC=softioc and EPICS_BASE set, EPICS base's `softIoc -S` instead (to check by hand
 * that a test's expectations are those of the reference IOC).
 */
export function iocCommand(): { name: string; command: string[] } {
  if (process.env.TSEPICS_TEST_IOC === 'softioc') {
    const base = process.env.EPICS_BASE;
    if (!base) throw new Error('TSEPICS_TEST_IOC=softioc needs EPICS_BASE (the EPICS base build folder)');
    const arch = process.env.EPICS_HOST_ARCH ?? (process.arch === 'arm64' ? 'linux-aarch64' : 'linux-x86_64');
    return { name: 'softIoc', command: [`${base}/bin/${arch}/softIoc`, '-S'] };
  }
  return { name: 'tsepics ioc', command: [process.execPath, TSEPICS_MAIN, 'ioc'] };
}

/** Starts the IOC and resolves once it printed the ready line. */
export async function startIoc(opts: IocOptions = {}): Promise<IocProcess> {
  installExitHook();
  const port = opts.port ?? (await freePort());
  const env = caEnv(port);
  const cmd = opts.command ?? iocCommand().command;
  const args = [...cmd.slice(1), ...iocArgs(opts)];
  const child = spawn(cmd[0], args, {
    cwd: opts.cwd ?? REPO_ROOT,
    env: childEnv({ ...env, ...opts.env }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.add(child);

  const chunks: string[] = [];
  let out = '';
  const output = (): string => {
    if (chunks.length) {
      out += chunks.join('');
      chunks.length = 0;
    }
    return out;
  };
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
    child.once('error', (err) => {
      running.delete(child);
      chunks.push(`spawn error: ${err.message}\n`);
      resolve({ code: null, signal: null });
    });
  });

  const ready = new Promise<void>((resolve, reject) => {
    let tail = '';
    const timeoutS = opts.timeout ?? 20;
    const timer = setTimeout(() => {
      reject(new IocStartError(`no "${READY_LINE}" within ${timeoutS} s`, output()));
    }, timeoutS * 1000);
    const onData = (buf: Buffer): void => {
      const s = buf.toString('utf8');
      chunks.push(s);
      tail = (tail + s).slice(-4096);
      if (tail.includes(READY_LINE)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then((info) => {
      clearTimeout(timer);
      reject(
        new IocStartError(
          `ioc exited before it was ready (code ${info.code}, signal ${info.signal})`,
          output(),
        ),
      );
    });
  });
  // The stdin pipe stays open (an IOC with an iocsh exits on EOF); errors on it are ignored.
  child.stdin?.on('error', () => undefined);

  let stopping: Promise<ExitInfo> | undefined;
  const stop = (graceSeconds = 3): Promise<ExitInfo> => {
    if (stopping) return stopping;
    stopping = (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), graceSeconds * 1000);
        const info = await exited;
        clearTimeout(t);
        child.stdin?.destroy();
        return info;
      }
      child.stdin?.destroy();
      return exited;
    })();
    return stopping;
  };

  try {
    await ready;
  } catch (err) {
    await stop(1);
    throw err;
  }
  return {
    port,
    repeaterPort: port + 1,
    env,
    clientEnv: caClientEnv(port),
    pid: child.pid ?? -1,
    child,
    exited,
    output,
    send: (line: string) => {
      child.stdin?.write(line.endsWith('\n') ? line : `${line}\n`);
    },
    stop,
  };
}
