import { InvalidValueError } from '../core/errors.js';

// OpenVEX documents: a supplier's statements that a product is (not) affected by a vulnerability. Only
// not_affected (with its justification) and fixed suppress a finding; the gate decides which statement wins.

export type VexStatus = 'not_affected' | 'affected' | 'fixed' | 'under_investigation';

export interface VexStatement {
  vulnerability: string;
  aliases: string[];
  /** Each product's ids (`@id` and `identifiers.purl`) and its subcomponents' ids. */
  products: { ids: string[]; subcomponents: string[] }[];
  status: VexStatus;
  justification?: string;
  impactStatement?: string;
  /** RFC 3339; the statement's own or the document's. Later statements override earlier ones. */
  timestamp?: string;
  source: { file: string; index: number };
}

const VEX_STATUSES: readonly VexStatus[] = ['not_affected', 'affected', 'fixed', 'under_investigation'];

/** Parses an OpenVEX document (v0.2.0; the older string forms of vulnerability and product are accepted). */
export function parseVex(text: string, file: string): VexStatement[] {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new InvalidValueError(`OpenVEX file ${file}`, '', 'JSON', (error as Error).message);
  }
  const doc = document as { '@context'?: unknown; statements?: unknown; timestamp?: unknown } | null;
  if (
    !doc ||
    typeof doc !== 'object' ||
    typeof doc['@context'] !== 'string' ||
    !doc['@context'].startsWith('https://openvex.dev/ns')
  ) {
    throw new InvalidValueError(
      `OpenVEX file ${file}`,
      String(doc?.['@context'] ?? ''),
      'an @context of https://openvex.dev/ns/v0.2.0',
    );
  }
  if (!Array.isArray(doc.statements)) {
    throw new InvalidValueError(`OpenVEX file ${file}`, '', 'a `statements` list', 'no statements');
  }
  const docTimestamp = typeof doc.timestamp === 'string' ? doc.timestamp : undefined;
  return doc.statements.map((statement: unknown, index: number) =>
    parseStatement(statement, file, index, docTimestamp),
  );
}

function parseStatement(value: unknown, file: string, index: number, docTimestamp: string | undefined): VexStatement {
  const field = (name: string) => `field '${name}' of statements[${index}] in ${file}`;
  const raw = (value ?? {}) as Record<string, unknown>;
  let vulnerability: string | undefined;
  let aliases: string[] = [];
  if (typeof raw.vulnerability === 'string') vulnerability = raw.vulnerability;
  else if (raw.vulnerability && typeof raw.vulnerability === 'object') {
    const v = raw.vulnerability as { name?: unknown; aliases?: unknown };
    if (typeof v.name === 'string') vulnerability = v.name;
    if (Array.isArray(v.aliases)) aliases = v.aliases.filter((a): a is string => typeof a === 'string');
  }
  if (!vulnerability) throw new InvalidValueError(field('vulnerability.name'), '', 'a vulnerability id', 'missing');

  if (!Array.isArray(raw.products) || raw.products.length === 0) {
    throw new InvalidValueError(field('products'), '', 'a list of products with @id', 'missing');
  }
  const products = raw.products.map((product: unknown) => {
    if (typeof product === 'string') return { ids: [product], subcomponents: [] };
    const p = (product ?? {}) as { '@id'?: unknown; identifiers?: { purl?: unknown }; subcomponents?: unknown };
    const ids = [p['@id'], p.identifiers?.purl].filter((id): id is string => typeof id === 'string');
    const subcomponents = Array.isArray(p.subcomponents)
      ? p.subcomponents.flatMap((s: unknown) => {
          if (typeof s === 'string') return [s];
          const sub = (s ?? {}) as { '@id'?: unknown; identifiers?: { purl?: unknown } };
          return [sub['@id'], sub.identifiers?.purl].filter((id): id is string => typeof id === 'string');
        })
      : [];
    if (ids.length === 0) throw new InvalidValueError(field('products[].@id'), '', 'a product id (purl)', 'missing');
    return { ids, subcomponents };
  });

  const status = raw.status;
  if (typeof status !== 'string' || !(VEX_STATUSES as readonly string[]).includes(status)) {
    throw new InvalidValueError(field('status'), String(status ?? ''), VEX_STATUSES.join(', '));
  }
  const justification = typeof raw.justification === 'string' ? raw.justification : undefined;
  const impactStatement = typeof raw.impact_statement === 'string' ? raw.impact_statement : undefined;
  // The spec requires one of them for not_affected; a bare "not affected" is an unexplained suppression.
  if (status === 'not_affected' && !justification && !impactStatement) {
    throw new InvalidValueError(
      field('justification'),
      '',
      'a justification or impact_statement for not_affected',
      'missing',
    );
  }
  const timestamp = typeof raw.timestamp === 'string' ? raw.timestamp : docTimestamp;
  return {
    vulnerability,
    aliases,
    products,
    status: status as VexStatus,
    ...(justification ? { justification } : {}),
    ...(impactStatement ? { impactStatement } : {}),
    ...(timestamp ? { timestamp } : {}),
    source: { file, index },
  };
}
