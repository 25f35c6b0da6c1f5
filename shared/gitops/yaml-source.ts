import { isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { SlipwayError, showValue } from '../core/errors.js';

// Reading a YAML file that people write by hand (.slipway.yaml), keeping where each value was written so that a
// mistake is reported at its line and column with the key path that leads to it. The grammar of a particular
// file lives with its reader (config.ts); this module knows only maps, lists and scalars. It never converts the
// document to plain objects: aliases are resolved one node at a time, so an alias bomb costs nothing.

/** A mistake in a file: where (file, line, column), which key, what was found and what was expected. */
export class ConfigFileError extends SlipwayError {
  override name = 'ConfigFileError';
  constructor(
    readonly file: string,
    /** 1-based. */
    readonly line: number,
    /** 1-based. */
    readonly column: number,
    /** The key path as written in the file: `environments[2].soak`, `services.api.targets.prod`. */
    readonly key: string,
    /** What is wrong, e.g. `is "1 hour"` or `is missing`. */
    readonly problem: string,
    readonly expected?: string,
  ) {
    super(`${file}:${line}:${column}: ${key} ${problem}${expected === undefined ? '' : `: expected ${expected}`}`);
  }
}

/** A value in the document, where it was written (offset) and the key path that leads to it. */
export interface Located {
  /** Aliases already resolved; null where the key is present with nothing after it. */
  node: Node | null;
  /** Offset of the value as written (of the alias, for an alias). */
  at: number;
  key: string;
}

/** The key path a person would write: `services.api`, `environments[0]`, `targets["my file"]`. */
export function childKey(parent: string, child: string | number): string {
  if (typeof child === 'number') return `${parent}[${child}]`;
  if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(child)) return parent === '' ? child : `${parent}.${child}`;
  return `${parent}[${JSON.stringify(child)}]`;
}

