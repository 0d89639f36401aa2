/**
 * Accepted connections that read into buffers the circuit chooses (Node's `onread`), which
 * `net.Server` does not offer: a connection accepted paused (`pauseOnConnect`) hands its handle to
 * a Socket created with `onread`. Then a large request is read straight into the circuit's frame
 * buffer, and the 64 KiB buffer Node otherwise allocates for every read (16 MB of garbage per
 * 16 MB put, which drives full garbage collections of a large IOC's heap) is not made at all.
 */
import { Socket } from 'node:net';

/** The buffer of a connection's first read (the circuit's own buffers follow). */
const FIRST_READ_SIZE = 64 * 1024;

export interface ReadSink {
  /** Where the next read goes. */
  readBuffer(): Uint8Array;
  /** `n` bytes were read into `buf`. */
  bytesRead(n: number, buf: Uint8Array): void;
}

/**
 * A Socket on `accepted`'s connection whose reads go to `sink()` (looked up at each read, so the
 * sink may be made after this call); it does not read until resumed (the sink must exist by then). Undefined when the connection
 * has no handle any more (closed meanwhile): `accepted` is then destroyed.
 */
export function adoptForReads(accepted: Socket, sink: () => ReadSink | undefined): Socket | undefined {
  const holder = accepted as unknown as { _handle: unknown };
  const handle = holder._handle;
  if (!handle) {
    accepted.destroy();
    return undefined;
  }
  // the accepted Socket lets go of the handle; destroying it then only ends the object (and
  // the server's count of its connections)
  holder._handle = null;
  accepted.destroy();
  return new Socket({
    handle,
    readable: true,
    writable: true,
    pauseOnCreate: true,
    onread: {
      // (asked once as the Socket is made, before the sink may exist: the first read then goes to
      // a buffer of its own)
      buffer: () => sink()?.readBuffer() ?? Buffer.allocUnsafe(FIRST_READ_SIZE),
      callback: (n: number, buf: Uint8Array) => {
        sink()?.bytesRead(n, buf);
      },
    },
  } as ConstructorParameters<typeof Socket>[0]);
}
