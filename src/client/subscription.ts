/**
 * One subscription of a channel (EVENT_ADD): its request, whether it is in force on the circuit, and
 * the delivery of its updates to a callback or an observer object (the PV), one-element updates
 * decoded without allocating when the observer takes them.
 */
import type { Message } from '../protocol/header.js';
import { ScalarDbr, decodeScalarInto, isScalarDbr } from '../protocol/dbr-scalar.js';
import { FramedMessage } from './stream-framer.js';
import type { Channel } from './channel.js';
import type { GetResult, SubscribeOptions, Subscription } from './channel-types.js';
import { decodeResult } from './decode-result.js';

/** @internal who hears a subscription's updates without a closure (the PV object). */
export interface SubscriptionObserver {
  _subscriptionData(data: GetResult): void;
  /**
   * Whether one-element plain / STS / TIME updates may be handed to `_subscriptionScalar` instead
   * (as the fields of a reused ScalarDbr, valid during the call only).
   */
  _takesScalar?(): boolean;
  _subscriptionScalar?(data: ScalarDbr): void;
}

/** The one ScalarDbr that subscription updates are decoded into (used and done with synchronously). */
const SCALAR = new ScalarDbr();

/** @internal */
export class SubscriptionImpl implements Subscription {
  active = true;
  /** Whether an EVENT_ADD is in force on the current circuit (type/count sent). */
  sentType = -1;
  sentCount = 0;
  // the request (SubscribeOptions) as plain fields: no options object kept per subscription
  readonly dbrType: number | undefined;
  readonly family: number | undefined;
  readonly count: number | undefined;
  readonly mask: number;
  constructor(
    readonly subid: number,
    readonly channel: Channel,
    opts: SubscribeOptions,
    mask: number,
    readonly cb: ((data: GetResult) => void) | SubscriptionObserver,
  ) {
    this.dbrType = opts.dbrType;
    this.family = opts.family;
    this.count = opts.count;
    this.mask = mask;
  }

  clear(): void {
    if (!this.active) return;
    this.active = false;
    this.channel._removeSubscription(this);
  }

  /** @internal */
  deliver(m: Message, owned = false): void {
    if (!this.active) return;
    const cb = this.cb;
    if (typeof cb !== 'function' && isScalarDbr(m.dataType, m.dataCount) && cb._takesScalar?.()) {
      // the common monitor update: decoded straight from the read buffer, nothing allocated
      const ok =
        m instanceof FramedMessage
          ? decodeScalarInto(m.dataType, m.data, m.start, m.payloadSize, SCALAR)
          : decodeScalarInto(m.dataType, m.payload, 0, m.payload.length, SCALAR);
      if (!ok) return; // too short: dropped, as a reply decodeResult cannot decode
      try {
        cb._subscriptionScalar!(SCALAR);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
      return;
    }
    let r: GetResult;
    try {
      r = decodeResult(m, owned);
    } catch {
      return;
    }
    try {
      if (typeof cb === 'function') cb(r);
      else cb._subscriptionData(r);
    } catch (err) {
      // A user callback error must not break the circuit: rethrow outside protocol handling.
      queueMicrotask(() => {
        throw err;
      });
    }
  }
}
