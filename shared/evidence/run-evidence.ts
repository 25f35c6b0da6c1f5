import { ConfigurationError, SlipwayError } from '../core/errors.js';
import type { Runtime } from '../core/runtime.js';
import { rfc3339Seconds } from '../core/time.js';
import { type GitHubContext, githubContext } from '../github/context.js';
import { GitHubApiError } from '../github/errors.js';
import type { SlipwayOctokit } from '../github/octokit.js';
import { loginFromInputs } from '../oci/login-inputs.js';
import { parsePinnedReference } from '../oci/reference.js';
import type { EvidenceItem, EvidenceResult, HumanDecision } from './types.js';

// The evidence action's work, the same on the runner and in the CLI: collect (the other actions' records, JUnit
// reports, GitHub's facts about the pull request and the run, the human decision), compute the status against the
// environment's `require-evidence:` (read from the GitOps repository's default branch, as promote reads it), write
// evidence.json, and only then publish: the job summary, the sticky comment on the source pull request and on each
// promotion pull request, deployments, a commit status, an attestation. The record is written first so that no
// publishing failure loses it. Publishing reports; it does not gate the release: a token that cannot write (a pull
// request from a fork gets a read-only one whatever the workflow asks) is one warning naming the permission and the
// workflow_run pattern, and fails the step only with fail-on-publish-error.

export const PUBLISH_TARGETS = ['comment', 'summary', 'deployment', 'status', 'attestation'] as const;
export type PublishTarget = (typeof PUBLISH_TARGETS)[number];

export interface EvidenceRequest {
  records: string[];
  testReports: string[];
  pullRequest?: number;
  publish: PublishTarget[];
  environment?: string;
  decision?: { kind: HumanDecision['kind']; reason: string };
  token?: string;
  /** The GitOps repository and its policy file, to read the environment's require-evidence. */
  gitopsRepo?: string;
  config: string;
  autoInactive: boolean;
  failOnPublishError: boolean;
  /** Where "full record" links point: by default the run. */
  detailsUrl?: string;
  /** How to sign and store the attestations when publish has attestation: sign's inputs. */
  attestation?: EvidenceAttestationRequest;
}

/** Sign's inputs for the evidence and test-result attestations (shared/evidence/publish/attestation.ts). */
export interface EvidenceAttestationRequest {
  /** PEM private key; absent: keyless, with the runner's OIDC token. */
  key?: string;
  storage: ('referrer' | 'github' | 'cosign-legacy')[];
  endpoints?: { fulcioUrl?: string; rekorUrl?: string; tsaUrl?: string };
  trustedRoot?: object;
  publicLog: 'auto' | 'true' | 'false';
  /** The registry's credentials, for the image the record is about. */
  username?: string;
  password?: string;
}

export interface EvidenceRuntime extends Runtime {
  now?: () => Date;
  /** Writes evidence.json and returns its path (the record output); called before anything is published. */
  writeRecord(result: EvidenceResult): string;
}

export interface EvidenceOutcome {
  result: EvidenceResult;
  recordPath: string;
  /** The source pull request's comment, else the first comment made. */
  commentUrl?: string;
  /** The summary markdown, when summary was asked for. */
  summary?: string;
  published: string[];
  /** One message per publishing failure (already logged). */
  publishErrors: string[];
}

/** What publishing needs from the run: which repository, which commit, which run. */
interface RunFacts {
  owner?: string;
  repo?: string;
  runUrl?: string;
  actor?: string;
}

function runFacts(env: Runtime['env'], github: GitHubContext): RunFacts {
  const [owner, repo] = (env.GITHUB_REPOSITORY ?? '').split('/');
  const attempt = env.GITHUB_RUN_ATTEMPT && env.GITHUB_RUN_ATTEMPT !== '1' ? `/attempts/${env.GITHUB_RUN_ATTEMPT}` : '';
  return {
    ...(owner && repo ? { owner, repo } : {}),
    ...(owner && repo && env.GITHUB_RUN_ID
      ? { runUrl: `${github.serverUrl}/${owner}/${repo}/actions/runs/${env.GITHUB_RUN_ID}${attempt}` }
      : {}),
    ...(env.GITHUB_ACTOR ? { actor: env.GITHUB_ACTOR } : {}),
  };
}

