/**
 * Reads and subscriptions of a CA server circuit (ca-protocol.md §6): READ, READ_NOTIFY, EVENT_ADD,
 * EVENT_CANCEL, and the monitor updates posted by the channels.
 */
import { ACCESS_READ, Command, DBE, ECA } from '../protocol/constants.js';
import { needsExtendedHeader } from '../protocol/header.js';
import type { Message } from '../protocol/header.js';
import { isValidDbrType } from '../protocol/dbr.js';
import { largeBuffers } from '../protocol/buffer-pool.js';
import type { ChannelSnapshot, ServedChannel } from './provider.js';
import { readData, readScalarData, replyCount } from './read-value.js';
import { dataHeader, dataReply, dataReplySize, encodePayload, headerOnly } from './replies.js';
import { CircuitOutput } from './circuit-output.js';
import { ecaOf, recordName } from './circuit-types.js';
import type { ChannelEntry, Subscription, Update } from './circuit-types.js';

/** Encoded payloads per snapshot object, keyed by count * 64 + DBR type. */
const payloadCache = new WeakMap<ChannelSnapshot, Map<number, Buffer>>();

/**
 * The padded payload of an update, shared while the snapshot object is the same (providers that
 * return a cached, immutable snapshot, like the PVs-from-code API, get one encoding per post for all
 * subscribers; providers that build a snapshot per call simply miss the cache).
 */
function sharedPayload(ch: ServedChannel, snap: ChannelSnapshot, dbrType: number, count: number): Buffer {
  let m = payloadCache.get(snap);
  const key = count * 64 + dbrType;
  const hit = m?.get(key);
  if (hit) return hit;
  const body = encodePayload(dbrType, count, readData(ch, snap, dbrType, count));
  if (!m) payloadCache.set(snap, (m = new Map()));
  m.set(key, body);
  return body;
}

export abstract class CircuitReads extends CircuitOutput {
  /** Look up a sid; unknown -> ERROR "Bad Resource ID" and close (circuit.ts). */
  protected abstract entryFor(m: Message): ChannelEntry | undefined;

  /** Whether a reply of this type/count can be sent; otherwise sends the ERROR and returns false. */
  protected replyFits(m: Message, e: ChannelEntry, dbrType: number, count: number): boolean {
    const size = dataReplySize(dbrType, count);
    // Zero-filling beyond the channel's own size is done up to the size of the channel's data (at
    // least 16 KiB, the classic CA buffer): a request for 4 G elements of a scalar gets ECA_TOLARGE.
    const natural = Math.max(16384, dataReplySize(dbrType, e.ch.elementCount));
    if (count > e.ch.elementCount && (size > natural || size > this.ctx.maxPayload)) {
      this.error(m, e.cid, ECA.TOLARGE, recordName(e.ch.name));
      return false;
    }
    if (this.clientMinor < 9 && needsExtendedHeader(size, count)) {
      this.error(m, e.cid, ECA['16KARRAYCLIENT'], recordName(e.ch.name));
      return false;
    }
    return true;
  }

  protected onRead(m: Message, notify: boolean): void {
    const type = m.dataType;
    // READ_NOTIFY checks the type before the channel and closes silently (RSRV)
    if (notify && !isValidDbrType(type)) {
      this.closeAfterFlush();
      return;
    }
    const e = this.entryFor(m);
    if (!e) return;
    if (!isValidDbrType(type)) {
      this.fatal(m, e.cid, ECA.BADTYPE, recordName(e.ch.name));
      return;
    }
    if (m.dataCount <= 1 && e.rights & ACCESS_READ) {
      const d = readScalarData(e.ch, type);
      if (d) {
        this.sendScalar(m.command, type, notify ? ECA.NORMAL : e.cid, m.parameter2, d);
        return;
      }
    }
    const snap = e.ch.snapshot();
    const count = replyCount(m.dataCount, snap, type, e.ch.elementCount);
    if (!this.replyFits(m, e, type, count)) return;
    const ioid = m.parameter2;
    if (!(e.rights & ACCESS_READ)) {
      // failures carry the requested count (0 stays 0) and a zeroed payload, as RSRV
      if (notify)
        this.send(dataReply(Command.READ_NOTIFY, type, m.dataCount, ECA.NORDACCESS, ioid, undefined));
      else this.error(m, e.cid, ECA.NORDACCESS, recordName(e.ch.name));
      return;
    }
    let data;
    try {
      data = readData(e.ch, snap, type, count);
    } catch (err) {
      const eca = ecaOf(err, ECA.GETFAIL);
      if (notify) this.send(dataReply(Command.READ_NOTIFY, type, m.dataCount, eca, ioid, undefined));
      else this.error(m, e.cid, eca, recordName(e.ch.name));
      return;
    }
    // a large reply is encoded into a pooled buffer, given back once written (circuit-output.ts)
    const pool = dataReplySize(type, count) >= largeBuffers.minSize ? largeBuffers : undefined;
    const buf = notify
      ? dataReply(Command.READ_NOTIFY, type, count, ECA.NORMAL, ioid, data, undefined, pool)
      : dataReply(Command.READ, type, count, e.cid, ioid, data, { shortString: true }, pool);
    this.send(buf, pool !== undefined);
  }

