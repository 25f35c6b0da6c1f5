import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MAX_APPROVALS, REQUIREMENT_NAMES, REQUIREMENT_OPTIONS } from '../../../shared/evidence/requirements.js';
import { ConfigFileError, MAX_LENGTH, PATTERNS, parseSlipwayConfig } from '../../../shared/gitops/config.js';
import type { SlipwayConfig } from '../../../shared/gitops/types.js';
import { EDITOR_KINDS } from '../../../shared/gitops/types.js';
import { repositoryRoot } from '../../support/runner-harness.js';

// .slipway.yaml: the issue's example exactly as written, every feature, one exact message (file:line:column, key
// path, value, expected form) per mistake, and the published JSON schema agreeing with the parser on all of it.

const FILE = '.slipway.yaml';
const lines = (...text: string[]) => `${text.join('\n')}\n`;

function errorOf(text: string, path = FILE): ConfigFileError {
  try {
    parseSlipwayConfig(text, path);
  } catch (error) {
    if (error instanceof ConfigFileError) return error;
    throw error;
  }
  throw new Error(`accepted:\n${text}`);
}

const ENVIRONMENTS = lines('environments:', '  - name: dev', '  - name: prod', '    after: dev');
const SERVICES = lines(
  'services:',
  '  api:',
  '    image: ghcr.io/acme/api',
  '    targets:',
  '      dev: envs/dev/k.yaml',
);
const POLICY = lines('policy:', '  signers:', '    - key: keys/release.pub');
// The block under test always starts on line 2, right after the version.
const withEnvironments = (block: string) => `version: 1\n${block}${SERVICES}${POLICY}`;
const withServices = (block: string) => `version: 1\n${block}${ENVIRONMENTS}${POLICY}`;
const withPolicy = (block: string) => `version: 1\n${block}${ENVIRONMENTS}${SERVICES}`;

const fixture = readFileSync(join(repositoryRoot, 'test/fixtures/gitops/slipway.yaml'), 'utf8');

describe('the example in the issue', () => {
  it('is accepted exactly as written, with every value and default', () => {
    const config = parseSlipwayConfig(fixture, '.slipway.yaml');
    const expected: SlipwayConfig = {
      version: 1,
      environments: [
        {
          name: 'dev',
          pullRequest: false,
          after: undefined,
          soakMs: 0,
          reviewers: [],
          labels: [],
          autoMerge: false,
          freeze: [],
        },
        {
          name: 'staging',
          pullRequest: true,
          after: { environments: ['dev'], mode: 'all-of' },
          soakMs: 10 * 60_000,
          reviewers: [],
          labels: [],
          autoMerge: false,
          freeze: [],
        },
        {
          name: 'prod',
          pullRequest: true,
          after: { environments: ['staging'], mode: 'all-of' },
          soakMs: 3_600_000,
          reviewers: ['acme/platform'],
          labels: [],
          autoMerge: false,
          freeze: [
            {
              start: new Date('2026-12-24T00:00:00Z'),
              end: new Date('2027-01-02T00:00:00Z'),
              reason: 'year-end freeze',
            },
          ],
        },
      ],
      services: {
        api: {
          image: 'ghcr.io/acme/api',
          targets: {
            dev: { file: 'envs/dev/kustomization.yaml' },
            staging: { file: 'envs/staging/kustomization.yaml' },
            prod: { file: 'envs/prod/kustomization.yaml' },
          },
        },
        web: {
          image: 'ghcr.io/acme/web',
          targets: { prod: { file: 'charts/values-prod.yaml', helm: { digest: 'image.digest' } } },
        },
        report: { image: 'ghcr.io/acme/report', targets: { prod: { file: 'envs/prod/report.yaml' } } },
      },
      policy: {
        signers: [{ repository: 'acme/api', workflow: '.github/workflows/release.yml' }, { key: 'keys/release.pub' }],
        require: ['https://slsa.dev/provenance/v1'],
      },
      source: { path: '.slipway.yaml' },
    };
    expect(config).toEqual(expected);
    // toEqual passes over undefined: `after` is there, undefined, as the type says, and nothing else is.
    expect(Object.keys(config.environments[0]!)).toEqual(Object.keys(expected.environments[0]!));
    expect(Object.keys(config.services.web!.targets.prod!)).toEqual(['file', 'helm']);
    // Keys in the order written, which summaries and plans follow.
    expect(Object.keys(config.services)).toEqual(['api', 'web', 'report']);
    expect(Object.keys(config.environments[0]!)).not.toContain('signers');
  });

  it('gives the message the issue describes for a soak written in words', () => {
    const text = fixture.replace('    soak: 1h\n', '    soak: 1 hour\n');
    expect(errorOf(text).message).toBe(
      '.slipway.yaml:10:11: environments[2].soak is "1 hour": expected a duration such as 10m, 1h or 1h30m',
    );
  });
});

const EVERYTHING = lines(
  'version: 1',
  'environments:',
  '  - name: dev',
  '    pull-request: false',
  '    labels: &labels [slipway, "team: platform"]',
  '  - name: qa',
  '    after: [dev]',
  '  - name: perf',
  '    after: dev',
  '    soak: 90s',
  '  - name: staging',
  '    after: { any-of: [qa, perf] }',
  '    soak: 1h30m',
  '    auto-merge: true',
  '    labels: *labels',
  '  - name: prod',
  '    after:',
  '      all-of: [staging, qa]',
  '    soak: 2d',
  '    reviewers: [octocat, acme/platform-team]',
  '    freeze:',
  '      - start: 2026-12-24T00:00:00+01:00',
  '        end: "2027-01-02T00:00:00.5Z"',
  '        reason: year-end freeze',
  '    signers:',
  '      - repository: acme/api',
  '        signer-workflow: acme/shared/.github/workflows/sign.yml@refs/heads/main',
  '        ref: refs/tags/v*',
  '  - name: eu.prod_2',
  '    after: [prod, staging]',
  'services:',
  '  api:',
  '    image: ghcr.io/acme/api',
  '    targets:',
  '      dev: { file: envs/dev/kustomization.yaml, kind: kustomization }',
  '      prod: { file: apps/api.yaml, kind: argocd-application, application: api-prod }',
  '  web-ui:',
  '    image: localhost:5000/web',
  '    targets:',
  '      staging:',
  '        file: charts/web/values.yaml',
  '        helm: { digest: image.digest, tag: image.tag, repository: image.repository }',
  '      prod: { file: charts/web/values-prod.yaml, helm: { image: web.image } }',
  '  worker:',
  '    image: nginx',
  '    targets:',
  '      qa: { file: envs/qa/deploy.yaml, kind: manifest, container: main }',
  '      eu.prod_2: envs/eu/.argocd-source-worker.yaml',
  'policy:',
  '  signers:',
  '    - repository: acme/api',
  '    - repository: acme/web',
  '      workflow: .github/workflows/release.yml',
  '      ref: refs/heads/main',
  '  require:',
  '    - https://slsa.dev/provenance/v1',
  '    - https://spdx.dev/Document/v2.3',
);

