import { isMap, isScalar, isSeq } from 'yaml';
import { ConfigurationError, InvalidValueError } from '../core/errors.js';
import {
  isRequirementName,
  MAX_APPROVALS,
  REQUIREMENT_NAMES,
  REQUIREMENT_OPTIONS,
  type Requirement,
} from '../evidence/requirements.js';
import type { EvidenceException } from '../evidence/types.js';
import { parseImageReference, requireRepositoryOnly } from '../oci/reference.js';
import { findCycle } from './graph.js';
import type {
  EditorKind,
  EnvironmentConfig,
  FreezeWindow,
  GitOpsRepository,
  HelmPaths,
  PolicyConfig,
  ServiceConfig,
  SignerPolicy,
  SlipwayConfig,
  TargetConfig,
} from './types.js';
import { EDITOR_KINDS } from './types.js';
import { didYouMean, type Located, YamlSource } from './yaml-source.js';

export { ConfigFileError } from './yaml-source.js';

// .slipway.yaml: the GitOps repository's promotion policy (environments and their order, services and the files
// that pin them, who must have signed). It is read by hand-written code rather than a schema validator because
// every mistake must name its line and column, and ajv stays off the action's start-up path. The published
// schema, schemas/slipway-config.schema.json, describes the same language for editors; a test feeds every example
// through both, and the patterns below appear in it verbatim.

/** Regular-expression sources shared, character for character, with schemas/slipway-config.schema.json. */
export const PATTERNS = {
  /** Environment and service names: they become branch name parts (slipway/<env>/<service>), so git's rules apply. */
  name: '^(?!.*\\.lock$)[A-Za-z0-9]+(?:(?:[_-]+|\\.)[A-Za-z0-9]+)*$',
  duration: '^(?=\\d)(?:(\\d{1,6})d)?(?:(\\d{1,6})h)?(?:(\\d{1,6})m)?(?:(\\d{1,6})s)?$',
  time: '^(\\d{4})-(\\d{2})-(\\d{2})T(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d+)?(?:Z|[+-](?:[01]\\d|2[0-3]):[0-5]\\d)$',
  /** A path in the GitOps repository: relative, "/"-separated, no "." or ".." segment. */
  path: '^(?!\\.\\.?(?:/|$))[^/\\\\\\p{Cc}]+(?:/(?!\\.\\.?(?:/|$))[^/\\\\\\p{Cc}]+)*$',
  /** A target file: a path, and not Slipway's own files, which no promotion may rewrite. */
  targetFile:
    '^(?!\\.slipway/|\\.slipway\\.yaml$)(?!\\.\\.?(?:/|$))[^/\\\\\\p{Cc}]+(?:/(?!\\.\\.?(?:/|$))[^/\\\\\\p{Cc}]+)*$',
  /** parseImageReference's grammar, narrowed to a registry repository without tag or digest. */
  image:
    '^(?:(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))+(?::[0-9]+)?|(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]):[0-9]+|localhost|\\[(?:[a-fA-F0-9:]+\\]:[0-9]+|[a-fA-F0-9]*:[a-fA-F0-9:]*\\]))/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*|[a-z0-9]+(?:(?:_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+|(?![a-f0-9]{64}$)[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)$',
  reviewer: '^[A-Za-z0-9][A-Za-z0-9-]*(?:/[A-Za-z0-9_][A-Za-z0-9_.-]*)?$',
  label: '^[^\\s\\p{Cc}](?:[^\\p{Cc}]*[^\\s\\p{Cc}])?$',
  predicateType: '^[A-Za-z][A-Za-z0-9+.-]*:[^\\s\\p{Cc}]+$',
  helmPath: '^[^.\\s\\p{Cc}]+(?:\\.[^.\\s\\p{Cc}]+)*$',
  container: '^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$',
  application: '^[^\\s\\p{Cc}/]+$',
  repository: '^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$',
  workflow: '^[^@\\s\\p{Cc}]+$',
  ref: '^[^\\s\\p{Cc}]+$',
  signerWorkflow: '^[^/@\\s\\p{Cc}]+/[^/@\\s\\p{Cc}]+/\\.github/workflows/[^@\\s\\p{Cc}]+(?:@[^@\\s\\p{Cc}]+)?$',
} as const;

