import { isDeepStrictEqual } from 'node:util';
import {
  Composer,
  CST,
  type Document,
  isAlias,
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type Node,
  type Pair,
  Parser,
  parse,
  type Scalar,
  visit,
} from 'yaml';
import { ManifestEditError } from './edit-error.js';

// Comment-, anchor- and byte-preserving YAML edits. A file is parsed once into CST tokens and composed documents
// that point back at those tokens (keepSourceTokens); a value is changed with CST.setScalarValue on its own token, so
// everything around it (comments, blank lines, quotes elsewhere, key order, anchors, CRLF, BOM, final newline) is
// the original text. New keys and list entries, which have no token yet, are spliced in as whole lines after the
// last line of their collection, indented like their siblings. A key is removed as the whole line(s) it occupies,
// its end-of-line comment with it (the comment is about that value); the lines around it, comments included, stay.
//
// Every edit is then checked twice before it is returned: the bytes outside the edited values and inserted lines
// must be the original's, and re-parsing the result must give exactly the original documents with the intended
// paths changed. Anything else is refused rather than written (the anchors' bug reports are mostly about edits that
// silently did more: AIU #279 dropped `generators:`, yaml-update-action #547 resolved anchors).

export type PathKey = string | number;

/** A node reached from a document's root, with what an edit there must know. */
export interface Found {
  doc: number;
  /** The path as toJS() sees it: map keys and list indices. */
  path: PathKey[];
  node: Node | null;
  /** True when the walk went through an alias: the value lives elsewhere, shared. */
  viaAlias: boolean;
  /** The collections walked through, root first, then the node itself. */
  chain: Node[];
  inFlow: boolean;
}

interface Splice {
  start: number;
  end: number;
  text: string;
}

interface Expectation {
  doc: number;
  path: PathKey[];
  /** What re-reading must find at `path`; `removed` when the key must be gone. */
  value: unknown;
  removed?: true;
}

export type QuoteRule = 'keep' | 'string';

export class YamlFile {
  readonly tokens: CST.Token[];
  readonly documents: Document.Parsed[];
  private readonly lineStarts: number[];
  private anchorsInUse: Set<string>[] | undefined;

  private constructor(
    readonly file: string,
    readonly text: string,
  ) {
    this.tokens = Array.from(new Parser().parse(text));
    this.documents = Array.from(new Composer({ keepSourceTokens: true }).compose(this.tokens));
    this.lineStarts = [0];
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.lineStarts.push(i + 1);
  }

  /** Parses `text`; a file YAML itself refuses is refused with the parser's first error and its line. */
  static parse(file: string, text: string): YamlFile {
    const yaml = new YamlFile(file, text);
    for (const document of yaml.documents) {
      const error = document.errors[0];
      if (error)
        throw new ManifestEditError(file, yaml.lineOf(error.pos[0]), `not valid YAML: ${firstLine(error.message)}`);
      // The parser accepts an alias to an anchor that does not exist; reading it later would throw.
      visit(document, {
        Alias(_, alias) {
          if (!alias.resolve(document)) {
            yaml.fail(alias, `not valid YAML: alias *${alias.source} has no anchor &${alias.source} before it`);
          }
        },
      });
    }
    return yaml;
  }

