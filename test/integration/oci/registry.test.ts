import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explicitCredentials } from '../../../shared/oci/auth/credentials.js';
import { dockerConfigCredentials } from '../../../shared/oci/auth/docker-config.js';
import { digestOf } from '../../../shared/oci/digest.js';
import { NotFoundError, StoreError } from '../../../shared/oci/errors.js';
import { RegistryClient } from '../../../shared/oci/registry.js';
import { makeImage, pushImage, readAll } from '../../support/images.js';
import { skopeo, startRegistry, type TestRegistry } from '../../support/services.js';

// Against Debian's docker-registry (distribution 2.8) on loopback, with skopeo reading what we wrote.

let open: TestRegistry;
let locked: TestRegistry;

beforeAll(async () => {
  [open, locked] = await Promise.all([startRegistry(), startRegistry({ auth: true })]);
});

afterAll(async () => {
  await Promise.all([open?.stop(), locked?.stop()]);
});

const skopeoRaw = (ref: string, extra: string[] = []) =>
  skopeo(['inspect', '--raw', '--tls-verify=false', ...extra, `docker://${ref}`]);
const skopeoDigest = (ref: string, extra: string[] = []) =>
  (JSON.parse(skopeo(['inspect', '--tls-verify=false', ...extra, `docker://${ref}`])) as { Digest: string }).Digest;