/** What each publisher needs the token to be allowed, as a workflow's `permissions:` says it. */
const PERMISSIONS: Record<Exclude<PublishTarget, 'summary'>, string> = {
  comment: 'pull-requests: write',
  deployment: 'deployments: write',
  status: 'statuses: write',
  attestation: 'attestations: write and id-token: write',
};

export async function runEvidence(request: EvidenceRequest, runtime: EvidenceRuntime): Promise<EvidenceOutcome> {
  const now = runtime.now ?? (() => new Date());
  const { env, logger, workspace } = runtime;
  const github = githubContext(env);
  const facts = runFacts(env, github);
  const wantsGitHub = request.publish.some((p) => p !== 'summary') || request.pullRequest !== undefined;
  let octokit: SlipwayOctokit | undefined;
  if (request.token && (wantsGitHub || facts.owner)) {
    const { createOctokit } = await import('../github/octokit.js');
    octokit = await createOctokit({ token: request.token, context: github, logger });
  }

  // --- collect ---------------------------------------------------------------------------------------------
  const [{ collectRecords }, { collectTests }, { checkRequirements, requirementsFor }] = await Promise.all([
    import('./collect/records.js'),
    import('./collect/junit.js'),
    import('./requirements.js'),
  ]);
  const collected = await collectRecords(request.records, workspace);
  for (const { file, reason } of collected.ignored)
    logger.debug(`Not a Slipway record, left out: ${file} (${reason}).`);
  const tests: EvidenceResult['tests'] =
    request.testReports.length > 0
      ? collectTests(request.testReports, workspace)
      : { state: 'missing', reason: 'no test reports were given (input test-reports)' };
  const commit = collected.source.commit ?? env.GITHUB_SHA;
  const { collectGitHub, runFromEnvironment } = await import('./collect/github.js');
  // Without GitHub to ask, the run is still what the runner tells the job (GITHUB_RUN_ID …), and missing outside one.
  const notAsked = `GitHub was not asked: ${request.token ? 'the repository or the commit is unknown' : 'no token was given (input token)'}`;
  let fromGitHub: Pick<EvidenceResult, 'pullRequest' | 'run' | 'deployments'> = {
    pullRequest: { state: 'missing', reason: notAsked },
    run: runFromEnvironment(env, 'GitHub was not asked'),
    deployments: { state: 'missing', reason: notAsked },
  };
  if (octokit && facts.owner && facts.repo && commit) {
    fromGitHub = await collectGitHub({
      octokit,
      owner: facts.owner,
      repo: facts.repo,
      commit,
      ...(request.pullRequest !== undefined ? { pullRequest: request.pullRequest } : {}),
      ...(env.GITHUB_RUN_ID ? { runId: Number(env.GITHUB_RUN_ID) } : {}),
      ...(env.GITHUB_RUN_ATTEMPT ? { attempt: Number(env.GITHUB_RUN_ATTEMPT) } : {}),
      // When the API cannot be asked about the run (a read-only token, an older GHES), the runner's variables say it.
      env,
    });
  }
  const decision: EvidenceItem<HumanDecision> = request.decision
    ? {
        state: request.decision.kind === 'rollback' ? 'failed' : 'present',
        from: [{ kind: 'input', location: 'decision' }],
        // The decider is whoever ran the job: the run's actor, never a name typed into an input.
        value: { ...request.decision, by: facts.actor ?? 'unknown', at: rfc3339Seconds(now()) },
      }
    : { state: 'missing', reason: 'no decision was given (inputs decision and decision-reason)' };

  // --- requirements ----------------------------------------------------------------------------------------
  const environmentPolicy = await readEnvironmentPolicy(request, runtime, github);
  const requirements = requirementsFor(environmentPolicy);
  const draft: EvidenceResult = {
    status: 'incomplete',
    ...(request.environment ? { environment: request.environment } : {}),
    subject: collected.subject,
    source: collected.source,
    pullRequest: fromGitHub.pullRequest,
    run: fromGitHub.run,
    build: collected.build,
    tests,
    sbom: collected.sbom,
    vulnerabilities: collected.vulnerabilities,
    signatures: collected.signatures,
    verification: collected.verification,
    promotions: collected.promotions,
    deployments: fromGitHub.deployments,
    canary: collected.canary,
    decision,
    requirements: [],
    missing: [],
    exceptions: [],
    generatedAt: rfc3339Seconds(now()),
  };
  const check = checkRequirements(draft, requirements, environmentPolicy?.evidenceExceptions ?? [], now());
  const result: EvidenceResult = {
    ...draft,
    status: check.status,
    requirements: check.requirements,
    missing: check.missing,
    exceptions: check.exceptions,
  };

  // --- the record, before anything is published ------------------------------------------------------------
  // writeRecord refuses a record that holds a secret's value, so nothing rendered from it below (the comment, the
  // summary, deployment payloads, statuses) can carry one.
  const recordPath = runtime.writeRecord(result);

  // --- publish ---------------------------------------------------------------------------------------------
  const { COMMENT_LIMIT, SUMMARY_LIMIT, evidenceMarker, renderEvidence } = await import('./render.js');
  const recordUrl = request.detailsUrl ?? facts.runUrl;
  // One sticky comment per environment (or `release` without one): promoting into staging does not overwrite dev's.
  const marker = evidenceMarker(request.environment ?? 'release');
  const title = request.environment ? `Release evidence: ${request.environment}` : 'Release evidence';
  const render = (limit: { limit: number; measure: 'utf8' | 'utf16' }) =>
    renderEvidence(result, {
      ...limit,
      marker,
      title,
      serverUrl: github.serverUrl,
      ...(recordUrl ? { recordUrl } : {}),
    });
  const outcome: EvidenceOutcome = { result, recordPath, published: [], publishErrors: [] };
  const forbidden: { target: Exclude<PublishTarget, 'summary'>; what: string; message: string }[] = [];
  const attempt = async (target: Exclude<PublishTarget, 'summary'>, what: string, run: () => Promise<void>) => {
    try {
      await run();
    } catch (error) {
      if (error instanceof GitHubApiError && error.status === 403 && !/rate limit/i.test(error.message)) {
        forbidden.push({ target, what, message: error.githubMessage ?? error.message });
        return;
      }
      if (!(error instanceof SlipwayError)) throw error;
      const message = `Could not publish ${what}: ${error.message}`;
      logger.warning(message);
      outcome.publishErrors.push(message);
    }
  };
  const needsGitHub = (target: PublishTarget): boolean => {
    if (octokit && facts.owner && facts.repo) return true;
    const message = `Not publishing the ${target}: ${request.token ? 'GITHUB_REPOSITORY is not set' : 'no token was given (input token)'}.`;
    logger.warning(message);
    outcome.publishErrors.push(message);
    return false;
  };

  if (request.publish.includes('summary')) {
    // Kept a little inside the runner's 1 MiB, which the summary file's other parts share.
    const { markdown, truncated, dropped } = render({ limit: SUMMARY_LIMIT.limit - 1024, measure: 'utf8' });
    outcome.summary = markdown;
    runtime.summary?.add(markdown);
    if (truncated) logger.info(`The summary leaves out ${dropped.join(', ')} to stay within the runner's limit.`);
    outcome.published.push('summary');
  }
  if (request.publish.includes('comment') && needsGitHub('comment') && octokit) {
    const { markdown, truncated, dropped } = render(COMMENT_LIMIT);
    if (truncated) logger.info(`The comment leaves out ${dropped.join(', ')} to stay within GitHub's limit.`);
    const { publishStickyComment, tokenLogin } = await import('./publish/comment.js');
    let login: string | undefined;
    const targets = commentTargets(result, facts, github);
    if (targets.length === 0) logger.info('No pull request to comment on: none was found for the commit or given.');
    for (const target of targets) {
      await attempt('comment', `the comment on ${target.owner}/${target.repo}#${target.number}`, async () => {
        login ??= await tokenLogin(octokit);
        const comment = await publishStickyComment({
          octokit,
          owner: target.owner,
          repo: target.repo,
          issueNumber: target.number,
          marker,
          body: markdown,
          login,
          logger,
        });
        logger.info(`Evidence comment ${comment.action}: ${comment.url}`);
        outcome.commentUrl ??= comment.url;
        outcome.published.push(`comment:${target.owner}/${target.repo}#${target.number}`);
      });
    }
  }
  if (request.publish.includes('deployment') && needsGitHub('deployment') && octokit && facts.owner && facts.repo) {
    const environments = deploymentEnvironments(result, request.environment);
    if (!commit)
      logger.warning('No deployment: the commit is unknown (no source commit in the records, no GITHUB_SHA).');
    else if (environments.length === 0) logger.info('No deployment: no environment was given or promoted into.');
    else {
      const { deploymentStateFor, publishDeployment } = await import('./publish/deployments.js');
      const { owner, repo } = facts;
      for (const environment of environments) {
        await attempt('deployment', `the deployment to ${environment}`, async () => {
          const state = deploymentStateFor(result.status);
          const made = await publishDeployment({
            octokit,
            owner,
            repo,
            sha: commit,
            environment,
            ...(result.subject.digest ? { digest: result.subject.digest } : {}),
            ...(recordUrl ? { recordUrl, logUrl: recordUrl } : {}),
            state,
            description: statusLine(result),
            autoInactive: request.autoInactive,
          });
          logger.info(`Deployment ${made.id} to ${environment}: ${state}.`);
          outcome.published.push(`deployment:${environment}`);
        });
      }
    }
  }
  if (request.publish.includes('status') && needsGitHub('status') && octokit && facts.owner && facts.repo) {
    if (!commit) logger.warning('No commit status: the commit is unknown (no source commit, no GITHUB_SHA).');
    else {
      const { commitStateFor, publishCommitStatus } = await import('./publish/status.js');
      const { owner, repo } = facts;
      await attempt('status', 'the commit status', async () => {
        const status = await publishCommitStatus({
          octokit,
          owner,
          repo,
          sha: commit,
          ...(request.environment ? { environment: request.environment } : {}),
          state: commitStateFor(result.status),
          description: statusLine(result),
          ...((outcome.commentUrl ?? recordUrl) ? { targetUrl: outcome.commentUrl ?? recordUrl } : {}),
        });
        logger.info(`Commit status ${status.context}: ${status.state}.`);
        outcome.published.push(`status:${status.context}`);
      });
    }
  }
  if (request.publish.includes('attestation')) {
    await attempt('attestation', 'the evidence attestation', async () => {
      const attested = await publishAttestation(result, request, runtime, github, facts, now);
      for (const a of attested.attestations) {
        logger.info(
          `Attestation ${a.predicateType} ${a.reused ? 'already stored, kept' : 'signed'} by ${attested.signer}: ${a.stored.join(', ')}.`,
        );
      }
      outcome.published.push('attestation');
    });
  }

  if (forbidden.length > 0) {
    const permissions = [...new Set(forbidden.map((f) => PERMISSIONS[f.target]))];
    const message =
      `The token could not write ${forbidden.map((f) => f.what).join(', ')} ` +
      `(GitHub answered 403: ${forbidden[0]?.message}): it needs ${permissions.join(', ')} ` +
      '(the workflow\u2019s or job\u2019s `permissions:`). A pull request from a fork always gets a read-only ' +
      'token, whatever the workflow asks: publish its evidence from a workflow_run workflow instead, which ' +
      'downloads the record the pull request\u2019s run uploaded (docs/evidence.md, examples/evidence-fork-prs.yml). ' +
      `The record was written: ${recordPath}.`;
    outcome.publishErrors.push(message);
    if (!request.failOnPublishError) logger.warning(message);
  }
  if (request.failOnPublishError && outcome.publishErrors.length > 0) {
    throw new SlipwayError(outcome.publishErrors.join(' '));
  }
  return outcome;
}

