import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidValueError } from '../../../../shared/core/errors.js';
import {
  chainCredentials,
  dockerConfigCredentials,
  explicitCredentials,
  normaliseRegistry,
} from '../../../../shared/oci/auth/index.js';

const basic = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString('base64');

describe('dockerConfigCredentials', () => {
  let dir: string;
  let home: string;
  let binDir: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-docker-config-'));
    home = join(dir, 'home');
    binDir = join(dir, 'bin');
    await mkdir(join(home, '.docker'), { recursive: true });
    await mkdir(binDir);
    // A minimal environment: nothing from the machine running the tests (its HOME, DOCKER_CONFIG) leaks in.
    env = { PATH: `${binDir}${delimiter}${process.env.PATH ?? ''}` };
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const writeJson = async (path: string, value: unknown) => {
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, typeof value === 'string' ? value : JSON.stringify(value));
  };
  const writeDockerConfig = (value: unknown) => writeJson(join(home, '.docker', 'config.json'), value);
  const source = () => dockerConfigCredentials({ env, homeDir: home });

  it('normalises the keys of auths', async () => {
    await writeDockerConfig({
      auths: {
        'https://index.docker.io/v1/': { auth: basic('hub-user', 'hub-pass') },
        'https://ghcr.io': { username: 'gh-user', password: 'gh-pass' },
        'registry.example.com/v2/': { auth: basic('example-user', 'example-pass') },
        '127.0.0.1:5000': { auth: basic('local-user', 'local-pass') },
        'HTTP://Quay.IO/v1/': { auth: basic('quay-user', 'quay-pass') },
      },
    });
    const credentials = source();
    expect(await credentials.get('docker.io')).toEqual({ username: 'hub-user', password: 'hub-pass' });
    expect(await credentials.get('index.docker.io')).toEqual({ username: 'hub-user', password: 'hub-pass' });
    expect(await credentials.get('ghcr.io')).toEqual({ username: 'gh-user', password: 'gh-pass' });
    expect(await credentials.get('registry.example.com')).toEqual({
      username: 'example-user',
      password: 'example-pass',
    });
    expect(await credentials.get('127.0.0.1:5000')).toEqual({ username: 'local-user', password: 'local-pass' });
    expect(await credentials.get('quay.io')).toEqual({ username: 'quay-user', password: 'quay-pass' });
    expect(await credentials.get('127.0.0.1:5001')).toBeUndefined();
    expect(await credentials.get('example.com')).toBeUndefined();
  });

  it('splits auth at the first colon only', async () => {
    await writeDockerConfig({ auths: { 'ghcr.io': { auth: basic('bot', 'pa:ss:word:') } } });
    expect(await source().get('ghcr.io')).toEqual({ username: 'bot', password: 'pa:ss:word:' });
  });

  it('reads identity and registry tokens', async () => {
    await writeDockerConfig({
      auths: {
        'ghcr.io': { auth: basic('<token>', ''), identitytoken: 'refresh-token' },
        'registry.example.com': { registrytoken: 'bearer-token' },
        'empty.example.com': {},
      },
    });
    const credentials = source();
    expect(await credentials.get('ghcr.io')).toEqual({
      username: '<token>',
      password: '',
      identityToken: 'refresh-token',
    });
    expect(await credentials.get('registry.example.com')).toEqual({ registryToken: 'bearer-token' });
    expect(await credentials.get('empty.example.com')).toBeUndefined();
  });

  it('prefers a plain host key to other spellings of the same registry', async () => {
    await writeDockerConfig({
      auths: {
        'https://ghcr.io/v1/': { auth: basic('legacy', 'x') },
        'ghcr.io': { auth: basic('plain', 'y') },
        'https://ghcr.io': { auth: basic('scheme', 'z') },
      },
    });
    expect((await source().get('ghcr.io'))?.username).toBe('plain');
  });

  it('reads $DOCKER_CONFIG/config.json instead of the home directory', async () => {
    await writeDockerConfig({ auths: { 'ghcr.io': { auth: basic('home', 'x') } } });
    const configDir = join(dir, 'elsewhere');
    await writeJson(join(configDir, 'config.json'), { auths: { 'ghcr.io': { auth: basic('docker-config', 'y') } } });
    const credentials = dockerConfigCredentials({ env: { ...env, DOCKER_CONFIG: configDir }, homeDir: home });
    expect((await credentials.get('ghcr.io'))?.username).toBe('docker-config');
    expect(credentials.description).toContain(join(configDir, 'config.json'));
  });

  it('answers undefined when there is no config file, or an empty one', async () => {
    expect(await source().get('ghcr.io')).toBeUndefined();
    await writeDockerConfig('  \n');
    expect(await source().get('ghcr.io')).toBeUndefined();
  });

  it('reports malformed JSON naming the file, without quoting its content', async () => {
    await writeDockerConfig(`{\n  "auths": {\n    "ghcr.io": { "auth": "${basic('u', 'do-not-print')}" },\n  }\n}`);
    const path = join(home, '.docker', 'config.json');
    const error = (await source()
      .get('ghcr.io')
      .catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(InvalidValueError);
    expect(error.message).toContain(path);
    expect(error.message).toContain('not valid JSON');
    expect(error.message).not.toContain(basic('u', 'do-not-print'));
  });

  it.each<[string, unknown, RegExp]>([
    ['a top level that is not an object', [], /top level is not an object/],
    ['auths that is not an object', { auths: ['ghcr.io'] }, /"auths" is not an object/],
    ['an entry that is not an object', { auths: { 'ghcr.io': 'x' } }, /auths\["ghcr.io"\] is not an object/],
    ['auth that is not a string', { auths: { 'ghcr.io': { auth: 42 } } }, /"auth" that is not a string/],
    ['auth that is not base64', { auths: { 'ghcr.io': { auth: 'not base64!' } } }, /not base64 of "username:password"/],
    ['auth without a colon', { auths: { 'ghcr.io': { auth: btoa('nocolon') } } }, /not base64/],
    ['credHelpers that is not an object', { credHelpers: 'pass' }, /"credHelpers" is not an object/],
    ['credsStore that is not a string', { credsStore: 1 }, /"credsStore" is not a string/],
    ['a helper name with a path', { credsStore: '../../tmp/evil' }, /credential helper name/],
    ['a helper name with shell syntax', { credHelpers: { 'ghcr.io': 'x;id' } }, /credential helper name/],
  ])('reports %s', async (_name, content, message) => {
    await writeDockerConfig(content);
    const error = (await source()
      .get('ghcr.io')
      .catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(InvalidValueError);
    expect(error.message).toMatch(message);
  });

  describe.skipIf(process.platform === 'win32')('with credential helpers', () => {
    it('asks credHelpers[registry] before credsStore, and credsStore before auths', async () => {
      const helper = async (name: string, body: string) => {
        const path = join(binDir, `docker-credential-${name}`);
        await writeFile(path, `#!/bin/sh\nurl=$(cat)\n${body}\n`);
        await chmod(path, 0o755);
      };
      await helper('perregistry', 'printf \'{"ServerURL":"%s","Username":"from-cred-helper","Secret":"a"}\' "$url"');
      await helper(
        'store',
        [
          'case "$url" in',
          '  inline-only.example) echo "credentials not found in native keychain"; exit 1;;',
          'esac',
          'printf \'{"ServerURL":"%s","Username":"from-store","Secret":"b"}\' "$url"',
        ].join('\n'),
      );
      await writeDockerConfig({
        auths: {
          'ghcr.io': { auth: basic('from-auths', 'c') },
          'quay.io': { auth: basic('from-auths', 'c') },
          'inline-only.example': { auth: basic('from-auths', 'c') },
        },
        credHelpers: { 'ghcr.io': 'perregistry', 'https://index.docker.io/v1/': 'perregistry' },
        credsStore: 'store',
      });
      const credentials = source();
      expect((await credentials.get('ghcr.io'))?.username).toBe('from-cred-helper');
      expect((await credentials.get('docker.io'))?.username).toBe('from-cred-helper');
      expect((await credentials.get('quay.io'))?.username).toBe('from-store');
      expect((await credentials.get('inline-only.example'))?.username).toBe('from-auths');
    });
  });

  describe('containers auth file', () => {
    it('reads $REGISTRY_AUTH_FILE', async () => {
      const authFile = join(dir, 'auth.json');
      await writeJson(authFile, { auths: { 'quay.io': { auth: basic('podman', 'p:w') } } });
      const credentials = dockerConfigCredentials({ env: { ...env, REGISTRY_AUTH_FILE: authFile }, homeDir: home });
      expect(await credentials.get('quay.io')).toEqual({ username: 'podman', password: 'p:w' });
      expect(credentials.description).toContain(authFile);
    });

    it('falls back to $XDG_RUNTIME_DIR/containers/auth.json', async () => {
      const runtime = join(dir, 'run');
      await writeJson(join(runtime, 'containers', 'auth.json'), { auths: { 'quay.io': { auth: basic('xdg', 'x') } } });
      const credentials = dockerConfigCredentials({ env: { ...env, XDG_RUNTIME_DIR: runtime }, homeDir: home });
      expect((await credentials.get('quay.io'))?.username).toBe('xdg');
    });

    it('prefers $REGISTRY_AUTH_FILE to $XDG_RUNTIME_DIR', async () => {
      const runtime = join(dir, 'run');
      const authFile = join(dir, 'auth.json');
      await writeJson(join(runtime, 'containers', 'auth.json'), { auths: { 'quay.io': { auth: basic('xdg', 'x') } } });
      await writeJson(authFile, { auths: { 'quay.io': { auth: basic('explicit', 'x') } } });
      const credentials = dockerConfigCredentials({
        env: { ...env, XDG_RUNTIME_DIR: runtime, REGISTRY_AUTH_FILE: authFile },
        homeDir: home,
      });
      expect((await credentials.get('quay.io'))?.username).toBe('explicit');
    });

    it('lets the docker config win for a registry both know', async () => {
      const authFile = join(dir, 'auth.json');
      await writeDockerConfig({ auths: { 'ghcr.io': { auth: basic('docker', 'x') } } });
      await writeJson(authFile, {
        auths: { 'ghcr.io': { auth: basic('podman', 'y') }, 'quay.io': { auth: basic('podman', 'z') } },
      });
      const credentials = dockerConfigCredentials({ env: { ...env, REGISTRY_AUTH_FILE: authFile }, homeDir: home });
      expect((await credentials.get('ghcr.io'))?.username).toBe('docker');
      expect((await credentials.get('quay.io'))?.username).toBe('podman');
    });

    it('leaves out keys scoped to a namespace, which cannot be matched by registry', async () => {
      const authFile = join(dir, 'auth.json');
      await writeJson(authFile, {
        auths: {
          'quay.io/acme': { auth: basic('namespaced', 'x') },
          'registry.example.com/v2/': { auth: basic('versioned', 'x') },
          'https://legacy.example.com/v1/': { auth: basic('legacy', 'x') },
        },
      });
      const credentials = dockerConfigCredentials({ env: { ...env, REGISTRY_AUTH_FILE: authFile }, homeDir: home });
      expect(await credentials.get('quay.io')).toBeUndefined();
      expect((await credentials.get('registry.example.com'))?.username).toBe('versioned');
      expect((await credentials.get('legacy.example.com'))?.username).toBe('legacy');
    });

    it('reports a malformed containers auth file naming it', async () => {
      const authFile = join(dir, 'auth.json');
      await writeJson(authFile, '{"auths": ');
      const credentials = dockerConfigCredentials({ env: { ...env, REGISTRY_AUTH_FILE: authFile }, homeDir: home });
      await expect(credentials.get('quay.io')).rejects.toThrow(
        /Invalid containers auth file ".*auth\.json": not valid JSON/,
      );
    });
  });
});

describe('explicitCredentials and chainCredentials', () => {
  it('answer only for the registry given', async () => {
    const explicit = explicitCredentials('https://GHCR.io/', 'bot', 'token');
    expect(await explicit.get('ghcr.io')).toEqual({ username: 'bot', password: 'token' });
    expect(await explicit.get('quay.io')).toBeUndefined();
    expect(explicit.description).toBe('explicit credentials for ghcr.io');
    expect(() => explicitCredentials('  ', 'bot', 'token')).toThrow(InvalidValueError);
  });

  it('takes the first source that answers', async () => {
    const chain = chainCredentials(
      explicitCredentials('ghcr.io', 'first', 'a'),
      explicitCredentials('ghcr.io', 'second', 'b'),
      explicitCredentials('quay.io', 'third', 'c'),
    );
    expect((await chain.get('ghcr.io'))?.username).toBe('first');
    expect((await chain.get('quay.io'))?.username).toBe('third');
    expect(await chain.get('docker.io')).toBeUndefined();
    expect(chain.description).toBe(
      'explicit credentials for ghcr.io, then explicit credentials for ghcr.io, then explicit credentials for quay.io',
    );
  });

  it.each([
    ['https://index.docker.io/v1/', 'docker.io'],
    ['registry-1.docker.io', 'docker.io'],
    ['GHCR.IO', 'ghcr.io'],
    ['ghcr.io/v2/', 'ghcr.io'],
    ['http://localhost:5000/v2', 'localhost:5000'],
    ['[::1]:5000', '[::1]:5000'],
  ])('normalises %s to %s', (key, host) => {
    expect(normaliseRegistry(key)).toBe(host);
  });
});
