import { ConfigurationError, SlipwayError } from '../core/errors.js';
import { markdownTable } from '../core/markdown.js';
import { type RetryLater, retryLater, withRetry } from '../core/retry.js';
import type { Runtime } from '../core/runtime.js';
import { refuseSecrets } from '../core/secrets.js';
import { rfc3339Seconds } from '../core/time.js';
import { githubContext } from '../github/context.js';
import type { Login } from '../oci/login.js';
import type { Timeouts } from '../oci/timeouts.js';
import type {
  LineageRecord,
  PromotionResult,
  ServiceEvidenceRecord,
  ServicePromotionRecord,
  ServiceVerificationRecord,
} from '../records/promotion.js';
import { ConcurrentUpdateError, PolicyRefusal } from './errors.js';
import { type GitOpsLocation, gitopsLocation, type OpenedRepository, openRepository } from './open-repository.js';
import type { LineageProof, PromotionPlan, PromotionRequest, ServicePlan } from './planner.js';
import { type PullRequestFacts, pullRequestContent } from './pr-body.js';
import type { ImagePin, RepositorySnapshot, SlipwayConfig, WriteResult } from './types.js';
import { keyPaths, signersFor, type VerifyPinOptions, verificationRefusal, verifyPin } from './verify-signers.js';

// The promote action's work, the same on the runner and in the CLI: read the policy (.slipway.yaml) from the GitOps
// repository's default branch, read what the plan needs in one more read, plan (lineage, soak, freeze, holds: the
// planner), verify every digest about to be pinned against the signers the policy allows, and only then write: one
// commit, directly or on the promotion branch with its pull request. A refusal at any point writes nothing. A write
// that loses a race to another run (compare-and-swap) is re-planned from a fresh read, up to MAX_ATTEMPTS times.

export const MAX_ATTEMPTS = 5;
/** Jittered waits between attempts: half to all of 250 ms, 500 ms, 1 s, 2 s. */
const RACE_BACKOFF = { attempts: MAX_ATTEMPTS, baseDelayMs: 250, maxDelayMs: 4000 };

export interface PromoteImage extends ImagePin {
  /** From a build record: where the image was built from, for the PR's links. */
  source?: { repository?: string; commit?: string };
}

export interface PromoteRequest {
  /** `owner/name` or a local path, as the gitops-repo input gives it. */
  gitopsRepo: string;
  /** Path of the policy in the GitOps repository. */
  config: string;
  environment: string;
  services: string[];
  /** Images given (image input); empty with `from`, rollback or release-hold. */
  images: PromoteImage[];
  from?: string;
  rollback: boolean;
  hold: boolean;
  releaseHold: boolean;
  dryRun: boolean;
  token?: string;
  trustedRoot?: object;
  /** Registry credentials (username and password inputs), for every registry the images are in. */
  registryCredentials?: { username: string; password: string };
  registryTimeouts?: Partial<Timeouts>;
}

export interface PromoteRuntime extends Runtime {
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Opens the repository; by default by the form of gitopsRepo (open-repository.ts). */
  open?: (location: GitOpsLocation) => Promise<OpenedRepository>;
  /** Stands in for verify's machinery (the bench, which runs no registry). */
  runVerify?: VerifyPinOptions['runVerify'];
}

