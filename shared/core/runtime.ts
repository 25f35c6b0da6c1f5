import type { Logger } from './logger.js';
import type { SecretRegistry } from './secrets.js';
import type { StepSummary } from './summary.js';

/**
 * What an action's work needs from where it runs, the same on the runner and in the CLI: the environment,
 * somewhere to log, the secrets to mask, where relative paths start, and the step summary when there is one.
 */
export interface Runtime {
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
  secrets: SecretRegistry;
  workspace: string;
  summary?: StepSummary;
}
