/**
 * Storage of array-valued VAL fields (waveform, aai, aao, subArray) in the CA native array type of
 * FTVL, with bulk typed-array copies for numeric puts and reads.
 */
import { DbrNative, type NativeType } from '../../protocol/constants.js';
import type { NativeArray } from '../../protocol/values.js';
import { fitString, formatNumberText, MENUS, parseFloatText, parseIntegerText, type Dbf } from '../fields.js';
import type { ArrayField } from '../record.js';

const FTVL = MENUS.menuFtype!;
type Typed = Exclude<NativeArray, string[]>;
interface TypedCtor {
  new (length: number): Typed;
  new (buffer: ArrayBufferLike, byteOffset: number, length?: number): Typed;
}
/** menuFtype index -> CA native type. */
const FTVL_NATIVE: readonly NativeType[] = [0, 4, 4, 1, 5, 5, 6, 6, 6, 2, 6, 3];
const FTVL_DBF = FTVL as readonly Dbf[];

export function ftvlName(i: number): string {
  return FTVL[i] ?? 'UCHAR';
}

export function allocArray(type: NativeType, n: number): NativeArray {
  switch (type) {
    case DbrNative.STRING:
      return new Array<string>(n).fill('');
    case DbrNative.SHORT:
      return new Int16Array(n);
    case DbrNative.FLOAT:
      return new Float32Array(n);
    case DbrNative.ENUM:
      return new Uint16Array(n);
    case DbrNative.CHAR:
      return new Uint8Array(n);
    case DbrNative.LONG:
      return new Int32Array(n);
    default:
      return new Float64Array(n);
  }
}

export class ArrayValue implements ArrayField {
  readonly nativeType: NativeType;
  readonly data: NativeArray;
  nord = 0;
  private readonly integer: boolean;

  constructor(
    readonly ftvl: number,
    readonly nelm: number,
  ) {
    this.nativeType = FTVL_NATIVE[ftvl] ?? DbrNative.CHAR;
    this.data = allocArray(this.nativeType, nelm);
    this.integer = (ftvl >= 1 && ftvl <= 8) || ftvl === 11;
  }

  get(): { value: NativeArray; count: number } {
    const d = this.data;
    return { value: Array.isArray(d) ? d : d.subarray(0, this.nord), count: this.nord };
  }

  /** Copy `src` (in CA array type `srcType`) to the start of the array; sets NORD. */
  put(src: NativeArray, _srcType: number): void {
    this.nord = this.copyIn(src, 0, src.length);
  }

  /** Copy elements into the array at `offset`; returns how many were stored. */
  copyIn(src: NativeArray, offset: number, len: number): number {
    const n = Math.max(0, Math.min(len, src.length, this.nelm - offset));
    const d = this.data;
    if (Array.isArray(d)) {
      for (let i = 0; i < n; i++) {
        const x = src[i]!;
        d[offset + i] = typeof x === 'string' ? fitString(x, 40) : formatNumberText(x);
      }
      return n;
    }
    if (Array.isArray(src)) {
      for (let i = 0; i < n; i++)
        d[offset + i] = this.integer
          ? parseIntegerText(src[i]!, FTVL_DBF[this.ftvl]!)
          : parseFloatText(src[i]!, this.ftvl === 9);
    } else {
      d.set(n === src.length ? src : src.subarray(0, n), offset);
    }
    this.fixRange(offset, n);
    return n;
  }

  /** Wrap values of types stored in a wider CA type (USHORT in LONG, ULONG/INT64 in DOUBLE). */
  private fixRange(offset: number, n: number): void {
    const d = this.data as Float64Array | Int32Array;
    if (this.ftvl === 4) for (let i = offset; i < offset + n; i++) d[i] = d[i]! & 0xffff;
    else if (this.ftvl === 6)
      for (let i = offset; i < offset + n; i++) d[i] = Number.isFinite(d[i]) ? Math.trunc(d[i]!) >>> 0 : 0;
    else if (this.ftvl === 7)
      for (let i = offset; i < offset + n; i++) d[i] = Number.isFinite(d[i]) ? Math.trunc(d[i]!) : 0;
    else if (this.ftvl === 8)
      for (let i = offset; i < offset + n; i++) {
        // UINT64: a negative value wraps as C's conversion does (-1 -> 18446744073709551615)
        const x = Number.isFinite(d[i]) ? Math.trunc(d[i]!) : 0;
        d[i] = x < 0 ? x + 2 ** 64 : x;
      }
  }

  /** The valid part (NORD elements): a view of the storage (a copy for strings). */
  valid(): NativeArray {
    const d = this.data;
    return Array.isArray(d) ? d.slice(0, this.nord) : d.subarray(0, this.nord);
  }

  /**
   * A copy of the valid part (for change detection). With `prev` (an earlier copy, no longer needed)
   * the copy reuses its memory when that is large enough, instead of new memory per copy.
   */
  snapshotCopy(prev?: NativeArray): NativeArray {
    const d = this.data;
    const n = this.nord;
    if (Array.isArray(d)) return d.slice(0, n);
    if (prev && !Array.isArray(prev) && prev.constructor === d.constructor) {
      const room = (prev.buffer.byteLength - prev.byteOffset) / d.BYTES_PER_ELEMENT;
      if (room >= n) {
        const out = new (d.constructor as TypedCtor)(prev.buffer, prev.byteOffset, n);
        out.set(d.subarray(0, n));
        return out;
      }
    }
    // room for the whole array, so that later copies fit whatever NORD becomes
    const out = new (d.constructor as TypedCtor)(this.nelm);
    out.set(d.subarray(0, n));
    return out.subarray(0, n);
  }
}

export function sameArray(a: NativeArray | undefined, b: NativeArray): boolean {
  if (!a || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `av` when it has menuFtype `ftvl` and `nelm` elements, else new (empty) storage for them. */
export function ensureArrayValue(av: ArrayValue | undefined, ftvl: number, nelm: number): ArrayValue {
  return av && av.ftvl === ftvl && av.nelm === nelm ? av : new ArrayValue(ftvl, nelm);
}

/** FTVL FLOAT or DOUBLE (the record's array is floating point). */
export function isFloatFtvl(ftvl: number): boolean {
  return ftvl === 9 || ftvl === 10;
}

/** The CA view of an array record's VAL stored in `av`: a put also sets the record's NORD. */
export function arrayValField(rec: { set(field: string, value: number): void }, av: ArrayValue): ArrayField {
  return {
    nativeType: av.nativeType,
    nelm: av.nelm,
    ftvl: av.ftvl,
    get: () => av.get(),
    put: (value: NativeArray, dbrType: number) => {
      av.put(value, dbrType);
      rec.set('NORD', av.nord);
    },
  };
}
