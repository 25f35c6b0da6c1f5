import { SlipwayError, showValue } from '../../core/errors.js';
import { isValidTag } from '../../oci/reference.js';
import { branchOf, type GitContext, gitTagOf, isDefaultBranch, pullRequestOf } from './context.js';
import { type Flavor, type LatestMode, NO_FLAVOR } from './flavor.js';
import { parsePep440 } from './pep440.js';
import type { TagRule } from './rules.js';
import { parseSemVer } from './semver.js';
import { isRawStatement, renderTemplate, type Template } from './template.js';

// The tags of one run: each enabled rule, highest priority first, gives at most one tag; the first tag
// given decides whether `latest` is added (under latest=auto), as in metadata-action.

export interface ComputeOptions {
  /** The `latest` input; the flavor's `latest=` wins when it has one. */
  latest: LatestMode;
  /** The clock for `{{date '…'}}`; injected so a run's tags can be reproduced in tests. */
  now: Date;
  flavor?: Flavor;
  /** Where a rule that could not apply says why (a tag that is not a version, a pattern that did not match). */
  warn?: (message: string) => void;
}

const MAX_TAG_LENGTH = 128;
const SHORT_SHA_LENGTH = 7;

interface Produced {
  value: string;
  /** Whether this rule's tag, given first, means `latest` under latest=auto. */
  latest: boolean;
}

