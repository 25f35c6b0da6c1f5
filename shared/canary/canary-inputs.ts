import { ConfigurationError, InvalidValueError } from '../core/errors.js';
import { userFile } from '../core/files.js';
import { readPromotionRecord } from '../records/promotion.js';
import type { PrometheusAuth } from './prometheus.js';
import { type LabelMatcher, parseMatchers } from './promql.js';
import type { PromotionLanding } from './started-at.js';

// The canary action's inputs that need more than the runner's readers: the step list, `since` (a time or a
// promotion record), label matchers, the Prometheus credentials and headers, and the cross-input rules. Pure
// functions (apart from reading a promotion record), tested by table, so the action's entry stays thin.

const STEPS_FORM = 'strictly increasing percentages above 0 and at most 100, separated by commas, e.g. 1,5,25,100';

export function parseSteps(raw: string, input = 'steps'): number[] {
  const items = raw
    .split(',')
    .map((s) => s.trim().replace(/%$/, ''))
    .filter((s) => s !== '');
  if (items.length === 0) throw new ConfigurationError(input, raw, STEPS_FORM);
  const steps = items.map((item) => {
    const value = /^\d+(\.\d+)?$/.test(item) ? Number(item) : Number.NaN;
    if (!(value > 0 && value <= 100))
      throw new ConfigurationError(input, raw, STEPS_FORM, `${item} is not a percentage in (0, 100]`);
    return value;
  });
  steps.forEach((s, i) => {
    if (i > 0 && s <= steps[i - 1]!)
      throw new ConfigurationError(input, raw, STEPS_FORM, `${s} does not follow ${steps[i - 1]}`);
  });
  return steps;
}

/** A number strictly between `min` and `max` (alpha), or at least `min` (tolerance). */
export function parseNumber(
  input: string,
  raw: string,
  range: { above?: number; atLeast?: number; below?: number },
  expected: string,
): number {
  const value = /^\d+(\.\d+)?([eE][-+]?\d+)?$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  const ok =
    Number.isFinite(value) &&
    (range.above === undefined || value > range.above) &&
    (range.atLeast === undefined || value >= range.atLeast) &&
    (range.below === undefined || value < range.below);
  if (!ok) throw new ConfigurationError(input, raw, expected);
  return value;
}

// RFC 3339 with an explicit offset: a time without one would be read in the runner's zone.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const SINCE_FORM =
  'an RFC 3339 time with an offset (2026-03-01T10:00:00Z) or the path of a promotion record (promotion.json)';

/**
 * When the canary started. A promotion record gives the time its promotion finished: the record holds the
 * commit's id but not its time, and the commit is written at the end of the run (for a pull request, the merge
 * comes later still, so `since` may be early: the counts then include baseline-only time, which carries no
 * comparison and costs nothing but the SRM and grace clocks). It also says which digest the canary is: the
 * promoted service's (`service`, or the record's only one), which canary.json names so that evidence can tell
 * whose canary it is.
 */
export async function readSince(
  raw: string,
  workspace: string,
  service?: string,
): Promise<{ at: Date; subject?: { name: string; digest: string }; landing?: PromotionLanding }> {
  const given = raw.trim();
  if (/^\d{4}-\d{2}-\d{2}/.test(given)) {
    const at = RFC3339.test(given) ? new Date(given) : new Date(Number.NaN);
    if (Number.isNaN(at.getTime())) throw new ConfigurationError('since', raw, SINCE_FORM);
    return { at };
  }
  const record = await readPromotionRecord(userFile('since', given, workspace, SINCE_FORM));
  const at = new Date(record.timestamps.finished);
  if (Number.isNaN(at.getTime())) {
    throw new ConfigurationError(
      'since',
      raw,
      SINCE_FORM,
      `its timestamps.finished ${record.timestamps.finished} is no time`,
    );
  }
  const promoted =
    record.services.find((s) => s.service === service) ??
    (record.services.length === 1 ? record.services[0] : undefined);
  if (!promoted) return { at };
  return {
    at,
    subject: { name: promoted.image, digest: promoted.next.digest },
    landing: {
      ...(record.commit ? { commit: record.commit } : {}),
      digest: promoted.next.digest,
      files: promoted.targets.map((t) => t.file),
    },
  };
}

