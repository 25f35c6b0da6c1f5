import { createHash } from 'node:crypto';
import { canonicalJson } from '../core/canonical-json.js';
import type { Logger } from '../core/logger.js';
import type { Digest } from '../oci/types.js';
import type { StoredAttestation } from './stores.js';
import type { BundleJson, Statement } from './types.js';
import { describeLocation, verifyBundles } from './verify.js';

// Whether sign may skip signing because an equal attestation is already stored. A stored bundle is only
// bytes someone pushed: anyone who can write to the repository can plant one whose certificate names this
// workflow. So an attestation is reused only when (a) it carries the very statement this run would sign
// (same subjects, predicate type and predicate digest) and (b) its bundle verifies as this run's signer
// would sign it: signature, certificate chain to the trusted root, log entry or timestamp, identity.

/** Who this run signs as, the way a verifier would check it. */
export type SignerIdentity =
  | {
      kind: 'keyless';
      /** The certificate SAN this run gets: `<server URL>/<job_workflow_ref>`. */
      san: string;
      /** The GitHub web root the SAN starts with (shared/github/context.ts). */
      serverUrl: string;
      /** `owner/repo/.github/workflows/x.yml@ref`, the SAN without its host. */
      workflowRef: string;
      issuer: string;
    }
  | { kind: 'key'; hint: string; publicKeyPem: string };

/** The trusted root of the instance this run signs with, or why there is none. */
export type TrustedRootSource = () => Promise<{ root: object } | { reason: string }>;

export interface ReuseOptions {
  identity: SignerIdentity;
  trustedRoot: TrustedRootSource;
  /** What a bundle signed by this run carries: a log entry when it signs with Rekor, a timestamp when keyless. */
  tlogThreshold: number;
  timestampThreshold: number;
  logger: Logger;
}

/**
 * Decides reuse for one run. The trusted root is fetched at most once, and only when some stored
 * attestation carries the statement about to be signed, so a first run never fetches it.
 */
export class ReusePolicy {
  #root: Promise<{ root: object } | { reason: string }> | undefined;
  #saidWhyNot = false;

  constructor(private readonly options: ReuseOptions) {}

  /**
   * The stored attestations that are `statement`, signed by this run's signer, and verified; `subject` is
   * the manifest the statement is stored against (one of its subjects).
   */
  async reusable(found: StoredAttestation[], statement: Statement, subject: Digest): Promise<StoredAttestation[]> {
    const wanted = statementKey(statement);
    const same = found.filter(
      (f): f is StoredAttestation & { bundle: BundleJson } =>
        f.bundle !== undefined && bundleStatementKey(f.bundle) === wanted,
    );
    if (same.length === 0) return [];
    const { logger, identity } = this.options;
    this.#root ??= this.options.trustedRoot();
    const trust = await this.#root;
    if ('reason' in trust) {
      if (!this.#saidWhyNot) {
        logger.info(`Attestations already stored are not reused, so every statement is signed anew: ${trust.reason}`);
        this.#saidWhyNot = true;
      }
      return [];
    }
    const outcome = await verifyBundles({
      candidates: same.map(({ bundle, location }) => ({ bundle, location })),
      subjectDigest: subject,
      trustedRoot: trust.root,
      ...(identity.kind === 'keyless'
        ? { policy: { issuer: identity.issuer, serverUrl: identity.serverUrl, signerWorkflow: identity.workflowRef } }
        : { publicKeys: { [identity.hint]: identity.publicKeyPem } }),
      requiredPredicateTypes: [],
      tlogThreshold: this.options.tlogThreshold,
      timestampThreshold: this.options.timestampThreshold,
    });
    const expectedSigner = identity.kind === 'keyless' ? identity.san : identity.hint;
    const reusable: StoredAttestation[] = [];
    same.forEach((candidate, i) => {
      const check = outcome.attestations[i];
      // Exact equality on top of the policy's pattern: the SAN must be the one this run would get.
      if (check?.passed && check.location === candidate.location && check.signer === expectedSigner) {
        reusable.push(candidate);
        return;
      }
      logger.warning(
        `${describeLocation(candidate.location)} holds this ${statement.predicateType} statement but is not reused: ` +
          `${check?.failure ?? `it was signed by ${check?.signer ?? 'an unknown signer'}, not ${expectedSigner}`}.`,
      );
    });
    return reusable;
  }
}

/** What makes two statements the same attestation: subjects, predicate type and the predicate's digest. */
export function statementKey(statement: Pick<Statement, 'subject' | 'predicateType' | 'predicate'>): string {
  const subjects = statement.subject
    .map((s) => `${s.name}@sha256:${s.digest.sha256}`)
    .sort()
    .join(',');
  return `${statement.predicateType}\n${subjects}\n${predicateDigest(statement.predicate)}`;
}

/** sha256 of the predicate as canonical JSON (keys sorted, no whitespace), so key order does not matter. */
export function predicateDigest(predicate: unknown): Digest {
  return `sha256:${createHash('sha256').update(canonicalJson(predicate)).digest('hex')}` as Digest;
}

/** The statement key of a stored bundle's DSSE payload; undefined when it holds no readable statement. */
function bundleStatementKey(bundle: BundleJson): string | undefined {
  try {
    const envelope = (bundle as { dsseEnvelope?: { payload?: unknown } }).dsseEnvelope;
    if (typeof envelope?.payload !== 'string') return undefined;
    const payload = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as Partial<Statement>;
    if (!Array.isArray(payload.subject) || typeof payload.predicateType !== 'string') return undefined;
    const subjects = payload.subject.filter(
      (s) => typeof s?.name === 'string' && typeof s?.digest?.sha256 === 'string',
    );
    if (subjects.length !== payload.subject.length) return undefined;
    return statementKey({ subject: subjects, predicateType: payload.predicateType, predicate: payload.predicate });
  } catch {
    return undefined;
  }
}
