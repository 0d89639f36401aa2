/**
 * One TCP virtual circuit to a CA server per (server address, priority), shared by its channels.
 * Handles the connection handshake, reassembly (MessageReader), per-tick batched writes, the ECHO
 * watchdog, and flow control (EVENTS_OFF / EVENTS_ON). Message meaning is the owner's business.
 */
import net from 'node:net';
import { CA_MINOR_VERSION, Command } from '../protocol/constants.js';
import { encodeHeaderOnly, encodeMessage } from '../protocol/header.js';
import type { Message } from '../protocol/header.js';
import { largeBuffers } from '../protocol/buffer-pool.js';
import { largeArrayDelivered } from './array-memory.js';
import { StreamFramer } from './stream-framer.js';

export { StreamFramer } from './stream-framer.js';

/** Messages queued in one tick up to this many bytes in all are copied into one write. */
const COALESCE_BYTES = 1024 * 1024;
/** Size of a circuit's recycled socket read buffer. */
const READ_BUFFER_SIZE = 64 * 1024;

export interface CircuitOwner {
  /**
   * `owned`: the payload is a buffer of its own that the owner may modify and keep. Otherwise `m` (a
   * FramedMessage, refilled for the next message) and its payload are valid only during the call.
   */
  circuitMessage(c: Circuit, m: Message, owned: boolean): void;
  circuitConnected(c: Circuit): void;
  circuitClosed(c: Circuit, reason: Error | undefined): void;
  circuitResponsive(c: Circuit, responsive: boolean): void;
}

export interface CircuitOptions {
  host: string;
  port: number;
  priority: number;
  /** Server minor version known from the search reply (updated by the server's VERSION). */
  minorHint?: number;
  clientName: string;
  hostName: string;
  connTmo: number;
  /** Seconds to wait for an ECHO answer before declaring the circuit unresponsive. */
  echoTmo?: number;
  maxPayload: number;
  /** Consecutive reads leaving data pending before EVENTS_OFF. */
  flowControlReads?: number;
  ref: boolean;
  /** A name-server circuit: no client/host name, used only for TCP search. */
  nameServer?: boolean;
}

export type CircuitState = 'connecting' | 'connected' | 'closed';

function nulPadded(s: string): Buffer {
  return Buffer.from(s + '\0', 'latin1');
}

export class Circuit {
  readonly key: string;
  readonly host: string;
  readonly port: number;
  readonly priority: number;
  serverMinor: number;
  state: CircuitState = 'connecting';
  /** Whether the TCP connection was ever established. */
  everConnected = false;
  responsive = true;
  /** Channels (cid → anything the owner keeps) bound to this circuit. */
  readonly channels = new Set<number>();
  private readonly socket: net.Socket;
  private readonly reader: StreamFramer;
  /**
   * Each whole message to the owner. A large one it was given to keep (a payload of its own: an
   * array the user will get) is noted, so that the next large array is preceded by a young-generation
   * collection that gives it the memory of the arrays the user dropped meanwhile (array-memory.ts).
   */
  private readonly deliver = (m: Message, owned: boolean): void => {
    if (this.state === 'closed') return;
    this.owner.circuitMessage(this, m, owned);
    if (owned) largeArrayDelivered(m.payloadSize);
  };
  private readonly owner: CircuitOwner;
  private queue: Buffer[] = [];
  private queueCallbacks: Array<(err?: Error | null) => void> = [];
  /** Buffers queued with `recycle`: given back to the pool of large buffers once written. */
  private recycled: Buffer[] | undefined;
  private flushScheduled = false;
  private lastRx: number;
  private watchdog: NodeJS.Timeout | undefined;
  private echoTimer: NodeJS.Timeout | undefined;
  private echoPending = false;
  private readonly connTmo: number;
  private readonly echoTmo: number;
  private pendingReads = 0;
  private readonly flowReads: number;
  private eventsOff = false;
  private closeReason: Error | undefined;
  private closedNotified = false;
  /** The recycled read buffer (allocated at the first read). */
  private readBuf: Buffer | undefined;
  /** The large-payload region handed to the socket for the next read, if any. */
  private direct: Uint8Array | undefined;

