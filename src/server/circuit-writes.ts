/**
 * Writes of a CA server circuit (ca-protocol.md §6): WRITE and WRITE_NOTIFY, the per-channel put
 * queue, the put callback timeout, and the barrier that holds the requests behind a write.
 */
import { ACCESS_WRITE, Command, DBR, ECA } from '../protocol/constants.js';
import type { Message } from '../protocol/header.js';
import { decodeDbr, decodePlainInPlace, isValidDbrType } from '../protocol/dbr.js';
import type { NativeArray } from '../protocol/values.js';
import { largeBuffers } from '../protocol/buffer-pool.js';
import { headerOnly } from './replies.js';
import { CircuitReads } from './circuit-reads.js';
import { ecaOf, recordName } from './circuit-types.js';
import type { ChannelEntry, PutJob } from './circuit-types.js';

export abstract class CircuitWrites extends CircuitReads {
  /**
   * After a write is issued, requests behind it wait until it completes or until the event loop has
   * turned once, whichever is first: a put that completes without real I/O (record processing, a
   * synchronous or microtask-only onPut) is answered, and visible to reads, before the next
   * request is served, as with RSRV's synchronous dbPutField; a slow put does not stall the circuit.
   */
  protected setBarrier(p: Promise<unknown>): void {
    const b = p;
    this.barrier = b;
    const resume = (): void => {
      if (this.barrier !== b) return;
      this.barrier = undefined;
      if (!this.closed) this.process();
    };
    p.then(resume, resume);
    setImmediate(resume);
  }

  /** The payload of the message being served stays in use after this call: the reader must not reuse its memory. */
  protected abstract keepReceivedPayloads(): void;

  protected onWrite(m: Message, notify: boolean): void {
    const e = this.entryFor(m);
    if (!e) return;
    const type = m.dataType;
    if (!isValidDbrType(type)) {
      this.writeFail(m, e, notify, ECA.BADTYPE);
      this.closeAfterFlush();
      return;
    }
    if (!(e.rights & ACCESS_WRITE)) return this.writeFail(m, e, notify, ECA.NOWTACCESS);
    // db_access refuses other valid types (STS, TIME ...) for puts: ECA_PUTFAIL, as RSRV
    if (type > DBR.DOUBLE && type !== DBR.PUT_ACKT && type !== DBR.PUT_ACKS)
      return this.writeFail(m, e, notify, ECA.PUTFAIL);
    // count 0 goes to the channel as an empty array, as RSRV's dbPut gets it (an IOC empties an array)
    let value: NativeArray;
    const pl = m.payload;
    // Nothing queued on the channel: the put starts now. A channel whose writeNow copies the value
    // gets a large array decoded into pooled memory, given back as soon as the put has completed.
    const now = !e.putActive && e.puts.length === 0 && e.ch.writeNow !== undefined;
    const pool = now && e.ch.writeNowCopies === true ? largeBuffers : undefined;
    // A large array put that starts now: decoded where it was received (byte-swapped in place in
    // the frame reader's buffer, no copy); if the put still holds it afterwards, the reader leaves
    // that buffer to it.
    let inPlace: NativeArray | undefined;
    if (pool && pl.length >= largeBuffers.minSize && this.ctx.trapWrite === undefined)
      inPlace = decodePlainInPlace(type, m.dataCount, pl);
    if (inPlace) value = inPlace;
    // one number: read straight from the payload (what decodeDbr gives, without its generic path)
    else if (m.dataCount === 1 && type === DBR.DOUBLE && pl.length >= 8)
      value = Float64Array.of(pl.readDoubleBE(0));
    else if (m.dataCount === 1 && type === DBR.LONG && pl.length >= 4)
      value = Int32Array.of(pl.readInt32BE(0));
    else if (m.dataCount === 1 && type === DBR.FLOAT && pl.length >= 4)
      value = Float32Array.of(pl.readFloatBE(0));
    else if (m.dataCount === 1 && type === DBR.SHORT && pl.length >= 2)
      value = Int16Array.of(pl.readInt16BE(0));
    else {
      try {
        value = decodeDbr(type, m.dataCount, pl, pool).value;
      } catch {
        return this.writeFail(m, e, notify, ECA.BADCOUNT);
      }
    }
    if (now) {
      // start it now (no job, no promise when it completes at once)
      const inUse = this.startPut(e, notify, m, value);
      if (inPlace) {
        if (inUse) this.keepReceivedPayloads();
      } else if (pool && !inUse && !Array.isArray(value)) largeBuffers.give(value);
      if (!this.closed && this.inputPaused && !this.barrier) this.process();
      return;
    }
    // The request header outlives this call only through its fields; the payload is not kept.
    const req: Message = { ...m, payload: EMPTY };
    e.puts.push({ notify, req, value });
    this.queuedPuts++;
    this.runPuts(e);
  }

