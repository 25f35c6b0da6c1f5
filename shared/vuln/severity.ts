import cvss from 'ae-cvss-calculator';
import type { OsvQuery } from './ecosystems.js';
import type { OsvAffected, OsvRecord, OsvSeverity } from './osv.js';

// How bad an OSV record is, from the best evidence it carries. A CVSS base score is computed from the vector
// (OSV stores vectors, not scores); v4 is preferred when a record has both, as the newer and more precise
// assessment. Without CVSS, GHSA's own rating, then distro ratings (Ubuntu priorities), then a CVSS v2 vector
// are used. A record with none of these is 'unknown', which the gate treats as blocking (see gate.ts).

export type SeverityLevel = 'none' | 'low' | 'medium' | 'high' | 'critical' | 'unknown';

export const SEVERITY_ORDER: readonly SeverityLevel[] = ['none', 'low', 'medium', 'high', 'critical'];

export interface Severity {
  level: SeverityLevel;
  /** CVSS base score, when the level came from a vector. */
  score?: number;
  /** What the level came from: CVSS_V4, CVSS_V3, CVSS_V2, GHSA, Ubuntu, database_specific, or none. */
  source: string;
  vector?: string;
}

/** The CVSS v3/v4 qualitative rating scale (FIRST): 0 none, <4 low, <7 medium, <9 high, else critical. */
export function levelOfScore(score: number): SeverityLevel {
  if (score <= 0) return 'none';
  if (score < 4) return 'low';
  if (score < 7) return 'medium';
  if (score < 9) return 'high';
  return 'critical';
}

/** NVD's v2 scale has no critical: <4 low, <7 medium, else high. */
function levelOfV2Score(score: number): SeverityLevel {
  if (score < 4) return 'low';
  if (score < 7) return 'medium';
  return 'high';
}

// The calculator accepts incomplete vectors and fills defaults, which would invent a score; a vector must
// name every base metric of its version to be scored.
const V3_BASE = ['AV', 'AC', 'PR', 'UI', 'S', 'C', 'I', 'A'];
const V4_BASE = ['AV', 'AC', 'AT', 'PR', 'UI', 'VC', 'VI', 'VA', 'SC', 'SI', 'SA'];
const V2_BASE = ['AV', 'AC', 'Au', 'C', 'I', 'A'];

/** The base score of a CVSS vector, or undefined when the vector is not a complete one of that version. */
export function cvssBaseScore(vector: string): number | undefined {
  const trimmed = vector.trim();
  const metrics = new Set(
    trimmed
      .split('/')
      .map((part) => part.split(':')[0])
      .filter((key): key is string => key !== undefined),
  );
  try {
    let base: number | undefined;
    if (trimmed.startsWith('CVSS:4.0/')) {
      if (!V4_BASE.every((m) => metrics.has(m))) return undefined;
      base = new cvss.Cvss4P0(trimmed).calculateScores().base;
    } else if (trimmed.startsWith('CVSS:3.1/')) {
      if (!V3_BASE.every((m) => metrics.has(m))) return undefined;
      base = new cvss.Cvss3P1(trimmed).calculateScores().base;
    } else if (trimmed.startsWith('CVSS:3.0/')) {
      if (!V3_BASE.every((m) => metrics.has(m))) return undefined;
      base = new cvss.Cvss3P0(trimmed).calculateScores().base;
    } else if (!trimmed.startsWith('CVSS:')) {
      const v2 = trimmed.replace(/^\(|\)$/g, '');
      if (!V2_BASE.every((m) => metrics.has(m) || v2.includes(`${m}:`))) return undefined;
      base = new cvss.Cvss2(v2).calculateScores().base;
    }
    return typeof base === 'number' && Number.isFinite(base) ? base : undefined;
  } catch {
    return undefined;
  }
}

const WORDS: Record<string, SeverityLevel> = {
  // Ubuntu priorities and Debian urgencies; "negligible"/"unimportant" still name a real issue, so low.
  negligible: 'low',
  unimportant: 'low',
  low: 'low',
  medium: 'medium',
  moderate: 'medium',
  high: 'high',
  important: 'high',
  critical: 'critical',
};

function levelOfWord(word: unknown): SeverityLevel | undefined {
  return typeof word === 'string' ? WORDS[word.trim().toLowerCase()] : undefined;
}

/**
 * The severity of a record. With `query`, the severity entries of the matching affected package count too
 * (Ubuntu puts its priority there, and some databases score per package).
 */
export function severityOf(record: OsvRecord, query?: OsvQuery): Severity {
  const entries: OsvSeverity[] = [...(record.severity ?? [])];
  for (const affected of matchingAffected(record, query)) entries.push(...(affected.severity ?? []));

  const best = (type: string): Severity | undefined => {
    let top: Severity | undefined;
    for (const entry of entries) {
      if (entry.type !== type) continue;
      const score = cvssBaseScore(entry.score);
      if (score === undefined) continue;
      if (!top || score > (top.score ?? -1)) {
        const level = type === 'CVSS_V2' ? levelOfV2Score(score) : levelOfScore(score);
        top = { level, score, source: type, vector: entry.score };
      }
    }
    return top;
  };
  const v4 = best('CVSS_V4');
  if (v4) return v4;
  const v3 = best('CVSS_V3');
  if (v3) return v3;

  const ghsa = record.id.startsWith('GHSA-') ? levelOfWord(record.database_specific?.severity) : undefined;
  if (ghsa) return { level: ghsa, source: 'GHSA' };

  let word: Severity | undefined;
  for (const entry of entries) {
    if (entry.type !== 'Ubuntu' && entry.type !== 'Debian') continue;
    const level = levelOfWord(entry.score);
    if (level && (!word || rank(level) > rank(word.level))) word = { level, source: entry.type };
  }
  if (word) return word;
  // Other databases (and GHSA mirrors with other ids) also put a rating word in database_specific.
  const other = levelOfWord(record.database_specific?.severity);
  if (other) return { level: other, source: 'database_specific' };

  const v2 = best('CVSS_V2');
  if (v2) return v2;
  return { level: 'unknown', source: 'none' };
}

/** Position on the none…critical scale; unknown is -1 (callers decide what unknown means). */
export function rank(level: SeverityLevel): number {
  return SEVERITY_ORDER.indexOf(level);
}

/** Fixed versions for the queried package, from `affected[].ranges[].events[].fixed`, in record order. */
export function fixedVersions(record: OsvRecord, query: OsvQuery): string[] {
  const fixed: string[] = [];
  for (const affected of matchingAffected(record, query)) {
    for (const range of affected.ranges ?? []) {
      // GIT ranges name commits, not versions the user could upgrade to.
      if (range.type === 'GIT') continue;
      for (const event of range.events) {
        if (event.fixed && !fixed.includes(event.fixed)) fixed.push(event.fixed);
      }
    }
  }
  return fixed;
}

function matchingAffected(record: OsvRecord, query: OsvQuery | undefined): OsvAffected[] {
  if (!query) return [];
  return (record.affected ?? []).filter(
    (a) =>
      a.package !== undefined &&
      a.package.ecosystem === query.package.ecosystem &&
      samePackageName(a.package.name, query.package.name, query.package.ecosystem),
  );
}

/** PyPI names compare after PEP 503 normalisation; other ecosystems exactly. */
function samePackageName(a: string, b: string, ecosystem: string): boolean {
  if (ecosystem === 'PyPI') {
    const normalise = (name: string) => name.toLowerCase().replace(/[-_.]+/g, '-');
    return normalise(a) === normalise(b);
  }
  return a === b;
}
