import { createHash, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GitHubClient } from '../github/client.js';
import { createRegistryClient, type Login } from '../oci/login.js';
import { openReference } from '../oci/open.js';
import type { ImageReference } from '../oci/reference.js';
import type { Digest } from '../oci/types.js';
import { SlipwayError } from '../runner/errors.js';
import type { Runtime } from '../runner/runtime.js';
import { markdownTable } from '../runner/summary.js';
import { listAttestations } from './github-storage.js';
import { findBundles, findLegacyAttestations } from './oci-storage.js';
import type { IdentityPolicy } from './types.js';
import {
  type CandidateBundle,
  identityMatcher,
  type VerificationOutcome,
  verifierFormats,
  verifyBundles,
} from './verify.js';

// The verify action's work: find every attestation where verifiers look for them, verify each against the
// trusted root and the identity policy, and decide. Fail closed: nothing found, or nothing that passes, is a
// failure that says which.

export type SourceKind = 'referrer' | 'github' | 'cosign-legacy';

export interface VerifyRequest {
  image: ImageReference & { digest: Digest };
  policy: IdentityPolicy;
  requiredPredicateTypes: string[];
  /** Parsed trusted root JSON; the public-good root from TUF when absent. */
  trustedRoot?: object;
  publicKeyPem?: string;
  sources: SourceKind[];
  githubToken?: string;
  login?: Login;
}

export type VerifyRuntime = Runtime;

export interface VerificationRecord {
  subject: { name: string; digest: Digest };
  policy: IdentityPolicy & { san?: string; requiredPredicateTypes: string[] };
  sources: SourceKind[];
  verified: boolean;
  outcome: VerificationOutcome;
  formats: ReturnType<typeof verifierFormats>;
  /** Legacy cosign attestations found, which cosign v2 and Kyverno's Cosign type read; listed, not verified here. */
  legacyFound: number;
  commands: { gh: string; cosign: string };
}

export async function runVerify(request: VerifyRequest, runtime: VerifyRuntime): Promise<VerificationRecord> {
  const { env, logger, secrets } = runtime;
  const client = createRegistryClient({ login: request.login, env, logger, secrets, userAgent: 'slipway-verify' });
  const opened = await openReference(request.image, { client, workspace: runtime.workspace });
  const digest = request.image.digest;
  const candidates: CandidateBundle[] = [];
  let legacyFound = 0;
  if (request.sources.includes('referrer')) {
    for (const found of await findBundles(opened.store, digest))
      candidates.push({ bundle: found.bundle, location: found.location });
  }
  if (request.sources.includes('cosign-legacy'))
    legacyFound = (await findLegacyAttestations(opened.store, digest)).length;
  if (request.sources.includes('github')) {
    const repository = request.policy.repository ?? env.GITHUB_REPOSITORY;
    if (!request.githubToken || !repository) {
      throw new SlipwayError(
        'sources github needs github-token and a repository (input repository or GITHUB_REPOSITORY).',
      );
    }
    const [owner, repo] = repository.split('/') as [string, string];
    const github = new GitHubClient({
      token: request.githubToken,
      ...(env.GITHUB_API_URL ? { baseUrl: env.GITHUB_API_URL } : {}),
    });
    for (const bundle of await listAttestations(github, owner, repo, digest))
      candidates.push({ bundle, location: { kind: 'github' } });
  }
  const trustedRoot = request.trustedRoot ?? (await publicGoodTrustedRoot(env));
  const outcome = await verifyBundles({
    candidates,
    subjectDigest: digest,
    trustedRoot,
    // A key is its own trust anchor: no short-lived certificate whose signing time must be proven, so
    // neither a log entry nor a timestamp is required (either is still checked when the bundle has one).
    ...(request.publicKeyPem
      ? {
          publicKeys: { [hintOf(request.publicKeyPem)]: request.publicKeyPem },
          tlogThreshold: 0,
          timestampThreshold: 0,
        }
      : {}),
    policy: request.policy,
    requiredPredicateTypes: request.requiredPredicateTypes,
  });
  const san = request.policy.repository ? identityMatcher(request.policy).san.source : undefined;
  const record: VerificationRecord = {
    subject: { name: opened.name, digest },
    policy: { ...request.policy, ...(san ? { san } : {}), requiredPredicateTypes: request.requiredPredicateTypes },
    sources: request.sources,
    verified: outcome.verified,
    outcome,
    formats: verifierFormats(outcome.attestations),
    legacyFound,
    commands: equivalentCommands(opened.name, digest, request),
  };
  runtime.summary?.add(renderVerifySummary(record));
  return record;
}

/** The public-good Sigstore trusted root, through TUF, cached in the runner's temp directory. */
async function publicGoodTrustedRoot(env: Readonly<Record<string, string | undefined>>): Promise<object> {
  const { getTrustedRoot } = await import('@sigstore/tuf');
  const { tmpdir } = await import('node:os');
  const root = await getTrustedRoot({ cachePath: `${env.RUNNER_TEMP || tmpdir()}/slipway-tuf` });
  return root as unknown as object;
}

function hintOf(publicKeyPem: string): string {
  const spki = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/** What a person would run to check the same thing by hand, with GitHub's CLI and with cosign. */
function equivalentCommands(name: string, digest: Digest, request: VerifyRequest): { gh: string; cosign: string } {
  const { policy } = request;
  const types = request.requiredPredicateTypes;
  const gh = [
    'gh attestation verify',
    `oci://${name}@${digest}`,
    policy.repository ? `--repo ${policy.repository}` : '',
    policy.signerWorkflow
      ? `--signer-workflow ${policy.signerWorkflow.split('@')[0]}`
      : policy.repository && policy.workflow
        ? `--signer-workflow ${policy.repository}/${policy.workflow}`
        : '',
    policy.signerWorkflow && policy.ref ? `--source-ref ${policy.ref}` : '',
    types[0] ? `--predicate-type ${types[0]}` : '',
    request.sources.includes('referrer') && !request.sources.includes('github') ? '--bundle-from-oci' : '',
  ];
  const cosign = [
    'cosign verify-attestation',
    types[0] === 'https://slsa.dev/provenance/v1' ? '--type slsaprovenance1' : types[0] ? `--type ${types[0]}` : '',
    policy.repository ? `--certificate-identity-regexp '${identityMatcher(policy).san.source}'` : '',
    `--certificate-oidc-issuer ${policy.issuer}`,
    `${name}@${digest}`,
  ];
  return { gh: gh.filter(Boolean).join(' '), cosign: cosign.filter(Boolean).join(' ') };
}

export function readTrustedRoot(path: string): object {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as object;
  } catch (error) {
    throw new SlipwayError(`The trusted root ${path} could not be read as JSON: ${(error as Error).message}`);
  }
}

export function renderVerifySummary(record: VerificationRecord): string {
  const rows = record.outcome.attestations.map((a) => [
    a.predicateType ?? '—',
    a.location.kind,
    a.signer ?? '—',
    a.passed ? 'passed' : `**failed**: ${a.failure ?? ''}`,
  ]);
  return [
    `### ${record.verified ? 'Verified' : '**Not verified**'}: ${record.subject.name}@${record.subject.digest}`,
    '',
    ...record.outcome.reasons.map((reason) => `- ${reason}`),
    '',
    rows.length ? markdownTable(['predicate type', 'found in', 'signer', 'result'], rows) : 'No attestation was found.',
    '',
    'The same check by hand:',
    '',
    '```sh',
    record.commands.gh,
    record.commands.cosign,
    '```',
  ].join('\n');
}
