import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { loginFromInputs } from '../../shared/oci/login.js';
import { parsePinnedReference } from '../../shared/oci/reference.js';
import { defineAction } from '../../shared/runner/action.js';
import { ConfigurationError } from '../../shared/runner/errors.js';
import {
  boolean,
  choice,
  choiceList,
  githubToken as githubTokenInput,
  list,
  parsed,
  text,
} from '../../shared/runner/inputs.js';
import { writeRecordFile } from '../../shared/runner/outputs.js';

// The sign action: inputs into one typed request; shared/attest/run-sign.ts signs and stores.

export const sign = defineAction({
  name: 'sign',
  inputs: {
    image: parsed(parsePinnedReference, { expected: 'an image pinned by digest, e.g. ghcr.io/acme/api@sha256:…' }),
    subject: text(),
    platforms: boolean({ default: 'false' }),
    provenance: boolean({ default: 'true' }),
    'sbom-files': list({ expected: 'SBOM file paths, one per line, or the sbom action’s files output' }),
    'predicate-type': text({
      pattern: /[a-z][a-z0-9+.-]*:\S+/,
      expected: 'an absolute URI, e.g. https://example.com/predicate/v1',
    }),
    predicate: text(),
    key: text({ secret: true }),
    storage: choiceList(['referrer', 'github', 'cosign-legacy'], { default: 'referrer,github' }),
    'signing-config': text(),
    'public-log': choice(['auto', 'true', 'false'], { default: 'auto' }),
    'github-token': githubTokenInput(),
    username: text(),
    password: text({ secret: true }),
  },
  outputs: ['bundles', 'record'],

  async main({ inputs, outputs, summary, logger, secrets, env, workspace, recordDirectory }) {
    const at = (path: string) => (isAbsolute(path) ? path : resolve(workspace, path));
    const file = (input: string, path: string) => {
      if (!existsSync(at(path)))
        throw new ConfigurationError(input, path, 'a file in the workspace', `${at(path)} does not exist`);
      return at(path);
    };
    if ((inputs.image === undefined) === (inputs.subject === undefined)) {
      throw new ConfigurationError(
        'image',
        '',
        'exactly one of image and subject',
        inputs.image ? 'both were given' : 'neither was given',
      );
    }
    if ((inputs['predicate-type'] === undefined) !== (inputs.predicate === undefined)) {
      throw new ConfigurationError(
        inputs.predicate ? 'predicate-type' : 'predicate',
        '',
        'predicate-type and predicate together',
        'only one of them was given',
      );
    }
    const sbomFiles = parseSbomFiles(inputs['sbom-files']).map((entry) => ({
      ...entry,
      path: file('sbom-files', entry.path),
    }));
    const { readSubjectFile, runSign } = await import('../../shared/attest/run-sign.js');
    const subject = inputs.subject ? readSubjectFile(file('subject', inputs.subject)) : undefined;
    const login = inputs.image ? loginFromInputs(inputs.username, inputs.password, inputs.image) : undefined;
    const githubToken = inputs['github-token'];
    const record = await runSign(
      {
        ...(inputs.image ? { image: inputs.image } : {}),
        ...(subject ? { subject } : {}),
        platforms: inputs.platforms,
        provenance: inputs.provenance,
        sbomFiles,
        ...(inputs['predicate-type'] && inputs.predicate
          ? { custom: { predicateType: inputs['predicate-type'], path: file('predicate', inputs.predicate) } }
          : {}),
        ...(inputs.key ? { key: inputs.key } : {}),
        storage: inputs.storage,
        ...(inputs['signing-config']
          ? { endpoints: readSigningConfig(file('signing-config', inputs['signing-config'])) }
          : {}),
        publicLog: inputs['public-log'],
        ...(githubToken ? { githubToken } : {}),
        ...(login ? { login } : {}),
      },
      { env, logger, secrets, workspace, summary, now: () => new Date() },
    );
    outputs.json('bundles', record.attestations);
    outputs.set('record', writeRecordFile(recordDirectory, 'attestations.json', record, secrets));
  },
});

/** Paths one per line, or the sbom action's `files` output (a JSON array of {path, format}). */
function parseSbomFiles(lines: string[]): { path: string; format: 'cyclonedx' | 'spdx' }[] {
  const text = lines.join('\n').trim();
  if (text.startsWith('[')) {
    const parsedFiles = JSON.parse(text) as { path: string; format: 'cyclonedx' | 'spdx' }[];
    return parsedFiles.map((f) => ({ path: f.path, format: f.format }));
  }
  return lines.map((path) => {
    if (/\.(cdx|cyclonedx)\.json$|(^|\/)bom\.json$/.test(path)) return { path, format: 'cyclonedx' as const };
    if (/\.spdx\.json$/.test(path)) return { path, format: 'spdx' as const };
    throw new ConfigurationError(
      'sbom-files',
      path,
      'a file named *.cdx.json, bom.json or *.spdx.json',
      'its format cannot be told from its name',
    );
  });
}

/**
 * A Sigstore signing config: the protobuf JSON (caUrls, rekorTlogUrls, tsaUrls, each with a url) or a plain
 * {fulcioUrl, rekorUrl, tsaUrl}. Only the first URL of each service is used.
 */
function readSigningConfig(path: string): { fulcioUrl?: string; rekorUrl?: string; tsaUrl?: string } {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const first = (key: string) => ((raw[key] as { url?: string }[] | undefined) ?? [])[0]?.url;
  const config = {
    fulcioUrl: (raw.fulcioUrl as string | undefined) ?? first('caUrls'),
    rekorUrl: (raw.rekorUrl as string | undefined) ?? first('rekorTlogUrls') ?? first('tlogUrls'),
    tsaUrl: (raw.tsaUrl as string | undefined) ?? first('tsaUrls'),
  };
  if (!config.fulcioUrl && !config.rekorUrl && !config.tsaUrl) {
    throw new ConfigurationError(
      'signing-config',
      path,
      'a Sigstore signing config naming caUrls, rekorTlogUrls or tsaUrls',
      'it names no service',
    );
  }
  return Object.fromEntries(Object.entries(config).filter(([, v]) => v)) as {
    fulcioUrl?: string;
    rekorUrl?: string;
    tsaUrl?: string;
  };
}
