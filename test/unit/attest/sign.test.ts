import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { bundleFromJSON, type SerializedBundle } from '@sigstore/bundle';
import { PublicKeyDetails, TrustedRoot } from '@sigstore/protobuf-specs';
import { PolicyError, toSignedEntity, toTrustMaterial, VerificationError, Verifier } from '@sigstore/verify';
import { verify as sigstoreVerify } from 'sigstore';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keyHint, readSigningKey, signStatement } from '../../../shared/attest/sign.js';
import {
  BUNDLE_MEDIA_TYPE,
  type BundleJson,
  IN_TOTO_PAYLOAD_TYPE,
  type Statement,
} from '../../../shared/attest/types.js';
import { ConfigurationError, SlipwayError } from '../../../shared/core/errors.js';
import { GITHUB_ISSUER, githubToken, type Sigstore, startSigstore } from '../../support/sigstore.js';

const statement: Statement = {
  _type: 'https://in-toto.io/Statement/v1',
  subject: [{ name: 'ghcr.io/acme/app', digest: { sha256: 'a'.repeat(64) } }],
  predicateType: 'https://slsa.dev/provenance/v1',
  predicate: { buildDefinition: { buildType: 'https://actions.github.io/buildtypes/workflow/v1' } },
};

// Anchored: an unanchored SAN pattern would also accept acme/app-fork or another ref.
const RELEASE_SAN = /^https:\/\/github\.com\/acme\/app\/\.github\/workflows\/release\.yml@refs\/heads\/main$/;

let sigstore: Sigstore;
beforeEach(async () => {
  sigstore = await startSigstore();
});
afterEach(async () => {
  await sigstore.close();
});

const keyless = (token = githubToken(), services: { rekor?: boolean; tsa?: boolean } = { rekor: true, tsa: true }) =>
  ({
    kind: 'keyless',
    fulcioUrl: sigstore.fulcioUrl,
    identityToken: async () => token,
    ...(services.rekor ? { rekorUrl: sigstore.rekorUrl } : {}),
    ...(services.tsa ? { tsaUrl: sigstore.tsaUrl } : {}),
  }) as const;

const trustMaterial = (keys?: Parameters<typeof toTrustMaterial>[1]) =>
  toTrustMaterial(TrustedRoot.fromJSON(sigstore.trustedRoot), keys);

function verifyKeyless(bundle: BundleJson, tlogThreshold = 1, san: RegExp = RELEASE_SAN) {
  const verifier = new Verifier(trustMaterial(), { tlogThreshold, ctlogThreshold: 1, timestampThreshold: 1 });
  return verifier.verify(toSignedEntity(bundleFromJSON(bundle)), {
    subjectAlternativeName: san,
    extensions: { issuer: GITHUB_ISSUER },
  });
}

const count = (method: string, path: string) =>
  sigstore.requests.filter((r) => r.method === method && r.path.startsWith(path)).length;

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, nothing was thrown');
}

