import { isValidTag } from '../oci/reference.js';
import { InvalidValueError, SlipwayError, showValue } from '../runner/errors.js';

// Image tags from the GitHub event, with docker/metadata-action's rule syntax and results, so a workflow
// can move its `tags:` lines over unchanged. Where metadata-action is known to surprise its users, the
// difference is deliberate and noted: the commit is the PR head rather than the merge commit, a
// pull_request_target run is never tagged as its base branch, and an empty result is an error.

/** What the tags and labels are computed from; built from the runner's environment by gitContextFromEnv. */
export interface GitContext {
  /** GITHUB_EVENT_NAME. */
  eventName: string;
  /** GITHUB_REF: refs/heads/main, refs/tags/v1.2.3, refs/pull/42/merge; '' when the event has none. */
  ref: string;
  /** The commit the image is built from: for pull request events the PR head, never the merge commit. */
  sha: string;
  /** payload.repository.default_branch. */
  defaultBranch?: string;
  prNumber?: number;
  /** ISO time of the head commit, when the payload has it (push: head_commit.timestamp). */
  commitTime?: string;
  /** `${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}`. */
  repositoryUrl: string;
}

/** `enable=`: a fixed choice, or metadata-action's `{{is_default_branch}}`, decided per run. */
export type Enable = boolean | 'default-branch';

interface RuleCommon {
  /** The line as written, for messages. */
  source: string;
  /** Templates (see expand); the per-type defaults (`sha-`, `pr-`) are already applied. */
  prefix: string;
  suffix: string;
  enable: Enable;
}

export type TagRule = RuleCommon &
  (
    | { type: 'semver'; pattern: string }
    | { type: 'sha'; format: 'short' | 'long' }
    | { type: 'ref'; event: 'branch' | 'tag' | 'pr' }
    | { type: 'raw'; value: string }
    | { type: 'edge'; branch?: string }
    | { type: 'schedule'; pattern: string }
  );

export type RuleType = TagRule['type'];

export interface ComputeOptions {
  latest: 'auto' | 'true' | 'false';
  /** The clock for `{{date '…'}}`; injected so a run's tags can be reproduced in tests. */
  now: Date;
}

export const DEFAULT_TAG_RULES: readonly string[] = [
  'type=semver,pattern={{version}}',
  'type=semver,pattern={{major}}.{{minor}}',
  'type=ref,event=branch',
  'type=ref,event=pr',
  'type=sha',
];

const EXPECTED_RULE = 'type=semver|sha|ref|raw|edge|schedule with key=value options';
const MAX_TAG_LENGTH = 128;
const SHORT_SHA_LENGTH = 7;
const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

// metadata-action's default priorities: its users see tags in this order (most specific first), and
// `version` is the first tag, so the order is part of the contract. The sort is stable within a type.
const PRIORITY: Record<RuleType, number> = { schedule: 1000, semver: 900, edge: 700, ref: 600, raw: 200, sha: 100 };

const COMMON_KEYS = ['type', 'prefix', 'suffix', 'enable'];
const TYPE_KEYS: Record<RuleType, readonly string[]> = {
  semver: ['pattern'],
  sha: ['format'],
  ref: ['event'],
  raw: ['value'],
  edge: ['branch'],
  schedule: ['pattern'],
};

// Placeholders each field may use. Semver patterns see only the parsed version, as in metadata-action.
const SEMVER_VARS = ['version', 'major', 'minor', 'patch', 'raw'];
const GLOBAL_VARS = ['sha', 'branch', 'tag'];

// ---------------------------------------------------------------------------------------------------
// Event context

/** Builds the context from GITHUB_* variables and the event payload (the parsed GITHUB_EVENT_PATH file). */
export function gitContextFromEnv(env: Readonly<Record<string, string | undefined>>, payload: unknown): GitContext {
  const eventName = required(env, 'GITHUB_EVENT_NAME');
  const repository = required(env, 'GITHUB_REPOSITORY');
  const serverUrl = required(env, 'GITHUB_SERVER_URL').replace(/\/+$/, '');
  const ref = env.GITHUB_REF ?? '';

  const pullRequest = field(payload, 'pull_request');
  let sha: string;
  let prNumber: number | undefined;
  if (eventName.startsWith('pull_request')) {
    // GITHUB_SHA is a merge commit GitHub made for the run; the image must name the commit the author
    // pushed, or its revision label points at a commit that exists nowhere else (metadata-action#206).
    const head = field(field(pullRequest, 'head'), 'sha');
    if (typeof head !== 'string' || !SHA.test(head)) {
      throw new SlipwayError(
        `The ${eventName} event payload has no pull_request.head.sha; it is needed because GITHUB_SHA is the merge commit, not the commit to build.`,
      );
    }
    sha = head;
    const number = field(pullRequest, 'number') ?? field(payload, 'number');
    if (typeof number === 'number' && Number.isSafeInteger(number) && number > 0) prNumber = number;
  } else {
    sha = required(env, 'GITHUB_SHA');
    if (!SHA.test(sha)) {
      throw new InvalidValueError('GITHUB_SHA', sha, '40 or 64 lowercase hex digits');
    }
  }

  const defaultBranch = field(field(payload, 'repository'), 'default_branch');
  const commitTime = field(field(payload, 'head_commit'), 'timestamp');
  return {
    eventName,
    ref,
    sha,
    ...(typeof defaultBranch === 'string' && defaultBranch !== '' ? { defaultBranch } : {}),
    ...(prNumber === undefined ? {} : { prNumber }),
    ...(typeof commitTime === 'string' && commitTime !== '' ? { commitTime } : {}),
    repositoryUrl: `${serverUrl}/${repository}`,
  };
}

