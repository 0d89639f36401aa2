/**
 * catools output formatting as pure functions: value to text (val2str), the `-d` metadata blocks
 * (dbr2str), the wide "name timestamp value stat sevr" line, camonitor time stamp modes, cainfo and
 * EPICS time stamp text (string escaping: escapes.ts). Byte-identical to EPICS base's caget/caput/camonitor/cainfo.
 */
import {
  ALARM_STATUS_NAMES,
  DBR_TYPE_NAMES,
  EPICS_EPOCH_OFFSET,
  ECA,
  LAST_DBR_TYPE,
  MAX_ENUM_STATES,
  NATIVE_TYPE_NAMES,
  SEVERITY_NAMES,
  ecaMessage,
} from '../protocol/constants.js';
import type { DbrData, EpicsTimeStamp } from '../protocol/values.js';
import { formatDouble, formatFixed, formatGeneral, formatNanSigned } from '../protocol/printf.js';
import type { DoubleFormat } from '../protocol/printf.js';

export { formatDouble, formatExp, formatFixed, formatGeneral } from '../protocol/printf.js';
import { escapeBytes, escapeString } from './escapes.js';
export { escapeBytes, escapeString, unescapeToBytes } from './escapes.js';
export type { DoubleFormat } from '../protocol/printf.js';

/** Integer output base for `-0x/-0o/-0b` (integers) and `-lx/-lo/-lb` (rounded floats). */
export type IntFormat = 'dec' | 'bin' | 'oct' | 'hex';

/** The formatting state the catools keep in globals (tool_lib.c). */
export interface ToolFormat {
  /** `%g` by default; `-e/-f/-g <n>` give `%-.<n>e|f|g`. */
  dbl: DoubleFormat;
  outTypeI: IntFormat;
  outTypeF: IntFormat;
  /** One character; a space by default (`-F`). */
  sep: string;
  /** `-n`: enums as numbers. */
  enumAsNr: boolean;
  /** `-S`: char arrays as strings. */
  charArrAsStr: boolean;
}

export function defaultToolFormat(): ToolFormat {
  return {
    dbl: { conv: 'g', prec: 6 },
    outTypeI: 'dec',
    outTypeF: 'dec',
    sep: ' ',
    enumAsNr: false,
    charArrAsStr: false,
  };
}

/** A DBR reply as a catool sees it: the request type, the element count and the decoded structure. */
export interface DbrReply {
  dbrType: number;
  count: number;
  data: DbrData;
}

// ---------------------------------------------------------------------------------------------
// Time stamps

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/**
 * `%Y-%m-%d %H:%M:%S.%06f` of an EPICS time stamp in local time (TZ honoured); `<undefined>` for
 * the zero stamp.
 */
export function formatStamp(ts: EpicsTimeStamp | undefined): string {
  if (!ts || (ts.secPastEpoch === 0 && ts.nsec === 0)) return '<undefined>';
  return formatUnixTime(ts.secPastEpoch + EPICS_EPOCH_OFFSET, ts.nsec);
}

/** `%Y-%m-%d %H:%M:%S.%06f` for Unix seconds (integer) and nanoseconds, local time. */
export function formatUnixTime(sec: number, nsec: number): string {
  let us = Math.floor((nsec + 500) / 1000);
  if (us > 999999) us = 999999;
  const d = new Date(sec * 1000);
  return (
    `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${String(us).padStart(6, '0')}`
  );
}

/** The current time as an EPICS time stamp. */
export function nowStamp(): EpicsTimeStamp {
  const ms = performance.timeOrigin + performance.now(); // wall clock with sub-millisecond digits
  const sec = Math.floor(ms / 1000);
  return {
    secPastEpoch: sec - EPICS_EPOCH_OFFSET,
    nsec: Math.min(999999999, Math.round((ms - sec * 1000) * 1e6)),
  };
}

function stampDiff(a: EpicsTimeStamp, b: EpicsTimeStamp): number {
  return a.secPastEpoch - b.secPastEpoch + (a.nsec - b.nsec) / 1e9;
}