export async function runPromote(request: PromoteRequest, runtime: PromoteRuntime): Promise<PromotionResult> {
  const now = runtime.now ?? (() => new Date());
  const started = now();
  const { env, logger } = runtime;
  const github = githubContext(env);
  const location = gitopsLocation(request.gitopsRepo, runtime.workspace);
  const opened = await (
    runtime.open ?? ((l) => openRepository({ location: l, token: request.token, context: github, logger }))
  )(location);
  const { repository } = opened;
  let localCalls = 0;

  const { readSlipwayConfig } = await import('./config.js');
  const policy = await readSlipwayConfig(repository, request.config);
  localCalls += 1;
  const { config } = policy;
  const { readRequestFor, planPromotion } = await import('./planner.js');

  const run = runFacts(env, github.serverUrl, request.images);
  const promotion: PromotionRequest = {
    environment: request.environment,
    services: request.services,
    source: request.from !== undefined ? { from: request.from } : { images: imagesByService(config, request) },
    rollback: request.rollback,
    hold: request.hold,
    releaseHold: request.releaseHold,
    now: started,
    ...(run ? { run: { ...run } } : {}),
  };

  const record: PromotionResult = {
    outcome: 'refused',
    environment: request.environment,
    gitops: {
      repository: repository.describe(),
      kind: location.kind,
      config: request.config,
      defaultBranch: policy.defaultBranch,
    },
    services: [],
    direct: false,
    changed: false,
    dryRun: request.dryRun,
    rollback: request.rollback,
    calls: { total: 0, read: 0, write: 0, attempts: 0 },
    ...(run ? { run } : {}),
    timestamps: { started: rfc3339Seconds(started), finished: rfc3339Seconds(started) },
  };
  const verified = new Map<string, ServiceVerificationRecord>();
  const evidenced = new Map<string, ServiceEvidenceRecord>();
  let writeCalls = 0;
  const count = () => {
    const total = opened.apiCalls ? opened.apiCalls() : localCalls + writeCalls;
    record.calls = { total, read: total - writeCalls, write: writeCalls, attempts: record.calls.attempts };
  };

  // One attempt: read, plan, verify, write. A write that loses a race to another run answers retryLater, and
  // withRetry reads and plans again after a jittered wait.
  const attempt = async (n: number): Promise<RetryLater | undefined> => {
    record.calls.attempts = n;
    const environment = config.environments.find((e) => e.name === request.environment);
    const signers = environment ? signersFor(config, environment) : undefined;
    const read = readRequestFor(config, promotion);
    const paths = [...new Set([...read.paths, ...(signers ? keyPaths(signers) : [])])];
    // One read: the promotion branch is named by its services, so it is known before the digests are.
    const snapshot = await repository.read({ ...read, paths });
    localCalls += 1;
    const plan = planPromotion(config, snapshot, promotion);
    fillFromPlan(record, plan, snapshot);
    // What checking a digest needs, the same for its signatures and for its evidence attestation.
    const checking: Omit<VerifyPinOptions, 'require'> = {
      set: signersFor(config, plan.environment),
      files: snapshot.files,
      github,
      ...(request.trustedRoot ? { trustedRoot: request.trustedRoot } : {}),
      login: loginFor(request.registryCredentials),
      ...(request.registryTimeouts ? { registryTimeouts: request.registryTimeouts } : {}),
      ...(runtime.runVerify ? { runVerify: runtime.runVerify } : {}),
    };

    for (const [index, service] of plan.services.entries()) {
      const entry = record.services[index]!;
      if (!needsVerification(service, plan)) continue;
      const key = `${service.service}=${service.next.name}@${service.next.digest}`;
      let result = verified.get(key);
      if (!result) {
        result = await verifyPin(service.next, { ...checking, require: config.policy.require }, runtime);
        verified.set(key, result);
      }
      entry.verification = result;
      if (result.verdict === 'failed') throw verificationRefusal(service.service, service.next, result);

      // Required evidence, read from the signed evidence attestation on the digest (evidence-gate.ts). A rollback
      // returns to a digest the environment already ran: holding the way back on evidence would trap a bad release.
      if (!plan.environment.requireEvidence?.length || plan.rollback) continue;
      const { checkEvidence, evidenceRefusal } = await import('./evidence-gate.js');
      let evidence = evidenced.get(key);
      if (!evidence) {
        evidence = await checkEvidence(
          service.next,
          { ...checking, environment: plan.environment, now: started },
          runtime,
        );
        evidenced.set(key, evidence);
      }
      entry.evidence = evidence;
      if (evidence.status !== 'complete') {
        throw evidenceRefusal(service.service, service.next, plan.environment, evidence);
      }
    }

    if (!plan.changed || request.dryRun) {
      record.outcome = request.dryRun && plan.changed ? 'dry-run' : 'unchanged';
      record.changed = plan.changed;
      return;
    }

    const content = pullRequestContent(factsOf(record, plan));
    refuseSecrets(runtime.secrets, 'The pull request', content);
    refuseSecrets(runtime.secrets, 'The commit', { message: plan.message, changes: plan.changes });
    let written: WriteResult;
    const before = opened.apiCalls?.() ?? 0;
    try {
      written = await repository.write({
        snapshot,
        branch: plan.branch,
        direct: plan.direct,
        changes: plan.changes,
        message: plan.message,
        ...(plan.direct
          ? {}
          : {
              pullRequest: {
                ...content,
                labels: labelsFor(plan),
                reviewers: plan.environment.reviewers,
                autoMerge: plan.environment.autoMerge,
              },
            }),
      });
    } catch (error) {
      writeCalls += opened.apiCalls ? opened.apiCalls() - before : 0;
      if (!(error instanceof ConcurrentUpdateError)) throw error;
      return retryLater(`${error.message}: another run moved ${error.ref} first`, () => {
        const lost = new SlipwayError(
          `Promotion into ${request.environment} lost ${MAX_ATTEMPTS} races in a row for ${error.ref} in ${repository.describe()} ` +
            `(other runs kept moving it): nothing of this run was kept; run it again, or serialize promotions with a ` +
            `concurrency group (concurrency: slipway-<gitops-repo>-<environment>).`,
        );
        lost.cause = error;
        return lost;
      });
    }
    writeCalls += opened.apiCalls ? opened.apiCalls() - before : written.calls;
    record.outcome = 'promoted';
    record.changed = true;
    record.commit = written.commit;
    if (written.pullRequest) record.pullRequest = written.pullRequest;
    if (written.merged !== undefined) record.merged = written.merged;
  };

  try {
    await withRetry(attempt, {
      policy: RACE_BACKOFF,
      ...(runtime.sleep ? { sleep: runtime.sleep } : {}),
      ...(runtime.random ? { random: runtime.random } : {}),
      onRetry: ({ attempt: n, delayMs, reason }) =>
        logger.info(`${reason}; reading again in ${delayMs} ms (attempt ${n + 1} of ${MAX_ATTEMPTS}).`),
    });
  } catch (error) {
    if (!(error instanceof PolicyRefusal)) throw error;
    record.outcome = 'refused';
    record.changed = false;
    record.refusal = { code: error.code, rule: error.rule, message: error.message };
  }
  count();
  record.timestamps.finished = rfc3339Seconds(now());
  runtime.summary?.add(renderPromoteSummary(record));
  return record;
}

