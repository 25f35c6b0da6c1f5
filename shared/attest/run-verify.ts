import { createHash, createPublicKey } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { markdownTable } from '../core/markdown.js';
import type { Runtime } from '../core/runtime.js';
import { createRegistryClient, type Login } from '../oci/login.js';
import { openReference } from '../oci/open.js';
import type { ImageReference } from '../oci/reference.js';
import type { Digest } from '../oci/types.js';
import { openStores, type StoreKind } from './stores.js';
import { fetchPublicGoodTrustedRoot } from './trusted-root.js';
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

export type SourceKind = StoreKind;

export interface VerifyRequest {
  image: ImageReference & { digest: Digest };
  policy: IdentityPolicy;
  requiredPredicateTypes: string[];
  /**
   * Parsed trusted root JSON. When absent: none for key-based verification (publicKeyPem), else the public-good
   * root through TUF.
   */
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
  /** What was trusted: a trusted root (the input's, or the public-good one through TUF), a key, or both. */
  trust: { root: 'input' | 'public-good' | 'none'; key?: string };
  /** Legacy cosign attestations found, which cosign v2 and Kyverno's Cosign type read; listed, not verified here. */
  legacyFound: number;
  /** The same check by hand; gh only where it can make it (gh verifies keyless attestations only). */
  commands: { gh?: string; cosign: string };
}

export async function runVerify(request: VerifyRequest, runtime: VerifyRuntime): Promise<VerificationRecord> {
  const { env, logger, secrets } = runtime;
  // Before anything is searched: without a trust anchor nothing found could pass, and a runner without network
  // access to TUF should hear so first. A key is its own anchor, so key-based verification fetches nothing.
  const trustedRoot =
    request.trustedRoot ??
    (request.publicKeyPem === undefined
      ? await fetchPublicGoodTrustedRoot({ cachePath: join(env.RUNNER_TEMP || tmpdir(), 'slipway-tuf') })
      : undefined);
  const keyHint = request.publicKeyPem === undefined ? undefined : hintOf(request.publicKeyPem);
  const client = createRegistryClient({ login: request.login, env, logger, secrets, userAgent: 'slipway-verify' });
  const opened = await openReference(request.image, { client, workspace: runtime.workspace });
  const digest = request.image.digest;
  const candidates: CandidateBundle[] = [];
  let legacyFound = 0;
  const repository = request.policy.repository ?? env.GITHUB_REPOSITORY;
  const stores = openStores(request.sources, {
    images: opened.store,
    env,
    input: 'sources',
    ...(request.githubToken ? { githubToken: request.githubToken } : {}),
    ...(repository ? { repository } : {}),
  });
  for (const store of stores) {
    for (const found of await store.find(digest)) {
      // Legacy cosign layers are not bundles: listed for the record, never verified here.
      if (found.bundle) candidates.push({ bundle: found.bundle, location: found.location });
      else legacyFound += 1;
    }
  }
  const outcome = await verifyBundles({
    candidates,
    subjectDigest: digest,
    ...(trustedRoot ? { trustedRoot } : {}),
    // A key is its own trust anchor: no short-lived certificate whose signing time must be proven, so
    // neither a log entry nor a timestamp is required (either is still checked when a trusted root is given).
    ...(request.publicKeyPem
      ? {
          publicKeys: { [keyHint!]: request.publicKeyPem },
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
    trust: {
      root: request.trustedRoot ? 'input' : trustedRoot ? 'public-good' : 'none',
      ...(keyHint ? { key: keyHint } : {}),
    },
    legacyFound,
    commands: equivalentCommands(opened.name, digest, request),
  };
  runtime.summary?.add(renderVerifySummary(record));
  return record;
}

/** The file name the summary's cosign command uses for the key given as input. */
const KEY_FILE = 'key.pub';

function hintOf(publicKeyPem: string): string {
  const spki = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/**
 * What a person would run to check the same thing by hand: with cosign, and for keyless attestations with
 * GitHub's CLI too (gh attestation verify has no key-based mode). `key.pub` stands for the key given as `key`.
 */
export function equivalentCommands(
  name: string,
  digest: Digest,
  request: Pick<VerifyRequest, 'policy' | 'requiredPredicateTypes' | 'sources' | 'publicKeyPem' | 'trustedRoot'>,
): { gh?: string; cosign: string } {
  const { policy } = request;
  const types = request.requiredPredicateTypes;
  const cosignType =
    types[0] === 'https://slsa.dev/provenance/v1' ? '--type slsaprovenance1' : types[0] ? `--type ${types[0]}` : '';
  if (request.publicKeyPem !== undefined) {
    const keyed = [
      'cosign verify-attestation',
      `--key ${KEY_FILE}`,
      cosignType,
      // Without a trusted root Slipway checks the signature alone, as cosign does with the log check off.
      request.trustedRoot === undefined ? '--insecure-ignore-tlog=true' : '',
      `${name}@${digest}`,
    ];
    return { cosign: keyed.filter(Boolean).join(' ') };
  }
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
    cosignType,
    policy.repository ? `--certificate-identity-regexp '${identityMatcher(policy).san.source}'` : '',
    `--certificate-oidc-issuer ${policy.issuer}`,
    `${name}@${digest}`,
  ];
  return { gh: gh.filter(Boolean).join(' '), cosign: cosign.filter(Boolean).join(' ') };
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
    ...record.outcome.reasons.map((reason) => `- \`${reason.code}\` ${reason.message}`),
    '',
    rows.length ? markdownTable(['predicate type', 'found in', 'signer', 'result'], rows) : 'No attestation was found.',
    '',
    'The same check by hand:',
    '',
    '```sh',
    ...(record.commands.gh ? [record.commands.gh] : []),
    ...(record.trust.key ? [`# ${KEY_FILE}: the public key given as key`] : []),
    record.commands.cosign,
    '```',
  ].join('\n');
}
