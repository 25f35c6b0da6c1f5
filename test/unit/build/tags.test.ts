import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ComputeOptions,
  computeTags,
  DEFAULT_TAG_RULES,
  type GitContext,
  gitContextFromEnv,
  imageVersion,
  parseFlavor,
  parseSemVer,
  parseTagRules,
  sanitizeTag,
} from '../../../shared/build/tags.js';
import { InvalidValueError, SlipwayError } from '../../../shared/core/errors.js';
import { isValidTag } from '../../../shared/oci/reference.js';
import { errorOf as errorOfType } from '../../support/errors.js';
import { eventFixture } from '../../support/events.js';

const errorOf = (fn: () => unknown): Error => errorOfType(fn, SlipwayError);

const fixture = eventFixture;

function context(name: string): GitContext {
  const { env, payload } = fixture(name);
  return gitContextFromEnv(env, payload);
}

const NOW = new Date('2026-07-16T03:07:09Z');
const AUTO: ComputeOptions = { latest: 'auto', now: NOW };

function tags(rules: string[], ctx: GitContext | string, options: Partial<ComputeOptions> = {}): string[] {
  return computeTags(parseTagRules(rules), typeof ctx === 'string' ? context(ctx) : ctx, { ...AUTO, ...options });
}

const PUSH_SHA = '8d1f3a6c2b9e4d7f0a1b2c3d4e5f60718293a4b5';
const PR_HEAD = 'f00dbabe0123456789abcdef0123456789abcdef';
const PR_MERGE = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4';
const EXPECTED_RULE = 'type=semver|pep440|match|sha|ref|raw|edge|schedule with key=value options';

describe('gitContextFromEnv', () => {
  it('push to a branch: GITHUB_SHA, default branch and head commit time', () => {
    expect(context('push-branch')).toEqual({
      eventName: 'push',
      ref: 'refs/heads/main',
      sha: PUSH_SHA,
      defaultBranch: 'main',
      commitTime: '2026-07-14T10:22:31+02:00',
      repositoryUrl: 'https://github.com/acme/api',
    });
  });

  it('pull_request: the PR head sha, never the merge commit in GITHUB_SHA', () => {
    const { env } = fixture('pull-request');
    expect(env.GITHUB_SHA).toBe(PR_MERGE);
    expect(context('pull-request')).toEqual({
      eventName: 'pull_request',
      ref: 'refs/pull/42/merge',
      sha: PR_HEAD,
      defaultBranch: 'main',
      prNumber: 42,
      baseRef: 'main',
      repositoryUrl: 'https://github.com/acme/api',
    });
  });

  it('pull_request_target: the PR head sha and number, although the ref is the base branch', () => {
    const ctx = context('pull-request-target');
    expect(ctx.ref).toBe('refs/heads/main');
    expect(ctx.sha).toBe(PR_HEAD);
    expect(ctx.prNumber).toBe(42);
  });

  it('workflow_dispatch and schedule carry no commit time; a schedule runs on the default branch', () => {
    expect(context('workflow-dispatch')).toEqual({
      eventName: 'workflow_dispatch',
      ref: 'refs/heads/main',
      sha: PUSH_SHA,
      defaultBranch: 'main',
      repositoryUrl: 'https://github.com/acme/api',
    });
    // A schedule payload has no repository, but GitHub runs schedules on the default branch only.
    expect(context('schedule')).toEqual({
      eventName: 'schedule',
      ref: 'refs/heads/main',
      sha: PUSH_SHA,
      defaultBranch: 'main',
      repositoryUrl: 'https://github.com/acme/api',
    });
  });

  it('joins a GitHub Enterprise server URL without a double slash', () => {
    const { env, payload } = fixture('push-branch');
    const ctx = gitContextFromEnv({ ...env, GITHUB_SERVER_URL: 'https://ghe.example.com/' }, payload);
    expect(ctx.repositoryUrl).toBe('https://ghe.example.com/acme/api');
  });

  it('refuses a pull request payload without the head sha', () => {
    const { env } = fixture('pull-request');
    expect(errorOf(() => gitContextFromEnv(env, { number: 42, pull_request: { number: 42 } })).message).toBe(
      'The pull_request event payload has no pull_request.head.sha; it is needed because GITHUB_SHA is the merge commit, not the commit to build.',
    );
  });

  it('names a missing or malformed runner variable', () => {
    const { env, payload } = fixture('push-branch');
    expect(errorOf(() => gitContextFromEnv({ ...env, GITHUB_SHA: undefined }, payload)).message).toBe(
      'GITHUB_SHA is not set; it is set by the GitHub Actions runner in every job.',
    );
    expect(errorOf(() => gitContextFromEnv({ ...env, GITHUB_SHA: 'abc123' }, payload)).message).toBe(
      'Invalid GITHUB_SHA "abc123": expected 40 or 64 lowercase hex digits.',
    );
  });

  it('tolerates payloads that are not objects', () => {
    const { env } = fixture('push-branch');
    expect(gitContextFromEnv(env, null)).toEqual({
      eventName: 'push',
      ref: 'refs/heads/main',
      sha: PUSH_SHA,
      repositoryUrl: 'https://github.com/acme/api',
    });
  });
});

