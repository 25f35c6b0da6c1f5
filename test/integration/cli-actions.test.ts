import { generateKeyPairSync } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appCheckout, runCli } from '../support/cli.js';
import { type OsvServer, startOsvServer } from '../support/osv-server.js';
import { readActionMetadata, repositoryRoot } from '../support/runner-harness.js';
import { skopeo, startRegistry, type TestRegistry } from '../support/services.js';

// The action commands of the shipped CLI (dist/cli/index.mjs): sbom, sign and verify as the README shows them,
// on the example image in examples/hello-image (an OCI layout of two platforms) and a real registry, and the
// help each command prints from its action.yml.

const exampleIndex = 'sha256:164fe1437631cbe803df9747dfb7ddd831f1ac506b9c786507a19b6edfabbabc';
let registry: TestRegistry;
let privateRegistry: TestRegistry;
let osv: OsvServer;

beforeAll(async () => {
  registry = await startRegistry();
  privateRegistry = await startRegistry({ auth: true });
  osv = await startOsvServer();
});
afterAll(async () => {
  await registry?.stop();
  await privateRegistry?.stop();
  await osv?.close();
});

// A fixed time: the example has no created time.
const slipway = (args: string[], cwd: string, env: Record<string, string> = {}) =>
  runCli(args, cwd, { env: { SOURCE_DATE_EPOCH: '1767225600', ...env }, timeoutMs: 60_000 });

/** A copy of the example image layout, so nothing a test does can write into the repository. */
function exampleLayout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-cli-actions-'));
  cpSync(join(repositoryRoot, 'examples/hello-image'), join(dir, 'hello-image'), { recursive: true });
  return dir;
}

const collapse = (text: string) => text.replace(/\s+/g, ' ');

describe('slipway <action> --help, as built', () => {
  it('lists sbom, sign and verify with build, and describes every input of sbom from its action.yml', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-cli-actions-'));
    const top = slipway(['--help'], dir);
    expect(top.code).toBe(0);
    for (const name of ['build', 'sbom', 'sign', 'verify']) expect(top.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));

    const help = slipway(['sbom', '--help'], dir);
    expect(help.code).toBe(0);
    expect(help.stderr).toBe('');
    const yml = readActionMetadata(join(repositoryRoot, 'actions/sbom/action.yml'));
    for (const [name, input] of Object.entries(yml.inputs ?? {})) {
      expect(help.stdout, name).toMatch(new RegExp(`^  --${name} .*\\((required|optional)`, 'm'));
      expect(collapse(help.stdout)).toContain(collapse(input.description!));
      if (input.default !== undefined) expect(help.stdout).toContain(`Default: ${input.default}`);
    }
    expect(help.stdout).toMatch(/^ {2}--image VALUE {2}\(optional\)$/m);
  });

  it('exits 2 with one error naming an input when an action is given nothing, before touching anything', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-cli-actions-'));
    for (const name of ['build', 'sbom', 'sign', 'verify']) {
      const result = slipway([name], dir);
      expect(result.code, name).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr.trim().split('\n'), name).toEqual([expect.stringMatching(/^error: Input '[a-z-]+' is /)]);
    }
  });
});

