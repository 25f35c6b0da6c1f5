import parseSpdx from 'spdx-expression-parse';
import type { Distro, ReadResult } from '../types.js';

// Helpers the catalogers share: reading a streamed file line by line or whole (with a cap), and the
// small bits of licence and purl handling several ecosystems need.

/**
 * Yields the lines of a UTF-8 stream (without "\n" or a trailing "\r"). It pulls chunks by hand instead
 * of `for await` so that a consumer stopping early does not call the source's return(): the walker owns
 * the entry stream and drains it, and a destroyed tar entry would break the rest of the layer.
 */
export async function* lines(content: AsyncIterable<Uint8Array>): AsyncGenerator<string, void, undefined> {
  const iterator = content[Symbol.asyncIterator]();
  const decoder = new TextDecoder('utf-8');
  let rest = '';
  for (;;) {
    const next = await iterator.next();
    if (next.done) break;
    rest += decoder.decode(next.value, { stream: true });
    let start = 0;
    for (;;) {
      const newline = rest.indexOf('\n', start);
      if (newline < 0) break;
      yield trimCr(rest.slice(start, newline));
      start = newline + 1;
    }
    rest = rest.slice(start);
  }
  rest += decoder.decode();
  if (rest.length > 0) yield trimCr(rest);
}

function trimCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/**
 * Reads a whole stream into one buffer, or returns undefined once it passes `limit` bytes: a file that
 * large is not what the cataloger expects, and holding it would defeat the walker's streaming.
 */
export async function readAll(content: AsyncIterable<Uint8Array>, limit: number): Promise<Buffer | undefined> {
  const iterator = content[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const next = await iterator.next();
    if (next.done) break;
    total += next.value.byteLength;
    if (total > limit) return undefined;
    chunks.push(next.value);
  }
  return Buffer.concat(chunks, total);
}

/** Whether a string is a valid SPDX licence expression (ids, LicenseRef-, AND/OR/WITH). */
export function isSpdxExpression(text: string): boolean {
  try {
    parseSpdx(text);
    return true;
  } catch {
    return false;
  }
}

/** The `distro` purl qualifier syft writes (`debian-12`, `alpine-3.20.3`), when the version is known. */
export function distroQualifier(distro: Distro | undefined): Record<string, string> {
  return distro?.versionId ? { distro: `${distro.id}-${distro.versionId}` } : {};
}

/** Where a package's evidence sits, from the read result it came from. */
export function locationOf(result: ReadResult<unknown>): { path: string; layer: number } {
  return { path: result.path, layer: result.layer };
}

/** The last path segment. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
