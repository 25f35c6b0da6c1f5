import type { GitOpsRepository } from '../gitops/types.js';

// When a canary started, from the promotion that deployed it: the time its commit reached the GitOps repository's
// default branch, which is when Argo CD or Flux could start rolling it out. The promotion record's own finish time
// is earlier than that for a pull request (merged later, often as another commit), so the record alone is only the
// fallback (canary-inputs.ts, readSince).

export interface PromotionLanding {
  /** The commit the promotion wrote: on the default branch for a direct commit, on its branch for a pull request. */
  commit?: string;
  /** The digest it pinned. */
  digest: string;
  /** The files it pinned the digest in. */
  files: string[];
}

/** How many commits of each file's history are searched (GitHub answers at most 100 per request). */
const HISTORY_DEPTH = 100;

/**
 * The time of the record's own commit where the default branch has it; else, for a pull request merged as another
 * commit, the oldest commit of the newest unbroken run in which a target file pins the digest. Undefined when the
 * default branch does not pin the digest (not merged yet, or replaced since).
 */
export async function promotionLandedAt(
  repository: GitOpsRepository,
  landing: PromotionLanding,
): Promise<{ at: Date; commit: string } | undefined> {
  if (landing.files.length === 0) return undefined;
  const snapshot = await repository.read({
    paths: landing.files,
    historyPaths: landing.files,
    historyDepth: HISTORY_DEPTH,
    // Never created: a repository's read looks a branch up, and this one has nothing to say.
    branch: 'slipway/canary/started-at',
  });
  let found: { at: Date; commit: string } | undefined;
  for (const file of landing.files) {
    const history = snapshot.history.get(file) ?? [];
    const own = history.find((entry) => entry.commit === landing.commit);
    if (own) return { at: own.time, commit: own.commit };
    // Newest first: walk back while the file pins the digest; the last such entry is where it arrived.
    let arrived: { at: Date; commit: string } | undefined;
    for (const entry of history) {
      if (!entry.text?.includes(landing.digest)) break;
      arrived = { at: entry.time, commit: entry.commit };
    }
    if (arrived && (!found || arrived.at.getTime() > found.at.getTime())) found = arrived;
  }
  return found;
}
