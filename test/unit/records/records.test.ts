import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../shared/core/errors.js';
import { SecretRegistry } from '../../../shared/core/secrets.js';
import { BUILD_RECORD, readBuildRecord } from '../../../shared/records/build.js';
import { RecordError, stampRecord, writeRecord } from '../../../shared/records/record.js';
import { readSbomFilesInput, SBOM_RECORD } from '../../../shared/records/sbom.js';
import { readSubjectInput, requireImageOrSubject } from '../../../shared/records/subject.js';
import { repositoryRoot } from '../../support/runner-harness.js';

// Records between actions: _type and version on every record, one reader per record that names the file
// and the field, unknown major versions refused, unknown fields allowed.

const workspace = mkdtempSync(join(tmpdir(), 'slipway-records-'));
const D = (c: string) => `sha256:${c.repeat(64)}` as const;

const subject = {
  name: '127.0.0.1:5000/acme/api',
  digest: D('a'),
  mediaType: 'application/vnd.oci.image.index.v1+json',
  size: 512,
  platforms: { 'linux/amd64': D('b'), 'linux/arm64': D('c') },
};
const buildBody = {
  subject,
  tags: ['1.2.3'],
  references: ['127.0.0.1:5000/acme/api:1.2.3'],
  labels: { 'org.opencontainers.image.version': '1.2.3' },
  builder: { name: 'native', chosen: 'directories given' },
  source: { repository: 'https://github.com/acme/api', commit: 'c0ffee', ref: 'refs/tags/v1.2.3', event: 'push' },
  created: '2026-07-15T08:00:00Z',
  createdFrom: 'event',
  timestamps: { started: '2026-07-15T08:00:01.123Z', finished: '2026-07-15T08:00:02.456Z' },
};
const sbomFile = {
  platform: 'linux/amd64',
  manifestDigest: D('b'),
  format: 'cyclonedx',
  mediaType: 'application/vnd.cyclonedx+json',
  path: join(workspace, 'api-linux-amd64.cdx.json'),
  digest: D('d'),
  size: 10,
};
writeFileSync(sbomFile.path, '{}');

const secrets = new SecretRegistry(() => {});
const writeJson = (name: string, value: unknown) => {
  writeFileSync(join(workspace, name), JSON.stringify(value));
  return join(workspace, name);
};
const rejection = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
};

describe('writing a record', () => {
  it('puts _type and version first and writes the kind’s file', () => {
    const path = writeRecord(workspace, BUILD_RECORD, buildBody, secrets);
    expect(path).toBe(join(workspace, 'build.json'));
    const written = JSON.parse(readFileSync(path, 'utf8'));
    expect(Object.keys(written).slice(0, 2)).toEqual(['_type', 'version']);
    expect(written).toMatchObject({ _type: 'https://slipway.dev/records/build', version: 1 });
    expect(stampRecord(SBOM_RECORD, { _type: 'x', version: 9, a: 1 })).toEqual({
      _type: 'https://slipway.dev/records/sbom',
      version: 1,
      a: 1,
    });
  });
});

describe('readBuildRecord', () => {
  const record = stampRecord(BUILD_RECORD, buildBody);

  it('reads a valid record, and one with fields it does not know', async () => {
    expect((await readBuildRecord(writeJson('ok.json', record))).subject).toEqual(subject);
    const newer = { ...record, provenance: { commitTime: 'checkout' }, subject: { ...subject, annotations: {} } };
    expect((await readBuildRecord(writeJson('newer.json', newer))).tags).toEqual(['1.2.3']);
  });

  it.each([
    [
      'a bad digest',
      { ...record, subject: { ...subject, digest: 'sha256:zz' } },
      'field subject.digest is "sha256:zz": expected sha256:<64 hex>.',
    ],
    ['a missing field', { ...record, tags: undefined }, 'field tags is missing: expected the tags pushed.'],
    [
      'a platform digest',
      { ...record, subject: { ...subject, platforms: { 'linux/amd64': 'sha256:1' } } },
      'field subject.platforms["linux/amd64"] is "sha256:1": expected sha256:<64 hex>.',
    ],
    [
      'a wrong builder',
      { ...record, builder: { name: 'docker', chosen: 'x' } },
      'field builder.name is "docker": expected buildx, buildah, native or import.',
    ],
    [
      'a missing _type',
      { ...record, _type: undefined },
      'field _type is missing: expected _type https://slipway.dev/records/build (the build.json the build action writes).',
    ],
    [
      'another kind of record',
      { ...record, _type: 'https://slipway.dev/records/sbom' },
      'it is a sbom record, not a build record: expected _type https://slipway.dev/records/build (the build.json the build action writes).',
    ],
    [
      'an unknown major version',
      { ...record, version: 2 },
      'it has version 2, which this Slipway does not read: expected version 1; a record of version 2 needs a Slipway release that reads it.',
    ],
    [
      'a version that is no number',
      { ...record, version: '1.0' },
      'field version is "1.0": expected a whole number from 1.',
    ],
  ])('names the file and the field for %s', async (_what, value, message) => {
    const path = writeJson('bad.json', value);
    const error = await rejection(readBuildRecord(path));
    expect(error).toBeInstanceOf(RecordError);
    expect(error.message).toBe(`build record ${path}: ${message}`);
  });

  it('names the input when the file came from one', async () => {
    writeJson('build.json', { ...record, subject: { ...subject, size: -1 } });
    const error = await rejection(
      readBuildRecord({ input: 'subject', given: 'build.json', path: join(workspace, 'build.json') }),
    );
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toBe(
      `Input 'subject' is "build.json": build record ${join(workspace, 'build.json')}: field subject.size is -1; expected the manifest's size in bytes.`,
    );
  });

  it('names the line of a JSON syntax error', async () => {
    writeFileSync(
      join(workspace, 'broken.json'),
      '{\n  "_type": "https://slipway.dev/records/build",\n  version: 1\n}',
    );
    const error = await rejection(readBuildRecord(join(workspace, 'broken.json')));
    expect(error.message).toContain('line 3, column 3: expected a property name in double quotes');
  });
});

