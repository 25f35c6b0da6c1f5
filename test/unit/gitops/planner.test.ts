import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../shared/core/errors.js';
import { parseSlipwayConfig } from '../../../shared/gitops/config.js';
import { PolicyRefusal, type PolicyRefusalCode } from '../../../shared/gitops/errors.js';
import { parseHolds, writeHold } from '../../../shared/gitops/holds.js';
import { pinnedSince, readTrailers } from '../../../shared/gitops/lineage.js';
import {
  bundleBranchIdOf,
  type PromotionRequest,
  planPromotion,
  readRequestFor,
} from '../../../shared/gitops/planner.js';
import type { PinHistoryEntry, RepositorySnapshot } from '../../../shared/gitops/types.js';
import type { Digest } from '../../../shared/oci/types.js';

// The planner is pure: a policy, one snapshot of the GitOps repository (texts at head, history with committer
// times and trailers) and a request in, a plan or a refusal out. These tables build snapshots by hand, so every
// rule is exercised at its edges without git; the local-repository integration test runs the same plans on git.

const digest = (n: number): Digest => `sha256:${String(n % 10).repeat(64)}`;
const D1 = digest(1);
const D2 = digest(2);
const D3 = digest(3);

const CONFIG = parseSlipwayConfig(
  `version: 1
environments:
  - name: dev
    pull-request: false
  - name: staging
    after: dev
    soak: 10m
  - name: prod
    after: staging
    soak: 1h
    reviewers: [acme/platform]
    freeze:
      - { start: "2026-12-24T00:00:00Z", end: "2027-01-02T00:00:00Z", reason: year-end freeze }
  - name: qa
    pull-request: false
  - name: eu
    after: { any-of: [staging, qa] }
    soak: 10m
  - name: us
    after: [staging, qa]
    soak: 10m
services:
  api:
    image: ghcr.io/acme/api
    targets:
      dev: envs/dev/kustomization.yaml
      staging: envs/staging/kustomization.yaml
      prod: envs/prod/kustomization.yaml
      qa: envs/qa/kustomization.yaml
      eu: envs/eu/kustomization.yaml
      us: envs/us/kustomization.yaml
  web:
    image: ghcr.io/acme/web
    targets:
      prod: { file: charts/values-prod.yaml, helm: { digest: image.digest } }
  worker:
    image: ghcr.io/acme/worker
    targets:
      dev: envs/dev/worker.yaml
      staging: envs/staging/worker.yaml
  report:
    image: ghcr.io/acme/report
    targets:
      dev: envs/dev/kustomization.yaml
      staging: envs/staging/kustomization.yaml
policy:
  signers:
    - key: keys/release.pub
  require: []
`,
  '.slipway.yaml',
);

const NOW = new Date('2026-07-14T12:00:00Z');
const minutesAgo = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000);

/** A kustomization pinning each image given (name -> digest), with a comment that must survive edits. */
function kustomization(pins: Record<string, Digest>, tag?: string): string {
  const entries = Object.entries(pins)
    .map(([name, d]) => `  - name: ${name}\n${tag ? `    newTag: ${tag}\n` : ''}    digest: ${d}\n`)
    .join('');
  return `# managed by slipway\nresources:\n  - ../../base\nimages:\n${entries}`;
}
const api = (d: Digest, tag?: string) => kustomization({ 'ghcr.io/acme/api': d }, tag);

function worker(a: Digest, b: Digest): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: { name: worker }
spec:
  template:
    spec:
      containers:
        - name: main
          image: ghcr.io/acme/worker@${a}
        - name: sidecar
          image: ghcr.io/acme/worker@${b}