  lineOf(offset: number): number {
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.lineStarts[middle]! <= offset) low = middle;
      else high = middle - 1;
    }
    return low + 1;
  }

  /** The line a node starts on, for messages. */
  lineAt(node: Node | null | undefined): number | undefined {
    return node?.range ? this.lineOf(node.range[0]) : undefined;
  }

  fail(node: Node | null | undefined, detail: string): never {
    throw new ManifestEditError(this.file, this.lineAt(node), detail);
  }

  root(doc: number): Found {
    const node = (this.documents[doc]?.contents ?? null) as Node | null;
    return { doc, path: [], node, viaAlias: false, chain: node ? [node] : [], inFlow: isFlow(node) };
  }

  /** The value under `key` of a map, or item `key` of a list; aliases are followed and remembered. */
  child(parent: Found | undefined, key: PathKey): Found | undefined {
    if (!parent) return undefined;
    const container = this.resolve(parent);
    let node: unknown;
    if (typeof key === 'number') {
      if (!isSeq(container.node)) return undefined;
      node = container.node.items[key];
    } else {
      if (!isMap(container.node)) return undefined;
      const pair = container.node.items.find((item) => isScalar(item.key) && String(item.key.value) === key);
      if (!pair) return undefined;
      node = pair.value;
    }
    const child = (node ?? null) as Node | null;
    return {
      doc: parent.doc,
      path: [...parent.path, key],
      node: child,
      viaAlias: container.viaAlias,
      chain: child ? [...container.chain, child] : container.chain,
      inFlow: container.inFlow || isFlow(child),
    };
  }

  /** Follows a path of keys; undefined where any step is missing. */
  at(start: Found | undefined, path: readonly PathKey[]): Found | undefined {
    let found = start;
    for (const key of path) found = this.child(found, key);
    return found;
  }

  /** The items of a list (none when the node is not one). */
  items(found: Found | undefined): Found[] {
    if (!found) return [];
    const list = this.resolve(found);
    if (!isSeq(list.node)) return [];
    return list.node.items.map((_, index) => this.child(list, index)!);
  }

  /** The keys of a map, in order (none when the node is not one). */
  keys(found: Found | undefined): string[] {
    if (!found) return [];
    const map = this.resolve(found);
    if (!isMap(map.node)) return [];
    return map.node.items.flatMap((pair) => (isScalar(pair.key) ? [String(pair.key.value)] : []));
  }

  /** A scalar's text as a string (numbers as written: a tag `1.10` is "1.10", not 1.1); undefined otherwise. */
  value(found: Found | undefined): string | undefined {
    if (!found) return undefined;
    const node = this.resolve(found).node;
    if (!isScalar(node) || node.value === null) return undefined;
    if (typeof node.value === 'string') return node.value;
    return typeof node.source === 'string' ? node.source : String(node.value);
  }

  private resolve(found: Found): Found {
    if (!isAlias(found.node)) return found;
    const target = found.node.resolve(this.documents[found.doc]!) as Node | undefined;
    return {
      ...found,
      node: target ?? null,
      viaAlias: true,
      chain: target ? [...found.chain, target] : found.chain,
      inFlow: found.inFlow || isFlow(target ?? null),
    };
  }

  /** Anchor names some alias in the document refers to: changing under such an anchor changes every alias too. */
  sharedAnchors(doc: number): Set<string> {
    this.anchorsInUse ??= this.documents.map((document) => {
      const names = new Set<string>();
      visit(document, {
        Alias(_, alias) {
          names.add(alias.source);
        },
      });
      return names;
    });
    return this.anchorsInUse[doc]!;
  }

  /** A fresh plan of edits on this file. */
  edit(): EditPlan {
    return new EditPlan(this);
  }
}

/** Edits gathered for one file, then committed at once and verified. */
export class EditPlan {
  private readonly tokenEdits = new Map<CST.Token, { start: number; end: number; value: string }>();
  private readonly inserts: Splice[] = [];
  private readonly removals: Splice[] = [];
  private readonly expectations: Expectation[] = [];

  constructor(private readonly yaml: YamlFile) {}

  /** Sets a scalar to `value`; nothing happens when it already is that string. */
  set(found: Found, value: string, quote: QuoteRule = 'keep'): void {
    const yaml: YamlFile = this.yaml;
    const node = found.node;
    this.refuseShared(found);
    if (!isScalar(node)) yaml.fail(node, `expected a plain or quoted value at ${showPath(found.path)}`);
    const token = node.srcToken;
    if (!token || !('source' in token) || typeof token.source !== 'string') {
      yaml.fail(node, `cannot edit the value at ${showPath(found.path)} in place`);
    }
    if (token.type === 'block-scalar') {
      yaml.fail(node, `${showPath(found.path)} is a block scalar (| or >); write the image as a plain or quoted value`);
    }
    if (node.value === value && (quote === 'keep' || token.type !== 'scalar')) return;
    const previous = this.tokenEdits.get(token);
    if (previous && previous.value !== value) {
      yaml.fail(node, `${showPath(found.path)} would be set to two different values`);
    }
    const start = token.offset;
    const end = start + token.source.length;
    CST.setScalarValue(token, value, { inFlow: found.inFlow, type: styleFor(token.type, value, quote) });
    this.tokenEdits.set(token, { start, end, value });
    this.expectations.push({ doc: found.doc, path: found.path, value });
  }

