import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signStatement } from '../../../shared/attest/sign.js';
import { type IdentityPolicy, PREDICATE_TYPES, type WorkflowClaims } from '../../../shared/attest/types.js';
import { identityMatcher, verifyBundles } from '../../../shared/attest/verify.js';
import { InvalidValueError } from '../../../shared/core/errors.js';
import { githubContext } from '../../../shared/github/context.js';
import { digestOf } from '../../../shared/oci/digest.js';
import { imageStatement, keylessSigning } from '../../support/attestations.js';
import { type Sigstore, startSigstore } from '../../support/sigstore.js';

// The signer identity a policy accepts, on each kind of GitHub host: the SAN Fulcio writes is
// `<server URL>/<job_workflow_ref>`, so the server URL comes from the run's GitHub context, never a constant.

const HOSTS = [
  { name: 'github.com', env: { GITHUB_SERVER_URL: 'https://github.com' } },
  { name: 'GHES', env: { GITHUB_SERVER_URL: 'https://ghes.example.com' } },
  { name: 'GHE.com', env: { GITHUB_SERVER_URL: 'https://acme.ghe.com' } },
].map((host) => ({ ...host, context: githubContext(host.env) }));

const WORKFLOW = '.github/workflows/release.yml';

function policyOn(server: string, issuer: string, more: Partial<IdentityPolicy> = {}): IdentityPolicy {
  return { issuer, serverUrl: server, repository: 'acme/app', workflow: WORKFLOW, ref: 'refs/heads/main', ...more };
}

describe.each(HOSTS)('identityMatcher on $name', ({ context }) => {
  const server = context.serverUrl;
  const policy = policyOn(server, context.actionsIssuer);
  const san = (path: string) => `${server}/${path}`;

  it('names this host in the SAN and the default issuer of its Actions tokens', () => {
    const matcher = identityMatcher(policy);
    expect(matcher.extensions.issuer).toBe(context.actionsIssuer);
    expect(matcher.san.test(san(`acme/app/${WORKFLOW}@refs/heads/main`))).toBe(true);
    for (const other of HOSTS.filter((h) => h.context.serverUrl !== server)) {
      expect(matcher.san.test(`${other.context.serverUrl}/acme/app/${WORKFLOW}@refs/heads/main`)).toBe(false);
    }
  });

  it.each([
    ['the exact SAN', `acme/app/${WORKFLOW}@refs/heads/main`, true],
    ['an upper-case owner', `ACME/app/${WORKFLOW}@refs/heads/main`, true],
    [
      'a mixed-case repository name (gh matches it case-insensitively too)',
      `acme/App/${WORKFLOW}@refs/heads/main`,
      true,
    ],
    ['another owner', `acme2/app/${WORKFLOW}@refs/heads/main`, false],
    ['another repository', `acme/app2/${WORKFLOW}@refs/heads/main`, false],
    [
      'a workflow path in another case (git paths are case-sensitive)',
      `acme/app/.github/workflows/Release.yml@refs/heads/main`,
      false,
    ],
    ['a ref in another case (refs are case-sensitive)', `acme/app/${WORKFLOW}@refs/heads/Main`, false],
    ['a longer ref', `acme/app/${WORKFLOW}@refs/heads/main2`, false],
  ])('%s: %s → %s', (_what, path, expected) => {
    expect(identityMatcher(policy).san.test(san(path))).toBe(expected);
  });

  it('matches the host without regard to case', () => {
    const upper = server.toUpperCase().replace('HTTPS://', 'https://');
    expect(identityMatcher(policy).san.test(`${upper}/acme/app/${WORKFLOW}@refs/heads/main`)).toBe(true);
    // A policy written with an upper-case owner or host still accepts the SAN Fulcio wrote.
    const shouted = policyOn(server.toUpperCase().replace('HTTPS://', 'https://'), context.actionsIssuer, {
      repository: 'ACME/APP',
    });
    expect(identityMatcher(shouted).san.test(san(`acme/app/${WORKFLOW}@refs/heads/main`))).toBe(true);
  });

  it.each([
    ['refs/tags/v*', 'refs/tags/v1.2.3', true],
    ['refs/tags/v*', 'refs/tags/v', true],
    ['refs/tags/v*', 'refs/heads/v1', false],
    // `*` never matches `@`: the SAN ends `@<ref>`, so a wildcard that crossed it would accept a SAN
    // whose ref merely begins like a release tag.
    ['refs/tags/v*', 'refs/tags/v1@evil', false],
    ['refs/tags/v?', 'refs/tags/v1', true],
    ['refs/tags/v?', 'refs/tags/v@', false],
    ['refs/heads/*', 'refs/heads/feature/x', true],
    ['refs/heads/*', 'refs/heads/main@refs/heads/attacker', false],
  ])('ref pattern %s against %s → %s', (ref, actual, expected) => {
    expect(identityMatcher({ ...policy, ref }).san.test(san(`acme/app/${WORKFLOW}@${actual}`))).toBe(expected);
  });

  it('applies the same rules to a reusable workflow from another repository', () => {
    const reusable = identityMatcher({
      issuer: context.actionsIssuer,
      serverUrl: server,
      signerWorkflow: `slipway-dev/slipway/${WORKFLOW}@refs/tags/v*`,
    });
    expect(reusable.san.test(san(`slipway-dev/slipway/${WORKFLOW}@refs/tags/v1`))).toBe(true);
    expect(reusable.san.test(san(`Slipway-Dev/Slipway/${WORKFLOW}@refs/tags/v1`))).toBe(true);
    expect(reusable.san.test(san(`slipway-dev/slipway/.github/workflows/RELEASE.yml@refs/tags/v1`))).toBe(false);
    expect(reusable.san.test(san(`slipway-dev/slipway/${WORKFLOW}@refs/tags/v1@evil`))).toBe(false);
  });

  it('keeps unnamed parts in their own slot', () => {
    const any = identityMatcher({ issuer: context.actionsIssuer, serverUrl: server });
    expect(any.san.test(san(`Acme/App/${WORKFLOW}@refs/pull/1/merge`))).toBe(true);
    expect(any.san.test(san('acme/app@refs/heads/main'))).toBe(false);
    expect(any.san.test(san(`acme/app/${WORKFLOW}@refs/heads/main@x`))).toBe(false);
    expect(any.san.test(`https://evil.example/?${san(`acme/app/${WORKFLOW}@refs/heads/main`)}`)).toBe(false);
  });
});

