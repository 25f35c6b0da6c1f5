import { isDeepStrictEqual } from 'node:util';
import { isCollection, isMap, isScalar, isSeq, type Node, type Pair, type YAMLMap } from 'yaml';
import { InvalidValueError } from '../../core/errors.js';
import { ManifestEditError } from '../../gitops/editors/edit-error.js';
import { type Found, renderScalar, showPath, YamlFile } from '../../gitops/editors/yaml-file.js';
import type { ExposureEditor } from './index.js';
import { checkWeight, commitSplices, documentValues, isJson, refuseShared, type Splice, withValue } from './splice.js';

// The canary weight as an OpenFeature flagd flag (exposure-inventory A): flags.json, a flagd YAML file, or an
// OpenFeature Operator FeatureFlag CR (spec.flagSpec.flags). The flag is a boolean-like flag with an "on" and an
// "off" variant (by value true/false, else by those names). What each weight writes:
//
//   0         state ENABLED, defaultVariant off, no targeting: off for everyone, internal users included.
//             Not `state: DISABLED`: flagd then answers with no value and every SDK falls back to the default
//             written in the caller's code, which may well be `true`; defaultVariant off is off whatever the code
//             says, and it is the kill switch a reader of the file recognises.
//   (0, 100)  state ENABLED, defaultVariant off, targeting
//               {"if": [<internal rule>, "on", {"fractional": [["on", w], ["off", 100 - w]]}]}
//             internal users always get on FIRST; everyone else is bucketed. The total stays 100 at every step, so
//             raising w only moves users from off to on: nobody who had the new version loses it (fractional.go
//             walks the variants in order against hash * total >> 32). A bucketing expression the file's
//             fractional already had (its first, non-array element) is kept. Weights are whole percents:
//             flagd refuses non-integer fractional weights.
//   100       state ENABLED, defaultVariant on, no targeting.
//
// The internal rule is the one the file has: the condition of its targeting's `if` whose branch is "on", else a
// shared evaluator named `internal`/`internalUsers`/`internal-users` in $evaluators (used as {"$ref": name}), else
// the default {"==": [{"var": "internal"}, true]}: an `internal` attribute in the evaluation context, which the
// application sets for staff (or replace it in the file by an email-domain rule such as
// {"ends_with": [{"var": "email"}, "@acme.com"]}, which Slipway then keeps).
//
// Other targeting (a rule that is neither that shape nor a bare fractional) is refused for weights in (0, 100)
// rather than overwritten; 0 and 100 always apply, so a rollback is never blocked by the file's shape.

const DEFAULT_INTERNAL_RULE = { '==': [{ var: 'internal' }, true] };
const INTERNAL_EVALUATORS = ['internal', 'internalUsers', 'internal-users'];

interface Flag {
  state?: unknown;
  variants?: unknown;
  defaultVariant?: unknown;
  targeting?: unknown;
  [key: string]: unknown;
}

interface Located {
  yaml: YamlFile;
  found: Found;
  map: YAMLMap;
  flag: Flag;
  evaluators: Record<string, unknown>;
  on: string;
  off: string;
}

export function flagdEditor(options: { flag: string }): ExposureEditor {
  const key = options.flag;
  return {
    kind: 'flagd',
    read(text, file) {
      return weightOf(locate(YamlFile.parse(file, text), key));
    },
    apply(text, file, weight) {
      checkWeight(weight);
      if (!Number.isInteger(weight)) {
        throw new InvalidValueError(
          'canary weight',
          String(weight),
          'a whole percent for a flagd flag',
          "flagd's fractional weights are integers",
        );
      }
      const located = locate(YamlFile.parse(file, text), key);
      const next = nextFlag(located, key, weight);
      if (isDeepStrictEqual(next, located.flag)) return text;
      const { yaml, found } = located;
      refuseShared(yaml, found);
      const splices = memberSplices(located, next);
      const expected = documentValues(yaml);
      expected[found.doc] = withValue(expected[found.doc], found.path, next);
      return commitSplices(yaml, splices, expected);
    },
  };
}