  constructor(owner: CircuitOwner, opts: CircuitOptions) {
    this.owner = owner;
    this.host = opts.host;
    this.port = opts.port;
    this.priority = opts.priority;
    this.key = Circuit.keyOf(opts.host, opts.port, opts.priority);
    this.serverMinor = opts.minorHint ?? CA_MINOR_VERSION;
    this.connTmo = opts.connTmo;
    this.echoTmo = opts.echoTmo ?? 5;
    this.flowReads = opts.flowControlReads ?? 10;
    this.reader = new StreamFramer(opts.maxPayload, true);
    this.lastRx = performance.now();
    // Handshake queued before connecting: VERSION (priority, minor), CLIENT_NAME, HOST_NAME.
    this.send(encodeHeaderOnly(Command.VERSION, opts.priority, CA_MINOR_VERSION, 0, 0));
    if (!opts.nameServer) {
      this.send(
        encodeMessage(
          { command: Command.CLIENT_NAME, dataType: 0, dataCount: 0, parameter1: 0, parameter2: 0 },
          nulPadded(opts.clientName),
        ),
      );
      this.send(
        encodeMessage(
          { command: Command.HOST_NAME, dataType: 0, dataCount: 0, parameter1: 0, parameter2: 0 },
          nulPadded(opts.hostName),
        ),
      );
    }
    // Reads go into one recycled buffer (messages are decoded synchronously from it), or, while a
    // large payload is being assembled, straight into that payload's own buffer: no copy, no
    // per-read allocation.
    this.socket = net.connect({
      host: opts.host,
      port: opts.port,
      noDelay: true,
      keepAlive: true,
      onread: {
        buffer: () => this.nextReadBuffer(),
        callback: (n: number, buf: Uint8Array): boolean => {
          this.onRead(n, buf);
          return true;
        },
      },
    });
    if (!opts.ref) this.socket.unref();
    this.socket.on('connect', () => {
      if (this.state !== 'connecting') return;
      this.state = 'connected';
      this.everConnected = true;
      this.lastRx = performance.now();
      this.armWatchdog(this.connTmo);
      this.owner.circuitConnected(this);
    });
    this.socket.on('error', (err) => {
      this.closeReason ??= err;
    });
    this.socket.on('close', () => this.finish());
    this.socket.on('end', () => {
      this.closeReason ??= new Error('server closed the circuit');
    });
  }

  static keyOf(host: string, port: number, priority: number): string {
    return `${host}:${port}:${priority}`;
  }

  /** "ip:port" of the server. */
  get address(): string {
    return (this._address ??= `${this.host}:${this.port}`);
  }
  private _address: string | undefined;

  get closed(): boolean {
    return this.state === 'closed';
  }

  ref(): void {
    if (this.state !== 'closed') this.socket.ref();
  }

  unref(): void {
    this.socket.unref();
  }

