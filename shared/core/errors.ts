// Error types shared by every module. This file imports nothing, so any part of shared/ may use it
// without pulling in the runner.
//
// The split that matters to users: a SlipwayError is a failure we can explain (bad input, a registry
// that refused, a policy that said no), and run() prints only its message. Anything else is a bug,
// and run() prints its stack as well.

/** A failure with a message written for the user; `cause` keeps the underlying error for debug logs. */
export class SlipwayError extends Error {
  override name = 'SlipwayError';
  /**
   * The process exit code, where failures must be told apart by code and not only by message: a
   * vulnerability gate that failed (1) is not a gate that could not decide (3).
   */
  exitCode = 1;
}

const MAX_SHOWN_VALUE = 200;

/** Quotes a user-supplied value for a message, cut short so one bad input cannot flood the log. */
export function showValue(value: string): string {
  const cut = value.length > MAX_SHOWN_VALUE ? `${value.slice(0, MAX_SHOWN_VALUE)}…` : value;
  return JSON.stringify(cut);
}

/**
 * A value that is not of the expected form, found outside any particular input (a reference in a
 * file, a digest in a manifest). Input readers turn it into a ConfigurationError naming the input.
 */
export class InvalidValueError extends SlipwayError {
  override name = 'InvalidValueError';
  constructor(
    /** What the value was meant to be, e.g. "image reference". */
    readonly what: string,
    readonly value: string,
    /** The expected form, e.g. "[registry/]repository[:tag][@digest]". */
    readonly expected: string,
    /** What exactly is wrong, when more can be said than "it does not match". */
    readonly detail?: string,
  ) {
    super(`Invalid ${what} ${showValue(value)}: ${detail ? `${detail}; ` : ''}expected ${expected}.`);
  }
}

/** A user's mistake in an action input or CLI option: names the input, the value and the expected form. */
export class ConfigurationError extends SlipwayError {
  override name = 'ConfigurationError';
  constructor(
    readonly input: string,
    /** The value as given; undefined for secret inputs, whose value is never shown. */
    readonly value: string | undefined,
    readonly expected: string,
    readonly detail?: string,
  ) {
    const given = value === undefined ? 'the given value' : value === '' ? 'empty' : showValue(value);
    super(`Input '${input}' is ${given}: ${detail ? `${detail}; ` : ''}expected ${expected}.`);
  }

  /** Re-attributes a format error to the input it came from. */
  static fromInvalidValue(input: string, error: InvalidValueError, secret = false): ConfigurationError {
    const wrapped = new ConfigurationError(input, secret ? undefined : error.value, error.expected, error.detail);
    wrapped.cause = error;
    return wrapped;
  }
}

/**
 * An error as its message, followed by its cause's code where it has one: a failed fetch says only "fetch failed"
 * or "terminated", and the code (ECONNRESET, ENOTFOUND) says what happened.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error.cause as { code?: unknown } | undefined)?.code;
  return code ? `${error.message} (${String(code)})` : error.message;
}
