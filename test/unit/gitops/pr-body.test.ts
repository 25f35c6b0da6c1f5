import { describe, expect, it } from 'vitest';
import {
  formatDuration,
  MAX_BODY_BYTES,
  MAX_TITLE_CHARS,
  type PullRequestFacts,
  pullRequestBody,
  pullRequestContent,
  pullRequestTitle,
  readPullRequestMetadata,
} from '../../../shared/gitops/pr-body.js';
import type { ServicePromotionRecord } from '../../../shared/records/promotion.js';

// The promotion PR's title and body: what people read first, the metadata programs read, and GitHub's limits.

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}` as const;

function service(name: string, n: number, extra: Partial<ServicePromotionRecord> = {}): ServicePromotionRecord {
  return {
    service: name,
    image: `ghcr.io/acme/${name}`,
    previous: { digest: digest(n), tag: 'v1.0.0' },
    next: { digest: digest(n + 1), tag: 'v1.1.0' },
    targets: [{ file: `envs/staging/${name}/kustomization.yaml`, kind: 'kustomization' }],
    lineage: {
      mode: 'image',
      after: {
        mode: 'all-of',
        environments: [
          {
            environment: 'dev',
            digest: digest(n + 1),
            pinnedSince: '2026-07-01T10:00:00Z',
            commit: 'a'.repeat(40),
            soakMs: 600_000,
            satisfied: true,
          },
        ],
      },
    },
    verification: {
      verdict: 'verified',
      signer: 'key keys/release.pub',
      rule: 'policy.signers',
      predicateTypes: ['https://slsa.dev/provenance/v1'],
      codes: [],
      reasons: [],
    },
    ...extra,
  };
}

function facts(services: ServicePromotionRecord[], extra: Partial<PullRequestFacts> = {}): PullRequestFacts {
  return {
    environment: 'staging',
    services,
    rollback: false,
    gitops: { repository: 'github.com/acme/gitops', kind: 'github', config: '.slipway.yaml' },
    run: {
      url: 'https://github.com/acme/api/actions/runs/42',
      sourceRepository: 'acme/api',
      sourceCommit: 'b'.repeat(40),
      sourceCommitUrl: `https://github.com/acme/api/commit/${'b'.repeat(40)}`,
    },
    ...extra,
  };
}

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

describe('the title', () => {
  it.each([
    ['one service', facts([service('api', 1)]), 'Promote api sha256:000000000000 (v1.1.0) to staging'],
    [
      'one service without a tag',
      facts([service('api', 1, { next: { digest: digest(2) } })]),
      'Promote api sha256:000000000000 to staging',
    ],
    [
      'a rollback',
      facts([service('api', 1, { lineage: { mode: 'rollback' } })], { rollback: true, environment: 'prod' }),
      'Roll back api in prod to sha256:000000000000 (v1.1.0)',
    ],
    [
      'a bundle',
      facts([service('api', 1), service('web', 3)], { bundleId: 'c'.repeat(64) }),
      'Promote bundle cccccccccccc (2 services: api, web) to staging',
    ],
    ['a hold released alone', facts([], { hold: { set: false, released: true } }), 'Release the hold on staging'],
  ])('%s', (_, given, expected) => {
    expect(pullRequestTitle(given)).toBe(expected);
  });

  it('is cut, with an ellipsis, for a bundle of many long names', () => {
    const many = Array.from({ length: 40 }, (_, i) => service(`service-with-a-long-name-${i}`, i * 2));
    const title = pullRequestTitle(facts(many, { bundleId: 'd'.repeat(64) }));
    expect([...title]).toHaveLength(MAX_TITLE_CHARS);
    expect(title.endsWith('…')).toBe(true);
    expect(title.startsWith('Promote bundle dddddddddddd (40 services: service-with-a-long-name-0,')).toBe(true);
  });
});