/**
 * The record, and its test results, as in-toto attestations about the image, through sign's machinery. The image
 * is the record's subject (from the build record): without it there is nothing to attach them to, which
 * attestEvidence says.
 */
async function publishAttestation(
  result: EvidenceResult,
  request: EvidenceRequest,
  runtime: EvidenceRuntime,
  github: GitHubContext,
  facts: RunFacts,
  now: () => Date,
) {
  const { attestEvidence, workflowDescriptor } = await import('./publish/attestation.js');
  const options = request.attestation ?? { storage: ['referrer'], publicLog: 'auto' };
  const { image, digest } = result.subject;
  const login =
    image && digest
      ? loginFromInputs(options.username, options.password, parsePinnedReference(`${image}@${digest}`))
      : undefined;
  const workflow = workflowDescriptor(runtime.env, github.serverUrl);
  return attestEvidence(
    {
      result,
      testResultOptions: { ...(workflow ? { workflow } : {}), ...(facts.runUrl ? { url: facts.runUrl } : {}) },
      ...(options.key !== undefined ? { key: options.key } : {}),
      storage: options.storage,
      ...(options.endpoints ? { endpoints: options.endpoints } : {}),
      ...(options.trustedRoot ? { trustedRoot: options.trustedRoot } : {}),
      publicLog: options.publicLog,
      ...(request.token ? { githubToken: request.token } : {}),
      ...(login ? { login } : {}),
    },
    { ...runtime, now },
  );
}

