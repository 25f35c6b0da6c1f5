import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidValueError } from '../../../shared/core/errors.js';
import { digestOf } from '../../../shared/oci/digest.js';
import {
  encodeJson,
  isAttestationManifest,
  isIndex,
  parseManifest,
  parsePlatform,
  platformString,
} from '../../../shared/oci/manifest.js';
import {
  DOCKER_CONFIG,
  DOCKER_FOREIGN_LAYER,
  DOCKER_LAYER_GZIP,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  EMPTY_JSON,
  isImageManifestMediaType,
  isIndexMediaType,
  isManifestMediaType,
  layerCompression,
  MANIFEST_ACCEPT_HEADER,
  MANIFEST_MEDIA_TYPES,
  mediaTypeEssence,
  OCI_CONFIG,
  OCI_EMPTY,
  OCI_INDEX,
  OCI_LAYER_NONDISTRIBUTABLE_TAR,
  OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP,
  OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD,
  OCI_LAYER_TAR,
  OCI_LAYER_TAR_GZIP,
  OCI_LAYER_TAR_ZSTD,
  OCI_MANIFEST,
} from '../../../shared/oci/media-types.js';
import type { Descriptor, ImageIndex, ImageManifest } from '../../../shared/oci/types.js';
import { errorOf } from '../../support/errors.js';

const D1 = `sha256:${'1'.repeat(64)}` as const;
const D2 = `sha256:${'2'.repeat(64)}` as const;
const EXPECTED = 'an OCI image manifest or index, or a Docker schema 2 manifest or manifest list';

const config: Descriptor = { mediaType: OCI_CONFIG, digest: D1, size: 123 };
const layer: Descriptor = { mediaType: OCI_LAYER_TAR_GZIP, digest: D2, size: 4567 };

function imageManifest(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer], ...extra };
}

function index(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [
      { mediaType: OCI_MANIFEST, digest: D1, size: 500, platform: { os: 'linux', architecture: 'amd64' } },
      {
        mediaType: OCI_MANIFEST,
        digest: D2,
        size: 501,
        platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
      },
    ],
    ...extra,
  };
}

