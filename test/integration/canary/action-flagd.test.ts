import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { gitopsExposure } from '../../../shared/canary/exposure/gitops-store.js';
import { exposureEditor } from '../../../shared/canary/exposure/index.js';
import { silentLogger } from '../../../shared/core/logger.js';
import { SecretRegistry } from '../../../shared/core/secrets.js';
import { localRepository } from '../../../shared/gitops/local-repository.js';
import { runPromote } from '../../../shared/gitops/run-promote.js';
import type { Digest } from '../../../shared/oci/types.js';
import { PROMOTION_RECORD, type PromotionResult } from '../../../shared/records/promotion.js';
import { stampRecord } from '../../../shared/records/record.js';
import { gitWeight, type LiveTraffic, startLiveTraffic } from '../../support/live-traffic.js';
import { startScrapingPrometheus, type TestPrometheus } from '../../support/prometheus.js';
import { committedRepository, prodGitopsFiles, releaseKey, signedImages } from '../../support/release-fixtures.js';
import { repositoryRoot, runActionYml } from '../../support/runner-harness.js';
import { requireTool, startRegistry, type TestRegistry } from '../../support/services.js';

// The canary through the BUILT action (actions/canary/action.yml run by the runner harness), end to end: live
// traffic from a loopback exporter whose canary share follows the flagd flag at the GitOps repository's HEAD, a
// real Prometheus scraping it every second, and the action in `mode: loop` committing each exposure step to a
// real local GitOps repository. A healthy canary walks 0 -> 1 -> 5 -> 25 -> 100; a bad one is rolled back: the
// flag off first, then the previous digest pinned again by promote's rollback, two commits in that order.

const canaryYml = join(repositoryRoot, 'actions/canary/action.yml');
const FLAG_FILE = 'envs/prod/flags.json';
const SCRAPE_SECONDS = 1;
const RPS = 20_000;

const flags = `{
  "$schema": "https://flagd.dev/schema/v0/flags.json",
  "flags": {
    "api": {
      "state": "ENABLED",
      "variants": { "on": true, "off": false },
      "defaultVariant": "off"
    }
  }
}
`;

let registry: TestRegistry;
let workspace: string;
let repository: string;
const digests: Record<'v1' | 'v2', string> = { v1: '', v2: '' };
const release = releaseKey();
const flagd = exposureEditor('flagd', { flag: 'api' });

beforeAll(async () => {
  requireTool('git', 'git');
  requireTool('prometheus', 'prometheus');
  registry = await startRegistry();
  repository = `${registry.host}/acme/api`;
  workspace = mkdtempSync(join(tmpdir(), 'slipway-canary-flagd-'));
  Object.assign(
    digests,
    await signedImages({
      registryHost: registry.host,
      repositoryPath: 'acme/api',
      names: ['v1', 'v2'] as const,
      key: () => release,
      workspace,
      label: 'canary',
    }),
  );
}, 180_000);

afterAll(async () => {
  await registry?.stop();
});

/** A fresh GitOps repository (main checked out) with v1 pinned, the flag off, and v2 then promoted (deployed dark). */
async function gitopsWithV2(
  name: string,
): Promise<{ dir: string; git: (...args: string[]) => string; deployed: string; record: PromotionResult }> {
  const dir = join(workspace, name);
  const git = committedRepository(
    dir,
    prodGitopsFiles({
      image: repository,
      publicPem: release.publicPem,
      pinned: { tag: 'v1', digest: digests.v1 },
      extra: { [FLAG_FILE]: flags },
    }),
  );
  const promoted = await runPromote(
    {
      gitopsRepo: dir,
      config: '.slipway.yaml',
      environment: 'prod',
      services: ['api'],
      images: [{ name: repository, digest: digests.v2 as Digest, tag: 'v2' }],
      rollback: false,
      hold: false,
      releaseHold: false,
      dryRun: false,
    },
    { env: {}, logger: silentLogger, secrets: new SecretRegistry(), workspace },
  );
  expect(promoted.outcome).toBe('promoted');
  return { dir, git, deployed: promoted.commit!, record: promoted };
}

