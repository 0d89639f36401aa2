/**
 * The catools backend over the tsepics CA client (Context / Channel).
 */
import dns from 'node:dns';
import { ECA } from '../protocol/constants.js';
import type { NativeArray } from '../protocol/values.js';
import type { EpicsTimeStamp } from '../protocol/values.js';
import type { Channel } from '../client/channel.js';
import { Context } from '../client/context.js';
import type { CaException } from '../client/context.js';
import type {
  ToolBackend,
  ToolChannel,
  ToolChannelState,
  ToolException,
  ToolGetResult,
  ToolPutOptions,
  ToolPutResult,
  ToolSubscription,
} from './catools-backend.js';
import { ecaOf, exceptionBlock } from './catools-common.js';
import type { DbrReply } from './format.js';
import { dbrTypeToText, nowStamp } from './format.js';

/** Longest timer Node supports (~24.8 days): a catools timeout of 0 means "wait forever". */
const FOREVER = 2147483;

function seconds(t: number): number {
  return t > 0 && t < FOREVER ? t : FOREVER;
}

/**
 * libca's ca_pend_io: 0 waits forever, but a timeout below its significant delay (1 us, negative
 * ones included) gives up at once (ECA_TIMEOUT) while anything is outstanding.
 */
export function timesOutAtOnce(t: number): boolean {
  return t !== 0 && !(t >= 1e-6);
}

/** How long a caput -c -w 0 waits for a completion that comes back at once (see put). */
const IMMEDIATE_MS = 100;

const MAX_TCP = 16384;
/** caHdr + the two 32-bit words of an extended header, which libca adds to EPICS_CA_MAX_ARRAY_BYTES. */
const MAX_ARRAY_HEADER = 24;

/**
 * What libca (ca_context_create, via envGetLongConfigParam) prints about EPICS_CA_MAX_ARRAY_BYTES:
 * nothing for the default or a value of at least 16384 - 24, else a warning ('' for none).
 */
export function maxArrayBytesNotice(raw: string | undefined): string {
  const notPositive = 'cac: EPICS_CA_MAX_ARRAY_BYTES was not a positive integer\n';
  const text = raw === undefined ? String(MAX_TCP) : raw.slice(0, 127);
  if (text === '') return notPositive; // an empty variable is "not set" without the default
  const m = /^\s*[+-]?\d+/.exec(text); // sscanf("%ld")
  if (!m) return `Unable to find an integer in EPICS_CA_MAX_ARRAY_BYTES=${text}\n${notPositive}`;
  const LONG_MAX = (1n << 63n) - 1n;
  let v = BigInt(m[0].trim()); // glibc's %ld saturates at LONG_MIN / LONG_MAX
  if (v > LONG_MAX) v = LONG_MAX;
  if (v < 0n) return notPositive;
  let maxBytes = Number(BigInt.asUintN(32, v)); // (unsigned) of the long
  maxBytes = maxBytes < 0xffffffff - MAX_ARRAY_HEADER ? maxBytes + MAX_ARRAY_HEADER : 0xffffffff;
  return maxBytes < MAX_TCP ? `cac: EPICS_CA_MAX_ARRAY_BYTES was rounded up to ${MAX_TCP}\n` : '';
}

class CaToolChannel implements ToolChannel {
  everConnected = false;
  resolvedHost?: string;
  constructor(
    readonly ch: Channel | undefined,
    readonly name: string,
    readonly createStatus?: number,
  ) {
    ch?.onConnectionChange((up) => {
      if (up) this.everConnected = true;
    });
    if (ch?.connected) this.everConnected = true;
  }
  get state(): ToolChannelState {
    const s = this.ch?.state ?? 'searching';
    if (s === 'connected') return 'connected';
    if (s === 'closed') return 'closed';
    return this.everConnected ? 'previously connected' : 'never connected';
  }
  get nativeType(): number {
    return this.ch?.nativeType ?? -1;
  }
  get elementCount(): number {
    return this.ch?.elementCount ?? 0;
  }
  get host(): string {
    const h = this.ch?.host ?? '';
    if (!h) return '<disconnected>';
    return this.resolvedHost ?? h;
  }
  get readAccess(): boolean {
    return this.ch?.readAccess ?? false;
  }
  get writeAccess(): boolean {
    return this.ch?.writeAccess ?? false;
  }
}