/** Length limits shared with the schema: GitHub's for labels, Kubernetes' for container names. */
export const MAX_LENGTH = { label: 50, container: 63 } as const;

const RE = Object.fromEntries(Object.entries(PATTERNS).map(([name, source]) => [name, new RegExp(source, 'u')])) as {
  [name in keyof typeof PATTERNS]: RegExp;
};

const EXPECT = {
  top: 'a map with version, environments, services and policy',
  version: '1',
  environments: 'a list of environments, each a map with at least a name',
  environment:
    'a map with name and optionally pull-request, after, soak, reviewers, labels, auto-merge, freeze, signers, ' +
    'require-evidence, evidence-exceptions',
  name: 'a name of letters, digits, ".", "_" and "-" that starts and ends with a letter or digit',
  after: 'an environment name, a list of names (all of them), or a map with all-of or any-of and a list of names',
  afterList: 'a list of distinct environment names',
  duration: 'a duration such as 10m, 1h or 1h30m',
  reviewers: 'a list of GitHub users or org/team names',
  reviewer: 'a GitHub user (octocat) or team (org/team)',
  labels: 'a list of label names',
  label: `a label name of 1 to ${MAX_LENGTH.label} characters, without leading or trailing spaces`,
  freeze: 'a list of freeze windows, each a map with start, end and reason',
  window: 'a map with start, end and reason',
  time: 'an RFC 3339 time such as 2026-12-24T00:00:00Z',
  reason: 'a text saying why, such as year-end freeze',
  signers: 'a list of signers, each a map with repository (and optionally workflow, ref, signer-workflow) or key',
  signer: 'a map with repository (and optionally workflow, ref, signer-workflow), or a map with key alone',
  repository: 'a GitHub repository as owner/name',
  workflow: 'a workflow path such as .github/workflows/release.yml, without "@"',
  ref: 'a git ref such as refs/heads/main or refs/tags/v*',
  signerWorkflow: 'owner/repo/.github/workflows/file.yml, optionally followed by @ and a ref',
  key: 'the path of a PEM public key in the GitOps repository, such as keys/release.pub',
  services: 'a map of service names to a map with image and targets',
  service: 'a map with image and targets',
  image: 'an image repository without tag or digest, such as ghcr.io/acme/api',
  targets:
    'a map of environment names to a file path or a map with file (and optionally kind, helm, container, application)',
  target: 'a file path, or a map with file and optionally kind, helm, container, application',
  file: 'a path relative to the GitOps repository root, such as envs/dev/kustomization.yaml, with no "." or ".." parts',
  kind: `one of ${EDITOR_KINDS.join(', ')}`,
  helm: 'a map with digest or image, and optionally tag and repository, each a dotted key path such as image.digest',
  helmPath: 'a dotted key path such as image.digest',
  container: `a container name (lowercase letters, digits and "-", up to ${MAX_LENGTH.container} characters)`,
  application: 'an Argo CD application name',
  policy: 'a map with signers and optionally require',
  require: 'a list of predicate type URIs such as https://slsa.dev/provenance/v1',
  predicateType: 'a predicate type URI such as https://slsa.dev/provenance/v1',
  environmentName: 'the name of an environment under environments',
  requireEvidence: `a list of requirements, each a name (${REQUIREMENT_NAMES.join(', ')}) or a map of one name to its options`,
  requirement: `a requirement name (${REQUIREMENT_NAMES.join(', ')}), or a map of one name to its options`,
  requirementOptions: 'a map of options, such as {min-approvals: 2}',
  minApprovals: `a whole number of approvals from 1 to ${MAX_APPROVALS}`,
  evidenceExceptions: 'a list of exceptions, each a map with requirement, by, reason and until',
  evidenceException: 'a map with requirement, by, reason and until',
  by: 'the GitHub user (octocat) or team (org/team) who decided the exception',
  exceptionReason: 'a text saying why, such as flaky suite quarantined, INC-42',
  noCycle: 'environments whose after never leads back to themselves',
} as const;