describe('the body', () => {
  it('puts the summary first: digests, tags, verification, lineage with soak, links', () => {
    const body = pullRequestBody(facts([service('api', 1)]));
    const [human] = body.split('<!-- slipway:v1 ');
    expect(human).toContain('Promotion to **staging** in github.com/acme/gitops');
    expect(human).toContain(
      `| api | \`${digest(1)}\` (v1.0.0) | \`${digest(2)}\` (v1.1.0) | verified (key keys/release.pub, https://slsa.dev/provenance/v1) |`,
    );
    expect(human).toContain(`- api: in dev since 2026-07-01T10:00:00Z (commit aaaaaaaaaaaa), soak 10m met`);
    expect(human).toContain('- Run: https://github.com/acme/api/actions/runs/42');
    expect(human).toContain(
      `- Source commit: [acme/api@bbbbbbbbbbbb](https://github.com/acme/api/commit/${'b'.repeat(40)})`,
    );
    expect(body.endsWith(' -->')).toBe(true);
  });

  it('ends with metadata that reads back', () => {
    const body = pullRequestBody(facts([service('api', 1), service('web', 5)], { bundleId: 'e'.repeat(64) }));
    expect(readPullRequestMetadata(body)).toEqual({
      environment: 'staging',
      bundleId: 'e'.repeat(64),
      rollback: false,
      services: [
        {
          service: 'api',
          image: 'ghcr.io/acme/api',
          previous: digest(1),
          next: digest(2),
          tag: 'v1.1.0',
          verified: 'verified',
          after: [{ environment: 'dev', commit: 'a'.repeat(40), pinnedSince: '2026-07-01T10:00:00Z' }],
        },
        {
          service: 'web',
          image: 'ghcr.io/acme/web',
          previous: digest(5),
          next: digest(6),
          tag: 'v1.1.0',
          verified: 'verified',
          after: [{ environment: 'dev', commit: 'a'.repeat(40), pinnedSince: '2026-07-01T10:00:00Z' }],
        },
      ],
      run: {
        url: 'https://github.com/acme/api/actions/runs/42',
        sourceRepository: 'acme/api',
        sourceCommit: 'b'.repeat(40),
      },
    });
    expect(readPullRequestMetadata('a body someone wrote')).toBeUndefined();
  });

  it.each([
    [
      'a rollback with its hold',
      facts([service('api', 1, { lineage: { mode: 'rollback' } })], {
        rollback: true,
        hold: { set: true, released: false, reason: 'rolled back by run 42' },
      }),
      [
        'Rollback of **staging**',
        'rolled back to the digest pinned before the last promotion',
        '**Hold set** on staging: rolled back by run 42',
      ],
    ],
    [
      'a first pin (nothing before)',
      facts([service('api', 1, { previous: undefined } as never)]),
      ['| api | (none) |'],
    ],
    [
      'a digest read with from',
      facts([service('api', 1, { lineage: { mode: 'from' } })]),
      ['- api: read from the source environment.'],
    ],
    [
      'an unchanged service in a bundle',
      facts([service('api', 1, { verification: { verdict: 'skipped', predicateTypes: [], codes: [], reasons: [] } })]),
      ['| unchanged |'],
    ],
    [
      'a pipe in a hold reason',
      facts([], { hold: { set: true, released: false, reason: 'a | b' } }),
      ['**Hold set** on staging: a \\| b'],
    ],
  ])('%s', (_, given, fragments) => {
    const body = pullRequestBody(given);
    for (const fragment of fragments) expect(body).toContain(fragment);
  });

  it.each([
    ['a bundle of 50 fits whole', 50, MAX_BODY_BYTES, 'all'],
    ['a small limit cuts the summary of a bundle of 10', 10, 3500, 'some'],
    ['a bundle of 200 keeps each new digest in its metadata', 200, MAX_BODY_BYTES, 'some'],
  ])('%s', (_, count, limit, shown) => {
    const many = Array.from({ length: count }, (_, i) => service(`svc-${i}`, i * 2));
    const body = pullRequestBody(facts(many, { bundleId: 'f'.repeat(64) }), limit);
    expect(bytes(body)).toBeLessThanOrEqual(limit);
    // The metadata is never cut short: it lists every service.
    const metadata = readPullRequestMetadata(body);
    expect(metadata?.services.map((s) => s.next)).toEqual(many.map((s) => s.next.digest));
    const rows = body.split('\n').filter((line) => /^\| svc-\d+ \|/.test(line)).length;
    if (shown === 'all') {
      expect(rows).toBe(count);
      expect(metadata?.services[0]?.after).toHaveLength(1);
      expect(body).not.toContain('more service');
    } else {
      expect(rows).toBeGreaterThan(0);
      expect(rows).toBeLessThan(count);
      expect(body).toContain(`… and ${count - rows} more services, left out to stay within GitHub's size limit`);
    }
  });

  it('a bundle too large to list names only its size in the metadata, and still fits', () => {
    const many = Array.from({ length: 2000 }, (_, i) => service(`svc-${i}`, i * 2));
    const body = pullRequestBody(facts(many, { bundleId: 'f'.repeat(64) }));
    expect(bytes(body)).toBeLessThanOrEqual(MAX_BODY_BYTES);
    const metadata = readPullRequestMetadata(body);
    expect(metadata).toMatchObject({
      environment: 'staging',
      bundleId: 'f'.repeat(64),
      services: [],
      servicesOmitted: 2000,
    });
    expect(body).toContain('| svc-0 |');
  });

  it('pullRequestContent gives both, within limits', () => {
    const content = pullRequestContent(facts([service('api', 1)]));
    expect(content.title).toBe(pullRequestTitle(facts([service('api', 1)])));
    expect(bytes(content.body)).toBeLessThanOrEqual(MAX_BODY_BYTES);
  });
});

it.each([
  [600_000, '10m'],
  [3_600_000, '1h'],
  [5_400_000, '1h30m'],
  [45_000, '45s'],
  [250, '250ms'],
])('formatDuration(%i) is %s', (ms, text) => {
  expect(formatDuration(ms)).toBe(text);
});
