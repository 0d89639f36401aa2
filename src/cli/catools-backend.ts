/**
 * The Channel Access operations the catools need, as an interface. The tools (caget.ts, caput.ts,
 * camonitor.ts, cainfo.ts) are written against it, so the same code runs over the tsepics client
 * (catools-ca.ts) and, in tests, over recorded softIoc traffic.
 */
import type { EpicsTimeStamp, NativeArray } from '../protocol/values.js';
import type { DbrReply } from './format.js';

export type ToolChannelState = 'never connected' | 'previously connected' | 'connected' | 'closed';

export interface ToolChannel {
  readonly name: string;
  readonly state: ToolChannelState;
  /** Native type 0..6, -1 when not connected. */
  readonly nativeType: number;
  readonly elementCount: number;
  /** "host:port" as cainfo prints it. */
  readonly host: string;
  readonly readAccess: boolean;
  readonly writeAccess: boolean;
  /** Set when the channel could not even be created (ca_create_channel's status, e.g. an empty name). */
  readonly createStatus?: number;
}

/** Outcome of a read: an ECA status and, for ECA_NORMAL, the reply. */
export interface ToolGetResult {
  status: number;
  reply?: DbrReply;
}

export interface ToolPutOptions {
  /** ca_array_put_callback (true) or ca_array_put (false). */
  callback: boolean;
  /** Seconds to wait for the completion (callback) or for the request to be sent. */
  timeout: number;
}

/**
 * Outcome of a put: `status` is the local result of issuing it (ECA_NORMAL, ECA_NOWTACCESS ...);
 * for callback puts `completion` is the server's status, or undefined when it did not come in time.
 */
export interface ToolPutResult {
  status: number;
  completion?: number;
}

export interface ToolSubscription {
  clear(): void;
}

/** An asynchronous exception libca would report through its exception handler (CA.Client.Exception). */
export interface ToolException {
  eca: number;
  /** The "Context:" text. */
  context: string;
  /** Source file and line libca would name (for the exact text). */
  source: string;
  time: EpicsTimeStamp;
}

export interface ToolBackend {
  /**
   * Create the channels and wait up to `timeout` seconds until all are connected (ca_pend_io).
   * Channels that did not connect are returned in state 'never connected'.
   */
  connect(names: readonly string[], timeout: number, priority: number): Promise<ToolChannel[]>;
  /** Create channels without waiting; `onConnection` runs on every connect / disconnect. */
  create(
    names: readonly string[],
    priority: number,
    onConnection: (ch: ToolChannel, up: boolean) => void,
  ): ToolChannel[];
  /** ca_array_get: read `count` elements (0 = current length) of `dbrType`, waiting up to `timeout` s. */
  get(ch: ToolChannel, dbrType: number, count: number, timeout: number): Promise<ToolGetResult>;
  put(ch: ToolChannel, dbrType: number, value: NativeArray, opts: ToolPutOptions): Promise<ToolPutResult>;
  subscribe(
    ch: ToolChannel,
    dbrType: number,
    count: number,
    mask: number,
    cb: (status: number, reply?: DbrReply) => void,
  ): ToolSubscription;
  /** Register the exception handler (plain put failures, virtual circuit disconnects ...). */
  onException(cb: (e: ToolException) => void): void;
  /** The current time (client stamps). */
  now(): EpicsTimeStamp;
  /** Reverse-resolve the server addresses for `host` (cainfo prints "localhost:5064"). */
  resolveHostNames?(chans: readonly ToolChannel[]): Promise<void>;
  /** Clear all channels and release the context. */
  close(): Promise<void>;
}

/** Where a tool writes and how it is started. */
export interface ToolIO {
  stdout(s: string): void;
  stderr(s: string): void;
  env: Readonly<Record<string, string | undefined>>;
  /** Creates the backend (lazily: usage errors must not open sockets). */
  backend(): ToolBackend | Promise<ToolBackend>;
  /** camonitor runs until this is aborted (SIGINT/SIGTERM in the CLI). */
  signal?: AbortSignal;
}