  protected onEventAdd(m: Message): void {
    const type = m.dataType;
    if (!isValidDbrType(type)) {
      this.closeAfterFlush();
      return;
    }
    const e = this.entryFor(m);
    if (!e) return;
    // RSRV reads the mask without checking the payload size; a request too short to hold one gets
    // the usual client mask (VALUE | ALARM) here instead of stale bytes.
    const mask = m.payload.length >= 14 ? m.payload.readUInt16BE(12) : DBE.VALUE | DBE.ALARM;
    const snap = e.ch.snapshot();
    if (!this.replyFits(m, e, type, replyCount(m.dataCount, snap, type, e.ch.elementCount))) return;
    const old = e.subs.get(m.parameter2);
    if (old) this.unpend(old);
    const sub: Subscription = { subid: m.parameter2, entry: e, dbrType: type, count: m.dataCount, mask };
    e.subs.set(sub.subid, sub);
    if (!e.unsubscribe) e.unsubscribe = e.ch.subscribe((fired) => this.onEvent(e, fired));
    this.update(sub, snap);
  }

  protected onEvent(e: ChannelEntry, fired: number): void {
    // without read access the subscription is disabled until the rights come back (RSRV)
    if (this.closed || e.cleared || !(e.rights & ACCESS_READ)) return;
    let snap: ChannelSnapshot | undefined;
    try {
      for (const sub of e.subs.values()) {
        if ((sub.mask & fired) === 0) continue;
        if (sub.count <= 1 && !this.eventsOff && this.pendingSubs.size === 0 && !this.congested) {
          // a scalar update sent at once is encoded straight into the output slab
          const d = readScalarData(e.ch, sub.dbrType);
          if (d) {
            this.sendScalar(Command.EVENT_ADD, sub.dbrType, ECA.NORMAL, sub.subid, d);
            continue;
          }
        }
        snap ??= e.ch.snapshot();
        this.update(sub, snap);
      }
    } catch (err) {
      this.ctx.log(`CAS: cannot post an update of ${e.ch.name}: ${(err as Error)?.message ?? String(err)}`);
    }
  }

  /** Send (or coalesce) one monitor update of a subscription from a snapshot. */
  protected update(sub: Subscription, snap: ChannelSnapshot): void {
    const e = sub.entry;
    const count = replyCount(sub.count, snap, sub.dbrType, e.ch.elementCount);
    let u: Update;
    if (!(e.rights & ACCESS_READ)) {
      const head = dataReply(Command.EVENT_ADD, sub.dbrType, sub.count, ECA.NORDACCESS, sub.subid, undefined);
      u = { head, size: head.length };
    } else {
      try {
        // The payload of a (snapshot, type, count) is encoded once and shared by every subscription
        // and circuit that sends it; only the 16/24-byte header is per subscription.
        const body = sharedPayload(e.ch, snap, sub.dbrType, count);
        const head = dataHeader(Command.EVENT_ADD, sub.dbrType, count, ECA.NORMAL, sub.subid, body.length);
        u = { head, body, size: head.length + body.length };
      } catch (err) {
        const head = dataReply(
          Command.EVENT_ADD,
          sub.dbrType,
          sub.count,
          ecaOf(err, ECA.GETFAIL),
          sub.subid,
          undefined,
        );
        u = { head, size: head.length };
      }
    }
    this.deliver(sub, u);
  }

  protected onEventCancel(m: Message): void {
    const e = this.entryFor(m);
    if (!e) return;
    const sub = e.subs.get(m.parameter2);
    if (!sub) {
      this.fatal(m, e.cid, ECA.BADMONID, recordName(e.ch.name));
      return;
    }
    e.subs.delete(sub.subid);
    this.unpend(sub);
    if (e.subs.size === 0 && e.unsubscribe) {
      e.unsubscribe();
      e.unsubscribe = undefined;
    }
    this.send(headerOnly(Command.EVENT_ADD, sub.dbrType, sub.count, e.sid, sub.subid));
  }
}
