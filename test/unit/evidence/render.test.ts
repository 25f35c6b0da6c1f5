import { readFileSync } from 'node:fs';
import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';
import { InvalidValueError } from '../../../shared/core/errors.js';
import { COMMENT_LIMIT, evidenceMarker, renderEvidence, SUMMARY_LIMIT } from '../../../shared/evidence/render.js';
import type { EvidenceResult, TestCaseFailure, TestSuiteEvidence } from '../../../shared/evidence/types.js';

// The evidence markdown: the reviewed fixtures render exactly, a missing signature reads as incomplete, and records
// too large for a comment or a summary are cut, least important parts first, within the limit, saying so.

const fixture = (name: string) => new URL(`../../fixtures/evidence/${name}`, import.meta.url);
const load = (name: string) => JSON.parse(readFileSync(fixture(name), 'utf8')) as EvidenceResult;
const RECORD_URL = 'https://github.com/acme/api/actions/runs/9876543210/artifacts/1234567';
const md = new MarkdownIt({ html: true, linkify: true });

function withTests(base: EvidenceResult, suites: TestSuiteEvidence[], failures: TestCaseFailure[]): EvidenceResult {
  const total = suites.reduce((n, s) => n + s.tests, 0);
  const failed = failures.filter((f) => f.kind === 'failure').length;
  const errored = failures.length - failed;
  return {
    ...base,
    status: failures.length > 0 ? 'failed' : base.status,
    missing: failures.length > 0 ? ['tests-passed'] : base.missing,
    tests: {
      state: failures.length > 0 ? 'failed' : 'present',
      from: [{ kind: 'test-report', location: 'reports/big.xml' }],
      value: { total, passed: total - failures.length, failed, errored, skipped: 0, suites, failures },
    },
  };
}

const suite = (name: string, tests: number, failures = 0): TestSuiteEvidence => ({
  name,
  file: 'reports/big.xml',
  tests,
  passed: tests - failures,
  failures,
  errors: 0,
  skipped: 0,
});

