/**
 * The types of the Channel API: its state, get / put / subscribe options, get results and the
 * subscription handle. Re-exported by channel.ts (import them from there).
 */
import type { DbrData } from '../protocol/values.js';

export type ChannelState = 'searching' | 'connected' | 'disconnected' | 'closed';

export interface GetResult extends DbrData {
  dbrType: number;
  count: number;
}

export interface GetOptions {
  /** DBR type to request (0-34, 37, 38); default the native plain type (or native + 7 × family). */
  dbrType?: number;
  /** Family (0 plain, 1 STS, 2 TIME, 3 GR, 4 CTRL) of the native type, used when dbrType is absent. */
  family?: number;
  /** Element count; default the native count; 0 = current length (servers ≥ 4.13). */
  count?: number;
  /** Seconds; default 1 + log10(count) for the read (5 s to connect first when not connected). */
  timeout?: number;
}

export interface PutOptions {
  /** Plain type 0-6, or 35 (PUT_ACKT) / 36 (PUT_ACKS). */
  dbrType: number;
  /** true: WRITE_NOTIFY, resolve on completion; false: WRITE, resolve once sent. */
  wait?: boolean;
  /** Seconds (wait: true), default 30. */
  timeout?: number;
}

export interface SubscribeOptions {
  dbrType?: number;
  family?: number;
  /** 0 = current length (default; native count toward servers < 4.13). */
  count?: number;
  /** Default DBE.VALUE | DBE.ALARM. */
  mask?: number;
}

export interface Subscription {
  clear(): void;
  readonly active: boolean;
}

/** @internal what a PV object hears from its channel (cheaper than two listener closures). */
export interface ChannelObserver {
  _channelConnection(up: boolean): void;
  _channelAccess(read: boolean, write: boolean): void;
}
