// Shared helpers of the fault-injection suite: waiting, figures, a beacon probe, generated
// databases, open-descriptor counts, and a process-wide guard for uncaught errors.
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from '../../src/protocol/constants.js';

export const LOOPBACK = '127.0.0.1';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until `cond()` holds; rejects with `what` after `seconds`. */
export async function until(cond: () => boolean, seconds: number, what: string): Promise<void> {
  const end = performance.now() + seconds * 1000;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    await sleep(5);
  }
}

/** Prints the figure a fault test holds, as `# figure: NAME VALUE` (and as a test diagnostic). */
export function figure(t: { diagnostic(msg: string): void } | undefined, text: string): void {
  if (t) t.diagnostic(`figure: ${text}`);
  else console.log(`# figure: ${text}`);
}

/** heapUsed + arrayBuffers in bytes. */
export function memNow(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

export function mb(bytes: number): string {
  return (bytes / 1048576).toFixed(1) + ' MB';
}

/** Number of open file descriptors of this process (Linux), or -1 where /proc is unavailable. */
export function openFds(): number {
  try {
    return fs.readdirSync('/proc/self/fd').length;
  } catch {
    return -1;
  }
}

/** Collects uncaught exceptions and unhandled rejections while installed. */
export class CrashGuard {
  readonly errors: unknown[] = [];
  private readonly onErr = (e: unknown): void => {
    this.errors.push(e);
  };
  install(): this {
    process.on('uncaughtException', this.onErr);
    process.on('unhandledRejection', this.onErr);
    return this;
  }
  uninstall(): void {
    process.off('uncaughtException', this.onErr);
    process.off('unhandledRejection', this.onErr);
  }
}

/**
 * Listens for the beacons a CA repeater forwards: registers a UDP socket with the repeater on
 * `repeaterPort` (a zero-length datagram, as libca does) and timestamps every RSRV_IS_UP received.
 */
export class BeaconProbe {
  private sock: dgram.Socket | undefined;
  /** performance.now() of every beacon, with the server port it announces. */
  readonly beacons: { at: number; serverPort: number; id: number }[] = [];
  confirmed = false;

  async start(repeaterPort: number): Promise<void> {
    const s = dgram.createSocket('udp4');
    this.sock = s;
    s.on('error', () => undefined);
    s.on('message', (buf) => {
      for (let off = 0; off + 16 <= buf.length; off += 16 + buf.readUInt16BE(off + 2)) {
        const cmd = buf.readUInt16BE(off);
        if (cmd === Command.REPEATER_CONFIRM) this.confirmed = true;
        else if (cmd === Command.RSRV_IS_UP) {
          this.beacons.push({
            at: performance.now(),
            serverPort: buf.readUInt16BE(off + 6),
            id: buf.readUInt32BE(off + 8),
          });
        }
      }
    });
    await new Promise<void>((r) => s.bind(0, LOOPBACK, () => r()));
    const end = performance.now() + 5000;
    while (!this.confirmed && performance.now() < end) {
      s.send(Buffer.alloc(0), repeaterPort, LOOPBACK);
      await sleep(50);
    }
    if (!this.confirmed) throw new Error(`no REPEATER_CONFIRM from the repeater on port ${repeaterPort}`);
  }

  /** The first beacon received at or after `since` (performance.now() time). */
  firstSince(since: number): number | undefined {
    return this.beacons.find((b) => b.at >= since)?.at;
  }

  close(): Promise<void> {
    const s = this.sock;
    this.sock = undefined;
    return new Promise((r) => (s ? s.close(() => r()) : r()));
  }
}

/** A temporary folder removed by the returned cleanup. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Writes a .db of `n` ao records PREFIX1..PREFIXn (VAL = `value`) and returns its path. */
export function writeAoDb(file: string, prefix: string, n: number, value: number, extra = ''): string {
  const parts: string[] = [];
  for (let i = 1; i <= n; i++) {
    parts.push(`record(ao, "${prefix}${i}") {\n  field(VAL, "${value}")\n  field(PINI, "YES")\n}\n`);
  }
  fs.writeFileSync(file, parts.join('') + extra);
  return file;
}
