// Image tags from the GitHub event, with docker/metadata-action's rule and flavor syntax and results, so a
// workflow can move its `tags:` and `flavor:` lines over unchanged. The parts live in tags/, one idea a
// file; the deliberate differences from metadata-action are listed in the README ("Differences from
// docker/metadata-action") and pinned by test/unit/build/tags-metadata-action.test.ts.

export { type ComputeOptions, computeTags, imageVersion, sanitizeTag } from './tags/compute.js';
export {
  branchOf,
  type GitContext,
  gitContextFromEnv,
  gitTagOf,
  isDefaultBranch,
  pullRequestOf,
  tagRef,
} from './tags/context.js';
export { EXPECTED_FLAVOR, type Flavor, type LatestMode, NO_FLAVOR, parseFlavor } from './tags/flavor.js';
export { type Pep440Version, parsePep440 } from './tags/pep440.js';
export {
  DEFAULT_PRIORITY,
  DEFAULT_TAG_RULES,
  EXPECTED_RULE,
  parseTagRule,
  parseTagRules,
  type RuleType,
  type TagRule,
} from './tags/rules.js';
export { parseSemVer, type SemVer } from './tags/semver.js';
