import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidValueError, SlipwayError } from '../../../../shared/core/errors.js';
import { dockerConfigCredentials, runCredentialHelper } from '../../../../shared/oci/auth/index.js';

/** Writes `docker-credential-<name>` as an executable shell script. */
async function writeHelper(dir: string, name: string, body: string): Promise<void> {
  const path = join(dir, `docker-credential-${name}`);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
}

describe.skipIf(process.platform === 'win32')('credential helpers', () => {
  let dir: string;
  let binDir: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-helper-'));
    binDir = join(dir, 'bin');
    await mkdir(binDir);
    // Only the test's own environment carries the helper directory; process.env is left alone.
    env = { PATH: `${binDir}${delimiter}${process.env.PATH ?? ''}` };
    await writeHelper(
      binDir,
      'slipwaytest',
      [
        'url=$(cat)',
        'printf \'{"ServerURL":"%s","Username":"helper-user","Secret":"secret:for:%s:%s"}\' "$url" "$url" "$1"',
      ].join('\n'),
    );
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('passes "get" as the only argument and the server URL on stdin', async () => {
    expect(await runCredentialHelper('slipwaytest', 'ghcr.io', { env })).toEqual({
      username: 'helper-user',
      password: 'secret:for:ghcr.io:get',
    });
    expect(await runCredentialHelper('slipwaytest', '127.0.0.1:5000', { env })).toEqual({
      username: 'helper-user',
      password: 'secret:for:127.0.0.1:5000:get',
    });
  });

  it('asks for Docker Hub under the server URL docker login uses', async () => {
    expect((await runCredentialHelper('slipwaytest', 'docker.io', { env }))?.password).toBe(
      'secret:for:https://index.docker.io/v1/:get',
    );
  });

  it('reads an identity token when the username is <token>', async () => {
    await writeHelper(
      binDir,
      'identity',
      'cat >/dev/null\necho \'{"ServerURL":"x","Username":"<token>","Secret":"refresh-me"}\'',
    );
    expect(await runCredentialHelper('identity', 'ghcr.io', { env })).toEqual({ identityToken: 'refresh-me' });
  });

  it('answers undefined when the helper has no credentials', async () => {
    await writeHelper(binDir, 'notfound', 'cat >/dev/null\necho "credentials not found in native keychain"\nexit 1');
    expect(await runCredentialHelper('notfound', 'ghcr.io', { env })).toBeUndefined();
  });

  it('answers undefined for an empty secret', async () => {
    await writeHelper(binDir, 'empty', 'cat >/dev/null\necho \'{"ServerURL":"x","Username":"","Secret":""}\'');
    expect(await runCredentialHelper('empty', 'ghcr.io', { env })).toBeUndefined();
  });

  it('reports any other failure with the helper name and its stderr', async () => {
    await writeHelper(binDir, 'broken', 'cat >/dev/null\necho "  error: keychain is locked  " >&2\nexit 3');
    const error = await runCredentialHelper('broken', 'ghcr.io', { env }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlipwayError);
    expect((error as Error).message).toBe(
      'Credential helper docker-credential-broken failed for ghcr.io (exit code 3): "error: keychain is locked".',
    );
  });

  it('reports a failure the helper printed on stdout, as docker-credential-helpers do', async () => {
    await writeHelper(binDir, 'stdouterr', 'echo "error getting credentials - err: exit status 1"\nexit 1');
    await expect(runCredentialHelper('stdouterr', 'ghcr.io', { env })).rejects.toThrow(
      /docker-credential-stdouterr failed for ghcr.io \(exit code 1\): "error getting credentials/,
    );
  });

  it('reports output that is not JSON without quoting it', async () => {
    await writeHelper(binDir, 'garbled', 'cat >/dev/null\necho "Username=u Secret=hunter2-secret"');
    const error = (await runCredentialHelper('garbled', 'ghcr.io', { env }).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(SlipwayError);
    expect(error.message).toContain('docker-credential-garbled');
    expect(error.message).not.toContain('hunter2');
  });

  it('names a helper missing from PATH', async () => {
    await expect(runCredentialHelper('absent', 'ghcr.io', { env })).rejects.toThrow(
      /docker-credential-absent, configured for ghcr.io, was not found on PATH/,
    );
  });

  it('ignores relative PATH entries', async () => {
    const relative = { PATH: 'bin' };
    await expect(runCredentialHelper('slipwaytest', 'ghcr.io', { env: relative })).rejects.toThrow(/not found on PATH/);
  });

  it('does not run a file that is not executable', async () => {
    await writeFile(join(binDir, 'docker-credential-plain'), '#!/bin/sh\necho {}\n', { mode: 0o644 });
    await expect(runCredentialHelper('plain', 'ghcr.io', { env })).rejects.toThrow(/not found on PATH/);
  });

  it.each(['../bin/slipwaytest', 'a b', 'x;rm -rf /', '$(id)', ''])('refuses the helper name %j', async (name) => {
    await expect(runCredentialHelper(name, 'ghcr.io', { env })).rejects.toThrow(InvalidValueError);
  });

  it('gives up on a helper that does not answer in time, even if its children hold the pipes open', async () => {
    await writeHelper(binDir, 'slow', 'sleep 5\necho "{}"');
    const started = Date.now();
    await expect(runCredentialHelper('slow', 'ghcr.io', { env, timeoutMs: 300 })).rejects.toThrow(
      /docker-credential-slow did not answer for ghcr.io within 0.3 s/,
    );
    expect(Date.now() - started).toBeLessThan(3000);
  });

  describe('from docker config', () => {
    it('runs the credsStore helper found on the given PATH', async () => {
      const configDir = join(dir, 'docker');
      await mkdir(configDir);
      await writeFile(join(configDir, 'config.json'), JSON.stringify({ auths: {}, credsStore: 'slipwaytest' }));
      const source = dockerConfigCredentials({ env: { ...env, DOCKER_CONFIG: configDir }, homeDir: dir });
      expect(await source.get('ghcr.io')).toEqual({ username: 'helper-user', password: 'secret:for:ghcr.io:get' });
    });

    it('propagates a helper failure rather than answering without credentials', async () => {
      await writeHelper(binDir, 'broken', 'echo "D-Bus is not running" >&2\nexit 1');
      const configDir = join(dir, 'docker');
      await mkdir(configDir);
      await writeFile(join(configDir, 'config.json'), JSON.stringify({ credHelpers: { 'ghcr.io': 'broken' } }));
      const source = dockerConfigCredentials({ env: { ...env, DOCKER_CONFIG: configDir }, homeDir: dir });
      await expect(source.get('ghcr.io')).rejects.toThrow(/docker-credential-broken failed for ghcr.io.*D-Bus/);
    });
  });
});
