import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { publicKeyInput, searchableSources, verify } from '../../../actions/verify/definition.js';
import { equivalentCommands } from '../../../shared/attest/run-verify.js';
import { ConfigurationError } from '../../../shared/core/errors.js';
import { digestOf } from '../../../shared/oci/digest.js';
import { GITHUB_TOKEN_EXPRESSION, readInputs } from '../../../shared/runner/inputs.js';

// The verify action's input handling and the commands its summary prints, as pure functions.

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const PUBLIC_PEM = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const PRIVATE_PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

function keyError(given: string): string {
  try {
    publicKeyInput(given);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as Error).message;
  }
  throw new Error('accepted');
}

describe('the key input', () => {
  it('takes a PEM public key', () => {
    expect(publicKeyInput(`\n${PUBLIC_PEM}`)).toBe(PUBLIC_PEM);
  });

  it.each([
    ['a private key', PRIVATE_PEM, 'it is a private key; give its public key (openssl pkey -pubout)'],
    ['a path', 'keys/cosign.pub', 'it is not PEM: it looks like a file path, and key takes the PEM text itself'],
    ['garbage', 'not a key', 'it is not PEM (no -----BEGIN line)'],
    [
      'a broken PEM',
      '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n',
      'it is PEM but not a public key Node can read',
    ],
  ])('refuses %s, naming the input and never quoting the value', (_what, given, detail) => {
    const message = keyError(given);
    expect(message).toContain("Input 'key' is the given value: ");
    expect(message).toContain(detail);
    expect(message).toContain('expected a PEM public key (-----BEGIN PUBLIC KEY-----)');
    expect(message).not.toContain(given.split('\n')[1] || given);
  });
});

describe('searchableSources', () => {
  const said: string[] = [];
  const logger = {
    info: (message: string) => said.push(`info: ${message}`),
    warning: (message: string) => said.push(`warning: ${message}`),
  };
  const keyless = { githubToken: 'ghs_x', keyBased: false };

  it('keeps every source for keyless verification with a token, or when github is not asked for', () => {
    expect(searchableSources(['referrer', 'github'], keyless, logger)).toEqual(['referrer', 'github']);
    expect(searchableSources(['referrer'], { githubToken: undefined, keyBased: true }, logger)).toEqual(['referrer']);
    expect(said).toEqual([]);
  });

  it('searches the others, with a warning, when the GitHub API has no token', () => {
    expect(searchableSources(['referrer', 'github'], { ...keyless, githubToken: undefined }, logger)).toEqual([
      'referrer',
    ]);
    expect(said.splice(0)).toEqual([
      'warning: sources includes github but github-token is not set: the GitHub attestations API is not searched, only referrer.',
    ]);
  });

  it('fails on github alone without a token', () => {
    expect(() => searchableSources(['github'], { ...keyless, githubToken: undefined }, logger)).toThrow(
      "Input 'github-token' is empty: sources is only github, and the GitHub attestations API needs a token",
    );
  });

  it('leaves the GitHub API out of key-based verification unless it is the only source asked for', () => {
    const keyBased = { githubToken: 'ghs_x', keyBased: true };
    expect(searchableSources(['referrer', 'github'], keyBased, logger)).toEqual(['referrer']);
    expect(said.splice(0)).toEqual([
      'info: Key-based verification searches referrer and not the GitHub attestations API, which serves keyless ' +
        'attestations to gh attestation verify; set sources to github alone to search it.',
    ]);
    expect(searchableSources(['github'], keyBased, logger)).toEqual(['github']);
    expect(said).toEqual([]);
  });
});

describe("github-token's default outside the runner", () => {
  it('is no token: never masked, never used', () => {
    const masked: string[] = [];
    const env: Record<string, string> = {
      image: `ghcr.io/acme/app@${digestOf(Buffer.from('x'))}`,
      // What a harness or the CLI passes when it copies action.yml's default as the runner would not.
      'github-token': GITHUB_TOKEN_EXPRESSION,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, as the runner would not pass it.
      password: '${{ secrets.REGISTRY_PASSWORD }}',
    };
    const inputs = readInputs(
      verify.inputs,
      (name) => env[name],
      (value) => masked.push(value),
    );
    expect(inputs['github-token']).toBeUndefined();
    expect(inputs.password).toBeUndefined();
    expect(masked).toEqual([]);
  });

  it('leaves a real token alone, and masks it', () => {
    const masked: string[] = [];
    const inputs = readInputs(
      verify.inputs,
      (name) => ({ 'github-token': 'ghs_real', image: `ghcr.io/acme/app@${digestOf(Buffer.from('x'))}` })[name],
      (value) => masked.push(value),
    );
    expect(inputs['github-token']).toBe('ghs_real');
    expect(masked).toEqual(['ghs_real']);
  });
});

describe('equivalentCommands', () => {
  const digest = digestOf(Buffer.from('image'));
  const base = {
    policy: {
      issuer: 'https://token.actions.githubusercontent.com',
      repository: 'acme/app',
      workflow: '.github/workflows/release.yml',
    },
    requiredPredicateTypes: ['https://slsa.dev/provenance/v1'],
    sources: ['referrer' as const, 'github' as const],
  };

  it('gives gh and keyless cosign for keyless verification', () => {
    const commands = equivalentCommands('ghcr.io/acme/app', digest, base);
    expect(commands.gh).toBe(
      `gh attestation verify oci://ghcr.io/acme/app@${digest} --repo acme/app --signer-workflow acme/app/.github/workflows/release.yml --predicate-type https://slsa.dev/provenance/v1`,
    );
    expect(commands.cosign).toMatch(/^cosign verify-attestation --type slsaprovenance1 --certificate-identity-regexp /);
  });

  it('gives only the --key form of cosign after a key-based verify, gh having no key-based mode', () => {
    const keyOnly = equivalentCommands('ghcr.io/acme/app', digest, { ...base, publicKeyPem: PUBLIC_PEM });
    expect(keyOnly).toEqual({
      cosign: `cosign verify-attestation --key key.pub --type slsaprovenance1 --insecure-ignore-tlog=true ghcr.io/acme/app@${digest}`,
    });
    // With a trusted root the log is checked, by Slipway and so by cosign.
    const withRoot = equivalentCommands('ghcr.io/acme/app', digest, {
      ...base,
      publicKeyPem: PUBLIC_PEM,
      trustedRoot: {},
    });
    expect(withRoot).toEqual({
      cosign: `cosign verify-attestation --key key.pub --type slsaprovenance1 ghcr.io/acme/app@${digest}`,
    });
  });
});
