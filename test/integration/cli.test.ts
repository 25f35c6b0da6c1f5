import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appCheckout, runCli } from '../support/cli.js';
import { skopeo, startRegistry, type TestRegistry } from '../support/services.js';

// The slipway CLI as shipped (dist/cli/index.mjs), run in a real git checkout against a real registry.

let registry: TestRegistry;

beforeAll(async () => {
  registry = await startRegistry();
});
afterAll(async () => registry?.stop());

const checkout = () => appCheckout('slipway-cli-', { date: '2026-03-01T10:00:00Z', tag: 'v3.1.0' });

describe('slipway CLI', () => {
  it('builds from a checkout, copies to a registry, and lists what is there', () => {
    const dir = checkout();
    const built = runCli(
      ['build', '--image', 'oci-layout:out', '--directories', 'app:/app', '--platforms', 'linux/amd64'],
      dir,
    );
    expect(built.stderr).toContain('Builder: native (directories were given)');
    expect(built.code).toBe(0);
    const outputs = JSON.parse(built.stdout) as Record<string, string>;
    // HEAD is tagged v3.1.0, so the semver rules apply as they would on a tag push.
    expect(outputs.tags!.split('\n').map((ref) => ref.split(':').pop())).toEqual([
      '3.1.0',
      '3.1',
      expect.stringMatching(/^sha-[0-9a-f]{7}$/),
      'latest',
    ]);

    const copied = runCli(['copy', 'oci-layout:out:3.1.0', `${registry.host}/acme/cli:3.1.0`], dir);
    expect(copied.code).toBe(0);
    const digest = (
      JSON.parse(skopeo(['inspect', '--tls-verify=false', `docker://${registry.host}/acme/cli:3.1.0`])) as {
        Digest: string;
      }
    ).Digest;
    expect(digest).toBe(outputs.digest);

    const tags = runCli(['tags', `${registry.host}/acme/cli`], dir);
    expect(JSON.parse(tags.stdout)).toEqual(['3.1.0']);
    const referrers = runCli(['referrers', `${registry.host}/acme/cli@${digest}`], dir);
    expect(JSON.parse(referrers.stdout)).toEqual([]);
  });

  it('exits 2 with one error naming the input for a mistake, before touching anything', () => {
    const dir = checkout();
    const result = runCli(['build', '--image', 'Not A Repo', '--directories', 'app:/app'], dir);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^error: Input 'image' is "Not A Repo": /),
    ]);
    expect(runCli(['build', '--colour', 'blue'], dir).stderr).toMatch(/there is no input "colour"/);
  });
});
