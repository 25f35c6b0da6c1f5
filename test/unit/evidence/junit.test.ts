import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../shared/core/errors.js';
import { collectTests, readTestReports } from '../../../shared/evidence/collect/junit.js';
import { errorOf } from '../../support/errors.js';

// JUnit XML as the common producers write it (test/fixtures/junit/, one report per producer): counts per suite
// from the cases themselves, failures named with the first line of their message, entities and CDATA decoded,
// and every bad input one error naming the input, the file and, for XML, the line and column.

const fixtures = join(import.meta.dirname, '../../fixtures/junit');
const workspace = mkdtempSync(join(tmpdir(), 'slipway-junit-'));
mkdirSync(join(workspace, 'reports'), { recursive: true });
const place = (name: string) => {
  copyFileSync(join(fixtures, name), join(workspace, 'reports', name));
  return `reports/${name}`;
};
const write = (name: string, text: string) => {
  writeFileSync(join(workspace, name), text);
  return name;
};
const failure = (fn: () => unknown) => errorOf(fn, ConfigurationError);

describe('readTestReports per producer', () => {
  it('Maven Surefire: a bare testsuite, thousands separators in time, flaky reruns counted as passed', () => {
    const { tests, from } = readTestReports([place('surefire-TEST-com.acme.api.OrderServiceTest.xml')], workspace);
    expect(tests.suites).toEqual([
      {
        name: 'com.acme.api.OrderServiceTest',
        file: 'reports/surefire-TEST-com.acme.api.OrderServiceTest.xml',
        tests: 5,
        passed: 2,
        failures: 1,
        errors: 1,
        skipped: 1,
        timeSeconds: 1234.5,
      },
    ]);
    expect(tests.failures).toEqual([
      {
        suite: 'com.acme.api.OrderServiceTest',
        name: 'rejectsNegativeQuantity',
        classname: 'com.acme.api.OrderServiceTest',
        message: 'expected: <400> but was: <200>',
        kind: 'failure',
      },
      {
        suite: 'com.acme.api.OrderServiceTest',
        name: 'savesToDatabase',
        classname: 'com.acme.api.OrderServiceTest',
        message: 'Connection refused',
        kind: 'error',
      },
    ]);
    const bytes = readFileSync(join(fixtures, 'surefire-TEST-com.acme.api.OrderServiceTest.xml'));
    expect(from).toEqual([
      {
        kind: 'test-report',
        location: 'reports/surefire-TEST-com.acme.api.OrderServiceTest.xml',
        sha256: createHash('sha256').update(bytes).digest('hex'),
      },
    ]);
  });

  it('JUnit 5 console launcher: entities in names and messages decoded, CDATA skipped text ignored', () => {
    const { tests } = readTestReports([place('junit5-TEST-junit-jupiter.xml')], workspace);
    expect(tests).toMatchObject({ total: 3, passed: 1, failed: 1, errored: 0, skipped: 1 });
    expect(tests.failures).toEqual([
      {
        suite: 'JUnit Jupiter',
        name: 'escapes <script>alert(1)</script> | and [links](http://evil)',
        classname: 'dev.acme.RenderTest',
        message: 'expected: <&lt;b&gt;> but was: <<b>>',
        kind: 'failure',
      },
    ]);
  });

  it('pytest: a failure message over two lines keeps its first, a setup error counts as errored', () => {
    const { tests } = readTestReports([place('pytest.xml')], workspace);
    expect(tests).toMatchObject({ total: 5, passed: 2, failed: 1, errored: 1, skipped: 1 });
    expect(tests.suites[0]).toMatchObject({ name: 'pytest', tests: 5, timeSeconds: 0.873 });
    expect(tests.failures.map((f) => [f.classname, f.name, f.message, f.kind])).toEqual([
      ['tests.test_api', 'test_orders[negative-quantity]', 'assert 200 == 400', 'failure'],
      [
        'tests.test_db',
        'test_connect',
        'failed on setup with "ConnectionRefusedError: [Errno 111] Connection refused"',
        'error',
      ],
    ]);
  });

  it('jest-junit: one suite per test file, the message taken from the failure text', () => {
    const { tests } = readTestReports([place('jest-junit.xml')], workspace);
    expect(tests.suites.map((s) => [s.name, s.tests, s.passed, s.failures, s.skipped])).toEqual([
      ['src/api.test.ts', 3, 1, 1, 1],
      ['src/util.test.ts', 2, 2, 0, 0],
    ]);
    expect(tests.failures).toEqual([
      {
        suite: 'src/api.test.ts',
        name: 'api rejects `quantity` < 0 | *bold* _em_ # heading',
        classname: 'api rejects `quantity` < 0 | *bold* _em_ # heading',
        message: 'Error: expect(received).toBe(expected) // Object.is equality',
        kind: 'failure',
      },
    ]);
  });

  it('go-junit-report: packages as suites, a build failure as an error', () => {
    const { tests } = readTestReports([place('go-junit-report.xml')], workspace);
    expect(tests).toMatchObject({ total: 5, passed: 2, failed: 1, errored: 1, skipped: 1 });
    expect(tests.failures.map((f) => [f.suite, f.name, f.message, f.kind])).toEqual([
      ['github.com/acme/api/orders', 'TestReject/negative_quantity', 'Failed', 'failure'],
      ['github.com/acme/api/db', '[build failed]', 'Build error', 'error'],
    ]);
  });

  it('vitest: the message attribute, not the indented text', () => {
    const { tests } = readTestReports([place('vitest-junit.xml')], workspace);
    expect(tests).toMatchObject({ total: 4, passed: 2, failed: 1, errored: 0, skipped: 1 });
    expect(tests.failures[0]).toEqual({
      suite: 'test/render.test.ts',
      name: 'render > escapes <img src=x onerror=alert(1)>',
      classname: 'test/render.test.ts',
      message: "expected '<img>' to be '&lt;img&gt;' // Object.is equality",
      kind: 'failure',
    });
  });

  it('PHPUnit: nested suites counted once, at the suite holding the cases, named by their path', () => {
    const { tests } = readTestReports([place('phpunit-nested.xml')], workspace);
    expect(tests.total).toBe(4);
    expect(tests.suites.map((s) => [s.name, s.tests, s.failures])).toEqual([
      ['Unit / Tests\\Unit\\PriceTest', 1, 0],
      ['Unit / Tests\\Unit\\PriceTest / Tests\\Unit\\PriceTest::testRounds', 3, 1],
    ]);
    expect(tests.failures[0]).toMatchObject({
      name: 'testRounds with data set "half"',
      message: 'Tests\\Unit\\PriceTest::testRounds with data set "half" (0.5, 1)',
    });
  });
});