interface Live {
  traffic: LiveTraffic;
  prometheus: TestPrometheus;
}

async function startLive(dir: string, canaryErrorRatio: number): Promise<Live> {
  const traffic = await startLiveTraffic({
    service: 'api',
    rps: RPS,
    canary: { version: 'canary', errorRatio: canaryErrorRatio },
    baseline: { version: 'stable', errorRatio: 0.01 },
    weight: gitWeight(dir, FLAG_FILE, flagd),
  });
  const prometheus = await startScrapingPrometheus([traffic.target], { scrapeSeconds: SCRAPE_SECONDS });
  return { traffic, prometheus };
}

const running: Live[] = [];
afterEach(async () => {
  for (const live of running.splice(0)) {
    await live.traffic.stop();
    await live.prometheus.stop();
  }
});

async function instant(url: string, query: string): Promise<Record<string, number>> {
  const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await response.json()) as {
    data: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  return Object.fromEntries(body.data.result.map((r) => [r.metric.version ?? '', Number(r.value[1])]));
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe('live traffic that follows the flag at HEAD, scraped by a real Prometheus', () => {
  it('sends the canary nothing while the flag is off, and its share once an exposure commit lands', async () => {
    const { dir } = await gitopsWithV2('live');
    const live = await startLive(dir, 0.01);
    running.push(live);
    await sleep(3500);
    const before = await instant(live.prometheus.url, 'sum by (version) (http_requests_total{service="api"})');
    expect(before.stable).toBeGreaterThan(RPS);
    expect(before.canary ?? 0).toBe(0);

    const store = gitopsExposure({
      repository: localRepository(dir, { logger: silentLogger }),
      file: FLAG_FILE,
      editor: flagd,
      service: 'api',
      environment: 'prod',
      config: '.slipway.yaml',
      promote: {
        request: { gitopsRepo: dir },
        runtime: { env: {}, logger: silentLogger, secrets: new SecretRegistry(), workspace },
      },
      logger: silentLogger,
    });
    await store.apply(25, 'test');
    await sleep(4500);
    const rates = await instant(live.prometheus.url, 'sum by (version) (rate(http_requests_total{service="api"}[3s]))');
    const share = rates.canary! / (rates.canary! + rates.stable!);
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.3);
    expect(live.traffic.weights()).toEqual([0, 25]);
  }, 60_000);
});