/** The closest of `known` to a mistyped key, when one is close enough to be what was meant. */
export function didYouMean(given: string, known: readonly string[]): string | undefined {
  // Spellings of the same words (pull_request, pullRequest, PULL-REQUEST) are what people carry over from other
  // tools: those match whatever the distance.
  const squash = (key: string) => key.toLowerCase().replace(/[-_\s]/g, '');
  const same = known.find((key) => squash(key) === squash(given));
  if (same !== undefined) return same;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const key of known) {
    const distance = editDistance(given.toLowerCase(), key);
    if (distance < bestDistance) {
      best = key;
      bestDistance = distance;
    }
  }
  // One edit in a short key, up to a third of a longer one: beyond that the suggestion is a guess.
  return bestDistance <= Math.max(1, Math.floor(given.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** One parsed YAML file and the means to report a mistake anywhere in it. */
export class YamlSource {
  private readonly lines = new LineCounter();
  private readonly document;

  constructor(
    private readonly text: string,
    /** The file as named in messages. */
    readonly file: string,
  ) {
    this.document = parseDocument(text, {
      keepSourceTokens: true,
      lineCounter: this.lines,
      prettyErrors: false,
      // Duplicates are reported by mapOf, which knows the key path.
      uniqueKeys: false,
      version: '1.2',
    });
  }

  /** The document's top value; a file that is not valid YAML fails here, at its first error. */
  root(): Located {
    const error = this.document.errors[0];
    if (error !== undefined) {
      const problem =
        error.code === 'MULTIPLE_DOCS'
          ? 'holds several YAML documents'
          : `is not valid YAML (${error.message.split('\n')[0]})`;
      this.fail(error.pos[0], 'the file', problem, error.code === 'MULTIPLE_DOCS' ? 'one document' : undefined);
    }
    const contents = this.document.contents;
    return { node: contents, at: contents?.range?.[0] ?? 0, key: '' };
  }

  fail(at: number, key: string, problem: string, expected?: string): never {
    const { line, col } = this.lines.linePos(at);
    // A byte order mark is not a column anyone sees in an editor.
    const column = line <= 1 && this.text.startsWith('\uFEFF') ? Math.max(1, col - 1) : col;
    throw new ConfigFileError(this.file, Math.max(1, line), column, key, problem, expected);
  }

  /** Fails naming the value found: `environments[2].soak is "1 hour": expected …`. */
  wrong(value: Located, expected: string, detail?: string): never {
    this.fail(
      value.at,
      value.key || 'the file',
      `is ${describe(value.node)}`,
      detail === undefined ? expected : `${expected} (${detail})`,
    );
  }

  /**
   * The entries of a map, by key, in the order written. Keys not in `allowed` are errors, with the known key
   * closest to what was written: a typo must not pass as an ignored key.
   */
  mapOf(value: Located, expected: string, allowed?: readonly string[]): Map<string, Located> {
    if (!isMap(value.node)) this.wrong(value, expected);
    const entries = new Map<string, Located>();
    for (const pair of value.node.items) {
      const keyNode = pair.key as Node | null;
      const keyAt = keyNode?.range?.[0] ?? value.at;
      if (!isScalar(keyNode)) this.fail(keyAt, value.key || 'the file', 'has a key that is not plain text', expected);
      // The same text the key has when the document is read as JSON (what the JSON schema sees).
      const key = keyNode.value === null ? '' : String(keyNode.value);
      const childPath = childKey(value.key, key);
      if (entries.has(key)) this.fail(keyAt, childPath, 'is given twice', 'each key once');
      if (allowed !== undefined && !allowed.includes(key)) {
        const close = didYouMean(key, allowed);
        this.fail(
          keyAt,
          childPath,
          `is not a known key${close === undefined ? '' : ` (did you mean ${close}?)`}`,
          `one of ${allowed.join(', ')}`,
        );
      }
      const raw = pair.value as Node | null;
      entries.set(key, {
        node: this.resolve(raw),
        // Nothing after the colon: point just past the key.
        at: raw?.range?.[0] ?? keyNode.range?.[1] ?? keyAt,
        key: childPath,
      });
    }
    return entries;
  }

  /** The value under `name`, failing at the map itself when it is absent. */
  required(map: Located, entries: Map<string, Located>, name: string, expected: string): Located {
    const entry = entries.get(name);
    if (entry === undefined) this.fail(map.at, childKey(map.key, name), 'is missing', expected);
    return entry;
  }

  listOf(value: Located, expected: string): Located[] {
    if (!isSeq(value.node)) this.wrong(value, expected);
    return value.node.items.map((item, index) => {
      const raw = item as Node | null;
      return { node: this.resolve(raw), at: raw?.range?.[0] ?? value.at, key: childKey(value.key, index) };
    });
  }

  /** A string matching `pattern` (when given); numbers and booleans are not strings, whatever they look like. */
  string(value: Located, expected: string, pattern?: RegExp): string {
    const node = value.node;
    if (!isScalar(node) || typeof node.value !== 'string') {
      // `name: 2024` is a number to YAML; say so only where the same characters in quotes would do.
      const typed = isScalar(node) && (typeof node.value === 'number' || typeof node.value === 'boolean');
      const quote = typed && node.source !== undefined && (pattern === undefined || pattern.test(node.source));
      this.wrong(value, expected, quote ? 'put it in quotes to make it text' : undefined);
    }
    if (pattern !== undefined && !pattern.test(node.value)) this.wrong(value, expected);
    return node.value;
  }

  boolean(value: Located): boolean {
    const node = value.node;
    if (!isScalar(node) || typeof node.value !== 'boolean') this.wrong(value, 'true or false');
    return node.value;
  }

  private resolve(node: Node | null): Node | null {
    if (!isAlias(node)) return node;
    return (node.resolve(this.document) as Node | undefined) ?? null;
  }
}

/** How a value found is shown in a message. */
function describe(node: Node | null): string {
  if (isMap(node)) return node.items.length === 0 ? 'an empty map' : 'a map';
  if (isSeq(node)) return node.items.length === 0 ? 'an empty list' : 'a list';
  if (!isScalar(node) || node.value === null || node.value === undefined) return 'empty';
  const value = node.value;
  if (typeof value === 'string') return showValue(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return 'a value of another kind';
}
