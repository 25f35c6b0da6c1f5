import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActionDefinition } from '../shared/runner/action.js';
import { ConfigurationError } from '../shared/runner/errors.js';
import { type InputSpec, readInputs } from '../shared/runner/inputs.js';
import type { Logger } from '../shared/runner/logger.js';
import { memoryOutputs } from '../shared/runner/outputs.js';
import type { SecretRegistry } from '../shared/runner/secrets.js';
import { memoryState } from '../shared/runner/state.js';
import { StepSummary } from '../shared/runner/summary.js';

// Every action runs from the CLI with the same definition the runner uses: `slipway build --image x
// --directories dist:/app`. Flags are the action's input names; a flag given twice adds a line (list
// inputs); a flag with no value is `true`. Outputs print as one JSON object; the step summary goes to stderr.

/** Each definition is imported only when its command runs. */
export const ACTION_COMMANDS: Record<
  string,
  { summary: string; load: () => Promise<ActionDefinition<InputSpec, string>> }
> = {
  build: {
    summary: 'Build an image once, push it with its tags, and report the digest (the build action).',
    load: async () =>
      (await import('../actions/build/definition.js')).build as unknown as ActionDefinition<InputSpec, string>,
  },
};

/** Reads `--name value`, `--name=value` and bare `--name` (true) into input values; lists collect repeats. */
export function parseActionFlags(args: readonly string[], spec: InputSpec): Map<string, string> {
  const values = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) {
      throw new ConfigurationError(
        'arguments',
        arg,
        `--input value pairs; inputs: ${Object.keys(spec).join(', ')}`,
        'an action takes flags only',
      );
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (!(name in spec)) {
      throw new ConfigurationError(
        'arguments',
        arg,
        `one of --${Object.keys(spec).join(', --')}`,
        `there is no input ${JSON.stringify(name)}`,
      );
    }
    let value: string;
    if (eq !== -1) value = arg.slice(eq + 1);
    else if (i + 1 < args.length && !args[i + 1]!.startsWith('--')) value = args[++i]!;
    else value = 'true';
    values.set(name, values.has(name) ? `${values.get(name)}\n${value}` : value);
  }
  return values;
}

export async function runActionCommand(
  name: string,
  args: readonly string[],
  io: { env: NodeJS.ProcessEnv; cwd: string; stderr: (line: string) => void },
  logger: Logger,
  secrets: SecretRegistry,
): Promise<Record<string, string>> {
  const definition = await ACTION_COMMANDS[name]!.load();
  const flags = parseActionFlags(args, definition.inputs);
  const inputs = readInputs(
    definition.inputs,
    (input) => flags.get(input),
    (value) => secrets.add(value),
  );
  const outputs = memoryOutputs<string>(secrets);
  const summary = new StepSummary();
  try {
    await definition.main({
      inputs,
      outputs,
      summary,
      state: memoryState(),
      logger,
      secrets,
      env: io.env,
      workspace: io.cwd,
      recordDirectory: mkdtempSync(join(io.env.RUNNER_TEMP || tmpdir(), `slipway-${name}-`)),
    });
  } finally {
    if (!summary.isEmpty) io.stderr(summary.render(secrets));
  }
  return outputs.values;
}