describe('the built canary action, mode loop, flagd', () => {
  const canary = (dir: string, since: string, extra: Record<string, string> = {}) =>
    runActionYml(canaryYml, {
      workspace,
      timeoutMs: 110_000,
      inputs: {
        'prometheus-url': '',
        canary: 'version="canary"',
        baseline: 'version="stable"',
        service: 'service="api"',
        since,
        steps: '1,5,25,100',
        mode: 'loop',
        interval: '2s',
        'min-step-duration': '4s',
        // The live exporter's canary has no start-up transient to leave out.
        warmup: '0s',
        'scrape-interval': `${SCRAPE_SECONDS}s`,
        deadline: '100s',
        'gitops-repo': `./${dir.slice(workspace.length + 1)}`,
        environment: 'prod',
        exposure: 'flagd',
        'exposure-file': FLAG_FILE,
        flag: 'api',
        ...extra,
      },
    });

  /** Weights set by the canary's commits after `from`, oldest first, from their trailers. */
  const stepsAfter = (git: (...args: string[]) => string, from: string) =>
    git('log', '--reverse', '--format=%(trailers:key=Slipway-Canary-Weight,valueonly,separator=)', `${from}..main`)
      .split('\n')
      .filter((line) => line !== '');

  it("since: promote's record, dated by when its commit reached main; mode once starts the first step", async () => {
    const { dir, git, deployed, record } = await gitopsWithV2('since-record');
    writeFileSync(join(workspace, 'promotion.json'), JSON.stringify(stampRecord(PROMOTION_RECORD, record)));
    // No look at the metrics before the first step: nothing listens at this Prometheus.
    const { main } = await canary(dir, 'promotion.json', { 'prometheus-url': 'http://127.0.0.1:9', mode: 'once' });
    expect(main.errors).toEqual([]);
    expect(main.outputs.decision).toBe('continue');
    expect(main.outputs.weight).toBe('1');
    const committedAt = new Date(git('log', '-1', '--format=%cI', deployed)).toISOString();
    expect(main.stdout).toContain(`since: ${deployed} brought ${digests.v2} to the default branch at ${committedAt}`);
    const canaryRecord = JSON.parse(readFileSync(main.outputs.record!, 'utf8'));
    expect(canaryRecord.timeRange.since).toBe(committedAt);
    expect(canaryRecord.subject).toEqual({ name: repository, digest: digests.v2 });
    expect(stepsAfter(git, deployed)).toEqual(['1']);
  }, 60_000);

  it('a healthy canary goes 0 -> 1 -> 5 -> 25 -> 100 and is promoted', async () => {
    const { dir, git, deployed } = await gitopsWithV2('healthy');
    const live = await startLive(dir, 0.01);
    running.push(live);
    const since = new Date().toISOString();
    await sleep(2000);
    const { main } = await canary(dir, since, { 'prometheus-url': live.prometheus.url });
    expect(main.errors).toEqual([]);
    expect(main.exitCode).toBe(0);
    expect(main.outputs.decision).toBe('promote');
    expect(stepsAfter(git, deployed)).toEqual(['1', '5', '25', '100']);
    expect(flagd.read(git('show', `main:${FLAG_FILE}`), FLAG_FILE)).toBe(100);
    expect(parseYaml(git('show', 'main:envs/prod/kustomization.yaml')).images[0].digest).toBe(digests.v2);
    const record = JSON.parse(readFileSync(main.outputs.record!, 'utf8'));
    expect(record.decision).toBe('promote');
    // The traffic followed every step (the exporter reads the flag at HEAD at most every 250 ms).
    await sleep(500);
    expect(live.traffic.weights()).toEqual([0, 1, 5, 25, 100]);
  }, 120_000);

  it('a bad canary is rolled back: the flag off first, then the previous digest pinned again; exit 1', async () => {
    const { dir, git, deployed } = await gitopsWithV2('bad');
    const live = await startLive(dir, 0.2);
    running.push(live);
    const since = new Date().toISOString();
    await sleep(2000);
    const { main } = await canary(dir, since, { 'prometheus-url': live.prometheus.url });
    expect(main.exitCode).toBe(1);
    expect(main.outputs.decision).toBe('rollback');
    const commits = git('rev-list', '--reverse', `${deployed}..main`).split('\n');
    const weights = stepsAfter(git, deployed);
    // Some steps up, then exposure 0, then promote's rollback (which carries no canary trailer).
    expect(weights.at(-1)).toBe('0');
    expect(weights.slice(0, -1).every((w) => ['1', '5', '25'].includes(w))).toBe(true);
    const [off, repin] = commits.slice(-2) as [string, string];
    expect(git('log', '-1', '--format=%(trailers:key=Slipway-Canary-Weight,valueonly)', off)).toBe('0');
    expect(flagd.read(git('show', `${off}:${FLAG_FILE}`), FLAG_FILE)).toBe(0);
    expect(parseYaml(git('show', `${off}:envs/prod/kustomization.yaml`)).images[0].digest).toBe(digests.v2);
    expect(git('log', '-1', '--format=%B', repin)).toContain('Slipway-Rollback: true');
    expect(parseYaml(git('show', `${repin}:envs/prod/kustomization.yaml`)).images[0].digest).toBe(digests.v1);
    expect(flagd.read(git('show', `main:${FLAG_FILE}`), FLAG_FILE)).toBe(0);
    const record = JSON.parse(readFileSync(main.outputs.record!, 'utf8'));
    expect(record.decision).toBe('rollback');
  }, 120_000);
});