describe('default rules', () => {
  it('are the documented five', () => {
    expect(DEFAULT_TAG_RULES).toEqual([
      'type=semver,pattern={{version}}',
      'type=semver,pattern={{major}}.{{minor}}',
      'type=ref,event=branch',
      'type=ref,event=pr',
      'type=sha',
    ]);
    expect(parseTagRules([])).toEqual(parseTagRules([...DEFAULT_TAG_RULES]));
    expect(parseTagRules(['', '  '])).toEqual(parseTagRules([...DEFAULT_TAG_RULES]));
  });

  it.each([
    ['push-branch', ['main', 'sha-8d1f3a6']],
    ['push-feature-branch', ['feature-ber_cool', 'sha-1234567']],
    ['push-tag', ['1.2.3', '1.2', 'sha-c0ffee1', 'latest']],
    ['push-tag-rc', ['1.2.3-rc.1', 'sha-b16b00b']],
    ['pull-request', ['pr-42', 'sha-f00dbab']],
    // Never `main`: the code is the PR's, the ref only the base branch it targets.
    ['pull-request-target', ['pr-42', 'sha-f00dbab']],
    ['workflow-dispatch', ['main', 'sha-8d1f3a6']],
    ['schedule', ['main', 'sha-8d1f3a6']],
  ])('%s → %j', (name, expected) => {
    expect(tags([], name)).toEqual(expected);
  });
});

describe('semver rules', () => {
  const withTag = (tag: string): GitContext => ({ ...context('push-tag'), ref: `refs/tags/${tag}` });

  it('expands every placeholder for a release, deduplicating equal results', () => {
    expect(
      tags(
        [
          'type=semver,pattern={{version}}',
          'type=semver,pattern={{major}}.{{minor}}.{{patch}}',
          'type=semver,pattern={{major}}.{{minor}}',
          'type=semver,pattern={{major}}',
          'type=semver,pattern={{raw}}',
          'type=semver,pattern=v{{ major }}',
        ],
        'push-tag',
      ),
    ).toEqual(['1.2.3', '1.2', '1', 'v1.2.3', 'v1', 'latest']);
  });

  it('gives a prerelease only its full version, or the tag itself for {{raw}}', () => {
    expect(
      tags(
        [
          'type=semver,pattern={{major}}',
          'type=semver,pattern={{major}}.{{minor}}',
          'type=semver,pattern={{version}}',
          'type=semver,pattern={{raw}}',
        ],
        'push-tag-rc',
      ),
    ).toEqual(['1.2.3-rc.1', 'v1.2.3-rc.1']);
  });

  it('drops build metadata from {{version}} and sanitises it in {{raw}}', () => {
    expect(tags(['type=semver,pattern={{version}}', 'type=semver,pattern={{raw}}'], withTag('v1.2.3+build.5'))).toEqual(
      ['1.2.3', 'v1.2.3-build.5', 'latest'],
    );
  });

  it.each([
    'v1.2',
    '01.2.3',
    '1.02.3',
    '1.2.3-01',
    '1.2.3-',
    '1.2.3+',
    'V1.2.3',
    'vv1.2.3',
    'release-1.2.3',
    '1.2.3.4',
  ])('ignores tag %s, which is not SemVer 2.0.0', (tag) => {
    expect(parseSemVer(tag)).toBeUndefined();
    expect(tags(['type=semver,pattern={{version}}', 'type=sha'], withTag(tag))).toEqual(['sha-c0ffee1']);
  });

  it('parses the full grammar', () => {
    expect(parseSemVer('v0.0.0-alpha.0.x-y--z.1a+001.sha-5114f85')).toEqual({
      major: '0',
      minor: '0',
      patch: '0',
      prerelease: 'alpha.0.x-y--z.1a',
      build: '001.sha-5114f85',
      version: '0.0.0-alpha.0.x-y--z.1a',
      raw: 'v0.0.0-alpha.0.x-y--z.1a+001.sha-5114f85',
    });
    expect(parseSemVer('10.20.30')).toEqual({
      major: '10',
      minor: '20',
      patch: '30',
      version: '10.20.30',
      raw: '10.20.30',
    });
  });

  it('does nothing on branches', () => {
    expect(tags(['type=semver,pattern={{version}}', 'type=sha'], 'push-branch')).toEqual(['sha-8d1f3a6']);
  });
});

