import type { ErrorObject, ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import attestationsSchema from '../../schemas/attestations.schema.json' with { type: 'json' };
import buildSchema from '../../schemas/build.schema.json' with { type: 'json' };
import canarySchema from '../../schemas/canary.schema.json' with { type: 'json' };
import evidenceSchema from '../../schemas/evidence.schema.json' with { type: 'json' };
import promotionSchema from '../../schemas/promotion.schema.json' with { type: 'json' };
import sbomSchema from '../../schemas/sbom.schema.json' with { type: 'json' };
import subjectSchema from '../../schemas/subject.schema.json' with { type: 'json' };
import verificationSchema from '../../schemas/verification.schema.json' with { type: 'json' };
import { showValue } from '../core/errors.js';

// Schema validation of records, with ajv and the schemas under schemas/. This module is imported only when
// a record is read (record.ts imports it dynamically): ajv and the compiled schemas cost tens of milliseconds
// that an action's cold start, up to its first input error, must not pay.

/** The first thing wrong with a value: the field (dotted path), what it is, and what was expected. */
export interface FieldProblem {
  field: string;
  /** The value as shown in a message (quoted and cut short), or "missing". */
  found: string;
  expected: string;
}

let ajv: Ajv2020 | undefined;
const compiled = new Map<string, ValidateFunction>();

/** The schemas by $id; records refer to each other's definitions (subject.schema.json#/$defs/digest). */
export const SCHEMAS = [
  subjectSchema,
  buildSchema,
  sbomSchema,
  attestationsSchema,
  verificationSchema,
  promotionSchema,
  canarySchema,
  evidenceSchema,
] as const;

function validator(schemaRef: string): ValidateFunction {
  let validate = compiled.get(schemaRef);
  if (!validate) {
    // strict: a schema typo (an unknown keyword) is an error here rather than a check that silently never runs.
    // verbose: errors carry the schema that failed, whose description is the expected form users see.
    ajv ??= new Ajv2020({ allErrors: false, verbose: true, strict: true, schemas: [...SCHEMAS] });
    validate = ajv.getSchema(schemaRef);
    if (!validate) throw new Error(`No schema ${schemaRef}`);
    compiled.set(schemaRef, validate);
  }
  return validate;
}

/** Validates `value` against a schema by reference (`https://slipway.dev/schemas/x.schema.json[#/$defs/y]`). */
export function findProblem(schemaRef: string, value: unknown): FieldProblem | undefined {
  const validate = validator(schemaRef);
  if (validate(value)) return undefined;
  return describe(validate.errors?.[0], value);
}

function describe(error: ErrorObject | undefined, root: unknown): FieldProblem {
  if (!error) return { field: '(the record)', found: 'invalid', expected: 'a valid record' };
  const path = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  const schema = error.parentSchema as { description?: string; type?: string } | undefined;
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required') {
    const missing = String(params.missingProperty);
    const property = (schema as { properties?: Record<string, { description?: string }> } | undefined)?.properties?.[
      missing
    ];
    return {
      field: fieldName([...path, missing]),
      found: 'missing',
      expected: property?.description ?? 'present',
    };
  }
  const found = show(valueAt(root, path));
  const field = fieldName(path);
  switch (error.keyword) {
    case 'const':
      return { field, found, expected: JSON.stringify(params.allowedValue) };
    case 'enum':
      return {
        field,
        found,
        expected: schema?.description ?? `one of ${(params.allowedValues as unknown[]).map(String).join(', ')}`,
      };
    case 'type':
      return { field, found, expected: schema?.description ?? `a value of type ${String(params.type)}` };
    default:
      return { field, found, expected: schema?.description ?? error.message ?? 'a valid value' };
  }
}

/** `subject.platforms["linux/amd64"]`, `sboms[0].path`: the path as a person would write it. */
function fieldName(path: readonly string[]): string {
  if (path.length === 0) return '(the record)';
  let name = '';
  for (const part of path) {
    if (/^\d+$/.test(part)) name += `[${part}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(part)) name += name === '' ? part : `.${part}`;
    else name += `[${JSON.stringify(part)}]`;
  }
  return name;
}

function valueAt(root: unknown, path: readonly string[]): unknown {
  let value = root;
  for (const part of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function show(value: unknown): string {
  if (typeof value === 'string') return showValue(value);
  if (value === undefined) return 'missing';
  if (Array.isArray(value)) return 'a list';
  if (value !== null && typeof value === 'object') return 'an object';
  return String(value);
}
