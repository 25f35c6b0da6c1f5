import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { X509Certificate } from '@sigstore/core';
import { GitHubClient } from '../github/client.js';
import { digestOf } from '../oci/digest.js';
import { createRegistryClient, type Login } from '../oci/login.js';
import { openReference } from '../oci/open.js';
import type { ImageReference } from '../oci/reference.js';
import { readSubject, type Subject } from '../oci/subject.js';
import type { Digest } from '../oci/types.js';
import { SlipwayError } from '../runner/errors.js';
import type { Runtime } from '../runner/runtime.js';
import { markdownTable } from '../runner/summary.js';
import { rfc3339Seconds } from '../time.js';
import { uploadAttestation } from './github-storage.js';
import { findBundles, storeBundleReferrer, storeCosignLegacy } from './oci-storage.js';
import { decodeClaims, isPrivateRepository, requestIdToken } from './oidc.js';
import { type KeylessOptions, type KeyOptions, signStatement } from './sign.js';
import { customPredicate, sbomPredicate, slsaProvenance, statement, statementSubjects } from './statement.js';
import {
  type BundleJson,
  PREDICATE_TYPES,
  type SignedAttestation,
  type Statement,
  type StorageLocation,
  type WorkflowClaims,
} from './types.js';

// The sign action's work for the runner and the CLI: build the statements, pick the Sigstore instance the
// repository's visibility calls for, sign each statement once (an equal attestation already stored is
// reused), and store it everywhere asked.

export type StorageKind = 'referrer' | 'github' | 'cosign-legacy';

export interface SigstoreEndpoints {
  fulcioUrl?: string;
  rekorUrl?: string;
  tsaUrl?: string;
}

export interface SignRequest {
  image?: ImageReference & { digest: Digest };
  /** A subject record, as the build action writes it (or its build.json). */
  subject?: Subject;
  platforms: boolean;
  provenance: boolean;
  sbomFiles: { path: string; format: 'cyclonedx' | 'spdx' }[];
  custom?: { predicateType: string; path: string };
  /** PEM private key; absent means keyless. */
  key?: string;
  storage: StorageKind[];
  /** From a signing config; override the defaults chosen by visibility. */
  endpoints?: SigstoreEndpoints;
  publicLog: 'auto' | 'true' | 'false';
  githubToken?: string;
  login?: Login;
}

export interface SignRuntime extends Runtime {
  now: () => Date;
}

export interface SignRecord {
  subject: Subject;
  signer: string;
  instance: { fulcioUrl?: string; rekorUrl?: string; tsaUrl?: string; publicLog: boolean };
  attestations: (Omit<SignedAttestation, 'bundle'> & { predicateType: string })[];
}

/** Sigstore instances as actions/attest picks them (signing.md, section 1). */
export const PUBLIC_GOOD: SigstoreEndpoints = {
  fulcioUrl: 'https://fulcio.sigstore.dev',
  rekorUrl: 'https://rekor.sigstore.dev',
};
export const GITHUB_INSTANCE: SigstoreEndpoints = {
  fulcioUrl: 'https://fulcio.githubapp.com',
  tsaUrl: 'https://timestamp.githubapp.com',
};