// ---------------------------------------------------------------------------------------------
// Names of types, alarms

export function statToStr(s: number | undefined): string {
  const v = s ?? 0;
  return v >= 0 && v < ALARM_STATUS_NAMES.length ? ALARM_STATUS_NAMES[v] : '??';
}

export function sevrToStr(s: number | undefined): string {
  const v = s ?? 0;
  return v >= 0 && v < SEVERITY_NAMES.length ? SEVERITY_NAMES[v] : '??';
}

/** dbf_type_to_text: `DBF_DOUBLE`, `TYPENOTCONN` for -1. */
export function dbfTypeToText(t: number): string {
  if (t === -1) return 'TYPENOTCONN';
  if (t >= 0 && t <= 6) return 'DBF_' + NATIVE_TYPE_NAMES[t];
  return 'DBF_invalid';
}

/** dbr_type_to_text: `DBR_CTRL_DOUBLE`. */
export function dbrTypeToText(t: number): string {
  if (t >= 0 && t <= LAST_DBR_TYPE) return 'DBR_' + DBR_TYPE_NAMES[t];
  return 'DBR_invalid';
}

/**
 * dbr_text_to_type: `DBR_CTRL_DOUBLE` ...; -1 when unknown. As libca's dbr_text[] table it knows only
 * the SHORT names: `DBR_INT`, `DBR_TIME_INT` ... are unknown (caget ignores them with a warning,
 * although its help text lists them).
 */
export function dbrTextToType(s: string): number {
  for (let i = 0; i <= LAST_DBR_TYPE; i++) if ('DBR_' + DBR_TYPE_NAMES[i] === s) return i;
  return -1;
}

/** Value type of a DBR type (STSACK_STRING and CLASS_NAME are strings, PUT_ACKx unsigned shorts). */
function baseType(dbrType: number): number {
  if (dbrType === 37 || dbrType === 38) return 0;
  if (dbrType === 35 || dbrType === 36) return 3;
  return dbrType % 7;
}

function isGrOrCtrl(dbrType: number): boolean {
  return dbrType >= 21 && dbrType <= 34;
}

// ---------------------------------------------------------------------------------------------
// Values

/** sprint_long: a 32-bit integer in decimal, `0x%X`, `0o%o` or binary (no prefix). */
export function formatLong(v: number, t: IntFormat): string {
  const i = v | 0;
  switch (t) {
    case 'dec':
      return String(i);
    case 'hex':
      return '0x' + (i >>> 0).toString(16).toUpperCase();
    case 'oct':
      return '0o' + (i >>> 0).toString(8);
    case 'bin':
      return i === 0 ? '0' : (i >>> 0).toString(2);
  }
}

/** The rounding catools do for -lx/-lo/-lb: x + 0.5 (or - 0.5) converted to an integer. */
function roundToLong(x: number): number {
  const r = x > 0 ? Math.trunc(x + 0.5) : Math.trunc(x - 0.5);
  // (epicsInt32) of NaN / an out-of-range value is x86's "integer indefinite", INT32_MIN
  return r >= -2147483648 && r <= 2147483647 ? r : -2147483648;
}

