/**
 * `tsepics caput`: EPICS base's caput (same options, value conversions, output, messages and exit codes).
 */
import { ECA, ecaMessage } from '../protocol/constants.js';
import type { NativeArray } from '../protocol/values.js';
import type { ToolBackend, ToolChannel, ToolIO } from './catools-backend.js';
import {
  CA_PRIORITY_MAX,
  DEFAULT_TIMEOUT,
  commonOption,
  connectPvs,
  defaultSettings,
  exceptionBlock,
  optElementCount,
  requirePvNames,
  timeTypeOf,
  zeroReply,
} from './catools-common.js';
import type { CommonSettings } from './catools-common.js';
import {
  ERROR_WORD,
  StampTracker,
  dbrTypeToText,
  formatFixed,
  plainLine,
  unescapeToBytes,
  wideLine,
} from './format.js';
import { getopt, strtod } from './getopt.js';

type OutputT = 'plain' | 'terse' | 'all';

const MAX_STRING_SIZE = 40;

export function caputUsage(): string {
  return (
    '\nUsage: caput [options] <PV name> <PV value> ...\n' +
    '       caput -a [options] <PV name> <no of values> <PV value> ...\n\n' +
    '  -h: Help: Print this message\n' +
    '  -V: Version: Show EPICS and CA versions\n' +
    'Channel Access options:\n' +
    `  -w <sec>:  Wait time, specifies CA timeout, default is ${formatFixed(DEFAULT_TIMEOUT, 6)} second(s)\n` +
    '  -c: Asynchronous put (use ca_put_callback and wait for completion)\n' +
    `  -p <prio>: CA priority (0-${CA_PRIORITY_MAX}, default 0=lowest)\n` +
    'Format options:\n' +
    '  -t: Terse mode - print only sucessfully written value, without name\n' +
    '  -l: Long mode "name timestamp value stat sevr" (read PVs as DBR_TIME_xxx)\n' +
    'Enum format:\n' +
    '  Default: Auto - try value as ENUM string, then as index number\n' +
    '  -n: Force interpretation of values as numbers\n' +
    '  -s: Force interpretation of values as strings\n' +
    'Arrays:\n' +
    '  Default: Put scalar\n' +
    '      Value format: all value arguments concatenated with spaces\n' +
    '  -S: Put string as an array of chars (long string)\n' +
    '  -a: Put array\n' +
    '      Value format: number of values, then list of values\n' +
    'Alternate output field separator:\n' +
    '  -F <ofs>: Use <ofs> as an alternate output field separator\n' +
    '\nExample: caput my_channel 1.2\n' +
    '  (puts 1.2 to my_channel)\n\n'
  );
}

/** A command-line value as caput stores it in a 40-byte EPICS string: escapes decoded, at most 39 bytes. */
export function epicsStringFromArg(arg: string): string {
  let b = unescapeToBytes(arg);
  const z = b.indexOf(0);
  if (z >= 0) b = b.subarray(0, z);
  if (b.length > MAX_STRING_SIZE - 1) b = b.subarray(0, MAX_STRING_SIZE - 1);
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('utf8');
}

/** Run caput with `args` (without the program name); resolves the exit status. */
export async function caputMain(args: readonly string[], io: ToolIO): Promise<number> {
  const st = defaultSettings(io);
  let format: OutputT = 'plain';
  let callback = false;
  let isArray = false;
  let enumAsString = false;
  const { options, operands } = getopt(args, ':cnlhatsVS#:w:p:F:', { permute: false });
  for (const o of options) {
    const { opt, arg = '' } = o;
    switch (opt) {
      case 'n':
        st.fmt.enumAsNr = true;
        enumAsString = false;
        break;
      case 's':
        enumAsString = true;
        st.fmt.enumAsNr = false;
        break;
      case 'S':
        st.fmt.charArrAsStr = true;
        isArray = false;
        break;
      case 't':
        format = 'terse';
        break;
      case 'l':
        format = 'all';
        break;
      case 'a':
        isArray = true;
        st.fmt.charArrAsStr = false;
        break;
      case 'c':
        callback = true;
        break;
      case '#':
        optElementCount('caput', arg, io);
        break;
      default: {
        const stop = commonOption('caput', o, st, io, caputUsage);
        if (stop !== undefined) return stop;
      }
    }
  }
  const noPv = requirePvNames('caput', operands, io);
  if (noPv !== undefined) return noPv;
  if (operands.length === 1) {
    io.stderr("No value specified. ('caput -h' for help.)\n");
    return 1;
  }
  const backend = await io.backend();
  backend.onException((e) => io.stderr(exceptionBlock(e)));
  try {
    const chans = await connectPvs(backend, [operands[0]], st, io);
    if (!chans) return 1;
    return await caput(
      backend,
      chans[0],
      operands.slice(1),
      { format, callback, isArray, enumAsString },
      st,
      io,
    );
  } finally {
    await backend.close();
  }
}

interface CaputFlags {
  format: OutputT;
  callback: boolean;
  isArray: boolean;
  enumAsString: boolean;
}

