/**
 * Pieces shared by the catools: the timeout from EPICS_CLI_TIMEOUT, the option handlers every tool
 * has (-w -p -F -e -f -g -l -0 -n -S -s), connect_pvs' messages, the CA.Client.Exception block, and
 * the zero-filled reply a C caget prints when a plain read timed out.
 */
import { ECA, ecaMessage } from '../protocol/constants.js';
import type { NativeType } from '../protocol/constants.js';
import { allocNative } from '../protocol/values.js';
import type { EpicsTimeStamp } from '../protocol/values.js';
import { EPICS_EPOCH_OFFSET } from '../protocol/constants.js';
import type { ToolBackend, ToolChannel, ToolException, ToolIO } from './catools-backend.js';
import { VERSION_TEXT, defaultToolFormat, formatFixed } from './format.js';
import type { DbrReply, IntFormat, ToolFormat } from './format.js';
import { scanDouble, scanInt, scanUnsigned } from './getopt.js';

export const DEFAULT_TIMEOUT = 1.0;
export const CA_PRIORITY_MAX = 99;
/** Max usable precision for -e/-f/-g. */
export const VALID_DOUBLE_DIGITS = 18;

/** use_ca_timeout_env: EPICS_CLI_TIMEOUT or the default (with the catools' warning when invalid). */
export function timeoutFromEnv(io: ToolIO): number {
  const s = io.env.EPICS_CLI_TIMEOUT;
  if (s === undefined) return DEFAULT_TIMEOUT;
  const v = scanDouble(s);
  if (v === undefined) {
    io.stderr(
      `'${s}' is not a valid timeout value (from 'EPICS_CLI_TIMEOUT' in the environment) - ignored. (use '-h' for help.)\n`,
    );
    return DEFAULT_TIMEOUT;
  }
  return v;
}

/** Mutable settings the common options change. */
export interface CommonSettings {
  timeout: number;
  priority: number;
  fmt: ToolFormat;
  /** -s: floats read as DBR_STRING (caget/camonitor). */
  floatAsString: boolean;
}

/** The settings a tool starts with: timeout from EPICS_CLI_TIMEOUT, priority 0, default formats. */
export function defaultSettings(io: ToolIO): CommonSettings {
  return { timeout: timeoutFromEnv(io), priority: 0, fmt: defaultToolFormat(), floatAsString: false };
}

/** -w: a new timeout, or the catools' warning. */
export function optTimeout(tool: string, arg: string, st: CommonSettings, io: ToolIO): void {
  const v = scanDouble(arg);
  if (v === undefined) {
    io.stderr(
      `'${arg}' is not a valid timeout value - ignored, using '${formatFixed(st.timeout, 1)}'. ('${tool} -h' for help.)\n`,
    );
  } else {
    st.timeout = v;
  }
}

/** -p: CA priority 0..99. */
export function optPriority(tool: string, arg: string, st: CommonSettings, io: ToolIO): void {
  const v = scanUnsigned(arg);
  if (v === undefined) {
    io.stderr(`'${arg}' is not a valid CA priority - ignored. ('${tool} -h' for help.)\n`);
    st.priority = 0;
  } else {
    st.priority = v;
  }
  if (st.priority > CA_PRIORITY_MAX) st.priority = CA_PRIORITY_MAX;
}

/** -e/-f/-g <digits>. */
export function optFloatFormat(opt: 'e' | 'f' | 'g', arg: string, st: CommonSettings, io: ToolIO): void {
  const digits = scanInt(arg);
  if (digits === undefined) {
    io.stderr(`Invalid precision argument '${arg}' for option '-${opt}' - ignored.\n`);
  } else if (digits >= 0 && digits <= VALID_DOUBLE_DIGITS) {
    st.fmt.dbl = { conv: opt, prec: digits, left: true };
  } else {
    io.stderr(`Precision ${digits} for option '-${opt}' out of range - ignored.\n`);
  }
}

/** -l / -0 <x|o|b>: returns the base or 'dec' when invalid (after the warning). */
export function optIntFormat(opt: 'l' | '0', arg: string, io: ToolIO): IntFormat {
  switch (arg[0]) {
    case 'x':
      return 'hex';
    case 'b':
      return 'bin';
    case 'o':
      return 'oct';
    default:
      io.stderr(`Invalid argument '${arg}' for option '-${opt}' - ignored.\n`);
      return 'dec';
  }
}

/** -l / -0 <x|o|b>: the output base of floats (-l) or integers (-0); true when one was set. */
export function optOutputBase(opt: 'l' | '0', arg: string, st: CommonSettings, io: ToolIO): boolean {
  const t = optIntFormat(opt, arg, io);
  if (t === 'dec') return false;
  if (opt === '0') st.fmt.outTypeI = t;
  else st.fmt.outTypeF = t;
  return true;
}

/** -F <c>: the separator is the first character (a NUL byte for an empty argument, as printf %c prints it). */
export function optSeparator(arg: string, st: CommonSettings): void {
  st.fmt.sep = arg.length > 0 ? arg[0] : '\0';
}

/** The message for an unknown option or a missing argument. */
export function optionError(tool: string, kind: '?' | ':', c: string): string {
  return kind === '?'
    ? `Unrecognized option: '-${c}'. ('${tool} -h' for help.)\n`
    : `Option '-${c}' requires an argument. ('${tool} -h' for help.)\n`;
}

/** An option as getopt returns it. */
export interface ToolOption {
  opt: string;
  arg?: string;
  optopt?: string;
}

/**
 * The options every catool handles alike, for the `default:` of a tool's option switch: -h (usage,
 * exit 0), -V (version, exit 0), -w, -p, -F, -e/-f/-g, getopt's unknown-option / missing-argument
 * errors (exit 1), and any other option (usage, exit 1). Returns the exit status when the tool
 * should stop, else undefined. (A tool whose getopt string lacks an option never sees it here.)
 */
