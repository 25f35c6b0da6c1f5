import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf } from '../../../shared/oci/digest.js';
import { RegistryClient } from '../../../shared/oci/registry.js';
import { harnessEvent } from '../../support/events.js';
import { repositoryRoot, runActionYml } from '../../support/runner-harness.js';
import { writeServerApp } from '../../support/server-app.js';
import { requireTool, skopeo, startRegistry, type TestRegistry } from '../../support/services.js';

// The build action as the runner runs it: dist/build/index.mjs with INPUT_* and a recorded event, against
// Debian's docker-registry and buildah, with skopeo as the independent judge of every digest and tag.

const actionYml = join(repositoryRoot, 'actions/build/action.yml');
let registry: TestRegistry;
let locked: TestRegistry;

beforeAll(async () => {
  requireTool('buildah', 'buildah');
  [registry, locked] = await Promise.all([startRegistry(), startRegistry({ auth: true })]);
});

afterAll(async () => {
  await Promise.all([registry?.stop(), locked?.stop()]);
});

/** A workspace with a RUN-less app: a "static binary" and a Node app with node_modules. */
function appWorkspace(): string {
  const workspace = mkdtempSync(join(tmpdir(), 'slipway-build-ws-'));
  writeServerApp(workspace);
  return workspace;
}

const skopeoDigest = (ref: string) =>
  (JSON.parse(skopeo(['inspect', '--tls-verify=false', '--no-tags', `docker://${ref}`])) as { Digest: string }).Digest;

const tagRelease = harnessEvent('push-tag');

/** The build action as a workflow runs it on the push of the tag v1.2.3. */
const buildOnTag = (workspace: string, inputs: Record<string, string>) =>
  runActionYml(actionYml, { workspace, event: tagRelease.event, env: tagRelease.env, inputs });

describe('build action, native builder', () => {
  it('pushes a two-platform image whose every tag skopeo resolves to the reported digest', async () => {
    const workspace = appWorkspace();
    const inputs = {
      image: `${registry.host}/acme/api`,
      directories: 'bin:/usr/local/bin\napp:/app',
      platforms: 'linux/amd64,linux/arm64',
      entrypoint: '["/usr/local/bin/server"]',
      env: 'NODE_ENV=production',
    };
    const { main } = await buildOnTag(workspace, { ...inputs, 'verify-reproducible': 'true' });
    expect(main.errors).toEqual([]);
    expect(main.exitCode).toBe(0);
    const digest = main.outputs.digest!;
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(main.outputs.image).toBe(`${registry.host}/acme/api@${digest}`);
    expect(main.outputs.builder).toBe('native');
    // A release tag gives the version, major.minor, the sha, and latest last, as metadata-action orders them.
    expect(main.outputs.tags!.split('\n')).toEqual([
      `${registry.host}/acme/api:1.2.3`,
      `${registry.host}/acme/api:1.2`,
      `${registry.host}/acme/api:sha-c0ffee1`,
      `${registry.host}/acme/api:latest`,
    ]);
    for (const ref of main.outputs.tags!.split('\n')) expect(skopeoDigest(ref)).toBe(digest);

    const subject = JSON.parse(main.outputs.subject!);
    expect(Object.keys(subject.platforms).sort()).toEqual(['linux/amd64', 'linux/arm64']);
    const record = JSON.parse(readFileSync(main.outputs.record!, 'utf8'));
    expect(record.subject).toEqual(subject);
    expect(record.created).toBe('2026-07-15T08:00:00Z');
    expect(record.source).toEqual({
      repository: 'https://github.com/acme/api',
      commit: 'c0ffee1234567890abcdef1234567890abcdef12',
      ref: 'refs/tags/v1.2.3',
      event: 'push',
    });
    expect(record.labels).toEqual({
      'org.opencontainers.image.created': '2026-07-15T08:00:00Z',
      'org.opencontainers.image.description': 'Acme public API',
      'org.opencontainers.image.licenses': 'Apache-2.0',
      'org.opencontainers.image.revision': 'c0ffee1234567890abcdef1234567890abcdef12',
      'org.opencontainers.image.source': 'https://github.com/acme/api',
      'org.opencontainers.image.title': 'api',
      'org.opencontainers.image.version': '1.2.3',
    });
    expect(record.reproducibility).toMatchObject({ reproducible: true, differences: [] });
    expect(main.summary).toContain(`### Built ${registry.host}/acme/api@${digest}`);
    expect(main.summary).toContain('Reproducible: a rebuild gave the same digest.');

    // A re-run of the same commit is the same image and pushes nothing new.
    const again = await buildOnTag(workspace, inputs);
    expect(again.main.outputs.digest).toBe(digest);
  });

  it('builds into an OCI layout with no registry at all', async () => {
    const workspace = appWorkspace();
    const { main } = await buildOnTag(workspace, {
      image: 'oci-layout:out',
      directories: 'app:/app',
      platforms: 'linux/amd64',
      tags: 'type=raw,value=local',
    });
    expect(main.errors).toEqual([]);
    const raw = skopeo(['inspect', '--raw', `oci:${join(workspace, 'out')}:local`]);
    expect(digestOf(new TextEncoder().encode(raw))).toBe(main.outputs.digest);
  });
});

