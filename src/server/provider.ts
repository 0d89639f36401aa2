/**
 * The contract between the CA server's network layer and whatever holds the PVs (the record
 * database in src/ioc, or PVs declared from code). The server asks a provider for a channel by name;
 * a channel gives snapshots of its value and metadata, accepts writes, and posts events.
 */
import type { NativeType } from '../protocol/constants.js';
import type { DbrData, NativeArray } from '../protocol/values.js';

/** Who is asking: used by access security. */
export interface ClientIdentity {
  user: string;
  host: string;
  /** Peer IP address of the circuit. */
  address: string;
}

/**
 * A snapshot of a channel: its native value (count elements currently valid, NORD for arrays) and
 * every piece of metadata any DBR type may ask for. `value` holds the native type's array.
 */
export interface ChannelSnapshot extends DbrData {
  /** Number of valid elements (<= elementCount); reads with count 0 return this many. */
  count: number;
  /** Text of an enum index outside `enumStrs` when read as a string ("Illegal_Value" for bi/bo). */
  enumUndefinedString?: string;
}

/** Options a subscription is posted with. */
export type EventMask = number;

/**
 * Outcome of a write: resolves when processing has completed (what WRITE_NOTIFY waits for). Rejects
 * with a CaStatusError carrying the ECA code to report.
 */
export type WriteCompletion = Promise<void>;

export interface ServedChannel {
  /** The channel name as requested (e.g. "REC.FIELD"). */
  readonly name: string;
  /** Native CA type of the channel (DBR_STRING..DBR_DOUBLE). */
  readonly nativeType: NativeType;
  /** Maximum element count (NELM for arrays). */
  readonly elementCount: number;
  /** Record type name, for DBR_CLASS_NAME. */
  readonly className: string;
  /** Current value and metadata. Must be cheap: called on every read and every posted event. */
  snapshot(): ChannelSnapshot;
  /**
   * Write `value` (already decoded from the wire in the array type of `dbrType`, a plain type 0-6 or
   * PUT_ACKT/PUT_ACKS). Conversion to the native type is the channel's job (use protocol/convert).
   */
  write(value: NativeArray, dbrType: number, client: ClientIdentity): WriteCompletion;
  /** Subscribe to events; the listener receives the event mask that fired. Returns an unsubscribe. */
  subscribe(listener: (mask: EventMask) => void): () => void;
  /**
   * Access security group (ACF `ASG`) of the channel's record; the server combines the channel's own
   * rights with what the access security configuration grants to this group. Absent: "DEFAULT".
   */
  readonly asg?: string;
  /** Access security level of the field (ASL 0 or 1). Absent: 0. */
  readonly asl?: number;
  /** Access rights for a client: bit 0 read, bit 1 write. */
  accessRights(client: ClientIdentity): number;
  /** Called when access rights may have changed (ACF reload, ASG change). Optional. */
  onAccessRightsChange?(listener: () => void): () => void;
  /** Called by the server when the last circuit using this channel object drops it. Optional. */
  release?(): void;
  /**
   * Optional fast path of the read and monitor paths: for a channel whose current value is one
   * number of a numeric native type (SHORT, FLOAT, CHAR, LONG or DOUBLE; not ENUM, not a string),
   * fill `out` (value, alarm status/severity, time stamp) and return true without allocating.
   * Return false when the fast path does not apply now: the server then uses `snapshot()`. What it
   * fills must be what `snapshot()` would report.
   */
  readScalar?(out: ScalarState): boolean;
  /**
   * The DOUBLE values of this channel are integers of a wider C type (ULONG, INT64, UINT64): a read
   * as SHORT/CHAR/LONG/ENUM keeps their low bits instead of going through the float -> int32 cast.
   */
  readonly integerValues?: boolean;
  /**
   * For a STRING channel: how a read as DBR_ENUM converts it (see StringEnumRead), given the
   * snapshot's element count; without it, an empty string fails and others parse as numbers.
   */
  stringEnumRead?(count: number): StringEnumRead | undefined;
  /**
   * Optional synchronous form of `write`: performs the write and returns undefined when it has
   * completed (processing included), a promise when completion comes later; throws a CaStatusError
   * when the write is refused. Lets the server answer a put without a promise per request.
   */
  writeNow?(value: NativeArray, dbrType: number, client: ClientIdentity): WriteCompletion | undefined;
  /**
   * Optional promise about `writeNow`: true when, once `writeNow` has returned undefined or thrown,
   * nothing keeps `value` or a view of its memory (what is stored was copied). The server then
   * decodes a large put into memory that it reuses for the next one. Absent: not assumed.
   */
  readonly writeNowCopies?: boolean;
  /**
   * Optional form of `writeNow` for one number: the same as `writeNow` with a one-element array of
   * `dbrType` (SHORT, FLOAT, LONG or DOUBLE) holding `value` (already of that type), without the
   * array. Must behave exactly as that `writeNow` call.
   */
  writeScalarNow?(value: number, dbrType: number, client: ClientIdentity): WriteCompletion | undefined;
}

/** What `ServedChannel.readScalar` fills (a scratch object reused by the server). */
export interface ScalarState {
  value: number;
  status: number;
  severity: number;
  secPastEpoch: number;
  nsec: number;
}

export interface ChannelProvider {
  /** Fast existence check for UDP search (no allocation wanted). */
  has(name: string): boolean;
  /** Create (or share) the channel for a name; undefined when it does not exist. */
  channel(name: string): ServedChannel | undefined;
}

/** An error carrying an ECA status code, thrown by providers to make the server reply with it. */
export class CaStatusError extends Error {
  constructor(
    public readonly eca: number,
    message: string,
  ) {
    super(message);
    this.name = 'CaStatusError';
  }
}

/**
 * How base's dbGet reads a string field as DBR_ENUM (an IOC channel's snapshot says which case
 * applies, see read-value.ts): 'zero' when the field has no elements (an lsi/lso never written:
 * nothing converted, the reply stays 0); 'array' through dbConvert's getStringEnum (an empty
 * string is 0, else the leading unsigned number); for one element, dbFastLinkConv's cvt_st_e,
 * which fails ('fail') unless the record support has put_enum_str, and then takes an index below
 * its number of states.
 */
export type StringEnumRead = 'zero' | 'array' | 'fail' | number;
