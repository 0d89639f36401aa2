/**
 * Save and restore PV values over Channel Access: `saveState(req, sav)` reads every PV a request file
 * names and writes a .sav file; `restoreState(sav)` writes the values back. All PVs are connected
 * and read/written in parallel.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { resolveFactory } from '../factory.js';
import type { PvFactory, PvLike } from '../pv-like.js';
import { AutosaveError } from './errors.js';
import type { Macros } from './macros.js';
import { readRequestFile } from './request.js';
import { formatSavFile, parseSavFile, type FormatEntry, type SavValue } from './savfile.js';

export interface SaveOptions {
  macros?: Macros;
  searchPath?: readonly string[];
  /** Connection + read timeout per PV, seconds (default 2). */
  timeout?: number;
  pvFactory?: PvFactory;
  /** Time stamp written in the header (default now). */
  date?: Date;
}

export interface SaveResult {
  savFile: string;
  /** Number of PVs named by the request file(s). */
  total: number;
  saved: number;
  /** PVs that did not connect or could not be read (written as `#NAME Search Issued`). */
  failed: string[];
}

export interface RestoreOptions {
  timeout?: number;
  /** Wait for each put to complete (put-callback); default false, as autosave. */
  wait?: boolean;
  pvFactory?: PvFactory;
  /** Restore even when the file lacks its `<END>` line (default: refuse, as autosave does). */
  allowIncomplete?: boolean;
}

export interface RestoreFailure {
  pvname: string;
  reason: string;
}

export interface RestoreResult {
  total: number;
  restored: number;
  failed: RestoreFailure[];
}

function isTypedArray(v: unknown): v is ArrayLike<number> {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

/** Text of a char waveform when it is printable text, else undefined. */
function charText(bytes: Uint8Array): string | undefined {
  let end = bytes.indexOf(0);
  if (end < 0) end = bytes.length;
  for (let i = 0; i < end; i++) {
    const b = bytes[i];
    if (b < 0x20 && b !== 0x09) return undefined;
    if (b === 0x7f) return undefined;
  }
  for (let i = end; i < bytes.length; i++) if (bytes[i] !== 0) return undefined;
  return Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('latin1');
}

/** Convert a value read from a PV into its .sav text form (null: nothing to save). */
export function toSavValue(value: unknown, isCharArray = false): SavValue | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Uint8Array && isCharArray) {
    const text = charText(value);
    if (text !== undefined) return text;
  }
  if (isTypedArray(value)) return Array.from(value, (x) => String(x));
  if (Array.isArray(value)) return value.map((x) => String(x));
  return String(value);
}

/**
 * Convert a saved value into what to put, using the PV's current value as the type witness:
 * numbers for numeric PVs (enum labels stay strings), typed arrays for numeric arrays, NUL-terminated
 * bytes for char waveforms saved as text.
 */
export function fromSavValue(saved: SavValue, current: unknown, pvname: string): unknown {
  const num = (s: string): number => {
    const t = s.trim();
    const n = t === '' ? NaN : Number(t);
    if (Number.isNaN(n) && !/^[+-]?nan$/i.test(t)) {
      throw new AutosaveError(`value '${s}' is not a number`, pvname);
    }
    return n;
  };
  if (Array.isArray(saved)) {
    if (Array.isArray(current) || typeof current === 'string') return saved;
    if (current instanceof Float32Array) return Float32Array.from(saved, num);
    if (current instanceof Int32Array) return Int32Array.from(saved, num);
    if (current instanceof Int16Array) return Int16Array.from(saved, num);
    if (current instanceof Uint16Array) return Uint16Array.from(saved, num);
    if (current instanceof Uint8Array) return Uint8Array.from(saved, num);
    return Float64Array.from(saved, num);
  }
  if (current instanceof Uint8Array) {
    // char waveform saved as text: bytes plus the terminating NUL
    const bytes = Buffer.from(saved, 'latin1');
    const out = new Uint8Array(bytes.length + 1);
    out.set(bytes);
    return out;
  }
  if (typeof current === 'number' || typeof current === 'bigint') {
    const t = saved.trim();
    const n = t === '' ? NaN : Number(t);
    // a non-numeric string for a number PV is an enum label (or the PV rejects it)
    if (Number.isNaN(n) && !/^[+-]?nan$/i.test(t)) return saved;
    return n;
  }
  if (isTypedArray(current)) return Float64Array.of(num(saved));
  return saved;
}

