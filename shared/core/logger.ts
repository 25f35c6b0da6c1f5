import type { SecretRegistry } from './secrets.js';

// The one logging interface shared/ modules receive. They never write to stdout themselves, so the same
// code logs as workflow commands on the runner, as plain lines in the CLI, and into an array in tests.

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  /** Shown as an annotation on the runner. */
  warning(message: string): void;
  error(message: string): void;
  /** Runs `body` inside a collapsible group on the runner; plain indentation elsewhere. */
  group<T>(title: string, body: () => Promise<T>): Promise<T>;
}

export type Write = (line: string) => void;

/** Logs for a person at a terminal: stderr, so stdout stays free for the command's result. */
export function consoleLogger(secrets: SecretRegistry, options: { verbose?: boolean; write?: Write } = {}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  let indent = '';
  const emit = (line: string) => write(secrets.redact(indent + line));
  return {
    debug: (message) => {
      if (options.verbose) emit(`debug: ${message}`);
    },
    info: (message) => emit(message),
    warning: (message) => emit(`warning: ${message}`),
    error: (message) => emit(`error: ${message}`),
    async group(title, body) {
      emit(title);
      indent += '  ';
      try {
        return await body();
      } finally {
        indent = indent.slice(2);
      }
    },
  };
}

/** A logger that drops everything; for library callers that want silence. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warning() {},
  error() {},
  group: (_title, body) => body(),
};