/** val2str: element `i` of a reply as catools print it. */
export function val2str(reply: DbrReply, i: number, f: ToolFormat): string {
  const { dbrType, data } = reply;
  if (!(dbrType >= 0 && dbrType <= LAST_DBR_TYPE)) return '*** invalid type';
  const v = data.value;
  switch (baseType(dbrType)) {
    case 0:
      return escapeString((v as string[])[i] ?? '');
    case 2:
    case 6: {
      const x = (v as Float64Array)[i];
      // glibc's printf writes a NaN with the sign bit set (e.g. an IOC's SQRT(-1)) as -nan
      if (Number.isNaN(x) && f.outTypeF === 'dec') return formatNanSigned(x);
      return f.outTypeF === 'dec' ? formatDouble(x, f.dbl) : formatLong(roundToLong(x), f.outTypeF);
    }
    case 4: {
      const c = (v as Uint8Array)[i];
      return String((c << 24) >> 24);
    }
    case 1:
    case 5:
      return formatLong((v as Int32Array)[i], f.outTypeI);
    case 3: {
      const e = (v as Uint16Array)[i];
      if (isGrOrCtrl(dbrType) && !f.enumAsNr) {
        const strs = data.enumStrs ?? [];
        if (e >= MAX_ENUM_STATES) return `Illegal Value (${e})`;
        if (e >= strs.length) return `Enum Index Overflow (${e})`;
        return strs[e];
      }
      return String(e);
    }
  }
  return '!!!';
}

/** All `n` elements joined by the separator (a bulk path for numeric arrays). */
export function joinValues(reply: DbrReply, n: number, f: ToolFormat): string {
  n = Math.min(n, reply.data.value.length);
  if (n <= 0) return '';
  const bt = baseType(reply.dbrType);
  const v = reply.data.value;
  const parts = new Array<string>(n);
  if ((bt === 2 || bt === 6) && f.outTypeF === 'dec') {
    const a = v as Float64Array;
    const dbl = f.dbl;
    const dflt = dbl.conv === 'g' && dbl.prec === 6 && dbl.width === undefined && !dbl.plus;
    for (let i = 0; i < n; i++) {
      const x = a[i];
      parts[i] = Number.isNaN(x) ? formatNanSigned(x) : dflt ? formatGeneral(x, 6) : formatDouble(x, dbl);
    }
  } else if ((bt === 1 || bt === 5) && f.outTypeI === 'dec') {
    const a = v as Int32Array;
    for (let i = 0; i < n; i++) parts[i] = String(a[i]);
  } else {
    for (let i = 0; i < n; i++) parts[i] = val2str(reply, i, f);
  }
  return parts.join(f.sep);
}

/** The bytes of a char array up to the first NUL (at most `max` elements), escaped. */
export function charArrayAsString(reply: DbrReply, max = Infinity): string {
  const a = reply.data.value as Uint8Array;
  let end = Math.min(a.length, max);
  const z = a.indexOf(0);
  if (z >= 0 && z < end) end = z;
  return escapeBytes(a, 0, end);
}

function isCharType(dbrType: number): boolean {
  return dbrType <= 34 && dbrType % 7 === 4;
}

/** Name column: `%-30s` for at most one element and a space separator, else unpadded. */
export function nameColumn(name: string, nElems: number, sep: string): string {
  return nElems <= 1 && sep === ' ' ? name.padEnd(30) : name;
}

/**
 * The value part of a caget/caput plain or terse line (no name, no newline): a char array as a string
 * (-S), or [count sep] values.
 */
export function plainValue(reply: DbrReply, nElems: number, reqElems: number, f: ToolFormat): string {
  if (f.charArrAsStr && isCharType(reply.dbrType) && (reqElems || nElems > 1))
    return charArrayAsString(reply);
  const head = reqElems || nElems > 1 ? `${nElems}${f.sep}` : '';
  return head + joinValues(reply, nElems, f);
}

/** Status of one PV for the line printers (ECA code, or 'notconn' before it ever connected). */
export type LineStatus = number;

/** A caget/caput plain line: name column, separator, value (or the error text), newline. */
export function plainLine(
  name: string,
  status: LineStatus,
  reply: DbrReply | undefined,
  nElems: number,
  reqElems: number,
  f: ToolFormat,
  terse = false,
  padElems = nElems,
): string {
  const head = terse ? '' : nameColumn(name, padElems, f.sep) + f.sep;
  return head + terseBody(status, reply, nElems, reqElems, f) + '\n';
}