const TOP_KEYS = ['version', 'environments', 'services', 'policy'] as const;
const ENVIRONMENT_KEYS = [
  'name',
  'pull-request',
  'after',
  'soak',
  'reviewers',
  'labels',
  'auto-merge',
  'freeze',
  'signers',
  'require-evidence',
  'evidence-exceptions',
] as const;
const AFTER_KEYS = ['all-of', 'any-of'] as const;
const FREEZE_KEYS = ['start', 'end', 'reason'] as const;
const SIGNER_KEYS = ['repository', 'workflow', 'ref', 'signer-workflow', 'key'] as const;
const SERVICE_KEYS = ['image', 'targets'] as const;
const TARGET_KEYS = ['file', 'kind', 'helm', 'container', 'application'] as const;
const HELM_KEYS = ['digest', 'tag', 'repository', 'image'] as const;
const POLICY_KEYS = ['signers', 'require'] as const;
const EXCEPTION_KEYS = ['requirement', 'by', 'reason', 'until'] as const;

const UNIT_MS = [86_400_000, 3_600_000, 60_000, 1000] as const;

/** An environment name used somewhere, checked once every environment is known. */
interface NameUse {
  name: string;
  at: Located;
  /** What to say when there is no such environment. */
  problem: string;
}

/**
 * Parses and checks .slipway.yaml. `path` names the file in messages (and in `source`); the first mistake found
 * throws a ConfigFileError with its line, column and key path.
 */
/**
 * The policy on the repository's default branch, parsed: promote, evidence and canary all start here. A missing
 * file names the `config` input, which says where it was looked for.
 */
export async function readSlipwayConfig(
  repository: GitOpsRepository,
  path: string,
): Promise<{ config: SlipwayConfig; defaultBranch: string }> {
  const policy = await repository.readFile(path);
  if (policy.text === undefined) {
    throw new ConfigurationError(
      'config',
      path,
      'the path of the Slipway policy in the GitOps repository',
      `${repository.describe()} has no ${path} on its default branch (${policy.defaultBranch})`,
    );
  }
  return { config: parseSlipwayConfig(policy.text, path), defaultBranch: policy.defaultBranch };
}

export function parseSlipwayConfig(text: string, path: string): SlipwayConfig {
  return new ConfigReader(new YamlSource(text, path), path).read();
}

class ConfigReader {
  private readonly afterUses: { environment: string; uses: NameUse[]; at: Located }[] = [];
  private readonly targetUses: NameUse[] = [];

  constructor(
    private readonly yaml: YamlSource,
    private readonly path: string,
  ) {}

  read(): SlipwayConfig {
    const root = this.yaml.root();
    if (root.node === null) this.yaml.fail(root.at, 'the file', 'is empty', EXPECT.top);
    const top = this.yaml.mapOf(root, EXPECT.top);
    // The version first: a file written for another version would otherwise fail on its first unknown key.
    const version = this.yaml.required(root, top, 'version', EXPECT.version);
    if (!isScalar(version.node) || version.node.value !== 1) this.yaml.wrong(version, EXPECT.version);
    const entries = this.yaml.mapOf(root, EXPECT.top, TOP_KEYS);

    let environments: EnvironmentConfig[] | undefined;
    let services: Record<string, ServiceConfig> | undefined;
    let policy: PolicyConfig | undefined;
    // In the order written, so the first mistake reported is the first in the file.
    for (const [key, value] of entries) {
      if (key === 'environments') environments = this.environments(value);
      else if (key === 'services') services = this.services(value);
      else if (key === 'policy') policy = this.policy(value);
    }
    environments ??= this.environments(this.yaml.required(root, entries, 'environments', EXPECT.environments));
    services ??= this.services(this.yaml.required(root, entries, 'services', EXPECT.services));
    policy ??= this.policy(this.yaml.required(root, entries, 'policy', EXPECT.policy));

    this.checkNames(environments);
    return { version: 1, environments, services, policy, source: { path: this.path } };
  }

