import type { Logger } from './logger.js';
import type { SecretRegistry } from './secrets.js';

/**
 * What an action's work needs from where it runs, the same on the runner and in the CLI: the environment,
 * somewhere to log, the secrets to mask, where relative paths start, and the step summary when there is one.
 */
export interface Runtime {
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
  secrets: SecretRegistry;
  workspace: string;
  summary?: SummarySink;
}

/** Where an action's markdown summary goes; the runner's StepSummary is one. */
export interface SummarySink {
  /** Adds a block of markdown. */
  add(markdown: string): unknown;
}
