import type { SbomFileRequest } from '../../shared/attest/run-sign.js';
import { readSigningConfig, SIGNING_CONFIG } from '../../shared/attest/signing-config.js';
import { ConfigurationError } from '../../shared/core/errors.js';
import { userFile } from '../../shared/core/files.js';
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
