/**
 * `tsepics camonitor`: EPICS base's camonitor (same options, output lines, time stamp modes). Runs
 * until `io.signal` is aborted.
 */
import { DBE, ECA } from '../protocol/constants.js';
import type { ToolChannel, ToolIO, ToolSubscription } from './catools-backend.js';
import {
  CA_PRIORITY_MAX,
  DEFAULT_TIMEOUT,
  defaultSettings,
  exceptionBlock,
  optElementCount,
  optOutputBase,
  readerCommonOption,
  requirePvNames,
  timeTypeOf,
} from './catools-common.js';
import { StampTracker, defaultTimeOptions, formatFixed, parseTimeOption, wideLine } from './format.js';
import type { TimeOptions, WideChannelState } from './format.js';
import { getopt, scanUnsigned } from './getopt.js';

export function camonitorUsage(): string {
  return (
    '\nUsage: camonitor [options] <PV name> ...\n\n' +
    '  -h:       Help: Print this message\n' +
    '  -V:       Version: Show EPICS and CA versions\n' +
    'Channel Access options:\n' +
    `  -w <sec>: Wait time, specifies CA timeout, default is ${formatFixed(DEFAULT_TIMEOUT, 6)} second(s)\n` +
    '  -m <msk>: Specify CA event mask to use.  <msk> is any combination of\n' +
    "            'v' (value), 'a' (alarm), 'l' (log/archive), 'p' (property).\n" +
    "            Default event mask is 'va'\n" +
    `  -p <pri>: CA priority (0-${CA_PRIORITY_MAX}, default 0=lowest)\n` +
    'Timestamps:\n' +
    '  Default:  Print absolute timestamps (as reported by CA server)\n' +
    '  -t <key>: Specify timestamp source(s) and type, with <key> containing\n' +
    "            's' = CA server (remote) timestamps\n" +
    "            'c' = CA client (local) timestamps (shown in '()'s)\n" +
    "            'n' = no timestamps\n" +
    "            'r' = relative timestamps (time elapsed since start of program)\n" +
    "            'i' = incremental timestamps (time elapsed since last update)\n" +
    "            'I' = incremental timestamps (time since last update, by channel)\n" +
    "            'r', 'i' or 'I' require 's' or 'c' to select the time source\n" +
    'Enum format:\n' +
    '  -n:       Print DBF_ENUM values as number (default is enum string)\n' +
    'Array values: Print number of elements, then list of values\n' +
    '  Default:  Request and print all elements (dynamic arrays supported)\n' +
    '  -# <num>: Request and print up to <num> elements\n' +
    '  -S:       Print arrays of char as a string (long string)\n' +
    'Floating point format:\n' +
    '  Default:  Use %g format\n' +
    '  -e <num>: Use %e format, with a precision of <num> digits\n' +
    '  -f <num>: Use %f format, with a precision of <num> digits\n' +
    '  -g <num>: Use %g format, with a precision of <num> digits\n' +
    '  -s:       Get value as string (honors server-side precision)\n' +
    '  -lx:      Round to long integer and print as hex number\n' +
    '  -lo:      Round to long integer and print as octal number\n' +
    '  -lb:      Round to long integer and print as binary number\n' +
    'Integer number format:\n' +
    '  Default:  Print as decimal number\n' +
    '  -0x:      Print as hex number\n' +
    '  -0o:      Print as octal number\n' +
    '  -0b:      Print as binary number\n' +
    'Alternate output field separator:\n' +
    '  -F <ofs>: Use <ofs> to separate fields in output\n' +
    '\n' +
    'Example: camonitor -f8 my_channel another_channel\n' +
    '  (doubles are printed as %f with precision of 8)\n\n'
  );
}

/** Parse `-m`: letters v a l p; an invalid letter gives the warning and the default mask. */
export function parseMask(arg: string, warn: (s: string) => void): number {
  let mask = 0;
  for (const c of arg) {
    switch (c) {
      case 'v': mask |= DBE.VALUE; break; // prettier-ignore
      case 'a': mask |= DBE.ALARM; break; // prettier-ignore
      case 'l': mask |= DBE.LOG; break; // prettier-ignore
      case 'p': mask |= DBE.PROPERTY; break; // prettier-ignore
      default:
        warn(`Invalid argument '${arg}' for option '-m' - ignored.\n`);
        return DBE.VALUE | DBE.ALARM;
    }
  }
  return mask;
}

