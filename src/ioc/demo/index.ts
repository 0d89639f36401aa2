export {
  demoDatabase,
  demoInitialValues,
  demoPrefix,
  classroomRecords,
  motorRecord,
  scalerRecord,
  mcaRecord,
  type DemoOptions,
} from './database.js';
