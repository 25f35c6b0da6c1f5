import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNativeImage } from '../../shared/build/native.js';
import { OciLayoutStore } from '../../shared/oci/layout.js';
import { RegistryClient } from '../../shared/oci/registry.js';
import { GITHUB_TOKEN_EXPRESSION } from '../../shared/runner/inputs.js';
import { harnessEvent } from '../support/events.js';
import { type GitHubServer, startGitHubServer } from '../support/github-server.js';
import { makeImage, pushImage } from '../support/images.js';
import {
  distRoot,
  type PhaseResult,
  type RunOptions,
  readActionMetadata,
  repositoryRoot,
  runActionYml,
} from '../support/runner-harness.js';
import { requireTool, startRegistry, type TestRegistry } from '../support/services.js';

// Every built action in its default configuration: only its required inputs, in the environment a GitHub runner
// gives a push to main, and again through the CLI. A user who tries an action this way must see it work or fail
// with one message that names what to change (an input, a permission) or the server that could not be reached;
// never "Unexpected failure, a bug in Slipway". Bundling faults (a dependency that works from source and not from
// dist/) show up only here, since every other test sets the optional inputs that would take another path.
//
// Public servers (TUF, OSV, GitHub's API, Fulcio) are reachable on a GitHub runner and not on every test
// machine, so the runner cases accept either outcome; the air-gapped cases run in a network namespace with no
// route out (`unshare -n`), where the outcome is fixed.

const PUSH = harnessEvent('push-branch');
const REPOSITORY = PUSH.env.GITHUB_REPOSITORY!;
/**
 * Variables every job has on a GitHub-hosted runner ("Default environment variables" in GitHub's docs) that the
 * recorded push fixture leaves out; values as they would be for that push.
 */
const RUNNER_ENV: Record<string, string> = {
  ...PUSH.env,
  GITHUB_WORKFLOW_REF: `${REPOSITORY}/.github/workflows/release.yml@${PUSH.env.GITHUB_REF}`,
  GITHUB_WORKFLOW_SHA: PUSH.env.GITHUB_SHA!,
  GITHUB_REPOSITORY_ID: '123456789',
  GITHUB_REPOSITORY_OWNER_ID: '987654',
  GITHUB_ACTOR_ID: '583231',
  GITHUB_TRIGGERING_ACTOR: PUSH.env.GITHUB_ACTOR!,
  GITHUB_RETENTION_DAYS: '90',
  GITHUB_GRAPHQL_URL: 'https://api.github.com/graphql',
  RUNNER_ARCH: 'X64',
  RUNNER_NAME: 'GitHub Actions 2',
  RUNNER_ENVIRONMENT: 'github-hosted',
};
/** What the runner puts in place of an input's `${{ github.token }}` default. */
const RUNNER_TOKEN = 'ghs_defaults-test-job-token';
const BUG = 'a bug in Slipway';
const GATE_FAILED = /^The vulnerability gate failed: /;

/** The public servers an action may reach in its default configuration. */
const TUF = 'tuf-repo-cdn.sigstore.dev';
const OSV = 'api.osv.dev';
/** GitHub's API, by host or as messages name it. */
const GITHUB_API = ['api.github.com', 'GitHub API'];

let registry: TestRegistry;
/** GitHub's API as a runner that reaches it sees it (loopback fake, checked against GitHub's OpenAPI description). */
let github: GitHubServer;
/** An image in the loopback registry as builders make them (with a created time), pinned by digest. */
let image: string;
/** An image with no created time in its config (as some tools write them), pinned by digest. */
let bareImage: string;
/** An image in an OCI layout, signed with `keys` into that layout. */
let layoutImage: string;
let keys: { privatePem: string; publicPem: string };

const actionYml = (name: string) => join(repositoryRoot, 'actions', name, 'action.yml');

