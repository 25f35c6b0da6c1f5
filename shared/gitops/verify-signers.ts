import { createPublicKey } from 'node:crypto';
import type { VerificationRecord, VerifyRequest } from '../attest/run-verify.js';
import type { IdentityPolicy } from '../attest/types.js';
import { SlipwayError } from '../core/errors.js';
import type { Runtime } from '../core/runtime.js';
import type { GitHubContext } from '../github/context.js';
import type { Login } from '../oci/login.js';
import { parsePinnedReference } from '../oci/reference.js';
import type { Timeouts } from '../oci/timeouts.js';
import type { ServiceVerificationRecord } from '../records/promotion.js';
import { PolicyRefusal } from './errors.js';
import type { EnvironmentConfig, ImagePin, SignerPolicy, SlipwayConfig } from './types.js';

// Verification at every hop: before anything is written, each digest an environment is about to pin must carry
// valid attestations of every predicate type policy.require lists, signed by one of the signers .slipway.yaml
// allows for that environment (its own `signers`, else policy.signers). It runs verify's own machinery
// (shared/attest/run-verify.ts) once per signer until one passes, so promote accepts exactly what the verify
// action would. Keys live in the GitOps repository, next to the policy, so no app repository can swap them; they
// arrive in the same read as the plan's files (keyPaths), costing no extra API call.

export interface SignerSet {
  signers: SignerPolicy[];
  /** Where they came from, for refusals: policy.signers or environments[prod].signers. */
  rule: string;
}

export function signersFor(config: SlipwayConfig, environment: EnvironmentConfig): SignerSet {
  if (environment.signers !== undefined) {
    return { signers: environment.signers, rule: `environments[${environment.name}].signers` };
  }
  return { signers: config.policy.signers, rule: 'policy.signers' };
}

/** The key files to read with the plan's files. */
export function keyPaths(set: SignerSet): string[] {
  return set.signers.flatMap((signer) => ('key' in signer ? [signer.key] : []));
}

