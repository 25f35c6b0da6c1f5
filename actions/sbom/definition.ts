import { mkdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigurationError, SlipwayError } from '../../shared/core/errors.js';
import { userFile } from '../../shared/core/files.js';
import { loginFromInputs } from '../../shared/oci/login-inputs.js';
import { parsePinnedReference } from '../../shared/oci/reference.js';
import { writeRecord } from '../../shared/records/record.js';
import { SBOM_RECORD } from '../../shared/records/sbom.js';
import { readSubjectInput, requireImageOrSubject } from '../../shared/records/subject.js';
import { defineAction } from '../../shared/runner/action.js';
import { boolean, choice, choiceList, list, parsed, text } from '../../shared/runner/inputs.js';
import { SLIPWAY_VERSION } from '../../shared/version.js';
import { registryTimeoutInputs, registryTimeouts } from '../registry-inputs.js';

// The sbom action: inputs into one typed request; shared/sbom/run.ts describes, attaches and gates.

export const sbom = defineAction({
  name: 'sbom',
  inputs: {
    image: parsed(parsePinnedReference, { expected: 'an image pinned by digest, e.g. ghcr.io/acme/api@sha256:…' }),
    subject: text(),
    formats: choiceList(['cyclonedx', 'spdx'], { default: 'cyclonedx,spdx' }),
    attach: boolean({ default: 'true' }),
    'fail-on': choice(['none', 'low', 'medium', 'high', 'critical'], { default: 'high' }),
    'only-fixed': boolean({ default: 'false' }),
    exceptions: text(),
    vex: list(),
    baseline: parsed(parsePinnedReference, { expected: 'an image pinned by digest, e.g. ghcr.io/acme/api@sha256:…' }),
    'osv-url': text({ default: 'https://api.osv.dev', pattern: /https?:\/\/\S+/, expected: 'an http(s) URL' }),
    'output-dir': text(),
    username: text(),
    password: text({ secret: true }),
    ...registryTimeoutInputs,
  },
  outputs: ['files', 'decision', 'record'],

  async main({ inputs, outputs, summary, logger, secrets, env, workspace, recordDirectory }) {
    const at = (path: string) => (isAbsolute(path) ? path : resolve(workspace, path));
    const file = (input: 'exceptions' | 'vex', path: string) =>
      userFile(input, path, workspace, input === 'vex' ? 'an OpenVEX document (JSON)' : 'an exceptions file (YAML)');
    requireImageOrSubject(inputs.image, inputs.subject);
    const outputDir = inputs['output-dir']
      ? outputDirectory('output-dir', inputs['output-dir'], at(inputs['output-dir']))
      : join(recordDirectory, 'sbom');
    const image = inputs.image ?? (await readSubjectInput('subject', inputs.subject!, workspace)).reference;
    const login = loginFromInputs(inputs.username, inputs.password, image);
    const { runSbom, UNDECIDED_EXIT_CODE } = await import('../../shared/sbom/run.js');
    const record = await runSbom(
      {
        image,
        formats: inputs.formats,
        attach: inputs.attach,
        failOn: inputs['fail-on'],
        onlyFixed: inputs['only-fixed'],
        ...(inputs.exceptions ? { exceptionsFile: file('exceptions', inputs.exceptions) } : {}),
        vexFiles: inputs.vex.map((path) => file('vex', path)),
        ...(inputs.baseline ? { baseline: inputs.baseline } : {}),
        osvUrl: inputs['osv-url'],
        outputDir,
        ...(login ? { credentials: login } : {}),
        registryTimeouts: registryTimeouts(inputs),
      },
      { env, logger, secrets, workspace, summary, now: () => new Date(), toolVersion: SLIPWAY_VERSION },
    );
    outputs.json('files', record.sboms);
    outputs.set('decision', record.decision);
    outputs.set('record', writeRecord(recordDirectory, SBOM_RECORD, record, secrets));

    // Outputs first, so a failing gate still hands over the SBOMs and the record.
    const reasons = record.platforms.flatMap((p) => p.gate.reasons.map((reason) => `${p.platform}: ${reason}`));
    if (record.decision === 'fail') {
      const blocking = record.platforms.flatMap((p) =>
        p.gate.blocking.map((f) => `${f.id} in ${f.package.name} ${f.package.version} (${f.severity})`),
      );
      throw new SlipwayError(
        `The vulnerability gate failed: ${[...new Set(blocking)].join('; ') || reasons.join(' ')}`,
      );
    }
    if (record.decision === 'undecided') {
      if (inputs['fail-on'] === 'none') {
        logger.warning(
          `The vulnerability scan could not complete; fail-on is none, so the step passes. ${reasons.join(' ')}`,
        );
        return;
      }
      const error = new SlipwayError(
        `The vulnerability gate could not decide, which is never a pass: ${reasons.join(' ')}`,
      );
      error.exitCode = UNDECIDED_EXIT_CODE;
      throw error;
    }
  },
});

/**
 * Creates the directory an input names, before any work: a path that is a file, or runs through one, is the
 * user's mistake and is named as such, not reported later as an EEXIST from deep inside the SBOM writer.
 */
function outputDirectory(input: string, given: string, path: string): string {
  try {
    mkdirSync(path, { recursive: true });
    return path;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const detail =
      code === 'EEXIST'
        ? `${path} is a file, not a directory`
        : code === 'ENOTDIR'
          ? `a part of ${path} is a file, not a directory`
          : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
            ? `${path} cannot be created (${code})`
            : undefined;
    if (detail === undefined) throw error;
    const wrapped = new ConfigurationError(input, given, 'a directory, created if missing', detail);
    wrapped.cause = error;
    throw wrapped;
  }
}
