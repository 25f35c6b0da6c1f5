import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { markdownTable } from '../core/markdown.js';
import type { Runtime } from '../core/runtime.js';
import { readWorkflowEvent, repositoryDescription } from '../github/event.js';
import { createRegistryClient } from '../oci/login.js';
import { type BuildRecord, type BuildRequest, buildImage, withTempDir } from './build.js';
import { gitContextFromCheckout } from './checkout.js';
import { gitContextFromEnv } from './tags.js';

// Everything a build needs from its surroundings, assembled once for the action and the CLI alike: the
// registry client with the user's credentials, the git facts (from the event on the runner, from the
// checkout elsewhere), a scratch directory, and the step summary afterwards.

export type BuildRuntime = Runtime;

export async function runBuild(request: BuildRequest, runtime: BuildRuntime): Promise<BuildRecord> {
  const { env, logger, secrets } = runtime;
  const client = createRegistryClient({
    login: request.credentials,
    env,
    logger,
    secrets,
    userAgent: 'slipway-build',
    timeouts: request.registryTimeouts,
  });
  const event = readWorkflowEvent(env);
  const git = event ? gitContextFromEnv(env, event.payload) : await gitContextFromCheckout(request.contextDir, env);
  const scratch = join(env.RUNNER_TEMP || tmpdir(), 'slipway');
  mkdirSync(scratch, { recursive: true });
  const record = await withTempDir(scratch, (tempDir) =>
    buildImage(request, {
      client,
      logger,
      env,
      git,
      now: () => new Date(),
      workspace: runtime.workspace,
      tempDir,
      ...(event ? { describe: repositoryDescription(event.payload) } : {}),
    }),
  );
  runtime.summary?.add(renderSummary(record));
  return record;
}

export function renderSummary(record: BuildRecord): string {
  const { subject } = record;
  const lines = [
    `### Built ${subject.name}@${subject.digest}`,
    '',
    markdownTable(
      ['', ''],
      [
        ['digest', `\`${subject.digest}\``],
        [
          'builder',
          `${record.builder.name}${record.builder.version ? ` ${record.builder.version}` : ''} (${record.builder.chosen})`,
        ],
        ['commit', `\`${record.source.commit}\` (${record.source.event} ${record.source.ref || 'no ref'})`],
        ['created', record.created],
      ],
    ),
    '',
    markdownTable(
      ['tag', 'reference'],
      record.tags.map((tag, i) => [`\`${tag}\``, `\`${record.references[i]}\``]),
    ),
    '',
    markdownTable(
      ['platform', 'manifest digest'],
      Object.entries(subject.platforms).map(([platform, digest]) => [platform, `\`${digest}\``]),
    ),
  ];
  if (record.reproducibility) {
    const r = record.reproducibility;
    lines.push(
      '',
      r.reproducible
        ? `Reproducible: a rebuild gave the same digest.`
        : `**Not reproducible**: a rebuild gave ${r.second}.`,
    );
    for (const difference of r.differences) lines.push(`- ${difference}`);
  }
  return lines.join('\n');
}
