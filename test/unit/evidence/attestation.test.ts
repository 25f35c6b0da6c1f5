import { describe, expect, it } from 'vitest';
import { testResultPredicate, workflowDescriptor } from '../../../shared/evidence/publish/attestation.js';
import type { EvidenceResult } from '../../../shared/evidence/types.js';

// The in-toto test-result predicate (https://in-toto.io/attestation/test-result/v0.1) made from a record's tests:
// the result as the spec names it, the reports read as its configuration, failures named, nothing invented.

const report = { kind: 'test-report' as const, location: 'reports/junit.xml', sha256: `sha256:${'2'.repeat(64)}` };
const tests = (value: Partial<{ total: number; passed: number; failed: number; errored: number; skipped: number }>) =>
  ({
    state: 'present',
    from: [report],
    value: { total: 3, passed: 3, failed: 0, errored: 0, skipped: 0, suites: [], failures: [], ...value },
  }) as EvidenceResult['tests'];

describe('testResultPredicate', () => {
  it('is PASSED with the reports as configuration, and no passedTests it was not given', () => {
    expect(testResultPredicate(tests({}), { url: 'https://github.com/acme/api/actions/runs/1' })).toEqual({
      result: 'PASSED',
      configuration: [{ name: 'reports/junit.xml', digest: { sha256: '2'.repeat(64) } }],
      url: 'https://github.com/acme/api/actions/runs/1',
    });
  });

  it('is WARNED when tests were skipped or none ran, FAILED on a failure or error, naming the failures', () => {
    expect(testResultPredicate(tests({ skipped: 1, passed: 2 }))!.result).toBe('WARNED');
    expect(testResultPredicate(tests({ total: 0, passed: 0 }))!.result).toBe('WARNED');
    expect(testResultPredicate(tests({ errored: 1, passed: 2 }))!.result).toBe('FAILED');
    const failed = tests({ failed: 1, passed: 2 });
    if (failed.state === 'missing') throw new Error('fixture');
    failed.value.failures = [{ suite: 'api', name: 'rejects an expired token', kind: 'failure' }];
    expect(testResultPredicate(failed)).toMatchObject({
      result: 'FAILED',
      failedTests: ['api › rejects an expired token'],
    });
  });

  it('is nothing for missing tests', () => {
    expect(testResultPredicate({ state: 'missing', reason: 'no report' })).toBeUndefined();
  });

  it('describes the workflow from the runner variables', () => {
    const env = {
      GITHUB_WORKFLOW_REF: 'acme/api/.github/workflows/release.yml@refs/heads/main',
      GITHUB_SHA: 'c0ffee',
    };
    expect(workflowDescriptor(env, 'https://github.com')).toEqual({
      name: '.github/workflows/release.yml',
      uri: 'git+https://github.com/acme/api@refs/heads/main',
      digest: { gitCommit: 'c0ffee' },
    });
    expect(workflowDescriptor({}, 'https://github.com')).toBeUndefined();
  });
});
