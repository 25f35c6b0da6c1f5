import { SlipwayError } from './errors.js';

// Secret values known to this process. Messages meant for people (logs, step summary, PR bodies) pass through
// redact(), so a secret that reaches a message by accident (a registry echoing a token, an error quoting a URL)
// is replaced before anyone sees it. On the runner, each secret is also announced with ::add-mask:: so the
// runner masks its own echo.
//
// Values meant for programs (outputs, record files, CLI results) are never masked: `ghcr.io/***/api@sha256:…`
// is a wrong value that a later step would use. A value that contains a secret is refused instead
// (refuseSecrets), with an error naming what would have carried it and which secret it holds.

const REDACTED = '***';

/**
 * Secrets shorter than this are not registered: masking `ab` or `7` would hide ordinary words and digits all
 * over the log, and refusing every output that happens to contain them would fail most runs. The GitHub runner
 * masks whatever it is told to however short (SecretMasker.AddValue only skips the empty string), so these are
 * not announced to it either; the person is warned instead (secretInputRegistrar).
 */
export const MIN_SECRET_LENGTH = 4;

export class SecretRegistry {
  /** Each secret and where it came from, e.g. "the secret input 'password'". */
  readonly #values = new Map<string, string>();
  readonly #announce: (value: string) => void;

  constructor(announce: (value: string) => void = () => {}) {
    this.#announce = announce;
  }

  /**
   * Registers a secret; multi-line values are registered line by line too, as the runner masks per line.
   * `source` says where it came from, for errors (never the value). Returns false when the value is too short
   * to register (MIN_SECRET_LENGTH).
   */
  add(value: string | undefined, source = 'a secret (a credential or token)'): boolean {
    if (!value) return true;
    const parts = [value, ...value.split(/\r?\n/)].map((part) => part.trim());
    for (const part of parts) {
      if (part.length < MIN_SECRET_LENGTH || this.#values.has(part)) continue;
      this.#values.set(part, source);
      this.#announce(part);
    }
    return value.trim().length >= MIN_SECRET_LENGTH;
  }

  /** Where the first secret contained in `text` came from (the longest such secret), or undefined. */
  sourceIn(text: string): string | undefined {
    for (const [value, source] of this.#byLength()) {
      if (text.includes(value)) return source;
    }
    return undefined;
  }

  redact(text: string): string {
    let out = text;
    for (const [value] of this.#byLength()) out = out.split(value).join(REDACTED);
    return out;
  }

  /** Longest first, so a secret containing another is found and replaced whole. */
  #byLength(): [string, string][] {
    return [...this.#values].sort(([a], [b]) => b.length - a.length);
  }
}

/**
 * Throws when `value` contains a secret: `what` names where it was going, e.g. "Output 'image'". Outputs and
 * records are read by programs, so a masked value would be silently wrong; the runner would also drop a job
 * output that contains a secret, with only a warning. In an object every string (key or value) is checked as it
 * is, since JSON text escapes a secret holding a quote or a backslash beyond recognition.
 */
export function refuseSecrets(secrets: SecretRegistry, what: string, value: unknown): void {
  const source = firstSource(secrets, value);
  if (source === undefined) return;
  throw new SlipwayError(
    `${what} would contain the value of ${source}; refusing to write it, since a masked value would be a wrong ` +
      'one: use a secret that is not part of what it holds (an image name, a tag, a path).',
  );
}

function firstSource(secrets: SecretRegistry, value: unknown): string | undefined {
  if (typeof value === 'string') return secrets.sourceIn(value);
  if (typeof value !== 'object' || value === null) return secrets.sourceIn(String(value));
  const isArray = Array.isArray(value);
  for (const [key, item] of Object.entries(value)) {
    const source = (isArray ? undefined : secrets.sourceIn(key)) ?? firstSource(secrets, item);
    if (source !== undefined) return source;
  }
  return undefined;
}

/**
 * The onSecret callback for readInputs: registers each secret input under its name, and warns, without the
 * value, about one too short to mask.
 */
export function secretInputRegistrar(
  secrets: SecretRegistry,
  warn: (message: string) => void,
): (value: string, input: string) => void {
  return (value, input) => {
    if (secrets.add(value, `the secret input '${input}'`)) return;
    warn(
      `Input '${input}' is a secret shorter than ${MIN_SECRET_LENGTH} characters: too short to mask without ` +
        'hiding ordinary text, so Slipway does not mask it. Use a longer secret.',
    );
  };
}