  /** Adds `key: value` as the last entry of a block map. */
  insertPair(map: Found, key: string, value: string, quote: QuoteRule = 'keep'): void {
    this.insertLines(map, 'map', [`${key}: ${renderScalar(value, quote)}`], [...map.path, key], value);
  }

  /**
   * Adds a whole entry to a block map or list: `lines` are its text without the collection's indentation (for a
   * list, the first starts with "- "), `value` what it parses to, for the check.
   */
  insertLines(collection: Found, shape: 'map' | 'seq', lines: string[], path: PathKey[], value: unknown): void {
    const yaml: YamlFile = this.yaml;
    const node = collection.node;
    this.refuseShared(collection);
    const collectionNode = shape === 'map' ? (isMap(node) ? node : undefined) : isSeq(node) ? node : undefined;
    const range = collectionNode?.range;
    const token = collectionNode?.srcToken;
    if (!collectionNode || !range || !token) {
      yaml.fail(node, `expected a ${shape === 'map' ? 'mapping' : 'list'} at ${showPath(collection.path)}`);
    }
    const items = collectionNode.items as unknown[];
    if (collectionNode.flow || items.length === 0 || token.type === 'flow-collection') {
      yaml.fail(
        node,
        `${showPath(collection.path)} is written in flow style or empty ({} or []); write it as a block ${shape === 'map' ? 'mapping' : 'list'} so an entry can be added`,
      );
    }
    const text = yaml.text;
    // Items line up with the collection's first token: a map's first key, a list's first "-".
    const indent = ' '.repeat(token.offset - lineStart(text, token.offset));
    const after = contentEnd(collectionNode);
    const newline = text.indexOf('\n', Math.max(after - 1, 0));
    const eol = lineEnding(text);
    const body = lines.map((line) => indent + line).join(eol);
    if (newline < 0) this.inserts.push({ start: text.length, end: text.length, text: eol + body });
    else this.inserts.push({ start: newline + 1, end: newline + 1, text: body + eol });
    this.expectations.push({ doc: collection.doc, path, value });
  }

  /** Adds `key:` with a block value at the end of a document's root map (for a missing `images:`). */
  insertRootKey(doc: number, key: string, lines: string[], value: unknown): void {
    const root = this.yaml.root(doc);
    this.insertLines(root, 'map', [`${key}:`, ...lines], [key], value);
  }

