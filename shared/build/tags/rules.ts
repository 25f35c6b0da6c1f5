import { InvalidValueError, showValue } from '../../core/errors.js';
import { splitCsvLine } from './csv.js';
import { parseTemplate, type Template, type TemplateScope } from './template.js';

// The `tags` input: one rule per line in docker/metadata-action's syntax (`type=semver,pattern={{version}}`),
// read into typed rules. Everything metadata-action accepts is accepted with its meaning; what it would
// silently ignore (an unknown key, a key given twice, a priority that is not a number, an unknown
// placeholder) is an error here, because it is almost always a typo that would change the tags.

interface RuleCommon {
  /** The line as written, for messages. */
  source: string;
  /** Higher first; metadata-action's defaults per type unless `priority=` is given. */
  priority: number;
  /** undefined when the rule sets none, so the flavor's prefix applies (as in metadata-action). */
  prefix?: Template;
  suffix?: Template;
  /** Renders to `true` or `false` for the run (`{{is_default_branch}}`, a workflow expression, …). */
  enable: Template;
}

export type TagRule = RuleCommon &
  (
    | { type: 'semver' | 'pep440'; pattern: Template; value?: Template; match?: RegExp }
    | { type: 'match'; pattern: RegExp; group: number; value?: Template }
    | { type: 'sha'; format: 'short' | 'long' }
    | { type: 'ref'; event: 'branch' | 'tag' | 'pr' }
    | { type: 'raw'; value: Template }
    | { type: 'edge'; branch?: string }
    | { type: 'schedule'; pattern: Template }
  );

export type RuleType = TagRule['type'];

export const DEFAULT_TAG_RULES: readonly string[] = [
  'type=semver,pattern={{version}}',
  'type=semver,pattern={{major}}.{{minor}}',
  'type=ref,event=branch',
  'type=ref,event=pr',
  'type=sha',
];

export const EXPECTED_RULE = 'type=semver|pep440|match|sha|ref|raw|edge|schedule with key=value options';

// metadata-action's default priorities: tags come out in this order (most specific first), and the
// first tag is the image's version, so the order is part of the contract. The sort is stable.
export const DEFAULT_PRIORITY: Record<RuleType, number> = {
  schedule: 1000,
  semver: 900,
  pep440: 900,
  match: 800,
  edge: 700,
  ref: 600,
  raw: 200,
  sha: 100,
};

const COMMON_KEYS = ['type', 'prefix', 'suffix', 'enable', 'priority'];
const TYPE_KEYS: Record<RuleType, readonly string[]> = {
  semver: ['pattern', 'value', 'match'],
  pep440: ['pattern', 'value', 'match'],
  match: ['pattern', 'group', 'value'],
  sha: ['format'],
  ref: ['event'],
  raw: ['value'],
  edge: ['branch'],
  schedule: ['pattern'],
};

/** Placeholders of prefix, suffix, value and enable: metadata-action's global expressions. */
export const GLOBAL_SCOPE: TemplateScope = {
  vars: ['branch', 'tag', 'sha', 'base_ref', 'is_default_branch', 'is_not_default_branch'],
  helpers: true,
};
// A version pattern sees only the parsed version; a schedule pattern only the dates (metadata-action).
export const SEMVER_SCOPE: TemplateScope = {
  vars: ['version', 'major', 'minor', 'patch', 'raw', 'prerelease', 'build'],
  helpers: false,
};
export const PEP440_SCOPE: TemplateScope = { vars: ['version', 'major', 'minor', 'patch', 'raw'], helpers: false };
const SCHEDULE_SCOPE: TemplateScope = { vars: [], helpers: true };

/** Parses the `tags` input, one rule per line; blank lines are skipped, and no rules means the defaults. */
export function parseTagRules(lines: readonly string[]): TagRule[] {
  const given = lines.map((line) => line.trim()).filter((line) => line !== '');
  return (given.length === 0 ? DEFAULT_TAG_RULES : given).map(parseTagRule);
}

