import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigurationError } from '../shared/core/errors.js';
import type { Logger } from '../shared/core/logger.js';
import { type SecretRegistry, secretInputRegistrar } from '../shared/core/secrets.js';
import type { ActionDefinition } from '../shared/runner/action.js';
import { GITHUB_TOKEN_EXPRESSION, type Input, type InputSpec, readInputs } from '../shared/runner/inputs.js';
import { memoryOutputs } from '../shared/runner/outputs.js';
import { memoryState } from '../shared/runner/state.js';
import { StepSummary } from '../shared/runner/summary.js';
import type { ActionDoc, ActionDocs } from './action-docs.js';

// Every action runs from the CLI with the same definition the runner uses: `slipway build --image x
// --directories dist:/app`. The commands are the folders under actions/; flags are the action's input names;
// a flag given twice adds a line (list inputs); a bare flag is `true` where the input takes true. Outputs print
// as one JSON object on stdout and the step summary goes to stderr, except for an action whose summary is its
// result (ActionDefinition.cli.summaryIsResult: evidence), where the two swap.

/** ActionDocs as JSON, written in by scripts/build.mjs. */
declare const __SLIPWAY_ACTIONS__: string | undefined;

/**
 * The action commands and what their action.yml says, by name. Built into the bundle by scripts/build.mjs, so
 * `slipway --help` reads no file and loads no definition; from source, action.yml is read now.
 */
export async function actionDocs(): Promise<ActionDocs> {
  if (typeof __SLIPWAY_ACTIONS__ === 'string') return JSON.parse(__SLIPWAY_ACTIONS__) as ActionDocs;
  const { readActionDocs } = await import('./action-docs.js');
  return readActionDocs(fileURLToPath(new URL('../actions', import.meta.url)));
}

/** Imports one action's definition, only when its command runs or shows its help. */
export async function loadAction(name: string): Promise<ActionDefinition<InputSpec, string>> {
  // A template import: esbuild bundles every actions/*/definition.ts as its own chunk, loaded on demand, so
  // a new action folder becomes a command with no list to update. The pattern names the .ts file because
  // esbuild matches it against the files on disk. `name` is one of actionDocs()'s keys, never raw argv.
  const module = (await import(`../actions/${name}/definition.ts`)) as Record<string, unknown>;
  const definition = Object.values(module).find(
    (value): value is ActionDefinition<InputSpec, string> =>
      typeof value === 'object' && value !== null && (value as { name?: unknown }).name === name && 'inputs' in value,
  );
  if (!definition) throw new Error(`actions/${name}/definition.ts exports no action named ${name}`);
  return definition;
}

/**
 * Whether a bare `--name` (no value) reads as true: inputs that take `true` from a closed set of words (booleans,
 * a choice such as auto/true/false). A free-text input would take `true` too, but there it is surely a
 * forgotten value, so it gets an error instead; the probe word tells the two kinds apart.
 */
export function takesBareFlag(input: Input<unknown>, name: string): boolean {
  if (input.bareFlag) return true;
  const accepts = (word: string) => {
    try {
      input.read(word, name);
      return true;
    } catch {
      return false;
    }
  };
  return accepts('true') && !accepts('not-a-word-any-input-takes');
}

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
    const input = spec[name];
    if (!input) {
      throw new ConfigurationError(
        'arguments',
        arg,
        `one of --${Object.keys(spec).join(', --')}`,
        `there is no input ${JSON.stringify(name)}`,
      );
    }
    // As getopt does for an option that requires an argument, the next argument is the value whatever it looks
    // like: a PEM key starts with dashes (`--key "$(cat key.pem)"`). Only a bare-flag input lets a following
    // `--flag` start the next input.
    const bare = takesBareFlag(input, name);
    let value: string;
    if (eq !== -1) value = arg.slice(eq + 1);
    else if (i + 1 < args.length && !(bare && args[i + 1]!.startsWith('--'))) value = args[++i]!;
    else if (bare) value = 'true';
    else throw new ConfigurationError(name, '', input.expected, `--${name} needs a value (--${name} VALUE)`);
    values.set(name, values.has(name) ? `${values.get(name)}\n${value}` : value);
  }
  return values;
}

const HELP_WIDTH = 100;