/** How .slipway.yaml names a signer, in records and messages. */
export function describeSigner(signer: SignerPolicy): string {
  if ('key' in signer) return `key ${signer.key}`;
  return [
    `repository ${signer.repository}`,
    signer.workflow ? `workflow ${signer.workflow}` : '',
    signer.signerWorkflow ? `signer-workflow ${signer.signerWorkflow}` : '',
    signer.ref ? `ref ${signer.ref}` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

export interface VerifyPinOptions {
  set: SignerSet;
  require: string[];
  /** Texts of files read with the plan (the key files among them). */
  files: Map<string, string | undefined>;
  github: GitHubContext;
  trustedRoot?: object;
  login?: (registry: string) => Login | undefined;
  registryTimeouts?: Partial<Timeouts>;
  /** verify's entry point; injectable so the bench can stand in for a registry it does not run. */
  runVerify?: (request: VerifyRequest, runtime: Runtime) => Promise<VerificationRecord>;
}

/** Verifies one digest; a result with verdict failed is turned into a refusal by the caller (it knows the service). */
export async function verifyPin(
  pin: ImagePin,
  options: VerifyPinOptions,
  runtime: Runtime,
): Promise<ServiceVerificationRecord> {
  const { set } = options;
  const base = { rule: set.rule, predicateTypes: options.require };
  if (set.signers.length === 0) {
    return {
      verdict: 'failed',
      ...base,
      codes: ['NO_SIGNERS'],
      reasons: [
        {
          signer: '',
          code: 'NO_SIGNERS',
          message: `${set.rule} lists no signer, so nothing could be verified (promotion fails closed)`,
        },
      ],
    };
  }
  const runVerify = options.runVerify ?? (await import('../attest/run-verify.js')).runVerify;
  const image = parsePinnedReference(`${pin.name}@${pin.digest}`);
  const login = image.kind === 'registry' ? options.login?.(image.registry) : undefined;
  const reasons: ServiceVerificationRecord['reasons'] = [];
  // The summary is promote's own: verify's per-signer summaries would repeat each failed signer's table.
  const quiet: Runtime = {
    env: runtime.env,
    logger: runtime.logger,
    secrets: runtime.secrets,
    workspace: runtime.workspace,
  };
  // Key signers first: they need nothing from the network, so an air-gapped runner (no TUF for the keyless ones)
  // still promotes what a key signed. A keyless check that cannot run (no trusted root) decides nothing: it is
  // rethrown only when no other signer passes, as a failure to verify rather than a refusal.
  const ordered = [...set.signers.entries()].sort(([, a], [, b]) => Number('key' in b) - Number('key' in a));
  let undecided: unknown;
  for (const [index, signer] of ordered) {
    const name = describeSigner(signer);
    let publicKeyPem: string | undefined;
    let policy: IdentityPolicy = { issuer: options.github.actionsIssuer, serverUrl: options.github.serverUrl };
    if ('key' in signer) {
      const key = publicKeyOf(options.files.get(signer.key));
      if ('problem' in key) {
        reasons.push({
          signer: name,
          code: 'KEY_UNUSABLE',
          message: `${set.rule}[${index}].key ${signer.key}: ${key.problem}`,
        });
        continue;
      }
      publicKeyPem = key.pem;
    } else {
      policy = {
        ...policy,
        repository: signer.repository,
        ...(signer.workflow ? { workflow: signer.workflow } : {}),
        ...(signer.signerWorkflow ? { signerWorkflow: signer.signerWorkflow } : {}),
        ...(signer.ref ? { ref: signer.ref } : {}),
      };
    }
    let record: VerificationRecord;
    try {
      record = await runVerify(
        {
          image,
          policy,
          requiredPredicateTypes: options.require,
          // A key is its own trust anchor; the trusted root is for keyless signers' certificates.
          ...(options.trustedRoot && !publicKeyPem ? { trustedRoot: options.trustedRoot } : {}),
          ...(publicKeyPem ? { publicKeyPem } : {}),
          // The registry only: the attestations API would spend the GitHub call budget promote is held to, and
          // sign stores every attestation in the registry as well.
          sources: ['referrer'],
          ...(login ? { login } : {}),
          ...(options.registryTimeouts ? { registryTimeouts: options.registryTimeouts } : {}),
        },
        quiet,
      );
    } catch (error) {
      if (!(error instanceof SlipwayError)) throw error;
      undecided ??= error;
      runtime.logger.warning(`Could not check ${name}: ${error.message}`);
      continue;
    }
    if (record.verified) return { verdict: 'verified', signer: name, ...base, codes: [], reasons: [] };
    const found = record.outcome.reasons.length
      ? record.outcome.reasons
      : [{ code: 'NO_ATTESTATION', message: 'no attestation passed' }];
    for (const reason of found) reasons.push({ signer: name, code: reason.code, message: reason.message });
  }
  if (undecided !== undefined) throw undecided;
  return { verdict: 'failed', ...base, codes: [...new Set(reasons.map((r) => r.code))], reasons };
}

/** The refusal for a failed verification, naming the service, the digest, the rule and why each signer failed. */
export function verificationRefusal(service: string, pin: ImagePin, result: ServiceVerificationRecord): PolicyRefusal {
  const why = result.reasons.map((r) => (r.signer ? `${r.signer}: ${r.code} ${r.message}` : r.message)).join('; ');
  const types = result.predicateTypes.length ? ` with ${result.predicateTypes.join(', ')}` : '';
  return new PolicyRefusal(
    'VERIFICATION_FAILED',
    result.rule ?? 'policy.signers',
    `${service} ${pin.name}@${pin.digest} is not signed${types} by any signer ${result.rule ?? 'policy.signers'} allows (${why})`,
  );
}

/** A key file's text as an SPKI PEM public key; never quotes the text, which might be a private key by mistake. */
function publicKeyOf(text: string | undefined): { pem: string } | { problem: string } {
  if (text === undefined) return { problem: 'the file does not exist on the default branch' };
  if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text)) {
    return {
      problem: 'the file holds a private key; commit its public key (openssl pkey -pubout) and rotate this one',
    };
  }
  try {
    return { pem: createPublicKey(text).export({ type: 'spki', format: 'pem' }).toString() };
  } catch (error) {
    return { problem: `it is not a PEM public key Node can read (${(error as Error).message})` };
  }
}