function required(env: Readonly<Record<string, string | undefined>>, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new SlipwayError(`${name} is not set; it is set by the GitHub Actions runner in every job.`);
  }
  return value;
}

/** Reads one property of an untyped JSON value, undefined when it is not an object or lacks the key. */
function field(value: unknown, key: string): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return (value as Record<string, unknown>)[key];
}

function branchOf(ctx: GitContext): string | undefined {
  // pull_request_target runs on refs/heads/<base>, but builds the PR's code: it must not get the base
  // branch's tag (or `edge`), or an untrusted PR could overwrite `main`.
  if (ctx.prNumber !== undefined || ctx.eventName.startsWith('pull_request')) return undefined;
  return ctx.ref.startsWith('refs/heads/') ? ctx.ref.slice('refs/heads/'.length) : undefined;
}

function gitTagOf(ctx: GitContext): string | undefined {
  return ctx.ref.startsWith('refs/tags/') ? ctx.ref.slice('refs/tags/'.length) : undefined;
}

function isDefaultBranch(ctx: GitContext): boolean {
  const branch = branchOf(ctx);
  return branch !== undefined && branch === ctx.defaultBranch;
}

// ---------------------------------------------------------------------------------------------------
// Semantic versions

export interface SemVer {
  major: string;
  minor: string;
  patch: string;
  prerelease?: string;
  build?: string;
  /** MAJOR.MINOR.PATCH[-PRERELEASE], without a `v` or build metadata (node-semver's `version`). */
  version: string;
  /** The text as given, `v` included. */
  raw: string;
}

// The SemVer 2.0.0 grammar (semver.org's regular expression), with the `v` git tags customarily carry.
const NUM = '0|[1-9]\\d*';
const PRE_ID = `${NUM}|\\d*[a-zA-Z-][0-9a-zA-Z-]*`;
const SEMVER = new RegExp(
  `^v?(${NUM})\\.(${NUM})\\.(${NUM})(?:-((?:${PRE_ID})(?:\\.(?:${PRE_ID}))*))?(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$`,
);

/** Parses a version such as `v1.2.3-rc.1+build.5`; undefined when it is not SemVer 2.0.0. */
export function parseSemVer(text: string): SemVer | undefined {
  const m = SEMVER.exec(text);
  if (!m) return undefined;
  const [, major = '', minor = '', patch = '', prerelease, build] = m;
  const core = `${major}.${minor}.${patch}`;
  return {
    major,
    minor,
    patch,
    ...(prerelease === undefined ? {} : { prerelease }),
    ...(build === undefined ? {} : { build }),
    version: prerelease === undefined ? core : `${core}-${prerelease}`,
    raw: text,
  };
}

/** The version label for an image: the semver version of a semver git tag, else the first tag. */
export function imageVersion(ctx: GitContext, tags: readonly string[]): string {
  const tag = gitTagOf(ctx);
  const semver = tag === undefined ? undefined : parseSemVer(tag);
  if (semver) return semver.version;
  const first = tags[0];
  if (first === undefined) throw new SlipwayError('There is no tag to take the image version from.');
  return first;
}

// ---------------------------------------------------------------------------------------------------
// Templates: `{{name}}` and `{{date 'FORMAT'}}`, the subset of metadata-action's handlebars that tags use.

type Part = { text: string } | { name: string } | { date: string };

const PLACEHOLDER = /\{\{\s*(.*?)\s*\}\}/g;
const DATE_CALL = /^date\s+(?:'([^']*)'|"([^"]*)")$/;
const DATE_TOKEN = /YYYY|MM|DD|HH|mm|ss/g;