describe('latest', () => {
  it('auto: added for a release tag only, never for a prerelease, a branch or a raw rule', () => {
    expect(tags([], 'push-tag')).toContain('latest');
    expect(tags([], 'push-tag-rc')).not.toContain('latest');
    expect(tags(['type=raw,value=stable'], 'push-tag')).toEqual(['stable']);
    expect(tags([], 'push-branch')).not.toContain('latest');
  });

  it('auto: type=ref,event=tag moves latest on any tag, prereleases included, as metadata-action does', () => {
    expect(tags(['type=ref,event=tag'], 'push-tag')).toEqual(['v1.2.3', 'latest']);
    expect(tags(['type=ref,event=tag'], 'push-tag-rc')).toEqual(['v1.2.3-rc.1', 'latest']);
  });

  it('auto: the first tag given decides, so a prerelease semver tag ahead of a tag rule keeps latest off', () => {
    expect(tags(['type=semver,pattern={{version}}', 'type=ref,event=tag'], 'push-tag-rc')).toEqual([
      '1.2.3-rc.1',
      'v1.2.3-rc.1',
    ]);
    expect(tags(['type=semver,pattern={{version}},enable=false', 'type=ref,event=tag'], 'push-tag-rc')).toEqual([
      'v1.2.3-rc.1',
      'latest',
    ]);
    // A lower priority on the semver rule lets the tag rule decide.
    expect(tags(['type=semver,pattern={{version}},priority=1', 'type=ref,event=tag'], 'push-tag-rc')).toEqual([
      'v1.2.3-rc.1',
      '1.2.3-rc.1',
      'latest',
    ]);
  });

  it('true: added on any event; false: never', () => {
    expect(tags([], 'push-branch', { latest: 'true' })).toEqual(['main', 'sha-8d1f3a6', 'latest']);
    expect(tags([], 'push-tag-rc', { latest: 'true' })).toEqual(['1.2.3-rc.1', 'sha-b16b00b', 'latest']);
    expect(tags([], 'push-tag', { latest: 'false' })).toEqual(['1.2.3', '1.2', 'sha-c0ffee1']);
  });

  it('is not repeated when a rule already produced it', () => {
    expect(tags(['type=raw,value=latest', 'type=semver,pattern={{version}}'], 'push-tag')).toEqual(['1.2.3', 'latest']);
  });
});