describe('every feature', () => {
  const config = parseSlipwayConfig(EVERYTHING, 'deploy/slipway.yaml');
  const env = (name: string) => config.environments.find((environment) => environment.name === name)!;

  it('reads after as one name, a list, all-of or any-of', () => {
    expect(env('dev').after).toBeUndefined();
    expect(env('qa').after).toEqual({ environments: ['dev'], mode: 'all-of' });
    expect(env('perf').after).toEqual({ environments: ['dev'], mode: 'all-of' });
    expect(env('staging').after).toEqual({ environments: ['qa', 'perf'], mode: 'any-of' });
    expect(env('prod').after).toEqual({ environments: ['staging', 'qa'], mode: 'all-of' });
    expect(env('eu.prod_2').after).toEqual({ environments: ['prod', 'staging'], mode: 'all-of' });
  });

  it('reads durations, booleans, lists, aliases and freeze windows with offsets', () => {
    expect([env('perf').soakMs, env('staging').soakMs, env('prod').soakMs]).toEqual([
      90_000,
      5_400_000,
      2 * 86_400_000,
    ]);
    expect(env('dev').pullRequest).toBe(false);
    expect(env('staging').autoMerge).toBe(true);
    expect(env('staging').labels).toEqual(['slipway', 'team: platform']);
    expect(env('prod').reviewers).toEqual(['octocat', 'acme/platform-team']);
    expect(env('prod').freeze).toEqual([
      {
        start: new Date('2026-12-23T23:00:00Z'),
        end: new Date('2027-01-02T00:00:00.500Z'),
        reason: 'year-end freeze',
      },
    ]);
    expect(env('prod').signers).toEqual([
      {
        repository: 'acme/api',
        signerWorkflow: 'acme/shared/.github/workflows/sign.yml@refs/heads/main',
        ref: 'refs/tags/v*',
      },
    ]);
  });

  it('reads targets as paths or maps with kind, helm, container and application', () => {
    expect(config.services.api).toEqual({
      image: 'ghcr.io/acme/api',
      targets: {
        dev: { file: 'envs/dev/kustomization.yaml', kind: 'kustomization' },
        prod: { file: 'apps/api.yaml', kind: 'argocd-application', application: 'api-prod' },
      },
    });
    expect(config.services['web-ui']!.targets).toEqual({
      staging: {
        file: 'charts/web/values.yaml',
        helm: { digest: 'image.digest', tag: 'image.tag', repository: 'image.repository' },
      },
      prod: { file: 'charts/web/values-prod.yaml', helm: { image: 'web.image' } },
    });
    expect(config.services.worker).toEqual({
      image: 'nginx',
      targets: {
        qa: { file: 'envs/qa/deploy.yaml', kind: 'manifest', container: 'main' },
        'eu.prod_2': { file: 'envs/eu/.argocd-source-worker.yaml' },
      },
    });
  });

  it('reads the policy and names the file it came from', () => {
    expect(config.policy).toEqual({
      signers: [
        { repository: 'acme/api' },
        { repository: 'acme/web', workflow: '.github/workflows/release.yml', ref: 'refs/heads/main' },
      ],
      require: ['https://slsa.dev/provenance/v1', 'https://spdx.dev/Document/v2.3'],
    });
    expect(config.source).toEqual({ path: 'deploy/slipway.yaml' });
  });

  it('gives services no prototype, so a name like "constructor" finds nothing it did not configure', () => {
    expect(config.services.constructor).toBeUndefined();
    expect(config.services.api!.targets.toString).toBeUndefined();
  });

  it('reads CRLF files with a byte order mark and reports columns as editors show them', () => {
    const crlf = `\uFEFF${fixture.replaceAll('\n', '\r\n')}`;
    expect(parseSlipwayConfig(crlf, FILE)).toEqual(parseSlipwayConfig(fixture, FILE));
    expect(errorOf('\uFEFFversion: 2\r\n').message).toBe('.slipway.yaml:1:10: version is 2: expected 1');
  });
});

const EXPECT_NAME = 'a name of letters, digits, ".", "_" and "-" that starts and ends with a letter or digit';
const EXPECT_ENVIRONMENT_KEYS =
  'one of name, pull-request, after, soak, reviewers, labels, auto-merge, freeze, signers, require-evidence, evidence-exceptions';
const REQUIREMENTS = 'approved-pr, build, tests-passed, sbom, vulnerability-gate, signature, verification, canary';
/** An environments block whose prod carries the lines given (from line 5 on). */
const withProd = (...text: string[]) =>
  withEnvironments(lines('environments:', '  - name: dev', '  - name: prod', ...text));
const EXPECT_AFTER =
  'an environment name, a list of names (all of them), or a map with all-of or any-of and a list of names';
const EXPECT_TIME = 'an RFC 3339 time such as 2026-12-24T00:00:00Z';
const EXPECT_IMAGE = 'an image repository without tag or digest, such as ghcr.io/acme/api';
const EXPECT_FILE =
  'a path relative to the GitOps repository root, such as envs/dev/kustomization.yaml, with no "." or ".." parts';
const EXPECT_TARGET_KEYS = 'one of file, kind, helm, container, application';
const EXPECT_SIGNER_KEYS = 'one of repository, workflow, ref, signer-workflow, key';
const EXPECT_TOP = 'a map with version, environments, services and policy';

interface BadCase {
  name: string;
  text: string;
  message: string;
  /** What the JSON schema cannot say (uniqueness across items, references between parts, order of times). */
  parserOnly?: true;
}