/** One line for a status description: the status and what is missing. */
function statusLine(result: EvidenceResult): string {
  if (result.status === 'complete') return 'Evidence complete';
  const what = result.status === 'failed' ? 'Evidence failed' : 'Evidence incomplete';
  return result.missing.length ? `${what}: ${result.missing.join(', ')}` : what;
}

/** Where deployments go: the environment given, else every environment the records promoted into. */
function deploymentEnvironments(result: EvidenceResult, environment?: string): string[] {
  if (environment) return [environment];
  if (result.promotions.state === 'missing') return [];
  return [...new Set(result.promotions.value.filter((p) => p.outcome === 'promoted').map((p) => p.environment))];
}

interface CommentTarget {
  owner: string;
  repo: string;
  number: number;
}

/**
 * The source pull request, then each promotion pull request (in the GitOps repository, which its URL names; one on
 * another host than this run's is left out, since the token belongs to this host).
 */
function commentTargets(result: EvidenceResult, facts: RunFacts, github: GitHubContext): CommentTarget[] {
  const targets: CommentTarget[] = [];
  if (result.pullRequest.state !== 'missing' && facts.owner && facts.repo) {
    targets.push({ owner: facts.owner, repo: facts.repo, number: result.pullRequest.value.number });
  }
  if (result.promotions.state !== 'missing') {
    for (const promotion of result.promotions.value) {
      const pull = promotion.pullRequest;
      if (!pull) continue;
      const where = pullRequestRepository(pull.url, github.serverUrl);
      if (!where) continue;
      if (
        !targets.some(
          (t) =>
            `${t.owner}/${t.repo}#${t.number}`.toLowerCase() ===
            `${where.owner}/${where.repo}#${pull.number}`.toLowerCase(),
        )
      ) {
        targets.push({ ...where, number: pull.number });
      }
    }
  }
  return targets;
}

