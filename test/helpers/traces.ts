/**
 * Helpers for the recorded softIoc traces in test/fixtures/ca-traces (see the README there):
 * load NAME.jsonl packets, reassemble TCP directions into byte streams and split them into CA
 * messages, split UDP datagrams, and parse NAME.txt (command lines with their exact output).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeMessage } from '../../src/protocol/header.js';
import type { Message } from '../../src/protocol/header.js';

/** The repository root: the nearest folder above this file holding package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

export function tracesDir(): string {
  return join(repoRoot(), 'test', 'fixtures', 'ca-traces');
}

/** Names of every recorded scenario (NAME for NAME.jsonl). */
export function traceNames(): string[] {
  return readdirSync(tracesDir())
    .filter((f) => f.endsWith('.jsonl'))
    .map((f) => f.slice(0, -'.jsonl'.length))
    .sort();
}

export interface TracePacket {
  /** Seconds since the first packet. */
  t: number;
  proto: 'udp' | 'tcp';
  from: 'client' | 'server';
  srcPort: number;
  dstPort: number;
  data: Buffer;
  /** Line index in the JSONL file. */
  index: number;
}

/** Every packet of NAME.jsonl in capture order. */
export function loadTrace(name: string): TracePacket[] {
  const text = readFileSync(join(tracesDir(), `${name}.jsonl`), 'utf8');
  const out: TracePacket[] = [];
  let index = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const j = JSON.parse(line) as {
      t: number;
      proto: 'udp' | 'tcp';
      from: 'client' | 'server';
      src_port: number;
      dst_port: number;
      hex: string;
    };
    out.push({
      t: j.t,
      proto: j.proto,
      from: j.from,
      srcPort: j.src_port,
      dstPort: j.dst_port,
      data: Buffer.from(j.hex, 'hex'),
      index: index++,
    });
  }
  return out;
}

/** Split a byte buffer into whole CA messages; `leftover` counts the bytes that form no whole message. */
export function splitMessages(buf: Buffer): { messages: Message[]; leftover: number } {
  const messages: Message[] = [];
  let off = 0;
  for (;;) {
    const r = decodeMessage(buf, off);
    if (!r) break;
    messages.push(r.message);
    off = r.next;
  }
  return { messages, leftover: buf.length - off };
}

export interface TcpStream {
  srcPort: number;
  dstPort: number;
  from: 'client' | 'server';
  /** The reassembled bytes of this direction. */
  bytes: Buffer;
  messages: Message[];
  leftover: number;
  /** For each message, the time of the packet holding its last byte. */
  times: number[];
}

/** Reassemble each TCP direction (key "src>dst") into a byte stream split into messages. */
export function tcpStreams(packets: TracePacket[]): Map<string, TcpStream> {
  const parts = new Map<
    string,
    { p: TracePacket; chunks: Buffer[]; ends: number[]; ts: number[]; len: number }
  >();
  for (const p of packets) {
    if (p.proto !== 'tcp') continue;
    const key = `${p.srcPort}>${p.dstPort}`;
    let e = parts.get(key);
    if (!e) parts.set(key, (e = { p, chunks: [], ends: [], ts: [], len: 0 }));
    e.chunks.push(p.data);
    e.len += p.data.length;
    e.ends.push(e.len);
    e.ts.push(p.t);
  }
  const out = new Map<string, TcpStream>();
  for (const [key, e] of parts) {
    const bytes = Buffer.concat(e.chunks);
    const { messages, leftover } = splitMessages(bytes);
    const times: number[] = [];
    let seg = 0;
    for (const m of messages) {
      const end = m.payload.byteOffset - bytes.byteOffset + m.payload.length;
      while (seg < e.ends.length - 1 && e.ends[seg] < end) seg++;
      times.push(e.ts[seg]);
    }
    out.set(key, {
      srcPort: e.p.srcPort,
      dstPort: e.p.dstPort,
      from: e.p.from,
      bytes,
      messages,
      leftover,
      times,
    });
  }
  return out;
}

export interface Circuit {
  clientPort: number;
  serverPort: number;
  client: Message[];
  server: Message[];
}

/** The TCP circuits of a trace: per client port, the messages of each direction. */
export function circuits(packets: TracePacket[]): Circuit[] {
  const streams = tcpStreams(packets);
  const byClient = new Map<number, Circuit>();
  for (const s of streams.values()) {
    const clientPort = s.from === 'client' ? s.srcPort : s.dstPort;
    const serverPort = s.from === 'client' ? s.dstPort : s.srcPort;
    let c = byClient.get(clientPort);
    if (!c) byClient.set(clientPort, (c = { clientPort, serverPort, client: [], server: [] }));
    if (s.from === 'client') c.client = s.messages;
    else c.server = s.messages;
  }
  return [...byClient.values()];
}

export interface UdpDatagram {
  packet: TracePacket;
  messages: Message[];
  leftover: number;
}

/** Every UDP datagram split into messages (zero-length datagrams give no messages). */
export function udpDatagrams(packets: TracePacket[]): UdpDatagram[] {
  return packets
    .filter((p) => p.proto === 'udp')
    .map((packet) => ({ packet, ...splitMessages(packet.data) }));
}

export interface TraceCommand {
  command: string;
  stdout: string;
  stderr: string;
  /** Exit status, or null when the process was still running at the end of the capture. */
  exit: number | null;
  /** Time window on the JSONL clock (from = start; to undefined when still running). */
  from?: number;
  to?: number;
}

/** Parse NAME.txt into its commands with their exact stdout / stderr and exit status. */
export function loadTraceOutput(name: string): TraceCommand[] {
  const raw = readFileSync(join(tracesDir(), `${name}.txt`));
  const out: TraceCommand[] = [];
  let off = 0;
  const readLine = (): string | undefined => {
    if (off >= raw.length) return undefined;
    let nl = raw.indexOf(0x0a, off);
    if (nl < 0) nl = raw.length;
    const line = raw.toString('utf8', off, nl);
    off = nl + 1;
    return line;
  };
  const readBlock = (stream: string): string => {
    const marker = readLine();
    const m = marker === undefined ? null : new RegExp(`^--- ${stream} \\((\\d+) bytes\\) ---$`).exec(marker);
    if (!m) throw new Error(`${name}.txt: expected the ${stream} marker, got ${JSON.stringify(marker)}`);
    const n = Number(m[1]);
    const text = raw.toString('utf8', off, off + n);
    off += n;
    if (n > 0 && raw[off - 1] !== 0x0a) off++; // the inserted newline
    return text;
  };
  for (;;) {
    const line = readLine();
    if (line === undefined) break;
    if (!line.startsWith('$ ')) continue;
    const command = line.slice(2);
    const stdout = readBlock('stdout');
    const stderr = readBlock('stderr');
    const status = readLine() ?? '';
    let exit: number | null;
    const sm = /^--- exit status (\d+) ---$/.exec(status);
    if (sm) exit = Number(sm[1]);
    else if (status.startsWith('--- exit status: still running')) exit = null;
    else throw new Error(`${name}.txt: bad exit status line ${JSON.stringify(status)}`);
    const cmd: TraceCommand = { command, stdout, stderr, exit };
    const win = readLine() ?? '';
    const wm = /^--- ran from t=(-?[\d.]+) to t=(-?[\d.]+) s ---$/.exec(win);
    const sm2 = /^--- started at t=(-?[\d.]+) s ---$/.exec(win);
    if (wm) {
      cmd.from = Number(wm[1]);
      cmd.to = Number(wm[2]);
    } else if (sm2) {
      cmd.from = Number(sm2[1]);
    }
    out.push(cmd);
  }
  return out;
}
