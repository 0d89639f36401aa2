/**
 * One TCP virtual circuit of the CA server (ca-protocol.md §5, §6, §12): request dispatch, channels,
 * subscriptions, put queues, and the flow control that keeps a slow client from hurting the others.
 *
 * The circuit is built in layers, one file each: `circuit-types.ts` (the `CircuitContext` contract and
 * per-channel state), `circuit-output.ts` (shared state, output and flow control), `circuit-reads.ts`
 * (reads and subscriptions), `circuit-writes.ts` (writes and put queues), `circuit-fast-lane.ts`
 * (the commonest reads and puts served straight from the received bytes), and this file (input,
 * dispatch, channel creation and clearing).
 */
import type { Socket } from 'node:net';
import { CA_MINOR_VERSION, Command, ECA } from '../protocol/constants.js';
import { encodeMessage } from '../protocol/header.js';
import type { Message } from '../protocol/header.js';
import { FrameReader, MisalignedError, isOversize } from './frame-reader.js';
import type { OversizeMessage } from './frame-reader.js';
import type { ServedChannel } from './provider.js';
import { headerOnly, versionReply } from './replies.js';
import { CircuitFastLane } from './circuit-fast-lane.js';
import type { ChannelEntry, CircuitContext } from './circuit-types.js';

export type { CircuitContext } from './circuit-types.js';

/** CLIENT_NAME / HOST_NAME longer than this end the circuit. */
const MAX_NAME = 511;
const NO_CID = 0xffffffff;
/** The read buffer of a circuit created for `onread` (as Node's own socket reads). */
const READ_BUFFER_SIZE = 64 * 1024;

function nameFromPayload(p: Buffer): string {
  const z = p.indexOf(0);
  return p.toString('utf8', 0, z < 0 ? p.length : z);
}

export class Circuit extends CircuitFastLane {
  private readonly reader: FrameReader;
  private processing = false;
  /** The start of a request cut by the end of a chunk the fast lane served (not in the reader). */
  private carry: Buffer | undefined;

  /** The buffer reads go to when they do not go straight into the frame reader's (onread). */
  private readBuf: Buffer | undefined;
  /** The frame reader's part that the read in progress goes to, if it does. */
  private direct: Buffer | undefined;

  /**
   * `reads`: 'data' listens to the socket's data events; 'onread' means the socket was created
   * with Node's `onread` calling `readBuffer` and `bytesRead` (server.ts does that: large messages are
   * then read straight into the frame reader's buffer), and is resumed by the caller.
   */
  constructor(socket: Socket, ctx: CircuitContext, reads: 'data' | 'onread' = 'data') {
    super(socket, ctx);
    this.reader = new FrameReader(ctx.maxPayload);
    this.reader.allowExtended = false; // until the client says it speaks minor >= 9
    socket.setNoDelay(true);
    socket.setKeepAlive(true);
    if (reads === 'data') socket.on('data', (data: Buffer) => this.onChunk(data));
    socket.on('drain', () => {
      this.flushPending();
      this.process();
    });
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
    // the client closed its side: the replies already queued still go out, then the circuit ends
    socket.on('end', () => this.closeAfterFlush());
    this.send(versionReply());
  }

  /** Where the socket's next read goes (Node's onread `buffer`). */
  readBuffer(): Buffer {
    this.direct = this.closed ? undefined : this.reader.directTarget();
    return this.direct ?? (this.readBuf ??= Buffer.allocUnsafeSlow(READ_BUFFER_SIZE));
  }

  /** `n` bytes were read into `buf` (Node's onread `callback`). */
  bytesRead(n: number, buf: Uint8Array): void {
    if (this.closed) return;
    if (buf === this.direct) {
      this.direct = undefined;
      this.reader.filled(n);
      this.process();
      if (this.corked) this.uncork();
      return;
    }
    // (a view of the reused read buffer: nothing below keeps it past this call)
    this.onChunk((buf as Buffer).subarray(0, n));
  }