  /** What needs every environment known: after and targets name existing ones, and after has no cycle. */
  private checkNames(environments: EnvironmentConfig[]): void {
    const known = new Set(environments.map((environment) => environment.name));
    const uses = [...this.afterUses.flatMap((after) => after.uses), ...this.targetUses];
    uses.sort((a, b) => a.at.at - b.at.at);
    for (const use of uses) {
      if (!known.has(use.name)) this.yaml.fail(use.at.at, use.at.key, use.problem, `one of ${[...known].join(', ')}`);
    }
    const cycle = findCycle(environments);
    if (cycle !== undefined) {
      const after = this.afterUses.find((use) => use.environment === cycle[0])!;
      this.yaml.fail(after.at.at, after.at.key, `makes a cycle: ${cycle.join(' -> ')}`, EXPECT.noCycle);
    }
  }

  private environments(value: Located): EnvironmentConfig[] {
    const items = this.yaml.listOf(value, EXPECT.environments);
    if (items.length === 0) this.yaml.wrong(value, EXPECT.environments);
    const seen = new Set<string>();
    return items.map((item) => {
      const environment = this.environment(item);
      if (seen.has(environment.name)) {
        const name = this.yaml.mapOf(item, EXPECT.environment).get('name')!;
        this.yaml.fail(name.at, name.key, `is ${JSON.stringify(environment.name)} again`, 'each environment once');
      }
      seen.add(environment.name);
      return environment;
    });
  }

  private environment(item: Located): EnvironmentConfig {
    const entries = this.yaml.mapOf(item, EXPECT.environment, ENVIRONMENT_KEYS);
    const name = this.yaml.string(this.yaml.required(item, entries, 'name', EXPECT.name), EXPECT.name, RE.name);
    const environment: EnvironmentConfig = {
      name,
      pullRequest: true,
      after: undefined,
      soakMs: 0,
      reviewers: [],
      labels: [],
      autoMerge: false,
      freeze: [],
    };
    for (const [key, value] of entries) {
      switch (key) {
        case 'pull-request':
          environment.pullRequest = this.yaml.boolean(value);
          break;
        case 'after':
          environment.after = this.after(name, value);
          break;
        case 'soak':
          environment.soakMs = this.duration(value);
          if (!entries.has('after')) {
            // A soak is time spent upstream; with no upstream it would silently mean nothing.
            this.yaml.fail(value.at, value.key, 'is set but after is not', 'after, naming where the digest soaks');
          }
          break;
        case 'reviewers':
          environment.reviewers = this.distinctStrings(value, EXPECT.reviewers, (reviewer) => this.reviewer(reviewer));
          break;
        case 'labels':
          environment.labels = this.distinctStrings(value, EXPECT.labels, (label) => this.label(label));
          break;
        case 'auto-merge':
          environment.autoMerge = this.yaml.boolean(value);
          break;
        case 'freeze':
          environment.freeze = this.yaml.listOf(value, EXPECT.freeze).map((window) => this.window(window));
          break;
        case 'signers':
          environment.signers = this.signers(value);
          break;
        case 'require-evidence':
          environment.requireEvidence = this.requireEvidence(value);
          break;
        case 'evidence-exceptions':
          environment.evidenceExceptions = this.yaml
            .listOf(value, EXPECT.evidenceExceptions)
            .map((exception) => this.evidenceException(exception));
          break;
      }
    }
    return environment;
  }

