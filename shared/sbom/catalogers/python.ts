import { PackageURL } from 'packageurl-js';
import type { FileReader, Package, ReadResult } from '../types.js';
import { lines, locationOf } from './text.js';

// Installed Python distributions: <site|dist>-packages/<name>.dist-info/METADATA (wheels, pip),
// <name>.egg-info/PKG-INFO (setuptools) or a <name>.egg-info file (distutils, Debian's python3-*).
// Only the header block of core metadata is read; the body (the long description) is skipped.

const DIST_INFO = /(?:^|\/)(?:site|dist)-packages\/[^/]+\.dist-info\/METADATA$/;
const EGG_INFO_DIR = /(?:^|\/)(?:site|dist)-packages\/[^/]+\.egg-info\/PKG-INFO$/;
const EGG_INFO_FILE = /(?:^|\/)(?:site|dist)-packages\/[^/]+\.egg-info$/;

/** Some packages paste the whole licence text into License:; beyond this it is text, not a name. */
const MAX_LICENSE_NAME = 200;

export interface PythonMetadata {
  name: string;
  version: string;
  licenses: string[];
}

export const pythonReader: FileReader<PythonMetadata> = {
  name: 'python-metadata',
  wants: (path, header) =>
    header.type === 'file' && (DIST_INFO.test(path) || EGG_INFO_DIR.test(path) || EGG_INFO_FILE.test(path)),
  async read(content) {
    const headers = new Map<string, string[]>();
    let last: string[] | undefined;
    for await (const line of lines(content)) {
      // The headers end at the first blank line; the rest is the description.
      if (line === '') break;
      if ((line.startsWith(' ') || line.startsWith('\t')) && last && last.length > 0) {
        last[last.length - 1] += `\n${line.trim()}`;
        continue;
      }
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const key = line.slice(0, colon).trim().toLowerCase();
      if (!KEPT.has(key)) {
        last = undefined;
        continue;
      }
      const value = line.slice(colon + 1).trim();
      if (key === 'classifier' && !value.startsWith('License ::')) {
        last = undefined;
        continue;
      }
      last = headers.get(key) ?? [];
      last.push(value);
      headers.set(key, last);
    }
    const name = headers.get('name')?.[0];
    const version = headers.get('version')?.[0];
    if (!name || !version) return undefined;
    return { name, version, licenses: pythonLicenses(headers) };
  },
};

const KEPT = new Set(['name', 'version', 'license', 'license-expression', 'classifier']);

/**
 * License-Expression (core metadata 2.4) is SPDX and wins; then License when it is a short name rather
 * than a pasted licence text; then the trove classifiers' last segment ("MIT License").
 */
function pythonLicenses(headers: Map<string, string[]>): string[] {
  const expression = headers.get('license-expression')?.[0];
  if (expression) return [expression];
  const license = headers.get('license')?.[0]?.trim();
  if (license && license !== 'UNKNOWN' && !license.includes('\n') && license.length <= MAX_LICENSE_NAME) {
    return [license];
  }
  const fromClassifiers = (headers.get('classifier') ?? [])
    .map((classifier) => classifier.split('::').at(-1)?.trim() ?? '')
    .filter((text) => text !== '' && text !== 'OSI Approved');
  return [...new Set(fromClassifiers)];
}

/** PEP 503: runs of -, _ and . become one -, lower case. */
export function normalizePythonName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

export function pythonPackages(results: readonly ReadResult<PythonMetadata>[]): Package[] {
  // One directory can hold the same distribution twice: Debian's python3-cryptography ships both a
  // .dist-info and an .egg-info. pip lists it once (one distribution per name on each path entry), so the
  // SBOM does too, keeping the .dist-info, which is what pip reads first.
  const chosen = new Map<string, ReadResult<PythonMetadata>>();
  const ranked = [...results].sort((a, b) => Number(!DIST_INFO.test(a.path)) - Number(!DIST_INFO.test(b.path)));
  for (const result of ranked) {
    const key = `${packagesDirectoryOf(result.path)}\0${normalizePythonName(result.value.name)}`;
    if (!chosen.has(key)) chosen.set(key, result);
  }
  const kept = new Set(chosen.values());
  return results
    .filter((result) => kept.has(result))
    .map((result) => {
      const { name, version, licenses } = result.value;
      return {
        ecosystem: 'pypi',
        name,
        version,
        purl: new PackageURL('pypi', undefined, normalizePythonName(name), version, undefined, undefined).toString(),
        licenses,
        location: locationOf(result),
      };
    });
}

/** The site- or dist-packages directory a metadata file sits in. */
function packagesDirectoryOf(path: string): string {
  const match = /^(.*?(?:site|dist)-packages)\//.exec(path);
  return match?.[1] ?? path;
}
