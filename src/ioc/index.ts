/**
 * tsepics/ioc: the soft IOC. Load EPICS .db files into a RecordDatabase (a ChannelProvider) and
 * serve it with the CA server:
 *
 *   const db = new RecordDatabase();
 *   db.loadDatabaseFile('test.db', 'P=X:');
 *   db.init();
 *   const server = new CaServer({ provider: db });
 *   await server.start();
 */
export { RecordDatabase } from './database.js';
export type { AccessRules, LoadOptions, RecordInfo } from './database.js';
export { ParseError, parseDatabase } from './db-parser.js';
export type {
  DbItem,
  DbRecordItem,
  DbAliasItem,
  DbFieldItem,
  ParseOptions,
  ParseResult,
} from './db-parser.js';
export { expandMacros, parseMacroString, toMacroMap, MacroError } from './macros.js';
export type { MacroMap, ExpandResult } from './macros.js';
export { DbRecord, ProcessContext, nowStamp } from './record.js';
export type { ArrayField, FieldMeta, FieldValue, RecordEnv, RecordTypeDef, Listener } from './record.js';
export { defineRecordType, SOFT_DEVICES } from './record-type.js';
export { defineFields, COMMON_FIELDS, MENUS, nativeTypeOf } from './fields.js';
export type { Dbf, FieldDef } from './fields.js';
export { Link, LinkError, parseLinkText } from './links.js';
export { FieldChannel, putField } from './channel.js';
export type { IocSnapshot } from './channel.js';
export { RECORD_TYPES } from './records/index.js';
export { compileCalc, CalcError } from './calc/index.js';
export type { CompiledCalc } from './calc/index.js';
export { FilteredChannel, FilterError, parseFilters } from './filters.js';
export type { FilterSpec } from './filters.js';