function terseBody(
  status: number,
  reply: DbrReply | undefined,
  nElems: number,
  reqElems: number,
  f: ToolFormat,
): string {
  if (status === ECA.DISCONN) return '*** not connected';
  if (status === ECA.NORDACCESS) return '*** no read access';
  if (status !== ECA.NORMAL) return `*** CA error ${ecaMessage(status)}`;
  if (!reply) return '*** no data available (timeout)';
  return plainValue(reply, nElems, reqElems, f);
}

// ---------------------------------------------------------------------------------------------
// The -d block

function limitsBlock(d: DbrData, kind: 'char' | 'int' | 'float', withCtrl: boolean): string {
  const fmt = (x: number | undefined): string => {
    const v = x ?? 0;
    if (kind === 'float') return formatGeneral(v, 6);
    const i = kind === 'char' ? (Math.trunc(v) << 24) >> 24 : Math.trunc(v) | 0;
    return String(i).padStart(8);
  };
  let s =
    `\n    Lo disp limit:    ${fmt(d.lowerDispLimit)}` +
    `\n    Hi disp limit:    ${fmt(d.upperDispLimit)}` +
    `\n    Lo alarm limit:   ${fmt(d.lowerAlarmLimit)}` +
    `\n    Lo warn limit:    ${fmt(d.lowerWarningLimit)}` +
    `\n    Hi warn limit:    ${fmt(d.upperWarningLimit)}` +
    `\n    Hi alarm limit:   ${fmt(d.upperAlarmLimit)}`;
  if (withCtrl)
    s +=
      `\n    Lo ctrl limit:    ${fmt(d.lowerCtrlLimit)}` + `\n    Hi ctrl limit:    ${fmt(d.upperCtrlLimit)}`;
  return s;
}

/** dbr2str: the extra lines of the `-d` block for types > DBR_DOUBLE (no trailing newline). */
export function dbr2str(reply: DbrReply): string {
  const { dbrType: t, data: d } = reply;
  const sts = `    Status:           ${statToStr(d.status)}\n    Severity:         ${sevrToStr(d.severity)}`;
  if (t <= 6) return '';
  if (t <= 13 || t === 21 || t === 28) return sts;
  if (t <= 20) return `    Timestamp:        ${formatStamp(d.stamp)}\n` + sts;
  const units = `\n    Units:            ${d.units ?? ''}`;
  const prec = `\n    Precision:        ${d.precision ?? 0}`;
  const enums = (): string => {
    const strs = d.enumStrs ?? [];
    let s = sts + `\n    Enums:            (${String(strs.length).padStart(2)})`;
    for (let i = 0; i < strs.length; i++)
      s += `\n                      [${String(i).padStart(2)}] ${strs[i]}`;
    return s;
  };
  switch (t) {
    case 25:
      return sts + units + limitsBlock(d, 'char', false);
    case 22:
    case 26:
      return sts + units + limitsBlock(d, 'int', false);
    case 23:
    case 27:
      return sts + units + prec + limitsBlock(d, 'float', false);
    case 24:
    case 31:
      return enums();
    case 32:
      return sts + units + limitsBlock(d, 'char', true);
    case 29:
    case 33:
      return sts + units + limitsBlock(d, 'int', true);
    case 30:
    case 34:
      return sts + units + prec + limitsBlock(d, 'float', true);
    case 37:
      return (
        sts + `\n    Ack transient?:   ${d.ackt ? 'YES' : 'NO'}\n    Ack severity:     ${sevrToStr(d.acks)}`
      );
  }
  return "can't print data type";
}