/** ToolBackend over a private Context (created from the tool's environment). */
export class CaToolBackend implements ToolBackend {
  private readonly ctx: Context;
  private exceptionCb: (e: ToolException) => void;
  private readonly lastPlainPut = new Map<string, { dbrType: number; count: number }>();
  private lastDisconnectNotice = new Map<string, number>();
  private closing = false;

  /**
   * `repeater`: register with (and if needed start) a CA repeater. Long-running tools (camonitor) want
   * beacons for quick reconnects; one-shot tools are done before a repeater would matter.
   */
  constructor(
    env: Readonly<Record<string, string | undefined>>,
    stderr: (s: string) => void,
    opts: { repeater?: boolean } = {},
  ) {
    this.exceptionCb = (e) => stderr(exceptionBlock(e));
    const notice = maxArrayBytesNotice(env.EPICS_CA_MAX_ARRAY_BYTES);
    if (notice) stderr(notice);
    this.ctx = new Context({
      env: env as NodeJS.ProcessEnv,
      repeater: opts.repeater ?? true,
      onException: (e) => this.onCaException(e),
    });
  }

  private onCaException(e: CaException): void {
    let context = e.context;
    let source = '../cac.cpp line 1238';
    if (e.eca === ECA.DBLCHNL) {
      source = '../cac.cpp line 1321';
    } else if (e.eca === ECA.NOSEARCHADDR) {
      source = '../udpiiu.cpp line 402';
    } else if (e.context.startsWith('op=')) {
      source = '../oldChannelNotify.cpp line 159';
    } else if (e.pvname !== undefined && /^put to /.test(e.context)) {
      const p = this.lastPlainPut.get(e.pvname);
      context = `op=1, channel=${e.pvname}, type=${dbrTypeToText(p?.dbrType ?? 0)}, count=${p?.count ?? 1}, ctx="${e.pvname}"`;
      source = '../oldChannelNotify.cpp line 159';
    }
    this.exceptionCb({ eca: e.eca, context, source, time: nowStamp() });
  }

  private make(name: string, priority: number): CaToolChannel {
    try {
      return new CaToolChannel(this.ctx.channel(name, { priority }), name);
    } catch (err) {
      // libca's ca_create_channel answers an empty name with ECA_BADSTR ("Invalid string")
      const eca = ecaOf(err, ECA.BADCHID);
      return new CaToolChannel(undefined, name, eca === ECA.EMPTYSTR ? ECA.BADSTR : eca);
    }
  }

  async connect(names: readonly string[], timeout: number, priority: number): Promise<ToolChannel[]> {
    const chans = names.map((n) => this.make(n, priority));
    if (timesOutAtOnce(timeout)) return chans;
    await Promise.all(chans.map((c) => c.ch?.waitForConnection(seconds(timeout)).catch(() => undefined)));
    return chans;
  }

  create(
    names: readonly string[],
    priority: number,
    onConnection: (ch: ToolChannel, up: boolean) => void,
  ): ToolChannel[] {
    return names.map((n) => {
      const c = this.make(n, priority);
      c.ch?.onConnectionChange((up) => {
        if (this.closing) return;
        if (!up) this.noticeDisconnect(c);
        onConnection(c, up);
      });
      return c;
    });
  }

  /** libca reports a lost circuit once as an exception ("Virtual circuit disconnect"). */
  private noticeDisconnect(c: CaToolChannel): void {
    if (this.closing) return;
    const host = c.ch?.host || c.name;
    const now = Date.now();
    const last = this.lastDisconnectNotice.get(host) ?? 0;
    this.lastDisconnectNotice.set(host, now);
    if (now - last < 1000) return;
    this.exceptionCb({
      eca: ECA.DISCONN,
      context: c.resolvedHost ?? host,
      source: '../cac.cpp line 1238',
      time: nowStamp(),
    });
  }

