import { createHash } from 'node:crypto';
import { SPDX } from '@cyclonedx/cyclonedx-library';
import parseSpdx from 'spdx-expression-parse';
import { InvalidValueError } from '../core/errors.js';
import { rfc3339Seconds } from '../core/time.js';
import type { Digest } from '../oci/types.js';
import type { Package, PlatformInventory } from './types.js';

// The SPDX 2.3 JSON writer, and the pieces both writers share (name-based UUIDs, short stable hashes,
// licence reading, the image purl, package order). Everything in a document is derived from the
// inventory: no wall clock, no randomness, every list sorted by code point (never localeCompare, whose
// order follows the runner's locale), so one image gives one SBOM digest on any machine, on any re-run.

/**
 * The UUIDv5 namespace of every UUID Slipway puts in an SBOM: UUIDv5(RFC 4122 URL namespace,
 * "https://slipway.dev/sbom"). Fixed forever: changing it would change every serial number and namespace.
 */
export const SLIPWAY_SBOM_NAMESPACE = '2d24ef62-231c-5eea-b931-85546818f9f8';

/** RFC 4122 (RFC 9562) version 5: SHA-1 of namespace bytes + name, with version and variant bits set. */
export function uuidV5(namespace: string, name: string): string {
  const hex = namespace.replaceAll('-', '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new InvalidValueError('UUID namespace', namespace, 'a UUID');
  const bytes = createHash('sha1').update(Buffer.from(hex, 'hex')).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** 16 hex digits of SHA-256: enough to tell apart the few packages that share a name or purl. */
export function shortHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 16);
}

/** Code-point order, the same on every machine. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Packages in the order the writers emit them: ecosystem, name, version, purl, path. The inventory is
 * meant to arrive sorted already; sorting again makes the bytes independent of the caller's order.
 */
export function sortPackages(packages: readonly Package[]): Package[] {
  const key = (p: Package): string[] => [
    p.ecosystem,
    p.name,
    p.version,
    p.purl,
    p.location.path,
    String(p.location.layer),
  ];
  return [...packages].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < ka.length; i++) {
      const c = compareText(ka[i]!, kb[i]!);
      if (c !== 0) return c;
    }
    return 0;
  });
}

/**
 * The document timestamp: `created` in UTC, whole seconds (SPDX requires YYYY-MM-DDThh:mm:ssZ; image
 * configs often carry nanoseconds or an offset). Only RFC 3339 is accepted, since Date.parse would
 * otherwise take locale-ish strings and a typo in SOURCE_DATE_EPOCH handling would go unnoticed.
 */
export function documentTime(created: string): Date {
  const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
  const ms = rfc3339.test(created) ? Date.parse(created) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new InvalidValueError('SBOM creation time', created, 'an RFC 3339 date-time such as 2024-05-01T12:00:00Z');
  }
  return new Date(Math.floor(ms / 1000) * 1000);
}

/**
 * `pkg:oci/<repository>@<digest>?arch=…&os=…&repository_url=<name>` (purl-spec oci type). Built by hand
 * rather than with packageurl-js because the spec's examples percent-encode the digest's colon
 * (`sha256%3A…`) and packageurl-js leaves it bare. Qualifiers are in the spec's canonical (sorted) order;
 * `variant` is not a spec qualifier but is the only way to tell linux/arm/v6 from linux/arm/v7.
 */
export function imagePurl(inventory: PlatformInventory): string {
  const repository = inventory.name.slice(inventory.name.lastIndexOf('/') + 1).toLowerCase();
  const qualifiers: [string, string][] = [
    ['arch', inventory.platform.architecture],
    ['os', inventory.platform.os],
    ['repository_url', inventory.name],
  ];
  if (inventory.platform.variant) qualifiers.push(['variant', inventory.platform.variant]);
  const query = qualifiers.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  return `pkg:oci/${encodeURIComponent(repository)}@${encodeURIComponent(inventory.manifestDigest)}?${query}`;
}

/** The digest's algorithm and hex, for checksum fields. */
export function splitDigest(digest: Digest): { algorithm: string; hex: string } {
  const colon = digest.indexOf(':');
  return { algorithm: digest.slice(0, colon), hex: digest.slice(colon + 1) };
}

/** A licence as a package declared it, read once so both documents say the same thing. */
export type DeclaredLicence =
  /** A valid SPDX expression, re-rendered canonically (upper-case operators, minimal parentheses). */
  | { valid: true; expression: string; compound: boolean; simpleId?: string }
  /** Free text that is no SPDX expression ("Apache 2.0", "GPL", "see LICENSE"). */
  | { valid: false; text: string };

type SpdxNode = parseSpdx.Info;

