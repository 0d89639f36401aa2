export { AutosaveError } from './errors.js';
export { expandMacros, parseMacros, MacroError, type Macros } from './macros.js';
export { parseRequestText, readRequestFile, type RequestEntry, type RequestOptions } from './request.js';
export {
  formatSavFile,
  parseSavFile,
  savTimestamp,
  SAV_VERSION,
  ARRAY_MARKER,
  type SavEntry,
  type SavFile,
  type SavValue,
  type FormatEntry,
} from './savfile.js';
export {
  saveState,
  restoreState,
  toSavValue,
  fromSavValue,
  type SaveOptions,
  type SaveResult,
  type RestoreOptions,
  type RestoreResult,
  type RestoreFailure,
} from './save-restore.js';
