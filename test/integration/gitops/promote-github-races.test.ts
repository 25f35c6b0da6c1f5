import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowClaims } from '../../../shared/attest/types.js';
import { readPullRequestMetadata } from '../../../shared/gitops/pr-body.js';
import { RegistryClient } from '../../../shared/oci/registry.js';
import type { PromotionRecordFile } from '../../../shared/records/promotion.js';
import type { HostedRepository } from '../../support/github-git.js';
import { type GitHubServer, type RecordedRequest, startGitHubServer } from '../../support/github-server.js';
import { makeImage, pushImage } from '../../support/images.js';
import {
  expectPromotionRefused,
  graphqlCalls,
  hostedGit,
  hostedState,
  MAX_PROMOTION_CALLS,
  pem,
  pinnedIn,
  promoteOnGitHub,
  readPromotionRecord,
  signWithKey,
  signYml,
} from '../../support/promote-github.js';
import { type PhaseResult, runActionYml } from '../../support/runner-harness.js';
import { requireTool, startRegistry, type TestRegistry } from '../../support/services.js';
import { type Sigstore, startSigstore, writeSigningFiles } from '../../support/sigstore.js';
import { startTokenService, type TokenService } from '../../support/token-service.js';

// promote against the fake GitHub where runs collide, and where the signer is the wrong workflow.
//
// Races: two built promote actions, each its own node process, write into one environment at once. The fake holds
// the first write that arrives until the second one has arrived too, so both were planned on the same read and the
// compare-and-swap on the branch head (createCommitOnBranch's expectedHeadOid) decides: one wins, the other gets
// STALE_DATA, reads again and re-applies its change on top. Left to timing, two processes whose verification takes
// different times rarely write within the same few milliseconds, and a race test that passes without racing proves
// nothing. "No update lost" is asserted on the bytes: after both runs, main's one file pins both services' new
// digests (the loser did not write back the text it read before the winner's commit), and history is winner then
// loser, each commit changing one pin.
//
// Identity: the policy trusts `repository: acme/api, workflow: .github/workflows/release.yml` (keyless). An image
// signed keylessly through loopback Sigstore by acme/api's other.yml is refused, naming the identity expected, and
// nothing is written; one signed by release.yml is promoted.

const TOKEN = 'ghs_promote-races-test-token';
const RELEASE_WORKFLOW = 'acme/api/.github/workflows/release.yml@refs/heads/main';
const OTHER_WORKFLOW = 'acme/api/.github/workflows/other.yml@refs/heads/main';
const KEYLESS_SIGNER = 'repository acme/api workflow .github/workflows/release.yml';
const DEV = 'envs/dev/kustomization.yaml';
const REVIEW = 'envs/review/kustomization.yaml';

let registry: TestRegistry;
let github: GitHubServer;
let sigstore: Sigstore;
let oidc: TokenService;
let hosted: HostedRepository;
let workspace: string;
let claims: Partial<WorkflowClaims> = {};
const names = { api: '', web: '' };
const IMAGE_NAMES = ['api1', 'api2', 'api3', 'web1', 'wrongWorkflow', 'rightWorkflow'] as const;
type ImageName = (typeof IMAGE_NAMES)[number];
const images = {} as Record<ImageName, string>;
const digests = {} as Record<ImageName, string>;

const release = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

const git = (...args: string[]) => hostedGit(hosted, ...args).trim();
const state = () => hostedState(hosted);
const promote = (inputs: Record<string, string>) =>
  promoteOnGitHub({ github, workspace, token: TOKEN, trustedRoot: join(workspace, 'trusted-root.json') }, inputs);
const commits = graphqlCalls('createCommitOnBranch');
const expectedHeads = (requests: RecordedRequest[]) =>
  requests
    .filter(commits)
    .map((r) => (r.body as { variables: { input: { expectedHeadOid: string } } }).variables.input.expectedHeadOid);
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