// --- finding the flag -------------------------------------------------------------------------------------------

function locate(yaml: YamlFile, key: string): Located {
  const hits: { found: Found; flags: Found }[] = [];
  const seen: string[] = [];
  yaml.documents.forEach((_, doc) => {
    const root = yaml.root(doc);
    for (const path of [['flags'], ['spec', 'flagSpec', 'flags']]) {
      const flags = yaml.at(root, path);
      if (!flags?.node) continue;
      if (isMap(flags.node)) {
        seen.push(...yaml.keys(flags));
        const found = yaml.child(flags, key);
        if (found?.node) hits.push({ found, flags });
      } else if (isSeq(flags.node)) {
        // The daemon's array form: [{key: "new-checkout", state: ...}, ...].
        yaml.items(flags).forEach((item) => {
          const name = yaml.value(yaml.child(item, 'key'));
          if (name !== undefined) seen.push(name);
          if (name === key) hits.push({ found: item, flags });
        });
      }
    }
  });
  if (hits.length === 0) {
    throw new ManifestEditError(
      yaml.file,
      undefined,
      `no flagd flag "${key}" (looked under flags and spec.flagSpec.flags${
        seen.length > 0 ? `; the file has ${[...new Set(seen)].map((s) => `"${s}"`).join(', ')}` : ''
      }); set the input flag to the flag's key`,
    );
  }
  if (hits.length > 1) {
    throw new ManifestEditError(yaml.file, yaml.lineAt(hits[1]!.found.node), `flag "${key}" is defined twice`);
  }
  const { found, flags } = hits[0]!;
  if (!isMap(found.node)) yaml.fail(found.node, `flag "${key}" at ${showPath(found.path)} is not a mapping`);
  const document = yaml.documents[found.doc]!;
  const flag = found.node.toJS(document) as Flag;
  const parent = flags.path.slice(0, -1);
  const evaluatorsNode = yaml.at(yaml.root(found.doc), [...parent, '$evaluators']);
  const evaluators = (evaluatorsNode?.node?.toJS(document) ?? {}) as Record<string, unknown>;
  const variants = flag.variants;
  if (!variants || typeof variants !== 'object' || Array.isArray(variants)) {
    return yaml.fail(found.node, `flag "${key}" has no variants mapping`);
  }
  const variant = (value: boolean, name: string): string => {
    const byValue = Object.keys(variants).filter((v) => (variants as Record<string, unknown>)[v] === value);
    if (byValue.length === 1) return byValue[0]!;
    if (Object.hasOwn(variants, name)) return name;
    return yaml.fail(
      found.node,
      `flag "${key}" needs an "${name}" variant (a variant whose value is ${value}, or one named "${name}"); it has ${Object.keys(
        variants,
      )
        .map((v) => `"${v}"`)
        .join(', ')}`,
    );
  };
  return {
    yaml,
    found,
    map: found.node,
    flag,
    evaluators: evaluators && typeof evaluators === 'object' ? evaluators : {},
    on: variant(true, 'on'),
    off: variant(false, 'off'),
  };
}

// --- reading and planning -----------------------------------------------------------------------------------------

function weightOf(located: Located): number {
  const { flag, on } = located;
  if (flag.state === 'DISABLED') return 0;
  const fractional = findFractional(flag.targeting);
  if (fractional) {
    let total = 0;
    let share = 0;
    for (const entry of fractional) {
      if (!Array.isArray(entry)) continue;
      const weight = entry.length > 1 ? Number(entry[1]) : 1;
      if (!Number.isFinite(weight) || weight < 0) continue;
      total += weight;
      if (entry[0] === on) share += weight;
    }
    return total > 0 ? Number(((share / total) * 100).toFixed(4)) : 0;
  }
  return flag.defaultVariant === on ? 100 : 0;
}