/** Word-wraps a paragraph to HELP_WIDTH, the first line starting with `first`, the others with `indent`. */
export function wrap(text: string, indent: string, first = indent): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const prefix = lines.length === 0 ? first : indent;
    if (line && prefix.length + line.length + 1 + word.length > HELP_WIDTH) {
      lines.push(prefix + line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push((lines.length === 0 ? first : indent) + line);
  return lines;
}

/** `slipway <action> --help`: every input with its action.yml description, whether it is required, its default. */
export function actionHelp(name: string, definition: ActionDefinition<InputSpec, string>, doc: ActionDoc): string {
  const inputs = Object.entries(definition.inputs);
  const required = inputs.filter(([, input]) => input.required).map(([input]) => `--${input} VALUE`);
  const out = [`Usage: slipway ${[name, ...required].join(' ')} [--<input> VALUE …]`, ''];
  out.push(...wrap(doc.description, ''), '', 'Inputs:');
  for (const [input, spec] of inputs) {
    const flag = takesBareFlag(spec, input) ? `--${input} [VALUE]` : `--${input} VALUE`;
    const notes = [spec.required ? 'required' : 'optional', ...(spec.secret ? ['secret: masked in every log'] : [])];
    out.push(`  ${flag}  (${notes.join('; ')})`);
    out.push(...wrap(doc.inputs[input] || '(no description in action.yml)', '      '));
    if (spec.expected !== 'text') out.push(...wrap(`Expected: ${spec.expected}.`, '      '));
    if (spec.default === GITHUB_TOKEN_EXPRESSION) {
      out.push(
        ...wrap(`Default on the runner: ${spec.default}, the job's token; the CLI has no such token.`, '      '),
      );
    } else if (spec.default !== undefined) {
      out.push(...wrap(`Default: ${spec.default}`, '      '));
    }
  }
  out.push(
    '',
    ...(definition.cli?.summaryIsResult
      ? wrap(
          'The summary (markdown) is printed on stdout. Outputs, printed on stderr as one JSON object (also when ' +
            'the action fails after setting them):',
          '',
        )
      : ['Outputs, printed on stdout as one JSON object (also when the action fails after setting them):']),
  );
  for (const output of definition.outputs) {
    out.push(`  ${output}`, ...wrap(doc.outputs[output] || '', '      '));
  }
  out.push(
    '',
    ...wrap(
      'A flag given twice adds a line to a list input; --name=value works too; a bare flag means true where the ' +
        'input takes true. Relative paths are resolved against the current directory. Add --verbose for debug logs.',
      '',
    ),
    ...wrap(
      'Exit codes are the action’s: 0 done, 1 failed, and any distinct code the action documents (3: a gate ' +
        'that could not decide); 2 is a usage or input mistake.',
      '',
    ),
    '',
  );
  return out.join('\n');
}

export async function runActionCommand(
  definition: ActionDefinition<InputSpec, string>,
  args: readonly string[],
  io: { env: NodeJS.ProcessEnv; cwd: string; stdout: (text: string) => void; stderr: (line: string) => void },
  logger: Logger,
  secrets: SecretRegistry,
  /**
   * Receives the outputs set so far, also when the action fails after setting some (a failed gate's record), and
   * where they go: stdout, or stderr when the summary is the action's result.
   */
  onOutputs: (outputs: Record<string, string>, to: 'stdout' | 'stderr') => void,
): Promise<void> {
  const flags = parseActionFlags(args, definition.inputs);
  const inputs = readInputs(
    definition.inputs,
    (input) => flags.get(input),
    secretInputRegistrar(secrets, (message) => logger.warning(message)),
  );
  const outputs = memoryOutputs<string>(secrets);
  const summary = new StepSummary();
  let done = false;
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
      recordDirectory: mkdtempSync(join(io.env.RUNNER_TEMP || tmpdir(), `slipway-${definition.name}-`)),
    });
    done = true;
  } finally {
    const summaryIsResult = definition.cli?.summaryIsResult === true;
    if (!summary.isEmpty) {
      const markdown = summary.render(secrets);
      if (summaryIsResult) io.stdout(markdown);
      else io.stderr(markdown);
    }
    if (done || Object.keys(outputs.values).length > 0) {
      onOutputs(outputs.values, summaryIsResult ? 'stderr' : 'stdout');
    }
  }
}
