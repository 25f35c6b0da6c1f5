import { InvalidValueError } from '../core/errors.js';
import { safeHref } from '../core/markdown.js';
import {
  code as codeOf,
  commit as commitOf,
  type Detail,
  FULL_DETAIL,
  failureRow,
  foldedSections,
  ICON,
  type ItemKey,
  REQUIREMENT_ITEMS,
  renderExceptions,
  renderRequirements,
  renderStages,
  type StageContext,
  suiteFailed,
  text,
  when as whenOf,
} from './render-stages.js';
import type { EvidenceResult } from './types.js';

// The evidence record as markdown, for the sticky PR comment and the job summary: the hidden marker, one status line,
// the requirements, then a table per stage with details folded (render-stages.ts). It stays within a size limit by
// dropping the least important parts first (passed suites' rows, then folded details, then the per-suite table, then
// failed tests past as many as fit, then the stage tables), and says what it dropped with a link to the full record.
// Parts are dropped whole, so no HTML tag or table row is ever cut.

/**
 * GitHub refuses a comment body over 65,536 characters (422 "Body is too long"). Ruby counts code points; a JS
 * string's length counts UTF-16 code units, never fewer, so measuring that stays within the limit either way.
 */
export const COMMENT_LIMIT = { limit: 65_536, measure: 'utf16' } as const;
/**
 * The runner drops a step summary over 1 MiB (`AttachmentSizeLimit = 1024*1024`, the file's length in bytes, with
 * only an annotation): bytes of UTF-8, which count at least as many as UTF-16 code units.
 */
export const SUMMARY_LIMIT = { limit: 1_048_576, measure: 'utf8' } as const;

export interface RenderOptions {
  /** The most the markdown may measure: COMMENT_LIMIT.limit or SUMMARY_LIMIT.limit. */
  limit: number;
  /** How the limit counts: UTF-16 code units (a comment, the default) or UTF-8 bytes (the job summary). */
  measure?: 'utf16' | 'utf8';
  /** Where the full record is (the run's artifact): linked from the truncation note and the footer. */
  recordUrl?: string;
  /** The marker's key (the environment, or `release`), or the whole marker line from evidenceMarker(). */
  marker: string;
  /** The heading's words; `Release evidence` when not given. */
  title?: string;
  /** The GitHub server's URL (GITHUB_SERVER_URL): links from the record go only there; elsewhere they are text. */
  serverUrl?: string;
}

export interface RenderedEvidence {
  markdown: string;
  truncated: boolean;
  /** What was left out to fit, in the words of the truncation note. */
  dropped: string[];
}

const MARKER_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$/;
const MARKER_LINE = /^<!-- slipway:evidence:([^\s>]*) -->$/;

/**
 * The one part of a rendering that changes on every run even when the evidence does not: when it was recorded.
 * It sits between these two hidden comments, so a publisher can compare two renderings without it
 * (withoutRecordedTime) and leave a comment alone when a re-run found the same evidence. Input never produces
 * `<!--`: every string from input is HTML-escaped.
 */
const RECORDED_OPEN = '<!-- slipway:recorded -->';
const RECORDED_CLOSE = '<!-- /slipway:recorded -->';

/** A rendering with the time it was recorded left out, for comparing two renderings of the same evidence. */
export function withoutRecordedTime(markdown: string): string {
  return markdown.replace(/<!-- slipway:recorded -->[^<]*<!-- \/slipway:recorded -->/g, '');
}

/** `<!-- slipway:evidence:<key> -->`: how the sticky comment finds its own body again. */
export function evidenceMarker(key: string): string {
  if (!MARKER_KEY.test(key) || key.includes('--')) {
    throw new InvalidValueError(
      'evidence marker key',
      key,
      'an environment name or "release": letters, digits, ".", "_", "/", "-" (no "--"), at most 100 characters',
    );
  }
  return `<!-- slipway:evidence:${key} -->`;
}

function markerLine(marker: string): string {
  const whole = MARKER_LINE.exec(marker);
  return evidenceMarker(whole ? (whole[1] ?? '') : marker);
}

