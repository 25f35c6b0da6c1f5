import { readSigningConfig, SIGNING_CONFIG } from '../../shared/attest/signing-config.js';
import { ConfigurationError } from '../../shared/core/errors.js';
import { userFile } from '../../shared/core/files.js';
import type { EvidenceAttestationRequest } from '../../shared/evidence/run-evidence.js';
import { credentialsFromInputs } from '../../shared/oci/login-inputs.js';
import { writeRecord } from '../../shared/records/record.js';
import { defineAction } from '../../shared/runner/action.js';
import { boolean, choice, choiceList, githubToken, list, text } from '../../shared/runner/inputs.js';

// The evidence action: inputs into one request; shared/evidence/run-evidence.ts collects, checks the environment's
// requirements, writes evidence.json and publishes. Every module past the inputs is imported when main runs, so a
// mistake in the inputs is reported without loading them (cold start).

const PUBLISH = ['comment', 'summary', 'deployment', 'status', 'attestation'] as const;

export const evidence = defineAction({
  name: 'evidence',
  inputs: {
    records: list({
      commas: true,
      expected: 'record files or globs (build.json, out/*.json), separated by commas or newlines',
    }),
    'test-reports': list({ commas: true, expected: 'JUnit XML files or globs, separated by commas or newlines' }),
    'pull-request': text({ pattern: /[1-9][0-9]*/, expected: 'a pull request number' }),
    publish: choiceList(PUBLISH, { default: 'comment,summary' }),
    environment: text({ pattern: /[A-Za-z0-9][A-Za-z0-9_.-]*/, expected: 'an environment name from .slipway.yaml' }),
    decision: text({ pattern: /forward-fix|rollback/, expected: 'forward-fix or rollback' }),
    'decision-reason': text({ expected: 'why the decision was taken' }),
    token: githubToken(),
    config: text({ default: '.slipway.yaml', expected: 'a path in the GitOps repository' }),
    'gitops-repo': text({ expected: 'owner/name (a repository on GitHub) or a local path starting with ./, ../ or /' }),
    'auto-inactive': boolean({ default: 'true' }),
    'fail-on-publish-error': boolean({ default: 'false' }),
    'details-url': text({ pattern: /https?:\/\/\S+/, expected: 'an http(s) URL' }),
    // publish: attestation signs through sign's machinery, so it takes sign's inputs under sign's names.
    key: text({ secret: true }),
    storage: choiceList(['referrer', 'github', 'cosign-legacy'], { default: 'referrer,github' }),
    'signing-config': text(),
    'trusted-root': text(),
    'public-log': choice(['auto', 'true', 'false'], { default: 'auto' }),
    username: text(),
    password: text({ secret: true }),
  },
  outputs: ['comment-url', 'record', 'status'],
  // `slipway evidence --records 'out/*.json' --publish summary` prints the markdown (the issue's contract).
  cli: { summaryIsResult: true },

  async main({ inputs, outputs, summary, logger, secrets, env, workspace, recordDirectory }) {
    const decision = inputs.decision as 'forward-fix' | 'rollback' | undefined;
    if (decision && !inputs['decision-reason']) {
      throw new ConfigurationError(
        'decision-reason',
        '',
        'why the decision was taken',
        `decision is ${decision}, and a decision needs its reason`,
      );
    }
    if (!decision && inputs['decision-reason']) {
      throw new ConfigurationError(
        'decision',
        '',
        'forward-fix or rollback',
        'decision-reason was given without a decision',
      );
    }
    const attestation = inputs.publish.includes('attestation') ? await attestationInputs(inputs, workspace) : undefined;
    const [{ runEvidence }, { EVIDENCE_RECORD }] = await Promise.all([
      import('../../shared/evidence/run-evidence.js'),
      import('../../shared/records/evidence.js'),
    ]);
    const outcome = await runEvidence(
      {
        records: inputs.records,
        testReports: inputs['test-reports'],
        ...(inputs['pull-request'] ? { pullRequest: Number(inputs['pull-request']) } : {}),
        publish: inputs.publish,
        ...(inputs.environment ? { environment: inputs.environment } : {}),
        ...(decision && inputs['decision-reason']
          ? { decision: { kind: decision, reason: inputs['decision-reason'] } }
          : {}),
        ...(inputs.token ? { token: inputs.token } : {}),
        ...(inputs['gitops-repo'] ? { gitopsRepo: inputs['gitops-repo'] } : {}),
        config: inputs.config,
        autoInactive: inputs['auto-inactive'],
        failOnPublishError: inputs['fail-on-publish-error'],
        ...(inputs['details-url'] ? { detailsUrl: inputs['details-url'] } : {}),
        ...(attestation ? { attestation } : {}),
      },
      {
        env,
        logger,
        secrets,
        workspace,
        summary,
        // The record output is set as soon as the file exists: a publishing failure after it still leaves it.
        writeRecord: (result) => {
          const path = writeRecord(recordDirectory, EVIDENCE_RECORD, result, secrets);
          outputs.set('record', path);
          outputs.set('status', result.status);
          return path;
        },
      },
    );
    outputs.set('comment-url', outcome.commentUrl ?? '');
    logger.info(
      `Evidence ${outcome.result.status}${outcome.result.missing.length ? `: missing or failed ${outcome.result.missing.join(', ')}` : ''}.`,
    );
  },
});

/** Sign's inputs as the attestation publisher takes them; the files are read (and checked) only when it runs. */
async function attestationInputs(
  inputs: {
    key?: string | undefined;
    storage: ('referrer' | 'github' | 'cosign-legacy')[];
    'signing-config'?: string | undefined;
    'trusted-root'?: string | undefined;
    'public-log': 'auto' | 'true' | 'false';
    username?: string | undefined;
    password?: string | undefined;
  },
  workspace: string,
): Promise<EvidenceAttestationRequest> {
  const { readTrustedRoot } = await import('../../shared/attest/trusted-root.js');
  const signingConfig = inputs['signing-config'];
  const trustedRoot = inputs['trusted-root'];
  return {
    ...(inputs.key ? { key: inputs.key } : {}),
    storage: inputs.storage,
    ...(signingConfig
      ? { endpoints: readSigningConfig(userFile('signing-config', signingConfig, workspace, SIGNING_CONFIG)) }
      : {}),
    ...(trustedRoot
      ? {
          trustedRoot: readTrustedRoot(
            userFile('trusted-root', trustedRoot, workspace, 'a Sigstore trusted root JSON file'),
          ),
        }
      : {}),
    publicLog: inputs['public-log'],
    ...(credentialsFromInputs(inputs.username, inputs.password) ?? {}),
  };
}
