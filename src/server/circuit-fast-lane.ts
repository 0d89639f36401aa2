/**
 * The fast lane of a CA server circuit: the commonest requests (READ_NOTIFY of a numeric scalar,
 * WRITE / WRITE_NOTIFY of one SHORT, FLOAT, LONG or DOUBLE to a channel with no put queued) served
 * straight from the bytes received, without a message object, a payload view or Buffer's argument
 * checks per request. It runs on a received chunk while nothing is buffered in the frame reader,
 * from its start, and stops at the first request it does not handle (or an incomplete one): that
 * request and all after it go through the frame reader and the general dispatch, in order.
 *
 * Every request it takes is answered exactly as the general path (circuit-reads.ts,
 * circuit-writes.ts) answers it; test/unit/server-fast-lane.test.ts compares the two byte for byte.
 */
import { ACCESS_READ, ACCESS_WRITE, Command, DBR, ECA } from '../protocol/constants.js';
import { HEADER_SIZE } from '../protocol/header.js';
import type { Message } from '../protocol/header.js';
import type { NativeArray } from '../protocol/values.js';
import { readScalarData } from './read-value.js';
import { CircuitWrites } from './circuit-writes.js';
import { ecaOf, recordName } from './circuit-types.js';
import type { ChannelEntry } from './circuit-types.js';

/** Largest number of queued (not yet started) puts before the circuit stops reading. */
export const MAX_QUEUED_PUTS = 256;
const NO_CID = 0xffffffff;
const NO_PAYLOAD = Buffer.alloc(0);

/** The request header at `o` as a Message (without its payload), for replies that need one. */
function headerAt(dv: DataView, o: number): Message {
  return {
    command: dv.getUint16(o),
    payloadSize: dv.getUint16(o + 2),
    dataType: dv.getUint16(o + 4),
    dataCount: dv.getUint16(o + 6),
    parameter1: dv.getUint32(o + 8),
    parameter2: dv.getUint32(o + 12),
    payload: NO_PAYLOAD,
    extended: false,
  };
}

/** The value of a one-number put as the general path decodes it (the array type of `type`). */
function scalarArray(type: number, x: number): NativeArray {
  if (type === DBR.DOUBLE) return Float64Array.of(x);
  if (type === DBR.LONG) return Int32Array.of(x);
  if (type === DBR.FLOAT) return Float32Array.of(x);
  return Int16Array.of(x);
}

export abstract class CircuitFastLane extends CircuitWrites {
  /** Off for good once an oversize request was seen (the frame reader may be skipping its payload). */
  protected fastLaneOn = true;
  /** Whether the last fastLane() stopped at an incomplete request (else: one it does not serve). */
  protected laneIncomplete = false;

  protected inputBlocked(): boolean {
    return this.barrier !== undefined || this.congested || this.queuedPuts >= MAX_QUEUED_PUTS;
  }

  /**
   * Serve the requests at the start of `b` that the fast lane handles; returns the number of bytes
   * consumed (the rest is for the frame reader). The caller guarantees that nothing is buffered in
   * the frame reader and that the circuit is not already processing.
   */
  protected fastLane(b: Buffer): number {
    this.laneIncomplete = false;
    if (!this.fastLaneOn || this.clientMinor < 4) return 0;
    const n = b.length;
    const dv = new DataView(b.buffer, b.byteOffset, n);
    const max = this.ctx.maxPayload;
    let o = 0;
    while (!this.closed && !this.inputBlocked()) {
      if (n - o < HEADER_SIZE) {
        this.laneIncomplete = o < n;
        break;
      }
      const size = dv.getUint16(o + 2);
      // extended, misaligned or oversize: the frame reader's business
      if (size === 0xffff || (size & 7) !== 0 || size > max) break;
      if (n - o < HEADER_SIZE + size) {
        this.laneIncomplete = true;
        break;
      }
      const cmd = dv.getUint16(o);
      let done: boolean;
      try {
        if (cmd === Command.READ_NOTIFY) done = this.fastRead(dv, o);
        else if (cmd === Command.WRITE) done = this.fastWrite(dv, o, size, false);
        else if (cmd === Command.WRITE_NOTIFY) done = this.fastWrite(dv, o, size, true);
        else done = false;
      } catch (err) {
        // as the general dispatch: a provider that throws where it should not must not take the
        // server down (a fast read throws before any effect: retried by the general path)
        if (cmd === Command.READ_NOTIFY) break;
        this.ctx.log(`CAS: internal error serving ${this.peer}: ${(err as Error)?.message ?? String(err)}`);
        this.error(headerAt(dv, o), NO_CID, ECA.INTERNAL, 'CAS: internal server error');
        done = true;
      }
      if (!done) break;
      o += HEADER_SIZE + size;
    }
    return o;
  }

  /** READ_NOTIFY of a numeric scalar (the general path's readScalarData branch). */
  private fastRead(dv: DataView, o: number): boolean {
    const type = dv.getUint16(o + 4);
    if (type > 20 || dv.getUint16(o + 6) > 1) return false;
    const e = this.channels.get(dv.getUint32(o + 8));
    if (!e || !(e.rights & ACCESS_READ)) return false;
    const d = readScalarData(e.ch, type);
    if (!d) return false;
    this.sendScalar(Command.READ_NOTIFY, type, ECA.NORMAL, dv.getUint32(o + 12), d);
    return true;
  }

  /** WRITE / WRITE_NOTIFY of one number to a channel with writeNow and nothing queued. */
  private fastWrite(dv: DataView, o: number, size: number, notify: boolean): boolean {
    const type = dv.getUint16(o + 4);
    if (dv.getUint16(o + 6) !== 1) return false;
    const e = this.channels.get(dv.getUint32(o + 8));
    if (!e || !(e.rights & ACCESS_WRITE) || e.putActive || e.puts.length !== 0 || !e.ch.writeNow)
      return false;
    const p = o + HEADER_SIZE;
    let x: number;
    if (type === DBR.DOUBLE && size >= 8) x = dv.getFloat64(p);
    else if (type === DBR.LONG && size >= 4) x = dv.getInt32(p);
    else if (type === DBR.FLOAT && size >= 4) x = dv.getFloat32(p);
    else if (type === DBR.SHORT && size >= 2) x = dv.getInt16(p);
    else return false;
    this.fastPut(e, notify, dv, o, type, x);
    return true;
  }

  /** startPut (circuit-writes.ts) for a request still in the received bytes. */
  private fastPut(e: ChannelEntry, notify: boolean, dv: DataView, o: number, type: number, x: number): void {
    let p: Promise<void> | undefined;
    let eca: number = ECA.NORMAL;
    const ch = e.ch;
    try {
      p = ch.writeScalarNow
        ? ch.writeScalarNow(x, type, this.identity)
        : ch.writeNow!(scalarArray(type, x), type, this.identity);
    } catch (err) {
      eca = ecaOf(err, ECA.PUTFAIL);
    }
    // (the value array is only made for a put logger)
    const trap = this.ctx.trapWrite?.(ch, this.identity, scalarArray(type, x), type);
    if (!p) {
      trap?.(eca);
      if (notify) this.sendHeader(Command.WRITE_NOTIFY, type, 1, eca, dv.getUint32(o + 12));
      else if (eca !== ECA.NORMAL) this.error(headerAt(dv, o), e.cid, eca, recordName(e.ch.name));
      return;
    }
    this.awaitPut(e, notify, headerAt(dv, o), p, trap);
  }
}
