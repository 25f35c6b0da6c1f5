import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SEMVER_SCOPE } from '../../../shared/build/tags/rules.js';
import { isRawStatement, parseTemplate } from '../../../shared/build/tags/template.js';
import {
  computeTags,
  gitContextFromEnv,
  parseFlavor,
  parseTagRule,
  parseTagRules,
} from '../../../shared/build/tags.js';
import { SlipwayError } from '../../../shared/core/errors.js';
import { repositoryRoot } from '../../support/runner-harness.js';

// docker/metadata-action's own test tables (test/fixtures/metadata-action/, see its README), run through
// Slipway's tag computation. Every case gives metadata-action's tags in metadata-action's order, except the
// ones listed in differences.json, each with its reason (the README's "Differences from
// docker/metadata-action") and Slipway's result, which is asserted too.

const DIR = join(repositoryRoot, 'test/fixtures/metadata-action');
const read = <T>(name: string): T => JSON.parse(readFileSync(join(DIR, name), 'utf8')) as T;

interface MetaCase {
  suite: string;
  name: string;
  event: string;
  env?: Record<string, string>;
  inputs: { images: string[]; tags: string[]; flavor: string[] };
  expected: { tags: string[] };
}
/** Slipway's result where it differs on purpose: its tags, or the start of the error it gives. */
type Outcome = { tags: string[] } | { error: string };
interface Difference {
  reason: string;
  slipway: Outcome;
}

const cases = read<MetaCase[]>('meta.json');
const differences = read<Record<string, Difference>>('differences.json');
const REASONS = read<Record<string, string>>('difference-reasons.json');

// metadata-action's tests fix every clock reading (moment()) at this instant: the run's date and, through
// the same mock, the commit date.
const NOW = new Date('2020-01-10T00:30:00.000Z');

/** An event fixture as metadata-action keeps it: a dotenv file and, when it names one, the payload. */
function event(name: string): { env: Record<string, string>; payload: unknown } {
  const env: Record<string, string> = {};
  for (const line of readFileSync(join(DIR, 'events', `${name}.env`), 'utf8').split('\n')) {
    if (line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1).trim();
  }
  const path = env.GITHUB_EVENT_PATH ? join(DIR, 'events', basename(env.GITHUB_EVENT_PATH)) : undefined;
  const payload = path && existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as unknown) : {};
  return { env, payload };
}

function slipway(c: MetaCase): Outcome {
  try {
    const { env, payload } = event(c.event);
    const ctx = { ...gitContextFromEnv(env, payload), commitTime: NOW.toISOString() };
    const flavor = parseFlavor(c.inputs.flavor);
    return { tags: computeTags(parseTagRules(c.inputs.tags), ctx, { latest: 'auto', now: NOW, flavor }) };
  } catch (error) {
    if (!(error instanceof SlipwayError)) throw error;
    return { error: error.message };
  }
}

/** The image names metadata-action prefixes tags with: enabled ones, lowercased. */
function images(c: MetaCase): string[] {
  return c.inputs.images.filter((image) => !/,\s*enable=false/.test(image)).map((image) => image.toLowerCase());
}

/** metadata-action's tags without the image names: what Slipway's tags are compared with. */
function tagNames(c: MetaCase): string[] {
  const [first] = images(c);
  if (first === undefined) return c.expected.tags;
  const names = c.expected.tags.filter((ref) => ref.startsWith(`${first}:`)).map((ref) => ref.slice(first.length + 1));
  // The table repeats the same tags for each image; reading them from the first must explain them all.
  expect(c.expected.tags).toEqual(images(c).flatMap((image) => names.map((tag) => `${image}:${tag}`)));
  return names;
}

describe('docker/metadata-action tag tables', () => {
  it('has the tables and every listed difference names a ported case and a known reason', () => {
    expect(cases.length).toBeGreaterThan(100);
    const names = new Set(cases.map((c) => `${c.suite}/${c.name}`));
    for (const [key, difference] of Object.entries(differences)) {
      expect(names.has(key), key).toBe(true);
      expect(REASONS[difference.reason], `${key}: reason ${difference.reason}`).toBeDefined();
    }
  });

  it.each(cases.map((c) => [`${c.suite}/${c.name} (${c.event})`, c] as const))('%s', (_, c) => {
    const key = `${c.suite}/${c.name}`;
    const expected = tagNames(c);
    const result = slipway(c);
    const difference = differences[key];
    if (difference === undefined) {
      expect(result).toEqual({ tags: expected });
      return;
    }
    // A deliberate difference: Slipway's own result is pinned, and it must still differ (or the entry is stale).
    if ('error' in difference.slipway) {
      expect(result).toHaveProperty('error');
      expect((result as { error: string }).error.startsWith(difference.slipway.error)).toBe(true);
    } else {
      expect(result).toEqual(difference.slipway);
      expect(result).not.toEqual({ tags: expected });
    }
  });
});

interface TagCase {
  suite: string;
  input: string | string[];
  expected: unknown;
  invalid: boolean;
}

describe('docker/metadata-action tag rule parsing', () => {
  const tagCases = read<TagCase[]>('tag.json');
  it.each(tagCases.map((c) => [JSON.stringify(c.input), c] as const))('%s', (_, c) => {
    const lines = Array.isArray(c.input) ? c.input : [c.input];
    const parse = () => lines.map((line) => parseTagRule(line));
    if (c.invalid) {
      expect(parse).toThrow(SlipwayError);
      return;
    }
    // Every rule metadata-action accepts here is accepted, with its type and priority.
    const rules = parse();
    const expected = (Array.isArray(c.expected) ? c.expected : [c.expected]) as {
      type: string;
      attrs: Record<string, string>;
    }[];
    // metadata-action sorts a list by priority when it parses it; Slipway sorts when it computes, stably too.
    const sorted = [...rules].sort((a, b) => b.priority - a.priority);
    expect(sorted.map((r) => r.type)).toEqual(expected.map((e) => e.type));
    expect(sorted.map((r) => r.priority)).toEqual(expected.map((e) => Number(e.attrs.priority)));
  });
});

describe('docker/metadata-action flavor parsing', () => {
  const flavorCases = read<{ input: string[]; expected: Record<string, unknown>; invalid: boolean }[]>('flavor.json');
  it.each(flavorCases.map((c) => [JSON.stringify(c.input), c] as const))('%s', (_, c) => {
    if (c.invalid) {
      expect(() => parseFlavor(c.input)).toThrow(SlipwayError);
      return;
    }
    const flavor = parseFlavor(c.input);
    expect(flavor.latest ?? 'auto').toBe(c.expected.latest);
    const text = (template: readonly unknown[]) => template.map((node) => (node as { text: string }).text).join('');
    expect(text(flavor.prefix)).toBe(c.expected.prefix);
    expect(text(flavor.suffix)).toBe(c.expected.suffix);
    expect(flavor.prefixLatest).toBe(c.expected.prefixLatest);
    expect(flavor.suffixLatest).toBe(c.expected.suffixLatest);
  });
});

describe('docker/metadata-action isRawStatement', () => {
  const rawCases = read<{ pattern: string; raw: boolean }[]>('raw-statement.json');
  it.each(rawCases.map((c) => [c.pattern, c] as const))('%s', (_, c) => {
    let raw: boolean;
    try {
      raw = isRawStatement(parseTemplate(c.pattern, SEMVER_SCOPE));
    } catch {
      // A malformed pattern is an error in Slipway; metadata-action calls it not raw.
      raw = false;
    }
    expect(raw).toBe(c.raw);
  });
});