export function renderEvidence(result: EvidenceResult, options: RenderOptions): RenderedEvidence {
  const measure = options.measure === 'utf8' ? utf8Length : utf16Length;
  const page = new Page(result, options);
  const fits = (d: Detail) => measure(page.render(d)) <= options.limit;
  const done = (d: Detail): RenderedEvidence => {
    const dropped = page.dropped(d);
    return { markdown: page.render(d), truncated: dropped.length > 0, dropped };
  };

  let detail = FULL_DETAIL;
  if (fits(detail)) return done(detail);
  // Least important first; a step that changes nothing for this record is skipped, so the note names only real cuts.
  for (const step of [{ passedSuites: false }, { folded: false }, { suites: false }] satisfies Partial<Detail>[]) {
    detail = { ...detail, ...step };
    if (fits(detail)) return done(detail);
  }
  const failures = result.tests.state === 'missing' ? [] : result.tests.value.failures;
  if (failures.length > 0 && fits({ ...detail, failures: 0 })) {
    // The most failed tests that fit: the markdown grows with each one named, by at least its row, so no more rows
    // than fit on their own are tried (ten thousand failures need not be rendered to learn that they do not fit).
    let low = 0;
    let high = 0;
    for (let room = options.limit; high < failures.length; high++) {
      room -= measure(failureRow(failures[high]!)) + 1;
      if (room < 0) break;
    }
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if (fits({ ...detail, failures: mid })) low = mid;
      else high = mid - 1;
    }
    return done({ ...detail, failures: low });
  }
  detail = { ...detail, failures: 0, stages: false };
  if (fits(detail)) return done(detail);
  throw new InvalidValueError(
    'evidence markdown limit',
    String(options.limit),
    `room for at least the status line, the requirements and the exceptions (${measure(page.render(detail))} here)`,
  );
}

function utf16Length(s: string): number {
  return s.length;
}

function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

const MAX_NAMED_MISSING = 10;

/** One record's markdown at any level of detail. */
class Page {
  private readonly ctx: StageContext;
  private readonly marker: string;
  private readonly recordHref: string | undefined;

  constructor(
    private readonly r: EvidenceResult,
    private readonly options: RenderOptions,
  ) {
    this.marker = markerLine(options.marker);
    const server = safeOrigin(options.serverUrl) ?? 'https://github.com';
    const record = safeOrigin(options.recordUrl);
    const origins = record && record !== server ? [server, record] : [server];
    this.recordHref = safeHref(options.recordUrl, origins);
    this.ctx = { origins, required: requiredItems(r) };
  }

  render(d: Detail): string {
    const dropped = this.dropped(d);
    const parts = [`${this.marker}\n${this.statusLine()}`, this.subjectLine()];
    if (dropped.length > 0) parts.push(this.truncationNote(dropped));
    const requirements = renderRequirements(this.r);
    if (requirements) parts.push(requirements);
    const exceptions = renderExceptions(this.r);
    if (exceptions) parts.push(exceptions);
    if (d.stages) parts.push(renderStages(this.r, this.ctx, d));
    parts.push(this.footer());
    return `${parts.join('\n\n')}\n`;
  }

  /** What `d` leaves out of this record, in words; empty when nothing is. */
  dropped(d: Detail): string[] {
    const out: string[] = [];
    const tests = this.r.tests.state === 'missing' ? undefined : this.r.tests.value;
    const suites = tests?.suites ?? [];
    const failures = tests?.failures.length ?? 0;
    if (!d.stages) out.push('the stage tables');
    if (d.stages && !d.suites && suites.length > 0) out.push(`the per-suite table (${count(suites.length, 'suite')})`);
    if (d.stages && d.suites && !d.passedSuites) {
      const passed = suites.filter((s) => !suiteFailed(s)).length;
      if (passed > 0) out.push(`the rows of ${count(passed, 'suite')} that passed`);
    }
    if (d.stages && !d.folded) {
      const sections = foldedSections(this.r);
      if (sections.length > 0) out.push(`folded details (${sections.join(', ')})`);
    }
    if (d.stages && d.failures < failures) {
      out.push(
        `${count(failures - d.failures, 'failed test')} of ${failures.toLocaleString('en-US')} (the first ${d.failures.toLocaleString('en-US')} are named)`,
      );
    }
    if (!d.stages && failures > 0) out.push(`the names of ${count(failures, 'failed test')}`);
    return out;
  }

