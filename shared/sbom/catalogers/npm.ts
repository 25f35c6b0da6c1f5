import { PackageURL } from 'packageurl-js';
import type { FileReader, Package, ReadResult } from '../types.js';
import { locationOf, readAll } from './text.js';

// Installed npm packages: the package.json at the root of each node_modules/<name> or
// node_modules/@scope/<name>, at any depth (nested node_modules, pnpm's .pnpm store). package.json files
// elsewhere (the app's own, a package's lib/package.json "type" stub) describe no installed package.

const INSTALLED_PACKAGE_JSON = /(?:^|\/)node_modules\/(?:@[^/.][^/]*\/)?[^/.@][^/]*\/package\.json$/;

/** A package.json larger than this is not a manifest anyone wrote by hand; skip rather than hold it. */
const MAX_PACKAGE_JSON = 4 * 1024 * 1024;

export interface NpmManifest {
  name: string;
  version: string;
  licenses: string[];
}

export const npmReader: FileReader<NpmManifest> = {
  name: 'npm-package-json',
  wants: (path, header) => header.type === 'file' && INSTALLED_PACKAGE_JSON.test(path),
  async read(content) {
    const bytes = await readAll(content, MAX_PACKAGE_JSON);
    if (!bytes) return undefined;
    let manifest: unknown;
    try {
      manifest = JSON.parse(bytes.toString('utf8'));
    } catch {
      // A broken package.json in an image is the image's problem; the package cannot be named, so skip it.
      return undefined;
    }
    if (!isRecord(manifest)) return undefined;
    const { name, version } = manifest;
    if (typeof name !== 'string' || typeof version !== 'string' || name === '' || version === '') return undefined;
    return { name, version, licenses: npmLicenses(manifest) };
  },
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `license: "MIT"`, the old `license: {type}`, or the older `licenses: [{type} | "MIT"]`. */
export function npmLicenses(manifest: Record<string, unknown>): string[] {
  const one = licenseText(manifest.license);
  if (one) return [one];
  const many = manifest.licenses;
  if (Array.isArray(many)) return many.map(licenseText).filter((text): text is string => text !== undefined);
  return licenseText(many) ? [licenseText(many)!] : [];
}

function licenseText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined;
  if (isRecord(value) && typeof value.type === 'string') return value.type.trim() || undefined;
  return undefined;
}

export function npmPackages(results: readonly ReadResult<NpmManifest>[]): Package[] {
  return results.map((result) => {
    const { name, version, licenses } = result.value;
    // packageurl-js takes the scope as the namespace and percent-encodes its @.
    const slash = name.startsWith('@') ? name.indexOf('/') : -1;
    const namespace = slash > 0 ? name.slice(0, slash) : undefined;
    const bare = slash > 0 ? name.slice(slash + 1) : name;
    return {
      ecosystem: 'npm',
      name,
      version,
      purl: new PackageURL('npm', namespace, bare, version, undefined, undefined).toString(),
      licenses,
      location: locationOf(result),
    };
  });
}