/** Computes the image tags; throws when no rule produced a tag, so a push never goes out untagged. */
export function computeTags(rules: readonly TagRule[], ctx: GitContext, options: ComputeOptions): string[] {
  const flavor = options.flavor ?? NO_FLAVOR;
  const mode = flavor.latest ?? options.latest;
  const warn = options.warn ?? (() => {});
  const branch = branchOf(ctx);
  const gitTag = gitTagOf(ctx);
  const defaultBranch = isDefaultBranch(ctx);
  const globals: Record<string, string> = {
    branch: branch ?? '',
    tag: gitTag ?? '',
    sha: ctx.sha.slice(0, SHORT_SHA_LENGTH),
    base_ref: ctx.baseRef ?? '',
    is_default_branch: String(defaultBranch),
    is_not_default_branch: String(!defaultBranch),
  };
  const render = (template: Template, vars: Readonly<Record<string, string>> = globals) =>
    renderTemplate(template, {
      vars,
      now: options.now,
      ...(ctx.commitTime === undefined ? {} : { commitTime: ctx.commitTime }),
    });

  const ordered = rules
    .map((rule, index) => ({ rule, index }))
    .sort((a, b) => b.rule.priority - a.rule.priority || a.index - b.index)
    .map(({ rule }) => rule);

  const tags: string[] = [];
  let latest: boolean | undefined;
  for (const rule of ordered) {
    const enabled = render(rule.enable).toLowerCase();
    if (enabled !== 'true' && enabled !== 'false') {
      throw new SlipwayError(
        `The tag rule ${showValue(rule.source)} has enable= rendering to ${showValue(enabled)}; it must give true or false.`,
      );
    }
    if (enabled === 'false') continue;
    const produced = ruleValue(rule);
    if (produced === undefined) continue;
    const prefix = rule.prefix ?? flavor.prefix;
    const suffix = rule.suffix ?? flavor.suffix;
    const full = render(prefix) + produced.value + render(suffix);
    if (full === '') continue;
    const tag = sanitizeTag(full);
    if (tag === '') continue;
    latest ??= mode === 'auto' ? produced.latest : mode === 'true';
    if (!tags.includes(tag)) tags.push(tag);
  }
  // `latest` goes last, as in metadata-action, so the first tag stays the most specific one.
  if (latest) {
    const name = sanitizeTag(
      `${flavor.prefixLatest ? render(flavor.prefix) : ''}latest${flavor.suffixLatest ? render(flavor.suffix) : ''}`,
    );
    if (!tags.includes(name)) tags.push(name);
  }

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

  /** The version text a semver, pep440 or match rule reads: its value=, else the git tag. */
  function versionSource(rule: TagRule & { value?: Template }): string | undefined {
    if (rule.value !== undefined) return render(rule.value);
    return gitTag;
  }

  /** Applies a semver or pep440 rule's match=: its first group, or the text unchanged when it does not match. */
  function matched(rule: { match?: RegExp; source: string }, text: string): string {
    if (rule.match === undefined) return text;
    const found = text.match(rule.match);
    if (!found) {
      warn(`Tag rule ${rule.source}: match ${rule.match.source} does not match ${showValue(text)}; using it whole.`);
      return text;
    }
    return found[1] ?? '';
  }

  function ruleValue(rule: TagRule): Produced | undefined {
    switch (rule.type) {
      case 'schedule':
        if (!ctx.eventName.includes('schedule')) return undefined;
        return { value: render(rule.pattern, {}), latest: false };
      case 'semver': {
        const source = versionSource(rule);
        if (source === undefined) return undefined;
        const text = matched(rule, source).replace(/\//g, '-');
        const semver = parseSemVer(text);
        if (!semver) {
          warn(
            `Tag rule ${rule.source}: ${showValue(text)} is not a semantic version (https://semver.org), so it gives no tag.`,
          );
          return undefined;
        }
        const vars = {
          version: semver.version,
          major: semver.major,
          minor: semver.minor,
          patch: semver.patch,
          raw: semver.raw,
          // Handlebars prints node-semver's identifier lists joined with commas.
          prerelease: (semver.prerelease ?? '').replaceAll('.', ','),
          build: (semver.build ?? '').replaceAll('.', ','),
        };
        // A prerelease only ever gets its full version: `1.2.3-rc.1` must not move `1.2` or `1`, which
        // users pull expecting a release. `{{raw}}` alone is kept, as the tag itself.
        if (semver.prerelease !== undefined) {
          return { value: isRawStatement(rule.pattern) ? render(rule.pattern, vars) : semver.version, latest: false };
        }
        return { value: render(rule.pattern, vars), latest: true };
      }
      case 'pep440': {
        const source = versionSource(rule);
        if (source === undefined) return undefined;
        const text = matched(rule, source).replace(/\//g, '-');
        const version = parsePep440(text);
        if (!version) {
          warn(`Tag rule ${rule.source}: ${showValue(text)} is not a PEP 440 version, so it gives no tag.`);
          return undefined;
        }
        if (version.isPrerelease || version.isPostrelease || version.isDevrelease) {
          return { value: isRawStatement(rule.pattern) ? text : version.normalized, latest: false };
        }
        const vars = {
          raw: text,
          version: version.normalized,
          major: String(version.release[0] ?? 0),
          minor: String(version.release[1] ?? 0),
          patch: String(version.release[2] ?? 0),
        };
        return { value: render(rule.pattern, vars), latest: true };
      }
      case 'match': {
        const source = versionSource(rule);
        if (source === undefined) return undefined;
        const found = source.match(rule.pattern);
        const value = found?.[rule.group];
        if (value === undefined) {
          warn(
            `Tag rule ${rule.source}: pattern ${rule.pattern} gives no group ${rule.group} for ${showValue(source)}.`,
          );
          return undefined;
        }
        return { value, latest: true };
      }
      case 'sha':
        return { value: rule.format === 'long' ? ctx.sha : ctx.sha.slice(0, SHORT_SHA_LENGTH), latest: false };
      case 'ref': {
        if (rule.event === 'branch') return branch === undefined ? undefined : { value: branch, latest: false };
        // A tag push moves `latest` under latest=auto, prereleases included: metadata-action does so, and
        // users who want release-only `latest` use type=semver (see the README).
        if (rule.event === 'tag') return gitTag === undefined ? undefined : { value: gitTag, latest: true };
        const pr = pullRequestOf(ctx);
        return pr === undefined ? undefined : { value: pr, latest: false };
      }
      case 'raw':
        return { value: render(rule.value), latest: false };
      case 'edge': {
        const edgeBranch = rule.branch ?? ctx.defaultBranch;
        return branch !== undefined && branch === edgeBranch ? { value: 'edge', latest: false } : undefined;
      }
    }
  }
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
