import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

// Runs a built dist/ entry the way the GitHub runner does (actions/runner, src/Runner.Worker/Handlers):
// `node <actionDir>/<main>` with INPUT_<NAME> for every input (action.yml defaults merged with the
// test's values), fresh GITHUB_OUTPUT / GITHUB_STATE / GITHUB_ENV / GITHUB_STEP_SUMMARY files per phase,
// STATE_<name> fed from main into post, the event payload at GITHUB_EVENT_PATH, and workflow commands
// read back from stdout. Tests therefore exercise exactly what ships.

export const repositoryRoot = resolve(import.meta.dirname, '..', '..');

/**
 * The built entries tests run: dist/ by default. SLIPWAY_DIST names another build output
 * (`node scripts/build.mjs --outdir DIR`), so that several people building at once do not race on dist/.
 */
export const distRoot = process.env.SLIPWAY_DIST ? resolve(process.env.SLIPWAY_DIST) : join(repositoryRoot, 'dist');

export interface WorkflowCommand {
  command: string;
  properties: Record<string, string>;
  message: string;
}

export interface PhaseResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  state: Record<string, string>;
  exportedEnv: Record<string, string>;
  summary: string;
  commands: WorkflowCommand[];
  /** Messages of ::error:: commands. */
  errors: string[];
  /** Values announced with ::add-mask::. */
  masks: string[];
}

export interface RunOptions {
  /** Inputs by their action.yml names; merged over action.yml defaults. */
  inputs?: Record<string, string>;
  /** Extra environment (GITHUB_*, credentials, PATH additions…). */
  env?: Record<string, string>;
  /** The triggering event: its name becomes GITHUB_EVENT_NAME and its payload the file at GITHUB_EVENT_PATH. */
  event?: { name: string; payload: unknown };
  /** Working directory, also GITHUB_WORKSPACE; a fresh temp dir by default. */
  workspace?: string;
  /** STATE_* values for a post phase run on its own. */
  state?: Record<string, string>;
  timeoutMs?: number;
  /**
   * A command the node process runs under, as argv: `['unshare', '-n']` runs the entry in a network namespace
   * with no route out, as an air-gapped runner would.
   */
  wrap?: string[];
}

export interface ActionMetadata {
  name?: string;
  inputs?: Record<string, { description?: string; required?: boolean; default?: string | number | boolean }>;
  outputs?: Record<string, { description?: string }>;
  runs: { using: string; main: string; post?: string; pre?: string; 'post-if'?: string };
}

export function readActionMetadata(actionYmlPath: string): ActionMetadata {
  return parseYaml(readFileSync(actionYmlPath, 'utf8')) as ActionMetadata;
}

/** The INPUT_ variable the runner sets: spaces to underscores, upper case, hyphens kept. */
export function runnerInputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

let checkout: string | undefined;

/**
 * The repository as the runner downloads it for `uses: slipway-dev/slipway/actions/x@v1`: actions/ and dist/,
 * and no node_modules. Running from here proves each bundle is self-contained; run from the working tree, a
 * require() of a package left out of the bundle would quietly find it in node_modules.
 */
function actionCheckout(): string {
  if (!checkout) {
    checkout = mkdtempSync(join(tmpdir(), 'slipway-action-checkout-'));
    cpSync(join(repositoryRoot, 'actions'), join(checkout, 'actions'), { recursive: true });
    cpSync(distRoot, join(checkout, 'dist'), { recursive: true });
  }
  return checkout;
}

/**
 * Runs an action by its action.yml: main, then post (when declared) with main's state, as the runner
 * does at the end of a job. Returns both phases. Actions of this repository run from a copy of actions/
 * and dist/ alone, as the runner has them.
 */
export async function runActionYml(
  actionYmlPath: string,
  options: RunOptions = {},
): Promise<{ main: PhaseResult; post?: PhaseResult }> {
  const inRepository = relative(join(repositoryRoot, 'actions'), actionYmlPath);
  if (!inRepository.startsWith('..')) actionYmlPath = join(actionCheckout(), 'actions', inRepository);
  const metadata = readActionMetadata(actionYmlPath);
  const actionDir = dirname(actionYmlPath);
  const inputs: Record<string, string> = {};
  for (const [name, spec] of Object.entries(metadata.inputs ?? {})) {
    if (spec.default !== undefined) inputs[name] = String(spec.default);
  }
  Object.assign(inputs, options.inputs);
  const workspace = options.workspace ?? mkdtempSync(join(tmpdir(), 'slipway-workspace-'));
  const common = { ...options, inputs, workspace };
  const main = await runEntry(resolve(actionDir, metadata.runs.main), common);
  if (!metadata.runs.post) return { main };
  // post-if defaults to always(): post runs even when main failed.
  const post = await runEntry(resolve(actionDir, metadata.runs.post), { ...common, state: main.state });
  return { main, post };
}