async function caput(
  backend: ToolBackend,
  ch: ToolChannel,
  valueArgs: string[],
  flags: CaputFlags,
  st: CommonSettings,
  io: ToolIO,
): Promise<number> {
  // the values: -a skips the element count and uses every remaining argument; otherwise one string
  const values = flags.isArray ? valueArgs.slice(1) : [valueArgs.join(' ')];
  const count = values.length;
  let dbrType = 0;
  let payload: NativeArray;
  if (ch.nativeType === 3) {
    const gr = await backend.get(ch, 24, 1, st.timeout);
    if (gr.status === ECA.TIMEOUT) {
      io.stderr('Read operation timed out: ENUM data was not read.\n');
      return 1;
    }
    const strs = gr.reply?.data.enumStrs ?? [];
    const dbuf = new Float64Array(count);
    const sbuf: string[] = new Array<string>(count).fill('');
    if (st.fmt.enumAsNr) {
      for (let i = 0; i < count; i++) {
        const r = strtod(values[i]);
        if (r.end === 0) {
          io.stderr(`Enum index value '${values[i]}' is not a number.\n`);
          return 1;
        }
        dbuf[i] = r.value;
        if (dbuf[i] >= strs.length) io.stderr(`Warning: enum index value '${values[i]}' may be too large.\n`);
      }
      dbrType = 6;
    } else {
      for (let i = 0; i < count; i++) {
        sbuf[i] = epicsStringFromArg(values[i]);
        dbrType = 0;
        if (strs.indexOf(sbuf[i]) < 0) {
          const r = strtod(sbuf[i]);
          if (r.end === 0 || flags.enumAsString) {
            io.stderr(`Enum string value '${sbuf[i]}' invalid.\n`);
            return 1;
          }
          dbuf[i] = r.value;
          if (dbuf[i] >= strs.length) io.stderr(`Warning: enum index value '${sbuf[i]}' may be too large.\n`);
          dbrType = 6;
        }
      }
    }
    payload = dbrType === 6 ? dbuf : sbuf;
  } else if (st.fmt.charArrAsStr) {
    dbrType = 4;
    const raw = unescapeToBytes(values[0]);
    const bytes = new Uint8Array(raw.length + 1);
    bytes.set(raw);
    payload = bytes;
  } else {
    dbrType = 0;
    payload = values.map(epicsStringFromArg);
  }

  // old value
  if (flags.format !== 'terse') {
    io.stdout('Old : ');
    await readAndPrint(backend, ch, flags.format, st, io);
  }

  // write
  const res = await backend.put(ch, dbrType, payload, { callback: flags.callback, timeout: st.timeout });
  if (res.status === ECA.TIMEOUT) {
    io.stderr('Write operation timed out: Data was not written.\n');
    return 1;
  }
  if (res.status !== ECA.NORMAL) {
    io.stderr(`${ERROR_WORD} from put operation: ${ecaMessage(res.status)}\n`);
    return 1;
  }
  if (flags.callback) {
    if (res.completion === undefined) io.stderr('Write callback operation timed out\n');
    else if (res.completion !== ECA.NORMAL) {
      io.stderr(`${ERROR_WORD} occured writing data: ${ecaMessage(res.completion)}\n`);
      return 1;
    }
  }

  // new value
  if (flags.format !== 'terse') io.stdout('New : ');
  await readAndPrint(backend, ch, flags.format, st, io);
  return 0;
}

/** caput's own caget: DBR_TIME of the native type (enums as strings, or numbers with -n), native count. */
async function readAndPrint(
  backend: ToolBackend,
  ch: ToolChannel,
  format: OutputT,
  st: CommonSettings,
  io: ToolIO,
): Promise<void> {
  let dbrType = timeTypeOf(ch.nativeType);
  if (ch.nativeType === 3) dbrType = st.fmt.enumAsNr ? 15 : 14;
  const reqElems = ch.elementCount;
  let status: number = ECA.DISCONN;
  let reply;
  if (ch.state === 'connected') {
    const r = await backend.get(ch, dbrType, reqElems, st.timeout);
    if (r.status !== ECA.NORMAL && r.status !== ECA.DISCONN) {
      // libca: a failed plain ca_array_get goes to the exception handler and never completes
      if (r.status !== ECA.TIMEOUT)
        io.stderr(
          exceptionBlock({
            eca: r.status,
            context: `op=0, channel=${ch.name}, type=${dbrTypeToText(dbrType)}, count=${reqElems}, ctx="read failed"`,
            source: '../getCopy.cpp line 91',
            time: backend.now(),
          }),
        );
      io.stderr('Read operation timed out: PV data was not read.\n');
      status = ECA.NORMAL;
      reply = zeroReply(dbrType, reqElems);
    } else {
      status = r.status;
      reply = r.reply;
    }
  }
  if (format === 'all') {
    io.stdout(
      wideLine(
        { name: ch.name, onceConnected: true, nElems: reqElems },
        status,
        reply,
        0,
        st.fmt,
        new StampTracker(),
        backend.now(),
      ),
    );
  } else {
    io.stdout(plainLine(ch.name, status, reply, reqElems, 0, st.fmt, format === 'terse', reqElems));
  }
}