describe('signStatement, keyless', () => {
  it('signs with Fulcio, logs in Rekor, timestamps, and the bundle verifies', async () => {
    const bundle = await signStatement(statement, keyless());

    expect(bundle.mediaType).toBe(BUNDLE_MEDIA_TYPE);
    const parsed = bundleFromJSON(bundle);
    expect(parsed.content.$case).toBe('dsseEnvelope');
    if (parsed.content.$case !== 'dsseEnvelope') return;
    expect(parsed.content.dsseEnvelope.payloadType).toBe(IN_TOTO_PAYLOAD_TYPE);
    expect(JSON.parse(parsed.content.dsseEnvelope.payload.toString('utf8'))).toEqual(statement);
    expect(parsed.verificationMaterial.tlogEntries.map((e) => e.kindVersion?.kind)).toEqual(['dsse']);
    expect(parsed.verificationMaterial.timestampVerificationData?.rfc3161Timestamps).toHaveLength(1);

    const signer = verifyKeyless(bundle);
    expect(signer.identity?.subjectAlternativeName).toBe(
      'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main',
    );
    expect(signer.identity?.extensions?.issuer).toBe(GITHUB_ISSUER);
  });

  it('verifies with the sigstore package too, which reads the trust root through TUF', async () => {
    const bundle = (await signStatement(statement, keyless())) as unknown as SerializedBundle;
    const tuf = {
      tufMirrorURL: sigstore.tuf.mirrorURL,
      tufRootPath: sigstore.tuf.rootPath,
      tufCachePath: sigstore.tuf.cachePath,
      certificateIssuer: GITHUB_ISSUER,
      tlogThreshold: 1,
      ctLogThreshold: 1,
    };

    const signer = await sigstoreVerify(bundle, { ...tuf, certificateIdentityURI: RELEASE_SAN.source });
    expect(signer.identity?.subjectAlternativeName).toMatch(RELEASE_SAN);
    expect(count('GET', '/tuf/targets/trusted_root.json')).toBe(1);
    // Not vacuous: the same verifier refuses another identity.
    await expect(
      sigstoreVerify(bundle, { ...tuf, certificateIdentityURI: '^https://github\\.com/acme/other/' }),
    ).rejects.toMatchObject({ code: 'UNTRUSTED_SIGNER_ERROR' });
  });

  it('in private mode (timestamp authority only) writes nothing to Rekor and verifies without a tlog', async () => {
    const bundle = await signStatement(statement, keyless(githubToken(), { tsa: true }));

    expect(count('POST', '/api/v1/log/entries')).toBe(0);
    expect(count('POST', '/api/v1/timestamp')).toBe(1);
    expect(verifyKeyless(bundle, 0).identity?.subjectAlternativeName).toMatch(RELEASE_SAN);
    // A verifier that insists on a log entry refuses it.
    expect(caught(() => verifyKeyless(bundle, 1))).toBeInstanceOf(VerificationError);
  });

  it('signs with Rekor only (its integrated time is the timestamp)', async () => {
    const bundle = await signStatement(statement, keyless(githubToken(), { rekor: true }));
    expect(count('POST', '/api/v1/timestamp')).toBe(0);
    expect(verifyKeyless(bundle).identity?.subjectAlternativeName).toMatch(RELEASE_SAN);
  });

  it('fails verification for another workflow identity', async () => {
    const bundle = await signStatement(statement, keyless(githubToken({ repository: 'acme/app-fork' })));
    const error = caught(() => verifyKeyless(bundle));
    expect(error).toBeInstanceOf(PolicyError);
    expect(error).toMatchObject({ code: 'UNTRUSTED_SIGNER_ERROR' });

    const tagged = await signStatement(statement, keyless(githubToken({ ref: 'refs/heads/main-evil' })));
    expect(caught(() => verifyKeyless(tagged))).toMatchObject({ code: 'UNTRUSTED_SIGNER_ERROR' });
  });

  it('fails verification when the DSSE payload is tampered with', async () => {
    const bundle = await signStatement(statement, keyless());
    const envelope = bundle.dsseEnvelope as { payload: string };
    const forged = { ...statement, subject: [{ name: 'ghcr.io/acme/app', digest: { sha256: 'b'.repeat(64) } }] };
    const tampered = {
      ...bundle,
      dsseEnvelope: { ...envelope, payload: Buffer.from(JSON.stringify(forged)).toString('base64') },
    };
    const error = caught(() => verifyKeyless(tampered));
    expect(error).toBeInstanceOf(VerificationError);
    expect(error).toMatchObject({ code: 'TLOG_BODY_ERROR' });
  });

  it('refuses to sign with neither Rekor nor a timestamp authority', async () => {
    await expect(signStatement(statement, keyless(githubToken(), {}))).rejects.toThrow(
      /needs a Rekor URL or a timestamp authority URL/,
    );
    expect(sigstore.requests).toEqual([]);
  });

  it('retries a Fulcio 429 and then signs', async () => {
    sigstore.failNext('/api/v2/signingCert', 429, 1, 'rate limited');
    const bundle = await signStatement(statement, keyless(), { retry: 2 });
    expect(count('POST', '/api/v2/signingCert')).toBe(2);
    expect(verifyKeyless(bundle).identity?.subjectAlternativeName).toMatch(RELEASE_SAN);
  });

  it('names Fulcio and its URL when it refuses, without the identity token', async () => {
    const token = githubToken();
    sigstore.failNext('/api/v2/signingCert', 400, 1, `invalid token ${token}`);
    const error = await signStatement(statement, keyless(token)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlipwayError);
    const message = (error as Error).message;
    expect(message).toContain(`Fulcio at ${sigstore.fulcioUrl} refused the signing certificate request: (400)`);
    expect(message).not.toContain(token);
    expect(String((error as Error).cause)).not.toContain(token);
  });

  it('never shows a malformed identity token', async () => {
    const secret = 'not-a-jwt-but-secret';
    const error = await signStatement(statement, keyless(secret)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlipwayError);
    expect((error as Error).message).toMatch(/^The OIDC identity token for Fulcio at .* is not a JWT/);
    expect((error as Error).message).not.toContain(secret);
    expect((error as Error).cause).toBeUndefined();
  });

  it('names Rekor when it fails', async () => {
    sigstore.failNext('/api/v1/log/entries', 503, 1);
    const rekor = await signStatement(statement, keyless(), { retry: 0 }).catch((e: unknown) => e);
    expect((rekor as Error).message).toContain(`Rekor at ${sigstore.rekorUrl} did not log the signature: (503)`);
  });

  it('names the timestamp authority when it fails', async () => {
    sigstore.failNext('/api/v1/timestamp', 400, 1);
    const tsa = await signStatement(statement, keyless(), { retry: 0 }).catch((e: unknown) => e);
    expect((tsa as Error).message).toContain(`The timestamp authority at ${sigstore.tsaUrl} did not timestamp`);
  });
});

