import { createHash, createPublicKey } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { markdownTable } from '../core/markdown.js';
import type { Runtime } from '../core/runtime.js';
import { createRegistryClient, type Login } from '../oci/login.js';
import { isIndexMediaType } from '../oci/media-types.js';
import { openReference } from '../oci/open.js';
import type { ImageReference } from '../oci/reference.js';
import type { ImageStore } from '../oci/store.js';
import { readSubject } from '../oci/subject.js';
import type { Timeouts } from '../oci/timeouts.js';
import type { Digest } from '../oci/types.js';
import { decideRequirements, platformPredicateTypes } from './requirements.js';
import { openStores, type StoreKind } from './stores.js';
import { fetchPublicGoodTrustedRoot } from './trusted-root.js';
import type { IdentityPolicy } from './types.js';
import {
  type AttestationCheck,
  type CandidateBundle,
  checkBundles,
  identityMatcher,
  type VerificationOutcome,
  verifierFormats,
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
  /** Connect and idle timeouts for Slipway's registry requests; unset ones keep the defaults (shared/oci/timeouts.ts). */
  registryTimeouts?: Partial<Timeouts>;
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
  const client = createRegistryClient({
    login: request.login,
    env,
    logger,
    secrets,
    userAgent: 'slipway-verify',
    timeouts: request.registryTimeouts,
  });
  const opened = await openReference(request.image, { client, workspace: runtime.workspace });
  const digest = request.image.digest;
  let legacyFound = 0;
  const repository = request.policy.repository ?? env.GITHUB_REPOSITORY;
  const stores = openStores(request.sources, {
    images: opened.store,
    env,
    input: 'sources',
    logger,
    ...(request.githubToken ? { githubToken: request.githubToken } : {}),
    ...(repository ? { repository } : {}),
  });
  /** Everything every store holds about one manifest; one lookup per store. */
  const find = async (manifest: Digest): Promise<CandidateBundle[]> => {
    const candidates: CandidateBundle[] = [];
    for (const store of stores) {
      for (const found of await store.find(manifest)) {
        // Legacy cosign layers are not bundles: listed for the record, never verified here.
        if (found.bundle) candidates.push({ bundle: found.bundle, location: found.location });
        else legacyFound += 1;
      }
    }
    return candidates;
  };
  const check = async (manifest: Digest, candidates: CandidateBundle[]) =>
    checkBundles({
      candidates,
      subjectDigest: manifest,
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
  const checked = await check(digest, await find(digest));
  let outcome: VerificationOutcome;
  if ('unusable' in checked) {
    outcome = checked.unusable;
  } else {
    // SBOMs are attested per platform manifest (run-sign.ts), so a required SBOM type the index itself lacks is
    // looked for on each platform; only then, so that an image verified on its own digest costs no more lookups.
    let platforms: Record<string, { digest: Digest; attestations: AttestationCheck[] }> | undefined;
    if (platformPredicateTypes(request.requiredPredicateTypes, checked.attestations).length > 0) {
      const manifests = await platformManifests(opened.store, opened.name, digest);
      if (manifests !== undefined) {
        platforms = {};
        for (const [platform, manifest] of Object.entries(manifests)) {
          const onPlatform = await check(manifest, await find(manifest));
          // An unusable trusted root shows here only when nothing was found about the index: each attestation
          // then carries TRUSTED_ROOT_INVALID, and the platform's reasons say so.
          const attestations = 'unusable' in onPlatform ? onPlatform.unusable.attestations : onPlatform.attestations;
          platforms[platform] = { digest: manifest, attestations };
        }
      }
    }
    outcome = decideRequirements({
      required: request.requiredPredicateTypes,
      image: { digest, attestations: checked.attestations },
      ...(platforms ? { platforms } : {}),
    });
  }
  const san = request.policy.repository ? identityMatcher(request.policy).san.source : undefined;
  const record: VerificationRecord = {
    subject: { name: opened.name, digest },
    policy: { ...request.policy, ...(san ? { san } : {}), requiredPredicateTypes: request.requiredPredicateTypes },
    sources: request.sources,
    verified: outcome.verified,
    outcome,
    formats: verifierFormats([
      ...outcome.attestations,
      ...Object.values(outcome.platforms ?? {}).flatMap((p) => p.attestations),
    ]),
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

/**
 * The platform manifests of the index at `digest`, by platform; undefined for a single manifest. Read from the
 * registry rather than a subject record: the digest pins the index, a record might be stale or edited.
 * BuildKit's attestation manifests are not platforms (readSubject leaves them out).
 */
async function platformManifests(store: ImageStore, name: string, digest: Digest) {
  const subject = await readSubject(store, name, digest);
  if (!isIndexMediaType(subject.mediaType)) return undefined;
  return subject.platforms;
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
  const cells = (a: AttestationCheck) => [
    a.predicateType ?? '—',
    a.location.kind,
    a.signer ?? '—',
    a.passed ? 'passed' : `**failed**: ${a.failure ?? ''}`,
  ];
  const platforms = record.outcome.platforms;
  let table: string;
  if (platforms === undefined) {
    const rows = record.outcome.attestations.map(cells);
    table = rows.length
      ? markdownTable(['predicate type', 'found in', 'signer', 'result'], rows)
      : 'No attestation was found.';
  } else {
    // An index whose SBOMs were looked for per platform: every platform gets a row, the ones with nothing too.
    const rows = record.outcome.attestations.map((a) => ['index', ...cells(a)]);
    for (const [platform, p] of Object.entries(platforms)) {
      const name = `${platform} \`${p.digest}\``;
      if (p.attestations.length === 0) rows.push([name, '—', '—', '—', '**nothing found**']);
      for (const a of p.attestations) rows.push([name, ...cells(a)]);
    }
    table = [
      `SBOM types looked for on each platform: ${(record.outcome.platformPredicateTypes ?? []).join(', ')}`,
      '',
      markdownTable(['about', 'predicate type', 'found in', 'signer', 'result'], rows),
    ].join('\n');
  }
  return [
    `### ${record.verified ? 'Verified' : '**Not verified**'}: ${record.subject.name}@${record.subject.digest}`,
    '',
    ...record.outcome.reasons.map((reason) => `- \`${reason.code}\` ${reason.message}`),
    '',
    table,
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
