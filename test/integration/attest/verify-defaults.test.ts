import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { OciLayoutStore } from '../../../shared/oci/layout.js';
import { findProblem } from '../../../shared/records/validate.js';
import { makeImage, pushImage } from '../../support/images.js';
import { type PhaseResult, repositoryRoot, runActionYml } from '../../support/runner-harness.js';
import { requireTool } from '../../support/services.js';

// The built verify action in its default configuration, as a new user first runs it: only the required inputs,
// no trusted root, outside the runner (github-token's default unevaluated), and with no network at all. Each run
// is inside `unshare -n`, a network namespace with no route out (its loopback is down too), so the TUF fetch of
// the keyless default must fail however the machine is connected, and key-based verification must prove it
// needs nothing from the network. The image is an OCI layout, which needs no registry.

const signYml = join(repositoryRoot, 'actions/sign/action.yml');
const verifyYml = join(repositoryRoot, 'actions/verify/action.yml');
const NO_NETWORK = ['unshare', '--net'];
const VERIFICATION_SCHEMA = 'https://slipway.dev/schemas/verification.schema.json';

let workspace: string;
let image: string;
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const PUBLIC_PEM = publicKey.export({ type: 'spki', format: 'pem' }).toString();

beforeAll(async () => {
  requireTool('unshare', 'util-linux');
  try {
    execFileSync('unshare', ['--net', 'true'], { stdio: 'pipe' });
  } catch (error) {
    throw new Error(
      `unshare --net fails here (${(error as Error).message.split('\n')[0]}): these tests need root or user namespaces, as CI has`,
    );
  }
  workspace = mkdtempSync(join(tmpdir(), 'slipway-verify-defaults-'));
  const built = makeImage({ label: 'verify-defaults' });
  await pushImage(await OciLayoutStore.open(join(workspace, 'layout'), { create: true }), built, ['v1']);
  image = `oci-layout:layout@${built.top.descriptor.digest}`;
});

/** The invariants of every run here: a clear failure or success, never a bug, never a mask of an unevaluated expression. */
function expectClear(result: PhaseResult): void {
  expect(result.stdout).not.toContain('a bug in Slipway');
  expect(result.masks.filter((mask) => mask.includes('${{'))).toEqual([]);
}

const verify = (inputs: Record<string, string>) =>
  runActionYml(verifyYml, { workspace, inputs, wrap: NO_NETWORK, timeoutMs: 90_000 });

describe('verify in its default configuration, with no network', () => {
  it('keyless (image and repository only): fails naming the TUF fetch and the offline way, not as a bug', async () => {
    const { main } = await verify({ image, repository: 'acme/app' });
    expectClear(main);
    expect(main.exitCode).toBe(1);
    expect(main.errors).toHaveLength(1);
    expect(main.errors[0]).toMatch(
      /^Could not fetch the public-good Sigstore trusted root through TUF from https:\/\/tuf-repo-cdn\.sigstore\.dev: .+\. Verifying keyless attestations needs it; without network access to the TUF mirror, give the input 'trusted-root' .* for offline use, or 'key' for attestations signed with a key\.$/,
    );
  }, 120_000);

  describe('key-based (image and key only)', () => {
    beforeAll(async () => {
      // Signing with a key needs no network either; it runs as usual, into the layout's referrers tag.
      const signed = (
        await runActionYml(signYml, {
          workspace,
          env: {
            GITHUB_WORKFLOW_REF: 'acme/app/.github/workflows/release.yml@refs/heads/main',
            GITHUB_REPOSITORY_ID: '1',
          },
          inputs: { image, key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), storage: 'referrer' },
        })
      ).main;
      expect(signed.errors).toEqual([]);
    }, 120_000);

    it('verifies with no trusted root, fetching nothing, and shows the --key command', async () => {
      const { main } = await verify({ image, key: PUBLIC_PEM });
      expectClear(main);
      expect(main.errors).toEqual([]);
      expect(main.outputs.verified).toBe('true');
      const record = JSON.parse(readFileSync(main.outputs.record!, 'utf8'));
      expect(findProblem(VERIFICATION_SCHEMA, record)).toBeUndefined();
      expect(record.trust).toMatchObject({ root: 'none' });
      expect(record.outcome.attestations[0].checks).toContain(
        'transparency log entries and timestamps not checked: no trusted root was given, the key alone is trusted',
      );
      // Outside the runner github.token is not there: the other sources are searched, with a warning.
      expect(main.stdout).toContain(
        '::warning::sources includes github but github-token is not set: the GitHub attestations API is not searched, only referrer.',
      );
      expect(main.summary).toContain('cosign verify-attestation --key key.pub --type slsaprovenance1');
      expect(main.summary).not.toContain('gh attestation verify');
    }, 120_000);

    it('says the attestation was signed by another key, naming both, with code KEY_MISMATCH', async () => {
      const stranger = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;
      const { main } = await verify({ image, key: stranger.export({ type: 'spki', format: 'pem' }).toString() });
      expectClear(main);
      expect(main.exitCode).toBe(1);
      expect(main.outputs.verified).toBe('false');
      expect(main.errors[0]).toMatch(/signed by another key: the attestation names key \S+, the given key is \S+/);
      const record = JSON.parse(readFileSync(main.outputs.record!, 'utf8'));
      expect(findProblem(VERIFICATION_SCHEMA, record)).toBeUndefined();
      expect(record.outcome.attestations[0].code).toBe('KEY_MISMATCH');
      expect(record.outcome.reasons.map((r: { code: string }) => r.code)).toEqual([
        'KEY_MISMATCH',
        'PREDICATE_TYPE_MISSING',
        'NO_VALID_ATTESTATION',
      ]);
    }, 120_000);
  });
});