export async function runSign(request: SignRequest, runtime: SignRuntime): Promise<SignRecord> {
  const { env, logger, secrets } = runtime;
  const client = createRegistryClient({ login: request.login, env, logger, secrets, userAgent: 'slipway-sign' });
  const reference = request.image ?? imageOfSubject(request.subject!);
  const opened = await openReference(reference, { client, workspace: runtime.workspace });
  const subject = request.subject ?? (await readSubject(opened.store, opened.name, reference.digest));
  const top = await opened.store.resolve(subject.digest);
  if (!top)
    throw new SlipwayError(`${opened.name} has no manifest ${subject.digest}: push the image before attesting it.`);

  // The identity first: keyless needs the runner's token (and its claims name the signer); key-based signs as the key.
  let signing: KeylessOptions | KeyOptions;
  let claims: WorkflowClaims | undefined;
  let signer: string;
  let publicLog = false;
  if (request.key) {
    signing = { kind: 'key', privateKeyPem: request.key, ...endpointsFor(request.endpoints, ['rekorUrl', 'tsaUrl']) };
    signer = `key ${publicKeyHint(request.key)}`;
  } else {
    const token = await requestIdToken(env);
    secrets.add(token);
    claims = decodeClaims(token);
    const visibilityPublic = !isPrivateRepository(claims);
    publicLog = request.publicLog === 'true' || (request.publicLog === 'auto' && visibilityPublic);
    const instance = request.endpoints?.fulcioUrl ? request.endpoints : publicLog ? PUBLIC_GOOD : GITHUB_INSTANCE;
    signing = {
      kind: 'keyless',
      fulcioUrl: instance.fulcioUrl!,
      identityToken: async () => token,
      // The transparency log is public: it is used only when public-log resolves to true, whatever the config lists.
      ...(instance.rekorUrl && publicLog ? { rekorUrl: instance.rekorUrl } : {}),
      ...(instance.tsaUrl ? { tsaUrl: instance.tsaUrl } : {}),
    };
    signer = `https://github.com/${claims.job_workflow_ref}`;
  }

  const subjects = statementSubjects(subject, { platforms: request.platforms });
  const statements: Statement[] = [];
  if (request.provenance) {
    const provenanceClaims = claims ?? claimsFromEnvironment(env);
    statements.push(
      statement(
        subjects,
        PREDICATE_TYPES.slsaProvenance,
        slsaProvenance(provenanceClaims, {
          serverUrl: env.GITHUB_SERVER_URL || 'https://github.com',
          // The SBOMs attested beside it are byproducts of the build, the one place GitHub's consumers allow extras.
          sboms: request.sbomFiles.map((file) => ({
            name: basename(file.path),
            digest: digestOf(new Uint8Array(readFileSync(file.path))),
            mediaType: file.format === 'cyclonedx' ? 'application/vnd.cyclonedx+json' : 'application/spdx+json',
          })),
        }),
      ),
    );
  }
  for (const file of request.sbomFiles) {
    const { predicateType, predicate } = sbomPredicate(file.path, file.format);
    statements.push(statement(subjects, predicateType, predicate));
  }
  if (request.custom) {
    const { predicateType, predicate } = customPredicate(request.custom.predicateType, request.custom.path);
    statements.push(statement(subjects, predicateType, predicate));
  }
  if (statements.length === 0) {
    throw new SlipwayError('Nothing to attest: provenance is false and no sbom-files or predicate were given.');
  }

  const existing = request.storage.includes('referrer') ? await findBundles(opened.store, subject.digest) : [];
  const created = rfc3339Seconds(runtime.now());
  const attestations: SignRecord['attestations'] = [];
  for (const s of statements) {
    const reusable = existing.find((found) => sameAttestation(found.bundle, s, signer));
    if (reusable) {
      logger.info(`Reusing the ${s.predicateType} attestation already stored (${reusable.location.kind}).`);
      attestations.push(summaryOf(s, reusable.bundle, signer, [reusable.location], true));
      continue;
    }
    const bundle = await signStatement(s, signing);
    const stored: StorageLocation[] = [];
    if (request.storage.includes('referrer')) {
      const result = await storeBundleReferrer(opened.store, top, bundle, s.predicateType, created);
      stored.push({ kind: 'referrer', manifest: result.manifest, via: result.via });
    }
    if (request.storage.includes('cosign-legacy')) {
      const result = await storeCosignLegacy(opened.store, top, bundle);
      stored.push({ kind: 'cosign-legacy', tag: result.tag });
    }
    if (request.storage.includes('github')) {
      stored.push(await storeOnGitHub(bundle, request, env));
    }
    attestations.push(summaryOf(s, bundle, signer, stored, false));
  }
  const record: SignRecord = {
    subject,
    signer,
    instance: { ...(signing.kind === 'keyless' ? { fulcioUrl: signing.fulcioUrl } : {}), ...pick(signing), publicLog },
    attestations,
  };
  runtime.summary?.add(renderSignSummary(record));
  return record;
}

function pick(options: KeylessOptions | KeyOptions): { rekorUrl?: string; tsaUrl?: string } {
  return {
    ...(options.rekorUrl ? { rekorUrl: options.rekorUrl } : {}),
    ...(options.tsaUrl ? { tsaUrl: options.tsaUrl } : {}),
  };
}

function endpointsFor(endpoints: SigstoreEndpoints | undefined, keys: ('rekorUrl' | 'tsaUrl')[]) {
  const out: { rekorUrl?: string; tsaUrl?: string } = {};
  for (const key of keys) if (endpoints?.[key]) out[key] = endpoints[key];
  return out;
}

async function storeOnGitHub(
  bundle: BundleJson,
  request: SignRequest,
  env: Readonly<Record<string, string | undefined>>,
): Promise<StorageLocation> {
  const repository = env.GITHUB_REPOSITORY;
  if (!request.githubToken || !repository) {
    throw new SlipwayError(
      'storage github needs github-token and GITHUB_REPOSITORY; drop github from storage to store elsewhere only.',
    );
  }
  const [owner, repo] = repository.split('/') as [string, string];
  const github = new GitHubClient({
    token: request.githubToken,
    ...(env.GITHUB_API_URL ? { baseUrl: env.GITHUB_API_URL } : {}),
  });
  const { id, url } = await uploadAttestation(
    github,
    owner,
    repo,
    bundle,
    env.GITHUB_SERVER_URL || 'https://github.com',
  );
  return { kind: 'github', id, url };
}

