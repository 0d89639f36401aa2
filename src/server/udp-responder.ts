/**
 * UDP name resolution (ca-protocol.md §12): answer SEARCH for names the provider has, never
 * NOT_FOUND over UDP (not even for DOREPLY). Each reply datagram starts with a VERSION carrying the
 * client's sequence number (clients with minor >= 11), holds one 24-byte SEARCH reply per hit and
 * is at most 1024 bytes. Clients below minor 4 and names of length <= 1 are ignored. Any other
 * command stops the processing of that datagram silently.
 */
import type { Socket as UdpSocket, RemoteInfo } from 'node:dgram';
import { CA_MINOR_VERSION, Command, MAX_UDP_SEND } from '../protocol/constants.js';
import { EXTENDED_HEADER_SIZE, HEADER_SIZE } from '../protocol/header.js';

/** Size of one SEARCH reply: header + 8-byte payload (u16 minor + 6 zero bytes). */
const SEARCH_REPLY_SIZE = HEADER_SIZE + 8;

/**
 * Build the reply datagrams for one received datagram. `has` is the provider's existence check,
 * `tcpPort` the port advertised. Returns [] when nothing is to be sent.
 */
export function searchReplies(datagram: Buffer, has: (name: string) => boolean, tcpPort: number): Buffer[] {
  let minor = 0;
  let seq = 0;
  let sawVersion = false;
  const hits: number[] = []; // parameter2 of each request (the cid, for libca)
  let off = 0;
  while (off + HEADER_SIZE <= datagram.length) {
    const command = datagram.readUInt16BE(off);
    let size = datagram.readUInt16BE(off + 2);
    const count = datagram.readUInt16BE(off + 6);
    const p1 = datagram.readUInt32BE(off + 8);
    const p2 = datagram.readUInt32BE(off + 12);
    let hlen = HEADER_SIZE;
    if (size === 0xffff) {
      if (off + EXTENDED_HEADER_SIZE > datagram.length) break;
      size = datagram.readUInt32BE(off + 16);
      hlen = EXTENDED_HEADER_SIZE;
    }
    const end = off + hlen + size;
    if (end > datagram.length) break;
    if (command === Command.VERSION) {
      // an unsupported client version stops the processing of the datagram (RSRV)
      if (count < 4) break;
      sawVersion = true;
      minor = count;
      seq = count >= 11 ? p1 : 0;
    } else if (command === Command.SEARCH) {
      const cminor = count;
      if (!sawVersion || cminor !== 0) minor = cminor;
      if (minor >= 4 && size > 0) {
        const payload = datagram.subarray(off + hlen, end);
        const z = payload.indexOf(0);
        const len = z < 0 ? payload.length : z;
        // RSRV ignores only an empty name (a record may be called `A`)
        if (len > 0) {
          const name = payload.toString('utf8', 0, len);
          if (has(name)) hits.push(p2);
        }
      }
    } else {
      break;
    }
    off = end;
  }
  if (hits.length === 0) return [];
  const withVersion = minor >= 11;
  const head = withVersion ? HEADER_SIZE : 0;
  const perDatagram = Math.max(1, Math.floor((MAX_UDP_SEND - head) / SEARCH_REPLY_SIZE));
  const out: Buffer[] = [];
  for (let i = 0; i < hits.length; i += perDatagram) {
    const n = Math.min(perDatagram, hits.length - i);
    const buf = Buffer.alloc(head + n * SEARCH_REPLY_SIZE);
    let o = 0;
    if (withVersion) {
      buf.writeUInt16BE(Command.VERSION, 0);
      buf.writeUInt16BE(1, 4);
      buf.writeUInt16BE(CA_MINOR_VERSION, 6);
      buf.writeUInt32BE(seq >>> 0, 8);
      o = HEADER_SIZE;
    }
    for (let k = 0; k < n; k++) {
      buf.writeUInt16BE(Command.SEARCH, o);
      buf.writeUInt16BE(8, o + 2);
      buf.writeUInt16BE(tcpPort, o + 4);
      buf.writeUInt16BE(0, o + 6);
      buf.writeUInt32BE(0xffffffff, o + 8);
      buf.writeUInt32BE(hits[i + k] >>> 0, o + 12);
      buf.writeUInt16BE(CA_MINOR_VERSION, o + 16);
      o += SEARCH_REPLY_SIZE;
    }
    out.push(buf);
  }
  return out;
}

/** Answers searches arriving on one UDP socket. */
export class UdpResponder {
  /**
   * Answers datagrams arriving on `socket`; replies leave from `replyFrom` (default the same socket:
   * a socket bound to an interface's broadcast address answers from the interface's own socket).
   */
  constructor(
    socket: UdpSocket,
    private readonly has: (name: string) => boolean,
    private readonly tcpPort: () => number,
    private readonly ignore: ReadonlySet<string> = new Set(),
    private readonly replyFrom: UdpSocket = socket,
  ) {
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
  }

  private onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.ignore.size && this.ignore.has(rinfo.address)) return;
    let replies: Buffer[];
    try {
      replies = searchReplies(msg, this.has, this.tcpPort());
    } catch {
      return;
    }
    for (const r of replies) {
      this.replyFrom.send(r, rinfo.port, rinfo.address, () => {
        /* errors (unreachable client) are ignored, as RSRV does */
      });
    }
  }
}
