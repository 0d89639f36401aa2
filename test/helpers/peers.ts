// The real EPICS peers the interop tests talk to: Debian's libca and Debian's pyepics (unpacked
// by scripts/install-peers.sh into .peers/pyepics), run with Debian's /usr/bin/python3.
//
//   const peers = requirePeers(t);          // skips t (or throws when CI=true) if missing
//   if (!peers) return;
//   const r = await runPyepics('import epics; print(epics.caget("X:ai"))', ioc.env);
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { childEnv } from './ports.js';
import { REPO_ROOT, onTerminatingSignal } from './ioc-process.js';

export const PEERS_PYTHON = '/usr/bin/python3';
export const PYEPICS_PATH = path.join(
  REPO_ROOT,
  '.peers',
  'pyepics',
  'usr',
  'lib',
  'python3',
  'dist-packages',
);
/** Our own Python helpers (test/interop/py: `from common import emit`), also on PYTHONPATH. */
export const INTEROP_PY_PATH = path.join(REPO_ROOT, 'test', 'interop', 'py');

export interface Peers {
  /** Debian's python3 (not a pyenv shim). */
  python: string;
  /** Absolute path of Debian's libca shared library (PYEPICS_LIBCA). */
  libca: string;
  /** The folder that holds the `epics` package (goes on PYTHONPATH). */
  pyepicsPath: string;
}

/** Peers are missing and CI=true: the interop suite must fail, not skip. */
export class PeersMissingError extends Error {
  override name = 'PeersMissingError';
}

function findLibca(): string | undefined {
  const fromEnv = process.env.PYEPICS_LIBCA;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  const dirs = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib'];
  for (const d of dirs) {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    const hit = names.filter((n) => /^libca\.so\.4\.\d+/.test(n)).sort();
    if (hit.length) return path.join(d, hit[hit.length - 1]);
  }
  return undefined;
}

/** The result of locatePeers(): the peers, or the reason they cannot be used. */
export interface PeersLookup {
  peers?: Peers;
  reason?: string;
}

/** Where to look (tests of this module point these at places that do not exist). */
export interface PeersPlaces {
  python?: string;
  pyepicsPath?: string;
  libca?: string;
}

let cached: PeersLookup | undefined;

/** Locates the peers; `reason` says what is missing. Never throws. */
export function locatePeers(places?: PeersPlaces): PeersLookup {
  if (cached && !places) return cached;
  const python = places?.python ?? PEERS_PYTHON;
  const pyepicsPath = places?.pyepicsPath ?? PYEPICS_PATH;
  const missing: string[] = [];
  const libca = places?.libca ?? findLibca();
  if (!libca || !existsSync(libca)) missing.push("Debian's libca (package libca4.13.5)");
  if (!existsSync(python)) missing.push(python);
  if (!existsSync(path.join(pyepicsPath, 'epics', '__init__.py'))) missing.push(`pyepics in ${pyepicsPath}`);
  const result: PeersLookup =
    missing.length || !libca
      ? {
          reason: `interop peers missing: ${missing.join(', ')} (run: bash scripts/install-peers.sh as root)`,
        }
      : { peers: { python, libca, pyepicsPath } };
  if (!places) cached = result;
  return result;
}

/**
 * For `describe(name, { skip: peersSkipReason() }, ...)`: undefined when the peers are there, the
 * reason to skip when not. Throws PeersMissingError when CI=true (CI must not skip interop).
 */
export function peersSkipReason(lookup: PeersLookup = locatePeers()): string | undefined {
  if (lookup.peers) return undefined;
  if (process.env.CI === 'true') throw new PeersMissingError(lookup.reason);
  return lookup.reason;
}

/**
 * The peers, or: throws PeersMissingError when CI=true; otherwise marks `t` skipped with the
 * reason (when given) and returns undefined.
 */
export function requirePeers(
  t?: { skip(message?: string): void },
  lookup: PeersLookup = locatePeers(),
): Peers | undefined {
  if (lookup.peers) return lookup.peers;
  if (process.env.CI === 'true') throw new PeersMissingError(lookup.reason);
  t?.skip(lookup.reason);
  return undefined;
}

export interface PyResult {
  stdout: string;
  stderr: string;
  /** Exit code (null when killed by a signal). */
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Wall time in seconds. */
  seconds: number;
}

export interface PyOptions {
  /** Seconds before the script is killed (default 30). */
  timeout?: number;
  /** Text for the script's stdin. */
  input?: string;
  /** Arguments (sys.argv[1:]). */
  args?: string[];
}

const runningPy = new Set<ChildProcess>();
let hook = false;

/** Kills every Python child still running (tests call this in `after`; also runs on exit). */
export function killAllPython(): void {
  for (const c of runningPy) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * Runs a Python snippet with Debian's python3, Debian's pyepics and libca, in an environment
 * with no EPICS_* variable except those of `env` (pass the IOC's caEnv block).
 */
export function runPyepics(
  script: string,
  env: Record<string, string> = {},
  opts: PyOptions = {},
): Promise<PyResult> {
  const { peers, reason } = locatePeers();
  if (!peers) return Promise.reject(new PeersMissingError(reason));
  if (!hook) {
    hook = true;
    process.on('exit', killAllPython);
    onTerminatingSignal(killAllPython);
  }
  const started = process.hrtime.bigint();
  const child = spawn(peers.python, ['-c', script, ...(opts.args ?? [])], {
    cwd: REPO_ROOT,
    env: childEnv({
      PYTHONPATH: `${peers.pyepicsPath}${path.delimiter}${INTEROP_PY_PATH}`,
      PYEPICS_LIBCA: peers.libca,
      PYTHONDONTWRITEBYTECODE: '1',
      PYTHONUNBUFFERED: '1',
      PYTHONHOME: undefined,
      ...env,
    }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  runningPy.add(child);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  child.stdin.on('error', () => undefined);
  child.stdin.end(opts.input ?? '');
  let timedOut = false;
  const timer = setTimeout(
    () => {
      timedOut = true;
      child.kill('SIGKILL');
    },
    (opts.timeout ?? 30) * 1000,
  );
  return new Promise((resolve, reject) => {
    child.once('error', (e) => {
      clearTimeout(timer);
      runningPy.delete(child);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      runningPy.delete(child);
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        code,
        signal,
        timedOut,
        seconds: Number(process.hrtime.bigint() - started) / 1e9,
      });
    });
  });
}

/** A Python script failed or did not print the expected JSON. */
export class PyScriptError extends Error {
  override name = 'PyScriptError';
  constructor(
    message: string,
    readonly result: PyResult,
  ) {
    super(`${message}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`);
  }
}

/**
 * Runs a snippet that prints one JSON document on its last stdout line (e.g. via the `emit()`
 * helper of test/interop/py/common.py) and returns it parsed. Throws PyScriptError on a non-zero
 * exit, a timeout or unparsable output.
 */
export async function runPyepicsJson<T = unknown>(
  script: string,
  env: Record<string, string> = {},
  opts: PyOptions = {},
): Promise<T> {
  const r = await runPyepics(script, env, opts);
  if (r.timedOut) throw new PyScriptError(`python timed out after ${opts.timeout ?? 30} s`, r);
  if (r.code !== 0) throw new PyScriptError(`python exited with code ${r.code}`, r);
  const lines = r.stdout.trimEnd().split('\n');
  const last = lines[lines.length - 1];
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new PyScriptError('python did not print JSON on its last line', r);
  }
}
