import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SignRuntime } from '../../attest/run-sign.js';
import { SlipwayError } from '../../core/errors.js';
import type { Login } from '../../oci/login.js';
import { type ImageReference, parsePinnedReference } from '../../oci/reference.js';
import type { Timeouts } from '../../oci/timeouts.js';
import type { Digest } from '../../oci/types.js';
import type { EvidenceResult, TestEvidence } from '../types.js';

// The evidence record as a signed in-toto attestation about the image, and the test results as an in-toto
// test-result attestation, both through sign's own machinery (shared/attest/run-sign.ts): the same keyless or key
// signing, the same stores (registry referrers, GitHub's attestations API), the same reuse of an identical
// attestation already stored. Promote reads the evidence attestation back (gitops/evidence-gate.ts), verified against
// the environment's signers, so a release's evidence cannot be swapped by editing a file.

/** The evidence record's predicate type: the predicate is the EvidenceResult (shared/evidence/types.ts). */
export const EVIDENCE_PREDICATE_TYPE = 'https://slipway.dev/attestation/evidence/v1';
/** in-toto's test-result predicate (spec/predicates/test-result.md, version 0.1.0). */
export const TEST_RESULT_PREDICATE_TYPE = 'https://in-toto.io/attestation/test-result/v0.1';

/** An in-toto ResourceDescriptor: at least one of uri, digest (and name for people). */
export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest?: Record<string, string>;
  downloadLocation?: string;
}

export interface TestResultPredicate {
  result: 'PASSED' | 'WARNED' | 'FAILED';
  /** What the tests ran with: the test reports read (with their sha256) and the workflow that ran them. */
  configuration: ResourceDescriptor[];
  url?: string;
  passedTests?: string[];
  warnedTests?: string[];
  failedTests?: string[];
}

export interface TestResultOptions {
  /** The workflow file and commit the tests ran at, beside the reports. */
  workflow?: ResourceDescriptor;
  /** The run's URL. */
  url?: string;
  /**
   * Passed test names, when the caller has them: the record keeps counts per suite and names only failures, so
   * without them passedTests is left out rather than invented.
   */
  passedTests?: string[];
}

/** At most this many names per list: one suite of thousands of failures must not make the attestation megabytes. */
export const MAX_TEST_NAMES = 1000;

/**
 * The test-result predicate of a record's tests. FAILED when a test failed or errored; WARNED when none ran or some
 * were skipped (passed, but not all of it was checked); PASSED otherwise. Failed tests are named `suite › name`,
 * the way the record and the comment name them.
 */
export function testResultPredicate(
  tests: EvidenceResult['tests'],
  options: TestResultOptions = {},
): TestResultPredicate | undefined {
  if (tests.state === 'missing') return undefined;
  const value: TestEvidence = tests.value;
  const failing = value.failed + value.errored;
  const result =
    tests.state === 'failed' || failing > 0 ? 'FAILED' : value.total === 0 || value.skipped > 0 ? 'WARNED' : 'PASSED';
  const configuration: ResourceDescriptor[] = tests.from
    .filter((from) => from.kind === 'test-report')
    .map((from) => ({
      name: from.location,
      ...(from.sha256 ? { digest: { sha256: from.sha256.replace(/^sha256:/, '') } } : {}),
    }));
  if (options.workflow) configuration.push(options.workflow);
  const failedTests = [...new Set(value.failures.map((f) => `${f.suite} › ${f.name}`))].slice(0, MAX_TEST_NAMES);
  return {
    result,
    configuration,
    ...(options.url ? { url: options.url } : {}),
    ...(options.passedTests ? { passedTests: options.passedTests.slice(0, MAX_TEST_NAMES) } : {}),
    ...(failedTests.length > 0 ? { failedTests } : {}),
  };
}

/**
 * The workflow that ran, as a ResourceDescriptor, from the runner's variables (GITHUB_WORKFLOW_REF names
 * `owner/repo/.github/workflows/x.yml@ref`): its path, where it lives, and the commit it ran at.
 */
export function workflowDescriptor(
  env: Readonly<Record<string, string | undefined>>,
  serverUrl: string,
): ResourceDescriptor | undefined {
  const ref = env.GITHUB_WORKFLOW_REF;
  if (!ref) return undefined;
  const at = ref.indexOf('@');
  const path = at < 0 ? ref : ref.slice(0, at);
  const [owner, repo, ...file] = path.split('/');
  if (!owner || !repo || file.length === 0) return undefined;
  return {
    name: file.join('/'),
    uri: `git+${serverUrl}/${owner}/${repo}${at < 0 ? '' : ref.slice(at)}`,
    ...(env.GITHUB_SHA ? { digest: { gitCommit: env.GITHUB_SHA } } : {}),
  };
}

