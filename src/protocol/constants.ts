/**
 * Channel Access protocol constants: command codes, DBR type codes, ECA status codes, alarm codes,
 * event masks and ports. Pure data, no I/O. Values and texts follow EPICS base (libca / RSRV).
 */

export const CA_MAJOR_VERSION = 4;
export const CA_MINOR_VERSION = 13;
export const DEFAULT_SERVER_PORT = 5064;
export const DEFAULT_REPEATER_PORT = 5065;
/** Largest UDP datagram libca and RSRV send. */
export const MAX_UDP_SEND = 1024;
/** Names longer than this are refused by EPICS databases (PVNAME_STRINGSZ - 1 + field). */
export const MAX_PV_NAME_LENGTH = 40;
/** Names longer than this are treated as invalid by libca. */
export const MAX_CLIENT_PV_NAME = 500;
export const MAX_STRING_SIZE = 40;
export const MAX_UNITS_SIZE = 8;
export const MAX_ENUM_STRING_SIZE = 26;
export const MAX_ENUM_STATES = 16;
/** EPICS epoch (1990-01-01T00:00:00Z) in Unix seconds. */
export const EPICS_EPOCH_OFFSET = 631152000;

/** CA command codes (the `command` header field). */
export const Command = {
  VERSION: 0,
  EVENT_ADD: 1,
  EVENT_CANCEL: 2,
  READ: 3,
  WRITE: 4,
  SNAPSHOT: 5,
  SEARCH: 6,
  BUILD: 7,
  EVENTS_OFF: 8,
  EVENTS_ON: 9,
  READ_SYNC: 10,
  ERROR: 11,
  CLEAR_CHANNEL: 12,
  RSRV_IS_UP: 13,
  NOT_FOUND: 14,
  READ_NOTIFY: 15,
  READ_BUILD: 16,
  REPEATER_CONFIRM: 17,
  CREATE_CHAN: 18,
  WRITE_NOTIFY: 19,
  CLIENT_NAME: 20,
  HOST_NAME: 21,
  ACCESS_RIGHTS: 22,
  ECHO: 23,
  REPEATER_REGISTER: 24,
  SIGNAL: 25,
  CREATE_CH_FAIL: 26,
  SERVER_DISCONN: 27,
} as const;
export type CommandCode = (typeof Command)[keyof typeof Command];

export const COMMAND_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(Command).map(([k, v]) => [v, k]),
);

/** SEARCH data_type values. */
export const SEARCH_DONT_REPLY = 5;
export const SEARCH_DO_REPLY = 10;

/** Native (field) types as seen over CA: the value type of a DBR. */
export const DbrNative = {
  STRING: 0,
  SHORT: 1,
  FLOAT: 2,
  ENUM: 3,
  CHAR: 4,
  LONG: 5,
  DOUBLE: 6,
} as const;
export type NativeType = 0 | 1 | 2 | 3 | 4 | 5 | 6;
export const NATIVE_TYPE_NAMES = ['STRING', 'SHORT', 'FLOAT', 'ENUM', 'CHAR', 'LONG', 'DOUBLE'] as const;

/** DBR type families: request type = native + 7 * family. */
export const DbrFamily = { PLAIN: 0, STS: 1, TIME: 2, GR: 3, CTRL: 4 } as const;
export type Family = 0 | 1 | 2 | 3 | 4;

/** Every DBR type code 0..38. */
export const DBR = {
  STRING: 0,
  INT: 1,
  SHORT: 1,
  FLOAT: 2,
  ENUM: 3,
  CHAR: 4,
  LONG: 5,
  DOUBLE: 6,
  STS_STRING: 7,
  STS_SHORT: 8,
  STS_INT: 8,
  STS_FLOAT: 9,
  STS_ENUM: 10,
  STS_CHAR: 11,
  STS_LONG: 12,
  STS_DOUBLE: 13,
  TIME_STRING: 14,
  TIME_INT: 15,
  TIME_SHORT: 15,
  TIME_FLOAT: 16,
  TIME_ENUM: 17,
  TIME_CHAR: 18,
  TIME_LONG: 19,
  TIME_DOUBLE: 20,
  GR_STRING: 21,
  GR_SHORT: 22,
  GR_INT: 22,
  GR_FLOAT: 23,
  GR_ENUM: 24,
  GR_CHAR: 25,
  GR_LONG: 26,
  GR_DOUBLE: 27,
  CTRL_STRING: 28,
  CTRL_SHORT: 29,
  CTRL_INT: 29,
  CTRL_FLOAT: 30,
  CTRL_ENUM: 31,
  CTRL_CHAR: 32,
  CTRL_LONG: 33,
  CTRL_DOUBLE: 34,
  PUT_ACKT: 35,
  PUT_ACKS: 36,
  STSACK_STRING: 37,
  CLASS_NAME: 38,
} as const;
export const LAST_DBR_TYPE = 38;