function render(node: SpdxNode, parent?: 'and' | 'or'): string {
  if ('conjunction' in node) {
    const text = `${render(node.left, node.conjunction)} ${node.conjunction.toUpperCase()} ${render(node.right, node.conjunction)}`;
    // Parentheses only where the operator changes, so "A OR B AND C" cannot be misread.
    return parent && parent !== node.conjunction ? `(${text})` : text;
  }
  return `${node.license}${node.plus ? '+' : ''}${node.exception ? ` WITH ${node.exception}` : ''}`;
}

export function readLicence(text: string): DeclaredLicence {
  const trimmed = text.trim();
  const attempt = (candidate: string): DeclaredLicence | undefined => {
    // A DocumentRef- points into another SPDX document we cannot name, so it is kept as text.
    if (candidate.includes('DocumentRef-')) return undefined;
    try {
      const node = parseSpdx(candidate);
      const compound = 'conjunction' in node;
      const simple = !compound && !node.plus && !node.exception ? node.license : undefined;
      return { valid: true, expression: render(node), compound, ...(simple ? { simpleId: simple } : {}) };
    } catch {
      return undefined;
    }
  };
  // A lone id in the wrong case ("mit", "apache-2.0") is still plainly that licence.
  const fixed = /^\S+$/.test(trimmed) ? SPDX.fixupSpdxId(trimmed) : undefined;
  return attempt(trimmed) ?? (fixed ? attempt(fixed) : undefined) ?? { valid: false, text: trimmed };
}

const NOASSERTION = 'NOASSERTION';

