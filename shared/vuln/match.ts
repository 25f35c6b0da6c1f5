import { PackageURL } from 'packageurl-js';
import type { Exception } from './exceptions.js';
import { type Finding, namesVulnerability } from './finding.js';
import type { VexStatement } from './openvex.js';

// Whether a user's decision (an exception, an OpenVEX statement) is about a given finding: the vulnerability
// by any of its ids, and the package by name or by purl, as loosely as the user wrote it.

function parsePurl(text: string): PackageURL | undefined {
  try {
    return PackageURL.fromString(text);
  } catch {
    return undefined;
  }
}

/**
 * Whether `pattern` names the finding's package: a plain name compares with the name; a purl matches when
 * type, namespace and name agree and, if the pattern has them, the version and each of its qualifiers. So
 * `pkg:deb/debian/openssl` matches every version and architecture, and a qualifier-free purl matches one with
 * `?arch=amd64&distro=debian-12`.
 */
export function matchesPackage(pattern: string, pkg: Finding['package']): boolean {
  if (!pattern.startsWith('pkg:')) return pattern === pkg.name;
  const want = parsePurl(pattern);
  const have = parsePurl(pkg.purl);
  if (!want || !have) return pattern === pkg.purl;
  if (want.type !== have.type || (want.namespace ?? '') !== (have.namespace ?? '') || want.name !== have.name)
    return false;
  if (want.version !== undefined && want.version !== have.version) return false;
  for (const [key, value] of Object.entries(want.qualifiers ?? {})) {
    if (have.qualifiers?.[key] !== value) return false;
  }
  return true;
}

/** An exception names the finding's vulnerability and, if it lists packages, the finding's package. */
export function exceptionApplies(exception: Exception, finding: Finding): boolean {
  return (
    namesVulnerability(finding, [exception.id]) &&
    (exception.packages === undefined || exception.packages.some((p) => matchesPackage(p, finding.package)))
  );
}

/**
 * A statement names the finding's vulnerability and a product that is the finding's package, one of its
 * subcomponents, or (`subjects`: the image's own ids) the image itself.
 */
export function vexApplies(statement: VexStatement, finding: Finding, subjects: readonly string[]): boolean {
  if (!namesVulnerability(finding, [statement.vulnerability, ...statement.aliases])) return false;
  return statement.products.some((product) => {
    if (product.ids.some((id) => matchesPackage(id, finding.package))) return true;
    if (product.subcomponents.some((id) => matchesPackage(id, finding.package))) return true;
    // A statement about the image itself, with no subcomponents, covers everything in it.
    return (
      product.subcomponents.length === 0 &&
      product.ids.some((id) => subjects.some((subject) => id === subject || matchesSubject(id, subject)))
    );
  });
}

function matchesSubject(pattern: string, subject: string): boolean {
  const parsed = parsePurl(subject);
  if (!parsed) return false;
  return matchesPackage(pattern, { purl: subject, name: parsed.name, version: parsed.version ?? '', ecosystem: '' });
}