/** The refusal a refused record carries, to throw after the record is written. */
export function refusalOf(record: PromotionResult): PolicyRefusal | undefined {
  if (!record.refusal) return undefined;
  const refusal = new PolicyRefusal(record.refusal.code, record.refusal.rule, '');
  refusal.message = record.refusal.message;
  return refusal;
}

/**
 * Which given image pins which service: a single service takes the single image; otherwise each image goes to the
 * requested service whose configured image it is. The planner checks the names against .slipway.yaml.
 */
export function imagesByService(config: SlipwayConfig, request: Pick<PromoteRequest, 'services' | 'images'>) {
  const byService: Record<string, ImagePin> = {};
  const pin = (image: PromoteImage): ImagePin => ({
    name: image.name,
    digest: image.digest,
    ...(image.tag ? { tag: image.tag } : {}),
  });
  if (request.images.length === 0) return byService;
  if (request.services.length === 1 && request.images.length === 1) {
    byService[request.services[0]!] = pin(request.images[0]!);
    return byService;
  }
  for (const image of request.images) {
    const matches = request.services.filter((service) => config.services[service]?.image === image.name);
    if (matches.length !== 1) {
      throw new ConfigurationError(
        'image',
        `${image.name}@${image.digest}`,
        `one image per service, named as .slipway.yaml configures it (${request.services
          .map((s) => `${s}: ${config.services[s]?.image ?? '?'}`)
          .join(', ')})`,
        matches.length === 0
          ? 'no requested service is configured with this image'
          : `services ${matches.join(', ')} share this image`,
      );
    }
    if (byService[matches[0]!]) {
      throw new ConfigurationError(
        'image',
        `${image.name}@${image.digest}`,
        'one image per service',
        `two images were given for ${matches[0]}`,
      );
    }
    byService[matches[0]!] = pin(image);
  }
  const missing = request.services.filter((service) => !byService[service]);
  if (missing.length > 0) {
    throw new ConfigurationError(
      'image',
      request.images.map((i) => i.name).join(', '),
      'an image for each service',
      `no image was given for ${missing.join(', ')}`,
    );
  }
  return byService;
}

