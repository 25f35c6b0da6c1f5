import { ConfigurationError, SlipwayError } from '../../shared/core/errors.js';
import { userFile } from '../../shared/core/files.js';
import { githubContext } from '../../shared/github/context.js';
import { loginFromInputs } from '../../shared/oci/login-inputs.js';
import { parsePinnedReference } from '../../shared/oci/reference.js';
import { writeRecord } from '../../shared/records/record.js';
import { readSubjectInput, requireImageOrSubject } from '../../shared/records/subject.js';
import { VERIFICATION_RECORD } from '../../shared/records/verification.js';
import { defineAction } from '../../shared/runner/action.js';
import { choiceList, githubToken as githubTokenInput, list, parsed, text } from '../../shared/runner/inputs.js';
import { registryTimeoutInputs, registryTimeouts } from '../registry-inputs.js';

// The verify action: inputs into one identity policy; shared/attest/run-verify.ts finds and verifies.

export const verify = defineAction({
  name: 'verify',
  inputs: {
    image: parsed(parsePinnedReference, { expected: 'an image pinned by digest, e.g. ghcr.io/acme/api@sha256:…' }),
    subject: text(),
    // No fixed default: the issuer of this host's Actions tokens (github.com, GHE.com tenant or GHES) is the default.
    issuer: text({
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
    ...registryTimeoutInputs,
  },
  outputs: ['verified', 'record'],

  async main({ inputs, outputs, summary, logger, secrets, env, workspace, recordDirectory }) {
    const trustedRoot = inputs['trusted-root']
      ? userFile('trusted-root', inputs['trusted-root'], workspace, 'a Sigstore trusted root JSON file')
      : undefined;
    const publicKeyPem = inputs.key === undefined ? undefined : publicKeyInput(inputs.key);
    const repository = inputs.repository ?? env.GITHUB_REPOSITORY;
    if (publicKeyPem === undefined && !repository) {
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
    requireImageOrSubject(inputs.image, inputs.subject);
    const image = inputs.image ?? (await readSubjectInput('subject', inputs.subject!, workspace)).reference;
    const login = loginFromInputs(inputs.username, inputs.password, image);
    // The host the signer's SAN names and whose OIDC issuer is the default (shared/github/context.ts).
    const github = githubContext(env);
    const githubToken = inputs['github-token'];
    const sources = searchableSources(inputs.sources, { githubToken, keyBased: publicKeyPem !== undefined }, logger);
    const [{ runVerify }, { readTrustedRoot }] = await Promise.all([
      import('../../shared/attest/run-verify.js'),
      import('../../shared/attest/trusted-root.js'),
    ]);
    const record = await runVerify(
      {
        image,
        policy: {
          issuer: inputs.issuer ?? github.actionsIssuer,
          serverUrl: github.serverUrl,
          ...(repository ? { repository } : {}),
          ...(inputs.workflow ? { workflow: inputs.workflow } : {}),
          ...(inputs['signer-workflow'] ? { signerWorkflow: inputs['signer-workflow'] } : {}),
          ...(inputs.ref ? { ref: inputs.ref } : {}),
          ...(inputs['runner-environment'] ? { runnerEnvironment: inputs['runner-environment'] } : {}),
          ...(inputs['source-commit'] ? { sourceCommit: inputs['source-commit'] } : {}),
        },
        requiredPredicateTypes: inputs['predicate-types'],
        ...(trustedRoot ? { trustedRoot: readTrustedRoot(trustedRoot) } : {}),
        ...(publicKeyPem ? { publicKeyPem } : {}),
        sources,
        ...(githubToken ? { githubToken } : {}),
        ...(login ? { login } : {}),
        registryTimeouts: registryTimeouts(inputs),
      },
      { env, logger, secrets, workspace, summary },
    );
    outputs.set('verified', String(record.verified));
    outputs.set('record', writeRecord(recordDirectory, VERIFICATION_RECORD, record, secrets));
    if (!record.verified) {
      throw new SlipwayError(
        `Verification of ${record.subject.name}@${record.subject.digest} failed: ${record.outcome.reasons.map((reason) => reason.message).join('; ')}`,
      );
    }
  },
});

/**
 * The `key` input as an SPKI PEM public key. Never quoted in errors: the commonest mistake is the signing key
 * itself, which must not reach a log.
 */
export function publicKeyInput(given: string): string {
  const expected = 'a PEM public key (-----BEGIN PUBLIC KEY-----)';
  const fail = (detail: string, cause?: unknown): never => {
    const error = new ConfigurationError('key', undefined, expected, detail);
    if (cause !== undefined) error.cause = cause;
    throw error;
  };
  if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(given)) {
    return fail('it is a private key; give its public key (openssl pkey -pubout), which is all verification needs');
  }
  if (!given.includes('-----BEGIN ')) {
    return fail(
      /^[^\s]+\.(pem|pub|key)$/i.test(given) || given.includes('/')
        ? 'it is not PEM: it looks like a file path, and key takes the PEM text itself'
        : 'it is not PEM (no -----BEGIN line)',
    );
  }
  try {
    // node:crypto is fetched here, not imported, so that a step that stops at its inputs never loads it (~6 ms).
    const { createPublicKey } = process.getBuiltinModule('node:crypto');
    return createPublicKey(given).export({ type: 'spki', format: 'pem' }).toString();
  } catch (error) {
    return fail(`it is PEM but not a public key Node can read (${(error as Error).message})`, error);
  }
}

/**
 * The sources to search, of those asked for. Two leave out the GitHub attestations API when other sources remain:
 * - key-based verification, which fetches nothing it can do without (air-gapped runners): the API serves
 *   `gh attestation verify`, which checks keyless attestations only, and sign stores every attestation in the
 *   registry too. Asked for alone, it is searched.
 * - no token: the runner always provides github.token, but outside it (the CLI) the default arrives unevaluated
 *   and reads as none; the other sources are then searched, with a warning, rather than nothing at all.
 */
export function searchableSources<S extends string>(
  sources: S[],
  options: { githubToken: string | undefined; keyBased: boolean },
  logger: { info(message: string): void; warning(message: string): void },
): S[] {
  if (!sources.includes('github' as S)) return sources;
  const others = sources.filter((source) => source !== 'github');
  if (options.githubToken === undefined) {
    if (others.length === 0) {
      throw new ConfigurationError(
        'github-token',
        '',
        'a token that can read the repository',
        'sources is only github, and the GitHub attestations API needs a token',
      );
    }
    logger.warning(
      `sources includes github but github-token is not set: the GitHub attestations API is not searched, only ${others.join(', ')}.`,
    );
    return others;
  }
  if (options.keyBased && others.length > 0) {
    logger.info(
      `Key-based verification searches ${others.join(', ')} and not the GitHub attestations API, which serves keyless ` +
        'attestations to gh attestation verify; set sources to github alone to search it.',
    );
    return others;
  }
  return sources;
}
