/**
 * Golden tests: every recorded catools command in test/fixtures/ca-traces/*.txt is run through the
 * tsepics tool over a backend that replays the server's recorded replies. The tool must issue the
 * same requests (type, count, mask, put values) as EPICS' catools did and print byte-identical stdout
 * and stderr with the same exit status.
 */
process.env.TZ = 'UTC';

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command, ECA } from '../../src/protocol/constants.js';
import { decodeDbr } from '../../src/protocol/dbr.js';
import type { Message } from '../../src/protocol/header.js';
import type { EpicsTimeStamp, NativeArray } from '../../src/protocol/values.js';
import type {
  ToolBackend,
  ToolChannel,
  ToolChannelState,
  ToolException,
  ToolGetResult,
  ToolIO,
  ToolPutResult,
  ToolSubscription,
} from '../../src/cli/catools-backend.js';
import type { DbrReply } from '../../src/cli/format.js';
import { cagetMain } from '../../src/cli/caget.js';
import { caputMain } from '../../src/cli/caput.js';
import { cainfoMain } from '../../src/cli/cainfo.js';
import { camonitorMain } from '../../src/cli/camonitor.js';
import { loadTrace, loadTraceOutput, tcpStreams, traceNames } from '../helpers/traces.js';
import type { TraceCommand } from '../helpers/traces.js';

interface TraceCircuit {
  clientPort: number;
  firstTime: number;
  client: Message[];
  server: Message[];
}

function circuitsWithTimes(name: string): TraceCircuit[] {
  const streams = tcpStreams(loadTrace(name));
  const byPort = new Map<number, TraceCircuit>();
  for (const s of streams.values()) {
    const port = s.from === 'client' ? s.srcPort : s.dstPort;
    let c = byPort.get(port);
    if (!c) byPort.set(port, (c = { clientPort: port, firstTime: Infinity, client: [], server: [] }));
    if (s.from === 'client') {
      c.client = s.messages;
      c.firstTime = Math.min(c.firstTime, s.times[0] ?? Infinity);
    } else {
      c.server = s.messages;
    }
  }
  return [...byPort.values()];
}

function cString(b: Uint8Array): string {
  const z = b.indexOf(0);
  return Buffer.from(b.buffer, b.byteOffset, z < 0 ? b.length : z).toString('utf8');
}

class TraceChannel implements ToolChannel {
  state: ToolChannelState = 'never connected';
  nativeType = -1;
  elementCount = 0;
  host = '';
  readAccess = false;
  writeAccess = false;
  sid = -1;
  constructor(
    readonly name: string,
    readonly cid: number,
  ) {}
}

/** A ToolBackend answering from one recorded circuit (or none: nothing connects). */
class TraceBackend implements ToolBackend {
  private readonly used = new Set<Message>();
  private readonly subs: { ch: TraceChannel; subid: number; cb: (s: number, r?: DbrReply) => void }[] = [];
  private exceptionCb?: (e: ToolException) => void;
  readonly channels: TraceChannel[] = [];
  constructor(private readonly circuit: TraceCircuit | undefined) {
    if (!circuit) return;
    for (const m of circuit.client) {
      if (m.command === Command.CREATE_CHAN)
        this.channels.push(new TraceChannel(cString(m.payload), m.parameter1));
    }
    for (const m of circuit.server) {
      const ch = this.channels.find((c) => c.cid === m.parameter1);
      if (!ch) continue;
      if (m.command === Command.CREATE_CHAN) {
        ch.state = 'connected';
        ch.nativeType = m.dataType;
        ch.elementCount = m.dataCount;
        ch.sid = m.parameter2;
        ch.host = 'localhost:25064';
      } else if (m.command === Command.ACCESS_RIGHTS) {
        ch.readAccess = (m.parameter2 & 1) !== 0;
        ch.writeAccess = (m.parameter2 & 2) !== 0;
      }
    }
  }

  private take(names: readonly string[]): TraceChannel[] {
    const taken = new Set<TraceChannel>();
    return names.map((n) => {
      const ch = this.channels.find((c) => c.name === n && !taken.has(c)) ?? new TraceChannel(n, -1);
      taken.add(ch);
      return ch;
    });
  }

  async connect(names: readonly string[]): Promise<ToolChannel[]> {
    return this.take(names);
  }

  create(names: readonly string[]): ToolChannel[] {
    return this.take(names);
  }

  private nextRequest(command: number, sid: number): Message {
    const m = this.circuit?.client.find(
      (x) => x.command === command && x.parameter1 === sid && !this.used.has(x),
    );
    if (!m) throw new Error(`the recording has no further ${command} request for sid ${sid}`);
    this.used.add(m);
    return m;
  }

  async get(chIn: ToolChannel, dbrType: number, count: number): Promise<ToolGetResult> {
    const ch = chIn as TraceChannel;
    const req = this.nextRequest(Command.READ_NOTIFY, ch.sid);
    assert.equal(dbrType, req.dataType, `${ch.name}: requested DBR type`);
    assert.equal(count, req.dataCount, `${ch.name}: requested count`);
    const rep = this.circuit!.server.find(
      (x) => x.command === Command.READ_NOTIFY && x.parameter2 === req.parameter2,
    );
    if (!rep) return { status: ECA.TIMEOUT };
    if (rep.parameter1 !== ECA.NORMAL) return { status: rep.parameter1 };
    return {
      status: ECA.NORMAL,
      reply: {
        dbrType: rep.dataType,
        count: rep.dataCount,
        data: decodeDbr(rep.dataType, rep.dataCount, rep.payload),
      },
    };
  }