/** What every rendering must keep whatever it cuts: whole rows of the right width, balanced folds. */
function expectWellFormed(markdown: string) {
  expect(markdown.split('\n')[0]).toMatch(/^<!-- slipway:evidence:[\w.-]+ -->$/);
  expect(markdown.split('\n')[1]).toMatch(/^### (✅|⚠️|❌) /);
  expect(markdown.match(/<details>/g)?.length ?? 0).toBe(markdown.match(/<\/details>/g)?.length ?? 0);
  const tokens = md.parse(markdown, {});
  let width = 0;
  let cells = 0;
  for (const t of tokens) {
    if (t.type === 'thead_open') width = 0;
    if (t.type === 'th_open') width++;
    if (t.type === 'tr_open') cells = 0;
    if (t.type === 'td_open') cells++;
    if (t.type === 'tr_close' && cells > 0) expect(cells).toBe(width);
  }
  for (const line of markdown.split('\n').filter((l) => l.startsWith('|'))) expect(line.endsWith('|')).toBe(true);
}

describe('renderEvidence', () => {
  it('renders the full release exactly as the reviewed fixture', () => {
    const out = renderEvidence(load('full-release.json'), {
      limit: COMMENT_LIMIT.limit,
      marker: 'prod',
      recordUrl: RECORD_URL,
    });
    expect(out.markdown).toBe(readFileSync(fixture('full-release.md'), 'utf8'));
    expect(out.truncated).toBe(false);
    expect(out.dropped).toEqual([]);
    expectWellFormed(out.markdown);
  });

  it('shows a release without its signature as incomplete and names what is missing', () => {
    const out = renderEvidence(load('missing-signature.json'), {
      limit: COMMENT_LIMIT.limit,
      marker: 'staging',
      recordUrl: RECORD_URL,
    });
    expect(out.markdown).toBe(readFileSync(fixture('missing-signature.md'), 'utf8'));
    const [, status] = out.markdown.split('\n');
    expect(status).toBe('### ⚠️ Release evidence for staging: incomplete — missing: signature');
    expect(out.markdown).toMatch(/^\| ⚠️ \| signatures \| missing: no attestations\\\.json among the records/m);
    expect(out.markdown).toMatch(/^\| ⚠️ \| `signature` \| signature missing/m);
  });

  it('says failed and names the failed tests', () => {
    const base = load('full-release.json');
    const result = withTests(
      base,
      [suite('payments.capture', 10, 1)],
      [{ suite: 'payments.capture', name: 'retries on 503', kind: 'failure', message: 'expected 2 calls, got 1' }],
    );
    const out = renderEvidence(result, { limit: COMMENT_LIMIT.limit, marker: 'prod' });
    expect(out.markdown.split('\n')[1]).toBe('### ❌ Release evidence for prod: failed — tests-passed');
    expect(out.markdown).toContain('| `payments.capture` | `retries on 503` | failure | expected 2 calls, got 1 |');
    expect(out.markdown).toContain('<details><summary>Failed tests (1)</summary>');
  });

  it('keeps 10,000 failing tests with long names within 65,536 characters and says what it left out', () => {
    const longName = (i: number) => `should reconcile ledger entry ${i} ${'across every regional shard '.repeat(6)}`;
    const failures: TestCaseFailure[] = Array.from({ length: 10_000 }, (_, i) => ({
      suite: `ledger.suite${i % 50}`,
      name: longName(i),
      kind: i % 7 === 0 ? 'error' : 'failure',
      message: `AssertionError: expected balance ${i} to equal ${i + 1} ${'(diff follows) '.repeat(20)}`,
    }));
    const suites = Array.from({ length: 50 }, (_, i) => suite(`ledger.suite${i}`, 400, 200));
    const result = withTests(load('full-release.json'), suites, failures);
    const out = renderEvidence(result, { limit: COMMENT_LIMIT.limit, marker: 'prod', recordUrl: RECORD_URL });

    expect(out.markdown.length).toBeLessThanOrEqual(65_536);
    expect(out.markdown.length).toBeGreaterThan(60_000); // it fills the room rather than dropping everything
    expect(out.truncated).toBe(true);
    expectWellFormed(out.markdown);
    // Folded details went before failure names; the failures shown are the first ones, and the rest are counted.
    expect(out.dropped[0]).toBe('the per-suite table (50 suites)');
    expect(out.dropped[1]).toMatch(/^folded details \(reviews, SBOM files/);
    const named = out.dropped[2]?.match(/^([\d,]+) failed tests of 10,000 \(the first ([\d,]+) are named\)$/);
    expect(named).not.toBeNull();
    const shown = Number(named![2]!.replace(/,/g, ''));
    expect(shown).toBeGreaterThan(0);
    expect(out.markdown).toContain('should reconcile ledger entry 0 ');
    expect(out.markdown).toContain(`should reconcile ledger entry ${shown - 1} `);
    expect(out.markdown).not.toContain(`should reconcile ledger entry ${shown} `);
    expect(out.markdown).toContain(`… and ${(10_000 - shown).toLocaleString('en-US')} more failed tests`);
    // The note, near the top, links the full record.
    expect(out.markdown.split('\n')[5]).toMatch(
      new RegExp(
        `^> ✂️ \\*\\*Shortened\\*\\* to stay within GitHub's limit of 65,536 characters: .*\\[evidence\\.json\\]\\(${RECORD_URL.replace(/[./]/g, '\\$&')}\\)\\.$`,
      ),
    );
    // The status line, requirements and the exceptions are never what is cut.
    expect(out.markdown).toContain('| ✅ | `approved-pr` |');
  }, 30_000);

  it('drops the rows of passed suites first', () => {
    const suites = [suite('api.flaky', 3, 1), ...Array.from({ length: 1500 }, (_, i) => suite(`api.passing${i}`, 4))];
    const result = withTests(load('full-release.json'), suites, [
      { suite: 'api.flaky', name: 'times out', kind: 'error', message: 'timeout after 30s' },
    ]);
    const out = renderEvidence(result, { limit: COMMENT_LIMIT.limit, marker: 'prod' });
    expect(out.dropped).toEqual(['the rows of 1,500 suites that passed']);
    expect(out.markdown.length).toBeLessThanOrEqual(65_536);
    expect(out.markdown).toContain('| ❌ | `api.flaky` |');
    expect(out.markdown).not.toContain('`api.passing0`');
    expect(out.markdown).toContain('1,500 suites that passed left out to stay within the size limit.');
    expect(out.markdown).toContain('| `api.flaky` | `times out` | error | timeout after 30s |');
    expect(out.markdown).toContain('The full record is evidence.json, the `record` output of this step.');
    expectWellFormed(out.markdown);
  });

  it('measures the summary in UTF-8 bytes and the comment in UTF-16 code units', () => {
    // Three bytes in UTF-8, one code unit in UTF-16; and an astral character, four bytes and two code units.
    const failures: TestCaseFailure[] = Array.from({ length: 40_000 }, (_, i) => ({
      suite: 'i18n',
      name: `überprüft Größe ${i} ✓ 𝌆 ${'日本語のテスト名 '.repeat(8)}`,
      kind: 'failure',
    }));
    const result = withTests(load('full-release.json'), [suite('i18n', 40_000, 40_000)], failures);

    const summary = renderEvidence(result, { ...SUMMARY_LIMIT, marker: 'release' });
    expect(Buffer.byteLength(summary.markdown, 'utf8')).toBeLessThanOrEqual(1_048_576);
    expect(Buffer.byteLength(summary.markdown, 'utf8')).toBeGreaterThan(1_000_000);
    expect(summary.markdown).toContain("GitHub's limit of 1,048,576 bytes");
    expectWellFormed(summary.markdown);

    const comment = renderEvidence(result, { ...COMMENT_LIMIT, marker: 'release' });
    expect(comment.markdown.length).toBeLessThanOrEqual(65_536);
    expect(comment.markdown.length).toBeGreaterThan(60_000);
    // In bytes the comment is well over the limit: counting bytes there would have cut far more than needed.
    expect(Buffer.byteLength(comment.markdown, 'utf8')).toBeGreaterThan(65_536);
  }, 30_000);

  it('falls back to the status line, requirements and exceptions when the stages cannot fit at all', () => {
    const out = renderEvidence(load('full-release.json'), { limit: 2_000, marker: 'prod', recordUrl: RECORD_URL });
    expect(out.markdown.length).toBeLessThanOrEqual(2_000);
    expect(out.dropped).toEqual(['the stage tables']);
    expect(out.markdown).not.toContain('#### Source');
    expectWellFormed(out.markdown);
    expect(() => renderEvidence(load('full-release.json'), { limit: 300, marker: 'prod' })).toThrow(
      /Invalid evidence markdown limit "300": expected room for at least the status line/,
    );
  });

  it('links only to the GitHub server and the record, and shows other URLs as text', () => {
    const result = load('full-release.json');
    if (result.pullRequest.state === 'missing') throw new Error('fixture');
    result.pullRequest.value.url = 'https://evil.example/acme/api/pull/42';
    const out = renderEvidence(result, { limit: COMMENT_LIMIT.limit, marker: 'prod' });
    expect(out.markdown).toContain('| ✅ | pull request | #&#8288;42 “Retry payment captures on 503”');
    const ghes = renderEvidence(load('full-release.json'), {
      limit: COMMENT_LIMIT.limit,
      marker: 'prod',
      serverUrl: 'https://ghe.example.com',
    });
    // On a GitHub Enterprise Server, github.com links in a record are not the server's: text.
    expect(ghes.markdown).toContain('| ✅ | pull request | #&#8288;42 “Retry');
    expect(ghes.markdown).not.toMatch(/\]\(https:\/\/github\.com/);
  });
});

describe('evidenceMarker', () => {
  it('makes the hidden first line from a key, and accepts the whole line too', () => {
    expect(evidenceMarker('prod')).toBe('<!-- slipway:evidence:prod -->');
    const out = renderEvidence(load('full-release.json'), {
      limit: 65_536,
      marker: '<!-- slipway:evidence:release -->',
    });
    expect(out.markdown.split('\n')[0]).toBe('<!-- slipway:evidence:release -->');
  });

  it('refuses a key that could end the comment early or carry anything but a name', () => {
    for (const key of ['', 'prod -->', 'a--b', 'two words', '<script>', 'x'.repeat(101)]) {
      expect(() => evidenceMarker(key)).toThrow(InvalidValueError);
    }
    expect(() => evidenceMarker('prod -->')).toThrow(
      /Invalid evidence marker key "prod -->": expected an environment name/,
    );
  });
});
