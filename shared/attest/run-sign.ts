import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { SlipwayError } from '../core/errors.js';
import { markdownTable } from '../core/markdown.js';
import type { Runtime } from '../core/runtime.js';
import { githubContext } from '../github/context.js';
import { digestOf } from '../oci/digest.js';
import { createRegistryClient, type Login } from '../oci/login.js';
import { openReference } from '../oci/open.js';
import type { ImageReference } from '../oci/reference.js';
import type { ImageStore } from '../oci/store.js';
import { readSubject, type Subject } from '../oci/subject.js';
import type { Timeouts } from '../oci/timeouts.js';
import type { Descriptor, Digest } from '../oci/types.js';
import { decodeClaims, isPrivateRepository, requestIdToken } from './oidc.js';
import { ReusePolicy, type SignerIdentity, type TrustedRootSource } from './reuse.js';
import { type KeylessOptions, type KeyOptions, keyHint, readSigningKey, signStatement } from './sign.js';
import { customPredicate, sbomPredicate, slsaProvenance, statement, statementSubjects } from './statement.js';
import { openStores, type StoredAttestation, type StoreKind } from './stores.js';
import { EMPTY_TRUSTED_ROOT, fetchPublicGoodTrustedRoot } from './trusted-root.js';
import {
  type BundleJson,
  PREDICATE_TYPES,
  type SignedAttestation,
  type Statement,
  type StorageLocation,
  type WorkflowClaims,
} from './types.js';
import { describeLocation } from './verify.js';

// The sign action's work for the runner and the CLI: build the statements, pick the Sigstore instance the
// repository's visibility calls for, sign each statement once (an identical attestation already stored,
// whose bundle verifies as this signer's, is reused: reuse.ts), and store it in every store asked.

export type StorageKind = StoreKind;

export interface SigstoreEndpoints {
  fulcioUrl?: string;
  rekorUrl?: string;
  tsaUrl?: string;
}

export interface SbomFileRequest {
  path: string;
  format: 'cyclonedx' | 'spdx';
  /**
   * The platform manifest the SBOM describes (the sbom action's `files` output says so): the SBOM is then
   * attested about that manifest alone and stored as its referrer. Absent: about the image as a whole.
   */
  manifestDigest?: Digest;
}

export interface SignRequest {
  image?: ImageReference & { digest: Digest };
  /** A subject record, as the build action writes it (or its build.json). */
  subject?: Subject;
  platforms: boolean;
  provenance: boolean;
  sbomFiles: SbomFileRequest[];
  custom?: { predicateType: string; path: string };
  /** PEM private key; absent means keyless. */
  key?: string;
  storage: StorageKind[];
  /** From a signing config; override the defaults chosen by visibility. */
  endpoints?: SigstoreEndpoints;
  /**
   * The trusted root (parsed JSON) of the Sigstore instance signing here, to verify attestations already
   * stored before reusing them. Without it only the public-good instance's root can be had (through TUF).
   */
  trustedRoot?: object;
  publicLog: 'auto' | 'true' | 'false';
  githubToken?: string;
  login?: Login;
  /** Connect and idle timeouts for Slipway's registry requests; unset ones keep the defaults (shared/oci/timeouts.ts). */
  registryTimeouts?: Partial<Timeouts>;
}