  /**
   * Removes `key` and its value from a map (nothing happens when the key is absent). In a block map that is the
   * key's whole line, end-of-line comment and line ending included; when the key is the first of a list item
   * (`- key: v`), the next line's content moves up behind the "- ". In a flow map it is the entry and one comma.
   * Only plain or quoted scalar values are removed: anything larger is not an edit this module guesses at.
   */
  removePair(map: Found, key: string): void {
    const yaml: YamlFile = this.yaml;
    this.refuseShared(map);
    const node = map.node;
    if (!isMap(node)) yaml.fail(node, `expected a mapping at ${showPath(map.path)}`);
    const index = node.items.findIndex((item) => isScalar(item.key) && String(item.key.value) === key);
    if (index < 0) return;
    const path = [...map.path, key];
    const pair = node.items[index]!;
    const keyNode = pair.key as Scalar;
    const value = pair.value as Node | null;
    // An alias (`*name`) only refers to an anchor: removing it leaves the anchor and its other uses as they are.
    if (value !== null && !isAlias(value) && (!isScalar(value) || value.srcToken?.type === 'block-scalar')) {
      yaml.fail(value, `${showPath(path)} is not a plain or quoted value; remove it by hand`);
    }
    const shared = yaml.sharedAnchors(map.doc);
    for (const part of [keyNode, value]) {
      if (part?.anchor && shared.has(part.anchor)) {
        yaml.fail(
          part,
          `${showPath(path)} defines anchor &${part.anchor}, which aliases elsewhere in the file reuse; removing it would break them`,
        );
      }
    }
    if (node.items.length === 1) {
      yaml.fail(keyNode, `${showPath(path)} is the only key of its mapping; removing it would leave it empty`);
    }
    const text = yaml.text;
    const keyStart = keyNode.range![0];
    const valueEnd = value?.range ? value.range[1] : keyNode.range![1];
    const splice = node.flow
      ? flowRemoval(yaml, node.items as Pair[], index, path)
      : blockRemoval(yaml, text, keyStart, valueEnd, path);
    this.removals.push(splice);
    this.expectations.push({ doc: map.doc, path, value: undefined, removed: true });
  }

  private refuseShared(found: Found): void {
    const yaml: YamlFile = this.yaml;
    if (found.viaAlias || isAlias(found.node)) {
      yaml.fail(
        found.node,
        `${showPath(found.path)} is reached through an alias (*name), so its value is shared with the anchor's other uses; write it out where it is used`,
      );
    }
    const shared = yaml.sharedAnchors(found.doc);
    for (const node of found.chain) {
      if (node.anchor && shared.has(node.anchor)) {
        yaml.fail(
          node,
          `${showPath(found.path)} lies under anchor &${node.anchor}, which aliases elsewhere in the file reuse; changing it would change them too`,
        );
      }
    }
  }

  /** Applies every edit, verifies it, and returns the new text (the original itself when nothing changed). */
  commit(): { text: string; changed: boolean } {
    const yaml: YamlFile = this.yaml;
    const original = yaml.text;
    if (this.tokenEdits.size === 0 && this.inserts.length === 0 && this.removals.length === 0) {
      return { text: original, changed: false };
    }

    const valueSplices = [...this.tokenEdits].map(([token, edit]) => ({
      start: edit.start,
      end: edit.end,
      text: (token as { source: string }).source,
    }));
    const stringified = yaml.tokens.map((token) => CST.stringify(token)).join('');
    if (stringified !== applySplices(original, valueSplices)) {
      throw new ManifestEditError(
        yaml.file,
        undefined,
        'refusing to write: the edit changed text outside the values it set',
      );
    }
    // A removed range must not swallow another edit; planners never ask for that, so it is a bug if it happens.
    for (const removal of this.removals) {
      const overlaps = [...valueSplices, ...this.removals.filter((other) => other !== removal), ...this.inserts].some(
        (other) =>
          other.start === other.end
            ? other.start > removal.start && other.start < removal.end
            : other.start < removal.end && other.end > removal.start,
      );
      if (overlaps) {
        throw new ManifestEditError(yaml.file, undefined, 'refusing to write: a removed key overlaps another edit');
      }
    }
    const text = applySplices(original, [...valueSplices, ...this.removals, ...this.inserts]);
    if (text === original) return { text, changed: false };
    this.verify(text);
    return { text, changed: true };
  }

  private verify(text: string): void {
    const yaml: YamlFile = this.yaml;
    const after = YamlFile.parse(yaml.file, text);
    const refuse = (detail: string): never => {
      throw new ManifestEditError(yaml.file, undefined, `refusing to write: re-reading the edited file ${detail}`);
    };
    if (after.documents.length !== yaml.documents.length) {
      refuse(`finds ${after.documents.length} documents instead of ${yaml.documents.length}`);
    }
    yaml.documents.forEach((document, doc) => {
      const expected = document.toJS({ maxAliasCount: -1 }) as unknown;
      let target = structuredClone(expected);
      for (const expectation of this.expectations.filter((e) => e.doc === doc)) {
        target = expectation.removed
          ? deletePath(target, expectation.path)
          : setPath(target, expectation.path, expectation.value);
      }
      const actual = after.documents[doc]!.toJS({ maxAliasCount: -1 }) as unknown;
      if (!isDeepStrictEqual(actual, target)) {
        refuse(`shows changes beyond the intended ones, at ${differences(target, actual).map(showPath).join(', ')}`);
      }
    });
  }
}

