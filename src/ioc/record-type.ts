/**
 * Building record types: common fields + the type's fields (compact spec, see fields.ts) + a class.
 */
import { COMMON_FIELDS, defineFields, type FieldDef } from './fields.js';
import type { DbRecord, RecordEnv, RecordTypeDef } from './record.js';

export type RecordCtor = new (name: string, def: RecordTypeDef, env: RecordEnv) => DbRecord;

export const SOFT_DEVICES = ['Soft Channel', 'Raw Soft Channel', 'Async Soft Channel'] as const;

export function defineRecordType(
  name: string,
  spec: string,
  ctor: RecordCtor,
  deviceTypes: readonly string[] = SOFT_DEVICES,
): RecordTypeDef {
  const specific = defineFields(spec);
  const fields: FieldDef[] = [...COMMON_FIELDS];
  const fieldMap = new Map<string, FieldDef>();
  for (const f of COMMON_FIELDS) fieldMap.set(f.name, f);
  for (const f of specific) {
    if (fieldMap.has(f.name)) {
      const i = fields.findIndex((x) => x.name === f.name);
      fields[i] = f;
    } else fields.push(f);
    fieldMap.set(f.name, f);
  }
  const def: RecordTypeDef = {
    name,
    fields,
    fieldMap,
    deviceTypes,
    create: (recName: string, env: RecordEnv) => new ctor(recName, def, env),
  };
  return def;
}
