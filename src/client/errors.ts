/**
 * Typed errors of the CA client. Every failure the client reports is one of these; `eca` carries the
 * ECA status code (see protocol/constants) when there is one, `pvname` the channel's name.
 */
import { ECA, ecaMessage } from '../protocol/constants.js';

export interface CaErrorOptions {
  eca?: number;
  pvname?: string;
  cause?: unknown;
}

export class CaError extends Error {
  readonly eca?: number;
  readonly pvname?: string;
  constructor(message: string, opts: CaErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    if (opts.eca !== undefined) this.eca = opts.eca;
    if (opts.pvname !== undefined) this.pvname = opts.pvname;
  }
}

/** ECA_TIMEOUT: an operation did not complete in time. */
export class TimeoutError extends CaError {
  constructor(message: string, opts: CaErrorOptions = {}) {
    super(message, { eca: ECA.TIMEOUT, ...opts });
  }
}

/** The name was never resolved by any server within the timeout. */
export class NotFoundError extends TimeoutError {}

/** ECA_DISCONN: the channel is (or became) disconnected. */
export class DisconnectedError extends CaError {
  constructor(message: string, opts: CaErrorOptions = {}) {
    super(message, { eca: ECA.DISCONN, ...opts });
  }
}

/** ECA_NORDACCESS / ECA_NOWTACCESS. */
export class AccessError extends CaError {}

/** The server replied to a put with a failure status. */
export class PutError extends CaError {}

/** The server replied to a get with a failure status. */
export class GetError extends CaError {}

/** Build the message libca would give for an ECA code, with optional context. */
export function ecaErrorText(eca: number, context?: string): string {
  const base = ecaMessage(eca);
  return context ? `${base} (${context})` : base;
}
