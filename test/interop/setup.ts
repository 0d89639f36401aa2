// Shared pieces of the interop tests: the database, one IOC per test file, Python snippets.
import assert from 'node:assert/strict';
import path from 'node:path';
import { REPO_ROOT, startIoc, type IocProcess } from '../helpers/ioc-process.js';
import { runPyepicsJson, type PyOptions } from '../helpers/peers.js';

/** The interop database (in the source tree: .db files are not compiled). */
export const INTEROP_DB = path.join(REPO_ROOT, 'test', 'interop', 'fixtures', 'interop.db');

/** Removes the common indentation of a template-literal Python snippet. */
export function dedent(src: string): string {
  const lines = src.replace(/^\n/, '').split('\n');
  let indent = Infinity;
  for (const l of lines) {
    if (l.trim() === '') continue;
    indent = Math.min(indent, l.length - l.trimStart().length);
  }
  if (!Number.isFinite(indent)) return src;
  return lines.map((l) => l.slice(indent)).join('\n');
}

/** An IOC on the interop database, started lazily and shared by the tests of one file. */
export class InteropIoc {
  private ioc: IocProcess | undefined;

  async start(): Promise<IocProcess> {
    this.ioc ??= await startIoc({ db: INTEROP_DB, timeout: 30 });
    return this.ioc;
  }

  get env(): Record<string, string> {
    if (!this.ioc) throw new Error('InteropIoc not started');
    return { ...this.ioc.clientEnv };
  }

  get port(): number {
    if (!this.ioc) throw new Error('InteropIoc not started');
    return this.ioc.port;
  }

  /** Runs a pyepics snippet (`from common import *` is prepended) against this IOC; returns its JSON. */
  py<T = Record<string, unknown>>(snippet: string, opts: PyOptions = {}): Promise<T> {
    return runPyepicsJson<T>(`from common import *\n${dedent(snippet)}`, this.env, opts);
  }

  async stop(): Promise<void> {
    const ioc = this.ioc;
    this.ioc = undefined;
    if (ioc) await ioc.stop();
  }
}

/** A number decoded from common.py's JSON (NaN and infinities arrive as strings). */
export function num(v: unknown): number {
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  assert.equal(typeof v, 'number', `expected a number, got ${JSON.stringify(v)}`);
  return v as number;
}

/** Asserts |actual - expected| <= tol (NaN equals NaN). */
export function assertClose(actual: unknown, expected: number, tol = 1e-9, what = 'value'): void {
  const a = num(actual);
  if (Number.isNaN(expected)) {
    assert.ok(Number.isNaN(a), `${what}: expected NaN, got ${a}`);
    return;
  }
  assert.ok(Math.abs(a - expected) <= tol, `${what}: expected ${expected} ± ${tol}, got ${a}`);
}

/** A numpy array as emitted by common.py. */
export interface NdJson {
  dtype: string;
  values: unknown[];
}

export function asNd(v: unknown, what = 'value'): NdJson {
  assert.ok(
    typeof v === 'object' && v !== null && 'dtype' in v && 'values' in v,
    `${what}: expected a numpy array, got ${JSON.stringify(v)}`,
  );
  return v as NdJson;
}