/** A digest is verified where the environment will pin something new; a re-run or a hold release pins nothing. */
function needsVerification(service: ServicePlan, plan: PromotionPlan): boolean {
  if (!plan.changed) return false;
  return service.targets.some(
    (target) =>
      target.before.length === 0 ||
      target.before.some((pin) => pin.digest !== service.next.digest || pin.name !== service.next.name),
  );
}

function fillFromPlan(record: PromotionResult, plan: PromotionPlan, snapshot: RepositorySnapshot): void {
  record.gitops.base = snapshot.head;
  record.gitops.defaultBranch = snapshot.defaultBranch;
  record.branch = plan.branch;
  record.direct = plan.direct;
  record.rollback = plan.rollback;
  if (plan.bundleId) record.bundleId = plan.bundleId;
  else delete record.bundleId;
  if (plan.hold) {
    record.hold = {
      set: plan.hold.set,
      released: plan.hold.released,
      ...(plan.hold.reason ? { reason: plan.hold.reason } : {}),
    };
  }
  record.services = plan.services.map((s) => serviceRecord(s));
}

const SKIPPED: ServiceVerificationRecord = { verdict: 'skipped', predicateTypes: [], codes: [], reasons: [] };

function serviceRecord(s: ServicePlan): ServicePromotionRecord {
  return {
    service: s.service,
    image: s.image,
    ...(s.previous ? { previous: pinRecord(s.previous) } : {}),
    next: pinRecord(s.next),
    targets: s.targets.map((t) => ({ file: t.file, kind: t.kind })),
    lineage: lineageRecord(s.lineage),
    verification: SKIPPED,
  };
}

function pinRecord(pin: ImagePin): { digest: ImagePin['digest']; tag?: string } {
  return { digest: pin.digest, ...(pin.tag ? { tag: pin.tag } : {}) };
}

function lineageRecord(proof: LineageProof): LineageRecord {
  return {
    mode: proof.mode,
    ...(proof.after
      ? {
          after: {
            mode: proof.after.mode,
            environments: proof.after.environments.map((e) => ({
              environment: e.environment,
              ...(e.digest ? { digest: e.digest } : {}),
              ...(e.pinnedSince ? { pinnedSince: rfc3339Seconds(e.pinnedSince) } : {}),
              ...(e.commit ? { commit: e.commit } : {}),
              soakMs: e.soakMs,
              satisfied: e.satisfied,
              ...(e.reason ? { reason: e.reason } : {}),
            })),
          },
        }
      : {}),
  };
}

function factsOf(record: PromotionResult, plan: PromotionPlan): PullRequestFacts {
  return {
    environment: record.environment,
    services: record.services,
    rollback: record.rollback,
    gitops: record.gitops,
    branch: plan.branch,
    ...(record.bundleId ? { bundleId: record.bundleId } : {}),
    ...(record.hold ? { hold: record.hold } : {}),
    ...(record.run ? { run: record.run } : {}),
  };
}

/**
 * Labels on the promotion PR (reference/promotion.md §6): `slipway` and the environment, so reviewers filter by
 * them, plus `slipway/rollback` and what the environment configures. Per-service labels are left out: a bundle of
 * 50 would need 50 labels, and each missing one costs an API call to create.
 */
function labelsFor(plan: PromotionPlan): string[] {
  const labels = ['slipway', `slipway/env:${plan.environment.name}`];
  if (plan.rollback) labels.push('slipway/rollback');
  return [...new Set([...labels, ...plan.environment.labels])];
}

function loginFor(credentials: PromoteRequest['registryCredentials']): (registry: string) => Login | undefined {
  return (registry) => (credentials ? { registry, ...credentials } : undefined);
}

