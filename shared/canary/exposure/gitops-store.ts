import { ConfigurationError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { retryLater, withRetry } from '../../core/retry.js';
import { ConcurrentUpdateError } from '../../gitops/errors.js';
import type { PromoteRequest, PromoteRuntime } from '../../gitops/run-promote.js';
import type { GitOpsRepository, PinHistoryEntry, RepositorySnapshot } from '../../gitops/types.js';
import type { PromotionResult } from '../../records/promotion.js';
import {
  CANARY_TRAILERS,
  type ExposureEditor,
  type ExposureSegment,
  type ExposureState,
  type ExposureStore,
} from './index.js';
import { checkWeight, formatWeight } from './splice.js';

// Exposure as commits in the GitOps repository, through promote's writer: each step is one direct commit on the
// default branch (no pull request: a canary step is minutes apart, and the canary's own gate is the review) with
// trailers naming the canary and the weight. The history of the exposure file IS the canary's exposure over time:
// each commit's time starts a segment and the file's text at that commit gives its weight, so a `mode: once` run
// from a schedule reconstructs exactly what a `loop` run saw, with no state kept anywhere else.
//
// Rollback is two commits in a fixed order: exposure 0 (the flag off) first, so nobody is served the bad version
// any longer, then promote's rollback pins the previous digest again (and sets its hold).

export interface GitOpsExposureOptions {
  repository: GitOpsRepository;
  /** The exposure file's path in the GitOps repository (input `exposure-file`). */
  file: string;
  editor: ExposureEditor;
  /** The GitOps service (promote's service name) and environment: the trailer and the rollback's target. */
  service: string;
  environment: string;
  /** Path of the Slipway policy in the GitOps repository, for promote's rollback. */
  config: string;
  /**
   * Promote's rollback: what runPromote needs beyond service, environment and config (the repository as the
   * gitops-repo input names it, token, trusted root, registry credentials) and the runtime it runs in. The
   * store's repository is handed to it, so both commits go through one writer.
   */
  promote: { request: Pick<PromoteRequest, 'gitopsRepo'> & Partial<PromoteRequest>; runtime: PromoteRuntime };
  logger: Logger;
  /** How many commits of the exposure file's history are read for segments (GitHub answers at most 100). */
  historyDepth?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const RACE_BACKOFF = { attempts: 5, baseDelayMs: 250, maxDelayMs: 4000 };

export function gitopsExposure(options: GitOpsExposureOptions): ExposureStore {
  const { repository, file, editor, service, environment, logger } = options;
  const depth = options.historyDepth ?? 100;
  const canary = `${service}@${environment}`;
  // Users are bucketed by flagd, not requests, and internal users are always on: the request share is not the
  // weight, so the sample-ratio check has nothing exact to compare against.
  const shareKnown = editor.kind !== 'flagd';
  // Never created: read() looks it up, and a repository's read wants a branch name.
  const branch = `slipway/canary/${environment}/${service}`;

  async function snapshot(history: boolean): Promise<{ snapshot: RepositorySnapshot; text: string }> {
    const read = await repository.read({
      paths: [file],
      historyPaths: history ? [file] : [],
      historyDepth: history ? depth : 0,
      branch,
    });
    const text = read.files.get(file);
    if (text === undefined) {
      throw new ConfigurationError(
        'exposure-file',
        file,
        `the path of the ${editor.kind} file in the GitOps repository that holds the canary weight`,
        `${repository.describe()} has no ${file} on ${read.defaultBranch}`,
      );
    }
    return { snapshot: read, text };
  }

  async function apply(weight: number, reason: string): Promise<{ commit?: string; changed: boolean }> {
    checkWeight(weight);
    // A promotion or another canary may move the branch between the read and the write: read again, re-apply.
    return withRetry(
      async () => {
        const { snapshot: read, text } = await snapshot(false);
        const next = editor.apply(text, file, weight);
        if (next === text) return { changed: false };
        try {
          const written = await repository.write({
            snapshot: read,
            branch,
            direct: true,
            changes: [{ path: file, text: next }],
            message: message(weight, reason),
          });
          logger.info(`Exposure of ${canary} set to ${formatWeight(weight)}% in ${file}: commit ${written.commit}.`);
          return { commit: written.commit, changed: true };
        } catch (error) {
          if (!(error instanceof ConcurrentUpdateError)) throw error;
          return retryLater(error.message, () => error);
        }
      },
      {
        policy: RACE_BACKOFF,
        ...(options.sleep ? { sleep: options.sleep } : {}),
        ...(options.random ? { random: options.random } : {}),
        onRetry: ({ delayMs, reason: why }) => logger.info(`${why}; applying the exposure again in ${delayMs} ms.`),
      },
    );
  }

  function message(weight: number, reason: string): string {
    const shown = formatWeight(weight);
    const title = weight === 0 ? `canary ${canary}: exposure off` : `canary ${canary}: exposure ${shown}%`;
    // The trailers are the last paragraph whatever the reason says, so git and promote's history read them.
    const body = reason.trim();
    return [
      title,
      '',
      ...(body ? [body, ''] : []),
      `${CANARY_TRAILERS.canary}: ${canary}`,
      `${CANARY_TRAILERS.weight}: ${shown}`,
      '',
    ].join('\n');
  }

  return {
    describe: () => `${file} in ${repository.describe()} (${editor.kind})`,

    async read(since: Date, now: Date): Promise<ExposureState> {
      const { snapshot: read, text } = await snapshot(true);
      const weight = editor.read(text, file);
      const history = read.history.get(file) ?? [];
      return { weight, segments: segmentsOf(history, since, now), head: read.head };
    },

    apply,

    async rollback(reason: string) {
      const commits: string[] = [];
      const off = await apply(0, `rollback: ${reason}`);
      if (off.commit) commits.push(off.commit);
      const { runPromote } = await import('../../gitops/run-promote.js');
      const { request, runtime } = options.promote;
      const promotion: PromotionResult = await runPromote(
        {
          config: options.config,
          images: [],
          hold: false,
          releaseHold: false,
          dryRun: false,
          ...request,
          environment,
          services: [service],
          rollback: true,
        },
        { ...runtime, open: runtime.open ?? (async () => ({ repository })) },
      );
      if (promotion.outcome === 'promoted' && promotion.commit) commits.push(promotion.commit);
      else if (promotion.outcome === 'refused') {
        logger.warning(
          `The exposure of ${canary} is off, but pinning the previous digest again was refused: ${promotion.refusal?.message ?? 'no reason given'}`,
        );
      }
      return { commits, promotion };
    },
  };

  /** Periods of constant weight from the file's history (newest first), oldest first, overlapping [since, now]. */
  function segmentsOf(history: PinHistoryEntry[], since: Date, now: Date): ExposureSegment[] {
    const points: { weight: number; start: Date }[] = [];
    for (const entry of [...history].reverse()) {
      if (entry.text === undefined) continue;
      let weight: number;
      try {
        weight = editor.read(entry.text, file);
      } catch (error) {
        // A commit that left the file unreadable held no weight Slipway can know; the segment before it runs on.
        logger.debug(
          `${file} at ${entry.commit.slice(0, 12)}: ${error instanceof Error ? error.message : String(error)}`,
        );
        continue;
      }
      if (points.at(-1)?.weight === weight) continue;
      points.push({ weight, start: entry.time });
    }
    if (history.length >= depth && points.length > 0 && points[0]!.start.getTime() > since.getTime()) {
      logger.warning(
        `The last ${depth} commits of ${file} start after ${since.toISOString()}: exposure before ${points[0]!.start.toISOString()} is unknown and left out.`,
      );
    }
    const segments: ExposureSegment[] = points.map((point, index) => {
      const end = points[index + 1]?.start;
      return {
        weight: point.weight,
        start: point.start,
        ...(end ? { end } : {}),
        ...(shareKnown ? {} : { shareKnown }),
      };
    });
    return segments.filter(
      (segment) =>
        segment.start.getTime() <= now.getTime() &&
        (segment.end === undefined || segment.end.getTime() > since.getTime()),
    );
  }
}
