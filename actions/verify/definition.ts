import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { loginFromInputs } from '../../shared/oci/login.js';
import { parsePinnedReference } from '../../shared/oci/reference.js';
import { defineAction } from '../../shared/runner/action.js';
import { ConfigurationError, SlipwayError } from '../../shared/runner/errors.js';
import { choiceList, githubToken as githubTokenInput, list, parsed, text } from '../../shared/runner/inputs.js';
import { writeRecordFile } from '../../shared/runner/outputs.js';

// The verify action: inputs into one identity policy; shared/attest/run-verify.ts finds and verifies.

export const verify = defineAction({
  name: 'verify',
  inputs: {
    image: parsed(parsePinnedReference, {
      required: true,
      expected: 'an image pinned by digest, e.g. ghcr.io/acme/api@sha256:…',
    }),
    issuer: text({
      default: 'https://token.actions.githubusercontent.com',
      pattern: /https:\/\/\S+/,
      expected: 'an https URL',
    }),
    repository: text({ pattern: /[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+/, expected: 'owner/name' }),
    workflow: text({
      pattern: /\.github\/workflows\/[^@\s]+\.ya?ml/,
      expected: 'a workflow path such as .github/workflows/release.yml',
    }),
    'signer-workflow': text({
      pattern: /[^/@\s]+\/[^/@\s]+\/\.github\/workflows\/[^@\s]+(@\S+)?/,
      expected: 'owner/repo/.github/workflows/x.yml, optionally @<ref pattern>',
    }),
    ref: text({
      pattern: /refs\/[^\s@]+/,
      expected: 'a ref such as refs/heads/main or a pattern such as refs/tags/v*',
    }),
    'runner-environment': text({ pattern: /github-hosted|self-hosted/, expected: 'github-hosted or self-hosted' }),
    'source-commit': text({ pattern: /[0-9a-f]{40}([0-9a-f]{24})?/, expected: 'a full commit sha' }),
    'predicate-types': list({
      commas: true,
      default: 'https://slsa.dev/provenance/v1',
      expected: 'predicate type URIs',
    }),
    'trusted-root': text(),
    key: text(),
    sources: choiceList(['referrer', 'github', 'cosign-legacy'], { default: 'referrer,github' }),
    'github-token': githubTokenInput(),
    username: text(),
    password: text({ secret: true }),
  },
  outputs: ['verified', 'record'],

  async main({ inputs, outputs, summary, logger, secrets, env, workspace, recordDirectory }) {
    const at = (path: string) => (isAbsolute(path) ? path : resolve(workspace, path));
    const trustedRootPath = inputs['trusted-root'] ? at(inputs['trusted-root']) : undefined;
    if (trustedRootPath && !existsSync(trustedRootPath)) {
      throw new ConfigurationError(
        'trusted-root',
        inputs['trusted-root']!,
        'a trusted root JSON file',
        `${trustedRootPath} does not exist`,
      );
    }
    const repository = inputs.repository ?? env.GITHUB_REPOSITORY;
    if (!inputs.key && !repository) {
      throw new ConfigurationError(
        'repository',
        '',
        'owner/name',
        'keyless verification needs the signing repository, and GITHUB_REPOSITORY is not set',
      );
    }
    if (inputs.workflow && inputs['signer-workflow']) {
      throw new ConfigurationError(
        'workflow',
        inputs.workflow,
        'either workflow or signer-workflow',
        'signer-workflow names the signing workflow itself',
      );
    }
    const login = loginFromInputs(inputs.username, inputs.password, inputs.image);
    const githubToken = inputs['github-token'];
    const { readTrustedRoot, runVerify } = await import('../../shared/attest/run-verify.js');
    const record = await runVerify(
      {
        image: inputs.image,
        policy: {
          issuer: inputs.issuer,
          ...(repository ? { repository } : {}),
          ...(inputs.workflow ? { workflow: inputs.workflow } : {}),
          ...(inputs['signer-workflow'] ? { signerWorkflow: inputs['signer-workflow'] } : {}),
          ...(inputs.ref ? { ref: inputs.ref } : {}),
          ...(inputs['runner-environment'] ? { runnerEnvironment: inputs['runner-environment'] } : {}),
          ...(inputs['source-commit'] ? { sourceCommit: inputs['source-commit'] } : {}),
        },
        requiredPredicateTypes: inputs['predicate-types'],
        ...(trustedRootPath ? { trustedRoot: readTrustedRoot(trustedRootPath) } : {}),
        ...(inputs.key ? { publicKeyPem: inputs.key } : {}),
        sources: inputs.sources,
        ...(githubToken ? { githubToken } : {}),
        ...(login ? { login } : {}),
      },
      { env, logger, secrets, workspace, summary },
    );
    outputs.set('verified', String(record.verified));
    outputs.set('record', writeRecordFile(recordDirectory, 'verification.json', record, secrets));
    if (!record.verified) {
      throw new SlipwayError(
        `Verification of ${record.subject.name}@${record.subject.digest} failed: ${record.outcome.reasons.join('; ')}`,
      );
    }
  },
});