  private statusLine(): string {
    const title = text(this.options.title ?? 'Release evidence', 100);
    const env = this.r.environment ? ` for ${text(this.r.environment, 60)}` : '';
    const named = this.r.missing.slice(0, MAX_NAMED_MISSING).map((m) => text(m, 60));
    if (this.r.missing.length > MAX_NAMED_MISSING) named.push(`${this.r.missing.length - MAX_NAMED_MISSING} more`);
    const what = named.join(', ');
    switch (this.r.status) {
      case 'complete': {
        const ex = this.r.exceptions.length;
        const by =
          ex > 0
            ? ` — with ${count(ex, 'exception')}: ${[...new Set(this.r.exceptions.map((e) => text(e.requirement, 60)))].join(', ')}`
            : '';
        const met =
          this.r.requirements.length > 0
            ? ` — ${this.r.requirements.length} of ${this.r.requirements.length} requirements met`
            : '';
        return `### ${ICON.present} ${title}${env}: complete${met}${by}`;
      }
      case 'incomplete':
        return `### ${ICON.missing} ${title}${env}: incomplete — missing: ${what || 'see below'}`;
      default:
        return `### ${ICON.failed} ${title}${env}: failed — ${what || 'see below'}`;
    }
  }

  /** What the record is about: image and digest, source repository, commit and ref, and when it was made. */
  private subjectLine(): string {
    const { subject, source } = this.r;
    const parts: string[] = [];
    if (subject.image || subject.digest) {
      const image = [subject.image, subject.digest].filter(Boolean).join('@');
      parts.push(`Image ${codeOf(image)}`);
    }
    if (source.repository || source.commit) {
      const at = source.commit ? ` at ${commitOf(source.commit)}` : '';
      const ref = source.ref ? ` (${codeOf(source.ref)})` : '';
      parts.push(`${source.repository ? `from ${codeOf(source.repository)}` : 'from commit'}${at}${ref}`);
    }
    parts.push(`${RECORDED_OPEN}recorded ${whenOf(this.r.generatedAt)}${RECORDED_CLOSE}`);
    return `${parts.join(' · ')}.`;
  }

  private truncationNote(dropped: string[]): string {
    const unit = this.options.measure === 'utf8' ? 'bytes' : 'characters';
    const where = this.recordHref
      ? `The full record: [evidence.json](${this.recordHref}).`
      : 'The full record is evidence.json, the `record` output of this step.';
    return `> ✂️ **Shortened** to stay within GitHub's limit of ${this.options.limit.toLocaleString('en-US')} ${unit}: left out ${dropped.join('; ')}. ${where}`;
  }

  private footer(): string {
    const record = this.recordHref ? ` · [full record (evidence.json)](${this.recordHref})` : '';
    return `<sub>Slipway release evidence${record}</sub>`;
  }
}

/** Items a requirement names: a missing one is a warning; others (the decision, say) are optional. */
function requiredItems(r: EvidenceResult): ReadonlySet<ItemKey> {
  if (r.requirements.length === 0) {
    // The default requirements (requirements.ts): build, tests, SBOM, vulnerability gate, signature, verification.
    return new Set<ItemKey>(['build', 'tests', 'sbom', 'vulnerabilities', 'signatures', 'verification']);
  }
  return new Set(r.requirements.flatMap((q) => REQUIREMENT_ITEMS[q.requirement] ?? []));
}

function safeOrigin(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.origin : undefined;
  } catch {
    return undefined;
  }
}

function count(n: number, one: string): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : `${one}s`}`;
}
