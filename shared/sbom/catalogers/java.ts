import { PackageURL } from 'packageurl-js';
import { type Entry, fromBufferPromise, type ZipFile } from 'yauzl';
import type { FileReader, Package, ReadResult } from '../types.js';
import { baseName, isSpdxExpression, locationOf, readAll } from './text.js';

// Java archives (jar, war, ear) and the archives nested in them (WEB-INF/lib, BOOT-INF/lib, an ear's
// modules), to any depth. Zip needs random access (the central directory is at the end), so this is the
// one reader that buffers whole files; it keeps only the packages found. An archive with
// META-INF/maven/<g>/<a>/pom.properties yields one package per such file (shaded jars carry several);
// one without yields a single package from MANIFEST.MF and the file name.

const ARCHIVE = /\.(?:jar|war|ear)$/i;
const MAX_ARCHIVE = 512 * 1024 * 1024;
const MAX_NESTED = 128 * 1024 * 1024;
const MAX_METADATA = 1024 * 1024;
/** Deeper nesting than an ear's war's jar is not something builds produce; it bounds a crafted archive. */
const MAX_DEPTH = 4;

export interface JavaPackageInfo {
  groupId?: string;
  artifactId: string;
  version: string;
  licenses: string[];
  /** Outer path inside the image, then each nested archive, joined with ":" as syft does. */
  virtualPath: string;
  evidence: 'pom.properties' | 'MANIFEST.MF';
}

export interface JavaArchiveInfo {
  packages: JavaPackageInfo[];
  /** Archives (or nested archives) that could not be read; the rest of the image is still catalogued. */
  errors: string[];
}

export const javaReader: FileReader<JavaArchiveInfo> = {
  name: 'java-archive',
  wants: (path, header) => header.type === 'file' && header.size > 0 && ARCHIVE.test(path),
  async read(content, path) {
    const bytes = await readAll(content, MAX_ARCHIVE);
    if (!bytes) return { packages: [], errors: [`${path}: larger than ${MAX_ARCHIVE} bytes, skipped`] };
    const info: JavaArchiveInfo = { packages: [], errors: [] };
    await readArchive(bytes, path, 0, info);
    return info;
  },
};

/** Reads one archive's metadata into `info`, then each nested archive. */
export async function readArchive(bytes: Buffer, virtualPath: string, depth: number, info: JavaArchiveInfo) {
  let zip: ZipFile;
  try {
    zip = await fromBufferPromise(bytes, { lazyEntries: true, strictFileNames: false });
  } catch (error) {
    info.errors.push(`${virtualPath}: ${(error as Error).message}`);
    return;
  }
  let manifest: Map<string, string> | undefined;
  const poms: Map<string, string>[] = [];
  const nested: { name: string; bytes: Buffer }[] = [];
  try {
    for await (const entry of zip.eachEntry()) {
      const name = entry.fileName;
      if (name.endsWith('/')) continue;
      if (name === 'META-INF/MANIFEST.MF') {
        const text = await entryBytes(zip, entry, MAX_METADATA);
        if (text) manifest = parseManifest(text.toString('utf8'));
      } else if (/^META-INF\/maven\/[^/]+\/[^/]+\/pom\.properties$/.test(name)) {
        const text = await entryBytes(zip, entry, MAX_METADATA);
        if (text) poms.push(parseProperties(text.toString('utf8')));
      } else if (ARCHIVE.test(name) && depth < MAX_DEPTH) {
        const inner = await entryBytes(zip, entry, MAX_NESTED);
        if (inner) nested.push({ name, bytes: inner });
        else info.errors.push(`${virtualPath}:${name}: larger than ${MAX_NESTED} bytes, skipped`);
      }
    }
  } catch (error) {
    info.errors.push(`${virtualPath}: ${(error as Error).message}`);
  } finally {
    zip.close();
  }

  const licenses = manifestLicenses(manifest);
  const fromPoms = poms.flatMap((pom): JavaPackageInfo[] => {
    const artifactId = pom.get('artifactId');
    const version = pom.get('version');
    if (!artifactId || !version) return [];
    const pkg: JavaPackageInfo = { artifactId, version, licenses, virtualPath, evidence: 'pom.properties' };
    const groupId = pom.get('groupId');
    if (groupId) pkg.groupId = groupId;
    return [pkg];
  });
  if (fromPoms.length > 0) info.packages.push(...fromPoms);
  else {
    const pkg = manifestPackage(manifest, virtualPath, licenses);
    if (pkg) info.packages.push(pkg);
  }
  for (const inner of nested) await readArchive(inner.bytes, `${virtualPath}:${inner.name}`, depth + 1, info);
}

