import type { SbomFileRequest } from '../../shared/attest/run-sign.js';
import { ConfigurationError } from '../../shared/core/errors.js';
import { fileError, readUserJson, type UserFile, userFile } from '../../shared/core/files.js';
import { loginFromInputs } from '../../shared/oci/login-inputs.js';
import { parsePinnedReference } from '../../shared/oci/reference.js';
import { ATTESTATIONS_RECORD } from '../../shared/records/attestations.js';
import { writeRecord } from '../../shared/records/record.js';
import { readSbomFilesInput } from '../../shared/records/sbom.js';
import { readSubjectInput, requireImageOrSubject } from '../../shared/records/subject.js';
import { defineAction } from '../../shared/runner/action.js';
import {
  boolean,
  choice,
  choiceList,
  githubToken as githubTokenInput,
  list,
  parsed,
  text,
} from '../../shared/runner/inputs.js';
import { registryTimeoutInputs, registryTimeouts } from '../registry-inputs.js';

// The sign action: inputs into one typed request; shared/attest/run-sign.ts signs and stores.

const SBOM_FILES_EXPECTED =
  'SBOM file paths, one per line, the sbom action’s files output as it is, or its record (sbom.json)';
const SIGNING_CONFIG = 'a Sigstore signing config (JSON) naming caUrls, rekorTlogUrls or tsaUrls';

export const sign = defineAction({
  name: 'sign',
  inputs: {
    image: parsed(parsePinnedReference, { expected: 'an image pinned by digest, e.g. ghcr.io/acme/api@sha256:…' }),
    subject: text(),
    platforms: boolean({ default: 'false' }),
    provenance: boolean({ default: 'true' }),
    'sbom-files': list({ expected: SBOM_FILES_EXPECTED }),
    'predicate-type': text({
      pattern: /[a-z][a-z0-9+.-]*:\S+/,
      expected: 'an absolute URI, e.g. https://example.com/predicate/v1',
    }),
    predicate: text(),
    key: text({ secret: true }),
    storage: choiceList(['referrer', 'github', 'cosign-legacy'], { default: 'referrer,github' }),
    'signing-config': text(),
    'trusted-root': text(),
    'public-log': choice(['auto', 'true', 'false'], { default: 'auto' }),
    'github-token': githubTokenInput(),
    username: text(),
    password: text({ secret: true }),
    ...registryTimeoutInputs,
  },
  outputs: ['bundles', 'record'],

  async main({ inputs, outputs, summary, logger, secrets, env, workspace, recordDirectory }) {
    requireImageOrSubject(inputs.image, inputs.subject);
    if ((inputs['predicate-type'] === undefined) !== (inputs.predicate === undefined)) {
      throw new ConfigurationError(
        inputs.predicate ? 'predicate-type' : 'predicate',
        '',
        'predicate-type and predicate together',
        'only one of them was given',
      );
    }
    const sbomFiles: SbomFileRequest[] = await readSbomFilesInput('sbom-files', inputs['sbom-files'], workspace);
    // A record that names only the image (sbom.json, verification.json) gives the reference; sign reads the rest.
    const given = inputs.subject ? await readSubjectInput('subject', inputs.subject, workspace) : undefined;
    const { runSign } = await import('../../shared/attest/run-sign.js');
    const { readTrustedRoot } = await import('../../shared/attest/trusted-root.js');
    const image = inputs.image ?? (given?.subject ? undefined : given?.reference);
    const subject = given?.subject;
    const login = loginFromInputs(inputs.username, inputs.password, (inputs.image ?? given?.reference)!);
    const githubToken = inputs['github-token'];
    const record = await runSign(
      {
        ...(image ? { image } : {}),
        ...(subject ? { subject } : {}),
        platforms: inputs.platforms,
        provenance: inputs.provenance,
        sbomFiles,
        ...(inputs['predicate-type'] && inputs.predicate
          ? {
              custom: {
                predicateType: inputs['predicate-type'],
                path: userFile('predicate', inputs.predicate, workspace, 'a JSON predicate').path,
              },
            }
          : {}),
        ...(inputs.key ? { key: inputs.key } : {}),
        storage: inputs.storage,
        ...(inputs['signing-config']
          ? {
              endpoints: readSigningConfig(
                userFile('signing-config', inputs['signing-config'], workspace, SIGNING_CONFIG),
              ),
            }
          : {}),
        ...(inputs['trusted-root']
          ? {
              trustedRoot: readTrustedRoot(
                userFile('trusted-root', inputs['trusted-root'], workspace, 'a Sigstore trusted root JSON file'),
              ),
            }
          : {}),
        publicLog: inputs['public-log'],
        ...(githubToken ? { githubToken } : {}),
        ...(login ? { login } : {}),
        registryTimeouts: registryTimeouts(inputs),
      },
      { env, logger, secrets, workspace, summary, now: () => new Date() },
    );
    outputs.json('bundles', record.attestations);
    outputs.set('record', writeRecord(recordDirectory, ATTESTATIONS_RECORD, record, secrets));
  },
});

/**
 * A Sigstore signing config: the protobuf JSON (caUrls, rekorTlogUrls, tsaUrls, each with a url) or a plain
 * {fulcioUrl, rekorUrl, tsaUrl}. Only the first URL of each service is used.
 */
function readSigningConfig(file: UserFile): { fulcioUrl?: string; rekorUrl?: string; tsaUrl?: string } {
  const json = readUserJson(file, SIGNING_CONFIG);
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw fileError(file, SIGNING_CONFIG, `${file.path} is JSON but not an object`);
  }
  const raw = json as Record<string, unknown>;
  const url = (field: string, value: unknown): string | undefined => {
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !/^https?:\/\/\S+$/.test(value) || !URL.canParse(value)) {
      throw fileError(file, SIGNING_CONFIG, `${file.path}: field ${field} is not an http(s) URL`);
    }
    return value;
  };
  const first = (key: string) => {
    const list = raw[key];
    if (list === undefined) return undefined;
    if (!Array.isArray(list)) throw fileError(file, SIGNING_CONFIG, `${file.path}: field ${key} is not a list`);
    return url(`${key}[0].url`, (list[0] as { url?: unknown } | undefined)?.url);
  };
  const config = {
    fulcioUrl: url('fulcioUrl', raw.fulcioUrl) ?? first('caUrls'),
    rekorUrl: url('rekorUrl', raw.rekorUrl) ?? first('rekorTlogUrls') ?? first('tlogUrls'),
    tsaUrl: url('tsaUrl', raw.tsaUrl) ?? first('tsaUrls'),
  };
  if (!config.fulcioUrl && !config.rekorUrl && !config.tsaUrl) {
    throw fileError(file, SIGNING_CONFIG, `${file.path} names no service`);
  }
  return Object.fromEntries(Object.entries(config).filter(([, v]) => v)) as {
    fulcioUrl?: string;
    rekorUrl?: string;
    tsaUrl?: string;
  };
}