`;
}

const promotionMessage = (env: string, service: string, d: Digest, rollback = false) =>
  `promote ${service} to ${env}\n\nSlipway-Promotion: ${env}/${service}\nSlipway-Digest: ${service}=${d}\n${
    rollback ? 'Slipway-Rollback: true\n' : ''
  }`;

function entry(commit: string, time: Date, text: string | undefined, message = 'edit'): PinHistoryEntry {
  return { commit: commit.padEnd(40, '0'), time, text, message };
}

function snapshot(
  files: Record<string, string | undefined>,
  history: Record<string, PinHistoryEntry[]> = {},
  branch?: RepositorySnapshot['branch'],
): RepositorySnapshot {
  return {
    defaultBranch: 'main',
    head: 'f'.repeat(40),
    files: new Map(Object.entries(files)),
    history: new Map(Object.entries(history)),
    ...(branch ? { branch } : {}),
  };
}

function request(overrides: Partial<PromotionRequest> = {}): PromotionRequest {
  return {
    environment: 'staging',
    services: ['api'],
    source: { images: { api: { name: 'ghcr.io/acme/api', digest: D1 } } },
    rollback: false,
    hold: false,
    releaseHold: false,
    now: NOW,
    run: { url: 'https://github.com/acme/app/actions/runs/7' },
    ...overrides,
  };
}

const DEV = 'envs/dev/kustomization.yaml';
const STAGING = 'envs/staging/kustomization.yaml';
const PROD = 'envs/prod/kustomization.yaml';

/** dev pins D1 since 30 minutes ago (after D2 before it); staging pins D2. */
function devSoaked(extra: Record<string, string | undefined> = {}): RepositorySnapshot {
  return snapshot(
    { [DEV]: api(D1), [STAGING]: api(D2), ...extra },
    {
      [DEV]: [
        entry('c3', minutesAgo(20), api(D1), 'tag only'),
        entry('c2', minutesAgo(30), api(D1), promotionMessage('dev', 'api', D1)),
        entry('c1', minutesAgo(600), api(D2), promotionMessage('dev', 'api', D2)),
      ],
    },
  );
}

function refusal(fn: () => unknown): PolicyRefusal {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyRefusal);
    return error as PolicyRefusal;
  }
  throw new Error('expected a PolicyRefusal, the plan succeeded');
}

describe('readRequestFor', () => {
  it('reads the target, the holds and the previous environment with its history', () => {
    expect(readRequestFor(CONFIG, request())).toEqual({
      paths: ['.slipway/holds.yaml', STAGING, DEV],
      historyPaths: [DEV],
      historyDepth: 50,
      branch: 'slipway/staging/api',
    });
  });

  it('reads the source environment for from:, and its own history for a rollback', () => {
    const from = readRequestFor(CONFIG, request({ environment: 'prod', source: { from: 'staging' } }));
    expect(from.paths).toEqual(['.slipway/holds.yaml', PROD, STAGING]);
    expect(from.historyPaths).toEqual([STAGING]);
    const rollback = readRequestFor(CONFIG, request({ environment: 'prod', rollback: true }));
    expect(rollback.historyPaths).toEqual([PROD]);
    expect(rollback.branch).toBe('slipway/prod/api');
  });

  it('names a bundle branch by its set of services before any read, however the digests come', () => {
    const images = {
      api: { name: 'ghcr.io/acme/api', digest: D1 },
      report: { name: 'ghcr.io/acme/report', digest: D2 },
    };
    const expected = `slipway/dev/bundle-${createHash('sha256').update('api\nreport').digest('hex').slice(0, 12)}`;
    const given = readRequestFor(
      CONFIG,
      request({ environment: 'dev', services: ['report', 'api'], source: { images } }),
    );
    expect(given.branch).toBe(expected);
    expect(bundleBranchIdOf(['report', 'api', 'report'])).toBe(expected.slice(-12));
    // A shared file is read once.
    expect(given.paths).toEqual(['.slipway/holds.yaml', DEV]);
    // Other digests, read from another environment, or rolled back: the same services, the same branch.
    const newer = readRequestFor(
      CONFIG,
      request({
        environment: 'dev',
        services: ['api', 'report'],
        source: { images: { ...images, api: { name: 'ghcr.io/acme/api', digest: D3 } } },
      }),
    );
    expect(newer.branch).toBe(expected);
    const from = readRequestFor(CONFIG, request({ services: ['api', 'report'], source: { from: 'dev' } }));
    expect(from.branch).toBe(expected.replace('/dev/', '/staging/'));
    const rollback = readRequestFor(
      CONFIG,
      request({ environment: 'dev', services: ['report', 'api'], rollback: true }),
    );
    expect(rollback.branch).toBe(expected);
    // Another set of services is another branch.
    const three = readRequestFor(CONFIG, request({ services: ['api', 'report', 'worker'], source: { from: 'dev' } }));
    expect(three.branch).not.toBe(from.branch);
    expect(three.branch).toMatch(/^slipway\/staging\/bundle-[0-9a-f]{12}$/);
  });
});

describe('refusals', () => {
  const frozen = new Date('2026-12-25T10:00:00Z');
  const holds = writeHold(undefined, 'staging', {
    reason: 'rollback of sha256:9 by https://ci/1',
    digestByService: { api: D2 },
    by: 'https://ci/1',
    at: '2026-07-14T11:00:00Z',
  });
  const cases: {
    name: string;
    code: PolicyRefusalCode;
    rule: string;
    snapshot: RepositorySnapshot;
    request: PromotionRequest;
    message: RegExp;
  }[] = [
    {
      name: 'unknown environment',
      code: 'UNKNOWN_ENVIRONMENT',
      rule: 'environments',
      snapshot: devSoaked(),
      request: request({ environment: 'preprod' }),
      message: /"preprod" is not an environment in \.slipway\.yaml; its environments are dev, staging, prod/,
    },
    {
      name: 'unknown source environment',
      code: 'UNKNOWN_ENVIRONMENT',
      rule: 'from',
      snapshot: devSoaked(),
      request: request({ source: { from: 'devv' } }),
      message: /"devv" is not an environment/,
    },
    {
      name: 'unknown service',
      code: 'UNKNOWN_SERVICE',
      rule: 'services',
      snapshot: devSoaked(),
      request: request({ services: ['apii'] }),
      message: /"apii" is not a service in \.slipway\.yaml; its services are api, web, worker, report/,
    },
    {
      name: 'no target in the environment',
      code: 'NO_TARGET',
      rule: 'services.web.targets',
      snapshot: devSoaked(),
      request: request({ services: ['web'] }),
      message: /web has no target in staging \(it has targets in prod\)/,
    },
    {
      name: 'target file missing on the default branch',
      code: 'NO_TARGET',
      rule: 'services.api.targets.staging',
      snapshot: devSoaked({ [STAGING]: undefined }),
      request: request(),
      message: /envs\/staging\/kustomization\.yaml, the staging target of api, does not exist on main/,
    },
    {
      name: 'image of another repository',
      code: 'IMAGE_MISMATCH',
      rule: 'services.api.image',
      snapshot: devSoaked(),
      request: request({ source: { images: { api: { name: 'ghcr.io/evil/api', digest: D1 } } } }),
      message: /the image given for api is ghcr\.io\/evil\/api@sha256:1{64}, but api runs ghcr\.io\/acme\/api/,
    },
    {
      name: 'digest not pinned in the source environment',
      code: 'NOT_IN_SOURCE_ENVIRONMENT',
      rule: 'environments[staging].after',
      snapshot: devSoaked(),
      request: request({ source: { images: { api: { name: 'ghcr.io/acme/api', digest: D3 } } } }),
      message:
        /ghcr\.io\/acme\/api@sha256:3{64} cannot go into staging for api: it must be pinned in dev for at least 10m, but dev pins sha256:1{64}/,
    },
    {
      name: 'soak not met',
      code: 'SOAK_NOT_MET',
      rule: 'environments[staging].soak',
      snapshot: devSoaked(),
      request: request({ now: minutesAgo(25) }),
      message:
        /pinned in dev since 2026-07-14T11:30:00Z \(commit c2000000000\d*, 5m ago\); staging requires 10m, so it can go in from 2026-07-14T11:40:00Z/,
    },
    {
      name: 'freeze window',
      code: 'FREEZE_WINDOW',
      rule: 'environments[prod].freeze[0]',
      snapshot: snapshot({ [PROD]: api(D2) }),
      request: request({ environment: 'prod', source: { from: 'staging' }, now: frozen }),
      message: /prod is frozen from 2026-12-24T00:00:00Z until 2027-01-02T00:00:00Z: year-end freeze/,
    },
    {
      name: 'hold',
      code: 'HOLD',
      rule: '.slipway/holds.yaml holds.staging',
      snapshot: devSoaked({ '.slipway/holds.yaml': holds }),
      request: request(),
      message:
        /staging is on hold: rollback of sha256:9 by https:\/\/ci\/1 \(set by https:\/\/ci\/1 at 2026-07-14T11:00:00Z\)\. Promotions into staging are refused until a run with release-hold clears it/,
    },
    {
      name: 'from-environment pins disagree',
      code: 'NOT_IN_SOURCE_ENVIRONMENT',
      rule: 'services.worker.targets.dev',
      snapshot: snapshot({ 'envs/dev/worker.yaml': worker(D1, D2), 'envs/staging/worker.yaml': worker(D3, D3) }),
      request: request({ services: ['worker'], source: { from: 'dev' } }),
      message:
        /envs\/dev\/worker\.yaml \(dev\) pins ghcr\.io\/acme\/worker at several digests \(sha256:1{64}, sha256:2{64}\)/,
    },
    {
      name: 'from-environment pins nothing',
      code: 'NOT_IN_SOURCE_ENVIRONMENT',
      rule: 'services.api.targets.dev',
      snapshot: devSoaked({ [DEV]: '# no images yet\nresources: [../../base]\n' }),
      request: request({ source: { from: 'dev' } }),
      message: /envs\/dev\/kustomization\.yaml \(dev\) pins no digest for ghcr\.io\/acme\/api/,
    },
    {
      name: 'nothing to roll back to',
      code: 'NOTHING_TO_ROLL_BACK',
      rule: 'services.api.targets.prod',
      snapshot: snapshot(
        { [PROD]: api(D1) },
        { [PROD]: [entry('p1', minutesAgo(60), api(D1), promotionMessage('prod', 'api', D1))] },
      ),
      request: request({ environment: 'prod', rollback: true }),
      message: /api in prod cannot be rolled back: no digest before sha256:1{64} is in the 1 commits/,
    },
  ];

  it.each(cases)('$name: $code', ({ code, rule, snapshot: given, request: asked, message }) => {
    const error = refusal(() => planPromotion(CONFIG, given, asked));
    expect(error.code).toBe(code);
    expect(error.rule).toBe(rule);
    expect(error.message).toMatch(message);
    expect(error.message).toContain(`(${code}, ${rule})`);
  });

  it('refuses an unknown environment or service before anything is read', () => {
    expect(refusal(() => readRequestFor(CONFIG, request({ environment: 'nope' }))).code).toBe('UNKNOWN_ENVIRONMENT');
    expect(refusal(() => readRequestFor(CONFIG, request({ services: ['nope'] }))).code).toBe('UNKNOWN_SERVICE');
    expect(refusal(() => readRequestFor(CONFIG, request({ services: ['web'] }))).code).toBe('NO_TARGET');
  });

  it('names every refused service of a bundle at once', () => {
    const images = {
      api: { name: 'ghcr.io/acme/api', digest: D3 },
      report: { name: 'ghcr.io/acme/report', digest: D3 },
    };
    const error = refusal(() =>
      planPromotion(
        CONFIG,
        devSoaked({ [DEV]: kustomization({ 'ghcr.io/acme/api': D1, 'ghcr.io/acme/report': D1 }) }),
        request({ services: ['api', 'report'], source: { images } }),
      ),
    );
    expect(error.code).toBe('NOT_IN_SOURCE_ENVIRONMENT');
    expect(error.message).toContain('for api:');
    expect(error.message).toContain('for report:');
  });

  it('refuses release-hold together with hold or rollback, naming the input', () => {
    expect(() => planPromotion(CONFIG, devSoaked(), request({ releaseHold: true, hold: true }))).toThrow(
      ConfigurationError,
    );
  });
});

describe('lineage', () => {
  it('promotes after the soak, with the proof: pinned since the oldest commit of the newest run', () => {
    const plan = planPromotion(CONFIG, devSoaked(), request());
    expect(plan.changed).toBe(true);
    expect(plan.direct).toBe(false);
    expect(plan.branch).toBe('slipway/staging/api');
    expect(plan.changes).toEqual([{ path: STAGING, text: api(D1) }]);
    const [service] = plan.services;
    expect(service?.previous).toEqual({ name: 'ghcr.io/acme/api', digest: D2 });
    expect(service?.next).toEqual({ name: 'ghcr.io/acme/api', digest: D1 });
    expect(service?.lineage).toEqual({
      mode: 'image',
      after: {
        mode: 'all-of',
        environments: [
          expect.objectContaining({
            environment: 'dev',
            digest: D1,
            pinnedSince: minutesAgo(30),
            commit: 'c2'.padEnd(40, '0'),
            soakMs: 600_000,
            satisfied: true,
          }),
        ],
      },
    });
  });

  it('takes the newest run only: a digest pinned, replaced and pinned again counts from its return', () => {
    const history = [
      entry('c4', minutesAgo(5), api(D1)),
      entry('c3', minutesAgo(50), api(D2)),
      entry('c2', minutesAgo(90), api(D1)),
    ];
    const readDigest = (text: string | undefined) => (text?.includes(D1) ? D1 : text?.includes(D2) ? D2 : undefined);
    expect(pinnedSince(history, readDigest, D1)).toEqual({
      since: minutesAgo(5),
      commit: 'c4'.padEnd(40, '0'),
      truncated: false,
    });
    expect(pinnedSince(history, readDigest, D3)).toBeUndefined();
    const error = refusal(() =>
      planPromotion(CONFIG, snapshot({ [DEV]: api(D1), [STAGING]: api(D2) }, { [DEV]: history }), request()),
    );
    expect(error.code).toBe('SOAK_NOT_MET');
  });

  it('says when the run reaches past the history read', () => {
    const history = Array.from({ length: 50 }, (_, i) => entry(`h${i}`, minutesAgo(20 + i), api(D1)));
    const plan = planPromotion(CONFIG, snapshot({ [DEV]: api(D1), [STAGING]: api(D2) }, { [DEV]: history }), request());
    const check = plan.services[0]?.lineage.after?.environments[0];
    expect(check).toMatchObject({ historyTruncated: true, pinnedSince: minutesAgo(69), satisfied: true });
    expect(check?.reason).toContain('at least since');
  });

  it('reads the digest and tag from the source environment with from:', () => {
    const given = snapshot(
      { [DEV]: api(D1, 'v1.2.3'), [STAGING]: api(D2, 'v1.2.2') },
      { [DEV]: [entry('c1', minutesAgo(30), api(D1, 'v1.2.3'))] },
    );
    const plan = planPromotion(CONFIG, given, request({ source: { from: 'dev' } }));
    expect(plan.services[0]?.next).toEqual({ name: 'ghcr.io/acme/api', digest: D1, tag: 'v1.2.3' });
    expect(plan.services[0]?.lineage.mode).toBe('from');
    expect(plan.changes[0]?.text).toBe(api(D1, 'v1.2.3'));
  });

  const QA = 'envs/qa/kustomization.yaml';
  const graph = (stagingText: string, qaText: string) =>
    snapshot(
      {
        [STAGING]: stagingText,
        [QA]: qaText,
        'envs/eu/kustomization.yaml': api(D2),
        'envs/us/kustomization.yaml': api(D2),
      },
      {
        [STAGING]: [entry('s1', minutesAgo(60), stagingText)],
        [QA]: [entry('q1', minutesAgo(60), qaText)],
      },
    );

  it('any-of: one previous environment pinning the digest long enough is enough', () => {
    const plan = planPromotion(CONFIG, graph(api(D1), api(D2)), request({ environment: 'eu' }));
    expect(plan.services[0]?.lineage.after?.mode).toBe('any-of');
    expect(plan.services[0]?.lineage.after?.environments.map((check) => check.satisfied)).toEqual([true, false]);
    expect(refusal(() => planPromotion(CONFIG, graph(api(D2), api(D2)), request({ environment: 'eu' }))).code).toBe(
      'NOT_IN_SOURCE_ENVIRONMENT',
    );
  });

  it('all-of: every previous environment must pin it', () => {
    const error = refusal(() => planPromotion(CONFIG, graph(api(D1), api(D2)), request({ environment: 'us' })));
    expect(error.code).toBe('NOT_IN_SOURCE_ENVIRONMENT');
    expect(error.message).toContain('it must be pinned in every one of staging, qa for at least 10m, but qa pins');
    expect(planPromotion(CONFIG, graph(api(D1), api(D1)), request({ environment: 'us' })).changed).toBe(true);
  });

  it('does not hold a service back by an environment it is not deployed in', () => {
    const values = 'image:\n  repository: ghcr.io/acme/web\n  digest: ""\n';
    const plan = planPromotion(
      CONFIG,
      snapshot({ 'charts/values-prod.yaml': values }),
      request({
        environment: 'prod',
        services: ['web'],
        source: { images: { web: { name: 'ghcr.io/acme/web', digest: D1 } } },
      }),
    );
    expect(plan.services[0]?.lineage.after?.environments).toEqual([
      expect.objectContaining({ environment: 'staging', skipped: true, satisfied: true }),
    ]);
    expect(plan.changes[0]?.text).toBe(`image:\n  repository: ghcr.io/acme/web\n  digest: "${D1}"\n`);
  });
});

describe('re-runs change nothing', () => {
  it('direct: the environment already pins the digest', () => {
    const plan = planPromotion(CONFIG, snapshot({ [DEV]: api(D1) }), request({ environment: 'dev' }));
    expect(plan).toMatchObject({ changed: false, changes: [], direct: true });
  });

  it('pull request: the promotion branch already holds the planned text', () => {
    const first = planPromotion(CONFIG, devSoaked(), request());
    const branch = {
      name: 'slipway/staging/api',
      head: 'b'.repeat(40),
      files: new Map([[STAGING, first.changes[0]?.text]]),
    };
    const again = planPromotion(CONFIG, { ...devSoaked(), branch }, request());
    expect(again).toMatchObject({ changed: false, changes: [] });
    // A newer digest updates the same branch.
    const newer = planPromotion(
      CONFIG,
      { ...devSoaked({ [DEV]: api(D3) }), branch, history: new Map([[DEV, [entry('c9', minutesAgo(15), api(D3))]]]) },
      request({ source: { images: { api: { name: 'ghcr.io/acme/api', digest: D3 } } } }),
    );
    expect(newer.changed).toBe(true);
    expect(newer.branch).toBe('slipway/staging/api');
  });
});

describe('bundles', () => {
  const images = (a: Digest, r: Digest) => ({
    report: { name: 'ghcr.io/acme/report', digest: r },
    api: { name: 'ghcr.io/acme/api', digest: a },
  });
  const devFile = kustomization({ 'ghcr.io/acme/api': D2, 'ghcr.io/acme/report': D2 });

  it('promotes several services in one commit with a deterministic id', () => {
    const plan = planPromotion(
      CONFIG,
      snapshot({ [DEV]: devFile }),
      request({ environment: 'dev', services: ['report', 'api'], source: { images: images(D1, D3) } }),
    );
    const expected = createHash('sha256')
      .update(`api=ghcr.io/acme/api@${D1}\nreport=ghcr.io/acme/report@${D3}\n`)
      .digest('hex');
    expect(plan.bundleId).toBe(expected);
    // The branch is named by the services, the id by their digests.
    expect(plan.branch).toBe(
      `slipway/dev/bundle-${createHash('sha256').update('api\nreport').digest('hex').slice(0, 12)}`,
    );
    // Both services edit the one shared file: one change holding both pins.
    expect(plan.changes).toEqual([
      { path: DEV, text: kustomization({ 'ghcr.io/acme/api': D1, 'ghcr.io/acme/report': D3 }) },
    ]);
    expect(plan.message.split('\n')[0]).toBe(`promote bundle ${expected.slice(0, 12)} to dev: report, api`);
    const trailers = readTrailers(plan.message);
    expect(trailers.promotion).toBe(`dev/bundle-${expected}`);
    expect([...trailers.digests]).toEqual([
      ['report', D3],
      ['api', D1],
    ]);

    const reordered = planPromotion(
      CONFIG,
      snapshot({ [DEV]: devFile }),
      request({ environment: 'dev', services: ['api', 'report'], source: { images: images(D1, D3) } }),
    );
    expect(reordered.bundleId).toBe(plan.bundleId);
    const other = planPromotion(
      CONFIG,
      snapshot({ [DEV]: devFile }),
      request({ environment: 'dev', services: ['api', 'report'], source: { images: images(D3, D1) } }),
    );
    expect(other.bundleId).not.toBe(plan.bundleId);
    expect(other.branch).toBe(plan.branch);
  });

  it('plans a bundle from: on the branch read before the digests were known; a re-run writes nothing', () => {
    const from = request({ services: ['api', 'report'], source: { from: 'dev' } });
    const devBoth = (a: Digest, r: Digest) => kustomization({ 'ghcr.io/acme/api': a, 'ghcr.io/acme/report': r });
    const soaked = (a: Digest, r: Digest, branch?: RepositorySnapshot['branch']) =>
      snapshot(
        { [DEV]: devBoth(a, r), [STAGING]: devBoth(D2, D2) },
        { [DEV]: [entry('c1', minutesAgo(30), devBoth(a, r))] },
        branch,
      );
    const read = readRequestFor(CONFIG, from);
    const first = planPromotion(CONFIG, soaked(D1, D3), from);
    expect(first.branch).toBe(read.branch);
    expect(first.changed).toBe(true);

    // The branch already holds what this run would write: nothing to do.
    const branch = { name: read.branch, head: 'b'.repeat(40), files: new Map([[STAGING, first.changes[0]?.text]]) };
    const again = planPromotion(CONFIG, soaked(D1, D3, branch), from);
    expect(again).toMatchObject({ changed: false, changes: [], branch: read.branch, bundleId: first.bundleId });

    // Newer digests in dev: the same branch (its pull request is updated in place), another bundle id.
    const newer = planPromotion(CONFIG, soaked(D3, D1, branch), from);
    expect(newer.changed).toBe(true);
    expect(newer.branch).toBe(read.branch);
    expect(newer.bundleId).not.toBe(first.bundleId);
    expect(readTrailers(newer.message).promotion).toBe(`staging/bundle-${newer.bundleId}`);
  });
});

describe('rollback', () => {
  const HOLDS = '.slipway/holds.yaml';
  const promotedD1 = (current: string) =>
    snapshot(
      { [PROD]: current },
      {
        [PROD]: [
          entry('p3', minutesAgo(10), api(D1, 'v2'), promotionMessage('prod', 'api', D1)),
          entry('p2', minutesAgo(100), `${api(D2, 'v1')}# as it was\n`, promotionMessage('prod', 'api', D2)),
          entry('p1', minutesAgo(200), api(D3, 'v0'), promotionMessage('prod', 'api', D3)),
        ],
      },
    );

  it('reverts the last promotion exactly when the file is still what it wrote, and sets the hold', () => {
    const plan = planPromotion(CONFIG, promotedD1(api(D1, 'v2')), request({ environment: 'prod', rollback: true }));
    expect(plan.rollback).toBe(true);
    expect(plan.services[0]).toMatchObject({
      previous: { digest: D1, tag: 'v2' },
      next: { digest: D2, tag: 'v1' },
      rollback: { method: 'revert', commit: 'p3'.padEnd(40, '0'), from: D1 },
      lineage: { mode: 'rollback' },
    });
    // Byte for byte what was there before the promotion, comment included.
    expect(plan.changes.find((change) => change.path === PROD)?.text).toBe(`${api(D2, 'v1')}# as it was\n`);
    const holds = parseHolds(plan.changes.find((change) => change.path === HOLDS)?.text);
    expect(holds.get('prod')).toEqual({
      reason: `rollback of ${D1} by https://github.com/acme/app/actions/runs/7`,
      digestByService: { api: D2 },
      by: 'https://github.com/acme/app/actions/runs/7',
      at: '2026-07-14T12:00:00Z',
    });
    expect(plan.hold).toEqual({
      set: true,
      released: false,
      reason: `rollback of ${D1} by https://github.com/acme/app/actions/runs/7`,
    });
    expect(plan.message.split('\n')[0]).toBe(`roll back api in prod to sha256:222222222222…`);
    expect(readTrailers(plan.message)).toMatchObject({ promotion: 'prod/api', rollback: true });
    expect(plan.message).toContain('Slipway-Hold: set');
  });

  it('re-pins the previous digest when the file changed since, keeping the later edits', () => {
    const edited = `${api(D1, 'v2')}# a later hand edit\n`;
    const plan = planPromotion(CONFIG, promotedD1(edited), request({ environment: 'prod', rollback: true }));
    expect(plan.services[0]?.rollback?.method).toBe('repin');
    expect(plan.changes.find((change) => change.path === PROD)?.text).toBe(`${api(D2, 'v1')}# a later hand edit\n`);
  });

  it('is allowed in a freeze window and under a hold; re-running it changes nothing', () => {
    const frozen = new Date('2026-12-25T10:00:00Z');
    const first = planPromotion(
      CONFIG,
      promotedD1(api(D1, 'v2')),
      request({ environment: 'prod', rollback: true, now: frozen }),
    );
    const holdsText = first.changes.find((change) => change.path === HOLDS)?.text;
    const rolledBack = first.changes.find((change) => change.path === PROD)?.text ?? '';
    // The repository after the rollback commit: its trailers mark it as a rollback, which the next run skips.
    const after = snapshot(
      { [PROD]: rolledBack, [HOLDS]: holdsText },
      {
        [PROD]: [
          entry('r1', frozen, rolledBack, first.message),
          ...(promotedD1(api(D1, 'v2')).history.get(PROD) ?? []),
        ],
      },
    );
    const again = planPromotion(CONFIG, after, request({ environment: 'prod', rollback: true, now: frozen }));
    expect(again).toMatchObject({ changed: false, changes: [] });
    // And the hold refuses a forward promotion until it is released.
    const blocked = refusal(() =>
      planPromotion(CONFIG, after, request({ environment: 'prod', source: { from: 'staging' } })),
    );
    expect(blocked.code).toBe('HOLD');
  });

  it('without trailers, rolls back the newest change of digest', () => {
    const given = snapshot(
      { [PROD]: api(D1) },
      { [PROD]: [entry('m2', minutesAgo(10), api(D1)), entry('m1', minutesAgo(20), api(D2))] },
    );
    const plan = planPromotion(CONFIG, given, request({ environment: 'prod', rollback: true }));
    expect(plan.services[0]?.next.digest).toBe(D2);
  });
});