/** Label matchers from an input; a format error names the input. */
export function matchersInput(input: string, raw: string): LabelMatcher[] {
  try {
    return parseMatchers(raw, `${input} label matchers`);
  } catch (error) {
    if (error instanceof InvalidValueError) throw ConfigurationError.fromInvalidValue(input, error);
    throw error;
  }
}

/**
 * The GitOps service (promote's service name): `gitops-service` when given, else the value of the `service`
 * input's single `=` matcher (`app="api"` → api).
 */
export function gitopsServiceName(service: readonly LabelMatcher[], given: string | undefined): string | undefined {
  if (given?.trim()) return given.trim();
  const equal = service.filter((m) => m.op === '=');
  return equal.length === 1 ? equal[0]!.value : undefined;
}

/** Custom headers, one `Name: value` per line. Secret: errors never show the value. */
export function parseHeaders(raw: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (!raw) return headers;
  for (const [index, line] of raw.split(/\r?\n/).entries()) {
    if (line.trim() === '') continue;
    const match = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*:\s*(.*?)\s*$/.exec(line);
    if (!match) {
      throw new ConfigurationError(
        'prometheus-headers',
        undefined,
        'one HTTP header per line, as Name: value (e.g. X-Scope-OrgID: tenant-1)',
        `line ${index + 1} is not a header`,
      );
    }
    headers[match[1]!] = match[2]!;
  }
  return headers;
}

/** Bearer token, or basic auth (both parts), or none; never both kinds. */
export function prometheusAuth(options: { token?: string; username?: string; password?: string }): PrometheusAuth {
  const { token, username, password } = options;
  if ((username === undefined) !== (password === undefined)) {
    throw new ConfigurationError(
      username === undefined ? 'prometheus-username' : 'prometheus-password',
      username === undefined ? '' : undefined,
      'prometheus-username and prometheus-password together',
      'only one of them was given',
    );
  }
  if (token !== undefined && username !== undefined) {
    throw new ConfigurationError(
      'prometheus-token',
      undefined,
      'either prometheus-token (bearer) or prometheus-username and prometheus-password (basic), not both',
    );
  }
  if (token !== undefined) return { kind: 'bearer', token };
  if (username !== undefined && password !== undefined) return { kind: 'basic', username, password };
  return { kind: 'none' };
}

export interface ExposureChoice {
  gitopsRepo?: string;
  environment?: string;
  exposure?: string;
  exposureFile?: string;
  gitopsService?: string;
  simulate?: string;
  prometheusUrl?: string;
}

/**
 * Cross-input rules: Prometheus or the simulator; with a GitOps repository, everything its exposure edits need;
 * the simulator runs on a simulated clock, so it never writes commits whose times would be real.
 */
export function checkCanaryChoice(c: ExposureChoice): void {
  if (c.simulate === undefined && !c.prometheusUrl) {
    throw new ConfigurationError(
      'prometheus-url',
      '',
      'the Prometheus base URL, e.g. http://prometheus:9090 (or simulate, to run the simulator)',
    );
  }
  if (c.simulate !== undefined && c.gitopsRepo) {
    throw new ConfigurationError(
      'gitops-repo',
      c.gitopsRepo,
      'no gitops-repo with simulate',
      'the simulator runs on a simulated clock and keeps exposure in memory',
    );
  }
  if (!c.gitopsRepo) return;
  const missing: [string, string | undefined, string][] = [
    ['environment', c.environment, 'the GitOps environment, as .slipway.yaml names it'],
    ['exposure', c.exposure, 'rollout, flagd, or a dotted YAML path to the weight'],
    ['exposure-file', c.exposureFile, 'the path of the file in the GitOps repository that holds the canary weight'],
    [
      'gitops-service',
      c.gitopsService,
      'the service as .slipway.yaml names it (by default the value of a single = matcher in service)',
    ],
  ];
  for (const [input, value, expected] of missing) {
    if (!value) throw new ConfigurationError(input, '', expected, 'gitops-repo is set, and exposure edits need it');
  }
}