/** The entries of the first `fractional` operation in a JSON Logic tree. */
function findFractional(node: unknown): unknown[] | undefined {
  if (Array.isArray(node)) {
    for (const item of node) {
      const found = findFractional(item);
      if (found) return found;
    }
    return undefined;
  }
  if (!node || typeof node !== 'object') return undefined;
  const operation = (node as Record<string, unknown>).fractional;
  if (Array.isArray(operation)) return operation;
  for (const value of Object.values(node)) {
    const found = findFractional(value);
    if (found) return found;
  }
  return undefined;
}

function nextFlag(located: Located, key: string, weight: number): Flag {
  const { flag, on, off, yaml, found } = located;
  const next: Flag = { ...flag, state: 'ENABLED', defaultVariant: weight === 100 ? on : off };
  delete next.targeting;
  if (weight === 0 || weight === 100) return next;
  const targeting = flag.targeting;
  const shaped = ifOn(targeting, on);
  const fractional = findFractional(targeting);
  if (targeting !== undefined && targeting !== null && !shaped && !isBareFractional(targeting)) {
    yaml.fail(
      found.node,
      `flag "${key}" has targeting Slipway does not manage and would overwrite; write it as {"if": [<internal rule>, "${on}", {"fractional": [...]}]} or remove it`,
    );
  }
  const bucketBy = fractional && fractional.length > 0 && !Array.isArray(fractional[0]) ? [fractional[0]] : [];
  next.targeting = {
    if: [
      shaped?.condition ?? internalRule(located.evaluators),
      on,
      {
        fractional: [...bucketBy, [on, weight], [off, 100 - weight]],
      },
    ],
  };
  return next;
}

/** `{"if": [condition, "on", ...]}`: the shape Slipway writes, whose condition is the internal rule. */
function ifOn(targeting: unknown, on: string): { condition: unknown } | undefined {
  if (!targeting || typeof targeting !== 'object' || Array.isArray(targeting)) return undefined;
  const rule = (targeting as Record<string, unknown>).if;
  if (Object.keys(targeting).length !== 1 || !Array.isArray(rule) || rule.length < 2 || rule[1] !== on)
    return undefined;
  return { condition: rule[0] };
}

function isBareFractional(targeting: unknown): boolean {
  return (
    !!targeting &&
    typeof targeting === 'object' &&
    !Array.isArray(targeting) &&
    Object.keys(targeting).length === 1 &&
    Array.isArray((targeting as Record<string, unknown>).fractional)
  );
}

function internalRule(evaluators: Record<string, unknown>): unknown {
  const name = INTERNAL_EVALUATORS.find((candidate) => Object.hasOwn(evaluators, candidate));
  return name ? { $ref: name } : DEFAULT_INTERNAL_RULE;
}

// --- writing ------------------------------------------------------------------------------------------------------

/** Splices turning the flag's mapping into `next`: changed members set, new ones added, a dropped targeting removed. */
function memberSplices(located: Located, next: Flag): Splice[] {
  const { yaml, map, flag } = located;
  const json = isJson(yaml.text);
  const splices: Splice[] = [];
  const added: [string, unknown][] = [];
  for (const name of ['state', 'defaultVariant', 'targeting']) {
    const pair = map.items.find((item) => isScalar(item.key) && item.key.value === name) as Pair | undefined;
    const value = next[name];
    if (value === undefined) {
      if (pair) splices.push(removal(yaml, map, pair));
    } else if (!pair) {
      added.push([name, value]);
    } else if (!isDeepStrictEqual(flag[name], value)) {
      splices.push(replacement(yaml, map, pair, value, json));
    }
  }
  if (added.length > 0) splices.push(addition(yaml, map, added, json));
  return splices;
}

type Ranged = { range: [number, number, number] };

function replacement(yaml: YamlFile, map: YAMLMap, pair: Pair, value: unknown, json: boolean): Splice {
  const text = yaml.text;
  const keyEnd = (pair.key as Ranged).range[1];
  const node = pair.value as Node | null;
  if (node && isCollection(node) && !node.flow) {
    // A block value (targeting:\n  if: ...) becomes one line of JSON Logic after the key.
    const colon = text.indexOf(':', keyEnd) + 1;
    return {
      start: colon,
      end: contentEnd(text, node.range![1], colon),
      text: ` ${render(value, json || map.flow === true)}`,
    };
  }
  if (!node?.range) {
    const colon = text.indexOf(':', keyEnd) + 1;
    return { start: colon, end: colon, text: ` ${render(value, json || map.flow === true)}` };
  }
  return { start: node.range[0], end: node.range[1], text: render(value, json || map.flow === true) };
}