/** Runs one dist entry file as one phase of a step. */
export async function runEntry(entryPath: string, options: RunOptions = {}): Promise<PhaseResult> {
  const scratch = mkdtempSync(join(tmpdir(), 'slipway-runner-'));
  const files = {
    GITHUB_OUTPUT: join(scratch, 'output'),
    GITHUB_STATE: join(scratch, 'state'),
    GITHUB_ENV: join(scratch, 'env'),
    GITHUB_PATH: join(scratch, 'path'),
    GITHUB_STEP_SUMMARY: join(scratch, 'summary'),
  };
  for (const path of Object.values(files)) writeFileSync(path, '');
  const eventPath = join(scratch, 'event.json');
  writeFileSync(eventPath, JSON.stringify(options.event?.payload ?? {}));
  const workspace = options.workspace ?? mkdtempSync(join(tmpdir(), 'slipway-workspace-'));

  // Only what the runner provides, not the test process's environment, so an entry that silently depends
  // on something the runner does not set fails here as it would there.
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? scratch,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_ACTION: 'slipway_step',
    GITHUB_WORKSPACE: workspace,
    GITHUB_EVENT_NAME: options.event?.name ?? 'push',
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: 'acme/app',
    GITHUB_REPOSITORY_OWNER: 'acme',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'https://api.github.com',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_RUN_ID: '1',
    GITHUB_RUN_ATTEMPT: '1',
    RUNNER_TEMP: join(scratch, 'runner-temp'),
    RUNNER_OS: 'Linux',
    ...files,
    ...options.env,
  };
  for (const [name, value] of Object.entries(options.inputs ?? {})) env[runnerInputVariable(name)] = value;
  for (const [name, value] of Object.entries(options.state ?? {})) env[`STATE_${name}`] = value;

  const [command, ...args] = [...(options.wrap ?? []), process.execPath, entryPath];
  const child = spawn(command!, args, { cwd: workspace, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const timeout = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  const exitCode = await new Promise<number>((done, fail) => {
    child.on('error', fail);
    child.on('close', (code, signal) => done(code ?? (signal ? 128 : 1)));
  }).finally(() => clearTimeout(timeout));

  const out = Buffer.concat(stdout).toString('utf8');
  const commands = parseWorkflowCommands(out);
  return {
    exitCode,
    stdout: out,
    stderr: Buffer.concat(stderr).toString('utf8'),
    outputs: parseFileCommands(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
    state: parseFileCommands(readFileSync(files.GITHUB_STATE, 'utf8')),
    exportedEnv: parseFileCommands(readFileSync(files.GITHUB_ENV, 'utf8')),
    summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
    commands,
    errors: commands.filter((c) => c.command === 'error').map((c) => c.message),
    masks: commands.filter((c) => c.command === 'add-mask').map((c) => c.message),
  };
}

/**
 * Parses a file-command file as the runner does: `NAME<<DELIMITER` heredocs ending at a line that is exactly
 * the delimiter, and plain `NAME=value` lines. A heredoc without its closing delimiter is an error, as on the runner.
 */
export function parseFileCommands(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const heredoc = /^([^=]+?)<<(.+)$/.exec(line);
    const equals = line.indexOf('=');
    if (heredoc && (equals === -1 || equals > line.indexOf('<<'))) {
      const [, name, delimiter] = heredoc;
      const body: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) body.push(lines[i]!);
      if (i >= lines.length) throw new Error(`Unterminated heredoc for ${name}: no line ${delimiter}`);
      result[name!] = body.join('\n');
    } else if (equals > 0) {
      result[line.slice(0, equals)] = line.slice(equals + 1);
    } else {
      throw new Error(`Invalid file-command line: ${JSON.stringify(line)}`);
    }
  }
  return result;
}

function unescapeData(value: string): string {
  return value.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}

function unescapeProperty(value: string): string {
  return unescapeData(value.replace(/%3A/g, ':').replace(/%2C/g, ','));
}

/** Reads `::command key=value,…::message` lines from stdout, unescaping as the runner does. */
export function parseWorkflowCommands(stdout: string): WorkflowCommand[] {
  const commands: WorkflowCommand[] = [];
  for (const line of stdout.split('\n')) {
    const match = /^::([A-Za-z-]+)(?: ([^:]*))?::(.*)$/.exec(line);
    if (!match) continue;
    const properties: Record<string, string> = {};
    for (const pair of (match[2] ?? '').split(',').filter(Boolean)) {
      const eq = pair.indexOf('=');
      if (eq > 0) properties[pair.slice(0, eq)] = unescapeProperty(pair.slice(eq + 1));
    }
    commands.push({ command: match[1]!, properties, message: unescapeData(match[3]!) });
  }
  return commands;
}