describe('build action, buildah builder', () => {
  it('builds FROM scratch and FROM a base built in the test, each tag agreeing with skopeo', async () => {
    // The base: built by this action's native builder and pushed to the registry.
    const baseWs = appWorkspace();
    const base = await buildOnTag(baseWs, {
      image: `${registry.host}/acme/base`,
      directories: 'bin:/usr/local/bin',
      platforms: 'linux/amd64',
      tags: 'type=raw,value=v1',
    });
    expect(base.main.errors).toEqual([]);
    const baseRef = `${registry.host}/acme/base@${base.main.outputs.digest}`;

    for (const [from, layers] of [
      ['scratch', 1],
      [baseRef, 2],
    ] as const) {
      const workspace = appWorkspace();
      writeFileSync(
        join(workspace, 'Containerfile'),
        `FROM ${from}\nCOPY app /app\nARG GREETING\nLABEL greeting=$GREETING\n`,
      );
      const { main } = await buildOnTag(workspace, {
        image: `${registry.host}/acme/web`,
        'build-args': 'GREETING=hi',
        tags: `type=raw,value=${layers}-a\ntype=raw,value=${layers}-b`,
      });
      expect(main.errors).toEqual([]);
      expect(main.outputs.builder).toBe('buildah');
      for (const ref of main.outputs.tags!.split('\n')) expect(skopeoDigest(ref)).toBe(main.outputs.digest);
      const config = JSON.parse(
        skopeo(['inspect', '--config', '--tls-verify=false', `docker://${registry.host}/acme/web:${layers}-a`]),
      );
      expect(config.rootfs.diff_ids).toHaveLength(layers);
      expect(config.config.Labels.greeting).toBe('hi');
      expect(config.config.Labels['org.opencontainers.image.revision']).toBe(
        'c0ffee1234567890abcdef1234567890abcdef12',
      );
    }
  });
});

describe('build action, bad input', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      'a missing context',
      { image: 'oci-layout:out', context: 'nope' },
      /^Input 'context' is "nope": .* does not exist; expected a directory in the workspace\.$/,
    ],
    [
      'an unreadable Containerfile',
      { image: 'oci-layout:out', file: 'missing/Containerfile' },
      /^Input 'file' is "missing\/Containerfile": \/.*\/missing\/Containerfile does not exist; expected a readable Containerfile or Dockerfile\.$/,
    ],
    [
      'an invalid platform',
      { image: 'oci-layout:out', platforms: 'linux/amd64,windows' },
      /^Input 'platforms' is "windows": .*expected os\/arch\[\/variant\], e\.g\. linux\/amd64\.$/,
    ],
    [
      'a repository with a tag',
      { image: 'ghcr.io/acme/api:v1' },
      /^Input 'image' is "ghcr\.io\/acme\/api:v1": .*expected a repository without tag or digest/,
    ],
    [
      'a bad tag rule',
      { image: 'oci-layout:out', tags: 'type=semver,patern={{version}}' },
      /^Input 'tags' is "type=semver,patern=\{\{version\}\}": /,
    ],
    [
      'a builder not on the machine',
      { image: `127.0.0.1:1/acme/api`, builder: 'buildx', file: 'Containerfile' },
      /buildx/,
    ],
  ];
  it.each(cases)('%s gives one clear error', async (_what, inputs, message) => {
    const workspace = appWorkspace();
    writeFileSync(join(workspace, 'Containerfile'), 'FROM scratch\n');
    const { main } = await buildOnTag(workspace, inputs);
    expect(main.exitCode).toBe(1);
    expect(main.errors).toHaveLength(1);
    expect(main.errors[0]).toMatch(message);
    expect(main.outputs).toEqual({});
  });

  it('moves no tag when the registry refuses the push', async () => {
    const workspace = appWorkspace();
    const { main } = await buildOnTag(workspace, {
      image: `${locked.host}/acme/api`,
      directories: 'app:/app',
      platforms: 'linux/amd64',
    });
    expect(main.exitCode).toBe(1);
    expect(main.errors).toHaveLength(1);
    expect(main.errors[0]).toMatch(new RegExp(`at ${locked.host}/acme/api failed: HTTP 401`));
    const { username, password } = locked.credentials!;
    const { explicitCredentials } = await import('../../../shared/oci/auth/credentials.js');
    const repo = new RegistryClient({ credentials: explicitCredentials(locked.host, username, password) }).repository(
      locked.host,
      'acme/api',
    );
    // Nothing was pushed, so the repository does not exist at all (listTags says so rather than answering []).
    await expect(repo.listTags()).rejects.toThrow(`repository acme/api does not exist on ${locked.host}`);
  });
});
