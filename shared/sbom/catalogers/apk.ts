import { PackageURL } from 'packageurl-js';
import type { Distro, FileReader, Package, ReadResult } from '../types.js';
import { distroQualifier, isSpdxExpression, lines, locationOf } from './text.js';

// Alpine's (and Wolfi's) installed database: stanzas of `X:value` lines separated by blank lines.
// P name, V version, A arch, L licence, o origin (the source package, which secdb advisories use).

const INSTALLED = 'lib/apk/db/installed';

export interface ApkEntry {
  name: string;
  version: string;
  arch?: string;
  license?: string;
  origin?: string;
}

export const apkReader: FileReader<ApkEntry[]> = {
  name: 'apk-installed',
  wants: (path, header) => header.type === 'file' && path === INSTALLED,
  async read(content) {
    const entries: ApkEntry[] = [];
    let fields = new Map<string, string>();
    const finish = () => {
      const name = fields.get('P');
      const version = fields.get('V');
      if (name && version) {
        const entry: ApkEntry = { name, version };
        const arch = fields.get('A');
        const license = fields.get('L');
        const origin = fields.get('o');
        if (arch) entry.arch = arch;
        if (license) entry.license = license;
        if (origin) entry.origin = origin;
        entries.push(entry);
      }
      fields = new Map();
    };
    for await (const line of lines(content)) {
      if (line.trim() === '') {
        finish();
        continue;
      }
      // Keys are one case-sensitive letter (o origin, O is something else); the file lists R: many times.
      if (line[1] !== ':') continue;
      const key = line[0]!;
      if ('PVALo'.includes(key) && !fields.has(key)) fields.set(key, line.slice(2).trim());
    }
    finish();
    return entries;
  },
};

/**
 * Alpine writes L: either as an SPDX expression (newer aports: "MIT AND BSD-2-Clause") or as a
 * space-separated list of names ("MIT BSD GPL2+"); keep an expression whole, split a list.
 */
export function apkLicenses(license: string | undefined): string[] {
  if (!license) return [];
  if (isSpdxExpression(license)) return [license];
  return license.split(/\s+/).filter((part) => part.length > 0);
}

export function apkPackages(results: readonly ReadResult<ApkEntry[]>[], distro?: Distro): Package[] {
  const namespace = distro?.id ?? 'alpine';
  const packages: Package[] = [];
  for (const result of results) {
    for (const entry of result.value) {
      const qualifiers: Record<string, string> = { ...distroQualifier(distro) };
      if (entry.arch) qualifiers.arch = entry.arch;
      if (entry.origin && entry.origin !== entry.name) qualifiers.upstream = entry.origin;
      const pkg: Package = {
        ecosystem: 'apk',
        name: entry.name,
        version: entry.version,
        purl: new PackageURL('apk', namespace, entry.name, entry.version, qualifiers, undefined).toString(),
        licenses: apkLicenses(entry.license),
        location: locationOf(result),
        source: { name: entry.origin ?? entry.name, version: entry.version },
      };
      if (entry.arch) pkg.properties = { architecture: entry.arch };
      packages.push(pkg);
    }
  }
  return packages;
}
