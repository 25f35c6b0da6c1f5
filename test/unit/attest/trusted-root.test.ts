import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { RFC3161Timestamp } from '@sigstore/core';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTrustedRoot } from '../../../shared/attest/trusted-root.js';
import {
  checkLogKeyValidity,
  checkTrustedRoot,
  TRUSTED_ROOT_INVALID,
  TrustedRootError,
  trustedRootProblems,
} from '../../../shared/attest/trusted-root-check.js';
import type { BundleJson } from '../../../shared/attest/types.js';
import { verifyBundles } from '../../../shared/attest/verify.js';
import { ConfigurationError } from '../../../shared/core/errors.js';
import type { Digest } from '../../../shared/oci/types.js';
import { repositoryRoot } from '../../support/runner-harness.js';
import { type Sigstore, startSigstore } from '../../support/sigstore.js';

// The trusted root is checked before use (shared/attest/trusted-root-check.ts): what @sigstore/verify would
// trust on looser terms than the root states is refused with TRUSTED_ROOT_INVALID.

const CONFORMANCE = join(repositoryRoot, 'test/fixtures/sigstore-conformance');
const json = <T>(...path: string[]) => JSON.parse(readFileSync(join(CONFORMANCE, ...path), 'utf8')) as T;
const clone = <T>(value: T): T => structuredClone(value);

type RootJson = {
  tlogs: { baseUrl: string; logId: { keyId: string }; publicKey: { validFor?: { start?: string; end?: string } } }[];
  ctlogs: { publicKey: { validFor?: { start?: string; end?: string } } }[];
  certificateAuthorities: { validFor?: { start?: string; end?: string } }[];
  timestampAuthorities: { validFor?: { start?: string; end?: string } }[];
};

let sigstore: Sigstore;
beforeAll(async () => {
  sigstore = await startSigstore();
});
afterAll(async () => {
  await sigstore?.close();
});

describe('checkTrustedRoot', () => {
  it('accepts the public-good root, the loopback root and conformance roots that state every start', () => {
    expect(() => checkTrustedRoot(json('public-good-trusted-root.json'))).not.toThrow();
    expect(() => checkTrustedRoot(sigstore.trustedRoot)).not.toThrow();
    // A validity period whose end equals a timestamp is still valid (a closed interval): nothing to refuse.
    expect(trustedRootProblems(json('trust-root-tlog-validity-end-inclusive', 'trusted_root.json'))).toEqual([]);
    expect(trustedRootProblems(json('trust-root-tsa-validity-end-inclusive', 'trusted_root.json'))).toEqual([]);
  });

  it("refuses sigstore-conformance's trust root whose log key has no validity start", () => {
    const root = json<object>('trust-root-tlog-missing-validity-start_fail', 'trusted_root.json');
    expect(() => checkTrustedRoot(root)).toThrow(TrustedRootError);
    expect(trustedRootProblems(root)).toEqual([
      "transparency log 2 (https://log2025-alpha1.rekor.sigstage.dev)'s key has no validFor.start",
    ]);
  });

  it.each([
    [
      'a certificate authority',
      (r: RootJson) => delete r.certificateAuthorities[0]!.validFor,
      'certificate authority 1',
    ],
    [
      'a timestamp authority',
      (r: RootJson) => delete r.timestampAuthorities[0]!.validFor!.start,
      'timestamp authority 1',
    ],
    ['a transparency log', (r: RootJson) => delete r.tlogs[0]!.publicKey.validFor, 'transparency log 1'],
    ['a CT log', (r: RootJson) => delete r.ctlogs[0]!.publicKey.validFor!.start, 'certificate transparency log 1'],
  ])('refuses %s without a validity start, naming it', (_what, damage, named) => {
    const root = clone(sigstore.trustedRoot) as unknown as RootJson;
    damage(root);
    const problems = trustedRootProblems(root);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${named} \\(.*\\)(?:'s key)? has no validFor\\.start$`));
  });

  it('refuses a validity period that ends before it starts', () => {
    const root = clone(sigstore.trustedRoot) as unknown as RootJson;
    root.tlogs[0]!.publicKey.validFor = { start: '2025-01-02T00:00:00Z', end: '2025-01-01T00:00:00Z' };
    expect(trustedRootProblems(root)).toEqual([
      `transparency log 1 (${sigstore.url})'s key has a validFor.end that is not a time after its start`,
    ]);
  });

  it("refuses such a file given as the 'trusted-root' input, naming the input and the entry", () => {
    const given = 'trust-root-tlog-missing-validity-start_fail/trusted_root.json';
    const read = () => readTrustedRoot({ input: 'trusted-root', given, path: join(CONFORMANCE, given) });
    expect(read).toThrow(ConfigurationError);
    expect(read).toThrow("Input 'trusted-root'");
    expect(read).toThrow(
      `cannot be used (${TRUSTED_ROOT_INVALID}): transparency log 2 (https://log2025-alpha1.rekor.sigstage.dev)'s key has no validFor.start`,
    );
  });

  it('makes verification fail with TRUSTED_ROOT_INVALID, even where @sigstore/verify would accept', async () => {
    const name = 'rekor2-dsse-happy-path';
    const bundle = json<BundleJson>(name, 'bundle.sigstore.json');
    const root = json<RootJson>(name, 'trusted_root.json');
    const logId = bundle.verificationMaterial as { tlogEntries: { logId: { keyId: string } }[] };
    const used = root.tlogs.find((t) => t.logId.keyId === logId.tlogEntries[0]!.logId.keyId)!;
    delete used.publicKey.validFor!.start;

    // The library reads the missing start as the beginning of time and verifies.
    const library = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(root)));
    expect(() => library.verify(toSignedEntity(bundleFromJSON(bundle)))).not.toThrow();

    const outcome = await verifyConformance(bundle, root);
    expect(outcome.verified).toBe(false);
    expect(outcome.reasons[0]).toEqual({
      code: TRUSTED_ROOT_INVALID,
      message: expect.stringContaining("(https://log2025-alpha3.rekor.sigstage.dev)'s key has no validFor.start"),
    });
  });
});

