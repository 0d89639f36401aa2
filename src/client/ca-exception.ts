/**
 * Asynchronous exceptions of the client (libca's "CA.Client.Exception"): the event handed to
 * listeners, or, when none listens, the text libca prints on stderr.
 */
import { ecaMessage } from '../protocol/constants.js';

/** An asynchronous problem reported by the client (libca's "CA.Client.Exception"). */
export interface CaException {
  eca: number;
  /** ca_message() text of eca. */
  message: string;
  /** Context: what it was about. */
  context: string;
  pvname?: string;
}

/** Hand an exception to every listener (errors they throw surface outside), or print it as libca. */
export function reportException(
  listeners: ReadonlySet<(e: CaException) => void>,
  eca: number,
  context: string,
  pvname?: string,
): void {
  const e: CaException = { eca, message: ecaMessage(eca), context };
  if (pvname !== undefined) e.pvname = pvname;
  if (listeners.size === 0) {
    const kind = (eca & 7) === 0 ? 'Warning' : 'Error';
    process.stderr.write(
      `CA.Client.Exception...............................................\n` +
        `    ${kind}: "${e.message}"\n    Context: "${context}"\n` +
        `..................................................................\n`,
    );
    return;
  }
  for (const cb of [...listeners]) {
    try {
      cb(e);
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }
}