function parseTemplate(
  template: string,
  vars: readonly string[],
  withDate: boolean,
  fail: (detail: string) => never,
): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const m of template.matchAll(PLACEHOLDER)) {
    parts.push({ text: template.slice(last, m.index) });
    last = m.index + m[0].length;
    const inner = m[1] ?? '';
    const date = DATE_CALL.exec(inner);
    if (date && withDate) {
      const format = date[1] ?? date[2] ?? '';
      const stray = /[a-zA-Z]/.exec(format.replace(DATE_TOKEN, ''));
      if (stray) fail(`date format ${showValue(format)} has "${stray[0]}"; use YYYY, MM, DD, HH, mm and ss`);
      parts.push({ date: format });
    } else if (vars.includes(inner)) {
      parts.push({ name: inner });
    } else {
      const known = withDate ? [...vars, "date 'YYYYMMDD'"] : vars;
      fail(`unknown placeholder {{${inner}}}; known: ${known.map((v) => `{{${v}}}`).join(', ')}`);
    }
  }
  const rest = template.slice(last);
  if (rest.includes('{{') || rest.includes('}}')) fail('it has an unmatched "{{" or "}}"');
  parts.push({ text: rest });
  return parts.filter((p) => !('text' in p) || p.text !== '');
}

function expand(template: string, values: Readonly<Record<string, string>>, now: Date): string {
  // Templates were checked by parseTagRules; checking again would only repeat its errors.
  const parts = parseTemplate(template, Object.keys(values), true, () => {
    throw new Error(`template ${template} was not validated`);
  });
  return parts
    .map((p) => ('text' in p ? p.text : 'name' in p ? (values[p.name] ?? '') : formatDate(now, p.date)))
    .join('');
}

/** Formats in UTC: a tag must not depend on the runner's time zone. */
function formatDate(date: Date, format: string): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const tokens: Record<string, string> = {
    YYYY: pad(date.getUTCFullYear(), 4),
    MM: pad(date.getUTCMonth() + 1),
    DD: pad(date.getUTCDate()),
    HH: pad(date.getUTCHours()),
    mm: pad(date.getUTCMinutes()),
    ss: pad(date.getUTCSeconds()),
  };
  return format.replace(DATE_TOKEN, (token) => tokens[token] ?? token);
}

// ---------------------------------------------------------------------------------------------------
// Rules

/** Parses the `tags` input, one rule per line; blank lines are skipped, and no rules means the defaults. */
export function parseTagRules(lines: readonly string[]): TagRule[] {
  const given = lines.map((line) => line.trim()).filter((line) => line !== '');
  return (given.length === 0 ? DEFAULT_TAG_RULES : given).map(parseTagRule);
}

