import { rfc3339Seconds } from '../core/time.js';
import type { Digest } from '../oci/types.js';
import { type EnvironmentConfig, type FreezeWindow, type ImagePin, type PinHistoryEntry, TRAILERS } from './types.js';

// The facts a promotion is judged on, read from the GitOps repository's history: what an environment pins, since
// when (the committer time of the commit that pinned it, on the default branch), which commits were promotions
// (their trailers), and whether `now` falls in a freeze window. Pure functions over a snapshot's data; the planner
// turns their answers into refusals.

/** How much history the planner asks for per file: enough to reach back past a busy week of promotions. */
export const HISTORY_DEPTH = 50;

/** Why a digest may (or may not) enter an environment, for the PR body and promotion.json. */
export interface LineageProof {
  mode: 'image' | 'from' | 'rollback';
  /** The environment the digest was read from (mode `from`). */
  from?: string;
  after?: { mode: 'all-of' | 'any-of'; environments: AfterCheck[] };
}

export interface AfterCheck {
  environment: string;
  /** What that environment pins now. */
  digest?: Digest;
  /** Since when it pins the digest being promoted: the oldest commit of the newest run of commits pinning it. */
  pinnedSince?: Date;
  commit?: string;
  /** The run reaches past the history that was read: pinned at least since pinnedSince, maybe longer. */
  historyTruncated?: boolean;
  soakMs: number;
  satisfied: boolean;
  /** The service has no target in that environment, so it cannot have passed through it: not checked. */
  skipped?: boolean;
  reason?: string;
}

/** The one digest a file pins for an image: all its pins must agree. */
export type PinnedDigest =
  | { state: 'none' }
  | { state: 'pinned'; digest: Digest; tag?: string }
  | { state: 'conflict'; digests: Digest[] };

export function pinnedDigest(pins: readonly ImagePin[]): PinnedDigest {
  const digests = [...new Set(pins.map((pin) => pin.digest))];
  if (digests.length === 0) return { state: 'none' };
  if (digests.length > 1) return { state: 'conflict', digests };
  const tags = new Set(pins.map((pin) => pin.tag));
  const [tag] = tags;
  return { state: 'pinned', digest: digests[0] as Digest, ...(tags.size === 1 && tag !== undefined ? { tag } : {}) };
}

export interface PinnedSince {
  since: Date;
  commit: string;
  truncated: boolean;
}

/**
 * Since when the history pins `digest`: the committer time of the OLDEST commit in the newest contiguous run of
 * entries (newest first) whose text pins it. A run that reaches the end of a full page of history may have begun
 * earlier; it is taken from the oldest commit read (a soak is then measured short, never long) and flagged.
 */
export function pinnedSince(
  history: readonly PinHistoryEntry[],
  digestAt: (text: string | undefined) => Digest | undefined,
  digest: Digest,
  depth = HISTORY_DEPTH,
): PinnedSince | undefined {
  let oldest: PinHistoryEntry | undefined;
  let index = 0;
  for (; index < history.length; index++) {
    const entry = history[index] as PinHistoryEntry;
    if (digestAt(entry.text) !== digest) break;
    oldest = entry;
  }
  if (!oldest) return undefined;
  return { since: oldest.time, commit: oldest.commit, truncated: index === history.length && history.length >= depth };
}

/** The freeze window `now` falls in (start inclusive, end exclusive), if any. */
export function activeFreeze(
  environment: EnvironmentConfig,
  now: Date,
): { window: FreezeWindow; index: number } | undefined {
  const index = environment.freeze.findIndex((window) => window.start <= now && now < window.end);
  return index < 0 ? undefined : { window: environment.freeze[index] as FreezeWindow, index };
}

export interface PromotionTrailers {
  /** `<env>/<service or bundle id>`. */
  promotion?: string;
  digests: Map<string, Digest>;
  rollback: boolean;
}

/** The Slipway trailers anywhere in a message (a merge's message carries its merged tip's message after it). */
export function readTrailers(message: string): PromotionTrailers {
  const trailers: PromotionTrailers = { digests: new Map(), rollback: false };
  for (const line of message.split(/\r?\n/)) {
    const match = /^([A-Za-z-]+):\s*(.*?)\s*$/.exec(line);
    if (!match) continue;
    const [, key = '', value = ''] = match;
    if (key === TRAILERS.promotion) trailers.promotion ??= value;
    else if (key === TRAILERS.rollback) trailers.rollback ||= value === 'true';
    else if (key === TRAILERS.digest) {
      const pair = /^([^=\s]+)=(sha256:[0-9a-f]{64})$/.exec(value);
      if (pair?.[1] && pair[2] && !trailers.digests.has(pair[1])) trailers.digests.set(pair[1], pair[2] as Digest);
    }
  }
  return trailers;
}

/** `10m`, `1h30m`, `45s`, `2d`: how soak times are written in .slipway.yaml. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1000, 's'],
  ];
  let rest = Math.round(ms / 1000) * 1000;
  let text = '';
  for (const [size, unit] of units) {
    const count = Math.floor(rest / size);
    if (count > 0) text += `${count}${unit}`;
    rest -= count * size;
  }
  return text || '0s';
}

/** `sha256:0123456789ab…`: enough of a digest for titles and messages. */
export function shortDigest(digest: string): string {
  const [algorithm, hex = ''] = digest.split(':');
  return `${algorithm}:${hex.slice(0, 12)}…`;
}

export function describeTime(date: Date): string {
  return rfc3339Seconds(date);
}