  /**
   * Queue a message; all messages queued in one tick go out in one write. With `recycle`, `buf`
   * was taken from the pool of large buffers (protocol/buffer-pool.ts) and is given back to it once
   * written (or dropped): the caller must not touch it after this call.
   */
  send(buf: Buffer, cb?: (err?: Error | null) => void, recycle = false): void {
    if (this.state === 'closed') {
      if (recycle) largeBuffers.give(buf);
      if (cb) process.nextTick(cb, this.closeReason ?? new Error('circuit closed'));
      return;
    }
    this.queue.push(buf);
    if (recycle) (this.recycled ??= []).push(buf);
    if (cb) this.queueCallbacks.push(cb);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(() => this.flush());
    }
  }

  /** Write everything queued now. */
  flush(): void {
    this.flushScheduled = false;
    if (this.queue.length === 0 || this.state === 'closed') return;
    const q = this.queue;
    const cbs = this.queueCallbacks;
    const rec = this.recycled;
    this.queue = [];
    this.queueCallbacks = [];
    this.recycled = undefined;
    const done =
      cbs.length === 0 && !rec
        ? undefined
        : (err?: Error | null): void => {
            // the last write of a flush completes after the others: every buffer is written
            if (rec) for (const b of rec) largeBuffers.give(b);
            for (const cb of cbs) cb(err);
          };
    if (q.length === 1) {
      this.socket.write(q[0]!, done);
      return;
    }
    let total = 0;
    for (let i = 0; i < q.length; i++) total += q[i]!.length;
    if (total <= COALESCE_BYTES) {
      // many small messages: one copy into one buffer is far cheaper than a writev of them all
      this.socket.write(Buffer.concat(q, total), done);
      return;
    }
    this.socket.cork();
    for (let i = 0; i < q.length - 1; i++) this.socket.write(q[i]!);
    this.socket.write(q[q.length - 1]!, done);
    this.socket.uncork();
  }

  /** A normal beacon from this server restarts the receive watchdog (libca). */
  beaconSeen(): void {
    if (!this.echoPending) this.lastRx = performance.now();
  }

  /** Close gracefully after flushing what is queued. */
  close(): void {
    if (this.state === 'closed') return;
    this.flush();
    this.closeReason ??= new Error('circuit closed by client');
    this.socket.end();
    // Make sure it goes away even if the peer never answers the FIN.
    const t = setTimeout(() => this.socket.destroy(), 1000);
    t.unref();
    this.markClosed();
  }

  /** Drop the circuit at once (protocol error, server unresponsive...). */
  destroy(reason: Error): void {
    if (this.state === 'closed' && this.closedNotified) return;
    this.closeReason ??= reason;
    this.socket.destroy();
    this.markClosed();
  }

  private markClosed(): void {
    this.state = 'closed';
    this.stopTimers();
    this.queue = [];
    // buffers queued but never flushed were not handed to the socket: they can be reused
    if (this.recycled) for (const b of this.recycled) largeBuffers.give(b);
    this.recycled = undefined;
    const cbs = this.queueCallbacks;
    this.queueCallbacks = [];
    for (const cb of cbs) cb(this.closeReason);
    if (!this.closedNotified) {
      this.closedNotified = true;
      // Notify asynchronously so callers inside message handling see a consistent state.
      process.nextTick(() => this.owner.circuitClosed(this, this.closeReason));
    }
  }

  private finish(): void {
    this.markClosed();
  }

  private stopTimers(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    if (this.echoTimer) clearTimeout(this.echoTimer);
    this.watchdog = this.echoTimer = undefined;
  }

  private nextReadBuffer(): Uint8Array {
    const direct = this.state === 'closed' ? undefined : this.reader.directTarget();
    if (direct) {
      this.direct = direct;
      return direct;
    }
    this.direct = undefined;
    return (this.readBuf ??= Buffer.allocUnsafeSlow(READ_BUFFER_SIZE));
  }

  private onRead(n: number, buf: Uint8Array): void {
    if (this.state === 'closed') return;
    if (buf === this.direct) {
      this.direct = undefined;
      this.received();
      try {
        this.reader.filled(n, this.deliver);
      } catch (err) {
        this.destroy(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      this.flowControl();
      return;
    }
    const b = buf as Buffer;
    this.onData(b.subarray(0, n));
  }

  private received(): void {
    this.lastRx = performance.now();
    if (this.echoPending) {
      this.echoPending = false;
      if (this.echoTimer) clearTimeout(this.echoTimer);
      this.echoTimer = undefined;
      this.armWatchdog(this.connTmo);
    }
    if (!this.responsive) {
      this.responsive = true;
      this.owner.circuitResponsive(this, true);
    }
  }

  private flowControl(): void {
    // Flow control: many reads in a row that leave bytes pending → ask the server to hold events.
    if (this.reader.pending > 0) {
      if (++this.pendingReads >= this.flowReads && !this.eventsOff) {
        this.eventsOff = true;
        this.send(encodeHeaderOnly(Command.EVENTS_OFF));
      }
    } else {
      this.pendingReads = 0;
      if (this.eventsOff) {
        this.eventsOff = false;
        this.send(encodeHeaderOnly(Command.EVENTS_ON));
      }
    }
  }

  private onData(chunk: Buffer): void {
    this.received();
    try {
      this.reader.push(chunk, this.deliver);
    } catch (err) {
      this.destroy(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    this.flowControl();
  }

  private armWatchdog(delaySeconds: number): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.watchdogExpired(), Math.max(1, delaySeconds * 1000));
    this.watchdog.unref();
  }

  private watchdogExpired(): void {
    this.watchdog = undefined;
    if (this.state !== 'connected') return;
    const silent = (performance.now() - this.lastRx) / 1000;
    if (silent < this.connTmo) {
      this.armWatchdog(this.connTmo - silent);
      return;
    }
    // Probe: ECHO (READ_SYNC toward servers older than minor 3).
    this.echoPending = true;
    this.send(encodeHeaderOnly(this.serverMinor >= 3 ? Command.ECHO : Command.READ_SYNC));
    this.echoTimer = setTimeout(() => {
      this.echoTimer = undefined;
      if (!this.echoPending || this.state !== 'connected') return;
      if (this.responsive) {
        this.responsive = false;
        this.owner.circuitResponsive(this, false);
      }
      // Keep probing while unresponsive.
      this.echoPending = false;
      this.lastRx = performance.now() - this.connTmo * 1000;
      this.armWatchdog(0);
    }, this.echoTmo * 1000);
    this.echoTimer.unref();
  }
}