describe('signStatement, with a key', () => {
  const keys: [string, () => { privateKey: KeyObject }, PublicKeyDetails][] = [
    [
      'EC P-256',
      () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }),
      PublicKeyDetails.PKIX_ECDSA_P256_SHA_256,
    ],
    ['RSA', () => generateKeyPairSync('rsa', { modulusLength: 2048 }), PublicKeyDetails.PKIX_RSA_PKCS1V15_2048_SHA256],
    ['Ed25519', () => generateKeyPairSync('ed25519'), PublicKeyDetails.PKIX_ED25519],
  ];

  const pemOf = (key: KeyObject) => key.export({ format: 'pem', type: 'pkcs8' }).toString();
  const publicKeys = (key: KeyObject, keyDetails: PublicKeyDetails) => {
    const rawBytes = createPublicKey(key).export({ format: 'der', type: 'spki' });
    return { [keyHint(rawBytes)]: { rawBytes, keyDetails, validFor: undefined } };
  };

  it.each(keys)(
    'signs with an %s key and verifies with its public key, no log needed',
    async (_, generate, details) => {
      const { privateKey } = generate();
      const bundle = await signStatement(statement, { kind: 'key', privateKeyPem: pemOf(privateKey) });

      expect(sigstore.requests).toEqual([]);
      const material = bundle.verificationMaterial as { publicKey?: { hint: string } };
      const keyMap = publicKeys(privateKey, details);
      expect(material.publicKey?.hint).toBe(Object.keys(keyMap)[0]);
      const verifier = new Verifier(trustMaterial(keyMap), {
        tlogThreshold: 0,
        ctlogThreshold: 0,
        timestampThreshold: 0,
      });
      verifier.verify(toSignedEntity(bundleFromJSON(bundle)));

      // Another key with the same hint lookup fails the signature check.
      const other = publicKeys(generate().privateKey, details);
      const impostor = new Verifier(trustMaterial({ [Object.keys(keyMap)[0]!]: Object.values(other)[0]! }), {
        tlogThreshold: 0,
        ctlogThreshold: 0,
        timestampThreshold: 0,
      });
      expect(caught(() => impostor.verify(toSignedEntity(bundleFromJSON(bundle))))).toMatchObject({
        code: 'SIGNATURE_ERROR',
      });
    },
  );

  it("treats Rekor's 409 for an already logged entry as success and returns a valid bundle", async () => {
    // Ed25519 signatures are deterministic, so the second signature, envelope and Rekor entry are equal to the
    // first: exactly the entry Rekor already holds (as after a POST that timed out but was committed).
    const { privateKey } = generateKeyPairSync('ed25519');
    const options = { kind: 'key', privateKeyPem: pemOf(privateKey), rekorUrl: sigstore.rekorUrl } as const;
    const first = await signStatement(statement, options);
    const second = await signStatement(statement, options);

    expect(count('POST', '/api/v1/log/entries')).toBe(2);
    expect(count('GET', '/api/v1/log/entries/')).toBe(1);
    const entries = (b: BundleJson) => (b.verificationMaterial as { tlogEntries: unknown[] }).tlogEntries;
    expect(entries(second)).toEqual(entries(first));
    const verifier = new Verifier(trustMaterial(publicKeys(privateKey, PublicKeyDetails.PKIX_ED25519)), {
      tlogThreshold: 1,
      ctlogThreshold: 0,
      timestampThreshold: 1,
    });
    verifier.verify(toSignedEntity(bundleFromJSON(second)));
  });

  it('refuses keys it cannot sign for verifiably, and never shows the PEM', async () => {
    const p384 = pemOf(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey);
    await expect(signStatement(statement, { kind: 'key', privateKeyPem: p384 })).rejects.toThrow(
      /it is an EC key on secp384r1; expected a PEM private key/,
    );

    const garbage = '-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n';
    const error = await signStatement(statement, { kind: 'key', privateKeyPem: garbage }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlipwayError);
    expect((error as Error).message).not.toContain('c2VjcmV0');
  });
});

