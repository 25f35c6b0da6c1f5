// Secret values known to this process. Every channel that leaves the process (logs, outputs, state,
// step summary, PR bodies) passes its text through redact(), so a secret that reaches a message by
// accident (a registry echoing a token, an error quoting a URL) is replaced before anyone sees it.
// On the runner, each secret is also announced with ::add-mask:: so the runner masks its own echo.

const REDACTED = '***';

// Shorter values would mask ordinary words and digits all over the log; the runner has the same floor in spirit.
const MIN_SECRET_LENGTH = 4;

export class SecretRegistry {
  readonly #values = new Set<string>();
  readonly #announce: (value: string) => void;

  constructor(announce: (value: string) => void = () => {}) {
    this.#announce = announce;
  }

  /** Registers a secret; multi-line values are registered line by line too, as the runner masks per line. */
  add(value: string | undefined): void {
    if (!value) return;
    const parts = [value, ...value.split(/\r?\n/)].map((part) => part.trim());
    for (const part of parts) {
      if (part.length < MIN_SECRET_LENGTH || this.#values.has(part)) continue;
      this.#values.add(part);
      this.#announce(part);
    }
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a secret containing another is replaced whole.
    for (const value of [...this.#values].sort((a, b) => b.length - a.length)) {
      out = out.split(value).join(REDACTED);
    }
    return out;
  }
}