describe('the subject input', () => {
  it.each([
    ['the build record’s path', () => writeJson('build.json', stampRecord(BUILD_RECORD, buildBody)), 'build record'],
    ['the build record as JSON', () => JSON.stringify(stampRecord(BUILD_RECORD, buildBody)), 'build record'],
    ['the subject output', () => JSON.stringify(subject), 'subject'],
    ['a subject file', () => writeJson('subject.json', subject), 'subject'],
  ])('takes %s', async (_what, given, from) => {
    const read = await readSubjectInput('subject', given(), workspace);
    expect(read.reference).toMatchObject({ kind: 'registry', registry: '127.0.0.1:5000', repository: 'acme/api' });
    expect(read.reference.digest).toBe(subject.digest);
    expect(read.subject).toEqual(subject);
    expect(read.from.startsWith(from)).toBe(true);
  });

  it('takes a later record, which names the image but not its platforms', async () => {
    const sbomRecord = stampRecord(SBOM_RECORD, {
      subject: { name: subject.name, digest: subject.digest },
      sboms: [sbomFile],
      decision: 'pass',
      platforms: [],
      policy: { failOn: 'high', onlyFixed: false, vex: [], osv: 'https://api.osv.dev' },
    });
    const read = await readSubjectInput('subject', writeJson('sbom.json', sbomRecord), workspace);
    expect(read.reference.digest).toBe(subject.digest);
    expect(read.subject).toBeUndefined();
  });

  it.each([
    [
      'a typo in the subject output',
      () => JSON.stringify({ ...subject, digest: 'sha256:abc' }),
      'Input \'subject\' is the given value: subject the JSON value: field digest is "sha256:abc"; expected sha256:<64 hex>.',
    ],
    [
      'JSON that does not parse',
      () => '{"name": "x",}',
      "Input 'subject' is the given value: the JSON value line 1, column 14: a trailing comma before } (not valid JSON); expected",
    ],
    ['a missing file', () => 'missing.json', `${join(workspace, 'missing.json')} does not exist`],
    [
      'a record of another tool',
      () => JSON.stringify({ subject }),
      'field _type is missing; expected a Slipway record',
    ],
    [
      'a bad image name',
      () => JSON.stringify({ ...subject, name: 'Acme/API' }),
      'subject the JSON value: field name is "Acme/API"; expected an image name without tag or digest',
    ],
  ])('refuses %s, naming the input', async (_what, given, message) => {
    const error = await rejection(readSubjectInput('subject', given(), workspace));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toContain(message);
  });

  it.each([
    [undefined, undefined, 'neither was given'],
    [{}, 'build.json', 'both were given'],
  ])('wants exactly one of image and subject', (image, subject, detail) => {
    expect(() => requireImageOrSubject(image, subject)).toThrow(detail);
  });
  it('accepts either alone', () => {
    expect(() => requireImageOrSubject({}, undefined)).not.toThrow();
    expect(() => requireImageOrSubject(undefined, 'build.json')).not.toThrow();
  });
});

describe('the sbom-files input', () => {
  it('takes the sbom action’s files output as it is, keeping each file’s platform manifest', async () => {
    const files = await readSbomFilesInput('sbom-files', [JSON.stringify([sbomFile])], workspace);
    expect(files).toEqual([
      { path: sbomFile.path, format: 'cyclonedx', platform: 'linux/amd64', manifestDigest: sbomFile.manifestDigest },
    ]);
  });

  it('takes paths whose names tell the format', async () => {
    expect(await readSbomFilesInput('sbom-files', ['api-linux-amd64.cdx.json'], workspace)).toEqual([
      { path: sbomFile.path, format: 'cyclonedx' },
    ]);
  });

  it('names the entry and field of a files output that does not fit', async () => {
    const error = await rejection(
      readSbomFilesInput('sbom-files', [JSON.stringify([{ ...sbomFile, format: 'swid' }])], workspace),
    );
    expect(error.message).toBe(
      'Input \'sbom-files\' is the given value: sbom files the JSON value: field [0].format is "swid"; expected cyclonedx or spdx.',
    );
  });
});

describe('the schemas', () => {
  it('are valid draft 2020-12 schemas that compile together', () => {
    const names = ['subject', 'build', 'sbom', 'attestations', 'verification', 'promotion', 'canary', 'evidence'];
    const schemas = names.map((name) =>
      JSON.parse(readFileSync(join(repositoryRoot, 'schemas', `${name}.schema.json`), 'utf8')),
    );
    const ajv = new Ajv2020({ strict: true, schemas });
    for (const name of names) {
      expect(ajv.getSchema(`https://slipway.dev/schemas/${name}.schema.json`)).toBeTypeOf('function');
    }
    for (const schema of schemas.slice(1)) {
      expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(schema.required.slice(0, 2)).toEqual(['_type', 'version']);
    }
  });
});