describe('readSigningKey', () => {
  const pemOf = (key: KeyObject) => key.export({ format: 'pem', type: 'pkcs8' }).toString();
  const expected = /expected a PEM private key, the key itself and not a path to it/;
  it.each([
    ['a path', '/home/runner/keys/cosign.key', /it looks like a file path/],
    ['words', 'hunter2 is my key', /it is not PEM/],
    [
      'a certificate',
      '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      /it is a PEM CERTIFICATE, not a private key/,
    ],
    [
      'an encrypted key',
      '-----BEGIN ENCRYPTED PRIVATE KEY-----\nc2VjcmV0\n-----END ENCRYPTED PRIVATE KEY-----\n',
      /passphrase-protected/,
    ],
    ['a broken key', '-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n', /block cannot be decoded/],
  ])('names the input for %s, and never shows the value', (_what, value, detail) => {
    const error = caught(() => readSigningKey(value));
    expect(error).toBeInstanceOf(ConfigurationError);
    const message = (error as Error).message;
    expect(message).toMatch(/^Input 'key' is the given value: /);
    expect(message).toMatch(detail);
    expect(message).toMatch(expected);
    expect(message).not.toContain(value.split('\n')[value.includes('\n') ? 1 : 0]);
  });

  it('accepts EC P-256, RSA and Ed25519 keys', () => {
    for (const key of [
      generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey,
      generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
      generateKeyPairSync('ed25519').privateKey,
    ]) {
      expect(readSigningKey(pemOf(key)).asymmetricKeyType).toBe(key.asymmetricKeyType);
    }
  });
});
