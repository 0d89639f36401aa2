export {
  demoDatabase,
  demoInitialValues,
  demoPrefix,
  classroomRecords,
  motorRecord,
  scalerRecord,
  mcaRecord,
  transformRecord,
  type DemoOptions,
} from './database.js';
export { struckDatabase, type StruckDbOptions } from './struck.js';
