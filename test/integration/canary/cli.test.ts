import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';

// `slipway canary --simulate` through the BUILT CLI: the benchmark's simulator stands in for Prometheus, on a
// simulated clock, so a whole canary runs in a second with the same evaluation, exposure store and record as the
// action. The exit code is the decision's (0 promote, 1 rollback, 3 inconclusive), as in a workflow.

const ARMS = ['--canary', 'version="canary"', '--baseline', 'version="stable"'];

function canary(...args: string[]) {
  const cwd = mkdtempSync(join(tmpdir(), 'slipway-canary-cli-'));
  const result = runCli(['canary', ...ARMS, ...args], cwd, { timeoutMs: 60_000 });
  const outputs = result.code === 2 ? {} : (JSON.parse(result.stdout) as Record<string, string>);
  return { ...result, outputs };
}

describe('slipway canary --simulate', () => {
  it('bare: a healthy canary walks 1 -> 5 -> 25 and is promoted to 100, exit 0', () => {
    const { code, outputs, stderr } = canary('--simulate');
    expect(code).toBe(0);
    expect(outputs.decision).toBe('promote');
    expect(outputs.weight).toBe('100');
    // Before each look it says what it can still detect in the time left.
    expect(stderr).toMatch(
      /at exposure 5%, .* in the \d+m(\d+s)? left it can detect errors ≥ [\d.]+× the baseline rate/,
    );
    const record = JSON.parse(readFileSync(outputs.record as string, 'utf8'));
    expect(record._type).toBe('https://slipway.dev/records/canary');
    expect(record.exposure.changes.map((c: { weight: number }) => c.weight)).toEqual([1, 5, 25, 100]);
    expect(record.source).toMatch(/^simulator/);
  });

  it('a 5x error regression held at 5 % is rolled back, exit 1, with the record still written', () => {
    const { code, outputs, stderr } = canary('--simulate', 'errors=5,exposure=5', '--steps', '5,100');
    expect(code).toBe(1);
    expect(outputs.decision).toBe('rollback');
    expect(stderr).toMatch(/error: The canary was rolled back: errors: the canary is worse than the baseline/);
    const record = JSON.parse(readFileSync(outputs.record as string, 'utf8'));
    expect(record.decision).toBe('rollback');
    expect(record.metrics[0].confidence.lower).toBeGreaterThan(1);
  });

  it('a scenario key it does not know is one input error naming simulate, exit 2', () => {
    const { code, stderr } = canary('--simulate', 'errros=2');
    expect(code).toBe(2);
    expect(stderr).toMatch(/Input 'simulate'.*errros.*expected one of errors, /);
  });
});
