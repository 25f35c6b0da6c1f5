import { describe, expect, it } from 'vitest';
import { createdTime, ociLabels } from '../../../shared/build/labels.js';
import {
  computeTags,
  type GitContext,
  gitContextFromEnv,
  imageVersion,
  parseTagRules,
} from '../../../shared/build/tags.js';
import { InvalidValueError, SlipwayError } from '../../../shared/core/errors.js';
import { errorOf as errorOfType } from '../../support/errors.js';
import { eventFixture } from '../../support/events.js';

const errorOf = (fn: () => unknown): Error => errorOfType(fn, SlipwayError);

function fixture(name: string): { env: Record<string, string>; ctx: GitContext } {
  const { env, payload } = eventFixture(name);
  return { env, ctx: gitContextFromEnv(env, payload) };
}

const EPOCH_EXPECTED = 'a whole number of seconds since 1970-01-01T00:00:00Z';

describe('ociLabels', () => {
  it('labels a release from its tag push: version from semver, created from the commit', () => {
    const { env, ctx } = fixture('push-tag');
    const tags = computeTags(parseTagRules([]), ctx, { latest: 'auto', now: new Date('2030-01-01T00:00:00Z') });
    expect(
      ociLabels(ctx, {
        title: 'api',
        description: 'Acme public API',
        licenses: 'Apache-2.0',
        version: imageVersion(ctx, tags),
        created: createdTime(env, ctx),
      }),
    ).toEqual({
      'org.opencontainers.image.created': '2026-07-15T08:00:00Z',
      'org.opencontainers.image.description': 'Acme public API',
      'org.opencontainers.image.licenses': 'Apache-2.0',
      'org.opencontainers.image.revision': 'c0ffee1234567890abcdef1234567890abcdef12',
      'org.opencontainers.image.source': 'https://github.com/acme/api',
      'org.opencontainers.image.title': 'api',
      'org.opencontainers.image.version': '1.2.3',
    });
  });

  it('names the PR head commit as the revision, not the merge commit', () => {
    const { ctx } = fixture('pull-request');
    const labels = ociLabels(ctx, { version: 'pr-42', created: '2026-07-14T09:30:05Z' });
    expect(labels['org.opencontainers.image.revision']).toBe('f00dbabe0123456789abcdef0123456789abcdef');
  });

  it('leaves out optional labels that are unset or empty, in sorted key order', () => {
    const { ctx } = fixture('push-branch');
    const labels = ociLabels(ctx, { title: '', version: 'main', created: '2026-07-14T08:22:31Z' });
    expect(Object.entries(labels)).toEqual([
      ['org.opencontainers.image.created', '2026-07-14T08:22:31Z'],
      ['org.opencontainers.image.revision', '8d1f3a6c2b9e4d7f0a1b2c3d4e5f60718293a4b5'],
      ['org.opencontainers.image.source', 'https://github.com/acme/api'],
      ['org.opencontainers.image.version', 'main'],
    ]);
  });
});

describe('createdTime', () => {
  it('uses SOURCE_DATE_EPOCH first', () => {
    const { env, ctx } = fixture('push-branch');
    expect(createdTime({ ...env, SOURCE_DATE_EPOCH: '1752566400' }, ctx)).toBe('2025-07-15T08:00:00Z');
    expect(createdTime({ SOURCE_DATE_EPOCH: '0' }, ctx)).toBe('1970-01-01T00:00:00Z');
    expect(createdTime({ SOURCE_DATE_EPOCH: '253402300799' }, ctx)).toBe('9999-12-31T23:59:59Z');
  });

  it('falls back to the head commit time, converted to UTC', () => {
    const { env, ctx } = fixture('push-branch');
    expect(createdTime(env, ctx)).toBe('2026-07-14T08:22:31Z');
    expect(createdTime({ SOURCE_DATE_EPOCH: '' }, ctx)).toBe('2026-07-14T08:22:31Z');
    expect(createdTime({}, fixture('push-feature-branch').ctx)).toBe('2026-07-13T04:05:44Z');
    expect(createdTime({}, { ...ctx, commitTime: '2026-07-14T08:22:31.123456Z' })).toBe('2026-07-14T08:22:31Z');
  });

  it.each([
    ['1.5', 'it is not a non-negative whole number'],
    ['-1', 'it is not a non-negative whole number'],
    [' 12', 'it is not a non-negative whole number'],
    ['1e9', 'it is not a non-negative whole number'],
    ['Mon Jul 14 2026', 'it is not a non-negative whole number'],
    ['253402300800', 'it is after the year 9999'],
  ])('refuses SOURCE_DATE_EPOCH=%j', (value, detail) => {
    const { ctx } = fixture('push-branch');
    const error = errorOf(() => createdTime({ SOURCE_DATE_EPOCH: value }, ctx));
    expect(error).toBeInstanceOf(InvalidValueError);
    expect(error.message).toBe(
      `Invalid SOURCE_DATE_EPOCH ${JSON.stringify(value)}: ${detail}; expected ${EPOCH_EXPECTED}.`,
    );
  });

  it.each(['pull-request', 'workflow-dispatch', 'schedule'])(
    'refuses to fall back to the wall clock on %s, which carries no commit time',
    (name) => {
      const { env, ctx } = fixture(name);
      expect(errorOf(() => createdTime(env, ctx)).message).toBe(
        `No creation time for the image: SOURCE_DATE_EPOCH is not set, the ${ctx.eventName} event carries no commit time. ` +
          'Check out the repository (actions/checkout) before this step, or set SOURCE_DATE_EPOCH, e.g. to the output of `git log -1 --format=%ct`; the wall clock is not used, as it would make every rebuild differ.',
      );
      expect(createdTime({ ...env, SOURCE_DATE_EPOCH: '1752566400' }, ctx)).toBe('2025-07-15T08:00:00Z');
    },
  );

  it('refuses a commit time that is not RFC 3339', () => {
    const { ctx } = fixture('push-branch');
    expect(errorOf(() => createdTime({}, { ...ctx, commitTime: 'July 14, 2026' })).message).toBe(
      'Invalid commit time "July 14, 2026": from the event payload; expected an RFC 3339 date-time.',
    );
    expect(() => createdTime({}, { ...ctx, commitTime: '2026-13-45T99:00:00Z' })).toThrow(InvalidValueError);
  });
});