describe('holds', () => {
  const HOLDS = '.slipway/holds.yaml';
  const held = writeHold(undefined, 'staging', { reason: 'held by someone', digestByService: {} });

  it('release-hold alone removes the hold in a commit of its own', () => {
    const plan = planPromotion(CONFIG, devSoaked({ [HOLDS]: held }), request({ services: [], releaseHold: true }));
    expect(plan.branch).toBe('slipway/staging/holds');
    expect(plan.changes).toHaveLength(1);
    expect(parseHolds(plan.changes[0]?.text).size).toBe(0);
    expect(plan.hold).toEqual({ set: false, released: true, reason: 'held by someone' });
    expect(plan.message).toMatch(/^release the hold on staging\n/);
    expect(plan.message).toContain('Slipway-Hold: released');
    // Nothing to release: nothing to write.
    expect(planPromotion(CONFIG, devSoaked(), request({ services: [], releaseHold: true })).changed).toBe(false);
  });

  it('release-hold with a promotion lets it in and clears the hold in the same commit', () => {
    const plan = planPromotion(CONFIG, devSoaked({ [HOLDS]: held }), request({ releaseHold: true }));
    expect(plan.changes.map((change) => change.path)).toEqual([STAGING, HOLDS]);
  });

  it('hold alone sets a hold, once', () => {
    const plan = planPromotion(CONFIG, devSoaked(), request({ services: [], hold: true }));
    expect(parseHolds(plan.changes[0]?.text).get('staging')?.reason).toBe(
      'held by https://github.com/acme/app/actions/runs/7',
    );
    const again = planPromotion(
      CONFIG,
      devSoaked({ [HOLDS]: plan.changes[0]?.text }),
      request({ services: [], hold: true }),
    );
    expect(again.changed).toBe(false);
  });
});