describe('identityMatcher and the server URL', () => {
  it('defaults to github.com when the policy names no server', () => {
    const matcher = identityMatcher({ issuer: 'https://token.actions.githubusercontent.com', repository: 'acme/app' });
    expect(matcher.san.test(`https://github.com/acme/app/${WORKFLOW}@refs/heads/main`)).toBe(true);
  });

  it('escapes the server URL: a dot in the host is not a wildcard', () => {
    const matcher = identityMatcher(policyOn('https://ghes.example.com', 'https://ghes.example.com/_services/token'));
    expect(matcher.san.test(`https://ghesXexample.com/acme/app/${WORKFLOW}@refs/heads/main`)).toBe(false);
  });

  it('refuses a server URL that is not an http(s) URL', () => {
    expect(() => identityMatcher(policyOn('ghes.example.com', 'https://x'))).toThrow(InvalidValueError);
    expect(() => identityMatcher(policyOn('ftp://ghes.example.com', 'https://x'))).toThrow(
      'Invalid GitHub server URL "ftp://ghes.example.com"',
    );
  });
});

// The loopback Fulcio names the SAN and its URL extensions after the token's issuer, as the real ones do
// (test/support/sigstore.ts), so each host's bundle carries that host's URLs.
describe('verifying real bundles on each host', () => {
  let sigstore: Sigstore;
  const image = digestOf(Buffer.from('identity test image'));

  beforeAll(async () => {
    sigstore = await startSigstore();
  });
  afterAll(async () => {
    await sigstore?.close();
  });

  async function signed(claims: Partial<WorkflowClaims> & { iss: string }) {
    return signStatement(imageStatement(image), keylessSigning(sigstore, claims as Partial<WorkflowClaims>), {
      retry: 0,
    });
  }

  const verifyAs = (bundle: Record<string, unknown>, policy: IdentityPolicy) =>
    verifyBundles({
      candidates: [{ bundle: bundle as never, location: { kind: 'github', id: 1 } }],
      subjectDigest: image,
      trustedRoot: sigstore.trustedRoot,
      policy,
      requiredPredicateTypes: [PREDICATE_TYPES.slsaProvenance],
    });

  it.each(HOSTS)(
    'passes a bundle signed on $name with the policy its context gives, and no other host',
    async ({ context }) => {
      const bundle = await signed({ iss: context.actionsIssuer, repository: 'Acme/App' });
      const policy = policyOn(context.serverUrl, context.actionsIssuer);
      const outcome = await verifyAs(bundle, policy);
      expect(outcome.reasons).toEqual([]);
      expect(outcome.attestations[0]!.signer).toBe(`${context.serverUrl}/Acme/App/${WORKFLOW}@refs/heads/main`);
      expect(outcome.attestations[0]!.checks).toContain(`source repository is ${context.serverUrl}/acme/app`);

      for (const other of HOSTS.filter((h) => h.context.kind !== context.kind)) {
        const elsewhere = await verifyAs(bundle, { ...policy, serverUrl: other.context.serverUrl });
        expect(elsewhere.attestations[0]!.failure).toMatch(/^wrong signer identity: /);
        // The issuer is checked on its own too: another host's default issuer is refused.
        const otherIssuer = await verifyAs(bundle, { ...policy, issuer: other.context.actionsIssuer });
        expect(otherIssuer.attestations[0]!.failure).toMatch(/^wrong issuer: /);
      }
    },
  );

  it('compares the source repository extension without regard to case, as gh does', async () => {
    const github = HOSTS[0]!.context;
    const bundle = await signed({ iss: github.actionsIssuer });
    const outcome = await verifyAs(
      bundle,
      policyOn(github.serverUrl, github.actionsIssuer, { repository: 'ACME/App' }),
    );
    expect(outcome.reasons).toEqual([]);
    expect(outcome.attestations[0]!.checks).toContain('source repository is https://github.com/ACME/App');
  });
});