/** Canonical names of DBR types 0..38 as catools print them (without the DBR_ prefix). */
export const DBR_TYPE_NAMES: readonly string[] = [
  'STRING', 'SHORT', 'FLOAT', 'ENUM', 'CHAR', 'LONG', 'DOUBLE',
  'STS_STRING', 'STS_SHORT', 'STS_FLOAT', 'STS_ENUM', 'STS_CHAR', 'STS_LONG', 'STS_DOUBLE',
  'TIME_STRING', 'TIME_SHORT', 'TIME_FLOAT', 'TIME_ENUM', 'TIME_CHAR', 'TIME_LONG', 'TIME_DOUBLE',
  'GR_STRING', 'GR_SHORT', 'GR_FLOAT', 'GR_ENUM', 'GR_CHAR', 'GR_LONG', 'GR_DOUBLE',
  'CTRL_STRING', 'CTRL_SHORT', 'CTRL_FLOAT', 'CTRL_ENUM', 'CTRL_CHAR', 'CTRL_LONG', 'CTRL_DOUBLE',
  'PUT_ACKT', 'PUT_ACKS', 'STSACK_STRING', 'CLASS_NAME',
]; // prettier-ignore

/** Alarm severities. */
export const Severity = { NO_ALARM: 0, MINOR: 1, MAJOR: 2, INVALID: 3 } as const;
export const SEVERITY_NAMES = ['NO_ALARM', 'MINOR', 'MAJOR', 'INVALID'] as const;

/** Alarm status codes. */
export const AlarmStatus = {
  NO_ALARM: 0, READ: 1, WRITE: 2, HIHI: 3, HIGH: 4, LOLO: 5, LOW: 6, STATE: 7, COS: 8, COMM: 9,
  TIMEOUT: 10, HWLIMIT: 11, CALC: 12, SCAN: 13, LINK: 14, SOFT: 15, BAD_SUB: 16, UDF: 17,
  DISABLE: 18, SIMM: 19, READ_ACCESS: 20, WRITE_ACCESS: 21,
} as const; // prettier-ignore
export const ALARM_STATUS_NAMES = [
  'NO_ALARM', 'READ', 'WRITE', 'HIHI', 'HIGH', 'LOLO', 'LOW', 'STATE', 'COS', 'COMM', 'TIMEOUT',
  'HWLIMIT', 'CALC', 'SCAN', 'LINK', 'SOFT', 'BAD_SUB', 'UDF', 'DISABLE', 'SIMM', 'READ_ACCESS',
  'WRITE_ACCESS',
] as const; // prettier-ignore

/** Event (subscription) mask bits. */
export const DBE = { VALUE: 1, LOG: 2, ARCHIVE: 2, ALARM: 4, PROPERTY: 8 } as const;

/** Access rights bits in ACCESS_RIGHTS parameter2. */
export const ACCESS_READ = 1;
export const ACCESS_WRITE = 2;

/** ECA status codes: (message number << 3) | severity bits. */
export const ECA = {
  NORMAL: 1, MAXIOC: 10, UKNHOST: 18, UKNSERV: 26, SOCK: 34, CONN: 40, ALLOCMEM: 48, UKNCHAN: 56,
  UKNFIELD: 64, TOLARGE: 72, TIMEOUT: 80, NOSUPPORT: 88, STRTOBIG: 96, DISCONNCHID: 106, BADTYPE: 114,
  CHIDNOTFND: 123, CHIDRETRY: 131, INTERNAL: 142, DBLCLFAIL: 144, GETFAIL: 152, PUTFAIL: 160,
  ADDFAIL: 168, BADCOUNT: 176, BADSTR: 186, DISCONN: 192, DBLCHNL: 200, EVDISALLOW: 210, BUILDGET: 216,
  NEEDSFP: 224, OVEVFAIL: 232, BADMONID: 242, NEWADDR: 248, NEWCONN: 259, NOCACTX: 264, DEFUNCT: 278,
  EMPTYSTR: 280, NOREPEATER: 288, NOCHANMSG: 296, DLCKREST: 304, SERVBEHIND: 312, NOCAST: 320,
  BADMASK: 330, IODONE: 339, IOINPROGRESS: 347, BADSYNCGRP: 354, PUTCBINPROG: 362, NORDACCESS: 368,
  NOWTACCESS: 376, ANACHRONISM: 386, NOSEARCHADDR: 392, NOCONVERT: 400, BADCHID: 410, BADFUNCPTR: 418,
  ISATTACHED: 424, UNAVAILINSERV: 432, CHANDESTROY: 440, BADPRIORITY: 450, NOTTHREADED: 458,
  '16KARRAYCLIENT': 464, CONNSEQTMO: 472, UNRESPTMO: 480,
} as const; // prettier-ignore