function bytesOf(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

function detailOf(value: unknown, contentType?: string): string | undefined {
  return errorOf(() =>
    parseManifest(typeof value === 'string' ? new TextEncoder().encode(value) : bytesOf(value), contentType),
  ).detail;
}

describe('media types', () => {
  it('has the spec values', () => {
    expect(OCI_MANIFEST).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(OCI_INDEX).toBe('application/vnd.oci.image.index.v1+json');
    expect(OCI_CONFIG).toBe('application/vnd.oci.image.config.v1+json');
    expect(OCI_LAYER_TAR).toBe('application/vnd.oci.image.layer.v1.tar');
    expect(OCI_EMPTY).toBe('application/vnd.oci.empty.v1+json');
    expect(DOCKER_MANIFEST).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(DOCKER_MANIFEST_LIST).toBe('application/vnd.docker.distribution.manifest.list.v2+json');
    expect(DOCKER_CONFIG).toBe('application/vnd.docker.container.image.v1+json');
    expect(DOCKER_LAYER_GZIP).toBe('application/vnd.docker.image.rootfs.diff.tar.gzip');
    expect(DOCKER_FOREIGN_LAYER).toBe('application/vnd.docker.image.rootfs.foreign.diff.tar.gzip');
  });

  it('lists manifest types OCI first and builds the Accept header from them', () => {
    expect(MANIFEST_MEDIA_TYPES).toEqual([OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST]);
    expect(MANIFEST_ACCEPT_HEADER).toBe(
      'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, ' +
        'application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json',
    );
  });

  it('has the empty JSON blob with a matching descriptor, a fresh copy each time', () => {
    expect(new TextDecoder().decode(EMPTY_JSON.bytes)).toBe('{}');
    expect(EMPTY_JSON.descriptor).toEqual({
      mediaType: 'application/vnd.oci.empty.v1+json',
      digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
      size: 2,
    });
    expect(digestOf(EMPTY_JSON.bytes)).toBe(EMPTY_JSON.descriptor.digest);
    const mine = EMPTY_JSON.bytes;
    mine[0] = 0;
    expect(EMPTY_JSON.bytes[0]).toBe(0x7b);
    expect(Object.isFrozen(EMPTY_JSON.descriptor)).toBe(true);
  });

  it('classifies manifest media types, ignoring parameters and case', () => {
    expect(isIndexMediaType(OCI_INDEX)).toBe(true);
    expect(isIndexMediaType(`${DOCKER_MANIFEST_LIST}; charset=utf-8`)).toBe(true);
    expect(isIndexMediaType(OCI_MANIFEST)).toBe(false);
    expect(isImageManifestMediaType(OCI_MANIFEST)).toBe(true);
    expect(isImageManifestMediaType(DOCKER_MANIFEST.toUpperCase())).toBe(true);
    expect(isImageManifestMediaType(OCI_INDEX)).toBe(false);
    expect(isManifestMediaType('application/json')).toBe(false);
    expect(mediaTypeEssence(' Application/JSON ; charset=utf-8')).toBe('application/json');
  });

  it.each([
    [OCI_LAYER_TAR, 'none'],
    [OCI_LAYER_TAR_GZIP, 'gzip'],
    [OCI_LAYER_TAR_ZSTD, 'zstd'],
    [OCI_LAYER_NONDISTRIBUTABLE_TAR, 'none'],
    [OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP, 'gzip'],
    [OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD, 'zstd'],
    [DOCKER_LAYER_GZIP, 'gzip'],
    [DOCKER_FOREIGN_LAYER, 'gzip'],
    [OCI_CONFIG, undefined],
    ['application/vnd.in-toto+json', undefined],
  ])('layerCompression(%s) = %s', (mediaType, compression) => {
    expect(layerCompression(mediaType)).toBe(compression);
  });
});

describe('parseManifest', () => {
  it('parses an OCI image manifest and keeps unknown fields', () => {
    const body = imageManifest({ annotations: { a: 'b' }, 'x-extra': 1 });
    const { manifest, mediaType } = parseManifest(bytesOf(body));
    expect(mediaType).toBe(OCI_MANIFEST);
    expect(manifest).toEqual(body);
    expect(isIndex(manifest)).toBe(false);
    expect((manifest as ImageManifest).layers[0]?.digest).toBe(D2);
  });

  it('parses an OCI index', () => {
    const { manifest, mediaType } = parseManifest(bytesOf(index()));
    expect(mediaType).toBe(OCI_INDEX);
    expect(isIndex(manifest)).toBe(true);
    expect((manifest as ImageIndex).manifests.map((m) => platformString(m.platform!))).toEqual([
      'linux/amd64',
      'linux/arm64/v8',
    ]);
  });

  it('parses Docker schema 2 manifests and lists', () => {
    const docker = imageManifest({
      mediaType: DOCKER_MANIFEST,
      config: { ...config, mediaType: DOCKER_CONFIG },
      layers: [{ ...layer, mediaType: DOCKER_LAYER_GZIP }],
    });
    expect(parseManifest(bytesOf(docker), DOCKER_MANIFEST).mediaType).toBe(DOCKER_MANIFEST);
    expect(parseManifest(bytesOf(index({ mediaType: DOCKER_MANIFEST_LIST }))).mediaType).toBe(DOCKER_MANIFEST_LIST);
  });

  it('takes the media type from the Content-Type when the body has none, ignoring parameters', () => {
    const body = imageManifest({ mediaType: undefined });
    expect(parseManifest(bytesOf(body), `${DOCKER_MANIFEST}; charset=utf-8`).mediaType).toBe(DOCKER_MANIFEST);
  });

  it('infers the media type from the shape when neither says', () => {
    expect(parseManifest(bytesOf(imageManifest({ mediaType: undefined }))).mediaType).toBe(OCI_MANIFEST);
    expect(parseManifest(bytesOf(index({ mediaType: undefined })), 'application/json').mediaType).toBe(OCI_INDEX);
  });

  it('accepts artifacts: empty config, artifactType, subject', () => {
    const artifact = imageManifest({
      artifactType: 'application/spdx+json',
      config: EMPTY_JSON.descriptor,
      layers: [{ mediaType: 'application/spdx+json', digest: D2, size: 10 }],
      subject: { mediaType: OCI_MANIFEST, digest: D1, size: 500 },
    });
    expect(parseManifest(bytesOf(artifact)).manifest).toEqual(artifact);
    const withData = imageManifest({ layers: [{ ...layer, data: 'e30=', urls: ['https://x'], artifactType: 'a/b' }] });
    expect(parseManifest(bytesOf(withData)).mediaType).toBe(OCI_MANIFEST);
  });

  it.each<[string, unknown, string, string?]>([
    ['not UTF-8', new Uint8Array([0xff, 0xfe]), 'it is not valid UTF-8'],
    ['an array', [], 'it is not a JSON object'],
    ['null', null, 'it is not a JSON object'],
    ['schema 1', { schemaVersion: 1, name: 'x', fsLayers: [] }, 'Docker schema 1 manifests are not supported'],
    ['no schemaVersion', { config, layers: [] }, 'schemaVersion is missing'],
    ['schemaVersion 3', { schemaVersion: 3, config, layers: [] }, 'schemaVersion is 3, not 2'],
    ['schemaVersion "2"', { schemaVersion: '2', config, layers: [] }, 'schemaVersion is "2", not 2'],
    ['numeric mediaType', imageManifest({ mediaType: 2 }), 'mediaType is not a string'],
    [
      'unknown mediaType',
      imageManifest({ mediaType: 'application/vnd.foo' }),
      `mediaType "application/vnd.foo" is not one of ${MANIFEST_MEDIA_TYPES.join(', ')}`,
    ],
    [
      'contradicting Content-Type',
      imageManifest(),
      `its mediaType ${OCI_MANIFEST} contradicts the Content-Type ${DOCKER_MANIFEST}`,
      DOCKER_MANIFEST,
    ],
    [
      'index mediaType on a manifest',
      imageManifest({ mediaType: OCI_INDEX }),
      `mediaType ${OCI_INDEX} is an index, but the body has "config" and no "manifests"`,
    ],
    [
      'manifest mediaType on an index',
      index({ mediaType: OCI_MANIFEST }),
      `mediaType ${OCI_MANIFEST} is an image manifest, but the body has "manifests" and no "config"`,
    ],
    [
      'both shapes, no mediaType',
      { schemaVersion: 2, config, layers: [], manifests: [] },
      'it has both "manifests" and "config" and no mediaType to say which it is',
    ],
    ['neither shape', { schemaVersion: 2 }, 'it has neither "config" (image manifest) nor "manifests" (index)'],
    ['no config', imageManifest({ config: undefined }), '"config" is missing'],
    ['no layers', imageManifest({ layers: undefined }), '"layers" is missing'],
    ['layers not an array', imageManifest({ layers: {} }), '"layers" is not an array'],
    ['manifests not an array', index({ manifests: 'x' }), '"manifests" is not an array'],
    ['layer not an object', imageManifest({ layers: [7] }), '"layers[0]" is not an object'],
    ['no mediaType', imageManifest({ config: { digest: D1, size: 1 } }), 'config.mediaType is missing'],
    [
      'empty mediaType',
      imageManifest({ config: { ...config, mediaType: '' } }),
      'config.mediaType is not a non-empty string',
    ],
    ['no digest', imageManifest({ config: { mediaType: OCI_CONFIG, size: 1 } }), 'config.digest is missing'],
    [
      'bad digest',
      imageManifest({ layers: [layer, { ...layer, digest: 'sha256:abc' }] }),
      'layers[1].digest "sha256:abc" is invalid: sha256 digests have 64 hex characters, this has 3',
    ],
    ['no size', imageManifest({ config: { mediaType: OCI_CONFIG, digest: D1 } }), 'config.size is missing'],
    [
      'negative size',
      imageManifest({ config: { ...config, size: -1 } }),
      'config.size is -1, not a non-negative integer',
    ],
    [
      'fractional size',
      imageManifest({ config: { ...config, size: 1.5 } }),
      'config.size is 1.5, not a non-negative integer',
    ],
    [
      'string size',
      imageManifest({ config: { ...config, size: '1' } }),
      'config.size is "1", not a non-negative integer',
    ],
    [
      'unsafe size',
      imageManifest({ config: { ...config, size: 2 ** 60 } }),
      'config.size is 1152921504606847000, not a non-negative integer',
    ],
    ['bad urls', imageManifest({ layers: [{ ...layer, urls: [1] }] }), 'layers[0].urls is not an array of strings'],
    [
      'bad annotation',
      imageManifest({ annotations: { 'org.opencontainers.image.created': 1 } }),
      'annotations["org.opencontainers.image.created"] is not a string',
    ],
    ['bad artifactType', imageManifest({ artifactType: 1 }), 'artifactType is not a string'],
    ['bad subject', imageManifest({ subject: { mediaType: OCI_MANIFEST } }), 'subject.digest is missing'],
    [
      'platform without os',
      index({ manifests: [{ mediaType: OCI_MANIFEST, digest: D1, size: 1, platform: { architecture: 'amd64' } }] }),
      'manifests[0].platform.os is missing or not a string',
    ],
    [
      'bad os.features',
      index({
        manifests: [
          {
            mediaType: OCI_MANIFEST,
            digest: D1,
            size: 1,
            platform: { os: 'w', architecture: 'a', 'os.features': 'x' },
          },
        ],
      }),
      'manifests[0].platform["os.features"] is not an array of strings',
    ],
  ])('rejects %s', (_name, value, detail, contentType) => {
    const bytes = value instanceof Uint8Array ? value : bytesOf(value);
    const error = errorOf(() => parseManifest(bytes, contentType));
    expect(error.what).toBe('manifest');
    expect(error.expected).toBe(EXPECTED);
    expect(error.detail).toBe(detail);
  });

  it('reports invalid JSON with the parser message', () => {
    expect(detailOf('{"schemaVersion": 2,')).toMatch(/^it is not JSON \(.+\)$/);
  });

  it('names the manifest by digest and size, not by its whole body', () => {
    const bytes = bytesOf({ schemaVersion: 1, name: 'x'.repeat(5000) });
    expect(errorOf(() => parseManifest(bytes)).message).toBe(
      `Invalid manifest "${digestOf(bytes)}, ${bytes.length} bytes": Docker schema 1 manifests are not supported; expected ${EXPECTED}.`,
    );
  });

  it('throws only InvalidValueError on arbitrary JSON and bytes', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.jsonValue().map(bytesOf), fc.uint8Array()),
        fc.option(fc.constantFrom(...MANIFEST_MEDIA_TYPES)),
        (bytes, type) => {
          try {
            parseManifest(bytes, type ?? undefined);
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidValueError);
          }
        },
      ),
    );
  });
});