/** The whole `caget -d` block for one PV (with trailing newline). */
export function dbrBlock(
  name: string,
  nativeType: number,
  status: number,
  reply: DbrReply | undefined,
  reqElems: number,
  f: ToolFormat,
): string {
  let s = `${name}\n`;
  if (status === ECA.DISCONN) return s + '    *** not connected\n';
  if (status === ECA.NORDACCESS) return s + '    *** no read access\n';
  if (status !== ECA.NORMAL || !reply)
    return s + `    *** CA error ${ecaMessage(status === ECA.NORMAL ? ECA.TIMEOUT : status)}\n`;
  s += `    Native data type: ${dbfTypeToText(nativeType)}\n`;
  s += `    Request type:     ${dbrTypeToText(reply.dbrType)}\n`;
  if (reply.dbrType === 38) {
    return s + `    Class Name:       ${(reply.data.value as string[])[0] ?? ''}\n`;
  }
  s += `    Element count:    ${reply.count}\n    Value:            `;
  if (f.charArrAsStr && isCharType(reply.dbrType) && (reqElems || reply.count > 1))
    s += charArrayAsString(reply);
  else s += joinValues(reply, reply.count, f);
  s += '\n';
  if (reply.dbrType > 6) s += dbr2str(reply) + '\n';
  return s;
}

// ---------------------------------------------------------------------------------------------
// Wide lines (caget -a, caput -l, camonitor) and time stamp modes

/** camonitor `-t`: which stamps to print and how. */
export type TimeType = 'absolute' | 'relative' | 'incremental' | 'incrementalByChan';

export interface TimeOptions {
  type: TimeType;
  server: boolean;
  client: boolean;
}

export function defaultTimeOptions(): TimeOptions {
  return { type: 'absolute', server: true, client: false };
}

/** Parse a camonitor `-t` argument; unknown letters are reported through `warn`. */
export function parseTimeOption(arg: string, warn: (msg: string) => void): TimeOptions {
  const t: TimeOptions = { type: 'absolute', server: false, client: false };
  for (const c of arg) {
    switch (c) {
      case 's': t.server = true; break; // prettier-ignore
      case 'c': t.client = true; break; // prettier-ignore
      case 'n': break; // prettier-ignore
      case 'r': t.type = 'relative'; break; // prettier-ignore
      case 'i': t.type = 'incremental'; break; // prettier-ignore
      case 'I': t.type = 'incrementalByChan'; break; // prettier-ignore
      default:
        warn(`Invalid argument '${c}' for option '-t' - ignored.\n`);
    }
  }
  return t;
}

/** Per-process time stamp state (tool_lib.c's static stamps). */
export class StampTracker {
  start: EpicsTimeStamp;
  private first?: EpicsTimeStamp;
  private prevC?: EpicsTimeStamp;
  private prevS?: EpicsTimeStamp;
  constructor(
    readonly opts: TimeOptions = defaultTimeOptions(),
    start: EpicsTimeStamp = nowStamp(),
  ) {
    this.start = start;
  }

  /** The time stamp text of one update (no separators around it). */
  stampText(chan: WideChannelState, server: EpicsTimeStamp, client: EpicsTimeStamp): string {
    let printAbs = !chan.firstStampPrinted;
    if (!this.first) this.first = server;
    let refC: EpicsTimeStamp | undefined;
    let refS: EpicsTimeStamp | undefined;
    switch (this.opts.type) {
      case 'relative':
        refC = this.start;
        refS = this.first;
        break;
      case 'incremental':
        refC = this.prevC;
        refS = this.prevS;
        break;
      case 'incrementalByChan':
        refC = chan.prevC;
        refS = chan.prevS;
        break;
      default:
        printAbs = true;
    }
    let s = '';
    if (printAbs) {
      if (this.opts.server) s += formatStamp(server);
      if (this.opts.client) s += `(${formatStamp(client)})`;
      chan.firstStampPrinted = true;
    } else {
      const zero = { secPastEpoch: 0, nsec: 0 };
      if (this.opts.server) s += '              ' + formatDouble(stampDiff(server, refS ?? zero), REL_FMT);
      if (this.opts.client)
        s += '              (' + formatDouble(stampDiff(client, refC ?? zero), REL_FMT) + ')';
    }
    if (this.opts.type === 'incrementalByChan') {
      chan.prevC = client;
      chan.prevS = server;
    }
    this.prevC = client;
    this.prevS = server;
    return s;
  }
}