/** ca_message() texts, indexed by ECA code. */
export const ECA_MESSAGES: Readonly<Record<number, string>> = {
  1: 'Normal successful completion',
  10: 'Maximum simultaneous IOC connections exceeded',
  18: 'Unknown internet host',
  26: 'Unknown internet service',
  34: 'Unable to allocate a new socket',
  40: 'Unable to connect to internet host or service',
  48: 'Unable to allocate additional dynamic memory',
  56: 'Unknown IO channel',
  64: 'Record field specified inappropriate for channel specified',
  72: 'The requested data transfer is greater than available memory or EPICS_CA_MAX_ARRAY_BYTES',
  80: 'User specified timeout on IO operation expired',
  88: 'Sorry, that feature is planned but not supported at this time',
  96: 'The supplied string is unusually large',
  106: 'The request was ignored because the specified channel is disconnected',
  114: 'The data type specifed is invalid',
  123: 'Remote Channel not found',
  131: 'Unable to locate all user specified channels',
  142: 'Channel Access Internal Failure',
  144: 'The requested local DB operation failed',
  152: 'Channel read request failed',
  160: 'Channel write request failed',
  168: 'Channel subscription request failed',
  176: 'Invalid element count requested',
  186: 'Invalid string',
  192: 'Virtual circuit disconnect',
  200: 'Identical process variable names on multiple servers',
  210: 'Request inappropriate within subscription (monitor) update callback',
  216: 'Database value get for that channel failed during channel search',
  224: 'Unable to initialize without the vxWorks VX_FP_TASK task option set',
  232: 'Event queue overflow has prevented first pass event after event add',
  242: 'Bad event subscription (monitor) identifier',
  248: 'Remote channel has new network address',
  259: 'New or resumed network connection',
  264: 'Specified task isnt a member of a CA context',
  278: 'Attempt to use defunct CA feature failed',
  280: 'The supplied string is empty',
  288: 'Unable to spawn the CA repeater thread- auto reconnect will fail',
  296: 'No channel id match for search reply- search reply ignored',
  304: 'Reseting dead connection- will try to reconnect',
  312: 'Server (IOC) has fallen behind or is not responding- still waiting',
  320: 'No internet interface with broadcast available',
  330: 'Invalid event selection mask',
  339: 'IO operations have completed',
  347: 'IO operations are in progress',
  354: 'Invalid synchronous group identifier',
  362: 'Put callback timed out',
  368: 'Read access denied',
  376: 'Write access denied',
  386: 'Requested feature is no longer supported',
  392: 'Empty PV search address list',
  400: 'No reasonable data conversion between client and server types',
  410: 'Invalid channel identifier',
  418: 'Invalid function pointer',
  424: 'Thread is already attached to a client context',
  432: 'Not supported by attached service',
  440: 'User destroyed channel',
  450: 'Invalid channel priority',
  458: 'Preemptive callback not enabled - additional threads may not join context',
  464: "Client's protocol revision does not support transfers exceeding 16k bytes",
  472: 'Virtual circuit connection sequence aborted',
  480: 'Virtual circuit unresponsive',
};

/** The ECA_xxx symbol for a code (e.g. 160 -> 'ECA_PUTFAIL'). */
export function ecaName(code: number): string {
  for (const [k, v] of Object.entries(ECA)) if (v === code) return `ECA_${k}`;
  return `ECA_${code}`;
}

/** The ca_message() text for a code. */
export function ecaMessage(code: number): string {
  return ECA_MESSAGES[code] ?? `Unknown ECA status ${code}`;
}

/** True when the ECA code's severity bits mean success. */
export function ecaIsSuccess(code: number): boolean {
  return (code & 1) === 1;
}
