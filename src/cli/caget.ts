/**
 * `tsepics caget`: EPICS base's caget (same options, output, messages and exit codes).
 */
import { ECA } from '../protocol/constants.js';
import type { ToolBackend, ToolChannel, ToolGetResult, ToolIO } from './catools-backend.js';
import {
  CA_PRIORITY_MAX,
  DEFAULT_TIMEOUT,
  connectPvs,
  defaultSettings,
  optElementCount,
  optOutputBase,
  readerCommonOption,
  requirePvNames,
  timeTypeOf,
  exceptionBlock,
  zeroReply,
} from './catools-common.js';
import type { CommonSettings } from './catools-common.js';
import {
  StampTracker,
  dbrBlock,
  dbrTextToType,
  dbrTypeToText,
  formatFixed,
  plainLine,
  wideLine,
} from './format.js';
import { getopt, scanInt } from './getopt.js';

type OutputT = 'plain' | 'terse' | 'all' | 'specifiedDbr';

export function cagetUsage(): string {
  return (
    '\nUsage: caget [options] <PV name> ...\n\n' +
    '  -h: Help: Print this message\n' +
    '  -V: Version: Show EPICS and CA versions\n' +
    'Channel Access options:\n' +
    `  -w <sec>: Wait time, specifies CA timeout, default is ${formatFixed(DEFAULT_TIMEOUT, 6)} second(s)\n` +
    '  -c: Asynchronous get (use ca_get_callback and wait for completion)\n' +
    `  -p <prio>: CA priority (0-${CA_PRIORITY_MAX}, default 0=lowest)\n` +
    'Format options:\n' +
    '      Default output format is "name value"\n' +
    '  -t: Terse mode - print only value, without name\n' +
    '  -a: Wide mode "name timestamp value stat sevr" (read PVs as DBR_TIME_xxx)\n' +
    '  -d <type>: Request specific dbr type; use string (DBR_ prefix may be omitted)\n' +
    '      or number of one of the following types:\n' +
    ' DBR_STRING     0  DBR_STS_FLOAT    9  DBR_TIME_LONG   19  DBR_CTRL_SHORT    29\n' +
    ' DBR_INT        1  DBR_STS_ENUM    10  DBR_TIME_DOUBLE 20  DBR_CTRL_INT      29\n' +
    ' DBR_SHORT      1  DBR_STS_CHAR    11  DBR_GR_STRING   21  DBR_CTRL_FLOAT    30\n' +
    ' DBR_FLOAT      2  DBR_STS_LONG    12  DBR_GR_SHORT    22  DBR_CTRL_ENUM     31\n' +
    ' DBR_ENUM       3  DBR_STS_DOUBLE  13  DBR_GR_INT      22  DBR_CTRL_CHAR     32\n' +
    ' DBR_CHAR       4  DBR_TIME_STRING 14  DBR_GR_FLOAT    23  DBR_CTRL_LONG     33\n' +
    ' DBR_LONG       5  DBR_TIME_INT    15  DBR_GR_ENUM     24  DBR_CTRL_DOUBLE   34\n' +
    ' DBR_DOUBLE     6  DBR_TIME_SHORT  15  DBR_GR_CHAR     25  DBR_STSACK_STRING 37\n' +
    ' DBR_STS_STRING 7  DBR_TIME_FLOAT  16  DBR_GR_LONG     26  DBR_CLASS_NAME    38\n' +
    ' DBR_STS_SHORT  8  DBR_TIME_ENUM   17  DBR_GR_DOUBLE   27\n' +
    ' DBR_STS_INT    8  DBR_TIME_CHAR   18  DBR_CTRL_STRING 28\n' +
    'Enum format:\n' +
    '  -n: Print DBF_ENUM value as number (default is enum string)\n' +
    'Arrays: Value format: print number of requested values, then list of values\n' +
    '  Default:    Print all values\n' +
    '  -# <count>: Print first <count> elements of an array\n' +
    '  -S:         Print array of char as a string (long string)\n' +
    'Floating point type format:\n' +
    '  Default: Use %g format\n' +
    '  -e <nr>: Use %e format, with a precision of <nr> digits\n' +
    '  -f <nr>: Use %f format, with a precision of <nr> digits\n' +
    '  -g <nr>: Use %g format, with a precision of <nr> digits\n' +
    '  -s:      Get value as string (honors server-side precision)\n' +
    '  -lx:     Round to long integer and print as hex number\n' +
    '  -lo:     Round to long integer and print as octal number\n' +
    '  -lb:     Round to long integer and print as binary number\n' +
    'Integer number format:\n' +
    '  Default: Print as decimal number\n' +
    '  -0x: Print as hex number\n' +
    '  -0o: Print as octal number\n' +
    '  -0b: Print as binary number\n' +
    'Alternate output field separator:\n' +
    '  -F <ofs>: Use <ofs> as an alternate output field separator\n' +
    '\nExample: caget -a -f8 my_channel another_channel\n' +
    '  (uses wide output format, doubles are printed as %f with precision of 8)\n\n'
  );
}

/** Parse a `-d` argument: a number, a DBR_ name, or a name without the DBR_ prefix; -1 if unknown. */
export function parseDbrTypeArg(arg: string): number {
  const n = scanInt(arg);
  if (n !== undefined) return n;
  let t = dbrTextToType(arg);
  if (t === -1) t = dbrTextToType('DBR_' + arg.slice(0, 25));
  return t;
}