  private after(environment: string, value: Located): EnvironmentConfig['after'] {
    let mode: 'all-of' | 'any-of' = 'all-of';
    let names: Located[];
    if (isMap(value.node)) {
      const entries = this.yaml.mapOf(value, EXPECT.after, AFTER_KEYS);
      if (entries.size !== 1) {
        this.yaml.fail(
          value.at,
          value.key,
          entries.size === 0 ? 'has neither all-of nor any-of' : 'has both all-of and any-of',
          'exactly one of them',
        );
      }
      const [[key, list]] = [...entries] as [[string, Located]];
      mode = key as 'all-of' | 'any-of';
      names = this.yaml.listOf(list, EXPECT.afterList);
      if (names.length === 0) this.yaml.wrong(list, EXPECT.afterList);
    } else if (isSeq(value.node)) {
      names = this.yaml.listOf(value, EXPECT.after);
      if (names.length === 0) this.yaml.wrong(value, EXPECT.after);
    } else {
      names = [value];
    }
    const uses: NameUse[] = [];
    for (const name of names) {
      const text = this.yaml.string(
        name,
        names.length === 1 && name === value ? EXPECT.after : EXPECT.environmentName,
        RE.name,
      );
      if (uses.some((use) => use.name === text)) {
        this.yaml.fail(name.at, name.key, `is ${JSON.stringify(text)} again`, EXPECT.afterList);
      }
      uses.push({ name: text, at: name, problem: `is ${JSON.stringify(text)}, which is not an environment` });
    }
    this.afterUses.push({ environment, uses, at: value });
    return { environments: uses.map((use) => use.name), mode };
  }

  private duration(value: Located): number {
    const match = RE.duration.exec(this.yaml.string(value, EXPECT.duration, RE.duration))!;
    return match.slice(1, 5).reduce((total, amount, i) => total + Number(amount ?? 0) * UNIT_MS[i]!, 0);
  }

  private reviewer(value: Located): string {
    return this.reviewerLike(value, EXPECT.reviewer);
  }

  /** A GitHub user or team, as reviewers and exceptions' `by` name them. */
  private reviewerLike(value: Located, expected: string): string {
    const text = this.yaml.string(value, expected);
    if (!RE.reviewer.test(text)) this.yaml.wrong(value, expected, text.startsWith('@') ? 'without the "@"' : undefined);
    return text;
  }

  private label(value: Located): string {
    const text = this.yaml.string(value, EXPECT.label, RE.label);
    // Characters as GitHub (and the schema's maxLength) count them: code points.
    if ([...text].length > MAX_LENGTH.label) this.yaml.wrong(value, EXPECT.label);
    return text;
  }

  /** A list of strings, each read by `read`, none twice. */
  private distinctStrings(value: Located, expected: string, read: (item: Located) => string): string[] {
    const result: string[] = [];
    for (const item of this.yaml.listOf(value, expected)) {
      const text = read(item);
      if (result.includes(text)) this.yaml.fail(item.at, item.key, `is ${JSON.stringify(text)} again`, 'each once');
      result.push(text);
    }
    return result;
  }

  private window(value: Located): FreezeWindow {
    const entries = this.yaml.mapOf(value, EXPECT.window, FREEZE_KEYS);
    const startValue = this.yaml.required(value, entries, 'start', EXPECT.time);
    const start = this.time(startValue);
    const endValue = this.yaml.required(value, entries, 'end', EXPECT.time);
    const end = this.time(endValue);
    const reasonValue = this.yaml.required(value, entries, 'reason', EXPECT.reason);
    const reason = this.yaml.string(reasonValue, EXPECT.reason, RE.label);
    if (end.getTime() <= start.getTime()) {
      this.yaml.wrong(endValue, `a time after start (${this.yaml.string(startValue, EXPECT.time)})`);
    }
    return { start, end, reason };
  }

