import type { SecretRegistry } from '../core/secrets.js';
import { appendToCommandFile, type Env } from './protocol.js';

// The step summary: markdown gathered while the action runs and written once at the end, so a failing
// action still shows what it learned. The runner refuses a summary over 1 MiB with only an annotation
// (actions/runner#4337), so an oversized one is cut here with a note saying so.

export const SUMMARY_LIMIT_BYTES = 1024 * 1024;
const TRUNCATION_NOTE =
  '\n\n> The summary was cut at the runner’s 1 MiB limit; the full record is in the step’s `record` output.\n';

export class StepSummary {
  readonly #parts: string[] = [];

  /** Adds a block of markdown; blocks are separated by a blank line. */
  add(markdown: string): this {
    this.#parts.push(markdown.trimEnd());
    return this;
  }

  get isEmpty(): boolean {
    return this.#parts.length === 0;
  }

  render(secrets: SecretRegistry): string {
    const text = secrets.redact(`${this.#parts.join('\n\n')}\n`);
    if (Buffer.byteLength(text) <= SUMMARY_LIMIT_BYTES) return text;
    const room = SUMMARY_LIMIT_BYTES - Buffer.byteLength(TRUNCATION_NOTE);
    // Cut on a UTF-8 boundary: decode the prefix and drop a trailing partial character.
    const cut = Buffer.from(text)
      .subarray(0, room)
      .toString('utf8')
      .replace(/\uFFFD$/, '');
    return cut + TRUNCATION_NOTE;
  }

  /** Appends to GITHUB_STEP_SUMMARY; does nothing outside the runner or when empty. */
  writeToRunner(env: Env, secrets: SecretRegistry): void {
    if (!env.GITHUB_STEP_SUMMARY || this.isEmpty) return;
    appendToCommandFile(env, 'GITHUB_STEP_SUMMARY', this.render(secrets));
  }
}