  /** Bytes received (a socket chunk, or the read buffer's filled part: not kept past this call). */
  private onChunk(data: Buffer): void {
    let chunk = data;
    if (this.carry) {
      chunk = Buffer.concat([this.carry, data]);
      this.carry = undefined;
    }
    let used = 0;
    if (this.reader.pending === 0 && !this.processing) {
      // requests the fast lane serves straight from the chunk (circuit-fast-lane.ts); the
      // reader, empty, is still told that what it handed out is done with (it may free memory)
      this.reader.recycle();
      this.processing = true;
      try {
        used = this.fastLane(chunk);
      } finally {
        this.processing = false;
      }
      if (used < chunk.length && this.laneIncomplete) {
        // the lane stopped at a request cut by the chunk's end: it continues with the next chunk
        // (a copy: the received buffer is not kept alive by a few bytes of it)
        this.carry = Buffer.from(chunk.subarray(used));
        used = chunk.length;
      }
    }
    if (used < chunk.length) this.reader.push(used === 0 ? chunk : chunk.subarray(used));
    if (used < chunk.length || this.inputPaused) this.process();
    // the replies to a received chunk go out at once, in one write (the nextTick queued by
    // send() then finds nothing left)
    if (this.corked) this.uncork();
  }

  /** Number of channels open on this circuit. */
  get channelCount(): number {
    return this.channels.size;
  }