  private time(value: Located): Date {
    const text = this.yaml.string(value, EXPECT.time, RE.time);
    const match = RE.time.exec(text)!;
    const [year, month, day] = match.slice(1, 4).map(Number) as [number, number, number];
    // The pattern bounds times of day; days need the calendar, or Date would roll 2026-02-30 over into March.
    const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth) this.yaml.wrong(value, EXPECT.time, 'no such day');
    return new Date(text);
  }

  private signers(value: Located): SignerPolicy[] {
    const items = this.yaml.listOf(value, EXPECT.signers);
    if (items.length === 0) this.yaml.wrong(value, EXPECT.signers);
    return items.map((item) => this.signer(item));
  }

  private signer(value: Located): SignerPolicy {
    const entries = this.yaml.mapOf(value, EXPECT.signer, SIGNER_KEYS);
    const key = entries.get('key');
    if (key !== undefined) {
      const other = [...entries.keys()].find((name) => name !== 'key');
      if (other !== undefined) {
        const at = this.keyAt(value, other);
        this.yaml.fail(
          at,
          entries.get(other)!.key,
          'is given beside key',
          'either key alone or repository with its options',
        );
      }
      return { key: this.yaml.string(key, EXPECT.key, RE.path) };
    }
    const repository = this.yaml.string(
      this.yaml.required(value, entries, 'repository', `${EXPECT.repository} (or key alone, for a public key)`),
      EXPECT.repository,
      RE.repository,
    );
    const signer: SignerPolicy = { repository };
    for (const [name, entry] of entries) {
      if (name === 'workflow') signer.workflow = this.yaml.string(entry, EXPECT.workflow, RE.workflow);
      else if (name === 'ref') signer.ref = this.yaml.string(entry, EXPECT.ref, RE.ref);
      else if (name === 'signer-workflow') {
        signer.signerWorkflow = this.yaml.string(entry, EXPECT.signerWorkflow, RE.signerWorkflow);
      }
    }
    return signer;
  }

  /** `require-evidence:` names and maps of one name to its options (shared/evidence/requirements.ts's grammar). */
  private requireEvidence(value: Located): Requirement[] {
    const items = this.yaml.listOf(value, EXPECT.requireEvidence);
    const result: Requirement[] = [];
    for (const item of items) {
      let nameAt: Located = item;
      let options: Map<string, Located> = new Map();
      if (isMap(item.node)) {
        const entries = this.yaml.mapOf(item, EXPECT.requirement);
        if (entries.size !== 1) this.yaml.wrong(item, EXPECT.requirement, 'one name per entry');
        const [[name, given]] = [...entries] as [[string, Located]];
        nameAt = { node: item.node.items[0]!.key as Located['node'], at: this.keyAt(item, name), key: item.key };
        if (!isRequirementName(name)) this.unknownRequirement(nameAt, name);
        // `- canary:` with nothing after it is the name alone.
        if (given.node !== null && !(isScalar(given.node) && given.node.value === null)) {
          const known = REQUIREMENT_OPTIONS[name];
          if (known.length === 0 && !(isMap(given.node) && given.node.items.length === 0)) {
            this.yaml.wrong(given, `nothing: ${name} takes no options`);
          }
          options = this.yaml.mapOf(given, EXPECT.requirementOptions, known);
        }
      }
      const name = this.yaml.string(nameAt, EXPECT.requirement);
      if (!isRequirementName(name)) this.unknownRequirement(nameAt, name);
      if (result.some((r) => r.name === name)) {
        this.yaml.fail(nameAt.at, item.key, `is ${JSON.stringify(name)} again`, 'each requirement once');
      }
      result.push(this.requirement(name, options));
    }
    return result;
  }

  private requirement(name: Requirement['name'], options: Map<string, Located>): Requirement {
    if (name === 'approved-pr') {
      const given = options.get('min-approvals');
      if (given === undefined) return { name, minApprovals: 1 };
      const n = isScalar(given.node) ? given.node.value : undefined;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_APPROVALS) {
        this.yaml.wrong(given, EXPECT.minApprovals);
      }
      return { name, minApprovals: n };
    }
    if (name === 'canary') {
      const given = options.get('environment');
      if (given === undefined) return { name };
      const environment = this.yaml.string(given, EXPECT.environmentName, RE.name);
      this.targetUses.push({
        name: environment,
        at: given,
        problem: `is ${JSON.stringify(environment)}, which is not an environment`,
      });
      return { name, environment };
    }
    return { name };
  }

  private unknownRequirement(at: Located, name: string): never {
    const close = didYouMean(name, REQUIREMENT_NAMES);
    this.yaml.fail(
      at.at,
      at.key,
      `is ${JSON.stringify(name)}, which is not a requirement${close === undefined ? '' : ` (did you mean ${close}?)`}`,
      `one of ${REQUIREMENT_NAMES.join(', ')}`,
    );
  }

  /** An audited exception: who decided it, why, and until when (shared/evidence/requirements.ts applies it). */
  private evidenceException(value: Located): EvidenceException {
    const entries = this.yaml.mapOf(value, EXPECT.evidenceException, EXCEPTION_KEYS);
    const requirementValue = this.yaml.required(value, entries, 'requirement', EXPECT.requirement);
    const requirement = this.yaml.string(requirementValue, EXPECT.requirement);
    if (!isRequirementName(requirement)) this.unknownRequirement(requirementValue, requirement);
    const by = this.reviewerLike(this.yaml.required(value, entries, 'by', EXPECT.by), EXPECT.by);
    const reason = this.yaml.string(
      this.yaml.required(value, entries, 'reason', EXPECT.exceptionReason),
      EXPECT.exceptionReason,
      RE.label,
    );
    const untilValue = this.yaml.required(value, entries, 'until', EXPECT.time);
    this.time(untilValue);
    return { requirement, by, reason, until: this.yaml.string(untilValue, EXPECT.time) };
  }

  private services(value: Located): Record<string, ServiceConfig> {
    const entries = this.yaml.mapOf(value, EXPECT.services);
    if (entries.size === 0) this.yaml.wrong(value, EXPECT.services);
    // No prototype: a service named "constructor" must not find Object's.
    const services: Record<string, ServiceConfig> = Object.create(null);
    for (const [name, service] of entries) {
      this.checkKeyName(value, name, service);
      services[name] = this.service(service);
    }
    return services;
  }

  private service(value: Located): ServiceConfig {
    const entries = this.yaml.mapOf(value, EXPECT.service, SERVICE_KEYS);
    const image = this.image(this.yaml.required(value, entries, 'image', EXPECT.image));
    const targetsValue = this.yaml.required(value, entries, 'targets', EXPECT.targets);
    const targetEntries = this.yaml.mapOf(targetsValue, EXPECT.targets);
    if (targetEntries.size === 0) this.yaml.wrong(targetsValue, EXPECT.targets);
    const targets: Record<string, TargetConfig> = Object.create(null);
    for (const [environment, target] of targetEntries) {
      this.checkKeyName(targetsValue, environment, target);
      this.targetUses.push({
        name: environment,
        at: { ...target, at: this.keyAt(targetsValue, environment) },
        problem: 'names an environment that is not under environments',
      });
      targets[environment] = this.target(target);
    }
    return { image, targets };
  }

  private image(value: Located): string {
    const text = this.yaml.string(value, EXPECT.image);
    try {
      const reference = requireRepositoryOnly(parseImageReference(text), text);
      if (reference.kind !== 'registry') this.yaml.wrong(value, EXPECT.image, 'an OCI layout is not promoted');
    } catch (error) {
      if (error instanceof InvalidValueError) this.yaml.wrong(value, EXPECT.image, error.detail);
      throw error;
    }
    return text;
  }

  private target(value: Located): TargetConfig {
    if (!isMap(value.node)) return { file: this.file(value) };
    const entries = this.yaml.mapOf(value, EXPECT.target, TARGET_KEYS);
    const target: TargetConfig = { file: this.file(this.yaml.required(value, entries, 'file', EXPECT.file)) };
    for (const [key, entry] of entries) {
      switch (key) {
        case 'kind': {
          const kind = this.yaml.string(entry, EXPECT.kind);
          if (!EDITOR_KINDS.includes(kind as EditorKind)) this.yaml.wrong(entry, EXPECT.kind);
          target.kind = kind as EditorKind;
          break;
        }
        case 'helm':
          target.helm = this.helm(entry);
          break;
        case 'container': {
          const container = this.yaml.string(entry, EXPECT.container, RE.container);
          if (container.length > MAX_LENGTH.container) this.yaml.wrong(entry, EXPECT.container);
          target.container = container;
          break;
        }
        case 'application':
          target.application = this.yaml.string(entry, EXPECT.application, RE.application);
          break;
      }
    }
    return target;
  }

  private file(value: Located): string {
    const text = this.yaml.string(value, EXPECT.file);
    if (!RE.path.test(text)) {
      const detail = text.startsWith('/')
        ? 'it starts with "/"'
        : text.includes('\\')
          ? 'use "/" between directories'
          : undefined;
      this.yaml.wrong(value, EXPECT.file, detail);
    }
    // Beyond the schema's reach: a policy file read from elsewhere than .slipway.yaml is protected all the same.
    if (!RE.targetFile.test(text) || text === this.path) {
      this.yaml.wrong(value, EXPECT.file, "Slipway's own files are not promotion targets");
    }
    return text;
  }

  private helm(value: Located): HelmPaths {
    const entries = this.yaml.mapOf(value, EXPECT.helm, HELM_KEYS);
    const helm: HelmPaths = {};
    for (const [key, entry] of entries) {
      helm[key as keyof HelmPaths] = this.yaml.string(entry, EXPECT.helmPath, RE.helmPath);
    }
    // The digest is what a promotion moves: a target that cannot hold one would pin nothing.
    if (helm.digest === undefined && helm.image === undefined) {
      this.yaml.fail(value.at, value.key, 'has neither digest nor image', EXPECT.helm);
    }
    if (helm.image !== undefined) {
      const other = [...entries.keys()].find((key) => key !== 'image');
      if (other !== undefined) {
        const at = this.keyAt(value, other);
        this.yaml.fail(
          at,
          entries.get(other)!.key,
          'is given beside image',
          'either image alone or digest (with tag, repository)',
        );
      }
    }
    return helm;
  }

  private policy(value: Located): PolicyConfig {
    const entries = this.yaml.mapOf(value, EXPECT.policy, POLICY_KEYS);
    const signers = this.signers(this.yaml.required(value, entries, 'signers', EXPECT.signers));
    const requireValue = entries.get('require');
    const require =
      requireValue === undefined
        ? []
        : this.distinctStrings(requireValue, EXPECT.require, (item) =>
            this.yaml.string(item, EXPECT.predicateType, RE.predicateType),
          );
    return { signers, require };
  }

  /** Service names and target environment names are map keys; they follow the same rules as names. */
  private checkKeyName(map: Located, name: string, value: Located): void {
    if (!RE.name.test(name)) {
      this.yaml.fail(this.keyAt(map, name), value.key, `has the name ${JSON.stringify(name)}`, EXPECT.name);
    }
  }

  /** Where the key `name` of a map was written. */
  private keyAt(map: Located, name: string): number {
    if (!isMap(map.node)) return map.at;
    for (const pair of map.node.items) {
      if (isScalar(pair.key) && (pair.key.value === null ? '' : String(pair.key.value)) === name) {
        return pair.key.range?.[0] ?? map.at;
      }
    }
    return map.at;
  }
}