export function commonOption(
  tool: string,
  o: ToolOption,
  st: CommonSettings,
  io: ToolIO,
  usage: () => string,
): number | undefined {
  const { opt, arg = '', optopt = '' } = o;
  switch (opt) {
    case 'h':
      io.stderr(usage());
      return 0;
    case 'V':
      io.stdout(VERSION_TEXT);
      return 0;
    case 'w':
      optTimeout(tool, arg, st, io);
      return undefined;
    case 'p':
      optPriority(tool, arg, st, io);
      return undefined;
    case 'F':
      optSeparator(arg, st);
      return undefined;
    case 'e':
    case 'f':
    case 'g':
      optFloatFormat(opt, arg, st, io);
      return undefined;
    case '?':
    case ':':
      io.stderr(optionError(tool, opt, optopt));
      return 1;
    default:
      io.stderr(usage());
      return 1;
  }
}

/** -# <count>: the element count, or undefined after the catools' warning when `arg` is not one. */
export function optElementCount(
  tool: string,
  arg: string,
  io: ToolIO,
  scan: (s: string) => number | undefined = scanInt,
): number | undefined {
  const n = scan(arg);
  if (n === undefined) {
    io.stderr(`'${arg}' is not a valid array element count - ignored. ('${tool} -h' for help.)\n`);
  }
  return n;
}

/** -n, -s, -S as the reading tools (caget, camonitor) have them. Returns false for other options. */
export function readerOption(opt: string, st: CommonSettings): boolean {
  switch (opt) {
    case 'n':
      st.fmt.enumAsNr = true;
      return true;
    case 's':
      st.floatAsString = true;
      return true;
    case 'S':
      st.fmt.charArrAsStr = true;
      return true;
  }
  return false;
}

/**
 * The `default:` of a reading tool's (caget, camonitor) option switch: -n, -s, -S (readerOption),
 * else commonOption. Returns the exit status when the tool should stop, else undefined.
 */
export function readerCommonOption(
  tool: string,
  o: ToolOption,
  st: CommonSettings,
  io: ToolIO,
  usage: () => string,
): number | undefined {
  return readerOption(o.opt, st) ? undefined : commonOption(tool, o, st, io, usage);
}

/** "No pv name specified" (exit status 1) when there are no operands, else undefined. */
export function requirePvNames(tool: string, operands: readonly string[], io: ToolIO): number | undefined {
  if (operands.length >= 1) return undefined;
  io.stderr(`No pv name specified. ('${tool} -h' for help.)\n`);
  return 1;
}

/**
 * connect_pvs: create and wait. Returns the channels, or undefined after printing the catools'
 * "Channel connect timed out" message when any did not connect.
 */
export async function connectPvs(
  backend: ToolBackend,
  names: readonly string[],
  st: CommonSettings,
  io: ToolIO,
): Promise<ToolChannel[] | undefined> {
  const chans = await backend.connect(names, st.timeout, st.priority);
  const bad = chans.filter((c) => c.createStatus !== undefined);
  for (const c of bad) {
    io.stderr(
      `CA error ${ecaMessage(c.createStatus!)} occurred while trying to create channel '${c.name}'.\n`,
    );
  }
  if (bad.length) return undefined;
  if (chans.some((c) => c.state !== 'connected')) {
    if (names.length > 1) io.stderr('Channel connect timed out: some PV(s) not found.\n');
    else io.stderr(`Channel connect timed out: '${names[0]}' not found.\n`);
    return undefined;
  }
  return chans;
}

/** DBR_TIME_xxx of a native type (dbf_type_to_DBR_TIME). */
export function timeTypeOf(native: number): number {
  return native + 14;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `%a %b %d %Y %H:%M:%S.%09f` (local time) as libca prints "Current Time:". */
export function exceptionTime(ts: EpicsTimeStamp): string {
  const d = new Date((ts.secPastEpoch + EPICS_EPOCH_OFFSET) * 1000);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return (
    `${WEEKDAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${p2(d.getDate())} ${d.getFullYear()} ` +
    `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${String(ts.nsec).padStart(9, '0')}`
  );
}

/** The block libca's default exception handler prints on stderr. */
export function exceptionBlock(e: ToolException): string {
  return (
    'CA.Client.Exception...............................................\n' +
    `    Warning: "${ecaMessage(e.eca)}"\n` +
    `    Context: "${e.context}"\n` +
    `    Source File: ${e.source}\n` +
    `    Current Time: ${exceptionTime(e.time)}\n` +
    '..................................................................\n'
  );
}

/** A zero-filled reply (what a C tool prints from its calloc'd buffer when a plain read timed out). */
export function zeroReply(dbrType: number, count: number): DbrReply {
  const vt = (
    dbrType === 37 || dbrType === 38 ? 0 : dbrType === 35 || dbrType === 36 ? 3 : dbrType % 7
  ) as NativeType;
  const data: DbrReply['data'] = { value: allocNative(vt, count), status: 0, severity: 0 };
  if (dbrType >= 14 && dbrType <= 20) data.stamp = { secPastEpoch: 0, nsec: 0 };
  if (dbrType >= 21 && dbrType <= 34 && vt === 3) data.enumStrs = [];
  return { dbrType, count, data };
}

/** ECA status of a rejected operation (errors carry `.eca`), default ECA_INTERNAL-ish GETFAIL. */
export function ecaOf(err: unknown, dflt: number = ECA.GETFAIL): number {
  if (err && typeof err === 'object' && 'eca' in err && typeof (err as { eca: unknown }).eca === 'number') {
    return (err as { eca: number }).eca;
  }
  return dflt;
}
