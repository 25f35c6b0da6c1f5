import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Digest } from '../../../../shared/oci/types.js';

// Fixtures are stored with LF (the repository's .gitattributes normalises line endings), so the CRLF, BOM and
// no-final-newline forms are made here from the same text; every format is tested in all of them.

export const FIXTURES = join(import.meta.dirname, '../../../fixtures/gitops/manifests');

export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

export interface Variant {
  name: string;
  make(text: string): string;
}

export const VARIANTS: Variant[] = [
  { name: 'LF', make: (text) => text },
  { name: 'CRLF', make: (text) => text.replaceAll('\n', '\r\n') },
  {
    name: 'BOM + CRLF, no final newline',
    make: (text) => `\uFEFF${text.replaceAll('\n', '\r\n').replace(/\r\n$/, '')}`,
  },
  { name: 'BOM, no final newline', make: (text) => `\uFEFF${text.replace(/\n$/, '')}` },
];

/** A digest made from one repeated hex character, easy to find in a file. */
export function digest(char: string): Digest {
  return `sha256:${char.repeat(64)}` as Digest;
}

/**
 * The original with each `from` (which must occur exactly once) replaced by `to`: the expected result of an edit,
 * computed from the text and never by serialising YAML again.
 */
export function replaced(original: string, replacements: [from: string, to: string][]): string {
  let text = original;
  for (const [from, to] of replacements) {
    const first = text.indexOf(from);
    if (first < 0) throw new Error(`test bug: ${JSON.stringify(from)} is not in the text`);
    if (text.indexOf(from, first + 1) >= 0) throw new Error(`test bug: ${JSON.stringify(from)} occurs more than once`);
    text = text.slice(0, first) + to + text.slice(first + from.length);
  }
  return text;
}

/** Line endings of the variant applied to a snippet written with "\n". */
export function eol(variantText: string, snippet: string): string {
  return variantText.includes('\r\n') ? snippet.replaceAll('\n', '\r\n') : snippet;
}