  /** Drop the circuit and everything on it. */
  override close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const e of this.channels.values()) this.dropEntry(e);
    this.channels.clear();
    this.pendingSubs.clear();
    this.pendingBytes = 0;
    this.outBufs = [];
    this.outBytes = 0;
    this.outRecycle = undefined; // (never written: simply dropped)
    this.slabStart = this.slabEnd;
    this.socket.destroy();
    this.ctx.onClose(this);
  }

  protected override closeAfterFlush(): void {
    if (this.closed) return;
    this.closed = true;
    for (const e of this.channels.values()) this.dropEntry(e);
    this.channels.clear();
    this.pendingSubs.clear();
    this.pendingBytes = 0;
    if (this.corked) this.corked = false;
    this.writeOut();
    const sock = this.socket;
    const t = setTimeout(() => sock.destroy(), 2000);
    t.unref();
    sock.end(() => {
      clearTimeout(t);
      sock.destroy();
    });
    this.ctx.onClose(this);
  }

  /** Re-evaluate access rights of every channel (ACF reload). */
  refreshRights(): void {
    for (const e of this.channels.values()) this.checkRights(e);
  }

  // ------------------------------------------------------------------------------------------
  // Input

  protected keepReceivedPayloads(): void {
    this.reader.keepPayloads();
  }

  protected override process(): void {
    if (this.processing) return;
    this.processing = true;
    try {
      while (!this.closed) {
        if (this.inputBlocked()) {
          if (!this.inputPaused) {
            this.inputPaused = true;
            this.socket.pause();
          }
          return;
        }
        let m: Message | OversizeMessage | undefined;
        try {
          m = this.reader.next();
        } catch (e) {
          if (e instanceof MisalignedError) {
            if (e.header.command !== Command.VERSION && this.clientMinor < 4) {
              this.error(e.header, NO_CID, ECA.DEFUNCT, `CAS: Client version ${this.clientMinor} too old`);
              this.reader.discardAll();
              continue;
            }
            this.fatal(e.header, NO_CID, ECA.INTERNAL, 'CAS: Missaligned protocol rejected');
            return;
          }
          throw e;
        }
        if (!m) break;
        if (m.command !== Command.VERSION && this.clientMinor < 4) {
          // RSRV ignores deprecated clients (and those that did not say who they are) but keeps the
          // connection, to avoid a reconnect loop; what was buffered is dropped.
          this.error(m, NO_CID, ECA.DEFUNCT, `CAS: Client version ${this.clientMinor} too old`);
          this.reader.discardAll();
          continue;
        }
        if (isOversize(m)) {
          this.fastLaneOn = false;
          this.error(
            m,
            NO_CID,
            ECA.TOLARGE,
            `CAS: Server unable to load large request message. Max bytes=${this.ctx.maxPayload}`,
          );
          continue;
        }
        try {
          this.dispatch(m);
        } catch (err) {
          // A provider that throws where it should not must not take the server down.
          this.ctx.log(`CAS: internal error serving ${this.peer}: ${(err as Error)?.message ?? String(err)}`);
          this.error(m, NO_CID, ECA.INTERNAL, 'CAS: internal server error');
        }
      }
      if (this.inputPaused && !this.closed) {
        this.inputPaused = false;
        this.socket.resume();
      }
    } finally {
      this.processing = false;
    }
  }

  private dispatch(m: Message): void {
    switch (m.command) {
      case Command.VERSION:
        return this.onVersion(m);
      case Command.EVENT_ADD:
        return this.onEventAdd(m);
      case Command.EVENT_CANCEL:
        return this.onEventCancel(m);
      case Command.READ:
        return this.onRead(m, false);
      case Command.READ_NOTIFY:
        return this.onRead(m, true);
      case Command.WRITE:
        return this.onWrite(m, false);
      case Command.WRITE_NOTIFY:
        return this.onWrite(m, true);
      case Command.SEARCH:
        return this.onSearch(m);
      case Command.EVENTS_OFF:
        this.eventsOff = true;
        return;
      case Command.EVENTS_ON:
        this.eventsOff = false;
        this.flushPending();
        return;
      case Command.READ_SYNC:
        this.send(headerOnly(m.command, m.dataType, m.dataCount, m.parameter1, m.parameter2));
        return;
      case Command.ECHO:
        // echoed verbatim, payload included (RSRV's echo_action)
        this.send(
          m.payload.length
            ? encodeMessage(
                {
                  command: m.command,
                  dataType: m.dataType,
                  dataCount: m.dataCount,
                  parameter1: m.parameter1,
                  parameter2: m.parameter2,
                },
                m.payload,
              )
            : headerOnly(m.command, m.dataType, m.dataCount, m.parameter1, m.parameter2),
        );
        return;
      case Command.CLEAR_CHANNEL:
        return this.onClear(m);
      case Command.CREATE_CHAN:
        return this.onCreate(m);
      case Command.CLIENT_NAME:
      case Command.HOST_NAME:
        return this.onName(m);
      default:
        this.fatal(m, NO_CID, ECA.INTERNAL, 'invalid (damaged?) request code from TCP');
    }
  }

  private setMinor(minor: number): void {
    this.clientMinor = minor;
    this.reader.allowExtended = minor >= 9;
  }

  private onVersion(m: Message): void {
    this.setMinor(m.dataCount);
    // unsupported client version or priority: the circuit is closed without a word (RSRV)
    if (m.dataCount < 4 || m.dataType > 99) {
      this.closeAfterFlush();
      return;
    }
    this.priority = m.dataType;
  }

  private onName(m: Message): void {
    const isUser = m.command === Command.CLIENT_NAME;
    if (this.channels.size > 0) {
      this.error(
        m,
        NO_CID,
        ECA.INTERNAL,
        `attempts to use protocol to set ${isUser ? 'user' : 'host'} name after creating first channel ignored by server`,
      );
      return;
    }
    const z = m.payload.indexOf(0);
    if (z < 0 || z > MAX_NAME) {
      // no terminating NUL within the payload, or 512 bytes and more with it: fatal
      this.fatal(
        m,
        NO_CID,
        ECA.INTERNAL,
        isUser ? 'a very long user name was specified' : 'bad (very long) host name',
      );
      return;
    }
    const name = m.payload.toString('utf8', 0, z);
    if (isUser) this.identity.user = name;
    else this.identity.host = name;
  }

  private onSearch(m: Message): void {
    if (m.dataCount < 4) {
      this.closeAfterFlush();
      return;
    }
    if (m.payload.length <= 1) return;
    const name = nameFromPayload(m.payload);
    if (this.ctx.provider.has(name)) {
      this.send(headerOnly(Command.SEARCH, this.ctx.tcpPort, 0, NO_CID, m.parameter2));
    } else if (m.dataType === 10) {
      this.send(headerOnly(Command.NOT_FOUND, m.dataType, m.dataCount, m.parameter1, m.parameter2));
    }
  }

  private onCreate(m: Message): void {
    const cid = m.parameter1;
    this.setMinor(m.parameter2);
    if (m.parameter2 < 4) {
      this.closeAfterFlush();
      return;
    }
    if (m.payload.length <= 1) return; // empty name: ignored
    const name = nameFromPayload(m.payload);
    let ch: ServedChannel | undefined;
    try {
      ch = name.length > 0 ? this.ctx.provider.channel(name) : undefined;
    } catch {
      ch = undefined;
    }
    if (!ch) {
      this.send(headerOnly(Command.CREATE_CH_FAIL, 0, 0, cid, 0));
      return;
    }
    this.ctx.acquire(ch);
    const sid = this.ctx.allocSid();
    const entry: ChannelEntry = {
      sid,
      cid,
      ch,
      rights: this.ctx.rightsFor(ch, this.identity),
      subs: new Map(),
      puts: [],
      putActive: false,
      cleared: false,
    };
    this.channels.set(sid, entry);
    if (ch.onAccessRightsChange) entry.unRights = ch.onAccessRightsChange(() => this.checkRights(entry));
    let count = ch.elementCount;
    if (this.clientMinor < 9 && count >= 0xffff) count = 0xfffe;
    this.send(headerOnly(Command.ACCESS_RIGHTS, 0, 0, cid, entry.rights));
    this.send(headerOnly(Command.CREATE_CHAN, ch.nativeType, count, cid, sid));
  }

  private checkRights(e: ChannelEntry): void {
    if (this.closed || e.cleared) return;
    try {
      this.updateRights(e);
    } catch (err) {
      this.ctx.log(
        `CAS: cannot update the rights of ${e.ch.name}: ${(err as Error)?.message ?? String(err)}`,
      );
    }
  }

  private updateRights(e: ChannelEntry): void {
    const r = this.ctx.rightsFor(e.ch, this.identity);
    if (r === e.rights) return;
    e.rights = r;
    this.send(headerOnly(Command.ACCESS_RIGHTS, 0, 0, e.cid, r));
    if (e.subs.size) {
      const snap = e.ch.snapshot();
      for (const sub of e.subs.values()) this.update(sub, snap);
    }
  }

  /** Look up a sid; unknown -> ERROR "Bad Resource ID" and close (returns undefined). */
  protected override entryFor(m: Message): ChannelEntry | undefined {
    const e = this.channels.get(m.parameter1);
    if (!e) this.fatal(m, NO_CID, ECA.INTERNAL, 'Bad Resource ID');
    return e;
  }

  private onClear(m: Message): void {
    const e = this.entryFor(m);
    if (!e) return;
    this.channels.delete(e.sid);
    this.dropEntry(e);
    this.send(headerOnly(Command.CLEAR_CHANNEL, m.dataType, m.dataCount, m.parameter1, m.parameter2));
  }

  protected override dropEntry(e: ChannelEntry): void {
    if (e.cleared) return;
    e.cleared = true;
    for (const sub of e.subs.values()) this.unpend(sub);
    e.subs.clear();
    e.unsubscribe?.();
    e.unsubscribe = undefined;
    e.unRights?.();
    this.queuedPuts -= e.puts.length;
    e.puts.length = 0;
    if (e.putTimer) clearTimeout(e.putTimer);
    e.putTimer = undefined;
    this.ctx.release(e.ch);
  }
}

/** The minor version this server speaks. */
export const SERVER_MINOR = CA_MINOR_VERSION;
