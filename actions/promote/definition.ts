import { userFile } from '../../shared/core/files.js';
import { credentialsFromInputs } from '../../shared/oci/login-inputs.js';
import { PROMOTION_RECORD } from '../../shared/records/promotion.js';
import { writeRecord } from '../../shared/records/record.js';
import { defineAction } from '../../shared/runner/action.js';
import { boolean, githubToken, list, text } from '../../shared/runner/inputs.js';
import { registryTimeoutInputs, registryTimeouts } from '../registry-inputs.js';

// The promote action: inputs into one request; shared/gitops/run-promote.ts reads the policy, plans, verifies and
// writes. A refusal still writes promotion.json (the evidence action reads why), then fails the step.

export const promote = defineAction({
  name: 'promote',
  inputs: {
    'gitops-repo': text({
      required: true,
      expected: 'owner/name (a repository on GitHub) or a local path starting with ./, ../ or /',
    }),
    environment: text({
      required: true,
      pattern: /[A-Za-z0-9][A-Za-z0-9_.-]*/,
      expected: 'an environment name from .slipway.yaml',
    }),
    service: list({ commas: true, expected: 'service names from .slipway.yaml, separated by commas or newlines' }),
    image: list({
      commas: true,
      expected: 'images pinned by digest (ghcr.io/acme/api@sha256:…) or build record paths, one per service',
    }),
    from: text({ pattern: /[A-Za-z0-9][A-Za-z0-9_.-]*/, expected: 'an environment name from .slipway.yaml' }),
    config: text({ default: '.slipway.yaml', expected: 'a path in the GitOps repository' }),
    rollback: boolean({ default: 'false' }),
    hold: boolean({ default: 'false' }),
    'release-hold': boolean({ default: 'false' }),
    'dry-run': boolean({ default: 'false' }),
    token: githubToken(),
    'trusted-root': text(),
    username: text(),
    password: text({ secret: true }),
    ...registryTimeoutInputs,
  },
  outputs: ['pull-request', 'commit', 'changed', 'digest', 'previous-digest', 'record'],

  async main({ inputs, outputs, summary, logger, secrets, env, workspace, recordDirectory }) {
    const [{ checkPromoteChoice, readPromoteImage }, { runPromote, refusalOf }] = await Promise.all([
      import('../../shared/gitops/promote-inputs.js'),
      import('../../shared/gitops/run-promote.js'),
    ]);
    checkPromoteChoice({
      images: inputs.image,
      from: inputs.from,
      services: inputs.service,
      rollback: inputs.rollback,
      hold: inputs.hold,
      releaseHold: inputs['release-hold'],
    });
    const registryCredentials = credentialsFromInputs(inputs.username, inputs.password);
    const images = [];
    for (const item of inputs.image) images.push(await readPromoteImage(item, workspace));
    let trustedRoot: object | undefined;
    if (inputs['trusted-root']) {
      const { readTrustedRoot } = await import('../../shared/attest/trusted-root.js');
      trustedRoot = readTrustedRoot(
        userFile('trusted-root', inputs['trusted-root'], workspace, 'a Sigstore trusted root JSON file'),
      );
    }
    const record = await runPromote(
      {
        gitopsRepo: inputs['gitops-repo'],
        config: inputs.config,
        environment: inputs.environment,
        services: inputs.service,
        images,
        ...(inputs.from ? { from: inputs.from } : {}),
        rollback: inputs.rollback,
        hold: inputs.hold,
        releaseHold: inputs['release-hold'],
        dryRun: inputs['dry-run'],
        ...(inputs.token ? { token: inputs.token } : {}),
        ...(trustedRoot ? { trustedRoot } : {}),
        ...(registryCredentials ? { registryCredentials } : {}),
        registryTimeouts: registryTimeouts(inputs),
      },
      { env, logger, secrets, workspace, summary },
    );
    const single = record.services.length === 1 ? record.services[0] : undefined;
    // One service: its digests. A bundle: `service=digest` lines, in the order given.
    const digests = (pick: (s: (typeof record.services)[number]) => string | undefined) =>
      single ? (pick(single) ?? '') : record.services.map((s) => `${s.service}=${pick(s) ?? ''}`).join('\n');
    outputs.set('pull-request', record.pullRequest?.url ?? '');
    outputs.set('commit', record.commit ?? '');
    outputs.set('changed', String(record.changed));
    outputs.set(
      'digest',
      digests((s) => s.next.digest),
    );
    outputs.set(
      'previous-digest',
      digests((s) => s.previous?.digest),
    );
    outputs.set('record', writeRecord(recordDirectory, PROMOTION_RECORD, record, secrets));
    const refusal = refusalOf(record);
    if (refusal) throw refusal;
    if (record.outcome === 'unchanged') logger.info(`${record.environment} already pins this; nothing was written.`);
    else if (record.outcome === 'dry-run')
      logger.info(`Dry run: the promotion into ${record.environment} is allowed; nothing was written.`);
    else if (record.pullRequest) logger.info(`Pull request: ${record.pullRequest.url}`);
    else if (record.commit)
      logger.info(`Committed ${record.commit} on ${record.gitops.defaultBranch ?? 'the default branch'}.`);
  },
});
