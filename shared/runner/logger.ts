// The runner's logger: the Logger interface of shared/core written as workflow commands.
import type { Logger, Write } from '../core/logger.js';
import type { SecretRegistry } from '../core/secrets.js';
import { formatWorkflowCommand, writeStdout } from './protocol.js';

/** Logs as the runner reads it: workflow commands on stdout, every line passed through the secret registry. */
export function runnerLogger(secrets: SecretRegistry, write: Write = (line) => writeStdout(`${line}\n`)): Logger {
  const emit = (line: string) => write(secrets.redact(line));
  return {
    debug: (message) => emit(formatWorkflowCommand('debug', message)),
    info: (message) => emit(message),
    warning: (message) => emit(formatWorkflowCommand('warning', message)),
    error: (message) => emit(formatWorkflowCommand('error', message)),
    async group(title, body) {
      emit(formatWorkflowCommand('group', title));
      try {
        return await body();
      } finally {
        emit(formatWorkflowCommand('endgroup', ''));
      }
    },
  };
}