/** Run caget with `args` (without the program name); resolves the exit status. */
export async function cagetMain(args: readonly string[], io: ToolIO): Promise<number> {
  const st = defaultSettings(io);
  let format: OutputT = 'plain';
  let callback = false;
  let count = 0;
  let type = -1;
  const setFormat = (f: OutputT): void => {
    // complainIfNotPlainAndSet: complain, then the later option wins
    if (format !== 'plain') io.stderr("Options t,d,a are mutually exclusive. ('caget -h' for help.)\n");
    format = f;
  };
  const { options, operands } = getopt(args, ':taicnhsSVe:f:g:l:#:d:0:w:p:F:', { permute: true });
  for (const o of options) {
    const { opt, arg = '' } = o;
    switch (opt) {
      case 't':
        setFormat('terse');
        break;
      case 'a':
        setFormat('all');
        break;
      case 'c':
        callback = true;
        break;
      case 'd': {
        setFormat('specifiedDbr');
        type = parseDbrTypeArg(arg);
        if (type < 0 || type > 38 || type === 35 || type === 36) {
          io.stderr("Requested dbr type out of range or invalid - ignored. ('caget -h' for help.)\n");
          format = 'plain';
        }
        break;
      }
      case '#':
        count = optElementCount('caget', arg, io) ?? 0;
        break;
      case 'l':
      case '0':
        if (optOutputBase(opt, arg, st, io) && opt === '0') type = 5; // DBR_LONG
        break;
      default: {
        const stop = readerCommonOption('caget', o, st, io, cagetUsage);
        if (stop !== undefined) return stop;
      }
    }
  }
  const noPv = requirePvNames('caget', operands, io);
  if (noPv !== undefined) return noPv;
  const backend = await io.backend();
  try {
    const chans = await connectPvs(backend, operands, st, io);
    if (!chans) return 1;
    return await caget(backend, chans, format, callback, type, count, st, io);
  } finally {
    await backend.close();
  }
}

interface PvData {
  ch: ToolChannel;
  dbrType: number;
  nElems: number;
  reqElems: number;
  res?: ToolGetResult;
}

async function caget(
  backend: ToolBackend,
  chans: ToolChannel[],
  format: OutputT,
  callback: boolean,
  dbrTypeArg: number,
  reqElems: number,
  st: CommonSettings,
  io: ToolIO,
): Promise<number> {
  const pvs: PvData[] = chans.map((ch) => {
    const native = ch.nativeType;
    let dbrType = dbrTypeArg;
    if (format !== 'specifiedDbr') {
      dbrType = timeTypeOf(native);
      if (native === 3) dbrType = st.fmt.enumAsNr ? 15 : 14;
      else if (st.floatAsString && (native === 2 || native === 6)) dbrType = 14;
    }
    const nElems = ch.elementCount;
    return {
      ch,
      dbrType,
      // a negative -# still selects the array format (as C caget), but reads all elements
      nElems: callback ? 0 : reqElems > 0 && reqElems < nElems ? reqElems : nElems,
      reqElems: callback ? (reqElems > nElems ? nElems : Math.max(0, reqElems)) : 0,
    };
  });
  // issue every read, then wait for all (ca_pend_io)
  const results = await Promise.all(
    pvs.map((p) => {
      if (p.ch.state !== 'connected') return Promise.resolve<ToolGetResult>({ status: ECA.DISCONN });
      return backend.get(p.ch, p.dbrType, callback ? p.reqElems : p.nElems, st.timeout);
    }),
  );
  let timedOut = false;
  pvs.forEach((p, i) => {
    const r = results[i];
    if (r.status === ECA.TIMEOUT) {
      timedOut = true;
      // a plain ca_array_get leaves the zero-filled buffer; a callback get has no data
      p.res = callback
        ? { status: ECA.NORMAL }
        : { status: ECA.NORMAL, reply: zeroReply(p.dbrType, p.nElems) };
    } else if (callback && r.status !== ECA.NORMAL && r.status !== ECA.DISCONN) {
      // the callback reports the error, but the read never counts as done
      timedOut = true;
      p.res = r;
    } else if (!callback && r.status !== ECA.NORMAL && r.status !== ECA.DISCONN) {
      // libca: a failed plain ca_array_get goes to the exception handler and never completes,
      // so ca_pend_io times out and caget prints the zero-filled buffer
      timedOut = true;
      io.stderr(
        exceptionBlock({
          eca: r.status,
          context: `op=0, channel=${p.ch.name}, type=${dbrTypeToText(p.dbrType)}, count=${p.nElems}, ctx="read failed"`,
          source: '../getCopy.cpp line 91',
          time: backend.now(),
        }),
      );
      p.res = { status: ECA.NORMAL, reply: zeroReply(p.dbrType, p.nElems) };
    } else {
      p.res = r;
      if (callback && r.reply) p.nElems = r.reply.count;
    }
  });
  if (timedOut) io.stderr('Read operation timed out: some PV data was not read.\n');
  const tracker = new StampTracker();
  let out = '';
  for (const p of pvs) {
    const res = p.res!;
    switch (format) {
      case 'plain':
      case 'terse':
        out += plainLine(p.ch.name, res.status, res.reply, p.nElems, reqElems, st.fmt, format === 'terse');
        break;
      case 'all':
        out += wideLine(
          { name: p.ch.name, onceConnected: true, nElems: p.nElems },
          res.status,
          res.reply,
          reqElems,
          st.fmt,
          tracker,
          backend.now(),
        );
        break;
      case 'specifiedDbr':
        out += dbrBlock(p.ch.name, p.ch.nativeType, res.status, res.reply, reqElems, st.fmt);
        break;
    }
    if (out.length > 1 << 16) {
      io.stdout(out);
      out = '';
    }
  }
  if (out) io.stdout(out);
  return 0;
}