function applySplices(text: string, splices: Splice[]): string {
  // From the end, so earlier offsets stay valid. At one offset, a splice that replaces text goes first, so a line
  // inserted where a removed line began is not removed with it; insertions keep the order they were planned in.
  const width = (splice: Splice) => (splice.end > splice.start ? 1 : 0);
  const ordered = splices
    .map((splice, order) => ({ splice, order }))
    .sort((a, b) => b.splice.start - a.splice.start || width(b.splice) - width(a.splice) || b.order - a.order);
  let out = text;
  for (const { splice } of ordered) out = out.slice(0, splice.start) + splice.text + out.slice(splice.end);
  return out;
}

function setPath(root: unknown, path: PathKey[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [key, ...rest] = path as [PathKey, ...PathKey[]];
  const container = (root ?? (typeof key === 'number' ? [] : {})) as Record<PathKey, unknown>;
  container[key] = setPath(container[key], rest, value);
  return container;
}

function deletePath(root: unknown, path: PathKey[]): unknown {
  const parent = path.slice(0, -1).reduce<unknown>((node, key) => (node as Record<PathKey, unknown>)?.[key], root);
  if (parent !== null && typeof parent === 'object')
    delete (parent as Record<PathKey, unknown>)[path[path.length - 1]!];
  return root;
}

/**
 * The bytes a block-map key occupies: its line, from the line's start to its line ending included. A key that
 * follows "- " on its list item's line keeps the "- ": the removal runs from the key to the next line's content,
 * which so moves up behind the dash at the key's own column. On a last line without a final newline, the line
 * ending before it goes instead, so the file still ends without one.
 */
function blockRemoval(yaml: YamlFile, text: string, keyStart: number, valueEnd: number, path: PathKey[]): Splice {
  // A byte-order mark belongs to the file, not to the first line.
  const start = lineStart(text, keyStart) + (lineStart(text, keyStart) === 0 && text.startsWith('\uFEFF') ? 1 : 0);
  const newline = text.indexOf('\n', valueEnd);
  const rest = text.slice(valueEnd, newline < 0 ? text.length : newline);
  const before = text.slice(start, keyStart);
  const sharesLine = (): never => {
    throw new ManifestEditError(
      yaml.file,
      yaml.lineOf(keyStart),
      `${showPath(path)} shares its line with other content; remove it by hand`,
    );
  };
  if (!/^[ \t]*(#.*)?\r?$/.test(rest)) {
    sharesLine();
  }
  if (/^[ \t]*$/.test(before)) {
    if (newline >= 0) return { start, end: newline + 1, text: '' };
    const previous = start >= 2 && text[start - 2] === '\r' ? start - 2 : start - 1;
    return { start: Math.max(previous, 0), end: text.length, text: '' };
  }
  if (/^[ \t]*(-[ \t]+)+$/.test(before) && newline >= 0) {
    let next = newline + 1;
    while (next < text.length && /[ \t\r\n]/.test(text[next]!)) next++;
    return { start: keyStart, end: next, text: '' };
  }
  return sharesLine();
}

/**
 * The bytes a flow-map entry occupies: up to the next entry's key, or for the last entry from the end of the one
 * before. Only separators may be dropped with it: a comment between them is refused rather than lost.
 */
function flowRemoval(yaml: YamlFile, items: Pair[], index: number, path: PathKey[]): Splice {
  const text = yaml.text;
  const ends = (pair: Pair) => ((pair.value as Node | null)?.range ?? (pair.key as Node).range!)[1];
  const key = items[index]!.key as Node;
  const next = items[index + 1];
  const start = next ? key.range![0] : ends(items[index - 1]!);
  const end = next ? (next.key as Node).range![0] : ends(items[index]!);
  const own = [
    key.range!,
    ...((items[index]!.value as Node | null)?.range ? [(items[index]!.value as Node).range!] : []),
  ];
  let separators = text.slice(start, end);
  for (const [from, to] of own.sort((a, b) => b[0] - a[0])) {
    separators = separators.slice(0, from - start) + separators.slice(to - start);
  }
  if (!/^[\s,:]*$/.test(separators)) {
    throw new ManifestEditError(
      yaml.file,
      yaml.lineOf(start),
      `${showPath(path)} has a comment beside it in a flow mapping; remove it by hand`,
    );
  }
  return { start, end, text: '' };
}

function differences(expected: unknown, actual: unknown, path: PathKey[] = []): PathKey[][] {
  if (isDeepStrictEqual(expected, actual)) return [];
  const bothObjects =
    typeof expected === 'object' &&
    expected !== null &&
    typeof actual === 'object' &&
    actual !== null &&
    Array.isArray(expected) === Array.isArray(actual);
  if (!bothObjects) return [path];
  const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
  return [...keys].flatMap((key) =>
    differences((expected as Record<string, unknown>)[key], (actual as Record<string, unknown>)[key], [
      ...path,
      Array.isArray(expected) ? Number(key) : key,
    ]),
  );
}

/** Keeps the original quote style; a plain value that YAML would read as something else than this string is double-quoted. */
function styleFor(tokenType: string, value: string, quote: QuoteRule): Scalar.Type {
  if (tokenType === 'single-quoted-scalar') return 'QUOTE_SINGLE';
  if (tokenType === 'double-quoted-scalar') return 'QUOTE_DOUBLE';
  return quote === 'string' || retypes(value) ? 'QUOTE_DOUBLE' : 'PLAIN';
}

/**
 * Whether `value` written plain would be read back as something other than that string. Both YAML 1.2 and 1.1 are
 * asked: kubectl, kustomize and Helm read YAML with Go parsers that still treat `yes`, `0777` and `1:20` the 1.1 way.
 */
export function retypes(value: string): boolean {
  for (const version of ['1.2', '1.1'] as const) {
    try {
      if (parse(value, { version }) !== value) return true;
    } catch {
      return true;
    }
  }
  return false;
}

/** A value as new text: plain where that reads back as the same string, double-quoted otherwise (or always, for tags). */
export function renderScalar(value: string, quote: QuoteRule = 'keep'): string {
  const type: Scalar.Type = quote === 'string' || retypes(value) ? 'QUOTE_DOUBLE' : 'PLAIN';
  const token = CST.createScalarToken(value, { indent: 0, type, end: [] });
  return (token as { source: string }).source;
}

/**
 * Where the last value inside a node ends, before any comment lines that trail it: a line added after a collection
 * goes right under its last entry, leaving a closing comment (often about what follows) where it was.
 */
function contentEnd(node: Node): number {
  if (isCollection(node) && !node.flow && node.items.length > 0) {
    const last = node.items[node.items.length - 1];
    const inner = (isPair(last) ? (last.value ?? last.key) : last) as Node | null | undefined;
    if (inner?.range) return contentEnd(inner);
  }
  return node.range![1];
}

function isFlow(node: Node | null | undefined): boolean {
  return isCollection(node) && node.flow === true;
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** The file's own line ending, so a line added to a CRLF file ends in CRLF too. */
function lineEnding(text: string): string {
  const newline = text.indexOf('\n');
  return newline > 0 && text[newline - 1] === '\r' ? '\r\n' : '\n';
}

function firstLine(message: string): string {
  return message.split('\n')[0]!;
}

export function showPath(path: readonly PathKey[]): string {
  if (path.length === 0) return 'the document root';
  return path.map((key, index) => (typeof key === 'number' ? `[${key}]` : index === 0 ? key : `.${key}`)).join('');
}
