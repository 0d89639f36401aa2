/**
 * The slice of the client `PV` class (src/client/pv.ts) the devices layer uses. Devices are written
 * against this interface so that they can be unit-tested with fake PVs and so that any object with
 * pyepics' PV semantics (camelCase) can back a device.
 */

/** What a value callback receives (pyepics' keyword set, camelCase; more keys may be present). */
export interface PvCallbackArgs {
  pvname: string;
  value: unknown;
  charValue?: string | string[] | null;
  status?: number | null;
  severity?: number | null;
  timestamp?: number | null;
  [key: string]: unknown;
}

export type PvCallback = (args: PvCallbackArgs) => void;

export interface PvGetOptions {
  asString?: boolean;
  count?: number;
  useMonitor?: boolean;
  timeout?: number;
}

export interface PvPutOptions {
  wait?: boolean;
  /** Seconds to wait for completion (with wait). */
  timeout?: number;
}

export interface PvLike {
  readonly pvname: string;
  readonly connected: boolean;
  /** Latest (monitored) value, or null/undefined when none is known. */
  readonly value: unknown;
  readonly charValue?: string | null;
  /** `'read/write'`, `'read-only'`, ... when known. */
  readonly access?: string | null;
  readonly writeAccess?: boolean | null;
  /** Promoted type name (e.g. 'time_double'), when known. */
  readonly type?: string | null;
  /** Native element count, when known. */
  readonly nelm?: number | null;
  waitForConnection(timeout?: number): Promise<boolean>;
  get(opts?: PvGetOptions): Promise<unknown>;
  put(value: unknown, opts?: PvPutOptions): Promise<number | null | undefined>;
  addCallback(fn: PvCallback): number;
  removeCallback(index: number): void;
  disconnect(): void;
}

export interface PvFactoryOptions {
  connectionTimeout?: number;
  autoMonitor?: boolean;
  callback?: PvCallback;
}

/** Creates (or returns a shared) PV for a full channel name. */
export type PvFactory = (name: string, opts?: PvFactoryOptions) => PvLike;
