import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withCommitTime } from '../../../shared/build/checkout.js';
import { resolveCreated } from '../../../shared/build/labels.js';
import { computeTags, gitContextFromEnv, parseTagRules } from '../../../shared/build/tags.js';
import { SlipwayError } from '../../../shared/core/errors.js';
import { errorOf } from '../../support/errors.js';
import { eventFixture } from '../../support/events.js';

// workflow_dispatch, schedule and release payloads carry no head commit, so the commit time comes from the
// checkout (`git log -1 --format=%ct <sha>`), here a real repository made for the test.

const COMMITTED = '2026-03-04T05:06:07Z';
let repo: string;
let sha: string;
const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Mona',
  GIT_AUTHOR_EMAIL: 'mona@example.com',
  GIT_COMMITTER_NAME: 'Mona',
  GIT_COMMITTER_EMAIL: 'mona@example.com',
  // The author date differs, so a test that read %at instead of %ct would fail.
  GIT_AUTHOR_DATE: '2020-01-01T00:00:00Z',
  GIT_COMMITTER_DATE: COMMITTED,
};
const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { env: gitEnv, encoding: 'utf8' }).trim();

beforeAll(() => {
  repo = mkdtempSync(join(tmpdir(), 'slipway-checkout-'));
  git('init', '--quiet', '--initial-branch=main');
  writeFileSync(join(repo, 'Containerfile'), 'FROM scratch\n');
  git('add', 'Containerfile');
  git('commit', '--quiet', '-m', 'first');
  sha = git('rev-parse', 'HEAD');
});
afterAll(() => rmSync(repo, { recursive: true, force: true }));

function context(name: string) {
  const { env, payload } = eventFixture(name);
  return { env, ctx: gitContextFromEnv({ ...env, GITHUB_SHA: sha }, payload) };
}

describe('commit time from the checkout', () => {
  it.each(['workflow-dispatch', 'schedule'])('%s: read with git, recorded as from git', async (name) => {
    const { env, ctx } = context(name);
    expect(ctx.commitTime).toBeUndefined();
    const resolved = await withCommitTime(ctx, ['/nonexistent', repo]);
    expect(resolved).toMatchObject({ commitTime: COMMITTED, commitTimeSource: 'git' });
    expect(resolveCreated(env, resolved, repo)).toEqual({ time: COMMITTED, source: 'git' });
    // SOURCE_DATE_EPOCH still comes first, and says so.
    expect(resolveCreated({ ...env, SOURCE_DATE_EPOCH: '0' }, resolved)).toEqual({
      time: '1970-01-01T00:00:00Z',
      source: 'source-date-epoch',
    });
  });

  it('serves {{commit_date}} in tag rules', async () => {
    const resolved = await withCommitTime(context('schedule').ctx, [repo]);
    const rules = parseTagRules([
      "type=schedule,pattern=nightly-{{commit_date 'YYYYMMDD'}}",
      "type=raw,value={{commit_date 'YYYYMMDD-HHmm' tz='Asia/Tokyo'}}",
    ]);
    expect(computeTags(rules, resolved, { latest: 'auto', now: new Date('2030-01-01T00:00:00Z') })).toEqual([
      'nightly-20260304',
      '20260304-1406',
    ]);
  });

  it('keeps a commit time the event carries, recorded as from the event', async () => {
    const { env, ctx } = context('push-branch');
    const resolved = await withCommitTime(ctx, [repo]);
    expect(resolved).toBe(ctx);
    expect(resolveCreated(env, resolved)).toEqual({ time: '2026-07-14T08:22:31Z', source: 'event' });
  });

  it('finds nothing for a commit the checkout lacks, or where there is no checkout', async () => {
    const { ctx } = context('schedule');
    const other = { ...ctx, sha: 'f'.repeat(40) };
    expect(await withCommitTime(other, [repo])).toBe(other);
    const empty = mkdtempSync(join(tmpdir(), 'slipway-no-checkout-'));
    try {
      expect(await withCommitTime(ctx, [empty])).toBe(ctx);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('without a checkout: an error naming SOURCE_DATE_EPOCH and the missing checkout', async () => {
    const { env, ctx } = context('workflow-dispatch');
    const resolved = await withCommitTime(ctx, ['/nonexistent/workspace']);
    expect(errorOf(() => resolveCreated(env, resolved, '/nonexistent/workspace'), SlipwayError).message).toBe(
      `No creation time for the image: SOURCE_DATE_EPOCH is not set, the workflow_dispatch event carries no commit time and there is no git checkout holding commit ${sha} in /nonexistent/workspace to read it from. ` +
        'Check out the repository (actions/checkout) before this step, or set SOURCE_DATE_EPOCH, e.g. to the output of `git log -1 --format=%ct`; the wall clock is not used, as it would make every rebuild differ.',
    );
    expect(() =>
      computeTags(parseTagRules(["type=raw,value={{commit_date 'YYYY'}}"]), resolved, {
        latest: 'auto',
        now: new Date(),
      }),
    ).toThrow(/uses \{\{commit_date\}\}, but the commit time is unknown/);
  });
});
