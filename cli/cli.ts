import { parseArgs } from 'node:util';
import { ConfigurationError, SlipwayError } from '../shared/core/errors.js';
import { consoleLogger, type Logger } from '../shared/core/logger.js';
import { refuseSecrets, SecretRegistry } from '../shared/core/secrets.js';
import { reportFailure } from '../shared/runner/action.js';
import type { ActionDocs } from './action-docs.js';
import { actionDocs, actionHelp, loadAction, runActionCommand, wrap } from './actions.js';

// `slipway <command> [options]`: the same shared/ code the actions run, for a person at a terminal.
// Results go to stdout as JSON (so they can be piped to jq or into another command); progress and
// errors go to stderr. Exit codes: 0 done, 1 failed, 2 a usage or input mistake; an action's own distinct codes
// (3, a gate that could not decide) pass through as the action exits with them on the runner.

export interface CliIo {
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdout: (text: string) => void;
  stderr: (line: string) => void;
}

type OptionSpec = Record<string, { type: 'string' | 'boolean'; description: string }>;

export interface CommandContext {
  /** Positional arguments by the names the command declares. */
  args: Record<string, string>;
  options: Record<string, string | boolean | undefined>;
  io: CliIo;
  logger: Logger;
  secrets: SecretRegistry;
}

interface Command {
  summary: string;
  positionals: readonly string[];
  options: OptionSpec;
  run(context: CommandContext): Promise<unknown>;
}

/**
 * Arguments are checked before a command's code is imported, so a mistake is reported without loading
 * the registry client, and `slipway --help` loads nothing at all.
 */
const COMMANDS: Record<string, Command> = {
  inspect: {
    summary: 'Resolve an image (registry or oci-layout:) and print its subject record: digest and platforms.',
    positionals: ['image'],
    options: {},
    run: async (c) => (await import('./commands/oci.js')).inspect(c),
  },
  copy: {
    summary: 'Copy an image by digest with every platform, mounting blobs where possible; tags move last.',
    positionals: ['source', 'destination'],
    options: { referrers: { type: 'boolean', description: 'also copy signatures, SBOMs and other referrers' } },
    run: async (c) => (await import('./commands/oci.js')).copy(c),
  },
  referrers: {
    summary: 'List the artifacts (signatures, SBOMs) attached to a digest, by the referrers API or its tag fallback.',
    positionals: ['image@digest'],
    options: { 'artifact-type': { type: 'string', description: 'only artifacts of this type' } },
    run: async (c) => (await import('./commands/oci.js')).referrers(c),
  },
  tags: {
    summary: 'List the tags of a repository.',
    positionals: ['repository'],
    options: {},
    run: async (c) => (await import('./commands/oci.js')).tags(c),
  },
};

function usage(name: string, command: Command): string {
  const options = Object.entries(command.options).map(
    ([option, spec]) => `[--${option}${spec.type === 'string' ? ' VALUE' : ''}]`,
  );
  return ['slipway', name, ...command.positionals.map((p) => `<${p}>`), ...options].join(' ');
}

function commandHelp(name: string, command: Command): string {
  const options = Object.entries(command.options).map(([option, spec]) => `  --${option}  ${spec.description}`);
  return [
    `Usage: ${usage(name, command)}`,
    '',
    command.summary,
    ...(options.length ? ['', 'Options:', ...options] : []),
    '',
  ].join('\n');
}

