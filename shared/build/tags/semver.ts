// Semantic versions as metadata-action reads git tags (node-semver's `valid`): SemVer 2.0.0 with the `v`
// git tags customarily carry, surrounding spaces ignored.

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

// The SemVer 2.0.0 grammar (semver.org's regular expression), with an optional leading `v`.
const NUM = '0|[1-9]\\d*';
const PRE_ID = `${NUM}|\\d*[a-zA-Z-][0-9a-zA-Z-]*`;
const SEMVER = new RegExp(
  `^v?(${NUM})\\.(${NUM})\\.(${NUM})(?:-((?:${PRE_ID})(?:\\.(?:${PRE_ID}))*))?(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$`,
);
const MAX_LENGTH = 256;

/** Parses a version such as `v1.2.3-rc.1+build.5`; undefined when it is not SemVer 2.0.0. */
export function parseSemVer(text: string): SemVer | undefined {
  const trimmed = text.trim();
  if (trimmed.length > MAX_LENGTH) return undefined;
  const m = SEMVER.exec(trimmed);
  if (!m) return undefined;
  const [, major = '', minor = '', patch = '', prerelease, build] = m;
  if (![major, minor, patch].every((n) => Number(n) <= Number.MAX_SAFE_INTEGER)) return undefined;
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
