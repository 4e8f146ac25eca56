/**
 * The JSON Schema of a normalised Teraslice spec (the registry's `specSchema`): closed at every
 * level and built from the same field tables as the normalisation, so it accepts exactly what
 * `normalizeTerasliceSpec` produces. Checks across fields are `checkTerasliceSpec`'s.
 */
import { fieldsSchema, MAX_ENTRIES } from './fields.ts';
import { JOB_FIELDS } from './jobFields.ts';
import { MAX_OPERATIONS } from './opConfigs.ts';
import { API_NAME_FIELD, COMMON_FIELDS, OPERATIONS } from './operations.ts';
import { RECOVERY_SCHEMA } from './recovery.ts';

function opSchema(name: string): Record<string, unknown> {
  const def = OPERATIONS[name]!;
  return fieldsSchema({ ...COMMON_FIELDS, ...def.fields }, { _op: { type: 'string', const: name }, _api_name: API_NAME_FIELD.schema }, ['_op']);
}

export const TERASLICE_SPEC_SCHEMA: Readonly<Record<string, unknown>> = Object.freeze(
  fieldsSchema(
    JOB_FIELDS,
    {
      apis: {
        type: 'array',
        maxItems: MAX_ENTRIES,
        items: { type: 'object', additionalProperties: false, required: ['_name'], properties: { _name: API_NAME_FIELD.schema } },
      },
      operations: { type: 'array', minItems: 2, maxItems: MAX_OPERATIONS, items: { anyOf: Object.keys(OPERATIONS).map(opSchema) } },
      recovery: RECOVERY_SCHEMA,
    },
    ['apis', 'operations'],
  ),
);