describe('readTestReports across files', () => {
  it('expands globs once per file, sums the suites, and reports each file as provenance', () => {
    for (const name of ['pytest.xml', 'jest-junit.xml', 'go-junit-report.xml']) place(name);
    const { tests, from } = readTestReports(['reports/*.xml', 'reports/pytest.xml'], workspace);
    expect(from.map((p) => p.location)).toEqual([...from.map((p) => p.location)].sort());
    expect(new Set(from.map((p) => p.location)).size).toBe(from.length);
    expect(tests.total).toBe(tests.suites.reduce((sum, s) => sum + s.tests, 0));
    expect(tests.total).toBe(tests.passed + tests.failed + tests.errored + tests.skipped);
  });

  it('takes a summary-only suite from its attributes', () => {
    const name = write(
      'summary.xml',
      '<testsuites><testsuite name="e2e" tests="10" failures="2" errors="0" skipped="3"/></testsuites>',
    );
    const { tests } = readTestReports([name], workspace);
    expect(tests.suites[0]).toMatchObject({ name: 'e2e', tests: 10, passed: 5, failures: 2, skipped: 3 });
  });

  it('collectTests: missing without reports, failed with a failure, present when all passed', () => {
    expect(collectTests([], workspace)).toEqual({
      state: 'missing',
      reason: 'no test reports were given (input test-reports)',
    });
    expect(collectTests([place('pytest.xml')], workspace)).toMatchObject({
      state: 'failed',
      reason: '1 failed and 1 errored of 5',
    });
    const green = write('green.xml', '<testsuite name="s" tests="1"><testcase name="a"/></testsuite>');
    expect(collectTests([green], workspace)).toMatchObject({ state: 'present', value: { total: 1, passed: 1 } });
  });
});

describe('readTestReports refuses bad input', () => {
  it('malformed XML names the input, the file, the line and the column', () => {
    const error = failure(() => readTestReports([place('malformed.xml')], workspace));
    expect(error.input).toBe('test-reports');
    expect(error.message).toMatch(
      /^Input 'test-reports' is "reports\/malformed.xml": reports\/malformed.xml line 4, column \d+: .* \(not valid XML\); expected JUnit XML/,
    );
  });

  it('a pattern that matches nothing is an error naming it', () => {
    const error = failure(() => readTestReports(['build/test-results/**/*.xml'], workspace));
    expect(error.message).toContain(`Input 'test-reports' is "build/test-results/**/*.xml": no file in ${workspace}`);
    const missing = failure(() => readTestReports(['nope.xml'], workspace));
    expect(missing.message).toContain('does not exist');
  });

  it('a file that is not JUnit says what it is without quoting it', () => {
    const key = write('key.pem', '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----\n');
    const notXml = failure(() => readTestReports([key], workspace));
    expect(notXml.message).toContain('key.pem is not XML, not a JUnit XML report');
    expect(notXml.message).not.toContain('MIIEvQ');
    const html = write('report.html', '<html><body>ok</body></html>');
    expect(failure(() => readTestReports([html], workspace)).message).toContain(
      'report.html has the root element html, not testsuites or testsuite',
    );
    const empty = write('empty.xml', '');
    expect(failure(() => readTestReports([empty], workspace)).message).toContain('empty.xml is empty');
  });

  it('entity expansion is bounded (a billion laughs stays a short string)', () => {
    const lol = write(
      'lol.xml',
      `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">${Array.from(
        { length: 9 },
        (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`,
      ).join('')}]><testsuite name="&lol9;"><testcase name="a"/></testsuite>`,
    );
    const { tests } = readTestReports([lol], workspace);
    expect(tests.suites[0]!.name.length).toBeLessThan(100);
    expect(tests.total).toBe(1);
  });
});
