import { isDeepStrictEqual } from 'node:util';
import { isAlias, isScalar } from 'yaml';
import { InvalidValueError } from '../../core/errors.js';
import { ManifestEditError } from '../../gitops/editors/edit-error.js';
import { type Found, type PathKey, showPath, YamlFile } from '../../gitops/editors/yaml-file.js';

// What the exposure editors share: text splices on the original bytes (so comments, quotes, key order and line
// endings elsewhere stay the original's), and one check before anything is returned: re-reading the edited text
// must give exactly the original documents with the intended change. yaml-file.ts (promote's editors) does the
// same for strings; a weight is a number and a flag's targeting a whole JSON Logic tree, which its EditPlan does
// not write, so these editors splice themselves and reuse its parser, paths and messages.

export interface Splice {
  start: number;
  end: number;
  text: string;
}

/** A percent from 0 to 100, or an error naming the value. */
export function checkWeight(weight: number): void {
  if (!Number.isFinite(weight) || weight < 0 || weight > 100) {
    throw new InvalidValueError('canary weight', String(weight), 'a percent from 0 to 100');
  }
}

/** A weight as a file holds it: 5, 0.5 (never 5.000000001 from float arithmetic). */
export function formatWeight(weight: number): string {
  return String(Number(weight.toFixed(6)));
}

export function applySplices(text: string, splices: Splice[]): string {
  const ordered = [...splices].sort((a, b) => b.start - a.start);
  for (let i = 1; i < ordered.length; i++) {
    if (ordered[i]!.end > ordered[i - 1]!.start) throw new Error('exposure edit: overlapping splices');
  }
  let out = text;
  for (const splice of ordered) out = out.slice(0, splice.start) + splice.text + out.slice(splice.end);
  return out;
}

/**
 * Applies `splices` and returns the new text, after checking that it reads back as `expected` (one value per YAML
 * document) and, for a JSON file, that it is still JSON.
 */
export function commitSplices(yaml: YamlFile, splices: Splice[], expected: unknown[]): string {
  if (splices.length === 0) return yaml.text;
  const text = applySplices(yaml.text, splices);
  const refuse = (detail: string): never => {
    throw new ManifestEditError(yaml.file, undefined, `refusing to write: re-reading the edited file ${detail}`);
  };
  let after: YamlFile;
  try {
    after = YamlFile.parse(yaml.file, text);
  } catch (error) {
    return refuse(`fails (${error instanceof Error ? error.message : String(error)})`);
  }
  const actual = after.documents.map((document) => document.toJS({ maxAliasCount: -1 }) as unknown);
  if (!isDeepStrictEqual(actual, expected)) refuse('shows changes beyond the intended ones');
  if (isJson(yaml.text)) {
    try {
      if (!isDeepStrictEqual([JSON.parse(text)], expected)) refuse('as JSON gives another value');
    } catch (error) {
      if (error instanceof ManifestEditError) throw error;
      refuse('is no longer JSON');
    }
  }
  return text;
}

/** Whether the text is a JSON document (flags.json), whose edits must stay JSON. */
export function isJson(text: string): boolean {
  if (!/^\uFEFF?\s*[{[]/.test(text)) return false;
  try {
    JSON.parse(text.replace(/^\uFEFF/, ''));
    return true;
  } catch {
    return false;
  }
}

/** Every document's value, for building what an edit must read back as. */
export function documentValues(yaml: YamlFile): unknown[] {
  return yaml.documents.map((document) => document.toJS({ maxAliasCount: -1 }) as unknown);
}

/** A copy of `root` with `value` at `path` (or the key deleted, for `undefined`). */
export function withValue(root: unknown, path: readonly PathKey[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(root) as Record<PathKey, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<PathKey, unknown>;
  const last = path[path.length - 1]!;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

/** Refuses a value shared through an anchor or alias: changing it would change its other uses too. */
export function refuseShared(yaml: YamlFile, found: Found): void {
  if (found.viaAlias || isAlias(found.node)) {
    yaml.fail(
      found.node,
      `${showPath(found.path)} is reached through an alias (*name), so its value is shared; write it out where it is used`,
    );
  }
  const shared = yaml.sharedAnchors(found.doc);
  for (const node of found.chain) {
    if (node.anchor && shared.has(node.anchor)) {
      yaml.fail(node, `${showPath(found.path)} lies under anchor &${node.anchor}, which aliases elsewhere reuse`);
    }
  }
}

/** The splice that writes `weight` over the number at `found`. */
export function numberSplice(yaml: YamlFile, found: Found, weight: number): Splice {
  refuseShared(yaml, found);
  const node = found.node;
  if (!isScalar(node) || typeof node.value !== 'number') {
    const holds = isScalar(node) ? `the ${typeof node.value} ${JSON.stringify(node.value)}` : 'a mapping or list';
    return yaml.fail(node, `${showPath(found.path)} holds ${holds}, not a number (the canary weight in percent)`);
  }
  const token = node.srcToken;
  if (token?.type !== 'scalar' || !('source' in token) || typeof token.source !== 'string') {
    return yaml.fail(node, `${showPath(found.path)} is not a plain number that can be edited in place`);
  }
  return { start: token.offset, end: token.offset + token.source.length, text: formatWeight(weight) };
}

/** The number at `found` as a weight, or an error naming the file, the line and the path. */
export function readNumber(yaml: YamlFile, found: Found): number {
  const node = found.node;
  if (!isScalar(node) || typeof node.value !== 'number' || !Number.isFinite(node.value)) {
    const holds = isScalar(node) ? `${JSON.stringify(node.value)}` : 'a mapping or list';
    return yaml.fail(node, `${showPath(found.path)} holds ${holds}, not a number (the canary weight in percent)`);
  }
  if (node.value < 0 || node.value > 100) {
    return yaml.fail(node, `${showPath(found.path)} is ${node.value}, not a percent from 0 to 100`);
  }
  return node.value;
}
