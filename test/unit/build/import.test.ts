import { fileURLToPath } from 'node:url';
import { describe, expect, it, test } from 'vitest';
import { type ImportFormat, parseImportedDigest, readImportedDigest } from '../../../shared/build/import.js';
import { InvalidValueError, SlipwayError } from '../../../shared/core/errors.js';

// Each fixture is the file a builder writes after pushing: buildah/podman --digestfile, ko and apko
// --image-refs, jib's jib-image.json and buildx's --metadata-file, plus broken ones.

function fixture(name: string): string {
  return fileURLToPath(new URL(`../../fixtures/import/${name}`, import.meta.url));
}

const MANIFEST = 'sha256:96870000fa13f07efa9a6d3c502d18e3f4dd142224210d071a0ad4c1c1fe4623';
const INDEX = 'sha256:d2d17e6fb0b2633657117f3f4b38fb0c0b450d77984e562f81c056e25cf310cc';
const KO = 'sha256:358caed9bf7f72ae60a7c6ca17f285795a17849207b6d6528c745276688db28c';
const JIB_DIGEST = 'sha256:0ef075e901e6144a4784cb29a9915e9b34ec55a47c1ba873419e2a487ac71028';
const JIB_ID = 'sha256:72c764f9cb3d03d60c60056510e0d503fe5f7d0ce54b254006a764df5e2bb898';
const APKO_INDEX = 'sha256:16c84bf1ee6ca2d1f94a3fdcc2e7d51c9cb2c919f60a5c00d54ddef79344d425';

const ACCEPTED = /--digestfile.*ko or apko --image-refs.*jib-image\.json.*buildx --metadata-file/;