function parseTagRule(line: string): TagRule {
  const fail = (detail: string): never => {
    throw new InvalidValueError('tag rule', line, EXPECTED_RULE, detail);
  };
  const attrs = new Map<string, string>();
  for (const raw of line.split(',')) {
    const item = raw.trim();
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
  if (!(typeText in TYPE_KEYS)) {
    fail(`unknown type "${typeText}"; use semver, sha, ref, raw, edge or schedule`);
  }
  const type = typeText as RuleType;
  const allowed = [...COMMON_KEYS, ...TYPE_KEYS[type]];
  for (const key of attrs.keys()) {
    if (allowed.includes(key)) continue;
    if (key === 'priority') {
      fail('"priority" is not supported; tags come out in metadata-action\'s default priority order');
    }
    fail(`unknown key "${key}" for type=${type}; allowed: ${allowed.join(', ')}`);
  }

  const template = (key: string, vars: readonly string[], fallback?: string): string => {
    const value = attrs.get(key) ?? fallback;
    if (value === undefined) return fail(`type=${type} needs ${key}=`);
    parseTemplate(value, vars, vars !== SEMVER_VARS, (detail) => fail(`${key}: ${detail}`));
    return value;
  };
  const common: RuleCommon = {
    source: line,
    prefix: template(
      'prefix',
      GLOBAL_VARS,
      type === 'sha' ? 'sha-' : type === 'ref' && attrs.get('event') === 'pr' ? 'pr-' : '',
    ),
    suffix: template('suffix', GLOBAL_VARS, ''),
    enable: parseEnable(attrs.get('enable'), fail),
  };

  switch (type) {
    case 'semver': {
      const pattern = template('pattern', SEMVER_VARS);
      if (!/\{\{/.test(pattern)) fail('pattern has no placeholder, so every release would get the same tag');
      return { ...common, type, pattern };
    }
    case 'sha': {
      const format = attrs.get('format') ?? 'short';
      if (format !== 'short' && format !== 'long') fail(`format "${format}" is not short or long`);
      return { ...common, type, format: format as 'short' | 'long' };
    }
    case 'ref': {
      const event = attrs.get('event');
      if (event === undefined) return fail('type=ref needs event=branch, event=tag or event=pr');
      if (event !== 'branch' && event !== 'tag' && event !== 'pr') {
        return fail(`event "${event}" is not branch, tag or pr`);
      }
      return { ...common, type, event };
    }
    case 'raw': {
      const value = template('value', GLOBAL_VARS);
      if (value === '') fail('value is empty');
      return { ...common, type, value };
    }
    case 'edge': {
      const branch = attrs.get('branch');
      if (branch === '') fail('branch is empty');
      return { ...common, type, ...(branch === undefined ? {} : { branch }) };
    }
    case 'schedule':
      return { ...common, type, pattern: template('pattern', GLOBAL_VARS, 'nightly') };
  }
}

function parseEnable(value: string | undefined, fail: (detail: string) => never): Enable {
  if (value === undefined) return true;
  // Workflow expressions render booleans as `true`/`false`; YAML users also write `True`.
  const lower = value.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  if (/^\{\{\s*is_default_branch\s*\}\}$/.test(value)) return 'default-branch';
  return fail(`enable "${value}" is not true, false or {{is_default_branch}}`);
}

// ---------------------------------------------------------------------------------------------------
// Computing tags

/** Computes the image tags; throws when no rule produced a tag, so a push never goes out untagged. */
export function computeTags(rules: readonly TagRule[], ctx: GitContext, options: ComputeOptions): string[] {
  const branch = branchOf(ctx);
  const gitTag = gitTagOf(ctx);
  const semver = gitTag === undefined ? undefined : parseSemVer(gitTag);
  const globals = { sha: ctx.sha.slice(0, SHORT_SHA_LENGTH), branch: branch ?? '', tag: gitTag ?? '' };

  const ordered = rules
    .map((rule, index) => ({ rule, index }))
    .sort((a, b) => PRIORITY[b.rule.type] - PRIORITY[a.rule.type] || a.index - b.index)
    .map(({ rule }) => rule);

  const tags: string[] = [];
  let release = false;
  for (const rule of ordered) {
    if (rule.enable === false || (rule.enable === 'default-branch' && !isDefaultBranch(ctx))) continue;
    const value = ruleValue(rule);
    if (value === undefined) continue;
    const tag = sanitizeTag(
      expand(rule.prefix, globals, options.now) + value + expand(rule.suffix, globals, options.now),
    );
    if (tag !== '' && !tags.includes(tag)) tags.push(tag);
  }
  // `latest` goes last, as in metadata-action, so the first tag stays the most specific one.
  const latest = options.latest === 'true' || (options.latest === 'auto' && release);
  if (latest && tags.length > 0 && !tags.includes('latest')) tags.push('latest');

  if (tags.length === 0) {
    throw new SlipwayError(
      `No image tag: the tag rules produced none for event "${ctx.eventName}" on ref ${ctx.ref === '' ? '(none)' : `"${ctx.ref}"`}. Add a rule that applies to this event, such as type=sha or type=raw,value=<tag>.`,
    );
  }
  for (const tag of tags) {
    // sanitizeTag guarantees this; a failure here is a bug, not a user error.
    if (!isValidTag(tag)) throw new Error(`computed tag ${showValue(tag)} is not a valid tag`);
  }
  return tags;

  function ruleValue(rule: TagRule): string | undefined {
    switch (rule.type) {
      case 'semver': {
        if (!semver) return undefined;
        // A prerelease only ever gets its full version (metadata-action): `1.2.3-rc.1` must not move
        // `1.2` or `1`, which users pull expecting a release. `{{raw}}` alone is kept, as the tag itself.
        if (semver.prerelease !== undefined) {
          return /^\{\{\s*raw\s*\}\}$/.test(rule.pattern) ? semver.raw : semver.version;
        }
        release = true;
        const { major, minor, patch, version, raw } = semver;
        return expand(rule.pattern, { version, major, minor, patch, raw }, options.now);
      }
      case 'sha':
        return rule.format === 'long' ? ctx.sha : ctx.sha.slice(0, SHORT_SHA_LENGTH);
      case 'ref':
        if (rule.event === 'branch') return branch;
        if (rule.event === 'tag') return gitTag;
        return ctx.prNumber === undefined ? undefined : String(ctx.prNumber);
      case 'raw':
        return expand(rule.value, globals, options.now);
      case 'edge': {
        const edgeBranch = rule.branch ?? ctx.defaultBranch;
        return branch !== undefined && branch === edgeBranch ? 'edge' : undefined;
      }
      case 'schedule':
        return ctx.eventName === 'schedule' ? expand(rule.pattern, globals, options.now) : undefined;
    }
  }
}

/**
 * Makes a string a valid tag the way metadata-action does (each run of other characters becomes one
 * `-`), then drops the leading `.` or `-` a tag may not start with and cuts it to 128 characters.
 */
export function sanitizeTag(text: string): string {
  return text
    .replace(/[^a-zA-Z0-9._-]+/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, MAX_TAG_LENGTH);
}
