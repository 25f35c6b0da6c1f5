import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SlipwayError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { SecretRegistry, secretInputRegistrar } from '../core/secrets.js';
import { type InputSpec, type InputValues, inputVariableName, readInputs } from './inputs.js';
import { runnerLogger } from './logger.js';
import { type OutputSink, runnerOutputs } from './outputs.js';
import { appendToCommandFile, type Env, formatWorkflowCommand, writeStdout } from './protocol.js';
import { mapStackTrace } from './stack.js';
import { POST_PHASE_MARKER, runnerState, type StateStore } from './state.js';
import { StepSummary } from './summary.js';

// An action is a definition (its inputs, its outputs, what it does) and a runner that feeds it. The same
// definition runs on the GitHub runner (runAction, below) and in the CLI (cli/), so both share one code path.

export interface ActionContext<S extends InputSpec, O extends string> {
  inputs: InputValues<S>;
  outputs: OutputSink<O>;
  summary: StepSummary;
  state: StateStore;
  logger: Logger;
  secrets: SecretRegistry;
  env: Env;
  /** Where relative paths in inputs are resolved: GITHUB_WORKSPACE on the runner, the current directory in the CLI. */
  workspace: string;
  /** A directory for record files that later steps read, unique to this step. */
  recordDirectory: string;
}

export interface ActionDefinition<S extends InputSpec, O extends string> {
  /** The folder name under actions/, e.g. "build". */
  name: string;
  inputs: S;
  outputs: readonly O[];
  main(context: ActionContext<S, O>): Promise<void>;
  /** Runs in the post phase when action.yml declares `post:` pointing at the same entry. */
  post?(context: ActionContext<S, O>): Promise<void>;
  /** How the CLI (cli/actions.ts) prints this action's results; the runner ignores it. */
  cli?: {
    /**
     * The step summary is what a person runs the command for (evidence's markdown: `slipway evidence … >
     * evidence.md`, or piped into `gh pr comment --body-file -`), so the CLI prints it on stdout and the outputs
     * JSON on stderr. By default the outputs JSON is the result on stdout, which scripts parse, and the summary, a
     * report for people, goes to stderr.
     */
    summaryIsResult?: boolean;
  };
}

export function defineAction<const S extends InputSpec, const O extends string>(
  definition: ActionDefinition<S, O>,
): ActionDefinition<S, O> {
  return definition;
}

/** Where a step's record files go: RUNNER_TEMP/slipway/<step id>, so two steps of one job never collide. */
export function recordDirectoryFor(env: Env, actionName: string): string {
  const base = env.RUNNER_TEMP || tmpdir();
  const step = (env.GITHUB_ACTION || actionName).replace(/[^A-Za-z0-9_.-]/g, '_');
  return join(base, 'slipway', step);
}

/**
 * Runs an action the way the runner expects: inputs from INPUT_*, outputs, state and summary through file
 * commands, and any error turned into one `::error::` line and a failing exit code. Errors we can explain
 * (SlipwayError) print their message only; anything else is a bug and also prints its stack.
 */
export async function runAction<S extends InputSpec, O extends string>(
  definition: ActionDefinition<S, O>,
  env: Env = process.env,
): Promise<void> {
  const secrets = new SecretRegistry((value) => writeStdout(`${formatWorkflowCommand('add-mask', value)}\n`));
  const logger = runnerLogger(secrets);
  const summary = new StepSummary();
  const state = runnerState(env, secrets);
  const isPost = env[`STATE_${POST_PHASE_MARKER}`] === 'true';
  try {
    const inputs = readInputs(
      definition.inputs,
      (name) => env[inputVariableName(name)],
      secretInputRegistrar(secrets, (message) => logger.warning(message)),
    );
    const context: ActionContext<S, O> = {
      inputs,
      outputs: runnerOutputs<O>(env, secrets),
      summary,
      state,
      logger,
      secrets,
      env,
      workspace: env.GITHUB_WORKSPACE || process.cwd(),
      recordDirectory: recordDirectoryFor(env, definition.name),
    };
    // A file command the step cannot write fails it now, before anything is pushed or signed, rather than after.
    if (definition.outputs.length > 0) appendToCommandFile(env, 'GITHUB_OUTPUT', '');
    if (isPost) {
      await definition.post?.(context);
    } else {
      if (definition.post) state.save(POST_PHASE_MARKER, 'true');
      await definition.main(context);
    }
  } catch (error) {
    reportFailure(error, logger);
    process.exitCode = error instanceof SlipwayError ? error.exitCode : 1;
  } finally {
    try {
      summary.writeToRunner(env, secrets);
    } catch (error) {
      logger.warning(`Could not write the step summary: ${describe(error)}`);
    }
  }
}

export function reportFailure(error: unknown, logger: Logger): void {
  if (error instanceof SlipwayError) {
    logger.error(error.message);
    for (let cause = error.cause; cause !== undefined; cause = (cause as { cause?: unknown }).cause) {
      logger.debug(`caused by: ${describe(cause)}`);
    }
    return;
  }
  logger.error(`Unexpected failure, a bug in Slipway (please report it): ${describe(error)}`);
  if (error instanceof Error && error.stack) logger.info(mapStackTrace(error.stack));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