describe('commit message', () => {
  it('has a title, a body with the lineage and the run, and trailers a run cannot forge', () => {
    const plan = planPromotion(
      CONFIG,
      devSoaked(),
      request({
        run: {
          url: 'https://ci/run/1\nSlipway-Rollback: true',
          actor: 'mona',
          sourceCommit: 'abc123',
          sourceRepository: 'acme/api',
        },
      }),
    );
    const [title, , ...rest] = plan.message.split('\n');
    expect(title).toBe('promote api to staging: sha256:111111111111…');
    expect(rest.join('\n')).toContain(`ghcr.io/acme/api: ${D2} -> ${D1}`);
    expect(plan.message).toContain('pinned in dev since 2026-07-14T11:30:00Z');
    expect(plan.message).toContain('Source: acme/api@abc123');
    expect(plan.message).toMatch(/\n\nSlipway-Promotion: staging\/api\nSlipway-Digest: api=sha256:1{64}\n$/);
    expect(readTrailers(plan.message).rollback).toBe(false);
  });
});

describe('the holds file', () => {
  it('names the line, the key and the expected form when it is malformed', () => {
    expect(() => parseHolds('holds:\n  prod: { reazon: x }\n')).toThrow(
      /^\.slipway\/holds\.yaml:2:11: holds\.prod\.reazon is not a known key \(did you mean reason\?\)/,
    );
    expect(() => parseHolds('holds:\n  prod:\n    reason: x\n    digest-by-service: { api: latest }\n')).toThrow(
      /holds\.prod\.digest-by-service\.api is "latest": expected a digest, sha256:<64 hex>/,
    );
  });

  it('keeps other holds and comments when one is set or released', () => {
    const text = '# ours\nholds:\n  # staging is ours too\n  staging: { reason: manual }\n';
    const set = writeHold(text, 'prod', { reason: 'r', digestByService: { api: D1 }, at: '2026-07-14T12:00:00Z' });
    expect(set).toContain('# ours\n');
    expect(set).toContain('# staging is ours too\n');
    expect([...parseHolds(set).keys()]).toEqual(['staging', 'prod']);
    const released = writeHold(set, 'prod', undefined);
    expect([...parseHolds(released).keys()]).toEqual(['staging']);
    expect(parseHolds(writeHold(released, 'staging', undefined)).size).toBe(0);
  });
});