describe('registry client against docker-registry', () => {
  it('pushes a two-platform image that skopeo reads byte for byte', async () => {
    const image = makeImage({
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
      ],
      label: 'roundtrip',
    });
    const repo = new RegistryClient().repository(open.host, 'acme/roundtrip');
    await pushImage(repo, image, ['v1', 'latest']);

    const top = image.top.descriptor;
    for (const tag of ['v1', 'latest']) {
      expect(skopeoRaw(`${open.host}/acme/roundtrip:${tag}`)).toBe(Buffer.from(image.top.bytes).toString());
      expect(await repo.resolve(tag)).toEqual({ mediaType: top.mediaType, digest: top.digest, size: top.size });
    }
    expect(skopeoDigest(`${open.host}/acme/roundtrip:v1`)).toBe(top.digest);
    for (const platform of image.manifests.slice(0, 2)) {
      const raw = skopeoRaw(`${open.host}/acme/roundtrip@${platform.descriptor.digest}`);
      expect(raw).toBe(Buffer.from(platform.bytes).toString());
    }

    const fetched = await repo.getManifest(top.digest);
    expect(Buffer.from(fetched.bytes).equals(Buffer.from(image.top.bytes))).toBe(true);
    expect(fetched.descriptor).toEqual({ mediaType: top.mediaType, digest: top.digest, size: top.size });
    for (const blob of image.blobs) {
      expect(await readAll(await repo.getBlob(blob.descriptor))).toEqual(blob.bytes);
    }
    expect(await repo.listTags()).toEqual(['latest', 'v1']);
  });

  it('answers "not there" without throwing where absence is an answer', async () => {
    const repo = new RegistryClient().repository(open.host, 'acme/absent');
    expect(await repo.resolve('nope')).toBeUndefined();
    expect(await repo.hasBlob(digestOf(new Uint8Array([1])))).toBe(false);
    // A repository that does not exist is not one without tags (`slipway tags` must not print [] for a typo).
    await expect(repo.listTags()).rejects.toThrow(
      `list tags at ${open.host}/acme/absent failed: repository acme/absent does not exist on ${open.host} (HTTP 404 NAME_UNKNOWN)`,
    );
    const error = await repo.getManifest('nope').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toBe(`read manifest nope at ${open.host}/acme/absent failed: manifest unknown`);
  });

  it('uploads a stream in chunks, verifying its digest before committing', async () => {
    const client = new RegistryClient({ chunkSize: 4096 });
    const repo = client.repository(open.host, 'acme/chunks');
    const bytes = new Uint8Array(50_000).map((_, i) => (i * 7) % 251);
    const chunks = async function* () {
      for (let i = 0; i < bytes.length; i += 3000) yield bytes.subarray(i, i + 3000);
    };
    const digest = digestOf(bytes);
    expect(await repo.putBlob({ stream: chunks(), digest, size: bytes.length })).toEqual({
      digest,
      size: bytes.length,
      uploaded: true,
    });
    expect(await readAll(await repo.getBlob({ digest, size: bytes.length }))).toEqual(bytes);
    // A re-run sends nothing.
    expect((await repo.putBlob({ stream: chunks(), digest, size: bytes.length })).uploaded).toBe(false);

    // A stream that does not match its declared digest is never committed.
    const wrong = digestOf(new Uint8Array([9, 9, 9]));
    await expect(repo.putBlob({ stream: chunks(), digest: wrong, size: bytes.length })).rejects.toThrow(
      `Content does not match its digest: expected ${wrong}, got ${digest}.`,
    );
    expect(await repo.hasBlob(wrong)).toBe(false);
  });

  it('mounts blobs across repositories of one registry instead of copying them', async () => {
    const client = new RegistryClient();
    const source = client.repository(open.host, 'acme/mount-source');
    const target = client.repository(open.host, 'team/mount-target');
    const image = makeImage({ label: 'mount' });
    await pushImage(source, image, ['v1']);
    for (const blob of image.blobs) {
      expect(await target.hasBlob(blob.descriptor.digest)).toBe(false);
      expect(await target.mountBlob(blob.descriptor.digest, source)).toBe(true);
      expect(await target.hasBlob(blob.descriptor.digest)).toBe(true);
    }
    // A blob the source does not have cannot be mounted; the registry's fallback upload is cancelled.
    expect(await target.mountBlob(digestOf(new Uint8Array([4, 2])), source)).toBe(false);
  });

  it('pages through tag lists', async () => {
    const repo = new RegistryClient().repository(open.host, 'acme/many-tags');
    const image = makeImage({ label: 'tags' });
    const tags = Array.from({ length: 12 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    await pushImage(repo, image, tags);
    expect(await repo.listTags()).toEqual(tags);
  });

  it('reports the absent referrers API so callers use the tag fallback', async () => {
    const repo = new RegistryClient().repository(open.host, 'acme/roundtrip');
    expect(await repo.nativeReferrers(digestOf(new Uint8Array([1])))).toBeUndefined();
  });
});

describe('authentication against docker-registry with htpasswd', () => {
  it('refuses anonymous pushes with a message naming registry, repository and operation', async () => {
    const repo = new RegistryClient().repository(locked.host, 'acme/private');
    const image = makeImage({ label: 'auth' });
    const first = image.blobs[0]!.descriptor.digest;
    const error = await pushImage(repo, image).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).message).toBe(
      `check blob ${first} at ${locked.host}/acme/private failed: HTTP 401 (no credentials for ${locked.host} were accepted; log in with docker login, or pass username and password)`,
    );
  });

  it('pushes with explicit credentials and reads with docker config.json credentials', async () => {
    const { username, password } = locked.credentials!;
    const secrets: string[] = [];
    const writer = new RegistryClient({
      credentials: explicitCredentials(locked.host, username, password),
      onSecret: (v) => secrets.push(v),
    }).repository(locked.host, 'acme/private');
    const image = makeImage({ label: 'auth' });
    await pushImage(writer, image, ['v1']);
    expect(secrets).toContain(password);

    const home = mkdtempSync(join(tmpdir(), 'slipway-docker-config-'));
    const auth = Buffer.from(`${username}:${password}`).toString('base64');
    writeFileSync(join(home, 'config.json'), JSON.stringify({ auths: { [`http://${locked.host}`]: { auth } } }));
    const reader = new RegistryClient({
      credentials: dockerConfigCredentials({ env: { DOCKER_CONFIG: home } }),
    }).repository(locked.host, 'acme/private');
    expect((await reader.resolve('v1'))?.digest).toBe(image.top.descriptor.digest);
    expect(skopeoDigest(`${locked.host}/acme/private:v1`, ['--creds', `${username}:${password}`])).toBe(
      image.top.descriptor.digest,
    );
  });

  it('says so when the credentials are wrong, without echoing the password', async () => {
    const password = 'definitely-not-the-password';
    const repo = new RegistryClient({ credentials: explicitCredentials(locked.host, 'slipway', password) }).repository(
      locked.host,
      'acme/private',
    );
    const error = (await repo.resolve('v1').catch((e: unknown) => e)) as Error;
    expect(error.message).toBe(
      `resolve v1 at ${locked.host}/acme/private failed: HTTP 401 (no credentials for ${locked.host} were accepted; log in with docker login, or pass username and password)`,
    );
    expect(error.message).not.toContain(password);
  });
});