describe('readImportedDigest', () => {
  test.each<{ file: string; format: ImportFormat; digest: string; names: string[] }>([
    { file: 'buildah.digest', format: 'digestfile', digest: MANIFEST, names: [] },
    { file: 'podman.digest', format: 'digestfile', digest: MANIFEST, names: [] },
    { file: 'ko.images', format: 'ko', digest: KO, names: ['ghcr.io/acme/api'] },
    {
      file: 'ko-tagged.images',
      format: 'ko',
      digest: KO,
      names: ['ghcr.io/acme/api:v1.4.0', 'ghcr.io/acme/api:latest'],
    },
    {
      file: 'jib-image.json',
      format: 'jib',
      digest: JIB_DIGEST,
      names: ['ghcr.io/acme/orders:1.4.0', 'ghcr.io/acme/orders:latest'],
    },
    {
      file: 'buildx-manifest.json',
      format: 'buildx',
      digest: MANIFEST,
      names: ['ghcr.io/acme/api:sha-1a2b3c4', 'ghcr.io/acme/api:1.4.0'],
    },
    {
      file: 'buildx-index-provenance.json',
      format: 'buildx',
      digest: INDEX,
      names: ['ghcr.io/acme/api:1.4.0', 'ghcr.io/acme/api:latest'],
    },
  ])('detects $file as $format and reads it the same way when told', ({ file, format, digest, names }) => {
    const expected = { digest, names, format };
    expect(readImportedDigest(fixture(file))).toEqual(expected);
    expect(readImportedDigest(fixture(file), 'auto')).toEqual(expected);
    expect(readImportedDigest(fixture(file), format)).toEqual(expected);
  });

  it('pins jib’s imageDigest, never its imageId (the config digest)', () => {
    const result = readImportedDigest(fixture('jib-image.json'), 'jib');
    expect(result.digest).toBe(JIB_DIGEST);
    expect(result.digest).not.toBe(JIB_ID);
  });

  it('pins the index apko lists first, not a platform image', () => {
    expect(readImportedDigest(fixture('apko.images'), 'apko')).toEqual({
      digest: APKO_INDEX,
      names: ['ghcr.io/acme/base:2026.07'],
      format: 'apko',
    });
  });

  it('reads a one-line apko file like ko', () => {
    expect(readImportedDigest(fixture('ko.images'), 'apko')).toEqual({
      digest: KO,
      names: ['ghcr.io/acme/api'],
      format: 'apko',
    });
  });

  it('refuses to guess between ko and apko when lines have different digests', () => {
    const error = catchError(() => readImportedDigest(fixture('apko.images')));
    expect(error).toBeInstanceOf(InvalidValueError);
    expect(error.message).toContain(fixture('apko.images'));
    expect(error.message).toMatch(/3 different digests.*set the format to apko/);
    expect(error.message).toMatch(ACCEPTED);
  });

  it('tells ko users to import one image at a time', () => {
    const error = catchError(() => readImportedDigest(fixture('ko-several.images'), 'ko'));
    expect(error).toBeInstanceOf(SlipwayError);
    expect(error.message).toMatch(/2 images with different digests.*import one image at a time/);
    expect(error.message).toContain('ghcr.io/acme/api-worker');
  });

  it('says jib did not push the image', () => {
    for (const format of ['auto', 'jib'] as const) {
      const error = catchError(() => readImportedDigest(fixture('jib-not-pushed.json'), format));
      expect(error).toBeInstanceOf(SlipwayError);
      expect(error.message).toMatch(/^jib built the image but did not push it/);
      expect(error.message).toContain(fixture('jib-not-pushed.json'));
    }
  });

  test.each(['buildx-null.json', 'buildx-not-pushed.json'])('explains that buildx exported nothing in %s', (file) => {
    const error = catchError(() => readImportedDigest(fixture(file)));
    expect(error).toBeInstanceOf(SlipwayError);
    expect(error.message).toMatch(/buildx exported nothing/);
    expect(error.message).toContain(fixture(file));
  });

  test.each<{ file: string; format?: ImportFormat; detail: RegExp }>([
    { file: 'does-not-exist.digest', detail: /cannot be read \(ENOENT\)/ },
    { file: 'empty.txt', detail: /it is empty/ },
    { file: 'garbage.txt', detail: /matches none of these formats/ },
    { file: 'truncated.json', detail: /looks like JSON but does not parse/ },
    { file: 'unknown.json', detail: /neither "imageDigest" \(jib\) nor "containerimage.digest" \(buildx\)/ },
    { file: 'digestfile-short.digest', detail: /bad digest.*64 hex characters, this has 40/ },
    { file: 'digestfile-two-lines.digest', format: 'digestfile', detail: /several lines/ },
    { file: 'ko-no-digest.images', format: 'ko', detail: /has no "@sha256:<hex>" digest/ },
    { file: 'garbage.txt', format: 'ko', detail: /is not an image reference/ },
    { file: 'buildah.digest', format: 'jib', detail: /not JSON/ },
    { file: 'unknown.json', format: 'jib', detail: /no "imageDigest"/ },
    { file: 'ko.images', format: 'digestfile', detail: /bad digest/ },
  ])('rejects $file (format $format) naming the file and the accepted formats', ({ file, format, detail }) => {
    const error = catchError(() => readImportedDigest(fixture(file), format));
    expect(error).toBeInstanceOf(InvalidValueError);
    expect(error.message).toContain(fixture(file));
    expect(error.message).toMatch(detail);
    expect(error.message).toMatch(ACCEPTED);
  });

  it('reads buildx metadata only as buildx, even when told another format', () => {
    expect(() => readImportedDigest(fixture('buildx-manifest.json'), 'digestfile')).toThrow(InvalidValueError);
  });
});

describe('parseImportedDigest', () => {
  it('accepts Windows line endings and blank lines in reference files', () => {
    const text = `\r\nghcr.io/acme/api@${KO}\r\n\r\n`;
    expect(parseImportedDigest(text, 'refs.txt')).toEqual({ digest: KO, names: ['ghcr.io/acme/api'], format: 'ko' });
  });

  it('keeps a registry port apart from a tag in jib names', () => {
    const text = JSON.stringify({ image: 'localhost:5000/orders', imageDigest: JIB_DIGEST, tags: ['a'] });
    expect(parseImportedDigest(text, 'jib-image.json').names).toEqual([
      'localhost:5000/orders',
      'localhost:5000/orders:a',
    ]);
  });

  it('accepts a jib-image.json from versions that do not write imagePushed', () => {
    const text = JSON.stringify({ image: 'ghcr.io/acme/orders', imageId: JIB_ID, imageDigest: JIB_DIGEST });
    expect(parseImportedDigest(text, 'jib-image.json', 'jib').digest).toBe(JIB_DIGEST);
  });

  it('rejects an unknown format name', () => {
    expect(() => parseImportedDigest(MANIFEST, 'f', 'oci' as ImportFormat)).toThrow(/import format "oci"/);
  });
});

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    if (error instanceof Error) return error;
    throw error;
  }
  throw new Error('expected an error, nothing was thrown');
}