function removal(yaml: YamlFile, map: YAMLMap, pair: Pair): Splice {
  const text = yaml.text;
  const index = map.items.indexOf(pair);
  const keyStart = (pair.key as Ranged).range[0];
  const end = ((pair.value ?? pair.key) as Ranged).range[1];
  if (map.flow) {
    // From this key to the next one's, or from the previous value's end when it is the last: one comma goes with it.
    const following = map.items[index + 1];
    if (following) return { start: keyStart, end: (following.key as Ranged).range[0], text: '' };
    const previous = map.items[index - 1]!;
    return { start: ((previous.value ?? previous.key) as Ranged).range[1], end, text: '' };
  }
  const lineStart = text.lastIndexOf('\n', keyStart - 1) + 1;
  if (text.slice(lineStart, keyStart).trim() !== '') {
    yaml.fail(pair.key as Node, `${String((pair.key as { value: unknown }).value)} shares its line; remove it by hand`);
  }
  const valueEnd = contentEnd(text, end, keyStart);
  const newline = text.indexOf('\n', valueEnd);
  if (newline >= 0) return { start: lineStart, end: newline + 1, text: '' };
  // The last line of a file without a final newline: the line ending before it goes, so the file still has none.
  const previous = lineStart >= 2 && text[lineStart - 2] === '\r' ? lineStart - 2 : lineStart - 1;
  return { start: Math.max(previous, 0), end: text.length, text: '' };
}

function addition(yaml: YamlFile, map: YAMLMap, members: [string, unknown][], json: boolean): Splice {
  const text = yaml.text;
  const last = map.items[map.items.length - 1]!;
  const lastEnd = contentEnd(text, ((last.value ?? last.key) as Ranged).range[1], 0);
  if (map.flow) {
    // After the last member, separated the way the last member is from the one before it.
    const lastKey = (last.key as Ranged).range[0];
    const before = map.items[map.items.length - 2];
    const from = before ? ((before.value ?? before.key) as Ranged).range[1] : map.range![0] + 1;
    const separator = text.slice(from, lastKey).replace(/^\s*,/, '') || ' ';
    const entries = members.map(([name, value]) => `,${separator}${JSON.stringify(name)}: ${render(value, true)}`);
    return { start: lastEnd, end: lastEnd, text: entries.join('') };
  }
  const firstKey = (map.items[0]!.key as Ranged).range[0];
  const indent = ' '.repeat(firstKey - (text.lastIndexOf('\n', firstKey - 1) + 1));
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = members.map(([name, value]) => `${indent}${name}: ${render(value, json)}`);
  const newline = text.indexOf('\n', lastEnd);
  if (newline < 0) return { start: text.length, end: text.length, text: eol + lines.join(eol) };
  return { start: newline + 1, end: newline + 1, text: lines.join(eol) + eol };
}

/** Where a node's content ends: block collections' ranges take in their last line break. */
function contentEnd(text: string, end: number, floor: number): number {
  let at = end;
  while (at > floor && /\s/.test(text[at - 1]!)) at--;
  return at;
}

/** A new value: compact JSON in JSON and flow maps (JSON Logic reads best so), a YAML scalar or JSON in block YAML. */
function render(value: unknown, json: boolean): string {
  if (typeof value === 'string' && !json) return renderScalar(value);
  return compactJson(value);
}

/** JSON on one line with a space after `:` and `,`: {"if": [{"var": "internal"}, "on", ...]}. */
export function compactJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(compactJson).join(', ')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([key, item]) => `${JSON.stringify(key)}: ${compactJson(item)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(value);
}