async function entryBytes(zip: ZipFile, entry: Entry, limit: number): Promise<Buffer | undefined> {
  if (entry.uncompressedSize > limit) return undefined;
  const stream = await zip.openReadStreamPromise(entry);
  return readAll(stream, limit);
}

/** The main section of a manifest: `Name: value` lines, continued by lines starting with one space. */
export function parseManifest(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  let lastKey: string | undefined;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') break;
    if (line.startsWith(' ') && lastKey) {
      fields.set(lastKey, fields.get(lastKey) + line.slice(1));
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    lastKey = line.slice(0, colon).trim();
    fields.set(lastKey, line.slice(colon + 1).trim());
  }
  return fields;
}

/** java.util.Properties, enough for the flat `key=value` files Maven writes. */
export function parseProperties(text: string): Map<string, string> {
  const properties = new Map<string, string>();
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const match = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (match?.[1]) properties.set(match[1], match[2] ?? '');
  }
  return properties;
}

function manifestLicenses(manifest: Map<string, string> | undefined): string[] {
  // Bundle-License is often a URL; keep it only when it is an SPDX expression.
  const license = manifest?.get('Bundle-License')?.trim();
  return license && isSpdxExpression(license) ? [license] : [];
}

/** `commons-lang3-3.12.0.jar` → commons-lang3 and 3.12.0. */
export function nameFromFile(fileName: string): { name: string; version?: string } {
  const stem = fileName.replace(ARCHIVE, '');
  const match = /^(.+?)-(\d[^-]*(?:-.+)?)$/.exec(stem);
  return match?.[1] && match[2] ? { name: match[1], version: match[2] } : { name: stem };
}

/**
 * The file name usually is the artifact id (Implementation-Title is a display name like "Apache Commons
 * Lang"), so it names the package when it carries a version; otherwise the manifest's identifiers do.
 */
function manifestPackage(
  manifest: Map<string, string> | undefined,
  virtualPath: string,
  licenses: string[],
): JavaPackageInfo | undefined {
  const fromFile = nameFromFile(baseName(virtualPath.slice(virtualPath.lastIndexOf(':') + 1)));
  const m = manifest ?? new Map<string, string>();
  const symbolic = m.get('Bundle-SymbolicName')?.split(';')[0]?.trim();
  const artifactId =
    (fromFile.version ? fromFile.name : undefined) ??
    m.get('Implementation-Title') ??
    symbolic ??
    m.get('Specification-Title') ??
    fromFile.name;
  const version =
    m.get('Implementation-Version') ?? m.get('Bundle-Version') ?? m.get('Specification-Version') ?? fromFile.version;
  if (!artifactId || !version) return undefined;
  const pkg: JavaPackageInfo = { artifactId, version, licenses, virtualPath, evidence: 'MANIFEST.MF' };
  const groupId = m.get('Implementation-Vendor-Id');
  if (groupId) pkg.groupId = groupId;
  return pkg;
}

export function javaPackages(results: readonly ReadResult<JavaArchiveInfo>[]): Package[] {
  return results.flatMap((result) =>
    result.value.packages.map((info): Package => {
      // The purl spec makes the namespace mandatory for maven; with no group id known, syft-style, the
      // artifact id stands in for it.
      const group = info.groupId ?? info.artifactId;
      const properties: Record<string, string> = {
        'maven.groupId': group,
        'maven.artifactId': info.artifactId,
        'java.evidence': info.evidence,
      };
      if (info.virtualPath !== result.path) properties['java.virtualPath'] = info.virtualPath;
      return {
        ecosystem: 'maven',
        name: info.artifactId,
        version: info.version,
        purl: new PackageURL('maven', group, info.artifactId, info.version, undefined, undefined).toString(),
        licenses: info.licenses,
        location: locationOf(result),
        properties,
      };
    }),
  );
}