  /** A refused WRITE / WRITE_NOTIFY: WRITE_NOTIFY gets its reply with the status, WRITE an ERROR. */
  protected writeFail(m: Message, e: ChannelEntry, notify: boolean, eca: number): void {
    if (notify) this.send(headerOnly(Command.WRITE_NOTIFY, m.dataType, m.dataCount, eca, m.parameter2));
    else this.error(m, e.cid, eca, recordName(e.ch.name));
  }

  protected runPuts(e: ChannelEntry): void {
    while (!e.putActive && e.puts.length > 0 && !e.cleared && !this.closed) {
      const job = e.puts.shift() as PutJob;
      this.queuedPuts--;
      this.startPut(e, job.notify, job.req, job.value);
    }
    if (e.putActive && e.puts.length > 0 && !e.putTimer && !e.cleared && !this.closed) {
      const token = e.active;
      e.putTimer = setTimeout(() => {
        e.putTimer = undefined;
        if (token && e.active === token && e.puts.length > 0) this.putDone(e, token, ECA.PUTCBINPROG);
      }, this.ctx.putCallbackTimeout * 1000);
      e.putTimer.unref();
    }
    if (!this.closed && this.inputPaused && !this.barrier) this.process();
  }

  /**
   * Start one put. A write that completes synchronously (`writeNow` returned undefined or threw) is
   * answered at once; otherwise its completion is awaited behind a barrier. Returns whether `value`
   * may still be used by someone: the channel while the put is pending, a trap-write listener.
   */
  protected startPut(e: ChannelEntry, notify: boolean, m: Message, value: NativeArray): boolean {
    const type = m.dataType;
    let p: Promise<void> | undefined;
    let eca: number = ECA.NORMAL;
    if (e.ch.writeNow) {
      try {
        p = e.ch.writeNow(value, type, this.identity);
      } catch (err) {
        eca = ecaOf(err, ECA.PUTFAIL);
      }
    } else {
      try {
        p = Promise.resolve(e.ch.write(value, type, this.identity));
      } catch (err) {
        p = Promise.reject(err);
      }
    }
    const trap = this.ctx.trapWrite?.(e.ch, this.identity, value, type);
    if (!p) {
      trap?.(eca);
      if (notify) this.send(headerOnly(Command.WRITE_NOTIFY, type, m.dataCount, eca, m.parameter2));
      else if (eca !== ECA.NORMAL) this.error(m, e.cid, eca, recordName(e.ch.name));
      return trap !== undefined;
    }
    // The request header outlives this call only through its fields; the payload is not kept.
    this.awaitPut(e, notify, m.payload.length ? { ...m, payload: EMPTY } : m, p, trap);
    return true;
  }

  /**
   * A put that did not complete at once: its answer (WRITE_NOTIFY) or failure (ERROR) when `p`
   * settles, the trap-write notice, and the barrier that holds the requests behind it.
   */
  protected awaitPut(
    e: ChannelEntry,
    notify: boolean,
    req: Message,
    p: Promise<void>,
    trap: ((status: number) => void) | undefined,
  ): void {
    if (trap)
      p.then(
        () => trap(ECA.NORMAL),
        (err: unknown) => trap(ecaOf(err, ECA.PUTFAIL)),
      );
    if (notify) {
      e.putActive = true;
      const token = { req, done: false };
      e.active = token;
      p.then(
        () => this.putDone(e, token, ECA.NORMAL),
        (err: unknown) => this.putDone(e, token, ecaOf(err, ECA.PUTFAIL)),
      );
    } else {
      p.catch((err: unknown) => {
        if (!this.closed && !e.cleared)
          this.error(req, e.cid, ecaOf(err, ECA.PUTFAIL), recordName(e.ch.name));
      });
    }
    this.setBarrier(p);
  }

  protected putDone(e: ChannelEntry, token: { req: Message; done: boolean }, eca: number): void {
    if (token.done) return; // already answered (ECA_PUTCBINPROG after the timeout)
    token.done = true;
    if (e.active !== token) return;
    e.active = undefined;
    e.putActive = false;
    if (e.putTimer) clearTimeout(e.putTimer);
    e.putTimer = undefined;
    if (this.closed || e.cleared) return;
    const req = token.req;
    this.send(headerOnly(Command.WRITE_NOTIFY, req.dataType, req.dataCount, eca, req.parameter2));
    this.runPuts(e);
  }
}

const EMPTY = Buffer.alloc(0);