describe('custom rules', () => {
  it('prefix and suffix, with the sha- and pr- defaults replaced when given', () => {
    expect(
      tags(
        [
          'type=semver,pattern={{version}},prefix=v,suffix=-alpine',
          'type=sha,prefix=,suffix=-amd64',
          'type=ref,event=tag,prefix=git-',
        ],
        'push-tag',
      ),
    ).toEqual(['v1.2.3-alpine', 'git-v1.2.3', 'c0ffee1-amd64', 'latest']);
    expect(
      tags(['type=semver,pattern={{version}}', 'type=sha', 'type=ref,event=pr'], 'push-tag', {
        flavor: parseFlavor(['prefix=app-,onlatest=true', 'suffix=-slim']),
      }),
    ).toEqual([
      // The flavor's prefix and suffix go where a rule sets none; sha keeps its own sha- prefix.
      'app-1.2.3-slim',
      'sha-c0ffee1-slim',
      'app-latest',
    ]);
    expect(tags(['type=ref,event=pr,prefix=pull-', 'type=ref,event=branch,suffix=-{{sha}}'], 'pull-request')).toEqual([
      'pull-42',
    ]);
    expect(tags(['type=ref,event=branch,prefix=br-,suffix=-{{sha}}'], 'push-branch')).toEqual(['br-main-8d1f3a6']);
  });

  it('raw values, enable and {{is_default_branch}}', () => {
    const rules = [
      'type=raw,value=stable,enable={{is_default_branch}}',
      'type=raw,value=canary,enable=false',
      'type=raw,value=build-{{sha}},enable=True',
      "type=raw,value={{branch}}-{{date 'YYYYMMDD'}}",
    ];
    expect(tags(rules, 'push-branch')).toEqual(['stable', 'build-8d1f3a6', 'main-20260716']);
    expect(tags(rules, 'push-feature-branch')).toEqual(['build-1234567', 'feature-ber_cool-20260716']);
    // pull_request_target runs on the base branch but is the PR's run: no branch, and not the default
    // branch. The empty placeholder leaves a leading "-", which is stripped.
    expect(tags(rules, 'pull-request-target')).toEqual(['build-f00dbab', '20260716']);
    expect(tags(['type=raw,value=pr,enable={{is_not_default_branch}}'], 'pull-request-target')).toEqual(['pr']);
    expect(tags(['type=raw,value=nightly,enable={{is_default_branch}}'], 'schedule')).toEqual(['nightly']);
    expect(tags(['type=raw,value=from-{{base_ref}}'], 'pull-request')).toEqual(['from-main']);
  });

  it('sha long', () => {
    expect(tags(['type=sha,format=long'], 'push-branch')).toEqual([`sha-${PUSH_SHA}`]);
    expect(tags(['type=sha,format=long,prefix='], 'pull-request')).toEqual([PR_HEAD]);
  });

  it('edge: the default branch only, or the branch named', () => {
    expect(tags(['type=edge', 'type=sha'], 'push-branch')).toEqual(['edge', 'sha-8d1f3a6']);
    expect(tags(['type=edge', 'type=sha'], 'push-feature-branch')).toEqual(['sha-1234567']);
    expect(tags(['type=edge', 'type=sha'], 'pull-request-target')).toEqual(['sha-f00dbab']);
    expect(tags(['type=edge,branch=feature/Über_cool'], 'push-feature-branch')).toEqual(['edge']);
    // A schedule runs on the default branch, which its payload does not name.
    expect(tags(['type=edge'], 'schedule')).toEqual(['edge']);
  });

  it('schedule: nightly by default, dates from the injected clock in UTC, only on schedule events', () => {
    expect(tags(['type=schedule', 'type=sha'], 'schedule')).toEqual(['nightly', 'sha-8d1f3a6']);
    expect(
      tags(
        ["type=schedule,pattern={{date 'YYYYMMDD'}}", 'type=schedule,"pattern=nightly-{{date ""YYYY-MM-DD-HHmmss""}}"'],
        'schedule',
      ),
    ).toEqual(['20260716', 'nightly-2026-07-16-030709']);
    expect(
      tags(["type=schedule,pattern={{date 'YYYYMMDD'}}"], 'schedule', { now: new Date('2026-12-31T23:59:59-05:00') }),
    ).toEqual(['20270101']);
    expect(tags(['type=schedule', 'type=sha'], 'workflow-dispatch')).toEqual(['sha-8d1f3a6']);
    expect(tags(["type=schedule,pattern={{date 'YYYYMMDD-HHmm' tz='Asia/Tokyo'}}"], 'schedule')).toEqual([
      '20260716-1207',
    ]);
  });

  it('orders by metadata-action priority: schedule, semver, edge, ref, raw, sha; stable within a type', () => {
    const rules = ['type=sha', 'type=raw,value=b', 'type=raw,value=a', 'type=ref,event=branch', 'type=edge'];
    expect(tags(rules, 'push-branch')).toEqual(['edge', 'main', 'b', 'a', 'sha-8d1f3a6']);
  });

  it('ref,event=tag keeps non-semver tags, sanitised', () => {
    const ctx = { ...context('push-tag'), ref: 'refs/tags/release/2026.07' };
    expect(tags([], ctx)).toEqual(['sha-c0ffee1']);
    expect(tags(['type=ref,event=tag'], ctx)).toEqual(['release-2026.07', 'latest']);
  });
});

