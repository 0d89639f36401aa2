/**
 * Telling a channel's listeners about connection and access-rights changes: the one observer object
 * (the PV) first, then the callbacks registered with onConnectionChange / onAccessRightsChange. An
 * error thrown by any of them surfaces outside protocol handling (queueMicrotask) and does not stop
 * the others.
 */
import type { ChannelObserver } from './channel-types.js';

function rethrowLater(err: unknown): void {
  queueMicrotask(() => {
    throw err;
  });
}

/** The channel went up (true) or down (false). */
export function notifyConnection(
  observer: ChannelObserver | undefined,
  listeners: ReadonlySet<(connected: boolean) => void> | undefined,
  up: boolean,
): void {
  if (observer) {
    try {
      observer._channelConnection(up);
    } catch (err) {
      rethrowLater(err);
    }
  }
  if (!listeners || listeners.size === 0) return;
  for (const cb of [...listeners]) {
    try {
      cb(up);
    } catch (err) {
      rethrowLater(err);
    }
  }
}

/** The channel's access rights are now read `r`, write `w`. */
export function notifyAccess(
  observer: ChannelObserver | undefined,
  listeners: ReadonlySet<(read: boolean, write: boolean) => void> | undefined,
  r: boolean,
  w: boolean,
): void {
  if (observer) {
    try {
      observer._channelAccess(r, w);
    } catch (err) {
      rethrowLater(err);
    }
  }
  if (!listeners || listeners.size === 0) return;
  for (const cb of [...listeners]) {
    try {
      cb(r, w);
    } catch (err) {
      rethrowLater(err);
    }
  }
}