describe('the log key of a checkpoint-only (Rekor v2) entry', () => {
  const name = 'rekor2-dsse-happy-path';
  const bundle = json<BundleJson>(name, 'bundle.sigstore.json');
  const entryLogId = (bundle.verificationMaterial as { tlogEntries: { logId: { keyId: string } }[] }).tlogEntries[0]!
    .logId.keyId;
  const stamped = RFC3161Timestamp.parse(
    Buffer.from(
      (
        bundle.verificationMaterial as {
          timestampVerificationData: { rfc3161Timestamps: { signedTimestamp: string }[] };
        }
      ).timestampVerificationData.rfc3161Timestamps[0]!.signedTimestamp,
      'base64',
    ),
  ).signingTime;
  const rootWith = (validFor: { start: string; end?: string }) => {
    const root = json<RootJson>(name, 'trusted_root.json');
    root.tlogs.find((t) => t.logId.keyId === entryLogId)!.publicKey.validFor = validFor;
    return root;
  };
  const iso = (ms: number) => new Date(ms).toISOString();

  it('passes while the key was valid when the entry was timestamped', async () => {
    const outcome = await verifyConformance(bundle, json(name, 'trusted_root.json'));
    expect(outcome.reasons).toEqual([]);
    expect(outcome.verified).toBe(true);
    // The end is inclusive, as TimeRange is a closed interval.
    const exact = await verifyConformance(
      bundle,
      rootWith({ start: '2025-01-01T00:00:00Z', end: iso(stamped.getTime()) }),
    );
    expect(exact.verified).toBe(true);
  });

  it.each([
    ['retired before the timestamp', () => ({ start: '2025-01-01T00:00:00Z', end: iso(stamped.getTime() - 1000) })],
    ['not yet valid at the timestamp', () => ({ start: iso(stamped.getTime() + 1000) })],
  ])('fails when the key was %s, which @sigstore/verify does not check', async (_when, validFor) => {
    const root = rootWith(validFor());
    const library = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(root)));
    expect(() => library.verify(toSignedEntity(bundleFromJSON(bundle)))).not.toThrow();

    const outcome = await verifyConformance(bundle, root);
    expect(outcome.verified).toBe(false);
    expect(outcome.attestations[0]).toMatchObject({ passed: false, code: TRUSTED_ROOT_INVALID });
    expect(outcome.attestations[0]!.failure).toContain(
      `the key of transparency log ${Buffer.from(entryLogId, 'base64').toString('hex')} was not valid at ${stamped.toISOString()}`,
    );
  });
});

describe('checkLogKeyValidity', () => {
  it('accepts a time inside the key’s period and refuses one outside it or an unknown log', () => {
    const trusted = sigstore.trustedRoot as unknown as RootJson;
    const logId = Buffer.from(trusted.tlogs[0]!.logId.keyId, 'base64');
    const start = new Date(trusted.tlogs[0]!.publicKey.validFor!.start!);
    expect(() => checkLogKeyValidity(sigstore.trustedRoot, logId, new Date(start.getTime() + 1))).not.toThrow();
    expect(() => checkLogKeyValidity(sigstore.trustedRoot, logId, new Date(start.getTime() - 1))).toThrow(
      /^the key of transparency log [0-9a-f]{64} was not valid at /,
    );
    expect(() => checkLogKeyValidity(sigstore.trustedRoot, Buffer.alloc(32), new Date())).toThrow(
      `no transparency log with log ID ${'0'.repeat(64)}`,
    );
  });
});

/** Slipway's verification of a conformance bundle, for the identity the suite signs with (SAN and issuer). */
function verifyConformance(bundle: BundleJson, trustedRoot: object) {
  const artifact = readFileSync(join(CONFORMANCE, 'a.txt'));
  return verifyBundles({
    candidates: [{ bundle, location: { kind: 'github', id: 1 } }],
    subjectDigest: `sha256:${createHash('sha256').update(artifact).digest('hex')}` as Digest,
    trustedRoot,
    policy: {
      issuer: 'https://token.actions.githubusercontent.com',
      signerWorkflow:
        'sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main',
    },
    requiredPredicateTypes: [],
  });
}
