/**
 * Client requests as bytes, for the tests of the server's reassembly (test/unit/server-frame-reader-*).
 */
import { Command } from '../../src/protocol/constants.js';
import { encodeMessage } from '../../src/protocol/header.js';

/** A WRITE_NOTIFY of `bytes` bytes of DOUBLE payload (a pattern from `seed`), with `ioid`. */
export function bigPut(ioid: number, bytes: number, seed: number): Buffer {
  const payload = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < bytes; i++) payload[i] = (i * 31 + seed) & 0xff;
  return encodeMessage(
    { command: Command.WRITE_NOTIFY, dataType: 6, dataCount: bytes / 8, parameter1: 1, parameter2: ioid },
    payload,
  );
}

/** An ECHO carrying `n` in parameter 1. */
export const echo = (n: number): Buffer =>
  encodeMessage({ command: Command.ECHO, dataType: 0, dataCount: 0, parameter1: n, parameter2: 0 });
