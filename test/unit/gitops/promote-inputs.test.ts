import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../shared/core/errors.js';
import { gitopsLocation } from '../../../shared/gitops/open-repository.js';
import { checkPromoteChoice, type PromoteChoice, readPromoteImage } from '../../../shared/gitops/promote-inputs.js';
import { imagesByService } from '../../../shared/gitops/run-promote.js';
import type { SlipwayConfig } from '../../../shared/gitops/types.js';

// The promote action's cross-input rules, as pure functions with table tests.

const DIGEST = `sha256:${'a'.repeat(64)}` as const;
const OTHER = `sha256:${'b'.repeat(64)}` as const;

const choice = (over: Partial<PromoteChoice>): PromoteChoice => ({
  images: [],
  from: undefined,
  services: ['api'],
  rollback: false,
  hold: false,
  releaseHold: false,
  ...over,
});

describe('checkPromoteChoice', () => {
  it.each([
    ['an image', choice({ images: ['ghcr.io/acme/api@sha256:…'] })],
    ['from', choice({ from: 'dev' })],
    ['a rollback alone', choice({ rollback: true })],
    ['a hold release alone, without service', choice({ releaseHold: true, services: [] })],
    ['an image with hold', choice({ images: ['x'], hold: true })],
    ['a hold alone, without service', choice({ hold: true, services: [] })],
    ['a bundle', choice({ images: ['a', 'b'], services: ['api', 'web'] })],
  ])('accepts %s', (_, given) => {
    expect(() => checkPromoteChoice(given)).not.toThrow();
  });

  it.each([
    ['neither image nor from', choice({}), "Input 'image' is empty: neither was given; expected exactly one of image"],
    ['both image and from', choice({ images: ['x'], from: 'dev' }), 'both image and from were given'],
    [
      'an image with rollback',
      choice({ images: ['x'], rollback: true }),
      'Input \'image\' is "x": a rollback restores',
    ],
    [
      'from with release-hold',
      choice({ from: 'dev', releaseHold: true }),
      'Input \'from\' is "dev": release-hold clears',
    ],
    ['rollback and release-hold', choice({ rollback: true, releaseHold: true }), 'a rollback sets a hold'],
    [
      'hold and release-hold',
      choice({ hold: true, releaseHold: true, images: ['x'] }),
      'hold or release-hold, not both',
    ],
    ['no service', choice({ services: [], from: 'dev' }), "Input 'service' is empty: it is required"],
    ['a service twice', choice({ services: ['api', 'api'], from: 'dev' }), 'api is named twice'],
  ])('refuses %s', (_, given, message) => {
    expect(() => checkPromoteChoice(given)).toThrow(ConfigurationError);
    expect(() => checkPromoteChoice(given)).toThrow(message);
  });
});

describe('gitopsLocation', () => {
  it.each([
    ['acme/gitops', { kind: 'github', owner: 'acme', repo: 'gitops' }],
    ['acme/gitops.git', { kind: 'github', owner: 'acme', repo: 'gitops' }],
    ['./gitops', { kind: 'local', path: '/ws/gitops' }],
    ['../gitops', { kind: 'local', path: '/gitops' }],
    ['.', { kind: 'local', path: '/ws' }],
    ['/srv/gitops', { kind: 'local', path: '/srv/gitops' }],
  ])('%s', (given, expected) => {
    expect(gitopsLocation(given, '/ws')).toEqual(expected);
  });

  it.each([
    ['gitops', 'a local directory must start with ./'],
    ['https://github.com/acme/gitops', 'give owner/name rather than a URL'],
    ['acme/gitops/envs', 'it is neither owner/name nor a path'],
    ['-acme/gitops', 'it is neither owner/name nor a path'],
  ])('refuses %s', (given, detail) => {
    expect(() => gitopsLocation(given, '/ws')).toThrow(
      new RegExp(`^Input 'gitops-repo' is "${given.replace(/[/.]/g, '\\$&')}": ${detail}`),
    );
  });
});