describe('encodeJson', () => {
  it('writes compact UTF-8 JSON', () => {
    const bytes = encodeJson({ schemaVersion: 2, annotations: { note: 'é' } });
    expect(new TextDecoder().decode(bytes)).toBe('{"schemaVersion":2,"annotations":{"note":"é"}}');
    expect(bytes.byteLength).toBe(47); // "é" is two bytes in UTF-8
  });

  it('round-trips through parseManifest', () => {
    const body = imageManifest();
    expect(parseManifest(encodeJson(body)).manifest).toEqual(body);
  });

  it('refuses values that have no JSON form', () => {
    expect(() => encodeJson(undefined)).toThrow(TypeError);
  });
});

describe('platforms', () => {
  it('formats and parses os/arch[/variant]', () => {
    expect(platformString({ os: 'linux', architecture: 'amd64' })).toBe('linux/amd64');
    expect(platformString({ os: 'linux', architecture: 'arm64', variant: 'v8' })).toBe('linux/arm64/v8');
    expect(parsePlatform('linux/arm64/v8')).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    expect(parsePlatform('windows/amd64')).toEqual({ os: 'windows', architecture: 'amd64' });
  });

  it.each([
    ['', 'it is empty'],
    ['linux', 'it has 1 part'],
    ['linux/arm/v7/x', 'it has 4 parts'],
    ['linux/', 'the architecture is empty'],
    ['/amd64', 'the os is empty'],
    ['linux/arm/', 'the variant is empty'],
    ['linux /amd64', 'it contains whitespace'],
    ['linux/amd64!', 'the architecture "amd64!" may contain only letters, digits, "_", "." and "-"'],
    ['linux/AMD64', 'the architecture "AMD64" is not lower case, as platforms are: write "linux/amd64"'],
    ['Linux/arm64/V8', 'the os "Linux" is not lower case, as platforms are: write "linux/arm64/v8"'],
  ])('rejects %j', (text, detail) => {
    expect(errorOf(() => parsePlatform(text)).detail).toBe(detail);
  });

  it('writes a message naming the expected form', () => {
    expect(errorOf(() => parsePlatform('amd64')).message).toBe(
      'Invalid platform "amd64": it has 1 part; expected os/arch[/variant], e.g. linux/amd64.',
    );
  });

  it('round-trips generated platforms', () => {
    const part = fc.stringMatching(/^[a-z0-9_.-]{1,10}$/);
    fc.assert(
      fc.property(part, part, fc.option(part, { nil: undefined }), (os, architecture, variant) => {
        const platform = variant === undefined ? { os, architecture } : { os, architecture, variant };
        expect(parsePlatform(platformString(platform))).toEqual(platform);
      }),
    );
  });

  it('recognises attestation entries', () => {
    expect(
      isAttestationManifest({
        platform: { os: 'unknown', architecture: 'unknown' },
        annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': D1 },
      }),
    ).toBe(true);
    expect(isAttestationManifest({ platform: { os: 'unknown', architecture: 'unknown' } })).toBe(true);
    expect(isAttestationManifest({ annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } })).toBe(true);
    expect(isAttestationManifest({ platform: { os: 'linux', architecture: 'amd64' } })).toBe(false);
    expect(isAttestationManifest({ platform: { os: 'unknown', architecture: 'amd64' } })).toBe(false);
    expect(isAttestationManifest({})).toBe(false);
  });
});