async function connectAll(names: readonly string[], factory: PvFactory, timeout: number): Promise<PvLike[]> {
  const pvs = names.map((n) => factory(n, { connectionTimeout: timeout, autoMonitor: false }));
  await Promise.all(pvs.map((pv) => pv.waitForConnection(timeout).catch(() => false)));
  return pvs;
}

function isCharArray(pv: PvLike, value: unknown): boolean {
  if (!(value instanceof Uint8Array)) return false;
  const t = pv.type ?? '';
  return t === '' || t.endsWith('char') || (pv.nelm ?? 2) > 1;
}

/** Read every PV of `requestFile` and write `savFile` (atomically: temp file + rename). */
export async function saveState(
  requestFile: string,
  savFile: string,
  opts: SaveOptions = {},
): Promise<SaveResult> {
  const timeout = opts.timeout ?? 2;
  const entries = readRequestFile(requestFile, { macros: opts.macros, searchPath: opts.searchPath });
  const names = entries.map((e) => e.pvname);
  const pvs = await connectAll(names, resolveFactory(opts.pvFactory), timeout);
  const values = await Promise.all(
    pvs.map(async (pv): Promise<SavValue | null> => {
      if (!pv.connected) return null;
      try {
        const v = await pv.get({ timeout, useMonitor: false });
        return toSavValue(v, isCharArray(pv, v));
      } catch {
        return null;
      }
    }),
  );
  const out: FormatEntry[] = names.map((pvname, i) => ({ pvname, value: values[i] }));
  const text = formatSavFile(out, opts.date);
  const tmp = `${savFile}.tmp${process.pid}`;
  try {
    await writeFile(tmp, text, 'utf8');
    await rename(tmp, savFile);
  } catch (e) {
    throw new AutosaveError(`cannot write: ${(e as Error).message}`, savFile);
  }
  const failed = names.filter((_, i) => values[i] === null);
  return { savFile, total: names.length, saved: names.length - failed.length, failed };
}

/** Write the values of `savFile` back to their PVs (only connected, writable ones). */
export async function restoreState(savFile: string, opts: RestoreOptions = {}): Promise<RestoreResult> {
  const timeout = opts.timeout ?? 2;
  let text: string;
  try {
    text = await readFile(savFile, 'utf8');
  } catch (e) {
    throw new AutosaveError(`cannot read: ${(e as Error).message}`, savFile);
  }
  const sav = parseSavFile(text, savFile);
  if (!sav.complete && !opts.allowIncomplete) {
    throw new AutosaveError('no <END> line: file is incomplete or corrupt, not restoring', savFile);
  }
  const names = sav.entries.map((e) => e.pvname);
  const pvs = await connectAll(names, resolveFactory(opts.pvFactory), timeout);
  // 1. in parallel: check each PV and convert its value using the current value as type witness
  const prepared = await Promise.all(
    pvs.map(async (pv, i): Promise<{ value: unknown } | { reason: string }> => {
      const entry = sav.entries[i];
      if (!pv.connected) return { reason: 'not connected' };
      if (pv.writeAccess === false) return { reason: 'no write access' };
      try {
        const current = await pv.get({ timeout, useMonitor: false });
        return { value: fromSavValue(entry.value, current, entry.pvname) };
      } catch (e) {
        return { reason: (e as Error).message };
      }
    }),
  );
  // 2. the puts, issued in file order (order matters for e.g. motor fields)
  const failed: RestoreFailure[] = [];
  let restored = 0;
  const put = async (i: number): Promise<void> => {
    const p = prepared[i];
    const pvname = sav.entries[i].pvname;
    if ('reason' in p) {
      failed.push({ pvname, reason: p.reason });
      return;
    }
    try {
      const rc = await pvs[i].put(p.value, { wait: opts.wait ?? false, timeout });
      if (rc === null || rc === undefined || rc < 0) {
        failed.push({ pvname, reason: rc === -1 ? 'put timed out' : 'put failed' });
        return;
      }
      restored++;
    } catch (e) {
      failed.push({ pvname, reason: (e as Error).message });
    }
  };
  if (opts.wait) {
    for (let i = 0; i < pvs.length; i++) await put(i);
  } else {
    await Promise.all(pvs.map((_, i) => put(i)));
  }
  failed.sort((a, b) => names.indexOf(a.pvname) - names.indexOf(b.pvname));
  return { total: names.length, restored, failed };
}
