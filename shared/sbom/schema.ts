import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

// Validators for the two documents: the formats' own JSON schemas, plus the few cross-references a
// schema cannot express (unique ids, relationships that point at something). Both return a list of
// readable errors, empty when the document is valid, so tests and callers can show every problem at once.

function describe(errors: readonly ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}${paramsText(e.params)}`);
}

function paramsText(params: Record<string, unknown>): string {
  const entries = Object.entries(params);
  return entries.length === 0 ? '' : ` (${entries.map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ')})`;
}

function parse(json: string): { value?: unknown; errors: string[] } {
  try {
    return { value: JSON.parse(json) as unknown, errors: [] };
  } catch (error) {
    return { errors: [`not JSON: ${error instanceof Error ? error.message : String(error)}`] };
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function records(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

function duplicates(values: readonly string[]): string[] {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const v of values) (seen.has(v) ? repeated : seen).add(v);
  return [...repeated];
}

// One validator per process: the library compiles the 1.6 schema (and loads ajv) on first use.
const cycloneDxValidator = new Validation.JsonValidator(Spec.Version.v1dot6);

/**
 * Validates CycloneDX 1.6 JSON against the library's bundled schema. Asynchronous because the library
 * loads ajv and the schema files lazily.
 */
export async function validateCycloneDx(json: string): Promise<string[]> {
  const parsed = parse(json);
  if (parsed.errors.length > 0) return parsed.errors;
  const result: unknown = await cycloneDxValidator.validate(json);
  const errors = result === null ? [] : describe(Array.isArray(result) ? (result as ErrorObject[]) : null);
  if (result !== null && errors.length === 0) errors.push(`invalid: ${JSON.stringify(result)}`);

  const bom = isRecord(parsed.value) ? parsed.value : {};
  const metadata = isRecord(bom.metadata) ? bom.metadata : {};
  const all = [...(isRecord(metadata.component) ? [metadata.component] : []), ...records(bom.components)];
  const refs = all.map((c) => c['bom-ref']).filter((r): r is string => typeof r === 'string');
  for (const ref of duplicates(refs)) errors.push(`bom-ref ${JSON.stringify(ref)} is used more than once`);
  const known = new Set(refs);
  for (const dependency of records(bom.dependencies)) {
    const targets = [dependency.ref, ...(Array.isArray(dependency.dependsOn) ? dependency.dependsOn : [])];
    for (const target of targets) {
      if (typeof target === 'string' && !known.has(target))
        errors.push(`dependency on unknown bom-ref ${JSON.stringify(target)}`);
    }
  }
  return errors;
}

const spdxValidators = new WeakMap<object, ValidateFunction>();

const SPDX_ID = /^SPDXRef-[A-Za-z0-9.-]+$/;
const SPDX_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/**
 * Validates SPDX 2.3 JSON against the SPDX project's JSON schema, which the caller supplies (product
 * code does not ship it; tests load test/fixtures/schemas/spdx-2.3.schema.json).
 */
export function validateSpdx(json: string, schema: object): string[] {
  const parsed = parse(json);
  if (parsed.errors.length > 0) return parsed.errors;
  let validate = spdxValidators.get(schema);
  if (!validate) {
    // The published schema is draft-07 and written for loose validators; strict mode would reject it.
    validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    spdxValidators.set(schema, validate);
  }
  const errors = validate(parsed.value) ? [] : describe(validate.errors);

  const document = isRecord(parsed.value) ? parsed.value : {};
  const creation = isRecord(document.creationInfo) ? document.creationInfo : {};
  if (typeof creation.created === 'string' && !SPDX_TIME.test(creation.created)) {
    errors.push(`/creationInfo/created ${JSON.stringify(creation.created)} is not YYYY-MM-DDThh:mm:ssZ`);
  }
  const ids = ['SPDXRef-DOCUMENT', ...records(document.packages).map((p) => p.SPDXID)].filter(
    (id): id is string => typeof id === 'string',
  );
  for (const id of ids)
    if (!SPDX_ID.test(id)) errors.push(`SPDXID ${JSON.stringify(id)} is not SPDXRef-[A-Za-z0-9.-]+`);
  for (const id of duplicates(ids)) errors.push(`SPDXID ${JSON.stringify(id)} is used more than once`);
  const known = new Set(ids);
  for (const r of records(document.relationships)) {
    for (const end of [r.spdxElementId, r.relatedSpdxElement]) {
      if (typeof end === 'string' && !known.has(end) && end !== 'NONE' && end !== 'NOASSERTION') {
        errors.push(`relationship refers to unknown element ${JSON.stringify(end)}`);
      }
    }
  }
  const defined = new Set(records(document.hasExtractedLicensingInfos).map((l) => l.licenseId));
  for (const p of records(document.packages)) {
    for (const field of ['licenseDeclared', 'licenseConcluded'] as const) {
      const value = p[field];
      if (typeof value !== 'string') continue;
      for (const ref of value.match(/LicenseRef-[A-Za-z0-9.-]+/g) ?? []) {
        if (!defined.has(ref))
          errors.push(`${String(p.SPDXID)} ${field} uses ${ref}, which hasExtractedLicensingInfos does not define`);
      }
    }
  }
  return errors;
}