function slipwayYaml(): string {
  return `version: 1
environments:
  - name: dev
    pull-request: false
  - name: review
services:
  api:
    image: ${names.api}
    targets:
      dev: ${DEV}
      review: ${REVIEW}
  web:
    image: ${names.web}
    targets:
      dev: ${DEV}
policy:
  signers:
    - repository: acme/api
      workflow: .github/workflows/release.yml
    - key: keys/release.pub
  require: [https://slsa.dev/provenance/v1]
`;
}

/** Signs keylessly through loopback Sigstore, as the workflow `workflowRef` names (the certificate's SAN). */
async function signKeyless(image: string, workflowRef: string): Promise<void> {
  claims = {
    repository: 'acme/api',
    repository_visibility: 'public',
    workflow_ref: workflowRef,
    job_workflow_ref: workflowRef,
  };
  const { main } = await runActionYml(signYml, {
    workspace,
    env: { ...oidc.env, GITHUB_REPOSITORY: 'acme/api', GITHUB_API_URL: github.url },
    inputs: {
      image,
      'signing-config': 'signing-config.json',
      'trusted-root': 'trusted-root.json',
      storage: 'referrer',
    },
  });
  expect(main.errors).toEqual([]);
  // The certificate names the workflow that signed: what the policy is matched against.
  const bundles = JSON.parse(main.outputs.bundles ?? '[]') as { signer: string }[];
  expect(bundles.map((b) => b.signer)).toEqual([`https://github.com/${workflowRef}`]);
}

beforeAll(async () => {
  requireTool('git', 'git');
  [registry, github, sigstore] = await Promise.all([
    startRegistry(),
    startGitHubServer({ token: TOKEN }),
    startSigstore(),
  ]);
  oidc = await startTokenService(() => claims);
  workspace = mkdtempSync(join(tmpdir(), 'slipway-promote-races-'));
  writeSigningFiles(workspace, sigstore);
  names.api = `${registry.host}/acme/api`;
  names.web = `${registry.host}/acme/web`;
  const client = new RegistryClient();
  for (const name of IMAGE_NAMES) {
    const service = name.startsWith('web') ? 'web' : 'api';
    const built = makeImage({ label: `promote-races-${name}` });
    await pushImage(client.repository(registry.host, `acme/${service}`), built, [name]);
    digests[name] = built.top.descriptor.digest;
    images[name] = `${names[service]}:${name}@${digests[name]}`;
  }
  for (const name of ['api1', 'api2', 'api3', 'web1'] as const) {
    await signWithKey(workspace, images[name], release.privateKey);
  }
  await signKeyless(images.wrongWorkflow, OTHER_WORKFLOW);
  await signKeyless(images.rightWorkflow, RELEASE_WORKFLOW);

  hosted = await github.createRepository({
    owner: 'acme',
    name: 'gitops',
    labels: ['slipway'],
    files: {
      '.slipway.yaml': slipwayYaml(),
      'keys/release.pub': pem(release.publicKey, 'spki'),
      // Both services in one file: a loser that wrote back the text it read would erase the winner's pin.
      [DEV]: `resources:\n  - ../../base\nimages:\n  - name: ${names.api} # api\n    newTag: "0.0.0"\n  - name: ${names.web} # web\n    newTag: "0.0.0"\n`,
      [REVIEW]: `resources:\n  - ../../base\nimages:\n  - name: ${names.api}\n    newTag: "0.0.0"\n`,
    },
  });
}, 240_000);

afterAll(async () => {
  await Promise.all([registry?.stop(), github?.close(), sigstore?.close(), oidc?.close()]);
});

/**
 * Holds the next request `match` accepts until a second one has arrived (or a minute passed), then lets both go on
 * together: two writes in flight at once, both planned on what they read before either landed.
 */
function meetAtNext(match: (request: RecordedRequest) => boolean): void {
  const from = github.requests.length;
  github.beforeNext(async () => {
    const deadline = Date.now() + 60_000;
    while (github.requests.slice(from).filter(match).length < 2 && Date.now() < deadline) await sleep(10);
  }, match);
}