const REL_FMT: DoubleFormat = { conv: 'f', prec: 6, width: 12, plus: true };

/** What print_time_val_sts needs to know about a channel between updates. */
export interface WideChannelState {
  name: string;
  onceConnected: boolean;
  /** Element count of the last update (used for the name column when there is no data). */
  nElems?: number;
  firstStampPrinted?: boolean;
  prevC?: EpicsTimeStamp;
  prevS?: EpicsTimeStamp;
}

/**
 * print_time_val_sts: one wide line (with newline). `status` is ECA_NORMAL for a value, ECA_DISCONN
 * for "*** disconnected" etc. `nElems` is the update's element count.
 */
export function wideLine(
  chan: WideChannelState,
  status: number,
  reply: DbrReply | undefined,
  reqElems: number,
  f: ToolFormat,
  tracker: StampTracker,
  client: EpicsTimeStamp = nowStamp(),
): string {
  const nElems = reply ? reply.count : (chan.nElems ?? 0);
  if (reply) chan.nElems = reply.count;
  const nowText = formatStamp(client);
  let s = nameColumn(chan.name, nElems, f.sep) + f.sep;
  if (!chan.onceConnected) return s + '*** Not connected (PV not found)\n';
  if (status === ECA.DISCONN) return s + `${nowText} *** disconnected\n`;
  if (status === ECA.NORDACCESS) return s + `${nowText} *** no read access\n`;
  if (status !== ECA.NORMAL) return s + `${nowText} *** CA error ${ecaMessage(status)}\n`;
  if (!reply) return s + `${nowText} *** no data available (timeout)\n`;
  if (!(reply.dbrType >= 14 && reply.dbrType <= 20)) return s + "can't print data type\n";
  const d = reply.data;
  s += tracker.stampText(chan, d.stamp ?? { secPastEpoch: 0, nsec: 0 }, client);
  if (f.charArrAsStr && reply.dbrType === 18 && (reqElems || nElems > 1)) {
    const elems = reqElems && reqElems < nElems ? reqElems : nElems;
    s += f.sep + charArrayAsString(reply, elems);
  } else {
    if (reqElems || nElems > 1) s += f.sep + String(nElems);
    if (nElems > 0) s += f.sep + joinValues(reply, nElems, f);
  }
  if (d.status || d.severity) s += f.sep + statToStr(d.status) + f.sep + sevrToStr(d.severity) + '\n';
  else s += f.sep + f.sep + '\n';
  return s;
}

// ---------------------------------------------------------------------------------------------
// cainfo

export interface CainfoData {
  name: string;
  state: 'never connected' | 'previously connected' | 'connected' | 'closed';
  host: string;
  readAccess: boolean;
  writeAccess: boolean;
  nativeType: number;
  elementCount: number;
}

/** The cainfo block for one channel (with trailing newline). */
export function cainfoBlock(c: CainfoData): string {
  const plainType = c.nativeType >= 0 && c.nativeType <= 6 ? c.nativeType : -1;
  return (
    `${c.name}\n` +
    `    State:            ${c.state}\n` +
    `    Host:             ${c.host}\n` +
    `    Access:           ${c.readAccess ? '' : 'no '}read, ${c.writeAccess ? '' : 'no '}write\n` +
    `    Native data type: ${dbfTypeToText(c.nativeType)}\n` +
    `    Request type:     ${dbrTypeToText(plainType)}\n` +
    `    Element count:    ${c.elementCount}\n`
  );
}

// ---------------------------------------------------------------------------------------------
// Misc texts

/** The red ERROR word catools print on stderr (always, even when stderr is not a terminal). */
export const ERROR_WORD = '\x1b[31;1mERROR\x1b[0m';

/** `-V` output. */
export const VERSION_TEXT = '\nEPICS Version EPICS 7.0.8.2-DEV, CA Protocol version 4.13\n';

/** `%.1f` as catools print the timeout in warnings. */
export function formatTimeoutValue(x: number): string {
  return formatFixed(x, 1);
}
