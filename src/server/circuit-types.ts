/**
 * What a TCP circuit of the CA server needs from its server (`CircuitContext`), and the per-channel
 * state it keeps: channel entries, subscriptions, queued puts, monitor updates.
 */
import type { Message } from '../protocol/header.js';
import type { NativeArray } from '../protocol/values.js';
import { CaStatusError } from './provider.js';
import type { ChannelProvider, ClientIdentity, ServedChannel } from './provider.js';
import type { Circuit } from './circuit.js';

/** What a circuit needs from its server. */
export interface CircuitContext {
  readonly provider: ChannelProvider;
  /** The TCP port advertised (for search over TCP). */
  readonly tcpPort: number;
  /** Largest request payload accepted (bigger: ERROR ECA_TOLARGE, discarded). */
  readonly maxPayload: number;
  /** Unsent output above which input stops and monitor updates coalesce. */
  readonly highWaterMark: number;
  /** Unsent output above which the circuit is dropped. */
  readonly hardLimit: number;
  /**
   * Seconds a WRITE_NOTIFY waits behind an unfinished one on the same channel before the unfinished
   * one is answered ECA_PUTCBINPROG and the next starts (RSRV: 60).
   */
  readonly putCallbackTimeout: number;
  allocSid(): number;
  /** Effective access rights (channel rights combined with access security). */
  rightsFor(channel: ServedChannel, client: ClientIdentity): number;
  /** Called for each write the access security marks TRAPWRITE, once it has completed. Optional. */
  trapWrite?(
    channel: ServedChannel,
    client: ClientIdentity,
    value: NativeArray,
    dbrType: number,
  ): ((status: number) => void) | undefined;
  /** Reference counting of shared channel objects. */
  acquire(channel: ServedChannel): void;
  release(channel: ServedChannel): void;
  log(line: string): void;
  onClose(circuit: Circuit): void;
}

export interface PutJob {
  notify: boolean;
  req: Message;
  value: NativeArray;
}

export interface ChannelEntry {
  sid: number;
  cid: number;
  ch: ServedChannel;
  rights: number;
  subs: Map<number, Subscription>;
  unsubscribe?: () => void;
  unRights?: () => void;
  puts: PutJob[];
  putActive: boolean;
  /** The put callback in progress (answered once, by completion or by the timeout). */
  active?: { req: Message; done: boolean };
  /** Started when a put waits behind the active one (RSRV: 60 s, then ECA_PUTCBINPROG). */
  putTimer?: NodeJS.Timeout;
  cleared: boolean;
}

export interface Subscription {
  subid: number;
  entry: ChannelEntry;
  dbrType: number;
  /** Requested count (0 = current length each time). */
  count: number;
  mask: number;
  /** A coalesced update waiting for the socket to drain or EVENTS_ON. */
  pending?: Update;
}

/** A monitor update: header, and the (possibly shared) padded payload. */
export interface Update {
  head: Buffer;
  body?: Buffer;
  size: number;
}

export function ecaOf(e: unknown, dflt: number): number {
  if (e instanceof CaStatusError) return e.eca;
  const eca = (e as { eca?: unknown } | null)?.eca;
  return typeof eca === 'number' ? eca : dflt;
}

/** Record name of a channel name ("REC.FIELD" -> "REC"), as RSRV puts in ERROR texts. */
export function recordName(name: string): string {
  const i = name.indexOf('.');
  return i < 0 ? name : name.slice(0, i);
}