interface Ran {
  result: PhaseResult;
  record: PromotionRecordFile;
}

/** Both runs succeeded; the one that wrote at its first attempt, and the one that lost once and retried. */
function winnerAndLoser(results: PhaseResult[]): { winner: Ran; loser: Ran } {
  for (const result of results) {
    expect(result.errors).toEqual([]);
    expect(result.exitCode).toBe(0);
  }
  const ran = results.map((result) => ({ result, record: readPromotionRecord(result, Number.POSITIVE_INFINITY) }));
  expect(ran.map((r) => r.record.calls.attempts).sort()).toEqual([1, 2]);
  const [winner, loser] = [...ran].sort((a, b) => a.record.calls.attempts - b.record.calls.attempts) as [Ran, Ran];
  return { winner, loser };
}

describe('two promotions into one environment at once', () => {
  it('direct commits on main: the loser re-reads and re-applies, and main pins both services', async () => {
    const base = git('rev-parse', 'main');
    const from = github.requests.length;
    meetAtNext(commits);
    const results = await Promise.all([
      promote({ environment: 'dev', service: 'api', image: images.api1 }),
      promote({ environment: 'dev', service: 'web', image: images.web1 }),
    ]);
    const { winner, loser } = winnerAndLoser(results);

    // Both wrote on the head they read; the loser's second try was on the winner's commit.
    expect(expectedHeads(github.requests.slice(from))).toEqual([base, base, winner.record.commit]);
    expect(loser.result.stdout).toContain(`Expected branch to point to "${base}" but it did not`);
    expect(loser.result.stdout).toMatch(/another run moved refs\/heads\/main first; reading again in \d+ ms/);
    expect(winner.record.calls).toEqual({ total: 3, read: 2, write: 1, attempts: 1 });
    // policy, read, lost commit, read again, commit: the budget holds with one retry.
    expect(loser.record.calls).toEqual({ total: 5, read: 3, write: 2, attempts: 2 });
    expect(loser.record.calls.total).toBeLessThanOrEqual(MAX_PROMOTION_CALLS);

    // History is base, winner, loser: nothing forced over anything.
    expect(git('rev-list', '--first-parent', `${base}..main`).split('\n')).toEqual([
      loser.record.commit,
      winner.record.commit,
    ]);
    expect(git('rev-parse', 'main')).toBe(loser.record.commit);
    const pins = (ref: string) =>
      Object.fromEntries(
        (pinnedIn(hosted, ref, DEV) as { name: string; digest?: string }[]).map((image) => [image.name, image.digest]),
      );
    // The winner's commit changed its own pin only; the loser's added its pin to that text.
    const winnerService = winner.record.services[0]!;
    expect(pins(winner.record.commit!)).toEqual({
      [names.api]: undefined,
      [names.web]: undefined,
      [winnerService.image]: winnerService.next.digest,
    });
    expect(pins('main')).toEqual({ [names.api]: digests.api1, [names.web]: digests.web1 });
    expect(hostedGit(hosted, 'show', `main:${DEV}`)).toMatch(/# api\n[\s\S]*# web\n/);
    expect(github.schemaErrors).toEqual([]);
  }, 240_000);

  it('a pull request environment: one pull request, whose text describes what its branch pins, not two', async () => {
    const branch = 'slipway/review/api';
    const base = git('rev-parse', 'main');
    const from = github.requests.length;
    meetAtNext(commits);
    const results = await Promise.all([
      promote({ environment: 'review', service: 'api', image: images.api2 }),
      promote({ environment: 'review', service: 'api', image: images.api3 }),
    ]);
    for (const result of results) {
      expect(result.errors).toEqual([]);
      expect(result.exitCode).toBe(0);
    }
    const records = results.map((result) => readPromotionRecord(result, Number.POSITIVE_INFINITY));

    // Both created the branch on the head they read; one lost (the branch existed, its commit was stale) and retried.
    // From there the one that lost sees a branch without a pull request yet (the other is pacing its writes), resets
    // it and commits; the other opens the pull request on a head that is no longer its commit. Whatever the order,
    // each run that wrote a pull request's text checks, in the same request, that the head is still its commit, and
    // re-applies when it is not: the last writer leaves branch and text agreeing.
    expect(expectedHeads(github.requests.slice(from)).slice(0, 2)).toEqual([base, base]);
    // Which of createRef or createCommitOnBranch refused the loser depends on how the two requests interleave.
    expect(results.map((r) => r.stdout).join('\n')).toMatch(
      /(Reference already exists|Expected branch to point to "[0-9a-f]{40}" but it did not).*another run moved refs\/heads\/slipway\/review\/api first/,
    );
    expect(Math.max(...records.map((r) => r.calls.attempts))).toBeGreaterThan(1);

    const pulls = hosted.pulls.filter((p) => p.head === branch);
    expect(pulls).toHaveLength(1);
    expect(pulls[0]!.state).toBe('open');

    const head = git('rev-parse', `refs/heads/${branch}`);
    const [pinned] = pinnedIn(hosted, `refs/heads/${branch}`, REVIEW) as { name: string; digest: string }[];
    expect([digests.api2, digests.api3]).toContain(pinned?.digest);
    const other = pinned?.digest === digests.api2 ? digests.api3 : digests.api2;
    // The run whose digest the branch pins made its head; the text describes that digest and not the other.
    expect(readPullRequestMetadata(pulls[0]!.body ?? '')?.services.map((s) => s.next)).toEqual([pinned?.digest]);
    expect(records.find((r) => r.services[0]?.next.digest === pinned?.digest)?.commit).toBe(head);
    expect(pulls[0]!.body).not.toContain(other);
    expect(pulls[0]!.title).toContain(pinned?.digest.slice(0, 19));
    // Both runs end on that one pull request.
    for (const result of results)
      expect(result.outputs['pull-request']).toMatch(new RegExp(`/pull/${pulls[0]!.number}$`));
    expect(git('rev-parse', 'main')).toBe(base);
    expect(github.schemaErrors).toEqual([]);
  }, 240_000);
});

describe('a keyless signature from the wrong workflow', () => {
  it('is refused naming the identity the policy expects, and nothing is written', async () => {
    const from = github.requests.length;
    const refused = await expectPromotionRefused(
      () => promote({ environment: 'dev', service: 'api', image: images.wrongWorkflow }),
      state,
      'VERIFICATION_FAILED',
      new RegExp(`${KEYLESS_SIGNER}: `),
    );
    // What did sign it is named too, so the reader sees the mismatch without running verify.
    expect(refused.refusal?.message).toContain(`got https://github.com/${OTHER_WORKFLOW}`);
    expect(refused.services[0]?.verification?.reasons).toContainEqual(
      expect.objectContaining({ signer: KEYLESS_SIGNER, code: 'IDENTITY_MISMATCH' }),
    );
    // Read and refused: no write was so much as attempted.
    expect(github.requests.slice(from).filter(graphqlCalls('mutation'))).toEqual([]);
    expect(github.schemaErrors).toEqual([]);
  }, 120_000);

  it('the workflow the policy names passes', async () => {
    const before = git('rev-parse', 'main');
    const result = await promote({ environment: 'dev', service: 'api', image: images.rightWorkflow });
    expect(result.errors).toEqual([]);
    const record = readPromotionRecord(result);
    expect(record.services[0]?.verification).toMatchObject({ verdict: 'verified', signer: KEYLESS_SIGNER });
    expect(git('rev-parse', 'main^')).toBe(before);
    expect(pinnedIn(hosted, 'main', DEV)).toContainEqual({
      name: names.api,
      newTag: 'rightWorkflow',
      digest: digests.rightWorkflow,
    });
    expect(github.schemaErrors).toEqual([]);
  }, 120_000);
});
