// Python versions (PEP 440) for `type=pep440`: parsing and the normalised form, as metadata-action derives
// tags from them. Only what tags need: validity, the normal form, the release numbers and whether a
// version is a pre-, post- or dev-release. The grammar is the one PEP 440's appendix gives.

export interface Pep440Version {
  /** The normalised public version and local label, e.g. `1.2.3rc2` for `v1.2.3-RC.2`. */
  normalized: string;
  release: number[];
  isPrerelease: boolean;
  isPostrelease: boolean;
  isDevrelease: boolean;
}

const PEP440 = new RegExp(
  '^\\s*v?' +
    '(?:(?<epoch>[0-9]+)!)?' +
    '(?<release>[0-9]+(?:\\.[0-9]+)*)' +
    '(?<pre>[-_.]?(?<preL>alpha|beta|preview|pre|a|b|c|rc)[-_.]?(?<preN>[0-9]+)?)?' +
    '(?<post>(?:-(?<postN1>[0-9]+))|(?:[-_.]?(?<postL>post|rev|r)[-_.]?(?<postN2>[0-9]+)?))?' +
    '(?<dev>[-_.]?(?<devL>dev)[-_.]?(?<devN>[0-9]+)?)?' +
    '(?:\\+(?<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?' +
    '\\s*$',
  'i',
);

const PRE_LABELS: Record<string, string> = {
  alpha: 'a',
  a: 'a',
  beta: 'b',
  b: 'b',
  c: 'rc',
  pre: 'rc',
  preview: 'rc',
  rc: 'rc',
};

/** Parses a PEP 440 version; undefined when it is not one. */
export function parsePep440(text: string): Pep440Version | undefined {
  const m = PEP440.exec(text);
  const g = m?.groups;
  if (!g || g.release === undefined) return undefined;
  const number = (digits: string | undefined) => (digits === undefined ? 0 : Number(BigInt(digits)));
  const release = g.release.split('.').map((n) => number(n));
  let normalized = '';
  const epoch = number(g.epoch);
  if (epoch !== 0) normalized += `${epoch}!`;
  normalized += release.join('.');
  if (g.pre !== undefined) normalized += `${PRE_LABELS[(g.preL ?? '').toLowerCase()]}${number(g.preN)}`;
  if (g.post !== undefined) normalized += `.post${number(g.postN1 ?? g.postN2)}`;
  if (g.dev !== undefined) normalized += `.dev${number(g.devN)}`;
  if (g.local !== undefined) {
    const local = g.local
      .toLowerCase()
      .split(/[-_.]/)
      .map((part) => (/^\d+$/.test(part) ? String(number(part)) : part));
    normalized += `+${local.join('.')}`;
  }
  return {
    normalized,
    release,
    isPrerelease: g.pre !== undefined || g.dev !== undefined,
    isPostrelease: g.post !== undefined,
    isDevrelease: g.dev !== undefined,
  };
}