describe('slipway sbom, sign and verify, as built', () => {
  it('describes the example layout on disk without attaching anything', () => {
    const dir = exampleLayout();
    const result = slipway(
      ['sbom', '--image', `oci-layout:hello-image@${exampleIndex}`, '--attach', 'false', '--osv-url', osv.url],
      dir,
    );
    expect(result.stderr).not.toMatch(/a bug in Slipway/);
    expect(result.code).toBe(0);
    const outputs = JSON.parse(result.stdout) as Record<string, string>;
    expect(outputs.decision).toBe('pass');
    const files = JSON.parse(outputs.files!) as { platform: string; format: string; path: string }[];
    expect(files.map((f) => `${f.platform} ${f.format}`).sort()).toEqual([
      'linux/amd64 cyclonedx',
      'linux/amd64 spdx',
      'linux/arm64 cyclonedx',
      'linux/arm64 spdx',
    ]);
    for (const file of files) expect(existsSync(file.path), file.path).toBe(true);
    expect(JSON.parse(readFileSync(outputs.record!, 'utf8'))).toMatchObject({ decision: 'pass' });
  });

  it('names output-dir when it is a file, before reading the image', () => {
    const dir = exampleLayout();
    writeFileSync(join(dir, 'sboms'), '');
    const result = slipway(
      ['sbom', '--image', `oci-layout:hello-image@${exampleIndex}`, '--attach', 'false', '--output-dir', 'sboms'],
      dir,
    );
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim()).toBe(
      `error: Input 'output-dir' is "sboms": ${join(dir, 'sboms')} is a file, not a directory; expected a directory, ` +
        'created if missing.',
    );
  });

  it('attaches SBOMs, signs them with a key and verifies them, as the README shows', () => {
    const dir = exampleLayout();
    const repository = `${registry.host}/acme/hello`;
    expect(slipway(['copy', `oci-layout:hello-image:v1`, `${repository}:v1`], dir).code).toBe(0);
    const image = `${repository}@${exampleIndex}`;

    const described = slipway(['sbom', '--image', image, '--osv-url', osv.url], dir);
    expect(described.stderr).not.toMatch(/a bug in Slipway/);
    expect(described.code).toBe(0);
    const sbom = JSON.parse(described.stdout) as Record<string, string>;
    const files = JSON.parse(sbom.files!) as { manifestDigest: string; attached?: unknown }[];
    const amd64 = files[0]!.manifestDigest;
    // Attached where an independent client sees it: distribution 2.8 has no referrers API, so the tag fallback.
    const fallbackTags = JSON.parse(skopeo(['list-tags', '--tls-verify=false', `docker://${repository}`])) as {
      Tags: string[];
    };
    expect(fallbackTags.Tags).toContain(amd64.replace(':', '-'));

    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    // The README's form, `--key "$(cat key.pem)"`: the PEM, dashes first, is the flag's value. Outside a
    // workflow run there is no provenance to give and no GitHub store to use.
    const signed = slipway(
      [
        'sign',
        '--image',
        image,
        '--key',
        pem,
        '--provenance',
        'false',
        '--storage',
        'referrer',
        '--sbom-files',
        sbom.files!,
      ],
      dir,
    );
    expect(signed.stderr).not.toMatch(/a bug in Slipway/);
    expect(signed.code).toBe(0);
    expect(signed.stdout + signed.stderr).not.toContain('PRIVATE KEY');
    const bundles = JSON.parse(JSON.parse(signed.stdout).bundles) as { predicateType: string }[];
    expect(bundles).toHaveLength(4);

    const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const verify = (key: string) =>
      slipway(
        [
          'verify',
          '--image',
          `${repository}@${amd64}`,
          '--key',
          key,
          '--sources',
          'referrer',
          '--predicate-types',
          'https://cyclonedx.org/bom,https://spdx.dev/Document',
        ],
        dir,
      );
    const verified = verify(publicPem);
    expect(verified.stderr).not.toMatch(/a bug in Slipway/);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ verified: 'true' });

    // A failed verification still prints its outputs, so a script can read the record, and exits 1.
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;
    const refused = verify(other.export({ type: 'spki', format: 'pem' }).toString());
    expect(refused.code).toBe(1);
    const outputs = JSON.parse(refused.stdout) as Record<string, string>;
    expect(outputs.verified).toBe('false');
    expect(existsSync(outputs.record!)).toBe(true);
  });
});

describe('a secret that is part of a value a program reads', () => {
  it('is an error naming the output or record and the input, never a masked value', () => {
    const dir = appCheckout('slipway-cli-actions-');
    const { username, password } = privateRegistry.credentials!;
    // The password is also the repository's first path component, as `acme` was in the report.
    const built = slipway(
      [
        'build',
        '--image',
        `${privateRegistry.host}/${password}/sec`,
        '--username',
        username,
        '--password',
        password,
        '--directories',
        'app:/app',
        '--platforms',
        'linux/amd64',
      ],
      dir,
    );
    expect(built.code).toBe(1);
    expect(built.stderr).toMatch(
      /^error: (Output '(image|tags|subject)'|The record build\.json) would contain the value of the secret input 'password'; refusing to write it/m,
    );
    expect(built.stderr).not.toMatch(/a bug in Slipway/);
    // Whatever was printed is exact: no value was masked on its way out.
    expect(built.stdout).not.toContain('***');
  });
});