interface MonPv extends WideChannelState {
  ch?: ToolChannel;
  sub?: ToolSubscription;
  dbfType: number;
}

/** Run camonitor with `args` (without the program name); resolves the exit status when aborted. */
export async function camonitorMain(args: readonly string[], io: ToolIO): Promise<number> {
  const st = defaultSettings(io);
  let reqElems = 0;
  let mask = DBE.VALUE | DBE.ALARM;
  let timeOpts: TimeOptions = defaultTimeOptions();
  const { options, operands } = getopt(args, ':nhVm:sSe:f:g:l:#:0:w:t:p:F:', { permute: true });
  for (const o of options) {
    const { opt, arg = '' } = o;
    switch (opt) {
      case 't':
        timeOpts = parseTimeOption(arg, io.stderr);
        break;
      case '#':
        reqElems = optElementCount('camonitor', arg, io, scanUnsigned) ?? 0;
        break;
      case 'm':
        mask = parseMask(arg, io.stderr);
        break;
      case 'l':
      case '0':
        optOutputBase(opt, arg, st, io);
        break;
      default: {
        const stop = readerCommonOption('camonitor', o, st, io, camonitorUsage);
        if (stop !== undefined) return stop;
      }
    }
  }
  const noPv = requirePvNames('camonitor', operands, io);
  if (noPv !== undefined) return noPv;
  const backend = await io.backend();
  backend.onException((e) => io.stderr(exceptionBlock(e)));
  const tracker = new StampTracker(timeOpts, backend.now());
  const pvs: MonPv[] = operands.map((name) => ({ name, onceConnected: false, dbfType: -1 }));
  const byChannel = new Map<ToolChannel, MonPv>();
  let closing = false;
  const print = (pv: MonPv, status: number, reply?: Parameters<typeof wideLine>[2]): void => {
    if (closing) return;
    io.stdout(wideLine(pv, status, reply, reqElems, st.fmt, tracker, backend.now()));
  };
  const onConnection = (ch: ToolChannel, up: boolean): void => {
    const pv = byChannel.get(ch);
    if (!pv) return;
    if (up) {
      if (pv.onceConnected && pv.dbfType !== ch.nativeType && pv.sub) {
        pv.sub.clear();
        pv.sub = undefined;
      }
      if (!pv.sub) {
        pv.onceConnected = true;
        pv.dbfType = ch.nativeType;
        let dbrType = timeTypeOf(ch.nativeType);
        if (ch.nativeType === 3) dbrType = st.fmt.enumAsNr ? 15 : 14;
        else if (st.floatAsString && (ch.nativeType === 2 || ch.nativeType === 6)) dbrType = 14;
        const count = reqElems > ch.elementCount ? ch.elementCount : reqElems;
        pv.sub = backend.subscribe(ch, dbrType, count, mask, (status, reply) => {
          if (status === ECA.NORMAL && reply) print(pv, status, reply);
        });
      }
    } else {
      print(pv, ECA.DISCONN);
    }
  };
  try {
    const chans = backend.create(operands, st.priority, onConnection);
    chans.forEach((ch, i) => {
      pvs[i].ch = ch;
      byChannel.set(ch, pvs[i]);
      if (ch.state === 'connected') onConnection(ch, true);
    });
    // ca_pend_event(timeout): 0 waits forever, so "Not connected" is then never printed
    await sleep(st.timeout === 0 ? Infinity : st.timeout, io.signal);
    if (!io.signal?.aborted) for (const pv of pvs) if (!pv.onceConnected) print(pv, ECA.NORMAL);
    await sleep(Infinity, io.signal);
    return 0;
  } finally {
    closing = true;
    for (const pv of pvs) pv.sub?.clear();
    await backend.close();
  }
}

/** Wait `sec` seconds (Infinity: forever) or until the signal is aborted. */
function sleep(sec: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    let timer: NodeJS.Timeout | undefined;
    const done = (): void => {
      clearTimeout(timer);
      clearInterval(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    // a referenced timer keeps the process alive (the client's sockets are unref'd)
    if (Number.isFinite(sec)) timer = setTimeout(done, Math.max(0, sec * 1000));
    else timer = setInterval(() => undefined, 1 << 30);
    signal?.addEventListener('abort', done, { once: true });
  });
}