  async put(
    chIn: ToolChannel,
    dbrType: number,
    value: NativeArray,
    opts: { callback: boolean },
  ): Promise<ToolPutResult> {
    const ch = chIn as TraceChannel;
    if (!ch.writeAccess) {
      assert.equal(
        this.circuit!.client.some(
          (x) => (x.command === Command.WRITE || x.command === Command.WRITE_NOTIFY) && !this.used.has(x),
        ),
        false,
        'no write goes on the wire without write access',
      );
      return { status: ECA.NOWTACCESS };
    }
    const req = this.nextRequest(opts.callback ? Command.WRITE_NOTIFY : Command.WRITE, ch.sid);
    assert.equal(dbrType, req.dataType, `${ch.name}: put DBR type`);
    assert.equal(value.length, req.dataCount, `${ch.name}: put count`);
    const recorded = decodeDbr(req.dataType, req.dataCount, req.payload).value;
    assert.deepEqual(
      Array.from(value as ArrayLike<unknown>),
      Array.from(recorded as ArrayLike<unknown>),
      `${ch.name}: put value`,
    );
    if (opts.callback) {
      const rep = this.circuit!.server.find(
        (x) => x.command === Command.WRITE_NOTIFY && x.parameter2 === req.parameter2,
      );
      return { status: ECA.NORMAL, completion: rep?.parameter1 };
    }
    const err = this.circuit!.server.find((x) => x.command === Command.ERROR && x.parameter1 === ch.cid);
    if (err && this.exceptionCb) {
      this.exceptionCb({
        eca: err.parameter2,
        context: `op=1, channel=${ch.name}, type=DBR_STRING, count=${value.length}, ctx="${ch.name}"`,
        source: '../oldChannelNotify.cpp line 159',
        time: { secPastEpoch: 0, nsec: 0 },
      });
    }
    return { status: ECA.NORMAL };
  }

  subscribe(
    chIn: ToolChannel,
    dbrType: number,
    count: number,
    mask: number,
    cb: (s: number, r?: DbrReply) => void,
  ): ToolSubscription {
    const ch = chIn as TraceChannel;
    const req = this.nextRequest(Command.EVENT_ADD, ch.sid);
    assert.equal(dbrType, req.dataType, `${ch.name}: subscription DBR type`);
    assert.equal(count, req.dataCount, `${ch.name}: subscription count`);
    assert.equal(mask, req.payload.readUInt16BE(12), `${ch.name}: subscription mask`);
    this.subs.push({ ch, subid: req.parameter2, cb });
    return { clear: () => undefined };
  }

  /** Deliver every recorded monitor update, in recorded order. */
  pump(): void {
    for (const m of this.circuit?.server ?? []) {
      if (m.command !== Command.EVENT_ADD) continue;
      const s = this.subs.find((x) => x.subid === m.parameter2);
      if (!s) continue;
      s.cb(m.parameter1, {
        dbrType: m.dataType,
        count: m.dataCount,
        data: decodeDbr(m.dataType, m.dataCount, m.payload),
      });
    }
  }

  onException(cb: (e: ToolException) => void): void {
    this.exceptionCb = cb;
  }

  now(): EpicsTimeStamp {
    return { secPastEpoch: 1164450000, nsec: 0 };
  }

  async close(): Promise<void> {}
}

/** Split a recorded shell command line into words (double and single quotes). */
function shellWords(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

const MAINS: Record<string, (args: readonly string[], io: ToolIO) => Promise<number>> = {
  caget: cagetMain,
  caput: caputMain,
  cainfo: cainfoMain,
  camonitor: camonitorMain,
};

async function runRecorded(
  cmd: TraceCommand,
  circuits: TraceCircuit[],
): Promise<{ stdout: string; stderr: string; code: number; timeout: boolean }> {
  let words = shellWords(cmd.command);
  const env: Record<string, string> = {};
  while (words.length && /^[A-Z_]+=/.test(words[0])) {
    const [k, v] = words[0].split('=');
    env[k] = v;
    words = words.slice(1);
  }
  let timeout = false;
  if (words[0] === 'timeout') {
    timeout = true;
    words = words.slice(2);
  }
  const tool = words[0];
  const circuit = circuits.find(
    (c) => cmd.from !== undefined && cmd.to !== undefined && c.firstTime >= cmd.from && c.firstTime <= cmd.to,
  );
  const backend = new TraceBackend(circuit);
  let stdout = '';
  let stderr = '';
  const ac = new AbortController();
  const io: ToolIO = {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    env,
    backend: () => backend,
    signal: ac.signal,
  };
  const p = MAINS[tool](words.slice(1), io);
  if (tool === 'camonitor') {
    await new Promise((r) => setImmediate(r));
    backend.pump();
    ac.abort();
  }
  const code = await p;
  return { stdout, stderr, code, timeout };
}

const maskTime = (s: string): string => s.replace(/^ {4}Current Time: .*$/gm, '    Current Time: <masked>');

for (const name of traceNames()) {
  const cmds = loadTraceOutput(name).filter((c) =>
    /^(\S+=\S+ )*(timeout \d+ )?ca(get|put|info|monitor) /.test(c.command),
  );
  if (cmds.length === 0) continue;
  test(`golden: ${name}`, async (t) => {
    const circuits = circuitsWithTimes(name);
    for (const cmd of cmds) {
      await t.test(cmd.command, async () => {
        const r = await runRecorded(cmd, circuits);
        assert.equal(r.stdout, cmd.stdout, 'stdout');
        assert.equal(maskTime(r.stderr), maskTime(cmd.stderr), 'stderr');
        if (!r.timeout) assert.equal(r.code, cmd.exit, 'exit status');
      });
    }
  });
}
