/**
 * A server's ERROR message (CA_PROTO_ERROR) on a circuit: the failing request's header and the text
 * are read from its payload, and the error goes to what the request was about (a pending get / put,
 * a subscription, a WRITE's channel) or else to the context's exception listeners.
 */
import { Command, DBR_TYPE_NAMES, ecaMessage } from '../protocol/constants.js';
import { HEADER_SIZE } from '../protocol/header.js';
import type { Message } from '../protocol/header.js';
import type { Circuit } from './circuit.js';
import type { Context } from './context.js';
import { completeOp } from './pending-ops.js';

/** @internal handle an ERROR message received on circuit `c` of context `ctx`. */
export function handleErrorReply(ctx: Context, c: Circuit, m: Message): void {
  const status = m.parameter2;
  let text = '';
  let inner: Message | undefined;
  // Payload: the failing request's header (16 or 24 bytes, without its payload) + NUL-terminated text.
  const p = m.payload;
  if (p.length >= HEADER_SIZE) {
    const ext = p.readUInt16BE(2) === 0xffff && p.length >= 24;
    const hlen = ext ? 24 : HEADER_SIZE;
    inner = {
      command: p.readUInt16BE(0),
      payloadSize: ext ? p.readUInt32BE(16) : p.readUInt16BE(2),
      dataType: p.readUInt16BE(4),
      dataCount: ext ? p.readUInt32BE(20) : p.readUInt16BE(6),
      parameter1: p.readUInt32BE(8),
      parameter2: p.readUInt32BE(12),
      payload: Buffer.alloc(0),
      extended: ext,
    };
    const rest = p.subarray(hlen);
    const nul = rest.indexOf(0);
    text = rest.subarray(0, nul < 0 ? rest.length : nul).toString('latin1');
  }
  const detail = text ? `${ecaMessage(status)}: ${text}` : ecaMessage(status);
  if (inner) {
    switch (inner.command) {
      case Command.READ_NOTIFY:
      case Command.READ:
      case Command.WRITE_NOTIFY: {
        const op = ctx._ops.get(inner.parameter2);
        if (op) {
          completeOp(
            op,
            {
              command: Command.WRITE_NOTIFY,
              payloadSize: m.payloadSize,
              dataType: m.dataType,
              dataCount: m.dataCount,
              parameter1: status,
              parameter2: inner.parameter2,
              payload: p,
              extended: m.extended,
            },
            ctx,
          );
          return;
        }
        break;
      }
      case Command.EVENT_ADD: {
        const s = ctx._subscription(inner.parameter2);
        if (s) {
          ctx._exception(status, `subscription of "${s.channel.name}": ${detail}`, s.channel.name);
          return;
        }
        break;
      }
      case Command.WRITE: {
        const ch = ctx._channel(inner.parameter2);
        if (ch) {
          // libca's text for a failed WRITE (oldChannelNotify): op=1 is a put.
          const tname = DBR_TYPE_NAMES[inner.dataType] ?? String(inner.dataType);
          ctx._exception(
            status,
            `op=1, channel=${ch.name}, type=DBR_${tname}, count=${inner.dataCount}, ctx="${text || ch.name}"`,
            ch.name,
          );
          return;
        }
        break;
      }
      default:
        break;
    }
  }
  ctx._exception(status, `${c.address}: ${detail}`);
}
