import { markdownCode, markdownLink, markdownTableOf, markdownText, WORD_JOINER } from '../core/markdown.js';
import type {
  EvidenceItem,
  EvidenceResult,
  Provenance,
  RequirementResult,
  TestCaseFailure,
  TestEvidence,
  TestSuiteEvidence,
} from './types.js';

// The stage tables of the evidence markdown: source, build, tests, SBOM and vulnerabilities, signatures and
// verification, promotions and deployments, canary, decision. Each stage is a table of items (state, item, what it
// says, where it came from) followed by its folded details. Every string of the record is input here: it reaches the
// markdown only through text(), code() or link(), never as it is, and never inside a raw HTML block (the `<summary>`
// lines hold our own words and numbers only). How much is shown is the caller's `Detail`, so render.ts can drop the
// least important parts to fit a size limit.

/** How much to show; render.ts lowers it step by step until the markdown fits. */
export interface Detail {
  /** Rows of suites without a failure or error in the per-suite table. */
  passedSuites: boolean;
  /** Folded details other than the tests': reviews, SBOM files, exceptions, attestations, formats, metrics. */
  folded: boolean;
  /** The per-suite table at all. */
  suites: boolean;
  /** How many failed tests are named (the rest counted). */
  failures: number;
  /** The stage tables at all (else the status line, the requirements and the exceptions only). */
  stages: boolean;
}

export const FULL_DETAIL: Detail = { passedSuites: true, folded: true, suites: true, failures: Infinity, stages: true };

/** What the stage renderers share: the hosts links may point at, and which items are required. */
export interface StageContext {
  origins: readonly string[];
  required: ReadonlySet<ItemKey>;
}

export type ItemKey =
  | 'pullRequest'
  | 'run'
  | 'build'
  | 'tests'
  | 'sbom'
  | 'vulnerabilities'
  | 'signatures'
  | 'verification'
  | 'promotions'
  | 'deployments'
  | 'canary'
  | 'decision';

/** The item a requirement (`require-evidence:` name) is about, for its state icon. */
export const REQUIREMENT_ITEMS: Readonly<Record<string, readonly ItemKey[]>> = {
  build: ['build'],
  'approved-pr': ['pullRequest'],
  'tests-passed': ['tests'],
  sbom: ['sbom'],
  'vulnerability-gate': ['vulnerabilities'],
  signature: ['signatures', 'verification'],
  verification: ['verification'],
  canary: ['canary'],
  provenance: ['signatures'],
};

// Cut lengths for one cell: a reader needs the start of a title or message; the record keeps all of it.
const MAX_TITLE = 200;
const MAX_NAME = 200;
const MAX_MESSAGE = 300;

export const ICON = { present: '✅', failed: '❌', missing: '⚠️', optional: '➖' } as const;

/** Input text, cut to `max` characters (never inside a surrogate pair), then escaped. */
export function text(value: unknown, max = MAX_MESSAGE): string {
  return markdownText(clip(String(value ?? ''), max));
}

export function code(value: unknown, max = MAX_NAME): string {
  const s = clip(String(value ?? ''), max);
  return s === '' ? '—' : markdownCode(s);
}

function clip(value: string, max: number): string {
  const chars = Array.from(value);
  return chars.length <= max ? value : `${chars.slice(0, max - 1).join('')}…`;
}

const NUMBER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 3 });

/** A number from the record; anything else (a hostile record) as text. */
function num(value: unknown): string {
  return typeof value === 'number' && Number.isFinite(value) ? NUMBER.format(value) : text(value, 40);
}