describe('imagesByService', () => {
  const config = {
    services: {
      api: { image: 'ghcr.io/acme/api', targets: {} },
      web: { image: 'ghcr.io/acme/web', targets: {} },
      also: { image: 'ghcr.io/acme/web', targets: {} },
    },
  } as unknown as SlipwayConfig;

  it('gives a single service the single image, whatever its name (the planner checks it)', () => {
    expect(
      imagesByService(config, { services: ['api'], images: [{ name: 'ghcr.io/other/x', digest: DIGEST, tag: 'v1' }] }),
    ).toEqual({ api: { name: 'ghcr.io/other/x', digest: DIGEST, tag: 'v1' } });
  });

  it('matches a bundle’s images to services by configured image', () => {
    expect(
      imagesByService(config, {
        services: ['api', 'web'],
        images: [
          { name: 'ghcr.io/acme/web', digest: OTHER },
          { name: 'ghcr.io/acme/api', digest: DIGEST, source: { commit: 'c'.repeat(40) } },
        ],
      }),
    ).toEqual({ api: { name: 'ghcr.io/acme/api', digest: DIGEST }, web: { name: 'ghcr.io/acme/web', digest: OTHER } });
  });

  it.each([
    [['api', 'web'], [{ name: 'ghcr.io/acme/api', digest: DIGEST }], 'no image was given for web'],
    [
      ['api', 'web'],
      [
        { name: 'ghcr.io/acme/x', digest: DIGEST },
        { name: 'ghcr.io/acme/api', digest: DIGEST },
      ],
      'no requested service is configured with this image',
    ],
    [
      ['web', 'also'],
      [
        { name: 'ghcr.io/acme/web', digest: DIGEST },
        { name: 'ghcr.io/acme/web', digest: OTHER },
      ],
      'services web, also share this image',
    ],
    [
      ['api', 'web'],
      [
        { name: 'ghcr.io/acme/api', digest: DIGEST },
        { name: 'ghcr.io/acme/api', digest: OTHER },
      ],
      'two images were given for api',
    ],
  ])('refuses %j with %j', (services, images, detail) => {
    expect(() => imagesByService(config, { services, images: images as never })).toThrow(detail);
  });
});

describe('readPromoteImage', () => {
  const workspace = mkdtempSync(join(tmpdir(), 'slipway-promote-inputs-'));

  it.each([
    [`ghcr.io/acme/api@${DIGEST}`, { name: 'ghcr.io/acme/api', digest: DIGEST }],
    [`ghcr.io/acme/api:v1.2.0@${DIGEST}`, { name: 'ghcr.io/acme/api', digest: DIGEST, tag: 'v1.2.0' }],
    [`127.0.0.1:5000/acme/api@${DIGEST}`, { name: '127.0.0.1:5000/acme/api', digest: DIGEST }],
  ])('reads %s', async (given, expected) => {
    expect(await readPromoteImage(given, workspace)).toEqual(expected);
  });

  it('reads a build record: its subject, first tag that is not latest, and source commit', async () => {
    const record = {
      _type: 'https://slipway.dev/records/build',
      version: 1,
      subject: {
        name: 'ghcr.io/acme/api',
        digest: DIGEST,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        size: 100,
        platforms: {},
      },
      tags: ['latest', 'v1.2.0'],
      references: [],
      labels: {},
      builder: { name: 'native', chosen: 'native' },
      source: { repository: 'acme/api', commit: 'c'.repeat(40), ref: 'refs/heads/main', event: 'push' },
      created: '2026-07-01T00:00:00Z',
      createdFrom: 'event',
      timestamps: { started: '2026-07-01T00:00:00Z', finished: '2026-07-01T00:00:01Z' },
    };
    writeFileSync(join(workspace, 'build.json'), JSON.stringify(record));
    expect(await readPromoteImage('build.json', workspace)).toEqual({
      name: 'ghcr.io/acme/api',
      digest: DIGEST,
      tag: 'v1.2.0',
      source: { repository: 'acme/api', commit: 'c'.repeat(40) },
    });
  });

  it.each([
    ['ghcr.io/acme/api:v1', 'Input \'image\' is "ghcr.io/acme/api:v1": it has no digest'],
    [`oci-layout:./dir@${DIGEST}`, 'a GitOps repository pins registry images, not an OCI layout'],
    ['missing.json', 'Input \'image\' is "missing.json"'],
  ])('refuses %s', async (given, message) => {
    await expect(readPromoteImage(given, workspace)).rejects.toThrow(message);
  });
});