export function helpText(actions: ActionDocs): string {
  const names = Object.keys(actions);
  const nameWidth = Math.max(0, ...names.map((name) => name.length));
  const usages = Object.entries(COMMANDS).map(([name, command]) => [usage(name, command), command.summary] as const);
  const width = Math.max(...usages.map(([text]) => text.length));
  return [
    'slipway: build once, sign, verify and promote container images by digest.',
    '',
    'Actions, each run as `slipway <action> --<input> VALUE …` with its action.yml inputs as flags:',
    ...names.flatMap((name) =>
      wrap(firstSentence(actions[name]!.description), ' '.repeat(nameWidth + 4), `  ${name.padEnd(nameWidth)}  `),
    ),
    '',
    'Commands:',
    ...usages.map(([text, summary]) => `  ${text.padEnd(width)}  ${summary}`),
    '',
    '`slipway <action> --help` describes each input, its default and whether it is required; a repeated',
    'flag adds a line to a list input. Registry credentials come from docker config.json (DOCKER_CONFIG)',
    'and its credential helpers, or the containers auth file (REGISTRY_AUTH_FILE). Add --verbose for',
    'debug logs.',
    '',
  ].join('\n');
}

/** An action's description up to its first colon or full stop: the command list keeps to a line or two each. */
function firstSentence(text: string): string {
  const end = text.search(/[:.](\s|$)/);
  return end === -1 ? text : `${text.slice(0, end)}.`;
}

export async function runCli(argv: string[], io: Partial<CliIo> = {}): Promise<number> {
  const full: CliIo = {
    env: process.env,
    cwd: process.cwd(),
    stdout: (text) => process.stdout.write(text),
    stderr: (line) => process.stderr.write(`${line}\n`),
    ...io,
  };
  const [name, ...rest] = argv;
  const actions = await actionDocs();
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    full.stdout(helpText(actions));
    return name === undefined ? 2 : 0;
  }
  const secrets = new SecretRegistry();
  const logger = consoleLogger(secrets, { verbose: rest.includes('--verbose'), write: full.stderr });
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  const action = Object.hasOwn(actions, name) ? actions[name] : undefined;
  if (!command && !action) {
    const known = [...Object.keys(actions), ...Object.keys(COMMANDS)].join(', ');
    logger.error(`Unknown command ${JSON.stringify(name)}; expected one of ${known}.`);
    return 2;
  }
  const wantsHelp = rest.includes('--help') || rest.includes('-h');
  try {
    if (action) {
      const definition = await loadAction(name);
      if (wantsHelp) {
        full.stdout(actionHelp(name, definition, action));
        return 0;
      }
      await runActionCommand(
        definition,
        rest.filter((a) => a !== '--verbose'),
        full,
        logger,
        secrets,
        (outputs, to) => {
          const json = JSON.stringify(outputs, null, 2);
          if (to === 'stdout') full.stdout(`${json}\n`);
          else full.stderr(json);
        },
      );
      return 0;
    }
    if (!command) return 2;
    if (wantsHelp) {
      full.stdout(commandHelp(name, command));
      return 0;
    }
    const parsed = parseCommandArgs(
      rest.filter((a) => a !== '--verbose'),
      command,
      usage(name, command),
    );
    const result = await command.run({ ...parsed, io: full, logger, secrets });
    // A result is read by programs, as an action's outputs are: never masked, refused if it holds a secret.
    refuseSecrets(secrets, 'The result', result);
    full.stdout(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  } catch (error) {
    reportFailure(error, logger);
    if (error instanceof ConfigurationError) return 2;
    return error instanceof SlipwayError ? error.exitCode : 1;
  }
}

/** A wrong count of arguments or an unknown option is a ConfigurationError that shows the usage. */
function parseCommandArgs(args: string[], command: Command, usageText: string) {
  const options = Object.fromEntries(Object.entries(command.options).map(([name, { type }]) => [name, { type }]));
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (error) {
    throw new ConfigurationError('arguments', args.join(' '), usageText, (error as Error).message);
  }
  const wanted = command.positionals.length;
  if (parsed.positionals.length !== wanted) {
    const detail = `${wanted} argument${wanted === 1 ? '' : 's'} needed, ${parsed.positionals.length} given`;
    throw new ConfigurationError('arguments', args.join(' '), usageText, detail);
  }
  const named = Object.fromEntries(command.positionals.map((p, i) => [p, parsed.positionals[i]!]));
  return { args: named, options: parsed.values };
}
