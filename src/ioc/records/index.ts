/** The record types the soft IOC knows (softIoc.dbd's soft records that tsepics implements). */
import type { RecordTypeDef } from '../record.js';
import { aiRecordType } from './ai.js';
import { aoRecordType } from './ao.js';
import { biRecordType, boRecordType } from './binary.js';
import { calcRecordType } from './calc.js';
import { calcoutRecordType } from './calcout.js';
import { dfanoutRecordType, fanoutRecordType } from './fanout.js';
import { int64inRecordType, int64outRecordType, longinRecordType, longoutRecordType } from './long.js';
import { mbbiRecordType, mbboRecordType } from './mbb.js';
import { mbbiDirectRecordType, mbboDirectRecordType } from './mbbDirect.js';
import { lsiRecordType, lsoRecordType } from './lstring.js';
import { selRecordType } from './sel.js';
import { seqRecordType } from './seq.js';
import { stringinRecordType, stringoutRecordType } from './string.js';
import { subArrayRecordType } from './subArray.js';
import { transformRecordType } from './transform.js';
import { aaiRecordType, aaoRecordType, waveformRecordType } from './waveform.js';

export const RECORD_TYPES: readonly RecordTypeDef[] = [
  aiRecordType,
  aoRecordType,
  biRecordType,
  boRecordType,
  mbbiRecordType,
  mbboRecordType,
  longinRecordType,
  longoutRecordType,
  int64inRecordType,
  int64outRecordType,
  stringinRecordType,
  stringoutRecordType,
  waveformRecordType,
  aaiRecordType,
  aaoRecordType,
  subArrayRecordType,
  fanoutRecordType,
  dfanoutRecordType,
  calcRecordType,
  calcoutRecordType,
  lsiRecordType,
  lsoRecordType,
  mbbiDirectRecordType,
  mbboDirectRecordType,
  selRecordType,
  seqRecordType,
  transformRecordType,
];