export interface SignRuntime extends Runtime {
  now: () => Date;
  /** The public-good trusted root; by default fetched through Sigstore's TUF repository. */
  publicGoodTrustedRoot?: () => Promise<object>;
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

/** One statement to sign and the manifest it is stored against (the index, or one platform's manifest). */
interface Planned {
  statement: Statement;
  subject: Descriptor;
}

export async function runSign(request: SignRequest, runtime: SignRuntime): Promise<SignRecord> {
  const { env, logger, secrets } = runtime;
  // A bad key is the user's to fix, and is said before anything touches the network.
  const privateKey = request.key === undefined ? undefined : readSigningKey(request.key);
  const client = createRegistryClient({
    login: request.login,
    env,
    logger,
    secrets,
    userAgent: 'slipway-sign',
    timeouts: request.registryTimeouts,
  });
  const reference = request.image ?? imageOfSubject(request.subject!);
  const opened = await openReference(reference, { client, workspace: runtime.workspace });
  const subject = request.subject ?? (await readSubject(opened.store, opened.name, reference.digest));
  const top = await opened.store.resolve(subject.digest);
  if (!top)
    throw new SlipwayError(`${opened.name} has no manifest ${subject.digest}: push the image before attesting it.`);

  // The identity first: keyless needs the runner's token (and its claims name the signer); key-based signs as the key.
  let signing: KeylessOptions | KeyOptions;
  let claims: WorkflowClaims | undefined;
  let identity: SignerIdentity;
  let publicLog = false;
  let publicGood = false;
  if (request.key !== undefined && privateKey !== undefined) {
    signing = { kind: 'key', privateKeyPem: request.key, ...endpointsFor(request.endpoints, ['rekorUrl', 'tsaUrl']) };
    const publicKey = createPublicKey(privateKey);
    identity = {
      kind: 'key',
      hint: keyHint(publicKey.export({ type: 'spki', format: 'der' })),
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    };
  } else {
    const token = await requestIdToken(env);
    secrets.add(token);
    claims = decodeClaims(token);
    const visibilityPublic = !isPrivateRepository(claims);
    publicLog = request.publicLog === 'true' || (request.publicLog === 'auto' && visibilityPublic);
    const instance = request.endpoints?.fulcioUrl ? request.endpoints : publicLog ? PUBLIC_GOOD : GITHUB_INSTANCE;
    publicGood = instance === PUBLIC_GOOD;
    signing = {
      kind: 'keyless',
      fulcioUrl: instance.fulcioUrl!,
      identityToken: async () => token,
      // The transparency log is public: it is used only when public-log resolves to true, whatever the config lists.
      ...(instance.rekorUrl && publicLog ? { rekorUrl: instance.rekorUrl } : {}),
      ...(instance.tsaUrl ? { tsaUrl: instance.tsaUrl } : {}),
    };
    identity = {
      kind: 'keyless',
      // Fulcio names the workflow under this host's web root (github.com, a GHE.com tenant, a GHES host).
      san: `${githubContext(env).serverUrl}/${claims.job_workflow_ref}`,
      serverUrl: githubContext(env).serverUrl,
      workflowRef: claims.job_workflow_ref,
      issuer: claims.iss,
    };
  }
  const signer = identity.kind === 'keyless' ? identity.san : `key ${identity.hint}`;

  const planned: Planned[] = [];
  const subjects = statementSubjects(subject, { platforms: request.platforms });
  const aboutImage = (predicateType: string, predicate: unknown) =>
    planned.push({ statement: statement(subjects, predicateType, predicate), subject: top });
  if (request.provenance) {
    const provenanceClaims = claims ?? claimsFromEnvironment(env);
    aboutImage(
      PREDICATE_TYPES.slsaProvenance,
      slsaProvenance(provenanceClaims, {
        serverUrl: githubContext(env).serverUrl,
        // The SBOMs attested beside it are byproducts of the build, the one place GitHub's consumers allow extras.
        sboms: request.sbomFiles.map((file) => ({
          name: basename(file.path),
          digest: digestOf(new Uint8Array(readFileSync(file.path))),
          mediaType: file.format === 'cyclonedx' ? 'application/vnd.cyclonedx+json' : 'application/spdx+json',
        })),
      }),
    );
  }
  for (const file of request.sbomFiles) {
    const { predicateType, predicate } = sbomPredicate(file.path, file.format);
    if (file.manifestDigest === undefined || file.manifestDigest === subject.digest) {
      aboutImage(predicateType, predicate);
      continue;
    }
    // One platform's SBOM describes that platform's manifest, and only it: a verifier given the amd64
    // digest must not be handed the arm64 inventory, nor the index's subject list.
    const manifest = await platformManifest(opened.store, subject, file.manifestDigest, file.path);
    const platformSubjects = statementSubjects(
      { ...subject, digest: manifest.digest, platforms: {} },
      { platforms: false },
    );
    planned.push({ statement: statement(platformSubjects, predicateType, predicate), subject: manifest });
  }
  if (request.custom) {
    const { predicateType, predicate } = customPredicate(request.custom.predicateType, request.custom.path);
    aboutImage(predicateType, predicate);
  }
  if (planned.length === 0) {
    throw new SlipwayError('Nothing to attest: provenance is false and no sbom-files or predicate were given.');
  }

  const stores = openStores(request.storage, {
    images: opened.store,
    env,
    input: 'storage',
    logger,
    ...(request.githubToken ? { githubToken: request.githubToken } : {}),
    ...(env.GITHUB_REPOSITORY ? { repository: env.GITHUB_REPOSITORY } : {}),
    now: runtime.now,
  });
  const reuse = new ReusePolicy({
    identity,
    trustedRoot: trustedRootFor(request, signing, publicGood, runtime),
    // What this run's own bundles carry: a log entry when it logs, a timestamp (TSA or log time) when keyless.
    tlogThreshold: signing.rekorUrl ? 1 : 0,
    timestampThreshold: signing.kind === 'keyless' ? 1 : 0,
    logger,
  });
  // What each store holds, per manifest; dropped once something is stored there.
  const held = new Map<Digest, StoredAttestation[][]>();
  const holdings = async (digest: Digest) => {
    let found = held.get(digest);
    if (!found) {
      found = [];
      for (const store of stores) found.push(await store.find(digest));
      held.set(digest, found);
    }
    return found;
  };

  const attestations: SignRecord['attestations'] = [];
  for (const { statement: s, subject: target } of planned) {
    const found = await holdings(target.digest);
    const reusable = await reuse.reusable(found.flat(), s, target.digest);
    const bundle = reusable[0]?.bundle ?? (await signStatement(s, signing));
    const stored: StorageLocation[] = [];
    for (const [i, store] of stores.entries()) {
      // A store that already holds a verified copy keeps it; the others get the bundle (again, for a reuse).
      const own = found[i]!.find((f) => reusable.includes(f));
      if (own) {
        stored.push(own.location);
      } else {
        stored.push(await store.store(bundle, s, target));
        held.delete(target.digest);
      }
    }
    if (reusable.length > 0) {
      logger.info(
        `Reusing the ${s.predicateType} attestation of ${target.digest} already stored (${reusable[0]!.location.kind}).`,
      );
    }
    attestations.push(summaryOf(s, bundle, signer, stored, reusable.length > 0));
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

/** The manifest of one of `subject`'s platforms, by digest; anything else is not this image's. */
async function platformManifest(
  store: ImageStore,
  subject: Subject,
  digest: Digest,
  path: string,
): Promise<Descriptor> {
  const known = Object.entries(subject.platforms).find(([, d]) => d === digest);
  if (!known) {
    throw new SlipwayError(
      `The SBOM ${path} describes the manifest ${digest}, which is not ${subject.name}@${subject.digest} nor one ` +
        `of its platforms (${Object.entries(subject.platforms)
          .map(([p, d]) => `${p} ${d}`)
          .join(', ')}): it belongs to another image.`,
    );
  }
  const descriptor = await store.resolve(digest);
  if (!descriptor) throw new SlipwayError(`${store.location} has no manifest ${digest} (${known[0]}) to attest.`);
  return descriptor;
}

/**
 * The trusted root that attestations already stored must chain to before they are reused: the one given,
 * the public-good root when signing there, nothing to check against for a key without log or timestamp
 * (the key is its own anchor), and otherwise none, so that nothing is reused.
 */
function trustedRootFor(
  request: SignRequest,
  signing: KeylessOptions | KeyOptions,
  publicGood: boolean,
  runtime: SignRuntime,
): TrustedRootSource {
  return async () => {
    if (request.trustedRoot) return { root: request.trustedRoot };
    if (signing.kind === 'key') {
      // A key is its own anchor: with no log entry or timestamp to check, a root that trusts nothing is enough.
      if (!signing.rekorUrl && !signing.tsaUrl) return { root: EMPTY_TRUSTED_ROOT };
      return {
        reason:
          'the signing config names a transparency log or timestamp authority, whose entries cannot be checked ' +
          'without its trusted root; give trusted-root to reuse them.',
      };
    }
    if (!publicGood) {
      return {
        reason:
          `no trusted root is known for the Sigstore instance at ${signing.fulcioUrl}; give trusted-root ` +
          '(the instance’s trusted_root.json) to reuse them.',
      };
    }
    const fetchRoot =
      runtime.publicGoodTrustedRoot ??
      (() => fetchPublicGoodTrustedRoot({ cachePath: join(runtime.env.RUNNER_TEMP || tmpdir(), 'slipway-tuf') }));
    try {
      return { root: await fetchRoot() };
    } catch (error) {
      // Not fatal: signing anew is always safe, only not idempotent.
      return { reason: error instanceof Error ? error.message : String(error) };
    }
  };
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
    iss: githubContext(env).actionsIssuer,
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

export function renderSignSummary(record: SignRecord): string {
  const rows = record.attestations.map((a) => [
    a.predicateType,
    `\`${a.bundleDigest}\``,
    a.stored.map(describeLocation).join(', '),
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
