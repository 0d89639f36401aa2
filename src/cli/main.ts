#!/usr/bin/env node
/**
 * The `tsepics` command: `tsepics caget|caput|cainfo|camonitor ...` (EPICS base catools), `tsepics ioc`
 * (soft IOC), `tsepics repeater` (CA repeater). Also dispatches on its own name when installed as a
 * `caget` ... symlink.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ToolIO } from './catools-backend.js';

type ToolMain = (args: readonly string[], io: ToolIO) => Promise<number>;

const TOOLS: Record<string, () => Promise<ToolMain>> = {
  caget: async () => (await import('./caget.js')).cagetMain,
  caput: async () => (await import('./caput.js')).caputMain,
  cainfo: async () => (await import('./cainfo.js')).cainfoMain,
  camonitor: async () => (await import('./camonitor.js')).camonitorMain,
};

/** Subcommands implemented in other modules, loaded on demand: [module file, export name]. */
const EXTERNAL: Record<string, [string, string]> = {
  ioc: ['./ioc.js', 'iocMain'],
  repeater: ['./repeater.js', 'repeaterMain'],
  demo: ['./demo.js', 'demoMain'],
  autosave: ['./autosave.js', 'autosaveMain'],
};

export function packageVersion(): string {
  try {
    const pkgUrl = new URL('../../../package.json', import.meta.url);
    return (JSON.parse(readFileSync(pkgUrl, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function mainUsage(): string {
  return (
    'Usage: tsepics <command> [options] [args]\n\n' +
    'Channel Access tools (options and output as EPICS base catools):\n' +
    '  caget      read PVs              (tsepics caget -h)\n' +
    '  caput      write a PV            (tsepics caput -h)\n' +
    '  cainfo     channel information   (tsepics cainfo -h)\n' +
    '  camonitor  monitor PVs           (tsepics camonitor -h)\n' +
    'Servers:\n' +
    '  ioc        soft IOC (like softIoc: -d file.db -m macros ...)\n' +
    '  repeater   CA repeater\n' +
    'Other:\n' +
    '  demo       a demo IOC and client\n' +
    '  autosave   save / restore PV values\n\n' +
    '  --help     this text\n' +
    '  --version  the tsepics version\n'
  );
}

/** Standard process I/O for a catool, with SIGINT/SIGTERM aborting `signal`. */
function processIO(ac: AbortController, tool: string): ToolIO {
  return {
    stdout: (s) => void process.stdout.write(s),
    stderr: (s) => void process.stderr.write(s),
    env: process.env,
    backend: async () => {
      const { CaToolBackend } = await import('./catools-ca.js');
      return new CaToolBackend(process.env, (s) => void process.stderr.write(s), {
        repeater: tool === 'camonitor',
      });
    },
    signal: ac.signal,
  };
}

/** Run the command line (argv without node and script); resolves the exit status. */
export async function main(argv: readonly string[], invokedAs?: string): Promise<number> {
  let cmd = invokedAs && invokedAs in TOOLS ? invokedAs : argv[0];
  let args = invokedAs && invokedAs in TOOLS ? argv : argv.slice(1);
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    (cmd === undefined ? process.stderr : process.stdout).write(mainUsage());
    return cmd === undefined ? 1 : 0;
  }
  if (cmd === '--version' || cmd === '-V') {
    process.stdout.write(`tsepics ${packageVersion()}\n`);
    return 0;
  }
  if (cmd in TOOLS) {
    const run = await TOOLS[cmd]();
    const ac = new AbortController();
    let caught: NodeJS.Signals | undefined;
    const onSignal = (sig: NodeJS.Signals): void => {
      caught = sig;
      ac.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const code = await run(args, processIO(ac, cmd));
      if (caught) {
        // die by the signal, as the C tools do (a shell then reports 128 + signal number)
        process.removeListener('SIGINT', onSignal);
        process.removeListener('SIGTERM', onSignal);
        process.kill(process.pid, caught);
      }
      return code;
    } finally {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
  }
  if (cmd in EXTERNAL) {
    const [file, fn] = EXTERNAL[cmd];
    let mod: Record<string, unknown>;
    try {
      mod = (await import(new URL(file, import.meta.url).href)) as Record<string, unknown>;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ERR_MODULE_NOT_FOUND') {
        process.stderr.write(
          `tsepics: the '${cmd}' command is not available in this build (${file} is missing)\n`,
        );
        return 1;
      }
      throw err;
    }
    const f = mod[fn];
    if (typeof f !== 'function') {
      process.stderr.write(
        `tsepics: the '${cmd}' command is not available in this build (${file} has no ${fn})\n`,
      );
      return 1;
    }
    const r: unknown = await (f as (a: readonly string[]) => unknown)(args);
    return typeof r === 'number' ? r : 0;
  }
  cmd = cmd ?? '';
  args = [];
  process.stderr.write(`tsepics: unknown command '${cmd}'\n\n${mainUsage()}`);
  return 1;
}

function isEntryPoint(): boolean {
  const a = process.argv[1];
  if (a === undefined) return false;
  try {
    return realpathSync(a) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

const self = basename(process.argv[1] ?? '').replace(/\.js$/, '');
if (isEntryPoint()) {
  // `tsepics caget ... | head`: a closed pipe ends the process quietly, as SIGPIPE ends the C tools
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(141);
    throw err;
  });
  main(process.argv.slice(2), self in TOOLS ? self : undefined).then(
    (code) => {
      process.exitCode = code;
      // flush stdout, then exit even if a handle (e.g. a spawned repeater's pipe) lingers
      process.stdout.write('', () => process.exit(code));
    },
    (err: unknown) => {
      process.stderr.write(`tsepics: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