/** Every action folder with an action.yml: the list the tables below must cover. */
const ACTIONS = readdirSync(join(repositoryRoot, 'actions'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(actionYml(entry.name)))
  .map((entry) => entry.name)
  .sort();

/** The inputs the runner fills in when the workflow gives none: action.yml's `${{ github.token }}` defaults. */
function runnerEvaluatedDefaults(name: string): Record<string, string> {
  const inputs = readActionMetadata(actionYml(name)).inputs ?? {};
  return Object.fromEntries(
    Object.entries(inputs)
      .filter(([, spec]) => spec.default === GITHUB_TOKEN_EXPRESSION)
      .map(([input]) => [input, RUNNER_TOKEN]),
  );
}

function requiredInputs(name: string): string[] {
  return Object.entries(readActionMetadata(actionYml(name)).inputs ?? {})
    .filter(([, spec]) => spec.required === true)
    .map(([input]) => input);
}

async function runDefault(
  name: string,
  inputs: Record<string, string>,
  options: Pick<RunOptions, 'workspace' | 'wrap' | 'env'> = {},
): Promise<PhaseResult> {
  const { main } = await runActionYml(actionYml(name), {
    ...options,
    event: PUSH.event,
    env: { ...RUNNER_ENV, ...options.env },
    inputs: { ...runnerEvaluatedDefaults(name), ...inputs },
    timeoutMs: 240_000,
  });
  return main;
}

/**
 * Works, or fails with error lines that each name one of `names` (an input as the error types quote it, a
 * server, a permission). Either way nothing reads as a bug, on any line of either stream.
 */
function expectWorksOrFailsClearly(
  result: { exitCode: number; stdout: string; stderr: string; errors: string[] },
  names: { inputs?: string[]; servers?: string[]; other?: RegExp[] },
): void {
  const lines = `${result.stdout}\n${result.stderr}`.split('\n');
  expect(lines.filter((line) => line.includes(BUG))).toEqual([]);
  if (result.exitCode === 0) {
    expect(result.errors).toEqual([]);
    return;
  }
  expect(result.errors.length).toBeGreaterThan(0);
  const patterns = [
    ...(names.inputs ?? []).map(
      (input) => new RegExp(`Input '${input}'|input '${input}'|\`${input}\`|--${input}\\b|the ${input} input`),
    ),
    ...(names.servers ?? []).map((server) => new RegExp(server.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))),
    ...(names.other ?? []),
  ];
  for (const error of result.errors) {
    expect(
      patterns.some((pattern) => pattern.test(error)),
      `error names none of ${patterns.join(', ')}: ${error}`,
    ).toBe(true);
  }
}

