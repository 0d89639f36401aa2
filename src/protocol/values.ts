/**
 * The value model shared by the DBR codecs, the client and the server.
 *
 * A value of n elements is held in the array type of its DBR value type:
 *   STRING -> string[]       SHORT -> Int16Array     FLOAT -> Float32Array   ENUM -> Uint16Array
 *   CHAR   -> Uint8Array     LONG  -> Int32Array     DOUBLE -> Float64Array
 */
import type { NativeType } from './constants.js';

export type NativeArray =
  string[] | Int16Array | Float32Array | Uint16Array | Uint8Array | Int32Array | Float64Array;

/** EPICS time stamp: seconds since 1990-01-01 UTC and nanoseconds. */
export interface EpicsTimeStamp {
  secPastEpoch: number;
  nsec: number;
}

/** The six display/alarm limits plus the two control limits (order as on the wire). */
export interface Limits {
  upperDispLimit: number;
  lowerDispLimit: number;
  upperAlarmLimit: number;
  upperWarningLimit: number;
  lowerWarningLimit: number;
  lowerAlarmLimit: number;
  upperCtrlLimit: number;
  lowerCtrlLimit: number;
}

/**
 * Everything a DBR structure can carry. Encoders read the fields the requested type needs (missing
 * ones encode as zero / empty); decoders fill exactly the fields the type has.
 */
export interface DbrData extends Partial<Limits> {
  /** The value in the array type of the DBR's value type (see above). */
  value: NativeArray;
  status?: number;
  severity?: number;
  stamp?: EpicsTimeStamp;
  units?: string;
  precision?: number;
  /** Enum state strings (GR/CTRL_ENUM). */
  enumStrs?: string[];
  /** STSACK_STRING. */
  ackt?: number;
  acks?: number;
}

/** Allocate an empty array of `count` elements for a value type. */
export function allocNative(type: NativeType, count: number): NativeArray {
  switch (type) {
    case 0:
      return new Array<string>(count).fill('');
    case 1:
      return new Int16Array(count);
    case 2:
      return new Float32Array(count);
    case 3:
      return new Uint16Array(count);
    case 4:
      return new Uint8Array(count);
    case 5:
      return new Int32Array(count);
    case 6:
      return new Float64Array(count);
  }
}