describe('sanitising', () => {
  it.each([
    ['feature/Über_cool', 'feature-ber_cool'],
    ['fix//double  space', 'fix-double-space'],
    ['.hidden', 'hidden'],
    ['-.-x', 'x'],
    ['__init__', '__init__'],
    ['ÄÖÜ', ''],
    ['a'.repeat(200), 'a'.repeat(128)],
  ])('%s → %s', (input, expected) => {
    expect(sanitizeTag(input)).toBe(expected);
  });

  it('caps branch tags at 128 characters and deduplicates what the cap makes equal', () => {
    const long = `feature/${'x'.repeat(140)}`;
    const ctx = { ...context('push-branch'), ref: `refs/heads/${long}` };
    expect(tags(['type=ref,event=branch', `type=raw,value=feature-${'x'.repeat(130)}`], ctx)).toEqual([
      `feature-${'x'.repeat(120)}`,
    ]);
  });

  it('drops a tag that sanitises to nothing', () => {
    expect(tags(['type=raw,value=...', 'type=sha'], 'push-branch')).toEqual(['sha-8d1f3a6']);
  });

  it('always yields a valid tag or nothing', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300, unit: 'grapheme' }), (text) => {
        const tag = sanitizeTag(text);
        expect(tag === '' || isValidTag(tag)).toBe(true);
      }),
    );
  });
});

describe('empty result', () => {
  it('is an error naming the event and ref', () => {
    expect(errorOf(() => tags(['type=semver,pattern={{version}}'], 'workflow-dispatch')).message).toBe(
      'No image tag: the tag rules produced none for event "workflow_dispatch" on ref "refs/heads/main". Add a rule that applies to this event, such as type=sha or type=raw,value=<tag>.',
    );
    const noRef = { ...context('push-branch'), eventName: 'repository_dispatch', ref: '' };
    expect(errorOf(() => tags(['type=ref,event=branch'], noRef)).message).toBe(
      'No image tag: the tag rules produced none for event "repository_dispatch" on ref (none). Add a rule that applies to this event, such as type=sha or type=raw,value=<tag>.',
    );
  });

  it('latest=true does not rescue an empty list', () => {
    expect(() => tags(['type=raw,value=x,enable=false'], 'push-branch', { latest: 'true' })).toThrow(SlipwayError);
  });
});