/** The run and the source commit, for links: from the runner's variables, or the build record of the image. */
function runFacts(env: Runtime['env'], serverUrl: string, images: PromoteImage[]): PromotionResult['run'] | undefined {
  const source = images.find((image) => image.source?.commit)?.source;
  const repository = source?.repository ?? env.GITHUB_REPOSITORY;
  const commit = source?.commit ?? env.GITHUB_SHA;
  const run: NonNullable<PromotionResult['run']> = {
    ...(env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
      ? { url: `${serverUrl}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}` }
      : {}),
    ...(repository ? { sourceRepository: repository } : {}),
    ...(commit ? { sourceCommit: commit } : {}),
    ...(repository && commit ? { sourceCommitUrl: `${serverUrl}/${repository}/commit/${commit}` } : {}),
    ...(env.GITHUB_ACTOR ? { actor: env.GITHUB_ACTOR } : {}),
  };
  return Object.keys(run).length > 0 ? run : undefined;
}

export function renderPromoteSummary(record: PromotionResult): string {
  const heading = {
    promoted: record.pullRequest
      ? `Promotion into ${record.environment}: pull request ${record.pullRequest.url}`
      : `Promoted into ${record.environment}: commit ${record.commit ?? ''}`,
    unchanged: `${record.environment} already pins this: nothing to write`,
    'dry-run': `Dry run: the promotion into ${record.environment} is allowed; nothing was written`,
    refused: `**Promotion into ${record.environment} refused**`,
  }[record.outcome];
  const lines = [`### ${heading}`, ''];
  if (record.refusal)
    lines.push(record.refusal.message, '', 'Nothing was written: no branch, no commit, no pull request.', '');
  if (record.services.length > 0) {
    lines.push(
      markdownTable(
        ['service', 'previous', 'new', 'lineage', 'verification'],
        record.services.map((s) => [
          s.service,
          s.previous ? `\`${s.previous.digest}\`${s.previous.tag ? ` (${s.previous.tag})` : ''}` : '—',
          `\`${s.next.digest}\`${s.next.tag ? ` (${s.next.tag})` : ''}`,
          s.lineage.after
            ? s.lineage.after.environments
                .map((e) => `${e.environment}: ${e.satisfied ? 'met' : `not met${e.reason ? ` (${e.reason})` : ''}`}`)
                .join(', ')
            : s.lineage.mode,
          s.verification.verdict === 'verified'
            ? `verified (${s.verification.signer ?? ''})`
            : s.verification.verdict === 'failed'
              ? `**failed**: ${s.verification.codes.join(', ')}`
              : 'not needed (unchanged)',
        ]),
      ),
      '',
    );
  }
  for (const s of record.services) {
    if (!s.evidence) continue;
    const excepted = s.evidence.exceptions.map(
      (e) => `${e.requirement} excepted by ${e.by} until ${e.until}: ${e.reason}`,
    );
    lines.push(
      `Evidence for ${s.service} (${s.evidence.rule}): **${s.evidence.status}**` +
        `${s.evidence.signer ? `, signed by ${s.evidence.signer}` : ''}` +
        `${s.evidence.missing.length > 0 ? `; missing or failed: ${s.evidence.missing.join(', ')}` : ''}` +
        `${excepted.length > 0 ? `; ${excepted.join('; ')}` : ''}.`,
      '',
    );
  }
  if (record.hold?.set)
    lines.push(`Hold set on ${record.environment}${record.hold.reason ? `: ${record.hold.reason}` : ''}.`, '');
  if (record.hold?.released) lines.push(`Hold on ${record.environment} released.`, '');
  // A refusal before the plan names no branch yet: say only the repository then.
  const where = record.direct
    ? `, direct commit on ${record.gitops.defaultBranch ?? 'the default branch'}`
    : record.branch
      ? `, branch ${record.branch}`
      : '';
  lines.push(
    `${record.gitops.repository}${where}. ${record.gitops.kind === 'github' ? 'GitHub API calls' : 'Repository operations'}: ` +
      `${record.calls.total} (${record.calls.read} reading, ${record.calls.write} writing)` +
      `${record.calls.attempts > 1 ? `, over ${record.calls.attempts} attempts after losing races` : ''}.`,
  );
  return lines.join('\n');
}
