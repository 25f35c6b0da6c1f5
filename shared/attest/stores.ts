import { SlipwayError } from '../core/errors.js';
import { type Logger, silentLogger } from '../core/logger.js';
import { rfc3339Seconds } from '../core/time.js';
import { githubContext } from '../github/context.js';
import { createOctokit, type SlipwayOctokit } from '../github/octokit.js';
import type { ImageStore } from '../oci/store.js';
import type { Descriptor, Digest } from '../oci/types.js';
import { listAttestations, uploadAttestation } from './github-storage.js';
import { findBundles, findLegacyAttestations, storeBundleReferrer, storeCosignLegacy } from './oci-storage.js';
import type { BundleJson, Statement, StorageLocation } from './types.js';

// Where attestations live, each place behind one small interface (as @sigstore/sign puts Rekor and a TSA
// behind `Witness`): sign stores into and reuses from every store the user listed, verify gathers from
// them, and neither branches on which kinds they are. The formats themselves are in oci-storage.ts and
// github-storage.ts; this file only adapts them.

export type StoreKind = 'referrer' | 'github' | 'cosign-legacy';

/** One attestation a store holds for a subject manifest. */
export interface StoredAttestation {
  location: StorageLocation;
  /**
   * The Sigstore bundle, to be verified before anything trusts it. Absent where the store keeps the
   * attestation in a form that cannot be turned back into a bundle (cosign's legacy `.att` layers): such an
   * entry is listed, never verified, never reused.
   */
  bundle?: BundleJson;
}

export interface AttestationStore {
  /** Every attestation this store holds for the manifest `subject`. Nothing is verified here. */
  find(subject: Digest): Promise<StoredAttestation[]>;
  /**
   * Stores `bundle` (whose DSSE payload is `statement`) as an attestation of the manifest `subject`, and
   * says where. Stores that can tell (registry ones) do not store the same bundle twice.
   */
  store(bundle: BundleJson, statement: Statement, subject: Descriptor): Promise<StorageLocation>;
}

export interface StoreContext {
  /** The registry repository or OCI layout that holds the image. */
  images: ImageStore;
  env: Readonly<Record<string, string | undefined>>;
  /** The input that listed the kinds (`storage` for sign, `sources` for verify), for messages. */
  input: string;
  githubToken?: string;
  /** owner/name whose attestations API the github store uses. */
  repository?: string;
  /** The creation time written on referrer manifests; one per run, so that a run's referrers agree. */
  now?: () => Date;
  /** Where the GitHub client tells of rate-limit waits and retries. */
  logger?: Logger;
}

/** The order stores are used in, whatever order the user listed them: registry first, the API last. */
const ORDER: readonly StoreKind[] = ['referrer', 'cosign-legacy', 'github'];

/** The stores `kinds` names, each once, in a fixed order. Fails before anything is signed when one cannot work. */
export function openStores(kinds: readonly StoreKind[], context: StoreContext): AttestationStore[] {
  return ORDER.filter((kind) => kinds.includes(kind)).map((kind) => OPENERS[kind](context));
}

const OPENERS: Record<StoreKind, (context: StoreContext) => AttestationStore> = {
  referrer: referrerStore,
  'cosign-legacy': cosignLegacyStore,
  github: githubStore,
};

/** OCI 1.1 referrers (with the tag-schema fallback): what cosign v3, gh --bundle-from-oci and Kyverno read. */
export function referrerStore({ images, now = () => new Date() }: StoreContext): AttestationStore {
  const created = rfc3339Seconds(now());
  return {
    async find(subject) {
      return (await findBundles(images, subject)).map(({ bundle, location }) => ({ bundle, location }));
    },
    async store(bundle, statement, subject) {
      const stored = await storeBundleReferrer(images, subject, bundle, statement.predicateType, created);
      return { kind: 'referrer', manifest: stored.manifest, via: stored.via };
    },
  };
}

/** cosign's legacy `sha256-<hex>.att` tag: what cosign ≤2, Kyverno's Cosign type and policy-controller read. */
export function cosignLegacyStore({ images }: StoreContext): AttestationStore {
  return {
    async find(subject) {
      return (await findLegacyAttestations(images, subject)).map(({ location }) => ({ location }));
    },
    async store(bundle, _statement, subject) {
      const { tag } = await storeCosignLegacy(images, subject, bundle);
      return { kind: 'cosign-legacy', tag };
    },
  };
}

/** GitHub's artifact attestations API: what `gh attestation verify` reads by default. */
export function githubStore({ env, input, githubToken, repository, logger }: StoreContext): AttestationStore {
  if (!githubToken || !repository) {
    throw new SlipwayError(
      `${input} github needs github-token and a repository (owner/name, GITHUB_REPOSITORY on the runner); ` +
        `drop github from ${input} to use the other places only.`,
    );
  }
  const [owner, repo] = repository.split('/') as [string, string];
  // API root and web root from the one GitHub context, so GHES and GHE.com runs call their own host.
  const context = githubContext(env);
  // Made on first use: Octokit is loaded only when a GitHub call is about to happen.
  let octokit: Promise<SlipwayOctokit> | undefined;
  const client = () => (octokit ??= createOctokit({ token: githubToken, context, logger: logger ?? silentLogger }));
  return {
    async find(subject) {
      return (await listAttestations(await client(), owner, repo, subject)).map((bundle) => ({
        bundle,
        location: { kind: 'github' },
      }));
    },
    async store(bundle) {
      const { id, url } = await uploadAttestation(await client(), owner, repo, bundle, context.serverUrl);
      return { kind: 'github', id, url };
    },
  };
}