/** `2025-06-01 12:00 UTC` for a valid timestamp; anything else as text. */
export function when(value: unknown): string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(value)) return text(value, 60);
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return text(value, 60);
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A commit: 12 characters when it is a hex SHA. */
export function commit(value: unknown): string {
  return typeof value === 'string' && /^[0-9a-f]{40,64}$/.test(value) ? code(value.slice(0, 12)) : code(value);
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${num(n)} ${n === 1 ? one : many}`;
}

const PROVENANCE_KIND: Readonly<Record<string, string>> = {
  record: 'record',
  'test-report': 'JUnit',
  'github-api': 'GitHub API',
  input: 'input',
  event: 'event',
  attestation: 'attestation',
};

/** Where an item came from, short: the first two sources (one label per kind), then how many more. */
function provenance(from: readonly Provenance[]): string {
  if (from.length === 0) return '—';
  const shown: string[] = [];
  let kind: string | undefined;
  for (const p of from.slice(0, 2)) {
    const label = p.kind === kind ? '' : `${PROVENANCE_KIND[p.kind] ?? text(p.kind, 40)} `;
    shown.push(`${label}${code(p.location)}`);
    kind = p.kind;
  }
  return from.length > 2 ? `${shown.join(', ')} and ${num(from.length - 2)} more` : shown.join(', ');
}

/** An identifier number (a deployment id), without grouping. */
function id(value: unknown): string {
  return typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : text(value, 40);
}

/**
 * `#42` linked to its URL; unlinked (a URL elsewhere) the `#` is kept from becoming a reference to whatever issue of
 * the repository the comment lands in carries that number.
 */
function numberLink(prefix: string, n: unknown, url: string | undefined, ctx: StageContext): string {
  const linked = markdownLink(`${prefix}${id(n)}`, url, ctx.origins);
  return linked.startsWith('[') ? linked : `${prefix}${WORD_JOINER}${id(n)}`;
}

type Row = [icon: string, item: string, detail: string, from: string];

/** One item's row: its state icon, what it says (or `missing` with the reason) and where it came from. */
function itemRow<T>(
  ctx: StageContext,
  key: ItemKey,
  label: string,
  item: EvidenceItem<T>,
  describe: (value: T) => string,
): Row {
  if (item.state === 'missing') {
    return [ctx.required.has(key) ? ICON.missing : ICON.optional, label, `missing: ${text(item.reason)}`, '—'];
  }
  const reason = item.reason ? ` (${text(item.reason)})` : '';
  return [ICON[item.state], label, `${describe(item.value)}${reason}`, provenance(item.from)];
}

const STAGE_HEADER = [' ', 'item', 'detail', 'from'];

/** A folded section: our own words in `<summary>`, input only in the markdown between blank lines. */
function folded(summary: string, body: string): string {
  return `<details><summary>${summary}</summary>\n\n${body}\n\n</details>`;
}

function stage(title: string, rows: Row[], ...details: (string | undefined)[]): string {
  const parts = [`#### ${title}`, markdownTableOf(STAGE_HEADER, rows)];
  for (const d of details) if (d) parts.push(d);
  return parts.join('\n\n');
}

function present<T>(item: EvidenceItem<T>): T | undefined {
  return item.state === 'missing' ? undefined : item.value;
}

// ---- the stages ----

function sourceStage(r: EvidenceResult, ctx: StageContext, d: Detail): string {
  const pr = present(r.pullRequest);
  const rows: Row[] = [
    itemRow(ctx, 'pullRequest', 'pull request', r.pullRequest, (p) => {
      const head = `${numberLink('#', p.number, p.url, ctx)} “${text(p.title, MAX_TITLE)}” by ${text(p.author, 60)}`;
      const refs = `${code(p.headRef)} → ${code(p.baseRef)}`;
      const merged = p.mergedAt
        ? `, merged ${when(p.mergedAt)}${p.mergedBy ? ` by ${text(p.mergedBy, 60)}` : ''}`
        : ', not merged';
      const approvals =
        p.approvers.length > 0
          ? `approved by ${p.approvers.map((a) => text(a, 60)).join(', ')}`
          : 'no approval from a reviewer other than the author';
      return `${head}, ${refs}${merged}; ${approvals}`;
    }),
    itemRow(ctx, 'run', 'run', r.run, (run) => {
      const label = `run ${text(run.runId, 40)}, attempt ${num(run.attempt)}`;
      const parts = [markdownLink(label, run.url, ctx.origins)];
      if (run.workflow) parts.push(`workflow ${code(run.workflow)}`);
      if (run.event) parts.push(`on ${code(run.event)}`);
      if (run.actor) parts.push(`by ${text(run.actor, 60)}`);
      if (run.commit) parts.push(`at ${commit(run.commit)}`);
      return parts.join(', ');
    }),
  ];
  const reviews =
    d.folded && pr && pr.reviews.length > 0
      ? folded(
          `Reviews (${pr.reviews.length})`,
          markdownTableOf(
            ['reviewer', 'latest decision', 'at', 'commit'],
            pr.reviews.map((v) => [
              text(v.login, 60),
              code(v.state),
              when(v.submittedAt),
              v.commit ? commit(v.commit) : '—',
            ]),
          ),
        )
      : undefined;
  return stage('Source', rows, reviews);
}

function buildStage(r: EvidenceResult, ctx: StageContext): string {
  return stage('Build', [
    itemRow(ctx, 'build', 'image', r.build, (b) => {
      const parts = [code(`${b.image}@${b.digest}`, 400)];
      if (b.tags.length > 0) parts.push(`tags ${b.tags.map((t) => code(t)).join(', ')}`);
      if (b.platforms.length > 0) parts.push(`platforms ${b.platforms.map((p) => code(p)).join(', ')}`);
      if (b.source?.commit)
        parts.push(`from ${b.source.repository ? `${code(b.source.repository)} ` : ''}at ${commit(b.source.commit)}`);
      return parts.join('; ');
    }),
  ]);
}

function testsSummary(t: TestEvidence): string {
  return (
    `${plural(t.total, 'test')}: ${num(t.passed)} passed, ${num(t.failed)} failed, ${num(t.errored)} errored, ` +
    `${num(t.skipped)} skipped, in ${plural(t.suites.length, 'suite')}`
  );
}

export function suiteFailed(s: TestSuiteEvidence): boolean {
  return s.failures > 0 || s.errors > 0;
}

function testsStage(r: EvidenceResult, ctx: StageContext, d: Detail): string {
  const t = present(r.tests);
  const rows = [itemRow(ctx, 'tests', 'test results', r.tests, testsSummary)];
  if (!t) return stage('Tests', rows);
  let failures: string | undefined;
  if (t.failures.length > 0) {
    const shown = t.failures.slice(0, d.failures);
    const hidden = t.failures.length - shown.length;
    const table = [markdownTableOf(FAILURE_HEADER, []), ...shown.map(failureRow)].join('\n');
    const more =
      hidden > 0 ? `\n\n… and ${plural(hidden, 'more failed test')}, left out to stay within the size limit.` : '';
    failures = folded(`Failed tests (${num(t.failures.length)})`, `${shown.length > 0 ? table : ''}${more}`.trim());
  }
  let suites: string | undefined;
  if (d.suites && t.suites.length > 0) {
    const shown = d.passedSuites ? t.suites : t.suites.filter(suiteFailed);
    const hidden = t.suites.length - shown.length;
    const table = markdownTableOf(
      [' ', 'suite', 'file', 'tests', 'passed', 'failed', 'errored', 'skipped', 'time'],
      shown.map((s) => [
        suiteFailed(s) ? ICON.failed : ICON.present,
        code(s.name),
        code(s.file),
        num(s.tests),
        num(s.passed),
        num(s.failures),
        num(s.errors),
        num(s.skipped),
        s.timeSeconds === undefined ? '—' : `${num(s.timeSeconds)} s`,
      ]),
    );
    const more = hidden > 0 ? `\n\n${plural(hidden, 'suite')} that passed left out to stay within the size limit.` : '';
    suites = folded(`Suites (${num(t.suites.length)})`, `${shown.length > 0 ? table : ''}${more}`.trim());
  }
  return stage('Tests', rows, failures, suites);
}

const FAILURE_HEADER = ['suite', 'test', 'kind', 'message'];
// A record with thousands of failures is rendered several times while render.ts looks for what fits: each row is
// escaped once.
const failureRows = new WeakMap<TestCaseFailure, string>();

/** One failed test's table row, as a line. */
export function failureRow(f: TestCaseFailure): string {
  let row = failureRows.get(f);
  if (row === undefined) {
    const name = f.classname && !f.name.startsWith(f.classname) ? `${f.classname}.${f.name}` : f.name;
    const cells = [
      code(f.suite),
      code(name),
      f.kind === 'error' ? 'error' : 'failure',
      f.message ? text(f.message) : '—',
    ];
    row = `| ${cells.join(' | ')} |`;
    failureRows.set(f, row);
  }
  return row;
}

function sbomStage(r: EvidenceResult, ctx: StageContext, d: Detail): string {
  const rows = [
    itemRow(ctx, 'sbom', 'SBOM', r.sbom, (s) => {
      const formats = [...new Set(s.files.map((f) => f.format))].map((f) => code(f)).join(', ');
      const files = `${plural(s.files.length, 'file')}${formats ? ` (${formats})` : ''}`;
      return s.attached.length > 0
        ? `${files}, attached to the image as ${plural(s.attached.length, 'attestation')}`
        : `${files}, not attached to the image`;
    }),
    itemRow(ctx, 'vulnerabilities', 'vulnerability gate', r.vulnerabilities, (v) => {
      const counts = Object.entries(v.counts)
        .map(([severity, n]) => `${text(severity, 40)} ${num(n)}`)
        .join(', ');
      const exceptions = v.exceptions.length > 0 ? `; ${plural(v.exceptions.length, 'exception')}` : '';
      return `${code(v.verdict)}${v.failOn ? ` (fail on ${code(v.failOn)})` : ''}${counts ? `: ${counts}` : ': no findings'}${exceptions}`;
    }),
  ];
  const sbom = present(r.sbom);
  const vulns = present(r.vulnerabilities);
  const files =
    d.folded && sbom && sbom.files.length + sbom.attached.length > 0
      ? folded(
          `SBOM files (${sbom.files.length}) and where they are attached (${sbom.attached.length})`,
          [
            sbom.files.length > 0
              ? markdownTableOf(
                  ['format', 'platform', 'file', 'sha256'],
                  sbom.files.map((f) => [
                    code(f.format),
                    code(f.platform ?? ''),
                    code(f.path),
                    f.sha256 ? code(f.sha256.slice(0, 12)) : '—',
                  ]),
                )
              : '',
            sbom.attached.length > 0
              ? markdownTableOf(
                  ['platform', 'manifest', 'predicate type', 'stored at'],
                  sbom.attached.map((a) => [
                    code(a.platform ?? ''),
                    a.manifestDigest ? code(a.manifestDigest) : '—',
                    code(a.predicateType),
                    code(a.location, 400),
                  ]),
                )
              : '',
          ]
            .filter(Boolean)
            .join('\n\n'),
        )
      : undefined;
  const exceptions =
    d.folded && vulns && vulns.exceptions.length > 0
      ? folded(
          `Vulnerability exceptions (${vulns.exceptions.length})`,
          markdownTableOf(
            ['id', 'reason', 'expires'],
            vulns.exceptions.map((e) => [code(e.id), text(e.reason), when(e.expires)]),
          ),
        )
      : undefined;
  return stage('SBOM and vulnerabilities', rows, files, exceptions);
}

function signatureStage(r: EvidenceResult, ctx: StageContext, d: Detail): string {
  const rows = [
    itemRow(ctx, 'signatures', 'signatures', r.signatures, (s) => {
      const types = [...new Set(s.attestations.map((a) => a.predicateType))].map((t) => code(t)).join(', ');
      return `signed by ${code(s.signer, 400)}: ${plural(s.attestations.length, 'attestation')}${types ? ` (${types})` : ''}`;
    }),
    itemRow(ctx, 'verification', 'verification', r.verification, (v) => {
      const formats = v.formats
        .map((f) => `${code(f.format)} ${f.verified ? 'verified' : '**not verified**'}`)
        .join(', ');
      const reasons =
        v.reasons.length > 0
          ? `: ${v.reasons
              .slice(0, 3)
              .map((x) => text(x))
              .join('; ')}`
          : '';
      return `${v.verified ? 'verified' : '**not verified**'}${formats ? ` (${formats})` : ''}${reasons}`;
    }),
  ];
  const sig = present(r.signatures);
  const ver = present(r.verification);
  const attestations =
    d.folded && sig && sig.attestations.length > 0
      ? folded(
          `Attestations (${sig.attestations.length})`,
          markdownTableOf(
            ['predicate type', 'bundle', 'stored in', 'reused'],
            sig.attestations.map((a) => [
              code(a.predicateType),
              a.bundleDigest ? code(a.bundleDigest) : '—',
              a.stored.length > 0 ? a.stored.map((s) => code(s, 400)).join(', ') : '—',
              a.reused ? 'yes' : 'no',
            ]),
          ),
        )
      : undefined;
  const policy = ver
    ? (['issuer', 'repository', 'workflow', 'san'] as const)
        .filter((k) => ver.policy[k])
        .map((k) => [k, code(ver.policy[k], 400)])
    : [];
  const checks =
    d.folded && ver && ver.formats.length + policy.length > 0
      ? folded(
          `Verification per format (${ver.formats.length}) and policy`,
          [
            ver.formats.length > 0
              ? markdownTableOf(
                  ['format', 'result', 'detail'],
                  ver.formats.map((f) => [
                    code(f.format),
                    f.verified ? `${ICON.present} verified` : `${ICON.failed} not verified`,
                    f.detail ? text(f.detail) : '—',
                  ]),
                )
              : '',
            policy.length > 0 ? markdownTableOf(['policy', 'expected'], policy) : '',
          ]
            .filter(Boolean)
            .join('\n\n'),
        )
      : undefined;
  return stage('Signatures and verification', rows, attestations, checks);
}

function promotionStage(r: EvidenceResult, ctx: StageContext): string {
  const rows: Row[] = [];
  if (r.promotions.state === 'missing' || r.promotions.value.length === 0) {
    rows.push(itemRow(ctx, 'promotions', 'promotions', r.promotions, () => 'none'));
  } else {
    // One record per promotion, in order, as the collector reads them: each row names its own file.
    const sources = r.promotions.from;
    const paired = sources.length === r.promotions.value.length;
    for (const [i, p] of r.promotions.value.entries()) {
      const from = provenance(paired ? sources.slice(i, i + 1) : sources);
      const parts = [`${code(p.outcome)}${p.rollback ? ' (rollback)' : ''}`];
      if (p.pullRequest) parts.push(numberLink('pull request #', p.pullRequest.number, p.pullRequest.url, ctx));
      if (p.commit) parts.push(`commit ${commit(p.commit)}`);
      if (p.at) parts.push(when(p.at));
      if (p.refusal) parts.push(`refused: ${text(p.refusal)}`);
      rows.push([
        p.outcome === 'refused' ? ICON.failed : ICON.present,
        `promotion to ${code(p.environment, 60)}`,
        parts.join(', '),
        from,
      ]);
    }
  }
  if (r.deployments.state === 'missing' || r.deployments.value.length === 0) {
    rows.push(itemRow(ctx, 'deployments', 'deployments', r.deployments, () => 'none'));
  } else {
    const sources = r.deployments.from;
    const paired = sources.length === r.deployments.value.length;
    for (const [i, dep] of r.deployments.value.entries()) {
      const from = provenance(paired ? sources.slice(i, i + 1) : sources);
      const label = dep.id === undefined ? code(dep.state) : `${code(dep.state)} (deployment ${id(dep.id)})`;
      rows.push([
        dep.state === 'failure' || dep.state === 'error' ? ICON.failed : ICON.present,
        `deployment to ${code(dep.environment, 60)}`,
        `${markdownLink(label, dep.url, ctx.origins)}, ${when(dep.at)}`,
        from,
      ]);
    }
  }
  return stage('Promotions and deployments', rows);
}

function canaryStage(r: EvidenceResult, ctx: StageContext, d: Detail): string {
  const rows = [
    itemRow(ctx, 'canary', 'canary', r.canary, (c) => {
      const where = [
        c.environment ? `in ${code(c.environment, 60)}` : '',
        c.step !== undefined ? `at step ${num(c.step)}` : '',
        c.weight !== undefined ? `weight ${num(c.weight)}%` : '',
      ].filter(Boolean);
      const traffic = [
        c.canaryRequests !== undefined ? `${num(c.canaryRequests)} canary requests` : '',
        c.excessErrors !== undefined ? `${num(c.excessErrors)} excess errors` : '',
      ].filter(Boolean);
      const reasons =
        c.reasons.length > 0
          ? `: ${c.reasons
              .slice(0, 3)
              .map((x) => text(x))
              .join('; ')}`
          : '';
      return `${code(c.decision)}${where.length > 0 ? ` ${where.join(', ')}` : ''}${reasons}${traffic.length > 0 ? ` (${traffic.join(', ')})` : ''}`;
    }),
  ];
  const canary = present(r.canary);
  const metrics =
    d.folded && canary && canary.metrics.length > 0
      ? folded(
          `Canary metrics (${canary.metrics.length})`,
          markdownTableOf(
            ['metric', 'observed ratio', 'lower bound', 'upper bound'],
            canary.metrics.map((m) => [code(m.name), num(m.observedRatio), num(m.lower), num(m.upper)]),
          ),
        )
      : undefined;
  return stage('Canary', rows, metrics);
}

function decisionStage(r: EvidenceResult, ctx: StageContext): string {
  return stage('Decision', [
    itemRow(
      ctx,
      'decision',
      'decision',
      r.decision,
      (h) => `${code(h.kind)} by ${text(h.by, 60)}, ${when(h.at)}: ${text(h.reason)}`,
    ),
  ]);
}

/** Every stage table, in the order a release goes. */
export function renderStages(r: EvidenceResult, ctx: StageContext, d: Detail): string {
  return [
    sourceStage(r, ctx, d),
    buildStage(r, ctx),
    testsStage(r, ctx, d),
    sbomStage(r, ctx, d),
    signatureStage(r, ctx, d),
    promotionStage(r, ctx),
    canaryStage(r, ctx, d),
    decisionStage(r, ctx),
  ].join('\n\n');
}

/** The folded sections `d.folded` covers that this record has, named for the truncation note. */
export function foldedSections(r: EvidenceResult): string[] {
  const names: string[] = [];
  const pr = present(r.pullRequest);
  if (pr && pr.reviews.length > 0) names.push('reviews');
  const sbom = present(r.sbom);
  if (sbom && sbom.files.length + sbom.attached.length > 0) names.push('SBOM files');
  const vulns = present(r.vulnerabilities);
  if (vulns && vulns.exceptions.length > 0) names.push('vulnerability exceptions');
  const sig = present(r.signatures);
  if (sig && sig.attestations.length > 0) names.push('attestations');
  const ver = present(r.verification);
  if (ver && (ver.formats.length > 0 || Object.values(ver.policy).some(Boolean))) names.push('verification formats');
  const canary = present(r.canary);
  if (canary && canary.metrics.length > 0) names.push('canary metrics');
  return names;
}

/** The requirements table: each requirement, met or not, and why. */
export function renderRequirements(r: EvidenceResult): string | undefined {
  if (r.requirements.length === 0) return undefined;
  return markdownTableOf(
    [' ', 'requirement', 'detail'],
    r.requirements.map((q) => [requirementIcon(r, q), code(q.requirement, 60), requirementDetail(q)]),
  );
}

function requirementIcon(r: EvidenceResult, q: RequirementResult): string {
  if (q.met) return ICON.present;
  const items = REQUIREMENT_ITEMS[q.requirement] ?? [];
  return items.some((k) => r[k].state === 'failed') ? ICON.failed : ICON.missing;
}

function requirementDetail(q: RequirementResult): string {
  const detail = text(q.detail);
  if (!q.exception) return detail;
  const e = q.exception;
  return `${detail}; excepted by ${text(e.by, 60)} until ${when(e.until)}: ${text(e.reason)}`;
}

/** Audited exceptions, never folded and never dropped: allowing a release without an item is not a detail. */
export function renderExceptions(r: EvidenceResult): string | undefined {
  if (r.exceptions.length === 0) return undefined;
  return [
    `**Exceptions** (${r.exceptions.length})`,
    markdownTableOf(
      ['requirement', 'allowed by', 'until', 'reason'],
      r.exceptions.map((e) => [code(e.requirement, 60), text(e.by, 60), when(e.until), text(e.reason)]),
    ),
  ].join('\n\n');
}