/** owner/repo from `<server>/owner/repo/pull/N`. */
export function pullRequestRepository(url: string, serverUrl: string): { owner: string; repo: string } | undefined {
  const prefix = `${serverUrl.replace(/\/+$/, '')}/`;
  if (!url.startsWith(prefix)) return undefined;
  const [owner, repo, kind] = url.slice(prefix.length).split('/');
  return owner && repo && kind === 'pull' ? { owner, repo } : undefined;
}

/** The environment's section of the GitOps repository's policy, when gitops-repo and environment are given. */
async function readEnvironmentPolicy(request: EvidenceRequest, runtime: EvidenceRuntime, github: GitHubContext) {
  if (!request.environment || !request.gitopsRepo) return undefined;
  const [{ gitopsLocation, openRepository }, { readSlipwayConfig }] = await Promise.all([
    import('../gitops/open-repository.js'),
    import('../gitops/config.js'),
  ]);
  const location = gitopsLocation(request.gitopsRepo, runtime.workspace);
  const { repository } = await openRepository({
    location,
    token: request.token,
    context: github,
    logger: runtime.logger,
  });
  const { config } = await readSlipwayConfig(repository, request.config);
  const environment = config.environments.find((e) => e.name === request.environment);
  if (!environment) {
    throw new ConfigurationError(
      'environment',
      request.environment,
      `an environment of ${request.config}: ${config.environments.map((e) => e.name).join(', ')}`,
    );
  }
  return environment;
}
