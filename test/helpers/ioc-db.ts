/**
 * Record databases for the IOC unit tests: load database text, initialize it, and stop every
 * database a test file opened once the file's tests are done; plus small field readers.
 */
import { after } from 'node:test';
import { RecordDatabase } from '../../src/ioc/database.js';
import type { RecordTypeDef } from '../../src/ioc/record.js';

export interface LoadOptions {
  /** The file name errors name (default `test.db`). */
  file?: string;
  /** Record types to register before loading (beyond the built-in ones). */
  types?: readonly RecordTypeDef[];
}

/**
 * A loader for this test file: `load(text)` parses `text` (as file `test.db`) into a new
 * initialized RecordDatabase. Call at the top level of a test file: it registers an `after` hook
 * that stops every database the loader made.
 */
export function databaseLoader(): (text: string, opts?: LoadOptions) => RecordDatabase {
  const opened: RecordDatabase[] = [];
  after(() => {
    for (const db of opened) db.stop();
  });
  return (text: string, opts: LoadOptions = {}): RecordDatabase => {
    const db = new RecordDatabase();
    for (const t of opts.types ?? []) db.registerRecordType(t);
    db.loadDatabase(text, undefined, { file: opts.file ?? 'test.db' });
    db.init();
    opened.push(db);
    return db;
  };
}

/** The first element of `pv`'s value as a number. */
export const num = (db: RecordDatabase, pv: string): number => Number(db.get(pv)[0]);

/** The first element of `pv`'s value as a string. */
export const str = (db: RecordDatabase, pv: string): string => String(db.get(pv)[0]);

/** `[status, severity]` of `pv`'s current alarm. */
export const alarm = (db: RecordDatabase, pv: string): [number, number] => {
  const s = db.channel(pv)!.snapshot();
  return [s.status!, s.severity!];
};
