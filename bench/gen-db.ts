/**
 * The benchmark database: `records` passive ao records `BENCH:ao<i>` (connect/read/put workloads),
 * `updating` calc records `BENCH:upd<i>` processed at a fixed rate (SCAN ".1 second": 10 updates/s
 * each, monitor workloads), and a `waveformElements`-element DOUBLE waveform `BENCH:wave`.
 * The same text loads into tsepics ioc and EPICS base's softIoc.
 */
import { writeFileSync } from 'node:fs';

export interface BenchDbOptions {
  records: number;
  updating: number;
  waveformElements: number;
}

export const AO_PREFIX = 'BENCH:ao';
export const UPD_PREFIX = 'BENCH:upd';
export const WAVE = 'BENCH:wave';
/** PVs of bench/storm-server.ts. */
export const STORM_PREFIX = 'STORM:';
/** Updates per second of each BENCH:upd record. */
export const UPDATE_RATE_HZ = 10;

export function benchDbText(o: BenchDbOptions): string {
  const parts: string[] = [];
  for (let i = 0; i < o.records; i++)
    parts.push(`record(ao, "${AO_PREFIX}${i}") {\n  field(VAL, "${i}")\n}\n`);
  for (let i = 0; i < o.updating; i++) {
    parts.push(
      `record(calc, "${UPD_PREFIX}${i}") {\n  field(SCAN, ".1 second")\n  field(INPA, "${UPD_PREFIX}${i} NPP")\n  field(CALC, "A+1")\n}\n`,
    );
  }
  if (o.waveformElements > 0) {
    parts.push(
      `record(waveform, "${WAVE}") {\n  field(FTVL, "DOUBLE")\n  field(NELM, "${o.waveformElements}")\n}\n`,
    );
  }
  return parts.join('');
}

export function writeBenchDb(file: string, o: BenchDbOptions): void {
  writeFileSync(file, benchDbText(o));
}
