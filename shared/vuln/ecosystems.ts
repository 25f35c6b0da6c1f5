import { PackageURL } from 'packageurl-js';
import type { Distro, Package } from '../sbom/types.js';

// Turns an inventory package into the key OSV indexes advisories by. The mapping is not the identity:
// Debian and Ubuntu advisories name the SOURCE package (openssl, not libssl3), Alpine's name the origin,
// OS ecosystems carry the release (`Debian:12`, `Alpine:v3.20`), and Go versions drop their `v`/`go`
// prefix. A package we cannot map is returned with the reason, so the report can say what was not checked
// instead of letting it look clean.

/** One OSV query: `package.{name, ecosystem}` plus a version (never a versioned purl, which OSV refuses with 400). */
export interface OsvQuery {
  package: { name: string; ecosystem: string };
  version: string;
}

export interface NotQueried {
  package: Package;
  reason: string;
}

export type QueryMapping = { query: OsvQuery } | { notQueried: string };

/** The OSV query for one package, or why there is none. */
export function osvQueryFor(pkg: Package, distro: Distro | undefined): QueryMapping {
  if (!pkg.version) return { notQueried: 'the package has no version' };
  switch (pkg.ecosystem) {
    case 'deb':
      return debianQuery(pkg, distro);
    case 'apk':
      return alpineQuery(pkg, distro);
    case 'npm':
      return query('npm', pkg.name, pkg.version);
    case 'pypi':
      return query('PyPI', pkg.name, pkg.version);
    case 'golang':
      return goQuery(pkg);
    case 'maven':
      return mavenQuery(pkg);
    default:
      return { notQueried: `OSV has no ecosystem mapping for ${pkg.ecosystem} packages in Slipway yet` };
  }
}

function query(ecosystem: string, name: string, version: string): QueryMapping {
  return { query: { package: { name, ecosystem }, version } };
}

function debianQuery(pkg: Package, distro: Distro | undefined): QueryMapping {
  const id = distro?.id?.toLowerCase();
  let ecosystem: string;
  if (id === 'debian') {
    // Debian keys releases by major version only ("12", not "12.5"); testing and sid have no VERSION_ID.
    const major = distro?.versionId?.match(/^(\d+)/)?.[1];
    if (!major) return { notQueried: 'the Debian release has no numeric VERSION_ID (testing or sid?)' };
    ecosystem = `Debian:${major}`;
  } else if (id === 'ubuntu') {
    const version = distro?.versionId?.match(/^(\d+\.\d+)/)?.[1];
    if (!version) return { notQueried: 'the Ubuntu release has no VERSION_ID' };
    ecosystem = `Ubuntu:${version}`;
  } else {
    return {
      notQueried: `deb packages on ${distro ? `distro "${distro.id}"` : 'an unknown distro'} have no OSV ecosystem`,
    };
  }
  // Advisories list source versions in their ranges; a binNMU (1.2-3+b1) or a binary versioned apart from its
  // source would compare wrongly, so the source version wins when the inventory recorded one.
  return query(ecosystem, pkg.source?.name ?? pkg.name, pkg.source?.version ?? pkg.version);
}

function alpineQuery(pkg: Package, distro: Distro | undefined): QueryMapping {
  if (distro?.id?.toLowerCase() !== 'alpine') {
    return {
      notQueried: `apk packages on ${distro ? `distro "${distro.id}"` : 'an unknown distro'} have no OSV ecosystem`,
    };
  }
  const release = distro.versionId?.match(/^(\d+)\.(\d+)/);
  if (!release) return { notQueried: 'the Alpine release has no major.minor VERSION_ID' };
  // Sub-packages (libcrypto3, libssl3) share their origin's (openssl) version, so only the name changes.
  return query(`Alpine:v${release[1]}.${release[2]}`, pkg.source?.name ?? pkg.name, pkg.version);
}

function goQuery(pkg: Package): QueryMapping {
  if (pkg.version === '(devel)') return { notQueried: 'a (devel) Go main module has no version to compare' };
  if (pkg.name === 'stdlib') {
    // Syft records the toolchain as go1.22.1; OSV's stdlib ranges are plain semver.
    return query('Go', 'stdlib', pkg.version.replace(/^go/, ''));
  }
  // OSV's Go ranges are written without the module-version `v`, and osv-scanner strips it the same way.
  return query('Go', pkg.name, pkg.version.replace(/^v/, ''));
}

function mavenQuery(pkg: Package): QueryMapping {
  // The purl holds the group id reliably; the name alone may be just the artifact id.
  let group = pkg.properties?.groupId;
  let artifact = pkg.name;
  try {
    const purl = PackageURL.fromString(pkg.purl);
    if (purl.namespace) group = purl.namespace;
    artifact = purl.name;
  } catch {
    // Fall back to the fields; a name already written group:artifact still works.
  }
  if (artifact.includes(':')) return query('Maven', artifact, pkg.version);
  if (!group) return { notQueried: 'the Maven package has no group id' };
  return query('Maven', `${group}:${artifact}`, pkg.version);
}

/** A stable key for a query, used to deduplicate and to join results back to packages. */
export function queryKey(q: OsvQuery): string {
  return JSON.stringify([q.package.ecosystem, q.package.name, q.version]);
}

export interface QueryPlan {
  /** Distinct queries, in first-seen order, each with every package it stands for. */
  queries: { query: OsvQuery; packages: Package[] }[];
  notQueried: NotQueried[];
}

/** Maps every package; several binary packages of one source share a query. */
export function planQueries(packages: readonly Package[], distro: Distro | undefined): QueryPlan {
  const byKey = new Map<string, { query: OsvQuery; packages: Package[] }>();
  const notQueried: NotQueried[] = [];
  for (const pkg of packages) {
    const mapped = osvQueryFor(pkg, distro);
    if ('notQueried' in mapped) {
      notQueried.push({ package: pkg, reason: mapped.notQueried });
      continue;
    }
    const key = queryKey(mapped.query);
    const entry = byKey.get(key);
    if (entry) entry.packages.push(pkg);
    else byKey.set(key, { query: mapped.query, packages: [pkg] });
  }
  return { queries: [...byKey.values()], notQueried };
}
