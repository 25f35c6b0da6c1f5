import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { fileError } from '../../core/files.js';
import type { EvidenceItem, Provenance, TestCaseFailure, TestEvidence, TestSuiteEvidence } from '../types.js';
import { expandPatterns, type MatchedFile, readMatched } from './globs.js';

// JUnit XML test reports (the `test-reports` input), parsed with fast-xml-parser, never with regular expressions.
// The format has no single specification; what the common producers write (reference/exposure-inventory.md, D.3):
// - a root <testsuites> (jest-junit, pytest, vitest, go-junit-report) or a bare <testsuite> (Maven Surefire, the
//   JUnit 5 console launcher), suites possibly nested inside suites;
// - <testcase> holding at most a <failure>, an <error> or a <skipped> (several are ranked error > failure >
//   skipped, as junitparser does), with the reason in `message` (Surefire, pytest, JUnit 5, vitest) or only in the
//   element's text (jest-junit, go-junit-report);
// - Surefire's rerunFailure/flakyFailure elements record earlier attempts: the case's outcome is its own
//   failure/error element, so a flaky test that passed on a rerun counts as passed;
// - `time` in seconds, which Surefire writes with thousands separators (`1,234.5`).
// Counts come from the test cases themselves, not from the suites' attributes, which producers get wrong for
// nested suites; a suite without any test case (a summary-only report) is counted from its attributes.

export const TEST_REPORTS_INPUT = 'test-reports';
const EXPECTED = 'JUnit XML test reports: paths or globs, one per line (e.g. reports/**/*.xml)';
const MAX_MESSAGE = 500;

/** The test reports read, and where each came from. */
export interface TestReports {
  tests: TestEvidence;
  from: Provenance[];
}

type XmlNode = Record<string, unknown>;

const REPEATED = new Set(['testsuite', 'testcase', 'failure', 'error', 'skipped']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  textNodeName: '#text',
  alwaysCreateTextNode: true,
  // Attribute and text values stay strings: a test named "1e3" is not a number.
  parseAttributeValue: false,
  parseTagValue: false,
  // Numeric character references (`&#10;`, which pytest and go-junit-report write) are decoded only with this on.
  htmlEntities: true,
  isArray: (name) => REPEATED.has(name),
});

/** Reads every report the patterns match; a pattern matching nothing and a malformed file are errors. */
export function readTestReports(patterns: readonly string[], workspace: string): TestReports {
  const files = expandPatterns(TEST_REPORTS_INPUT, patterns, workspace, EXPECTED);
  const tests: TestEvidence = { total: 0, passed: 0, failed: 0, errored: 0, skipped: 0, suites: [], failures: [] };
  const from: Provenance[] = [];
  for (const file of files) {
    const { text, sha256 } = readMatched(file, EXPECTED);
    const report = parseReport(file, text);
    for (const suite of report.suites) {
      tests.suites.push(suite);
      tests.total += suite.tests;
      tests.passed += suite.passed;
      tests.failed += suite.failures;
      tests.errored += suite.errors;
      tests.skipped += suite.skipped;
    }
    tests.failures.push(...report.failures);
    from.push({ kind: 'test-report', location: file.relative, sha256 });
  }
  return { tests, from };
}

/** The tests item: missing when no report was given, failed when a case failed or errored, else present. */
export function collectTests(patterns: readonly string[], workspace: string): EvidenceItem<TestEvidence> {
  if (patterns.every((pattern) => pattern.trim() === '')) {
    return { state: 'missing', reason: `no test reports were given (input ${TEST_REPORTS_INPUT})` };
  }
  const { tests, from } = readTestReports(patterns, workspace);
  const bad = tests.failed + tests.errored;
  return bad > 0
    ? {
        state: 'failed',
        from,
        value: tests,
        reason: `${tests.failed} failed and ${tests.errored} errored of ${tests.total}`,
      }
    : { state: 'present', from, value: tests };
}

/** One report file's suites (those holding test cases, and summary-only leaves) and its failed cases. */
export function parseReport(
  file: MatchedFile,
  text: string,
): { suites: TestSuiteEvidence[]; failures: TestCaseFailure[] } {
  const start = text.trimStart();
  if (!start.startsWith('<')) {
    throw fileError(
      file,
      EXPECTED,
      `${file.relative} is ${start === '' ? 'empty' : 'not XML'}, not a JUnit XML report`,
    );
  }
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    const { line, col, msg } = valid.err;
    throw fileError(file, EXPECTED, `${file.relative} line ${line}, column ${col}: ${cut(msg)} (not valid XML)`);
  }
  let document: XmlNode;
  try {
    document = parser.parse(text) as XmlNode;
  } catch (error) {
    // The validator passed, so this is a limit (entity expansion) rather than syntax.
    throw fileError(
      file,
      EXPECTED,
      `${file.relative}: ${cut((error as Error).message)} (not a readable XML report)`,
      error,
    );
  }
  const roots = Object.keys(document).filter((key) => !key.startsWith('?') && key !== '#text');
  const root = roots[0];
  if (roots.length !== 1 || (root !== 'testsuites' && root !== 'testsuite')) {
    throw fileError(
      file,
      EXPECTED,
      `${file.relative} has the root element ${root === undefined ? '(none)' : cut(root)}, not testsuites or testsuite`,
    );
  }
  const out = { suites: [] as TestSuiteEvidence[], failures: [] as TestCaseFailure[] };
  for (const top of nodes(document[root])) {
    if (root === 'testsuite') walkSuite(top, [], file.relative, out);
    else for (const suite of nodes(top.testsuite)) walkSuite(suite, [], file.relative, out);
  }
  return out;
}

