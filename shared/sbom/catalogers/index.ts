import type { Distro, FileReader, ImageFilesystem, Package, ReadResult } from '../types.js';
import { apkPackages, apkReader } from './apk.js';
import { dpkgPackages, dpkgReader } from './dpkg.js';
import { goBinaryReader, goPackages } from './golang.js';
import { javaPackages, javaReader } from './java.js';
import { npmPackages, npmReader } from './npm.js';
import { distroFrom, osReleaseReader } from './os-release.js';
import { pythonPackages, pythonReader } from './python.js';

// Every cataloger the SBOM step runs over an image. RPM (rpmdb as sqlite, Berkeley DB or ndb) is left
// out: no well-kept rpmdb reader exists on npm and none is installed, and a hand-written BDB/ndb parser
// is its own project; RHEL/Fedora/SUSE-based images therefore list no OS packages yet.

/** Readers the layer walker drives, one pass over every layer. */
export const ALL_READERS: FileReader<unknown>[] = [
  osReleaseReader,
  dpkgReader,
  apkReader,
  npmReader,
  pythonReader,
  goBinaryReader,
  javaReader,
];

export interface Catalog {
  distro?: Distro;
  /** Sorted by ecosystem, name, version, path (then purl, so equal keys still order the same every run). */
  packages: Package[];
  /** Evidence that was found but could not be used (old Go build info, unreadable archives). */
  warnings: string[];
}

/**
 * The results map is keyed by reader name and holds what that reader's read() returned, so the cast
 * below only restates what the walker stored.
 */
function resultsOf<T>(fs: ImageFilesystem, reader: FileReader<T>): ReadResult<T>[] {
  return (fs.results.get(reader.name) ?? []) as ReadResult<T>[];
}

export function catalog(fs: ImageFilesystem): Catalog {
  const distro = distroFrom(resultsOf(fs, osReleaseReader));
  const warnings: string[] = [];
  const goResults = resultsOf(fs, goBinaryReader);
  for (const result of goResults) {
    if (result.value.kind === 'unsupported') warnings.push(`${result.path}: ${result.value.reason}`);
  }
  const javaResults = resultsOf(fs, javaReader);
  for (const result of javaResults) warnings.push(...result.value.errors);
  const packages = [
    ...dpkgPackages(resultsOf(fs, dpkgReader), distro),
    ...apkPackages(resultsOf(fs, apkReader), distro),
    ...npmPackages(resultsOf(fs, npmReader)),
    ...pythonPackages(resultsOf(fs, pythonReader)),
    ...goPackages(goResults),
    ...javaPackages(javaResults),
  ].sort(comparePackages);
  const result: Catalog = { packages, warnings: warnings.sort() };
  if (distro) result.distro = distro;
  return result;
}

/** Code-unit order, not localeCompare: the output must be byte-identical whatever the runner's locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function comparePackages(a: Package, b: Package): number {
  return (
    compare(a.ecosystem, b.ecosystem) ||
    compare(a.name, b.name) ||
    compare(a.version, b.version) ||
    compare(a.location.path, b.location.path) ||
    compare(a.purl, b.purl)
  );
}