beforeAll(async () => {
  [registry, github] = await Promise.all([startRegistry(), startGitHubServer({ token: RUNNER_TOKEN })]);
  const repository = new RegistryClient().repository(registry.host, 'acme/api');
  const contents = mkdtempSync(join(tmpdir(), 'slipway-defaults-app-'));
  writeFileSync(join(contents, 'server.js'), 'console.log("hi")\n');
  // One installed npm package, so that the sbom gate has something to ask OSV about.
  mkdirSync(join(contents, 'node_modules/left-pad'), { recursive: true });
  writeFileSync(
    join(contents, 'node_modules/left-pad/package.json'),
    JSON.stringify({ name: 'left-pad', version: '1.3.0', license: 'WTFPL' }),
  );
  const built = await buildNativeImage({
    target: repository,
    platforms: ['linux/amd64'],
    layers: [{ sources: [{ dir: contents, target: '/app' }] }],
    created: '2026-05-01T00:00:00Z',
  });
  image = `${registry.host}/acme/api@${built.descriptor.digest}`;
  const bare = makeImage({ label: 'defaults' });
  await pushImage(repository, bare);
  bareImage = `${registry.host}/acme/api@${bare.top.descriptor.digest}`;

  // An air-gapped user's image: in an OCI layout, signed with a key into that same layout (by the sign action
  // as shipped, outside the namespace; signing is not what the namespace cases test).
  const layout = mkdtempSync(join(tmpdir(), 'slipway-defaults-layout-'));
  const keyed = makeImage({ label: 'air-gapped' });
  await pushImage(await OciLayoutStore.open(layout, { create: true }), keyed);
  layoutImage = `oci-layout:${layout}@${keyed.top.descriptor.digest}`;
  const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  keys = {
    privatePem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
  const signed = await runDefault('sign', { image: layoutImage, key: keys.privatePem, storage: 'referrer' });
  expect(signed.errors).toEqual([]);
  expect(signed.exitCode).toBe(0);
}, 240_000);

afterAll(async () => {
  await Promise.all([registry?.stop(), github?.close()]);
});

it('covers every action folder', () => {
  // A new action without a default-configuration case fails here rather than shipping untried.
  expect(ACTIONS).toEqual(Object.keys(RUNNER_CASES).sort());
  expect(ACTIONS).toEqual(Object.keys(CLI_CASES).sort());
  for (const name of ACTIONS) {
    for (const input of requiredInputs(name)) {
      for (const c of RUNNER_CASES[name]!) expect(Object.keys(c.inputs())).toContain(input);
    }
  }
});

interface DefaultCase {
  title: string;
  inputs: () => Record<string, string>;
  workspace?: () => string;
  /** Environment over the runner's. */
  env?: () => Record<string, string>;
  /** What a failure must name. */
  names: () => { inputs?: string[]; servers?: string[]; other?: RegExp[] };
  /** This case must work, not merely fail clearly. */
  mustWork?: boolean;
}

/** A workspace holding a Containerfile that builds without a base image or a network. */
function containerfileWorkspace(): string {
  const workspace = mkdtempSync(join(tmpdir(), 'slipway-defaults-build-'));
  writeFileSync(join(workspace, 'Containerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
  writeFileSync(join(workspace, 'hello.txt'), 'hello\n');
  return workspace;
}

const RUNNER_CASES: Record<string, DefaultCase[]> = {
  build: [
    {
      title: 'image only, in a workspace with nothing to build',
      inputs: () => ({ image: `${registry.host}/acme/api` }),
      names: () => ({ inputs: ['context', 'file', 'directories', 'builder', 'import-from'] }),
    },
    {
      title: 'image only, in a workspace with a Containerfile',
      inputs: () => ({ image: `${registry.host}/acme/api` }),
      workspace: containerfileWorkspace,
      names: () => ({}),
      mustWork: true,
    },
  ],
  canary: [
    {
      title: 'canary and baseline only',
      inputs: () => ({ canary: 'version="canary"', baseline: 'version="stable"' }),
      names: () => ({ inputs: ['prometheus-url'] }),
    },
  ],
  evidence: [
    {
      // Nothing required: the job's token and GitHub's API find no pull request for the push and no run, and the
      // record is written and summarised, incomplete, naming what is missing.
      title: 'no inputs, on a runner whose GitHub API answers',
      inputs: () => ({}),
      env: () => ({ GITHUB_API_URL: github.url }),
      names: () => ({ inputs: ['token', 'records'] }),
      mustWork: true,
    },
  ],
  promote: [
    {
      title: 'gitops-repo and environment only',
      inputs: () => ({ 'gitops-repo': 'acme/gitops', environment: 'dev' }),
      // What to promote is the first thing missing: an image, or an environment to take it from.
      names: () => ({ inputs: ['image'] }),
    },
  ],
  sbom: [
    {
      title: 'image only (OSV at its public address)',
      inputs: () => ({ image }),
      // Where OSV answers, a finding in the test image would fail the gate by name: a clear outcome too.
      names: () => ({ servers: [OSV], other: [GATE_FAILED] }),
    },
    {
      title: 'image only, an image whose config has no created time',
      inputs: () => ({ image: bareImage }),
      // Without a created time the SBOM's timestamp needs SOURCE_DATE_EPOCH to stay reproducible.
      names: () => ({ servers: [OSV], other: [/SOURCE_DATE_EPOCH/, GATE_FAILED] }),
    },
  ],
  sign: [
    {
      title: 'image only (keyless, in a job without id-token: write)',
      inputs: () => ({ image }),
      names: () => ({ inputs: ['key'], other: [/id-token: write/] }),
    },
  ],
  verify: [
    {
      title: 'image and repository (public-good trusted root by TUF)',
      inputs: () => ({ image, repository: REPOSITORY }),
      // With network (a GitHub runner), the trusted root arrives and the search meets GitHub's API with a token
      // it does not know, or finds no attestation in the registry.
      names: () => ({
        inputs: ['trusted-root', 'key', 'github-token', 'sources'],
        servers: [TUF, ...GITHUB_API, registry.host],
      }),
    },
    {
      // GitHub's API answering (no attestation for this digest), so that the search ends and the trusted root is
      // needed whatever the order of the steps: where a bundling fault in the TUF client would show.
      title: 'image and repository, on a runner whose GitHub API answers',
      inputs: () => ({ image, repository: REPOSITORY }),
      env: () => ({ GITHUB_API_URL: github.url }),
      names: () => ({ inputs: ['trusted-root', 'key'], servers: [TUF, registry.host] }),
    },
  ],
};

describe('each action with only its required inputs, as the runner runs it', () => {
  for (const [name, cases] of Object.entries(RUNNER_CASES)) {
    for (const c of cases) {
      it(`${name}: ${c.title}`, async () => {
        const result = await runDefault(name, c.inputs(), {
          ...(c.workspace ? { workspace: c.workspace() } : {}),
          ...(c.env ? { env: c.env() } : {}),
        });
        if (c.mustWork) {
          expect(result.errors).toEqual([]);
          expect(result.exitCode).toBe(0);
        }
        expectWorksOrFailsClearly(result, c.names());
        expect(github.schemaErrors).toEqual([]);
      }, 240_000);
    }
  }
});

describe('verify on an air-gapped runner (a network namespace with no route out)', () => {
  const airGapped = ['unshare', '-n'];

  beforeAll(() => {
    requireTool('unshare', 'util-linux');
    // The namespace really has no route: not even the loopback registry of this test is reachable from it.
    const probe = spawnSync(
      airGapped[0]!,
      [
        ...airGapped.slice(1),
        process.execPath,
        '-e',
        `fetch(${JSON.stringify(`${registry.url}/v2/`)}).then(() => process.exit(0), () => process.exit(7))`,
      ],
      { encoding: 'utf8' },
    );
    expect(probe.error).toBeUndefined();
    expect(probe.stderr, 'unshare -n needs root (CAP_SYS_ADMIN); .ci/run runs the tests as root').toBe('');
    expect(probe.status).toBe(7);
  });

  it('image and repository: fails naming the trusted root it could not fetch, never a bug', async () => {
    const result = await runDefault('verify', { image: layoutImage, repository: REPOSITORY }, { wrap: airGapped });
    expect(result.exitCode).not.toBe(0);
    expect(result.errors).toHaveLength(1);
    expectWorksOrFailsClearly(result, { servers: [TUF], inputs: ['trusted-root'] });
    // The message is about the trusted root and the network, so the user knows both what failed and the way out.
    expect(result.errors[0]).toMatch(/TUF|trusted root/i);
    expect(result.errors[0]).toMatch(/trusted-root/);
  }, 240_000);

  it('image and key: verifies with nothing fetched', async () => {
    const result = await runDefault('verify', { image: layoutImage, key: keys.publicPem }, { wrap: airGapped });
    expect(result.stdout.split('\n').filter((line) => line.includes(BUG))).toEqual([]);
    expect(result.errors).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(result.outputs.verified).toBe('true');
  }, 240_000);
});

// The CLI: `slipway <action> --<required input> VALUE`, in an empty directory, with nothing of the runner's
// environment (no GITHUB_*), as a person tries it at a terminal.

interface CliCase {
  title: string;
  args: () => string[];
  /** The directory it runs in; an empty one by default. */
  cwd?: () => string;
  names: () => { inputs?: string[]; servers?: string[]; other?: RegExp[] };
  mustWork?: boolean;
}

/** A git checkout with one commit and a Containerfile, as a person has when they try `slipway build`. */
function checkoutWithContainerfile(): string {
  const dir = containerfileWorkspace();
  const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'app', '--date', '2026-03-01T10:00:00Z');
  return dir;
}

const CLI_CASES: Record<string, CliCase[]> = {
  build: [
    {
      title: '--image oci-layout:out, in an empty directory',
      args: () => ['--image', 'oci-layout:out'],
      names: () => ({ inputs: ['context', 'file', 'directories', 'builder', 'import-from', 'tags'] }),
    },
    {
      title: '--image oci-layout:out, in a checkout with a Containerfile',
      args: () => ['--image', 'oci-layout:out'],
      cwd: checkoutWithContainerfile,
      names: () => ({}),
      mustWork: true,
    },
  ],
  canary: [
    {
      title: '--canary version="canary" --baseline version="stable"',
      args: () => ['--canary', 'version="canary"', '--baseline', 'version="stable"'],
      names: () => ({ inputs: ['prometheus-url'] }),
    },
  ],
  evidence: [
    {
      // No token outside a workflow: the markdown is printed, the comment is not made (a warning says why).
      title: '(no arguments), in an empty directory',
      args: () => [],
      names: () => ({ inputs: ['token', 'records'] }),
      mustWork: true,
    },
  ],
  promote: [
    {
      title: '--gitops-repo ./gitops --environment dev',
      args: () => ['--gitops-repo', './gitops', '--environment', 'dev'],
      names: () => ({ inputs: ['image'] }),
    },
  ],
  sbom: [
    {
      title: '--image <image>',
      args: () => ['--image', image],
      names: () => ({ servers: [OSV], other: [GATE_FAILED] }),
    },
  ],
  sign: [
    {
      title: '--image <image>',
      args: () => ['--image', image],
      names: () => ({ inputs: ['key'], other: [/id-token: write/] }),
    },
  ],
  verify: [
    {
      title: '--image <image>',
      args: () => ['--image', image],
      // Without GITHUB_REPOSITORY there is no signer to expect until the user names one.
      names: () => ({ inputs: ['repository', 'key'], servers: [TUF, ...GITHUB_API, registry.host] }),
    },
  ],
};

describe('each action through the CLI with only its required inputs', () => {
  const cli = join(distRoot, 'cli/index.mjs');
  for (const [name, cases] of Object.entries(CLI_CASES)) {
    for (const c of cases) {
      it(`slipway ${name} ${c.title}`, () => {
        const cwd = c.cwd?.() ?? mkdtempSync(join(tmpdir(), 'slipway-defaults-cli-'));
        const run = spawnSync(process.execPath, [cli, name, ...c.args()], {
          cwd,
          encoding: 'utf8',
          env: { PATH: process.env.PATH, HOME: cwd },
          timeout: 240_000,
        });
        // An error is its `error: ` line and the lines that continue it, up to the next error.
        const errors = run.stderr
          .split(/^error: /m)
          .slice(1)
          .map((error) => error.trim());
        const result = { exitCode: run.status ?? 1, stdout: run.stdout, stderr: run.stderr, errors };
        if (c.mustWork) {
          expect(errors).toEqual([]);
          expect(result.exitCode).toBe(0);
        }
        expectWorksOrFailsClearly(result, c.names());
      }, 240_000);
    }
  }
});