/** Letters, digits, "." and "-" only: the alphabet of SPDXRef- and LicenseRef- ids. */
export function sanitiseId(text: string): string {
  const clean = text
    .replace(/[^A-Za-z0-9.-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-|-$/g, '');
  return clean === '' ? 'unknown' : clean;
}

interface SpdxPackage {
  SPDXID: string;
  name: string;
  versionInfo?: string;
  supplier: string;
  downloadLocation: string;
  filesAnalyzed: false;
  checksums?: { algorithm: string; checksumValue: string }[];
  sourceInfo?: string;
  licenseConcluded: string;
  licenseDeclared: string;
  copyrightText: string;
  comment?: string;
  externalRefs?: { referenceCategory: string; referenceType: string; referenceLocator: string }[];
  primaryPackagePurpose?: string;
}

const CHECKSUM_ALGORITHMS: Record<string, string> = { sha256: 'SHA256', sha384: 'SHA384', sha512: 'SHA512' };

/**
 * Free-text licences get LicenseRef- ids. Two texts that sanitise alike, or a text whose id a package
 * already declares itself, get a hash suffix, so one id never stands for two licences.
 */
function licenceRefs(texts: Iterable<string>, declared: ReadonlySet<string>): Map<string, string> {
  const byId = new Map<string, string[]>();
  for (const text of [...new Set(texts)].sort(compareText)) {
    const id = `LicenseRef-${sanitiseId(text)}`;
    byId.set(id, [...(byId.get(id) ?? []), text]);
  }
  const refs = new Map<string, string>();
  for (const [id, group] of byId) {
    const clash = group.length > 1 || declared.has(id);
    for (const text of group) refs.set(text, clash ? `${id}-${shortHash(text).slice(0, 8)}` : id);
  }
  return refs;
}

/** Several declared licences mean the package carries all of them, as syft's licenseDeclared says too. */
function declaredExpression(licences: readonly DeclaredLicence[], refs: Map<string, string>): string {
  const parts = licences.map((l) =>
    l.valid ? (l.compound && licences.length > 1 ? `(${l.expression})` : l.expression) : refs.get(l.text)!,
  );
  const unique = [...new Set(parts)].sort(compareText);
  return unique.length === 0 ? NOASSERTION : unique.join(' AND ');
}

/** SPDX 2.3 JSON for one platform image, byte-identical for the same inventory. */
export function writeSpdx(inventory: PlatformInventory, tool: { name: 'slipway'; version: string }): string {
  const created = rfc3339Seconds(documentTime(inventory.created));
  const packages = sortPackages(inventory.packages);
  const licences = new Map(packages.map((p) => [p, p.licenses.filter((l) => l.trim() !== '').map(readLicence)]));
  const declaredLicences = [...licences.values()].flat();
  // LicenseRefs a package declares itself must be defined in the document too; we have only their name.
  const declaredRefs = new Set(
    declaredLicences.flatMap((l) => (l.valid ? (l.expression.match(/LicenseRef-[A-Za-z0-9.-]+/g) ?? []) : [])),
  );
  const refs = licenceRefs(
    declaredLicences.flatMap((l) => (l.valid ? [] : [l.text])),
    declaredRefs,
  );
  const layerDigest = (layer: number): string => inventory.layers[layer]?.digest ?? `layer ${layer}`;

  const { algorithm, hex } = splitDigest(inventory.manifestDigest);
  const checksum = CHECKSUM_ALGORITHMS[algorithm];
  const image: SpdxPackage = {
    SPDXID: 'SPDXRef-Image',
    name: inventory.name,
    versionInfo: inventory.manifestDigest,
    supplier: NOASSERTION,
    downloadLocation: NOASSERTION,
    filesAnalyzed: false,
    ...(checksum ? { checksums: [{ algorithm: checksum, checksumValue: hex }] } : {}),
    licenseConcluded: NOASSERTION,
    licenseDeclared: NOASSERTION,
    copyrightText: NOASSERTION,
    comment: `Platform image ${inventory.platform.os}/${inventory.platform.architecture}${inventory.platform.variant ? `/${inventory.platform.variant}` : ''}; layers: ${inventory.layers.map((l) => l.digest).join(', ') || 'none'}.`,
    externalRefs: [
      { referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: imagePurl(inventory) },
    ],
    primaryPackagePurpose: 'CONTAINER',
  };

  const described: SpdxPackage[] = [image];
  const contained: string[] = [];
  if (inventory.distro) {
    const d = inventory.distro;
    const os: SpdxPackage = {
      SPDXID: `SPDXRef-OperatingSystem-${sanitiseId(d.id)}${d.versionId ? `-${sanitiseId(d.versionId)}` : ''}`,
      name: d.id,
      ...(d.versionId ? { versionInfo: d.versionId } : {}),
      supplier: NOASSERTION,
      downloadLocation: NOASSERTION,
      filesAnalyzed: false,
      licenseConcluded: NOASSERTION,
      licenseDeclared: NOASSERTION,
      copyrightText: NOASSERTION,
      ...(d.prettyName || d.codename
        ? { comment: [d.prettyName, d.codename ? `codename ${d.codename}` : undefined].filter(Boolean).join('; ') }
        : {}),
      primaryPackagePurpose: 'OPERATING_SYSTEM',
    };
    described.push(os);
    contained.push(os.SPDXID);
  }

  const seen = new Set<string>();
  for (const p of packages) {
    // The hash covers purl and path, so the same package found twice (two node_modules copies) gets two
    // ids; an exact duplicate still gets a distinct one by its ordinal, which the sort makes stable.
    const base = `SPDXRef-Package-${p.ecosystem}-${sanitiseId(p.name)}-${shortHash(`${p.purl}\n${p.location.path}`)}`;
    let id = base;
    for (let n = 2; seen.has(id); n++) id = `${base}-${n}`;
    seen.add(id);
    const source = p.source ? `; source package ${p.source.name}${p.source.version ? ` ${p.source.version}` : ''}` : '';
    described.push({
      SPDXID: id,
      name: p.name,
      ...(p.version ? { versionInfo: p.version } : {}),
      supplier: NOASSERTION,
      downloadLocation: NOASSERTION,
      filesAnalyzed: false,
      sourceInfo: `found in /${p.location.path} (layer ${layerDigest(p.location.layer)})${source}`,
      licenseConcluded: NOASSERTION,
      licenseDeclared: declaredExpression(licences.get(p) ?? [], refs),
      copyrightText: NOASSERTION,
      ...(p.purl
        ? { externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: p.purl }] }
        : {}),
    });
    contained.push(id);
  }

  const extracted = [
    ...[...refs].map(([text, licenseId]) => ({ licenseId, extractedText: text, name: text })),
    ...[...declaredRefs].map((licenseId) => ({ licenseId, extractedText: licenseId, name: licenseId })),
  ].sort((a, b) => compareText(a.licenseId, b.licenseId));
  const uuid = uuidV5(SLIPWAY_SBOM_NAMESPACE, `spdx:${inventory.name}@${inventory.manifestDigest}`);
  const document = {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `${inventory.name}@${inventory.manifestDigest}`,
    documentNamespace: `https://slipway.dev/spdx/${inventory.name}/${inventory.manifestDigest}-${uuid}`,
    creationInfo: { created, creators: [`Tool: ${tool.name}-${tool.version}`] },
    packages: described,
    ...(extracted.length > 0 ? { hasExtractedLicensingInfos: extracted } : {}),
    relationships: [
      { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: 'SPDXRef-Image' },
      ...contained.map((id) => ({
        spdxElementId: 'SPDXRef-Image',
        relationshipType: 'CONTAINS',
        relatedSpdxElement: id,
      })),
    ],
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}
