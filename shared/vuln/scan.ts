import { type Logger, silentLogger } from '../core/logger.js';
import type { Distro, Package } from '../sbom/types.js';
import { type NotQueried, planQueries } from './ecosystems.js';
import { type Finding, idsOf } from './finding.js';
import type { OsvClient, OsvRecord } from './osv.js';
import { fixedVersions, rank, severityOf } from './severity.js';

// Scanning: an image's packages, asked of OSV, turned into findings. What the findings mean for the gate is
// gate.ts's business.

export interface ScanResult {
  findings: Finding[];
  notQueried: NotQueried[];
}

export interface ScanOptions {
  logger?: Logger;
  /** Record fetches in flight at once. */
  concurrency?: number;
}

/**
 * Queries OSV for every mappable package and turns the records into findings, one per vulnerability and
 * installed package (records that alias each other are merged). Throws OsvUnavailableError when OSV could not
 * answer completely; `gate` turns that into 'undecided'.
 */
export async function scan(
  packages: readonly Package[],
  distro: Distro | undefined,
  client: OsvClient,
  options: ScanOptions = {},
): Promise<ScanResult> {
  const logger = options.logger ?? silentLogger;
  const plan = planQueries(packages, distro);
  const results = await client.queryBatch(plan.queries.map((q) => q.query));

  const refs = new Map<string, { id: string; modified: string }>();
  for (const result of results) for (const ref of result) refs.set(`${ref.id}\u0000${ref.modified}`, ref);
  const records = new Map<string, OsvRecord>();
  const queue = [...refs.entries()];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      records.set(next[0], await client.getVulnerability(next[1].id, next[1].modified));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));

  const byPackage = new Map<string, Finding[]>();
  plan.queries.forEach((entry, i) => {
    const found = [...(results[i] ?? [])]
      .map((ref) => records.get(`${ref.id}\u0000${ref.modified}`))
      .filter((r): r is OsvRecord => r !== undefined)
      .sort((a, b) => a.id.localeCompare(b.id));
    for (const record of found) {
      if (record.withdrawn) {
        logger.debug(`${record.id} was withdrawn on ${record.withdrawn}; ignored.`);
        continue;
      }
      const severity = severityOf(record, entry.query);
      const fixedIn = fixedVersions(record, entry.query);
      for (const pkg of entry.packages) {
        const finding: Finding = {
          id: record.id,
          aliases: [...new Set([...(record.aliases ?? []), ...(record.upstream ?? [])])].filter((a) => a !== record.id),
          package: { purl: pkg.purl, name: pkg.name, version: pkg.version, ecosystem: entry.query.package.ecosystem },
          severity: severity.level,
          ...(severity.score !== undefined ? { score: severity.score } : {}),
          fixedIn,
          summary: record.summary ?? record.details?.split('\n')[0]?.slice(0, 200) ?? '',
        };
        addMerged(byPackage, finding);
      }
    }
  });
  return { findings: [...byPackage.values()].flat(), notQueried: plan.notQueried };
}

/** Records that alias each other (GHSA and PYSEC, DSA and CVE) are one vulnerability: merge, keep the worst. */
function addMerged(byPackage: Map<string, Finding[]>, finding: Finding): void {
  const list = byPackage.get(finding.package.purl) ?? [];
  byPackage.set(finding.package.purl, list);
  const ids = idsOf(finding);
  const existing = list.find((f) => [...idsOf(f)].some((id) => ids.has(id)));
  if (!existing) {
    list.push(finding);
    return;
  }
  for (const id of [finding.id, ...finding.aliases]) {
    if (id !== existing.id && !existing.aliases.includes(id)) existing.aliases.push(id);
  }
  for (const v of finding.fixedIn) if (!existing.fixedIn.includes(v)) existing.fixedIn.push(v);
  const worse =
    existing.severity === 'unknown'
      ? finding.severity !== 'unknown'
      : finding.severity !== 'unknown' && rank(finding.severity) > rank(existing.severity);
  if (worse) {
    existing.severity = finding.severity;
    if (finding.score !== undefined) existing.score = finding.score;
    else delete existing.score;
  }
}
