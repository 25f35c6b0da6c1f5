import { PackageURL } from 'packageurl-js';
import type { Distro, FileReader, Package, ReadResult } from '../types.js';
import { distroQualifier, lines, locationOf } from './text.js';

// dpkg's database: var/lib/dpkg/status (one stanza per package ever known, with a Status field), and
// distroless images' var/lib/dpkg/status.d/<name> (one stanza per file, no Status: present means
// installed; the `.md5sums` siblings are file lists, not stanzas).
//
// Licences are not in the status file; they live in usr/share/doc/<pkg>/copyright, free text or DEP-5
// with many License: paragraphs. Reading them would mean a second reader over thousands of files for a
// guess, so licenses stays [] for deb packages (advisories and the gate key on source name and version).

const STATUS = 'var/lib/dpkg/status';
const STATUS_D = 'var/lib/dpkg/status.d/';

/** One installed package as the status file describes it. */
export interface DpkgEntry {
  package: string;
  version: string;
  architecture: string;
  /** From `Source: name` or `Source: name (version)`; absent when the source is the binary's name. */
  source?: string;
  sourceVersion?: string;
}

export const dpkgReader: FileReader<DpkgEntry[]> = {
  name: 'dpkg-status',
  wants(path, header) {
    if (header.type !== 'file') return false;
    if (path === STATUS) return true;
    if (!path.startsWith(STATUS_D)) return false;
    const rest = path.slice(STATUS_D.length);
    return rest.length > 0 && !rest.includes('/') && !rest.endsWith('.md5sums');
  },
  async read(content, path) {
    // In status.d there is no Status field; the file's presence says the package is installed.
    const needsStatus = path === STATUS;
    const entries: DpkgEntry[] = [];
    let fields = new Map<string, string>();
    const finish = () => {
      const entry = entryOf(fields, needsStatus);
      if (entry) entries.push(entry);
      fields = new Map();
    };
    for await (const line of lines(content)) {
      if (line.trim() === '') {
        finish();
        continue;
      }
      // Continuation lines (Description, Conffiles) carry nothing kept.
      if (line.startsWith(' ') || line.startsWith('\t')) continue;
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      // Field names are case-insensitive in deb822.
      const key = line.slice(0, colon).toLowerCase();
      if (KEPT.has(key)) fields.set(key, line.slice(colon + 1).trim());
    }
    finish();
    return entries;
  },
};

const KEPT = new Set(['package', 'version', 'architecture', 'source', 'status']);

function entryOf(fields: Map<string, string>, needsStatus: boolean): DpkgEntry | undefined {
  const name = fields.get('package');
  const version = fields.get('version');
  if (!name || !version) return undefined;
  if (needsStatus && !isInstalled(fields.get('status'))) return undefined;
  const entry: DpkgEntry = { package: name, version, architecture: fields.get('architecture') ?? '' };
  const source = fields.get('source');
  if (source) {
    const match = /^(\S+)(?:\s+\((.+)\))?$/.exec(source);
    if (match?.[1]) {
      entry.source = match[1];
      if (match[2]) entry.sourceVersion = match[2].trim();
    }
  }
  return entry;
}

/**
 * Status is "want flag state". What matters is the state: "installed" means the files are on disk, which
 * includes held packages ("hold ok installed") and ones marked for removal ("deinstall ok installed").
 * Half-installed, config-files and not-installed stanzas describe packages whose files may be absent.
 */
function isInstalled(status: string | undefined): boolean {
  const parts = status?.split(/\s+/) ?? [];
  return parts.length === 3 && parts[1] === 'ok' && parts[2] === 'installed';
}

/** Packages from dpkg results; the purl namespace is the distro id (debian, ubuntu…), like syft. */
export function dpkgPackages(results: readonly ReadResult<DpkgEntry[]>[], distro?: Distro): Package[] {
  const namespace = distro?.id ?? 'debian';
  const packages: Package[] = [];
  for (const result of results) {
    for (const entry of result.value) {
      const qualifiers: Record<string, string> = { ...distroQualifier(distro) };
      if (entry.architecture) qualifiers.arch = entry.architecture;
      // syft's `upstream` qualifier: the source package, with its version when it differs from the binary's.
      if (entry.source) {
        qualifiers.upstream = entry.sourceVersion ? `${entry.source}@${entry.sourceVersion}` : entry.source;
      }
      const pkg: Package = {
        ecosystem: 'deb',
        name: entry.package,
        version: entry.version,
        purl: new PackageURL('deb', namespace, entry.package, entry.version, qualifiers, undefined).toString(),
        licenses: [],
        location: locationOf(result),
        source: { name: entry.source ?? entry.package, version: entry.sourceVersion ?? entry.version },
      };
      if (entry.architecture) pkg.properties = { architecture: entry.architecture };
      packages.push(pkg);
    }
  }
  return packages;
}