const BAD: BadCase[] = [
  // --- the file and its top level ---
  { name: 'empty file', text: '', message: `${FILE}:1:1: the file is empty: expected ${EXPECT_TOP}` },
  {
    name: 'a list at the top',
    text: '- version: 1\n',
    message: `${FILE}:1:1: the file is a list: expected ${EXPECT_TOP}`,
  },
  { name: 'version 2', text: 'version: 2\n', message: `${FILE}:1:10: version is 2: expected 1` },
  { name: 'version as text', text: 'version: "1"\n', message: `${FILE}:1:10: version is "1": expected 1` },
  {
    name: 'version missing',
    text: `${ENVIRONMENTS}${SERVICES}${POLICY}`,
    message: `${FILE}:1:1: version is missing: expected 1`,
  },
  {
    name: 'a misspelt top-level key',
    text: `version: 1\npolcy: {}\n${ENVIRONMENTS}${SERVICES}`,
    message: `${FILE}:2:1: polcy is not a known key (did you mean policy?): expected one of version, environments, services, policy`,
  },
  {
    name: 'an unknown top-level key nothing is close to',
    text: `version: 1\nnotifications: []\n${ENVIRONMENTS}${SERVICES}${POLICY}`,
    message: `${FILE}:2:1: notifications is not a known key: expected one of version, environments, services, policy`,
  },
  {
    name: 'policy missing',
    text: `version: 1\n${ENVIRONMENTS}${SERVICES}`,
    message: `${FILE}:1:1: policy is missing: expected a map with signers and optionally require`,
  },
  {
    name: 'a key given twice',
    text: `version: 1\n${ENVIRONMENTS}${SERVICES}${POLICY}version: 1\n`,
    message: `${FILE}:14:1: version is given twice: expected each key once`,
  },

  // --- environments ---
  {
    name: 'no environments',
    text: withEnvironments('environments: []\n'),
    message: `${FILE}:2:15: environments is an empty list: expected a list of environments, each a map with at least a name`,
  },
  {
    name: 'environments as one name',
    text: withEnvironments('environments: dev\n'),
    message: `${FILE}:2:15: environments is "dev": expected a list of environments, each a map with at least a name`,
  },
  {
    name: 'an environment without a name',
    text: withEnvironments(lines('environments:', '  - pull-request: false')),
    message: `${FILE}:3:5: environments[0].name is missing: expected ${EXPECT_NAME}`,
  },
  {
    name: 'a name with a space',
    text: withEnvironments(lines('environments:', '  - name: dev env')),
    message: `${FILE}:3:11: environments[0].name is "dev env": expected ${EXPECT_NAME}`,
  },
  {
    name: 'a name YAML reads as a number',
    text: withEnvironments(lines('environments:', '  - name: dev', '  - name: 2024')),
    message: `${FILE}:4:11: environments[1].name is 2024: expected ${EXPECT_NAME} (put it in quotes to make it text)`,
  },
  {
    name: 'a name git refuses in a branch',
    text: withEnvironments(lines('environments:', '  - name: dev', '  - name: prod.lock')),
    message: `${FILE}:4:11: environments[1].name is "prod.lock": expected ${EXPECT_NAME}`,
  },
  {
    name: 'a name with ".."',
    text: withEnvironments(lines('environments:', '  - name: dev', '  - name: a..b')),
    message: `${FILE}:4:11: environments[1].name is "a..b": expected ${EXPECT_NAME}`,
  },
  {
    name: 'two environments with one name',
    text: withEnvironments(lines('environments:', '  - name: dev', '  - name: dev')),
    message: `${FILE}:4:11: environments[1].name is "dev" again: expected each environment once`,
    parserOnly: true,
  },
  {
    name: 'a misspelt soak',
    text: withEnvironments(lines('environments:', '  - name: dev', '  - name: prod', '    after: dev', '    sok: 10m')),
    message: `${FILE}:6:5: environments[1].sok is not a known key (did you mean soak?): expected ${EXPECT_ENVIRONMENT_KEYS}`,
  },
  {
    name: 'pull_request spelt with "_"',
    text: withEnvironments(lines('environments:', '  - name: dev', '    pull_request: false')),
    message: `${FILE}:4:5: environments[0].pull_request is not a known key (did you mean pull-request?): expected ${EXPECT_ENVIRONMENT_KEYS}`,
  },
  {
    name: 'autoMerge spelt in camelCase',
    text: withEnvironments(lines('environments:', '  - name: dev', '    autoMerge: true')),
    message: `${FILE}:4:5: environments[0].autoMerge is not a known key (did you mean auto-merge?): expected ${EXPECT_ENVIRONMENT_KEYS}`,
  },
  {
    name: 'pull-request: yes (YAML 1.1 spelling)',
    text: withEnvironments(lines('environments:', '  - name: dev', '    pull-request: yes')),
    message: `${FILE}:4:19: environments[0].pull-request is "yes": expected true or false`,
  },
  {
    name: 'auto-merge as quoted text',
    text: withEnvironments(lines('environments:', '  - name: dev', '    auto-merge: "true"')),
    message: `${FILE}:4:17: environments[0].auto-merge is "true": expected true or false`,
  },
  {
    name: 'pull-request with nothing after it',
    text: withEnvironments(lines('environments:', '  - name: dev', '    pull-request:')),
    message: `${FILE}:4:18: environments[0].pull-request is empty: expected true or false`,
  },
  {
    name: 'soak without a unit',
    text: withEnvironments(lines('environments:', '  - name: dev', '  - name: prod', '    after: dev', '    soak: 10')),
    message: `${FILE}:6:11: environments[1].soak is 10: expected a duration such as 10m, 1h or 1h30m`,
  },
  {
    name: 'soak units out of order',
    text: withEnvironments(
      lines('environments:', '  - name: dev', '  - name: prod', '    after: dev', '    soak: 30m1h'),
    ),
    message: `${FILE}:6:11: environments[1].soak is "30m1h": expected a duration such as 10m, 1h or 1h30m`,
  },
  {
    name: 'soak in milliseconds',
    text: withEnvironments(
      lines('environments:', '  - name: dev', '  - name: prod', '    after: dev', '    soak: 500ms'),
    ),
    message: `${FILE}:6:11: environments[1].soak is "500ms": expected a duration such as 10m, 1h or 1h30m`,
  },
  {
    name: 'soak with nothing to soak in',
    text: withEnvironments(lines('environments:', '  - name: dev', '    soak: 10m')),
    message: `${FILE}:4:11: environments[0].soak is set but after is not: expected after, naming where the digest soaks`,
  },
  {
    name: 'after naming an environment that does not exist',
    text: withEnvironments(lines('environments:', '  - name: dev', '  - name: prod', '    after: stage')),
    message: `${FILE}:5:12: environments[1].after is "stage", which is not an environment: expected one of dev, prod`,
    parserOnly: true,
  },
  {
    name: 'after listing an environment that does not exist',
    text: withEnvironments(lines('environments:', '  - name: dev', '  - name: prod', '    after: [dev, qa]')),
    message: `${FILE}:5:18: environments[1].after[1] is "qa", which is not an environment: expected one of dev, prod`,
    parserOnly: true,
  },
  {
    name: 'after as an empty list',
    text: withEnvironments(lines('environments:', '  - name: dev', '  - name: prod', '    after: []')),
    message: `${FILE}:5:12: environments[1].after is an empty list: expected ${EXPECT_AFTER}`,
  },
  {
    name: 'after with nothing after it',
    text: withEnvironments(lines('environments:', '  - name: dev', '  - name: prod', '    after:')),
    message: `${FILE}:5:11: environments[1].after is empty: expected ${EXPECT_AFTER}`,
  },
  {
    name: 'after listing one environment twice',
    text: withEnvironments(lines('environments:', '  - name: dev', '  - name: prod', '    after: [dev, dev]')),
    message: `${FILE}:5:18: environments[1].after[1] is "dev" again: expected a list of distinct environment names`,
  },
  {
    name: 'after with both all-of and any-of',
    text: withEnvironments(
      lines('environments:', '  - name: dev', '  - name: prod', '    after: { all-of: [dev], any-of: [dev] }'),
    ),
    message: `${FILE}:5:12: environments[1].after has both all-of and any-of: expected exactly one of them`,
  },
  {
    name: 'after as an empty map',
    text: withEnvironments(lines('environments:', '  - name: dev', '  - name: prod', '    after: {}')),
    message: `${FILE}:5:12: environments[1].after has neither all-of nor any-of: expected exactly one of them`,
  },
  {
    name: 'after with one-of',
    text: withEnvironments(lines('environments:', '  - name: dev', '  - name: prod', '    after: { one-of: [dev] }')),
    message: `${FILE}:5:14: environments[1].after.one-of is not a known key (did you mean any-of?): expected one of all-of, any-of`,
  },
  {
    name: 'any-of with an empty list',
    text: withEnvironments(lines('environments:', '  - name: dev', '  - name: prod', '    after: { any-of: [] }')),
    message: `${FILE}:5:22: environments[1].after.any-of is an empty list: expected a list of distinct environment names`,
  },
  {
    name: 'any-of with one name instead of a list',
    text: withEnvironments(lines('environments:', '  - name: dev', '  - name: prod', '    after: { any-of: dev }')),
    message: `${FILE}:5:22: environments[1].after.any-of is "dev": expected a list of distinct environment names`,
  },
  {
    name: 'a cycle of two',
    text: withEnvironments(
      lines('environments:', '  - name: dev', '    after: prod', '  - name: prod', '    after: dev'),
    ),
    message: `${FILE}:4:12: environments[0].after makes a cycle: dev -> prod -> dev: expected environments whose after never leads back to themselves`,
    parserOnly: true,
  },
  {
    name: 'a cycle of three, reported in the direction promotions flow',
    text: withEnvironments(
      lines(
        'environments:',
        '  - name: dev',
        '  - name: qa',
        '    after: [dev, prod]',
        '  - name: staging',
        '    after: qa',
        '  - name: prod',
        '    after: staging',
      ),
    ),
    message: `${FILE}:5:12: environments[1].after makes a cycle: qa -> staging -> prod -> qa: expected environments whose after never leads back to themselves`,
    parserOnly: true,
  },
  {
    name: 'an environment after itself',
    text: withEnvironments(lines('environments:', '  - name: dev', '    after: dev')),
    message: `${FILE}:4:12: environments[0].after makes a cycle: dev -> dev: expected environments whose after never leads back to themselves`,
    parserOnly: true,
  },
  {
    name: 'a reviewer written with "@"',
    text: withEnvironments(lines('environments:', '  - name: dev', '    reviewers: ["@acme/platform"]')),
    message: `${FILE}:4:17: environments[0].reviewers[0] is "@acme/platform": expected a GitHub user (octocat) or team (org/team) (without the "@")`,
  },
  {
    name: 'reviewers as one string',
    text: withEnvironments(lines('environments:', '  - name: dev', '    reviewers: acme/platform')),
    message: `${FILE}:4:16: environments[0].reviewers is "acme/platform": expected a list of GitHub users or org/team names`,
  },
  {
    name: 'a reviewer named twice',
    text: withEnvironments(lines('environments:', '  - name: dev', '    reviewers: [octocat, octocat]')),
    message: `${FILE}:4:26: environments[0].reviewers[1] is "octocat" again: expected each once`,
  },
  {
    name: 'a label longer than GitHub allows',
    text: withEnvironments(lines('environments:', '  - name: dev', `    labels: [${'x'.repeat(51)}]`)),
    message: `${FILE}:4:14: environments[0].labels[0] is "${'x'.repeat(51)}": expected a label name of 1 to 50 characters, without leading or trailing spaces`,
  },
  {
    name: 'a label with a trailing space',
    text: withEnvironments(lines('environments:', '  - name: dev', '    labels: ["slipway "]')),
    message: `${FILE}:4:14: environments[0].labels[0] is "slipway ": expected a label name of 1 to 50 characters, without leading or trailing spaces`,
  },
  {
    name: 'a freeze window without a reason',
    text: withEnvironments(
      lines(
        'environments:',
        '  - name: dev',
        '    freeze:',
        '      - { start: "2026-12-24T00:00:00Z", end: "2027-01-02T00:00:00Z" }',
      ),
    ),
    message: `${FILE}:5:9: environments[0].freeze[0].reason is missing: expected a text saying why, such as year-end freeze`,
  },
  {
    name: 'a freeze window with a misspelt reason',
    text: withEnvironments(
      lines(
        'environments:',
        '  - name: dev',
        '    freeze:',
        '      - { start: "2026-12-24T00:00:00Z", end: "2027-01-02T00:00:00Z", reasn: x }',
      ),
    ),
    message: `${FILE}:5:71: environments[0].freeze[0].reasn is not a known key (did you mean reason?): expected one of start, end, reason`,
  },
  {
    name: 'a freeze window given a date without a time',
    text: withEnvironments(
      lines(
        'environments:',
        '  - name: dev',
        '    freeze:',
        '      - { start: 2026-12-24, end: 2027-01-02, reason: x }',
      ),
    ),
    message: `${FILE}:5:18: environments[0].freeze[0].start is "2026-12-24": expected ${EXPECT_TIME}`,
  },
  {
    name: 'a freeze window without a time zone',
    text: withEnvironments(
      lines(
        'environments:',
        '  - name: dev',
        '    freeze:',
        '      - { start: "2026-12-24T00:00:00", end: "2027-01-02T00:00:00Z", reason: x }',
      ),
    ),
    message: `${FILE}:5:18: environments[0].freeze[0].start is "2026-12-24T00:00:00": expected ${EXPECT_TIME}`,
  },
  {
    name: 'a freeze window on a day that does not exist',
    text: withEnvironments(
      lines(
        'environments:',
        '  - name: dev',
        '    freeze:',
        '      - { start: "2026-02-29T00:00:00Z", end: "2027-01-02T00:00:00Z", reason: x }',
      ),
    ),
    message: `${FILE}:5:18: environments[0].freeze[0].start is "2026-02-29T00:00:00Z": expected ${EXPECT_TIME} (no such day)`,
  },
  {
    name: 'a freeze window at hour 24',
    text: withEnvironments(
      lines(
        'environments:',
        '  - name: dev',
        '    freeze:',
        '      - { start: "2026-12-24T00:00:00Z", end: "2026-12-24T24:00:00Z", reason: x }',
      ),
    ),
    message: `${FILE}:5:47: environments[0].freeze[0].end is "2026-12-24T24:00:00Z": expected ${EXPECT_TIME}`,
  },
  {
    name: 'a freeze window that ends before it starts',
    text: withEnvironments(
      lines(
        'environments:',
        '  - name: dev',
        '    freeze:',
        '      - start: "2027-01-02T00:00:00Z"',
        '        end: "2026-12-24T00:00:00Z"',
        '        reason: year-end freeze',
      ),
    ),
    message: `${FILE}:6:14: environments[0].freeze[0].end is "2026-12-24T00:00:00Z": expected a time after start (2027-01-02T00:00:00Z)`,
    parserOnly: true,
  },
  {
    name: 'an empty list of signers for an environment',
    text: withEnvironments(lines('environments:', '  - name: dev', '    signers: []')),
    message: `${FILE}:4:14: environments[0].signers is an empty list: expected a list of signers, each a map with repository (and optionally workflow, ref, signer-workflow) or key`,
  },

  // --- require-evidence and evidence-exceptions ---
  {
    name: 'an unknown requirement, with the name it was close to',
    text: withProd('    require-evidence: [tests-pass]'),
    message: `${FILE}:5:24: environments[1].require-evidence[0] is "tests-pass", which is not a requirement (did you mean tests-passed?): expected one of ${REQUIREMENTS}`,
  },
  {
    name: 'require-evidence as one name',
    text: withProd('    require-evidence: sbom'),
    message: `${FILE}:5:23: environments[1].require-evidence is "sbom": expected a list of requirements, each a name (${REQUIREMENTS}) or a map of one name to its options`,
  },
  {
    name: 'a requirement named twice',
    text: withProd('    require-evidence: [sbom, sbom]'),
    message: `${FILE}:5:30: environments[1].require-evidence[1] is "sbom" again: expected each requirement once`,
  },
  {
    name: 'a requirement named twice, once with options',
    text: withProd('    require-evidence: [approved-pr, { approved-pr: { min-approvals: 2 } }]'),
    message: `${FILE}:5:39: environments[1].require-evidence[1] is "approved-pr" again: expected each requirement once`,
    parserOnly: true,
  },
  {
    name: 'two requirements in one map',
    text: withProd('    require-evidence: [{ sbom: null, build: null }]'),
    message: `${FILE}:5:24: environments[1].require-evidence[0] is a map: expected a requirement name (${REQUIREMENTS}), or a map of one name to its options (one name per entry)`,
  },
  {
    name: 'too many approvals',
    text: withProd('    require-evidence: [{ approved-pr: { min-approvals: 11 } }]'),
    message: `${FILE}:5:56: environments[1].require-evidence[0].approved-pr.min-approvals is 11: expected a whole number of approvals from 1 to 10`,
  },
  {
    name: 'approvals as text',
    text: withProd('    require-evidence: [{ approved-pr: { min-approvals: "2" } }]'),
    message: `${FILE}:5:56: environments[1].require-evidence[0].approved-pr.min-approvals is "2": expected a whole number of approvals from 1 to 10`,
  },
  {
    name: 'a misspelt option',
    text: withProd('    require-evidence: [{ approved-pr: { min: 2 } }]'),
    message: `${FILE}:5:41: environments[1].require-evidence[0].approved-pr.min is not a known key: expected one of min-approvals`,
  },
  {
    name: 'options that are not a map',
    text: withProd('    require-evidence: [{ approved-pr: 2 }]'),
    message: `${FILE}:5:39: environments[1].require-evidence[0].approved-pr is 2: expected a map of options, such as {min-approvals: 2}`,
  },
  {
    name: 'options for a requirement that takes none',
    text: withProd('    require-evidence: [{ sbom: { x: 1 } }]'),
    message: `${FILE}:5:32: environments[1].require-evidence[0].sbom is a map: expected nothing: sbom takes no options`,
  },
  {
    name: 'a canary in an environment that does not exist',
    text: withProd('    require-evidence: [{ canary: { environment: qa } }]'),
    message: `${FILE}:5:49: environments[1].require-evidence[0].canary.environment is "qa", which is not an environment: expected one of dev, prod`,
    parserOnly: true,
  },
  {
    name: 'evidence-exceptions as a map',
    text: withProd('    evidence-exceptions: { requirement: sbom }'),
    message: `${FILE}:5:26: environments[1].evidence-exceptions is a map: expected a list of exceptions, each a map with requirement, by, reason and until`,
  },
  {
    name: 'an exception to an unknown requirement',
    text: withProd(
      '    evidence-exceptions: [{ requirement: tests, by: carol, reason: flaky, until: "2026-03-02T00:00:00Z" }]',
    ),
    message: `${FILE}:5:42: environments[1].evidence-exceptions[0].requirement is "tests", which is not a requirement: expected one of ${REQUIREMENTS}`,
  },
  {
    name: 'an exception by "@someone"',
    text: withProd(
      '    evidence-exceptions: [{ requirement: sbom, by: "@carol", reason: flaky, until: "2026-03-02T00:00:00Z" }]',
    ),
    message: `${FILE}:5:52: environments[1].evidence-exceptions[0].by is "@carol": expected the GitHub user (octocat) or team (org/team) who decided the exception (without the "@")`,
  },
  {
    name: 'an exception without a reason',
    text: withProd('    evidence-exceptions: [{ requirement: sbom, by: carol, until: "2026-03-02T00:00:00Z" }]'),
    message: `${FILE}:5:27: environments[1].evidence-exceptions[0].reason is missing: expected a text saying why, such as flaky suite quarantined, INC-42`,
  },
  {
    name: 'an exception until a day that does not exist',
    text: withProd(
      '    evidence-exceptions: [{ requirement: sbom, by: carol, reason: x, until: "2026-02-30T00:00:00Z" }]',
    ),
    message: `${FILE}:5:77: environments[1].evidence-exceptions[0].until is "2026-02-30T00:00:00Z": expected ${EXPECT_TIME} (no such day)`,
  },
  {
    name: 'an exception with an unknown key',
    text: withProd(
      '    evidence-exceptions: [{ requirement: sbom, by: carol, reason: x, until: "2026-03-02T00:00:00Z", approved: yes }]',
    ),
    message: `${FILE}:5:101: environments[1].evidence-exceptions[0].approved is not a known key: expected one of requirement, by, reason, until`,
  },

  // --- services ---
  {
    name: 'no services',
    text: withServices('services: {}\n'),
    message: `${FILE}:2:11: services is an empty map: expected a map of service names to a map with image and targets`,
  },
  {
    name: 'a service name with a space',
    text: withServices(lines('services:', '  my api:', '    image: ghcr.io/acme/api', '    targets: { dev: a.yaml }')),
    message: `${FILE}:3:3: services["my api"] has the name "my api": expected ${EXPECT_NAME}`,
  },
  {
    name: 'a service without an image',
    text: withServices(lines('services:', '  api:', '    targets: { dev: a.yaml }')),
    message: `${FILE}:4:5: services.api.image is missing: expected ${EXPECT_IMAGE}`,
  },
  {
    name: 'an image with a tag',
    text: withServices(lines('services:', '  api:', '    image: ghcr.io/acme/api:1.0', '    targets: { dev: a.yaml }')),
    message: `${FILE}:4:12: services.api.image is "ghcr.io/acme/api:1.0": expected ${EXPECT_IMAGE} (it has a tag)`,
  },
  {
    name: 'an image with a digest',
    text: withServices(
      lines(
        'services:',
        '  api:',
        `    image: ghcr.io/acme/api@sha256:${'a'.repeat(64)}`,
        '    targets: { dev: a.yaml }',
      ),
    ),
    message: `${FILE}:4:12: services.api.image is "ghcr.io/acme/api@sha256:${'a'.repeat(64)}": expected ${EXPECT_IMAGE} (it has a digest)`,
  },
  {
    name: 'an image with capitals',
    text: withServices(lines('services:', '  api:', '    image: ghcr.io/Acme/api', '    targets: { dev: a.yaml }')),
    message: `${FILE}:4:12: services.api.image is "ghcr.io/Acme/api": expected ${EXPECT_IMAGE} (repository names must be lowercase, "Acme/api" is not)`,
  },
  {
    name: 'an OCI layout as the image',
    text: withServices(lines('services:', '  api:', '    image: oci-layout:build/out', '    targets: { dev: a.yaml }')),
    message: `${FILE}:4:12: services.api.image is "oci-layout:build/out": expected ${EXPECT_IMAGE} (an OCI layout is not promoted)`,
  },
  {
    name: 'a misspelt targets',
    text: withServices(lines('services:', '  api:', '    image: ghcr.io/acme/api', '    target: { dev: a.yaml }')),
    message: `${FILE}:5:5: services.api.target is not a known key (did you mean targets?): expected one of image, targets`,
  },
  {
    name: 'a service with no targets',
    text: withServices(lines('services:', '  api:', '    image: ghcr.io/acme/api', '    targets: {}')),
    message: `${FILE}:5:14: services.api.targets is an empty map: expected a map of environment names to a file path or a map with file (and optionally kind, helm, container, application)`,
  },
  {
    name: 'a target in an environment that does not exist',
    text: withServices(
      lines(
        'services:',
        '  api:',
        '    image: ghcr.io/acme/api',
        '    targets:',
        '      dev: a.yaml',
        '      qa: b.yaml',
      ),
    ),
    message: `${FILE}:7:7: services.api.targets.qa names an environment that is not under environments: expected one of dev, prod`,
    parserOnly: true,
  },
  {
    name: 'a target with an absolute path',
    text: withServices(
      lines('services:', '  api:', '    image: ghcr.io/acme/api', '    targets: { dev: /envs/dev.yaml }'),
    ),
    message: `${FILE}:5:21: services.api.targets.dev is "/envs/dev.yaml": expected ${EXPECT_FILE} (it starts with "/")`,
  },
  {
    name: 'a target climbing out with ".."',
    text: withServices(
      lines('services:', '  api:', '    image: ghcr.io/acme/api', '    targets: { dev: envs/../../x.yaml }'),
    ),
    message: `${FILE}:5:21: services.api.targets.dev is "envs/../../x.yaml": expected ${EXPECT_FILE}`,
  },
  {
    name: 'a target starting with "./"',
    text: withServices(
      lines('services:', '  api:', '    image: ghcr.io/acme/api', '    targets: { dev: ./envs/dev.yaml }'),
    ),
    message: `${FILE}:5:21: services.api.targets.dev is "./envs/dev.yaml": expected ${EXPECT_FILE}`,
  },
  {
    name: 'a target with a double "/"',
    text: withServices(
      lines('services:', '  api:', '    image: ghcr.io/acme/api', '    targets: { dev: envs//dev.yaml }'),
    ),
    message: `${FILE}:5:21: services.api.targets.dev is "envs//dev.yaml": expected ${EXPECT_FILE}`,
  },
  {
    name: 'a target with Windows separators',
    text: withServices(
      lines('services:', '  api:', '    image: ghcr.io/acme/api', '    targets: { dev: envs\\dev.yaml }'),
    ),
    message: `${FILE}:5:21: services.api.targets.dev is "envs\\\\dev.yaml": expected ${EXPECT_FILE} (use "/" between directories)`,
  },
  {
    name: 'the policy file as a target',
    text: withServices(
      lines('services:', '  api:', '    image: ghcr.io/acme/api', '    targets: { dev: .slipway.yaml }'),
    ),
    message: `${FILE}:5:21: services.api.targets.dev is ".slipway.yaml": expected ${EXPECT_FILE} (Slipway's own files are not promotion targets)`,
  },
  {
    name: 'the holds file as a target',
    text: withServices(
      lines(
        'services:',
        '  api:',
        '    image: ghcr.io/acme/api',
        '    targets: { dev: { file: .slipway/holds.yaml } }',
      ),
    ),
    message: `${FILE}:5:29: services.api.targets.dev.file is ".slipway/holds.yaml": expected ${EXPECT_FILE} (Slipway's own files are not promotion targets)`,
  },
  {
    name: 'a target as a number',
    text: withServices(lines('services:', '  api:', '    image: ghcr.io/acme/api', '    targets: { dev: 1 }')),
    message: `${FILE}:5:21: services.api.targets.dev is 1: expected ${EXPECT_FILE} (put it in quotes to make it text)`,
  },
  {
    name: 'a target map without a file',
    text: withServices(
      lines('services:', '  api:', '    image: ghcr.io/acme/api', '    targets: { dev: { kind: manifest } }'),
    ),
    message: `${FILE}:5:21: services.api.targets.dev.file is missing: expected ${EXPECT_FILE}`,
  },
  {
    name: 'a target with a misspelt key',
    text: withServices(
      lines(
        'services:',
        '  api:',
        '    image: ghcr.io/acme/api',
        '    targets: { dev: { file: a.yaml, contaner: app } }',
      ),
    ),
    message: `${FILE}:5:37: services.api.targets.dev.contaner is not a known key (did you mean container?): expected ${EXPECT_TARGET_KEYS}`,
  },
  {
    name: 'an unknown editor kind',
    text: withServices(
      lines(
        'services:',
        '  api:',
        '    image: ghcr.io/acme/api',
        '    targets: { dev: { file: a.yaml, kind: kustomize } }',
      ),
    ),
    message: `${FILE}:5:43: services.api.targets.dev.kind is "kustomize": expected one of ${EDITOR_KINDS.join(', ')}`,
  },
  {
    name: 'helm with only a tag path',
    text: withServices(
      lines(
        'services:',
        '  api:',
        '    image: ghcr.io/acme/api',
        '    targets:',
        '      dev: { file: v.yaml, helm: { tag: image.tag } }',
      ),
    ),
    message: `${FILE}:6:34: services.api.targets.dev.helm has neither digest nor image: expected a map with digest or image, and optionally tag and repository, each a dotted key path such as image.digest`,
  },
  {
    name: 'helm with image and digest',
    text: withServices(
      lines(
        'services:',
        '  api:',
        '    image: ghcr.io/acme/api',
        '    targets:',
        '      dev: { file: v.yaml, helm: { digest: image.digest, image: image.ref } }',
      ),
    ),
    message: `${FILE}:6:36: services.api.targets.dev.helm.digest is given beside image: expected either image alone or digest (with tag, repository)`,
  },
  {
    name: 'helm with a misspelt digest',
    text: withServices(
      lines(
        'services:',
        '  api:',
        '    image: ghcr.io/acme/api',
        '    targets:',
        '      dev: { file: v.yaml, helm: { digets: a.b } }',
      ),
    ),
    message: `${FILE}:6:36: services.api.targets.dev.helm.digets is not a known key (did you mean digest?): expected one of digest, tag, repository, image`,
  },
  {
    name: 'a helm key path with an empty part',
    text: withServices(
      lines(
        'services:',
        '  api:',
        '    image: ghcr.io/acme/api',
        '    targets:',
        '      dev: { file: v.yaml, helm: { digest: image..digest } }',
      ),
    ),
    message: `${FILE}:6:44: services.api.targets.dev.helm.digest is "image..digest": expected a dotted key path such as image.digest`,
  },
  {
    name: 'a container name Kubernetes refuses',
    text: withServices(
      lines(
        'services:',
        '  api:',
        '    image: ghcr.io/acme/api',
        '    targets:',
        '      dev: { file: d.yaml, container: Main_App }',
      ),
    ),
    message: `${FILE}:6:39: services.api.targets.dev.container is "Main_App": expected a container name (lowercase letters, digits and "-", up to ${MAX_LENGTH.container} characters)`,
  },

  // --- policy ---
  {
    name: 'a policy without signers',
    text: withPolicy(lines('policy:', '  require: [https://slsa.dev/provenance/v1]')),
    message: `${FILE}:3:3: policy.signers is missing: expected a list of signers, each a map with repository (and optionally workflow, ref, signer-workflow) or key`,
  },
  {
    name: 'an empty list of signers',
    text: withPolicy(lines('policy:', '  signers: []')),
    message: `${FILE}:3:12: policy.signers is an empty list: expected a list of signers, each a map with repository (and optionally workflow, ref, signer-workflow) or key`,
  },
  {
    name: 'a signer with both key and repository',
    text: withPolicy(lines('policy:', '  signers:', '    - key: keys/release.pub', '      repository: acme/api')),
    message: `${FILE}:5:7: policy.signers[0].repository is given beside key: expected either key alone or repository with its options`,
  },
  {
    name: 'a signer with neither key nor repository',
    text: withPolicy(lines('policy:', '  signers:', '    - workflow: .github/workflows/release.yml')),
    message: `${FILE}:4:7: policy.signers[0].repository is missing: expected a GitHub repository as owner/name (or key alone, for a public key)`,
  },
  {
    name: 'a signer repository without an owner',
    text: withPolicy(lines('policy:', '  signers:', '    - repository: api')),
    message: `${FILE}:4:19: policy.signers[0].repository is "api": expected a GitHub repository as owner/name`,
  },
  {
    name: 'a workflow with its ref after "@"',
    text: withPolicy(
      lines(
        'policy:',
        '  signers:',
        '    - repository: acme/api',
        '      workflow: .github/workflows/release.yml@refs/heads/main',
      ),
    ),
    message: `${FILE}:5:17: policy.signers[0].workflow is ".github/workflows/release.yml@refs/heads/main": expected a workflow path such as .github/workflows/release.yml, without "@"`,
  },
  {
    name: 'a signer workflow without its repository',
    text: withPolicy(
      lines('policy:', '  signers:', '    - repository: acme/api', '      signer-workflow: .github/workflows/sign.yml'),
    ),
    message: `${FILE}:5:24: policy.signers[0].signer-workflow is ".github/workflows/sign.yml": expected owner/repo/.github/workflows/file.yml, optionally followed by @ and a ref`,
  },
  {
    name: 'a misspelt workflow',
    text: withPolicy(
      lines('policy:', '  signers:', '    - repository: acme/api', '      workfow: .github/workflows/x.yml'),
    ),
    message: `${FILE}:5:7: policy.signers[0].workfow is not a known key (did you mean workflow?): expected ${EXPECT_SIGNER_KEYS}`,
  },
  {
    name: 'a key outside the repository',
    text: withPolicy(lines('policy:', '  signers:', '    - key: /etc/keys/release.pub')),
    message: `${FILE}:4:12: policy.signers[0].key is "/etc/keys/release.pub": expected the path of a PEM public key in the GitOps repository, such as keys/release.pub`,
  },
  {
    name: 'a required predicate type that is not a URI',
    text: withPolicy(lines('policy:', '  signers: [{ key: k.pub }]', '  require: [slsa-provenance]')),
    message: `${FILE}:4:13: policy.require[0] is "slsa-provenance": expected a predicate type URI such as https://slsa.dev/provenance/v1`,
  },
  {
    name: 'a required predicate type named twice',
    text: withPolicy(
      lines('policy:', '  signers: [{ key: k.pub }]', '  require: [https://a.example/v1, https://a.example/v1]'),
    ),
    message: `${FILE}:4:35: policy.require[1] is "https://a.example/v1" again: expected each once`,
  },
  {
    name: 'a misspelt require',
    text: withPolicy(lines('policy:', '  signers: [{ key: k.pub }]', '  requires: []')),
    message: `${FILE}:4:3: policy.requires is not a known key (did you mean require?): expected one of signers, require`,
  },
];