describe('parseTagRules errors', () => {
  const GLOBALS =
    "{{branch}}, {{tag}}, {{sha}}, {{base_ref}}, {{is_default_branch}}, {{is_not_default_branch}}, {{date 'FORMAT' tz='ZONE'}}, {{commit_date 'FORMAT' tz='ZONE'}}";
  const SEMVER = '{{version}}, {{major}}, {{minor}}, {{patch}}, {{raw}}, {{prerelease}}, {{build}}';
  it.each([
    ['type=semver', 'type=semver needs pattern='],
    ['type=semver,pattern={{majr}}', `pattern: unknown placeholder {{majr}}; known: ${SEMVER}`],
    ["type=semver,pattern={{date 'YYYY'}}", `pattern: unknown placeholder {{date 'YYYY'}}; known: ${SEMVER}`],
    ['type=semver,pattern={{version}', 'pattern: it has an unmatched "{{" or "}}"'],
    [
      'type=semver,pattern={{version}},match=v(',
      'match "v(" is not a regular expression: Invalid regular expression: /v(/: Unterminated group',
    ],
    ['type=semver,pattern={{version}},match=v\\d', 'match "v\\\\d" has no capture group ( ) for the version'],
    ['type=match,pattern=v(\\d),group=one', 'group "one" is not a whole number'],
    ['type=sha,format=medium', 'format "medium" is not short or long'],
    ['type=foo', 'unknown type "foo"; use semver, pep440, match, sha, ref, raw, edge or schedule'],
    ['type=ref', 'type=ref needs event=branch, event=tag or event=pr'],
    ['type=ref,event=release', 'event "release" is not branch, tag or pr'],
    ['type=ref,event=branch,priority=high', 'priority "high" is not a number'],
    [
      'type=raw,value=x,colour=red',
      'unknown key "colour" for type=raw; allowed: type, prefix, suffix, enable, priority, value',
    ],
    [
      'type=sha,pattern={{version}}',
      'unknown key "pattern" for type=sha; allowed: type, prefix, suffix, enable, priority, format',
    ],
    ['type=raw', 'type=raw needs value='],
    ['type=raw,value=a,value=b', 'the key "value" is given twice'],
    ['type=raw,value=a,', 'it has an empty option (two commas in a row, or a trailing comma)'],
    ['type=raw,"value=a', 'a quoted option has no closing double quote'],
    ['type=raw,=a', 'option "=a" has no key before "="'],
    ['type=raw,value=a,enable=yes', 'enable "yes" is not true, false or a template such as {{is_default_branch}}'],
    ['type=raw,value={{ref}}', `value: unknown placeholder {{ref}}; known: ${GLOBALS}`],
    [
      "type=schedule,pattern={{date 'YYYY-ww'}}",
      'pattern: {{date \'YYYY-ww\'}}: date token "ww" is not supported; use YYYY YY Q M MM MMM MMMM D DD DDD DDDD d dd ddd dddd H HH h hh k kk m mm s ss S… A a Z ZZ X x, and [text] for literal text',
    ],
    [
      "type=schedule,pattern={{date 'YYYY' tz='Mars/Olympus'}}",
      "pattern: {{date 'YYYY' tz='Mars/Olympus'}}: time zone \"Mars/Olympus\" is not an IANA time zone name such as UTC or Asia/Tokyo",
    ],
    [
      "type=raw,value={{date 'YYYY' zone='UTC'}}",
      `value: {{date 'YYYY' zone='UTC'}} has the unknown attribute "zone"; only tz= is known`,
    ],
    ['type=sha,prefix={{version}}', `prefix: unknown placeholder {{version}}; known: ${GLOBALS}`],
  ])('%s: %s', (line, detail) => {
    const error = errorOf(() => parseTagRules([line]));
    expect(error).toBeInstanceOf(InvalidValueError);
    expect(error.message).toBe(`Invalid tag rule ${JSON.stringify(line)}: ${detail}; expected ${EXPECTED_RULE}.`);
  });

  it('accepts metadata-action shorthands: no type means raw, a bare word is the value, keys in any case', () => {
    expect(tags(['stable', 'Type=raw,Value=beta'], 'push-branch')).toEqual(['stable', 'beta']);
  });

  it('keeps the line as written on each rule, with its priority', () => {
    expect(parseTagRules(['  type=sha , format=long  '])).toEqual([
      {
        source: 'type=sha , format=long',
        type: 'sha',
        format: 'long',
        priority: 100,
        prefix: [{ text: 'sha-' }],
        enable: [{ text: 'true' }],
      },
    ]);
  });

  it('accepts what metadata-action accepts: quoted options, a constant semver pattern, empty values', () => {
    expect(tags(['type=raw,"value=a,b"'], 'push-branch')).toEqual(['a-b']);
    expect(tags(['type=semver,pattern=stable'], 'push-tag')).toEqual(['stable', 'latest']);
    // An empty value (a workflow expression that rendered empty) gives no tag; an empty branch means the default.
    expect(tags(['type=raw,value=', 'type=edge,branch=', 'type=sha'], 'push-branch')).toEqual(['edge', 'sha-8d1f3a6']);
  });
});

describe('imageVersion', () => {
  it('is the semver version on a semver tag, else the first tag', () => {
    const release = context('push-tag');
    expect(imageVersion(release, tags([], release))).toBe('1.2.3');
    expect(imageVersion(context('push-tag-rc'), ['sha-b16b00b'])).toBe('1.2.3-rc.1');
    expect(imageVersion({ ...release, ref: 'refs/tags/v2.0.0+meta' }, ['x'])).toBe('2.0.0');
    const branch = context('push-branch');
    expect(imageVersion(branch, tags([], branch))).toBe('main');
    expect(imageVersion(context('pull-request'), tags([], 'pull-request'))).toBe('pr-42');
  });

  it('refuses an empty tag list', () => {
    expect(errorOf(() => imageVersion(context('push-branch'), [])).message).toBe(
      'There is no tag to take the image version from.',
    );
  });
});
