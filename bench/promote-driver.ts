import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { VerificationRecord } from '../shared/attest/run-verify.js';
import { silentLogger } from '../shared/core/logger.js';
import { SecretRegistry } from '../shared/core/secrets.js';
import { runPromote } from '../shared/gitops/run-promote.js';
import type { PromotionResult } from '../shared/records/promotion.js';
import { startGitHubServer } from '../test/support/github-server.js';

// The promote benchmark's driver, bundled by bench/promote.mjs and run as one
// process per (mode, bundle size): it makes a GitOps repository with N services (a local git repository, or one on
// the fake GitHub, a real bare repository behind GitHub's REST and GraphQL shapes), then promotes N-service bundles
// through runPromote, the code the action runs, and prints each promotion's API calls and wall time as JSON.
//
// Verification is stood in for (every digest passes): it is verify's own cost, one registry lookup per digest,
// measured with verify, and this benchmark is about the GitOps side, which the ≤5-call budget is about.
//
//   node promote-driver.mjs <local|github> <services> <rounds>

const [mode = 'local', servicesArg = '1', roundsArg = '3'] = process.argv.slice(2);
const count = Number(servicesArg);
const rounds = Number(roundsArg);
const TOKEN = 'ghs_bench-token';
const REGISTRY = 'registry.example/acme';

const services = Array.from({ length: count }, (_, i) => `svc-${String(i).padStart(2, '0')}`);
const digest = () => `sha256:${randomBytes(32).toString('hex')}` as const;

function files(): Record<string, string> {
  const out: Record<string, string> = {
    '.slipway.yaml': [
      'version: 1',
      'environments:',
      '  - name: dev',
      '    pull-request: false',
      '  - name: staging',
      '    after: dev',
      '    labels: [team-platform]',
      'services:',
      ...services.flatMap((s) => [
        `  ${s}:`,
        `    image: ${REGISTRY}/${s}`,
        '    targets:',
        `      dev: envs/dev/${s}/kustomization.yaml`,
        `      staging: envs/staging/${s}/kustomization.yaml`,
      ]),
      'policy:',
      '  signers:',
      '    - repository: acme/app',
      '  require: [https://slsa.dev/provenance/v1]',
      '',
    ].join('\n'),
  };
  for (const s of services) {
    for (const env of ['dev', 'staging']) {
      out[`envs/${env}/${s}/kustomization.yaml`] =
        `resources:\n  - ../../../base/${s}\nimages:\n  - name: ${REGISTRY}/${s}\n    newTag: "0.0.0"\n`;
    }
  }
  return out;
}

const passes = async (request: { image: { digest: string } }): Promise<VerificationRecord> =>
  ({
    verified: true,
    outcome: { verified: true, reasons: [], attestations: [], missingPredicateTypes: [] },
    subject: request.image,
  }) as unknown as VerificationRecord;

interface Setup {
  gitopsRepo: string;
  env: Record<string, string>;
  close(): Promise<void>;
}

async function setup(round: number): Promise<Setup> {
  if (mode === 'local') {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-bench-promote-'));
    for (const [path, text] of Object.entries(files())) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { stdio: 'ignore' });
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('-c', 'user.name=bench', '-c', 'user.email=bench@example.com', 'commit', '-qm', 'GitOps repository');
    return { gitopsRepo: dir, env: {}, close: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const server = await startGitHubServer({ token: TOKEN });
  const name = `gitops-${round}`;
  await server.createRepository({ owner: 'acme', name, files: files(), labels: ['slipway'] });
  return {
    gitopsRepo: `acme/${name}`,
    env: { GITHUB_API_URL: server.url, GITHUB_GRAPHQL_URL: server.graphqlUrl, GITHUB_SERVER_URL: server.webUrl },
    close: async () => {
      if (server.schemaErrors.length > 0)
        throw new Error(`fake GitHub schema errors: ${server.schemaErrors.join('; ')}`);
      await server.close();
    },
  };
}

interface Measured {
  scenario: string;
  ms: number;
  calls: PromotionResult['calls'];
  outcome: string;
}

const results: Measured[] = [];
for (let round = 0; round < rounds; round++) {
  const where = await setup(round);
  const promote = async (scenario: string, request: { environment: string; images?: boolean; from?: string }) => {
    const started = process.hrtime.bigint();
    const record = await runPromote(
      {
        gitopsRepo: where.gitopsRepo,
        config: '.slipway.yaml',
        environment: request.environment,
        services,
        images: request.images
          ? services.map((s) => ({ name: `${REGISTRY}/${s}`, digest: digest(), tag: `r${round}` }))
          : [],
        ...(request.from ? { from: request.from } : {}),
        rollback: false,
        hold: false,
        releaseHold: false,
        dryRun: false,
        token: TOKEN,
      },
      {
        env: { ...where.env, GITHUB_REPOSITORY: 'acme/app', GITHUB_RUN_ID: '1', GITHUB_SHA: 'a'.repeat(40) },
        logger: silentLogger,
        secrets: new SecretRegistry(() => {}),
        workspace: tmpdir(),
        runVerify: passes as never,
      },
    );
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (record.outcome === 'refused') throw new Error(`${scenario}: ${record.refusal?.message}`);
    results.push({ scenario, ms, calls: record.calls, outcome: record.outcome });
  };
  await promote('dev: direct commit', { environment: 'dev', images: true });
  await promote('staging: new pull request', { environment: 'staging', from: 'dev' });
  await promote('dev: direct commit (newer digests)', { environment: 'dev', images: true });
  await promote('staging: update in place', { environment: 'staging', from: 'dev' });
  await promote('staging: re-run (unchanged)', { environment: 'staging', from: 'dev' });
  await where.close();
}
process.stdout.write(`${JSON.stringify({ mode, services: count, rounds, results })}\n`);