describe('require-evidence and evidence-exceptions', () => {
  const text = withProd(
    '    require-evidence:',
    '      - approved-pr: { min-approvals: 2 }',
    '      - tests-passed',
    '      - canary: { environment: dev }',
    '      - sbom:',
    '      - signature',
    '    evidence-exceptions:',
    '      - requirement: tests-passed',
    '        by: acme/release-managers',
    '        reason: flaky suite quarantined, INC-42',
    '        until: "2026-03-02T00:00:00+01:00"',
  );

  it('reads names, options and exceptions as written', () => {
    const prod = parseSlipwayConfig(text, FILE).environments[1]!;
    expect(prod.requireEvidence).toEqual([
      { name: 'approved-pr', minApprovals: 2 },
      { name: 'tests-passed' },
      { name: 'canary', environment: 'dev' },
      { name: 'sbom' },
      { name: 'signature' },
    ]);
    expect(prod.evidenceExceptions).toEqual([
      {
        requirement: 'tests-passed',
        by: 'acme/release-managers',
        reason: 'flaky suite quarantined, INC-42',
        until: '2026-03-02T00:00:00+01:00',
      },
    ]);
    expect(validate(asJson(text)!.value), JSON.stringify(validate.errors)).toBe(true);
  });

  it('defaults min-approvals to 1, and leaves both keys out of environments that do not set them', () => {
    const config = parseSlipwayConfig(withProd('    require-evidence: [approved-pr, { canary: {} }]'), FILE);
    expect(config.environments[1]!.requireEvidence).toEqual([
      { name: 'approved-pr', minApprovals: 1 },
      { name: 'canary' },
    ]);
    expect(Object.keys(config.environments[0]!)).not.toContain('requireEvidence');
    expect(Object.keys(config.environments[0]!)).not.toContain('evidenceExceptions');
  });

  it('lists in the schema exactly the requirement names and options the parser knows', () => {
    const defs = schema.$defs;
    expect(defs.requirementName.enum).toEqual([...REQUIREMENT_NAMES]);
    const options = defs.evidenceRequirement.oneOf[1].properties;
    expect(Object.keys(options)).toEqual([...REQUIREMENT_NAMES]);
    for (const name of REQUIREMENT_NAMES) {
      const allowed = options[name].oneOf[1].properties ?? {};
      expect(Object.keys(allowed), name).toEqual([...REQUIREMENT_OPTIONS[name]]);
    }
    expect(options['approved-pr'].oneOf[1].properties['min-approvals'].maximum).toBe(MAX_APPROVALS);
    expect(defs.evidenceException.properties.by.pattern).toBe(PATTERNS.reviewer);
    expect(defs.evidenceException.properties.reason.pattern).toBe(PATTERNS.label);
  });
});