function summaryOf(s: Statement, bundle: BundleJson, signer: string, stored: StorageLocation[], reused: boolean) {
  return {
    predicateType: s.predicateType,
    bundleDigest: digestOf(new TextEncoder().encode(JSON.stringify(bundle))),
    subjects: s.subject,
    signer,
    stored,
    reused,
  };
}

/** An attestation already stored counts as this one when it names the same predicate type, subjects and signer. */
function sameAttestation(bundle: BundleJson, s: Statement, signer: string): boolean {
  try {
    const envelope = (bundle as { dsseEnvelope?: { payload?: string } }).dsseEnvelope;
    if (!envelope?.payload) return false;
    const payload = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as Statement;
    const digests = (list: Statement['subject']) =>
      list
        .map((x) => `${x.name}@${x.digest.sha256}`)
        .sort()
        .join(',');
    return (
      payload.predicateType === s.predicateType &&
      digests(payload.subject) === digests(s.subject) &&
      signerOf(bundle) === signer
    );
  } catch {
    return false;
  }
}

/** The SAN of a keyless bundle's certificate, or `key <hint>` for a key-based one. */
export function signerOf(bundle: BundleJson): string | undefined {
  const material = (
    bundle as { verificationMaterial?: { certificate?: { rawBytes?: string }; publicKey?: { hint?: string } } }
  ).verificationMaterial;
  if (material?.publicKey?.hint) return `key ${material.publicKey.hint}`;
  const raw = material?.certificate?.rawBytes;
  if (!raw) return undefined;
  const certificate = X509Certificate.parse(Buffer.from(raw, 'base64'));
  return certificate.subjectAltName;
}

/** The hint sign.ts gives a key: base64 of the sha256 of the public key's SPKI DER. */
function publicKeyHint(privateKeyPem: string): string {
  const spki = createPublicKey(createPrivateKey(privateKeyPem)).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/** Provenance for key-based signing, where there is no OIDC token: the same facts, from the runner's environment. */
export function claimsFromEnvironment(env: Readonly<Record<string, string | undefined>>): WorkflowClaims {
  const need = (name: string) => {
    const value = env[name];
    if (!value)
      throw new SlipwayError(
        `Provenance needs ${name}, which the runner sets; run in GitHub Actions or set provenance: false.`,
      );
    return value;
  };
  const repository = need('GITHUB_REPOSITORY');
  const workflowRef = need('GITHUB_WORKFLOW_REF');
  return {
    iss: 'https://token.actions.githubusercontent.com',
    sub: `repo:${repository}:ref:${need('GITHUB_REF')}`,
    repository,
    repository_id: env.GITHUB_REPOSITORY_ID ?? '',
    repository_owner: env.GITHUB_REPOSITORY_OWNER ?? repository.split('/')[0]!,
    repository_owner_id: env.GITHUB_REPOSITORY_OWNER_ID ?? '',
    ref: need('GITHUB_REF'),
    sha: need('GITHUB_SHA'),
    event_name: need('GITHUB_EVENT_NAME'),
    workflow_ref: workflowRef,
    job_workflow_ref: workflowRef,
    runner_environment: env.RUNNER_ENVIRONMENT ?? 'github-hosted',
    run_id: need('GITHUB_RUN_ID'),
    run_attempt: env.GITHUB_RUN_ATTEMPT ?? '1',
  };
}

function imageOfSubject(subject: Subject): ImageReference & { digest: Digest } {
  const name = subject.name;
  if (name.startsWith('oci-layout:'))
    return { kind: 'layout', path: name.slice('oci-layout:'.length), digest: subject.digest };
  const slash = name.indexOf('/');
  return {
    kind: 'registry',
    registry: name.slice(0, slash),
    repository: name.slice(slash + 1),
    digest: subject.digest,
  };
}

export function readSubjectFile(path: string): Subject {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as { subject?: Subject } & Partial<Subject>;
  const subject = parsed.subject ?? (parsed as Subject);
  if (!subject?.name || !subject?.digest) {
    throw new SlipwayError(
      `${path} is neither a build record nor a subject record: it has no subject name and digest.`,
    );
  }
  return subject;
}

export function renderSignSummary(record: SignRecord): string {
  const rows = record.attestations.map((a) => [
    a.predicateType,
    `\`${a.bundleDigest}\``,
    a.stored
      .map((s) =>
        s.kind === 'referrer'
          ? `referrer (${s.via})`
          : s.kind === 'github'
            ? `GitHub ${s.url ?? ''}`
            : `cosign ${s.tag}`,
      )
      .join(', '),
    a.reused ? 'reused' : 'signed',
  ]);
  return [
    `### Attested ${record.subject.name}@${record.subject.digest}`,
    '',
    `Signer: \`${record.signer}\`${record.instance.publicLog ? ' (public transparency log)' : ''}`,
    '',
    markdownTable(['predicate type', 'bundle', 'stored', ''], rows),
  ].join('\n');
}