  /** Reverse-resolve the servers' addresses (cainfo prints "localhost:5064"). */
  async resolveHostNames(chans: readonly ToolChannel[]): Promise<void> {
    await Promise.all(
      chans.map(async (tc) => {
        const c = tc as CaToolChannel;
        const h = c.ch?.host;
        if (!h) return;
        const i = h.lastIndexOf(':');
        const ip = h.slice(0, i);
        const port = h.slice(i + 1);
        const name = await Promise.race([
          dns.promises
            .lookupService(ip, Number(port))
            .then((r) => r.hostname)
            .catch(() => ip),
          new Promise<string>((r) => setTimeout(() => r(ip), 2000).unref()),
        ]);
        c.resolvedHost = `${name}:${port}`;
      }),
    );
  }

  async get(tc: ToolChannel, dbrType: number, count: number, timeout: number): Promise<ToolGetResult> {
    const ch = (tc as CaToolChannel).ch;
    if (!ch || !ch.connected) return { status: ECA.DISCONN };
    try {
      const r = await ch.get({ dbrType, count, timeout: seconds(timeout) });
      return { status: ECA.NORMAL, reply: { dbrType: r.dbrType, count: r.count, data: r } };
    } catch (err) {
      return { status: ecaOf(err, ECA.GETFAIL) };
    }
  }

  async put(
    tc: ToolChannel,
    dbrType: number,
    value: NativeArray,
    opts: ToolPutOptions,
  ): Promise<ToolPutResult> {
    const ch = (tc as CaToolChannel).ch;
    if (!ch || !ch.connected) return { status: ECA.DISCONN };
    if (!ch.writeAccess) return { status: ECA.NOWTACCESS };
    if (!opts.callback) {
      this.lastPlainPut.set(ch.name, { dbrType, count: value.length });
      try {
        await ch.put(value, { dbrType, wait: false, timeout: seconds(opts.timeout) });
        return { status: ECA.NORMAL };
      } catch (err) {
        return { status: ecaOf(err, ECA.PUTFAIL) };
      }
    }
    try {
      const done = ch.put(value, { dbrType, wait: true, timeout: seconds(opts.timeout) });
      if (!(opts.timeout > 0)) {
        // caput -w 0 (or less): ca_pend_io(0) only flushes and epicsEventWaitWithTimeout(0) only
        // tries, so just a completion that comes back at once (a record that completes when
        // processed) is seen; a slower one (ODLY, seq delays) is reported as timed out
        done.catch(() => undefined);
        let timer: NodeJS.Timeout | undefined;
        const tried = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), IMMEDIATE_MS)));
        const first = await Promise.race([done, tried]).finally(() => clearTimeout(timer));
        if (first === 'late') return { status: ECA.NORMAL };
      } else await done;
      return { status: ECA.NORMAL, completion: ECA.NORMAL };
    } catch (err) {
      const eca = ecaOf(err, ECA.PUTFAIL);
      if (eca === ECA.TIMEOUT) return { status: ECA.NORMAL };
      if (eca === ECA.NOWTACCESS || eca === ECA.BADCOUNT || eca === ECA.BADTYPE) return { status: eca };
      return { status: ECA.NORMAL, completion: eca };
    }
  }

  subscribe(
    tc: ToolChannel,
    dbrType: number,
    count: number,
    mask: number,
    cb: (status: number, reply?: DbrReply) => void,
  ): ToolSubscription {
    const ch = (tc as CaToolChannel).ch;
    if (!ch) return { clear: () => undefined };
    let sub: { clear(): void };
    try {
      sub = ch.subscribe({ dbrType, count, mask }, (d) =>
        cb(ECA.NORMAL, { dbrType: d.dbrType, count: d.count, data: d }),
      );
    } catch {
      // ca_create_subscription's status (e.g. ECA_BADMASK for `-m ''`): camonitor ignores it and
      // simply never gets an update
      return { clear: () => undefined };
    }
    return { clear: () => sub.clear() };
  }

  onException(cb: (e: ToolException) => void): void {
    this.exceptionCb = cb;
  }

  now(): EpicsTimeStamp {
    return nowStamp();
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.ctx.close();
  }
}