describe('mistakes', () => {
  it.each(BAD)('$name', ({ text, message }) => {
    const error = errorOf(text);
    expect(error.message).toBe(message);
    expect(error.file).toBe(FILE);
  });

  it('are reported first in the order of the file', () => {
    // Two mistakes: the services block comes first in the file, so its mistake is the one reported.
    const text = `version: 1\n${SERVICES.replace('ghcr.io/acme/api', 'ghcr.io/acme/api:1')}${ENVIRONMENTS.replace('dev\n', 'dev dev\n')}${POLICY}`;
    expect(errorOf(text).message).toMatch(/^\.slipway\.yaml:4:12: services\.api\.image/);
  });

  it('name the file as given, line and column as separate fields', () => {
    const error = errorOf('version: 3\n', 'gitops/.slipway.yaml');
    expect([error.file, error.line, error.column, error.key, error.expected]).toEqual([
      'gitops/.slipway.yaml',
      1,
      10,
      'version',
      '1',
    ]);
  });

  it('include YAML syntax errors, at their position', () => {
    expect(errorOf('version: 1\nenvironments: [dev\n').message).toMatch(
      /^\.slipway\.yaml:3:\d+: the file is not valid YAML \(.+\)$/,
    );
    expect(errorOf('version: 1\n---\nversion: 1\n').message).toBe(
      '.slipway.yaml:2:1: the file holds several YAML documents: expected one document',
    );
  });

  it('refuse a target that is the policy file under another name', () => {
    const text = withServices(
      lines('services:', '  api:', '    image: ghcr.io/acme/api', '    targets: { dev: deploy/policy.yaml }'),
    );
    expect(parseSlipwayConfig(text, FILE).services.api!.targets.dev!.file).toBe('deploy/policy.yaml');
    expect(errorOf(text, 'deploy/policy.yaml').message).toMatch(/Slipway's own files are not promotion targets/);
  });

  it('do not expand aliases into a flood', () => {
    // A billion-laughs document is walked node by node, never expanded: it fails on shape, at once.
    let text = 'version: 1\nx0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n';
    for (let i = 1; i < 10; i++)
      text += `x${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(', ')}]\n`;
    expect(errorOf(text).message).toMatch(/^\.slipway\.yaml:2:1: x0 is not a known key/);
  });
});

// --- the JSON schema ------------------------------------------------------------------------------------------

const schema = JSON.parse(readFileSync(join(repositoryRoot, 'schemas/slipway-config.schema.json'), 'utf8'));
const ajv = new Ajv2020({ strict: true, allErrors: true });
formats.default(ajv);
const validate: ValidateFunction = ajv.compile(schema);

/** What a YAML-aware editor hands the schema: the document as JSON, or nothing when the YAML itself is broken. */
function asJson(text: string): { value: unknown } | undefined {
  try {
    return { value: parse(text, { version: '1.2' }) ?? null };
  } catch {
    return undefined;
  }
}

function parserAccepts(text: string): boolean {
  try {
    parseSlipwayConfig(text, FILE);
    return true;
  } catch (error) {
    if (error instanceof ConfigFileError) return false;
    throw error;
  }
}

describe('schemas/slipway-config.schema.json', () => {
  it('is a draft 2020-12 schema with the $id it is published under', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.$id).toBe('https://slipway.dev/schemas/slipway-config.schema.json');
  });

  it('uses the parser’s patterns and limits, character for character', () => {
    const defs = schema.$defs;
    const used = {
      name: defs.name.pattern,
      duration: defs.environment.properties.soak.pattern,
      time: defs.time.pattern,
      path: defs.path.pattern,
      targetFile: defs.targetFile.pattern,
      image: defs.service.properties.image.pattern,
      reviewer: defs.environment.properties.reviewers.items.pattern,
      label: defs.label.pattern,
      predicateType: defs.policy.properties.require.items.pattern,
      helmPath: defs.helmPath.pattern,
      container: defs.target.oneOf[1].properties.container.pattern,
      application: defs.target.oneOf[1].properties.application.pattern,
      repository: defs.signer.oneOf[0].properties.repository.pattern,
      workflow: defs.signer.oneOf[0].properties.workflow.pattern,
      ref: defs.signer.oneOf[0].properties.ref.pattern,
      signerWorkflow: defs.signer.oneOf[0].properties['signer-workflow'].pattern,
    };
    expect(used).toEqual(PATTERNS);
    expect(defs.freezeWindow.properties.reason.pattern).toBe(PATTERNS.label);
    expect([defs.label.maxLength, defs.target.oneOf[1].properties.container.maxLength]).toEqual([
      MAX_LENGTH.label,
      MAX_LENGTH.container,
    ]);
    expect(defs.target.oneOf[1].properties.kind.enum).toEqual(EDITOR_KINDS);
  });

  it.each([
    ['the issue example', fixture],
    ['every feature', EVERYTHING],
  ])('accepts %s, as the parser does', (_name, text) => {
    expect(parserAccepts(text)).toBe(true);
    expect(validate(asJson(text)!.value), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each(BAD.filter((bad) => asJson(bad.text) !== undefined))('agrees with the parser on: $name', (bad) => {
    expect(parserAccepts(bad.text)).toBe(false);
    // What the schema cannot express (references between parts, uniqueness across items) it accepts; all else
    // it refuses as the parser does.
    expect(validate(asJson(bad.text)!.value)).toBe(bad.parserOnly === true);
  });

  // Random values of each kind, through both: the hand-written checks and the schema's patterns must agree on
  // every one, including the odd corners (registries with ports, IPv6, ".." inside names, leap days).
  const verdicts = new Map<string, Set<boolean>>();
  const agree = (template: (value: string) => string) => (value: string) => {
    const text = template(JSON.stringify(value));
    const json = asJson(text);
    if (json === undefined) return;
    const accepted = parserAccepts(text);
    expect(validate(json.value), `${value}: ${JSON.stringify(validate.errors)}`).toBe(accepted);
    const kind = expect.getState().currentTestName ?? '';
    verdicts.set(kind, (verdicts.get(kind) ?? new Set()).add(accepted));
  };
  // A generator that only ever made valid (or only invalid) values would agree vacuously.
  afterEach(() => {
    const kind = expect.getState().currentTestName ?? '';
    if (verdicts.has(kind)) expect([...verdicts.get(kind)!].sort()).toEqual([false, true]);
  });
  const from = (units: string[], maxLength = 24) => fc.string({ unit: fc.constantFrom(...units), maxLength });
  const runs = { numRuns: 500 };

  it('agrees with the parser on images', () => {
    const units = [
      'a',
      'z',
      'A',
      '0',
      '9',
      'f',
      '.',
      '_',
      '-',
      '/',
      ':',
      '@',
      '[',
      ']',
      ' ',
      'io',
      'localhost',
      '5000',
    ];
    const template = (image: string) =>
      SERVICES.replace('ghcr.io/acme/api', image) + `version: 1\n${ENVIRONMENTS}${POLICY}`;
    fc.assert(fc.property(from(units), agree(template)), runs);
    for (const image of [
      'ghcr.io/acme/api',
      'localhost/api',
      'localhost:5000/a/b',
      '[::1]:5000/api',
      '[::1]/api',
      // Docker takes a first component for a registry only if it has "." or ":" (or is localhost): "[a]" alone is
      // a repository path, and an invalid one; with a port it is a registry (fast-check found the first).
      '[a]/a',
      '[a]:5000/a',
      'Registry.Example.COM/x',
      'a.b',
      'a_b.c/d',
      'ab--c/d__e',
      'a.-b/c',
      'f'.repeat(64),
      `${'f'.repeat(64)}/x`,
      'my-reg:5000',
      'reg:/x',
      'https://ghcr.io/x',
      'oci-layout:x',
    ]) {
      agree(template)(image);
    }
  });

  it('counts label lengths in characters, as GitHub does', () => {
    for (const [label, accepted] of [
      ['🚀'.repeat(50), true],
      ['🚀'.repeat(51), false],
    ] as const) {
      const text = withEnvironments(`${ENVIRONMENTS}    labels: [${JSON.stringify(label)}]\n`);
      expect([parserAccepts(text), validate(asJson(text)!.value)]).toEqual([accepted, accepted]);
    }
  });

  it('agrees with the parser on target files', () => {
    const units = ['a', '.', '..', '/', '\\', ' ', '\t', '.slipway', '.yaml', '-', 'é'];
    const template = (file: string) =>
      SERVICES.replace('envs/dev/k.yaml', file) + `version: 1\n${ENVIRONMENTS}${POLICY}`;
    fc.assert(fc.property(from(units), agree(template)), runs);
  });

  it('agrees with the parser on names', () => {
    const units = ['a', 'Z', '0', '.', '_', '-', '__', '.lock', ' ', '/', 'é'];
    const template = (name: string) =>
      `version: 1\nenvironments:\n  - name: ${name}\n${SERVICES.replace('dev:', `${name}:`)}${POLICY}`;
    fc.assert(fc.property(from(units), agree(template)), runs);
  });

  it('agrees with the parser on durations', () => {
    const units = ['1', '0', '30', '1234567', 'd', 'h', 'm', 's', 'ms', ' '];
    const template = (soak: string) => withEnvironments(`${ENVIRONMENTS}    soak: ${soak}\n`);
    fc.assert(fc.property(from(units, 8), agree(template)), runs);
  });

  it('agrees with the parser on freeze times', () => {
    const two = (n: number) => String(n).padStart(2, '0');
    const time = fc
      .record({
        year: fc.integer({ min: 1999, max: 2401 }),
        month: fc.integer({ min: 0, max: 13 }),
        day: fc.integer({ min: 0, max: 32 }),
        hour: fc.integer({ min: 0, max: 25 }),
        minute: fc.integer({ min: 0, max: 61 }),
        second: fc.integer({ min: 0, max: 61 }),
        separator: fc.constantFrom('T', 't', ' '),
        fraction: fc.constantFrom('', '.5', '.'),
        zone: fc.constantFrom('Z', 'z', '', '+01:00', '-23:59', '+24:00', '+01:60', '+0100'),
      })
      .map(
        (t) =>
          `${t.year}-${two(t.month)}-${two(t.day)}${t.separator}${two(t.hour)}:${two(t.minute)}:${two(t.second)}${t.fraction}${t.zone}`,
      );
    const template = (start: string) =>
      withEnvironments(
        `${ENVIRONMENTS}    freeze:\n      - { start: ${start}, end: "9999-12-31T00:00:00Z", reason: freeze }\n`,
      );
    fc.assert(fc.property(time, agree(template)), runs);
  });
});
