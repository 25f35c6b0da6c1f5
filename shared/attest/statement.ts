import { readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { InvalidValueError, SlipwayError, showValue } from '../core/errors.js';
import { digestAlgorithm, digestHex, parseDigest } from '../oci/digest.js';
import { parseImageReference } from '../oci/reference.js';
import type { Subject } from '../oci/subject.js';
import type { Digest } from '../oci/types.js';
import type { SbomFormat } from '../sbom/sbom.js';
import {
  PREDICATE_TYPES,
  STATEMENT_TYPE,
  type Statement,
  type StatementSubject,
  type WorkflowClaims,
} from './types.js';

// In-toto statements and the predicates Slipway signs. Everything here is shaped to be read by the
// verifiers users already have: subjects named as GitHub names container subjects, and provenance in
// exactly the shape actions/attest emits, so that `gh attestation verify` and policies written against
// GitHub's own attestations accept ours unchanged.

/** GitHub's SLSA build type for a workflow run (what @actions/attest emits, not the buildtypes README's URI). */
export const GITHUB_WORKFLOW_BUILD_TYPE = 'https://actions.github.io/buildtypes/workflow/v1';

/**
 * The largest predicate accepted: actions/attest's cap. Public Rekor also rejects large bodies at its
 * load balancer (sigstore/rekor#2915), so a bigger SBOM would fail late, after the token was spent.
 */
export const MAX_PREDICATE_BYTES = 16 * 1024 * 1024;

const HEX_SHA256 = /^[0-9a-f]{64}$/;

export interface StatementSubjectOptions {
  /** Also name each platform manifest, so a verifier given a single platform's digest finds the statement. */
  platforms: boolean;
}

/**
 * The in-toto subjects for an image: the index (or single manifest) first, then with `platforms` each
 * platform manifest. Attestation manifests that BuildKit puts into an index are never subjects.
 *
 * Names: a registry image is `registry/repository`, lower-cased, without tag or digest
 * (`ghcr.io/acme/api`; Docker Hub's canonical `docker.io/library/nginx`, not the familiar `nginx`, so
 * that one image has one name). An OCI layout has no repository name, and its absolute path would
 * leak the runner's file system into a signed, possibly public, statement; the directory's base name
 * stands in, as actions/attest names file subjects by their base name.
 */
export function statementSubjects(subject: Subject, options: StatementSubjectOptions): StatementSubject[] {
  const name = subjectName(subject.name);
  const subjects: StatementSubject[] = [{ name, digest: { sha256: sha256Hex(subject.digest, subject.name) } }];
  if (!options.platforms) return subjects;
  // Defensive: Subject already lists attestation manifests apart, but a record built by hand might not.
  const attestations = new Set<string>(Object.values(subject.attestationManifests ?? {}));
  const seen = new Set<string>([subject.digest]);
  for (const digest of Object.values(subject.platforms)) {
    // A single-platform image lists its own digest as its one platform: name it once.
    if (seen.has(digest) || attestations.has(digest)) continue;
    seen.add(digest);
    subjects.push({ name, digest: { sha256: sha256Hex(digest, subject.name) } });
  }
  return subjects;
}

function subjectName(text: string): string {
  const ref = parseImageReference(text);
  if (ref.kind === 'layout') return basename(resolve(ref.path)).toLowerCase();
  return `${ref.registry}/${ref.repository}`.toLowerCase();
}

function sha256Hex(digest: Digest, name: string): string {
  const hex = digestHex(digest);
  // GitHub's attestation store and registry-attached attestations index subjects by sha256 only.
  if (digestAlgorithm(digest) !== 'sha256' || !HEX_SHA256.test(hex)) {
    throw new SlipwayError(
      `${name}@${digest} cannot be an attestation subject: only sha256 digests are supported (GitHub and OCI referrers look subjects up by sha256).`,
    );
  }
  return hex;
}

/** An in-toto Statement v1, keys in the order GitHub writes them. */
export function statement(subjects: StatementSubject[], predicateType: string, predicate: unknown): Statement {
  // A statement about nothing verifies against anything that lists no subject; refuse to sign one.
  if (subjects.length === 0) throw new SlipwayError('An in-toto statement needs at least one subject.');
  return { _type: STATEMENT_TYPE, subject: subjects, predicateType, predicate };
}

// ---------------------------------------------------------------------------------------------------
// SLSA provenance

/** An SLSA ResourceDescriptor with a digest set, as used in resolvedDependencies and byproducts. */
export interface ResourceDescriptor {
  uri?: string;
  name?: string;
  digest: Record<string, string>;
  mediaType?: string;
}

export interface SlsaProvenancePredicate {
  buildDefinition: {
    buildType: string;
    externalParameters: { workflow: { ref: string; repository: string; path: string } };
    internalParameters: {
      github: { event_name: string; repository_id: string; repository_owner_id: string; runner_environment: string };
    };
    resolvedDependencies: ResourceDescriptor[];
  };
  runDetails: {
    builder: { id: string };
    metadata: { invocationId: string; startedOn?: string; finishedOn?: string };
    byproducts?: ResourceDescriptor[];
  };
}

export interface SlsaProvenanceOptions {
  /** The run's GitHub web root (githubContext(env).serverUrl): https://github.com, a GHE.com tenant or a GHES host. */
  serverUrl: string;
  /** RFC 3339. */
  startedOn?: string;
  finishedOn?: string;
  /** Base images the build resolved, e.g. `{uri: 'pkg:docker/debian@12?repository_url=…', digest: 'sha256:…'}`. */
  baseImages?: { uri: string; digest: string }[];
  /** SBOM documents produced alongside the image. */
  sboms?: { name: string; digest: string; mediaType: string }[];
}

/**
 * The SLSA v1 provenance predicate for this workflow run, in exactly the shape @actions/attest's
 * buildSLSAProvenancePredicate emits (key order included: some policies compare canonical JSON, and
 * readers diff ours against GitHub's). Slipway's additions go only where the build type allows extra
 * data without changing meaning: further resolvedDependencies, metadata times and byproducts.
 */
export function slsaProvenance(claims: WorkflowClaims, options: SlsaProvenanceOptions): SlsaProvenancePredicate {
  const server = options.serverUrl.replace(/\/+$/, '');
  // `owner/repo/.github/workflows/release.yml@refs/tags/v1.2.3` → path and ref. The ref is re-joined on
  // '@' because tags may contain one (changesets' `pkg@1.2.3`), as GitHub does.
  const [path = '', ...refParts] = claims.workflow_ref.replace(`${claims.repository}/`, '').split('@');
  const workflowRef = refParts.join('@');

  const predicate: SlsaProvenancePredicate = {
    buildDefinition: {
      buildType: GITHUB_WORKFLOW_BUILD_TYPE,
      externalParameters: {
        workflow: {
          ref: workflowRef,
          repository: `${server}/${claims.repository}`,
          path,
        },
      },
      internalParameters: {
        github: {
          event_name: claims.event_name,
          repository_id: claims.repository_id,
          repository_owner_id: claims.repository_owner_id,
          runner_environment: claims.runner_environment,
        },
      },
      resolvedDependencies: [
        {
          uri: `git+${server}/${claims.repository}@${claims.ref}`,
          digest: {
            gitCommit: claims.sha,
          },
        },
        ...(options.baseImages ?? []).map((image) => ({
          uri: image.uri,
          digest: digestSet(image.digest, `base image ${image.uri}`),
        })),
      ],
    },
    runDetails: {
      builder: {
        id: `${server}/${claims.job_workflow_ref}`,
      },
      metadata: {
        invocationId: `${server}/${claims.repository}/actions/runs/${claims.run_id}/attempts/${claims.run_attempt}`,
        ...(options.startedOn !== undefined ? { startedOn: options.startedOn } : {}),
        ...(options.finishedOn !== undefined ? { finishedOn: options.finishedOn } : {}),
      },
    },
  };
  if (options.sboms && options.sboms.length > 0) {
    predicate.runDetails.byproducts = options.sboms.map((sbom) => ({
      name: sbom.name,
      digest: digestSet(sbom.digest, `SBOM ${sbom.name}`),
      mediaType: sbom.mediaType,
    }));
  }
  return predicate;
}

/** `sha256:abc…` → `{sha256: 'abc…'}`, the in-toto DigestSet form. */
function digestSet(text: string, what: string): Record<string, string> {
  let digest: Digest;
  try {
    digest = parseDigest(text);
  } catch (error) {
    if (error instanceof InvalidValueError) {
      const wrapped = new SlipwayError(`The digest of ${what} is not valid: ${error.message}`);
      wrapped.cause = error;
      throw wrapped;
    }
    throw error;
  }
  return { [digestAlgorithm(digest)]: digestHex(digest) };
}

// ---------------------------------------------------------------------------------------------------
// SBOM and custom predicates

export interface Predicate {
  predicateType: string;
  predicate: Record<string, unknown>;
}

/**
 * An SBOM document as the predicate of its own statement. The SPDX predicate type carries the
 * document's version, as GitHub writes it (`SPDX-2.3` → `https://spdx.dev/Document/v2.3`); cosign's
 * bare `https://spdx.dev/Document` is for verifiers to accept, not for us to emit.
 */
export function sbomPredicate(path: string, format: SbomFormat): Predicate {
  const document = readPredicateFile(path, 'SBOM');
  if (format === 'cyclonedx') {
    if (document.bomFormat !== 'CycloneDX' || typeof document.specVersion !== 'string') {
      throw new SlipwayError(
        `${path} is not a CycloneDX JSON document (it has no "bomFormat": "CycloneDX" and "specVersion"); check the SBOM format.`,
      );
    }
    return { predicateType: PREDICATE_TYPES.cyclonedx, predicate: document };
  }
  const version = typeof document.spdxVersion === 'string' ? /^SPDX-(\d+\.\d+)$/.exec(document.spdxVersion) : null;
  if (!version) {
    const found =
      typeof document.spdxVersion === 'string'
        ? `"spdxVersion" ${showValue(document.spdxVersion)}`
        : 'no "spdxVersion"';
    throw new SlipwayError(
      `${path} is not an SPDX 2.x JSON document (it has ${found}; expected e.g. "SPDX-2.3"); check the SBOM format.`,
    );
  }
  return { predicateType: `https://spdx.dev/Document/v${version[1]}`, predicate: document };
}

/** A user's own predicate from a JSON file, under a predicate type they name. */
export function customPredicate(predicateType: string, path: string): Predicate {
  if (!isAbsoluteUri(predicateType)) {
    throw new InvalidValueError(
      'predicate type',
      predicateType,
      'an absolute URI such as https://example.com/attestations/review/v1',
      // Verifiers match predicate types as exact strings; a bare word would collide with anyone else's.
      'predicate types are URIs so that they cannot collide',
    );
  }
  return { predicateType, predicate: readPredicateFile(path, 'predicate') };
}

function isAbsoluteUri(text: string): boolean {
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$/.test(text)) return false;
  return URL.canParse(text);
}

function readPredicateFile(path: string, what: string): Record<string, unknown> {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (error) {
    const wrapped = new SlipwayError(`Cannot read the ${what} file ${path}: ${(error as Error).message}`);
    wrapped.cause = error;
    throw wrapped;
  }
  // Checked before reading so a 500 MB SBOM is refused without being loaded.
  if (size > MAX_PREDICATE_BYTES) {
    throw new SlipwayError(
      `The ${what} file ${path} is ${formatMiB(size)}, over the 16 MiB a signed predicate may be (actions/attest's limit; the public Rekor log refuses large entries). Attest a digest instead: attach the document as an OCI referrer or release asset and sign a statement that names its sha256.`,
    );
  }
  const text = readFileSync(path, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const wrapped = new SlipwayError(`The ${what} file ${path} is not valid JSON: ${(error as Error).message}`);
    wrapped.cause = error;
    throw wrapped;
  }
  // in-toto requires the predicate to be a JSON object.
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SlipwayError(`The ${what} file ${path} must hold a JSON object.`);
  }
  return parsed as Record<string, unknown>;
}

function formatMiB(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