export function parseTagRule(line: string): TagRule {
  const fail = (detail: string): never => {
    throw new InvalidValueError('tag rule', line, EXPECTED_RULE, detail);
  };
  let fields: string[] = [];
  try {
    fields = splitCsvLine(line);
  } catch (error) {
    fail((error as Error).message);
  }
  const attrs = new Map<string, string>();
  for (const field of fields) {
    const item = field.trim();
    if (item === '') fail('it has an empty option (two commas in a row, or a trailing comma)');
    const eq = item.indexOf('=');
    // A bare word is the value, as in metadata-action (`type=raw,foo`).
    const key = eq < 0 ? 'value' : item.slice(0, eq).trim().toLowerCase();
    const value = eq < 0 ? item : item.slice(eq + 1).trim();
    if (key === '') fail(`option ${showValue(item)} has no key before "="`);
    if (attrs.has(key)) fail(`the key "${key}" is given twice`);
    attrs.set(key, value);
  }

  // metadata-action treats a rule without a type as raw.
  const typeText = attrs.get('type') ?? 'raw';
  if (!Object.hasOwn(TYPE_KEYS, typeText)) {
    fail(`unknown type "${typeText}"; use semver, pep440, match, sha, ref, raw, edge or schedule`);
  }
  const type = typeText as RuleType;
  const allowed = [...COMMON_KEYS, ...TYPE_KEYS[type]];
  for (const key of attrs.keys()) {
    if (!allowed.includes(key)) fail(`unknown key "${key}" for type=${type}; allowed: ${allowed.join(', ')}`);
  }

  const template = (key: string, scope: TemplateScope, text: string): Template => {
    try {
      return parseTemplate(text, scope);
    } catch (error) {
      return fail(`${key}: ${(error as Error).message}`);
    }
  };
  const optional = (key: string, scope: TemplateScope): Template | undefined => {
    const text = attrs.get(key);
    return text === undefined ? undefined : template(key, scope, text);
  };
  const needed = (key: string): string => attrs.get(key) ?? fail(`type=${type} needs ${key}=`);

  const event = attrs.get('event');
  const defaultPrefix = type === 'sha' ? 'sha-' : type === 'ref' && event === 'pr' ? 'pr-' : undefined;
  const prefix = attrs.has('prefix') ? optional('prefix', GLOBAL_SCOPE) : defaultPrefix && [{ text: defaultPrefix }];
  const suffix = optional('suffix', GLOBAL_SCOPE);
  const common: RuleCommon = {
    source: line,
    priority: parsePriority(attrs.get('priority'), type, fail),
    ...(prefix ? { prefix } : {}),
    ...(suffix ? { suffix } : {}),
    enable: parseEnable(attrs.get('enable') ?? 'true', (text) => template('enable', GLOBAL_SCOPE, text), fail),
  };
  const value = optional('value', GLOBAL_SCOPE);
  const withValue = value && value.length > 0 ? { value } : {};

  switch (type) {
    case 'semver':
    case 'pep440': {
      const pattern = template('pattern', type === 'semver' ? SEMVER_SCOPE : PEP440_SCOPE, needed('pattern'));
      const matchText = attrs.get('match') ?? '';
      const match = matchText === '' ? undefined : parseRegExp('match', matchText, 1, fail);
      return { ...common, type, pattern, ...withValue, ...(match ? { match } : {}) };
    }
    case 'match': {
      const groupText = attrs.get('group') ?? '0';
      if (!/^\d+$/.test(groupText)) fail(`group "${groupText}" is not a whole number`);
      const group = Number(groupText);
      const pattern = parseMatchPattern(needed('pattern'), fail);
      return { ...common, type, pattern, group, ...withValue };
    }
    case 'sha': {
      const format = attrs.get('format') ?? 'short';
      if (format !== 'short' && format !== 'long') fail(`format "${format}" is not short or long`);
      return { ...common, type, format: format as 'short' | 'long' };
    }
    case 'ref': {
      if (event === undefined) return fail('type=ref needs event=branch, event=tag or event=pr');
      if (event !== 'branch' && event !== 'tag' && event !== 'pr') {
        return fail(`event "${event}" is not branch, tag or pr`);
      }
      return { ...common, type, event };
    }
    case 'raw':
      // An empty value (often a workflow expression that rendered empty) gives no tag, as in metadata-action.
      return { ...common, type, value: template('value', GLOBAL_SCOPE, needed('value')) };
    case 'edge': {
      // An empty branch means the default branch, as when it is not given.
      const branch = attrs.get('branch');
      return { ...common, type, ...(branch ? { branch } : {}) };
    }
    case 'schedule':
      return { ...common, type, pattern: template('pattern', SCHEDULE_SCOPE, attrs.get('pattern') ?? 'nightly') };
  }
}

function parsePriority(text: string | undefined, type: RuleType, fail: (detail: string) => never): number {
  if (text === undefined) return DEFAULT_PRIORITY[type];
  if (!/^-?\d+(?:\.\d+)?$/.test(text)) fail(`priority "${text}" is not a number`);
  return Number(text);
}

function parseEnable(text: string, parse: (text: string) => Template, fail: (detail: string) => never): Template {
  const template = parse(text);
  // A literal is checked now; one with placeholders is checked when it is rendered for the run.
  if (template.every((node) => 'text' in node) && !/^(?:true|false)$/i.test(text)) {
    fail(`enable "${text}" is not true, false or a template such as {{is_default_branch}}`);
  }
  return template;
}

/** `match=` of semver and pep440 rules: a regular expression whose first group is the version. */
function parseRegExp(key: string, source: string, groups: number, fail: (detail: string) => never): RegExp {
  let regex: RegExp | undefined;
  try {
    regex = new RegExp(source);
  } catch (error) {
    fail(`${key} ${showValue(source)} is not a regular expression: ${(error as Error).message}`);
  }
  if (captureGroups(regex as RegExp) < groups) {
    fail(`${key} ${showValue(source)} has no capture group ( ) for the version`);
  }
  return regex as RegExp;
}

/** type=match's pattern: `/regex/flags` or a bare regular expression, as in metadata-action. */
function parseMatchPattern(text: string, fail: (detail: string) => never): RegExp {
  const literal = /^\/(.+)\/(.*)$/.exec(text);
  let regex: RegExp | undefined;
  try {
    regex = literal ? new RegExp(literal[1] as string, literal[2]) : new RegExp(text);
  } catch (error) {
    fail(`pattern ${showValue(text)} is not a regular expression: ${(error as Error).message}`);
  }
  // A group the pattern lacks gives no tag (with a warning) rather than an error, as in metadata-action.
  return regex as RegExp;
}

function captureGroups(regex: RegExp): number {
  // An alternative that matches the empty string makes exec report every group of the expression.
  return (new RegExp(`${regex.source}|`).exec('') as RegExpExecArray).length - 1;
}
