// Raw-socket CA clients for the server tests: build requests byte by byte, read replies with the
// protocol's MessageReader, wait for specific messages with a timeout. Loopback only.
import net from 'node:net';
import dgram from 'node:dgram';
import { Command } from '../../src/protocol/constants.js';
import { MessageReader, encodeMessage } from '../../src/protocol/header.js';
import type { Message } from '../../src/protocol/header.js';

export const LOOPBACK = '127.0.0.1';

/** Environment for a private loopback server (no beacons leave loopback). */
export function testEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    EPICS_CA_ADDR_LIST: LOOPBACK,
    EPICS_CA_AUTO_ADDR_LIST: 'NO',
    EPICS_CAS_INTF_ADDR_LIST: LOOPBACK,
    EPICS_CAS_AUTO_BEACON_ADDR_LIST: 'NO',
    EPICS_CAS_BEACON_ADDR_LIST: LOOPBACK,
    EPICS_CAS_BEACON_PORT: '9', // discard port on loopback: nobody listens
    ...extra,
  };
}

export function msg(
  command: number,
  dataType = 0,
  dataCount = 0,
  parameter1 = 0,
  parameter2 = 0,
  payload?: Uint8Array,
): Buffer {
  return encodeMessage({ command, dataType, dataCount, parameter1, parameter2 }, payload);
}

export function nameBuf(name: string): Buffer {
  return Buffer.from(name + '\0', 'utf8');
}

/** A copy of a message (payload views are only valid during the reader callback). */
function copy(m: Message): Message {
  return { ...m, payload: Buffer.from(m.payload) };
}

export class RawClient {
  readonly socket: net.Socket;
  readonly received: Message[] = [];
  closed = false;
  private waiters: { pred: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  private closeWaiters: (() => void)[] = [];
  private readonly reader = new MessageReader(512 * 1024 * 1024, false);
  private cursor = 0;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.reader.push(chunk, (m) => {
        const c = copy(m);
        this.received.push(c);
        const i = this.waiters.findIndex((w) => w.pred(c));
        if (i >= 0) {
          const [w] = this.waiters.splice(i, 1);
          w.resolve(c);
        }
      });
    });
    const onClose = (): void => {
      this.closed = true;
      for (const w of this.closeWaiters.splice(0)) w();
    };
    socket.on('close', onClose);
    socket.on('error', () => undefined);
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: LOOPBACK, port }, () => {
        s.off('error', reject);
        s.setNoDelay(true);
        resolve(new RawClient(s));
      });
      s.once('error', reject);
    });
  }

  send(...bufs: Buffer[]): void {
    this.socket.write(bufs.length === 1 ? bufs[0] : Buffer.concat(bufs));
  }

  /** VERSION + CLIENT_NAME + HOST_NAME, as libca starts a circuit. */
  hello(user = 'tester', host = 'testhost', minor = 13, priority = 0): void {
    this.send(
      msg(Command.VERSION, priority, minor),
      msg(Command.CLIENT_NAME, 0, 0, 0, 0, nameBuf(user)),
      msg(Command.HOST_NAME, 0, 0, 0, 0, nameBuf(host)),
    );
  }

  /** Wait for the first message (received since the last `next`, in order) matching `pred`. */
  next(pred: (m: Message) => boolean = () => true, timeoutMs = 2000): Promise<Message> {
    for (let i = this.cursor; i < this.received.length; i++) {
      if (pred(this.received[i])) {
        this.cursor = i + 1;
        return Promise.resolve(this.received[i]);
      }
    }
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        const k = this.waiters.indexOf(w);
        if (k >= 0) this.waiters.splice(k, 1);
        reject(new Error(`timeout waiting for a message (got ${this.received.length} so far)`));
      }, timeoutMs);
      const w = {
        pred,
        resolve: (m: Message) => {
          clearTimeout(t);
          this.cursor = this.received.length;
          resolve(m);
        },
      };
      this.waiters.push(w);
    });
  }

  /** Wait for the next message with this command. */
  nextCmd(command: number, timeoutMs = 2000): Promise<Message> {
    return this.next((m) => m.command === command, timeoutMs);
  }

  /** Resolves when the server closes the circuit; rejects after the timeout. */
  waitClosed(timeoutMs = 2000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('circuit not closed')), timeoutMs);
      this.closeWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** Open a channel; resolves with the CREATE_CHAN reply fields and the rights. */
  async create(
    name: string,
    cid: number,
  ): Promise<{ sid: number; type: number; count: number; rights: number }> {
    this.send(msg(Command.CREATE_CHAN, 0, 0, cid, 13, nameBuf(name)));
    const ar = await this.next(
      (m) =>
        (m.command === Command.ACCESS_RIGHTS || m.command === Command.CREATE_CH_FAIL) && m.parameter1 === cid,
    );
    if (ar.command === Command.CREATE_CH_FAIL) throw new Error(`CREATE_CH_FAIL for ${name}`);
    const cc = await this.next((m) => m.command === Command.CREATE_CHAN && m.parameter1 === cid);
    return { sid: cc.parameter2, type: cc.dataType, count: cc.dataCount, rights: ar.parameter2 };
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Send one UDP datagram to the server and collect replies for `waitMs`. */
export async function udpExchange(port: number, datagram: Buffer, waitMs = 300): Promise<Buffer[]> {
  const s = dgram.createSocket('udp4');
  const replies: Buffer[] = [];
  s.on('message', (m) => replies.push(m));
  await new Promise<void>((r) => s.bind(0, LOOPBACK, () => r()));
  s.send(datagram, port, LOOPBACK);
  await new Promise((r) => setTimeout(r, waitMs));
  await new Promise<void>((r) => s.close(() => r()));
  return replies;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
