/**
 * Server-side channel filters as RSRV accepts them after the field name:
 *   REC.{"arr":{"s":0,"e":9,"i":2}}   array slice (start, end inclusive, increment; negative = from the end)
 *   REC.[1:3]  REC.VAL[2]  REC.[0:2:8]  shorthand for arr ([s], [s:e], [s:i:e])
 *   {"ts":{}}                          time stamp replaced by the server time of the read/update
 *   {"dbnd":{"abs":0.5}} / {"rel":10}  monitor deadband (absolute, or percent of the last value)
 *   {"dec":{"n":4}}                    pass every n-th monitor update
 * Several may be combined in one JSON object. Writes go to the unfiltered field.
 */
import { DBE } from '../protocol/constants.js';
import type { NativeArray } from '../protocol/values.js';
import type { ChannelSnapshot, ClientIdentity, ServedChannel } from '../server/provider.js';
import { parseRelaxedJson } from './links.js';
import { nowStamp } from './record.js';

export interface FilterSpec {
  arr?: { s: number; e: number; i: number };
  ts?: boolean;
  dbnd?: { abs?: number; rel?: number };
  dec?: number;
}

/** Thrown for a filter text that cannot be parsed (the channel then does not exist). */
export class FilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FilterError';
  }
}

function int(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new FilterError(`${what} must be an integer`);
  return v;
}

/** Parse the filter part of a channel name (starting at '{' or '['). */
export function parseFilters(text: string): FilterSpec {
  const spec: FilterSpec = {};
  if (text.startsWith('[')) {
    const m = /^\[\s*(-?\d+)?\s*(?::\s*(-?\d+)?\s*)?(?::\s*(-?\d+)?\s*)?\]$/.exec(text);
    if (!m) throw new FilterError(`bad array filter ${text}`);
    const parts = text.slice(1, -1).split(':');
    const num = (s: string | undefined, d: number): number =>
      s === undefined || s.trim() === '' ? d : Number(s);
    if (parts.length === 1) {
      const s = num(parts[0], 0);
      spec.arr = { s, e: s, i: 1 };
    } else if (parts.length === 2) spec.arr = { s: num(parts[0], 0), e: num(parts[1], -1), i: 1 };
    else spec.arr = { s: num(parts[0], 0), i: num(parts[1], 1), e: num(parts[2], -1) };
    if (spec.arr.i < 1) throw new FilterError('array filter increment must be >= 1');
    return spec;
  }
  let j: unknown;
  try {
    j = parseRelaxedJson(text);
  } catch {
    throw new FilterError(`bad filter JSON ${text}`);
  }
  if (!j || typeof j !== 'object' || Array.isArray(j))
    throw new FilterError(`filter must be a JSON object: ${text}`);
  for (const [k, v] of Object.entries(j as Record<string, unknown>)) {
    const o = (v ?? {}) as Record<string, unknown>;
    switch (k) {
      case 'arr': {
        const i = o.i === undefined ? 1 : int(o.i, 'arr.i');
        if (i < 1) throw new FilterError('arr.i must be >= 1');
        spec.arr = {
          s: o.s === undefined ? 0 : int(o.s, 'arr.s'),
          e: o.e === undefined ? -1 : int(o.e, 'arr.e'),
          i,
        };
        break;
      }
      case 'ts':
        spec.ts = true;
        break;
      case 'dbnd': {
        const d: { abs?: number; rel?: number } = {};
        if (typeof o.abs === 'number') d.abs = o.abs;
        if (typeof o.rel === 'number') d.rel = o.rel;
        if (typeof o.d === 'number') {
          if (o.m === 'rel') d.rel = o.d;
          else d.abs = o.d;
        }
        spec.dbnd = d;
        break;
      }
      case 'dec':
        spec.dec = o.n === undefined ? 1 : int(o.n, 'dec.n');
        if (spec.dec < 1) throw new FilterError('dec.n must be >= 1');
        break;
      default:
        throw new FilterError(`unknown filter "${k}"`);
    }
  }
  return spec;
}

/** Indices [start, count] of an arr slice of an array of `len` elements. */
export function sliceRange(len: number, s: number, e: number, i: number): [number, number] {
  let start = s < 0 ? s + len : s;
  let end = e < 0 ? e + len : e;
  if (start < 0) start = 0;
  if (end > len - 1) end = len - 1;
  if (len === 0 || start > end) return [0, 0];
  return [start, Math.floor((end - start) / i) + 1];
}

function pick(value: NativeArray, start: number, count: number, inc: number): NativeArray {
  if (inc === 1)
    return Array.isArray(value) ? value.slice(start, start + count) : value.subarray(start, start + count);
  if (Array.isArray(value)) {
    const out = new Array<string>(count);
    for (let k = 0; k < count; k++) out[k] = value[start + k * inc] ?? '';
    return out;
  }
  const out = new (value.constructor as new (n: number) => typeof value)(count);
  for (let k = 0; k < count; k++) out[k] = value[start + k * inc] ?? 0;
  return out;
}

export class FilteredChannel implements ServedChannel {
  readonly elementCount: number;

  constructor(
    readonly name: string,
    private readonly base: ServedChannel,
    private readonly spec: FilterSpec,
  ) {
    const a = spec.arr;
    this.elementCount = a ? Math.max(1, sliceRange(base.elementCount, a.s, a.e, a.i)[1]) : base.elementCount;
  }

  get nativeType(): ServedChannel['nativeType'] {
    return this.base.nativeType;
  }
  get className(): string {
    return this.base.className;
  }
  get asg(): string | undefined {
    return this.base.asg;
  }
  get asl(): number | undefined {
    return this.base.asl;
  }

  snapshot(): ChannelSnapshot {
    const snap = this.base.snapshot();
    const a = this.spec.arr;
    let out = snap;
    if (a) {
      const [start, count] = sliceRange(Math.min(snap.count, snap.value.length), a.s, a.e, a.i);
      out = { ...snap, value: pick(snap.value, start, count, a.i), count };
    }
    if (this.spec.ts) out = { ...out, stamp: nowStamp() };
    return out;
  }

  write(value: NativeArray, dbrType: number, client: ClientIdentity): Promise<void> {
    return this.base.write(value, dbrType, client);
  }

  subscribe(listener: (mask: number) => void): () => void {
    const { dbnd, dec } = this.spec;
    if (!dbnd && !dec) return this.base.subscribe(listener);
    let last: number | undefined;
    let n = 0;
    return this.base.subscribe((mask) => {
      let m = mask;
      if (dbnd && m & (DBE.VALUE | DBE.LOG)) {
        const v = Number(this.base.snapshot().value[0] ?? NaN);
        const band =
          dbnd.abs ?? (dbnd.rel !== undefined && last !== undefined ? (Math.abs(last) * dbnd.rel) / 100 : 0);
        if (last !== undefined && Math.abs(v - last) <= band) m &= ~(DBE.VALUE | DBE.LOG);
        else last = v;
      }
      if (!m) return;
      if (dec && n++ % dec !== 0) return;
      listener(m);
    });
  }

  accessRights(client: ClientIdentity): number {
    return this.base.accessRights(client);
  }

  onAccessRightsChange(listener: () => void): () => void {
    return this.base.onAccessRightsChange ? this.base.onAccessRightsChange(listener) : () => {};
  }
}
