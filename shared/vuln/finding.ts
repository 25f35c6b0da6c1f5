import type { SeverityLevel } from './severity.js';

// What the scan reports and everything else reasons about: one vulnerability in one installed package, and
// when two findings are the same one (OSV records alias each other: GHSA and CVE, DSA and CVE).

export interface Finding {
  /** The OSV id of the record (GHSA-…, DSA-…, CVE-…). */
  id: string;
  /** Other ids of the same vulnerability: OSV aliases, plus `upstream` ids of distro records (CVE-…). */
  aliases: string[];
  /** `ecosystem` is the OSV ecosystem the package was queried as, e.g. `Debian:12`, `npm`. */
  package: { purl: string; name: string; version: string; ecosystem: string };
  severity: SeverityLevel;
  score?: number;
  fixedIn: string[];
  summary: string;
}

/** Every id the finding is known by, upper-cased: ids compare case-insensitively. */
export function idsOf(finding: Finding): Set<string> {
  return new Set([finding.id, ...finding.aliases].map((id) => id.toUpperCase()));
}

/** Whether any of `names` is one of the finding's ids (aliases counted). */
export function namesVulnerability(finding: Finding, names: readonly string[]): boolean {
  const ids = idsOf(finding);
  return names.some((name) => ids.has(name.toUpperCase()));
}

/** The same vulnerability in the same package: package name equal and ids (aliases counted) intersecting. */
export function sameFinding(a: Finding, b: Finding): boolean {
  if (a.package.name !== b.package.name) return false;
  const ids = idsOf(a);
  return [...idsOf(b)].some((id) => ids.has(id));
}

/** One line for people: id, severity and score, package, and the fix if there is one. */
export function describeFinding(f: Finding): string {
  const score = f.score === undefined ? '' : ` ${f.score.toFixed(1)}`;
  const fix = f.fixedIn.length ? `fixed in ${f.fixedIn.join(', ')}` : 'no fix available';
  return `${f.id} (${f.severity}${score}) in ${f.package.name} ${f.package.version}: ${fix}`;
}