export interface AttestEvidenceRequest {
  result: EvidenceResult;
  /** The image the record is about; by default the record's subject (image and digest). */
  image?: ImageReference & { digest: Digest };
  /** Also attest the test results as test-result/v0.1; by default when the record has test results. */
  testResult?: boolean;
  testResultOptions?: TestResultOptions;
  /** As sign's inputs: PEM private key (absent: keyless), storage, Sigstore endpoints, trusted root, public log. */
  key?: string;
  storage: ('referrer' | 'github' | 'cosign-legacy')[];
  endpoints?: { fulcioUrl?: string; rekorUrl?: string; tsaUrl?: string };
  trustedRoot?: object;
  publicLog?: 'auto' | 'true' | 'false';
  githubToken?: string;
  login?: Login;
  registryTimeouts?: Partial<Timeouts>;
}

export interface AttestEvidenceRecord {
  signer: string;
  attestations: { predicateType: string; bundleDigest: Digest; stored: string[]; reused: boolean }[];
}

/**
 * Signs and stores the evidence attestation (and the test-result one) about the image, through runSign with each
 * predicate as a custom predicate: exactly what the sign action does with `predicate-type` and `predicate`.
 * `runtime` is sign's (now, logger, env …); its summary is left to the caller.
 */
export async function attestEvidence(
  request: AttestEvidenceRequest,
  runtime: SignRuntime,
): Promise<AttestEvidenceRecord> {
  // Loaded here: promote imports this module for the predicate type alone, and must not carry sign's code for it.
  const [{ runSign }, { describeLocation }] = await Promise.all([
    import('../../attest/run-sign.js'),
    import('../../attest/location.js'),
  ]);
  const image = request.image ?? imageOf(request.result);
  const predicates: { predicateType: string; predicate: unknown }[] = [
    { predicateType: EVIDENCE_PREDICATE_TYPE, predicate: request.result },
  ];
  if (request.testResult ?? request.result.tests.state !== 'missing') {
    const predicate = testResultPredicate(request.result.tests, request.testResultOptions);
    if (predicate === undefined) {
      throw new SlipwayError('No test-result attestation can be made: the evidence record has no test results.');
    }
    predicates.push({ predicateType: TEST_RESULT_PREDICATE_TYPE, predicate });
  }
  // runSign reads a custom predicate from a file (its size checked before it is read); ours are written to a
  // directory of their own and removed whatever happens.
  const dir = mkdtempSync(join(runtime.env.RUNNER_TEMP || tmpdir(), 'slipway-evidence-'));
  const { summary: _summary, ...quiet } = runtime;
  try {
    const record: AttestEvidenceRecord = { signer: '', attestations: [] };
    for (const [index, { predicateType, predicate }] of predicates.entries()) {
      const path = join(dir, `predicate-${index}.json`);
      writeFileSync(path, JSON.stringify(predicate));
      const signed = await runSign(
        {
          image,
          platforms: true,
          provenance: false,
          sbomFiles: [],
          custom: { predicateType, path },
          ...(request.key !== undefined ? { key: request.key } : {}),
          storage: request.storage,
          ...(request.endpoints ? { endpoints: request.endpoints } : {}),
          ...(request.trustedRoot ? { trustedRoot: request.trustedRoot } : {}),
          publicLog: request.publicLog ?? 'auto',
          ...(request.githubToken ? { githubToken: request.githubToken } : {}),
          ...(request.login ? { login: request.login } : {}),
          ...(request.registryTimeouts ? { registryTimeouts: request.registryTimeouts } : {}),
        },
        quiet,
      );
      record.signer = signed.signer;
      for (const a of signed.attestations) {
        record.attestations.push({
          predicateType: a.predicateType,
          bundleDigest: a.bundleDigest,
          stored: a.stored.map(describeLocation),
          reused: a.reused,
        });
      }
    }
    return record;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function imageOf(result: EvidenceResult): ImageReference & { digest: Digest } {
  const { image, digest } = result.subject;
  if (!image || !digest) {
    throw new SlipwayError(
      'The evidence record names no image and digest (no build record was given), so there is nothing to attach ' +
        'the evidence attestation to: give the build record in records, or the image.',
    );
  }
  return parsePinnedReference(`${image}@${digest}`);
}
