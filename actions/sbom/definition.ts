import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { loginFromInputs } from '../../shared/oci/login.js';
import { parsePinnedReference } from '../../shared/oci/reference.js';
import { defineAction } from '../../shared/runner/action.js';
import { ConfigurationError, SlipwayError } from '../../shared/runner/errors.js';
import { boolean, choice, choiceList, list, parsed, text } from '../../shared/runner/inputs.js';
import { writeRecordFile } from '../../shared/runner/outputs.js';
import { SLIPWAY_VERSION } from '../../shared/version.js';

// The sbom action: inputs into one typed request; shared/sbom/run.ts describes, attaches and gates.

export const sbom = defineAction({
  name: 'sbom',
  inputs: {
    image: parsed(parsePinnedReference, {
      required: true,
      expected: 'an image pinned by digest, e.g. ghcr.io/acme/api@sha256:…',
    }),
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
  },
  outputs: ['files', 'decision', 'record'],

  async main({ inputs, outputs, summary, logger, secrets, env, workspace, recordDirectory }) {
    const at = (path: string) => (isAbsolute(path) ? path : resolve(workspace, path));
    const file = (input: 'exceptions' | 'vex', path: string) => {
      if (!existsSync(at(path)))
        throw new ConfigurationError(input, path, 'a file in the workspace', `${at(path)} does not exist`);
      return at(path);
    };
    const image = inputs.image;
    // Checked before anything is imported or read: both or neither.
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
        outputDir: inputs['output-dir'] ? at(inputs['output-dir']) : join(recordDirectory, 'sbom'),
        ...(login ? { credentials: login } : {}),
      },
      { env, logger, secrets, workspace, summary, now: () => new Date(), toolVersion: SLIPWAY_VERSION },
    );
    outputs.json('files', record.sboms);
    outputs.set('decision', record.decision);
    outputs.set('record', writeRecordFile(recordDirectory, 'sbom.json', record, secrets));

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
