import { InvalidValueError, SlipwayError } from '../core/errors.js';
import { rfc3339Seconds, sourceDateEpoch } from '../core/time.js';
import type { GitContext } from './tags.js';

// OCI image labels (org.opencontainers.image.*) as docker/metadata-action sets them, except `created`:
// metadata-action uses the wall clock (metadata-action#403), which gives every rebuild of the same commit
// a different config and so a different digest. Here it comes from SOURCE_DATE_EPOCH or the commit.

export interface LabelOptions {
  title?: string;
  description?: string;
  /** An SPDX expression, e.g. `Apache-2.0`. */
  licenses?: string;
  /** The semver version of a release tag, else the first computed tag (see imageVersion). */
  version: string;
  /** RFC 3339, from resolveCreated. */
  created: string;
}

const PREFIX = 'org.opencontainers.image.';
// RFC 3339 date-time (section 5.6), fractional seconds and offsets included.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** The labels, keys sorted as metadata-action sorts them; optional ones left out when unset or empty. */
export function ociLabels(ctx: GitContext, options: LabelOptions): Record<string, string> {
  const labels: Record<string, string> = {};
  const set = (key: string, value: string | undefined) => {
    // An unset action input reads as '', and an empty label only hides the base image's value.
    if (value !== undefined && value !== '') labels[PREFIX + key] = value;
  };
  set('created', options.created);
  set('description', options.description);
  set('licenses', options.licenses);
  set('revision', ctx.sha);
  set('source', ctx.repositoryUrl);
  set('title', options.title);
  set('version', options.version);
  return labels;
}

/** Where the image's creation time came from, as build.json records it. */
export type CreatedSource = 'source-date-epoch-input' | 'source-date-epoch' | 'event' | 'git';

/**
 * The image creation time, RFC 3339 in UTC to the second: from SOURCE_DATE_EPOCH when set, else the
 * commit time (from the event, or read from the checkout by withCommitTime). Never the wall clock, so
 * rebuilding a commit gives the same labels. `checkout` names the directory searched, for the error.
 */
export function resolveCreated(
  env: Readonly<Record<string, string | undefined>>,
  ctx: GitContext,
  checkout?: string,
): { time: string; source: CreatedSource } {
  const fromEpoch = sourceDateEpoch(env);
  if (fromEpoch !== undefined) return { time: fromEpoch, source: 'source-date-epoch' };
  if (ctx.commitTime !== undefined) {
    const time = RFC3339.test(ctx.commitTime) ? new Date(ctx.commitTime) : undefined;
    if (time === undefined || Number.isNaN(time.getTime())) {
      const from = ctx.commitTimeSource === 'git' ? 'from the checkout' : 'from the event payload';
      throw new InvalidValueError('commit time', ctx.commitTime, 'an RFC 3339 date-time', from);
    }
    return { time: rfc3339Seconds(time), source: ctx.commitTimeSource ?? 'event' };
  }
  const where =
    checkout === undefined
      ? ''
      : ` and there is no git checkout holding commit ${ctx.sha} in ${checkout} to read it from`;
  throw new SlipwayError(
    `No creation time for the image: SOURCE_DATE_EPOCH is not set, the ${ctx.eventName} event carries no commit time${where}. ` +
      'Check out the repository (actions/checkout) before this step, or set SOURCE_DATE_EPOCH, e.g. to the output of `git log -1 --format=%ct`; the wall clock is not used, as it would make every rebuild differ.',
  );
}

/** resolveCreated's time alone. */
export function createdTime(env: Readonly<Record<string, string | undefined>>, ctx: GitContext): string {
  return resolveCreated(env, ctx).time;
}