function walkSuite(
  suite: XmlNode,
  parents: string[],
  file: string,
  out: { suites: TestSuiteEvidence[]; failures: TestCaseFailure[] },
): void {
  // PHPUnit's outermost suite has an empty name: left out of the path rather than shown as nothing.
  const own = attribute(suite, 'name')?.trim();
  const path = own ? [...parents, own] : parents;
  const name = path.length > 0 ? path.join(' / ') : '(unnamed suite)';
  const cases = nodes(suite.testcase);
  const children = nodes(suite.testsuite);
  const time = seconds(attribute(suite, 'time'));
  if (cases.length > 0) {
    const counts = { tests: 0, passed: 0, failures: 0, errors: 0, skipped: 0 };
    for (const testcase of cases) {
      counts.tests += 1;
      const outcome = outcomeOf(testcase);
      if (outcome.kind === 'passed') counts.passed += 1;
      else if (outcome.kind === 'skipped') counts.skipped += 1;
      else {
        if (outcome.kind === 'failure') counts.failures += 1;
        else counts.errors += 1;
        const classname = attribute(testcase, 'classname');
        out.failures.push({
          suite: name,
          name: attribute(testcase, 'name') ?? '(unnamed test)',
          ...(classname ? { classname } : {}),
          ...(outcome.message ? { message: outcome.message } : {}),
          kind: outcome.kind,
        });
      }
    }
    out.suites.push({ name, file, ...counts, ...(time === undefined ? {} : { timeSeconds: time }) });
  } else if (children.length === 0) {
    // A suite that lists no case: its attributes are all there is.
    const tests = count(attribute(suite, 'tests'));
    const failures = count(attribute(suite, 'failures'));
    const errors = count(attribute(suite, 'errors'));
    const skipped = count(attribute(suite, 'skipped') ?? attribute(suite, 'disabled'));
    out.suites.push({
      name,
      file,
      tests,
      passed: Math.max(0, tests - failures - errors - skipped),
      failures,
      errors,
      skipped,
      ...(time === undefined ? {} : { timeSeconds: time }),
    });
  }
  for (const child of children) walkSuite(child, path, file, out);
}

type Outcome = { kind: 'passed' } | { kind: 'skipped' } | { kind: 'failure' | 'error'; message?: string };

function outcomeOf(testcase: XmlNode): Outcome {
  const error = nodes(testcase.error)[0];
  if (error) return { kind: 'error', ...messageOf(error) };
  const failure = nodes(testcase.failure)[0];
  if (failure) return { kind: 'failure', ...messageOf(failure) };
  if (nodes(testcase.skipped).length > 0) return { kind: 'skipped' };
  return { kind: 'passed' };
}

/** The first non-empty line of the message attribute, else of the element's text, else its type. */
function messageOf(element: XmlNode): { message?: string } {
  for (const candidate of [attribute(element, 'message'), textOf(element), attribute(element, 'type')]) {
    const line = candidate
      ?.split(/\r?\n/)
      .map((part) => part.trim())
      .find((part) => part !== '');
    if (line) return { message: line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE - 1)}…` : line };
  }
  return {};
}

function nodes(value: unknown): XmlNode[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((item) =>
    typeof item === 'object' && item !== null ? (item as XmlNode) : { '#text': String(item) },
  );
}

function attribute(node: XmlNode, name: string): string | undefined {
  const value = node[`@${name}`];
  return typeof value === 'string' ? value : undefined;
}

function textOf(node: XmlNode): string | undefined {
  const value = node['#text'];
  return typeof value === 'string' ? value : undefined;
}

/** A count attribute; missing or unreadable counts as 0. */
function count(value: string | undefined): number {
  const number = Number(value?.trim());
  return Number.isSafeInteger(number) && number > 0 ? number : 0;
}

/** Seconds, allowing Surefire's thousands separators; undefined when absent or not a number. */
function seconds(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const number = Number(value.replace(/,/g, '').trim());
  return Number.isFinite(number) && number >= 0 ? number : undefined;
}

/** Library messages may name tags and attributes: cut short, so a non-XML file cannot flood the log. */
function cut(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
