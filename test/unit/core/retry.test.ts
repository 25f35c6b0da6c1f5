import { describe, expect, it } from 'vitest';
import {
  backoffMs,
  isRetryableStatus,
  type RetryPolicy,
  retryAfterMs,
  retryLater,
  withRetry,
} from '../../../shared/core/retry.js';

// The one retry loop, driven by scripted attempts with a recording sleep and a clock that the sleeps advance,
// so every wait and every give-up is exact.

const policy: RetryPolicy = { attempts: 4, baseDelayMs: 100, maxDelayMs: 1000 };

type Step = { ok: string } | { retry: string; retryAfterMs?: number; waitMs?: number };

async function run(steps: Step[], override: Partial<RetryPolicy> = {}) {
  let clock = 0;
  const sleeps: number[] = [];
  const logged: string[] = [];
  let calls = 0;
  const result = await withRetry(
    async (attempt) => {
      calls++;
      const step = steps[attempt - 1]!;
      if ('ok' in step) return step.ok;
      return retryLater(step.retry, (attempts) => new Error(`gave up after ${attempts}: ${step.retry}`), step);
    },
    {
      policy: { ...policy, ...override },
      random: () => 0.5,
      now: () => clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
      onRetry: ({ attempt, delayMs, reason }) => logged.push(`${attempt}:${reason}:${delayMs}`),
    },
  ).then(
    (value) => ({ value }),
    (error: Error) => ({ error: error.message }),
  );
  return { ...result, sleeps, calls, logged };
}

describe('withRetry', () => {
  it.each<{ name: string; steps: Step[]; policy?: Partial<RetryPolicy>; expected: object }>([
    { name: 'first try succeeds', steps: [{ ok: 'a' }], expected: { value: 'a', sleeps: [], calls: 1 } },
    {
      name: 'backoff doubles with jitter (random 0.5: three quarters of the ceiling)',
      steps: [{ retry: 'HTTP 503' }, { retry: 'HTTP 503' }, { retry: 'ECONNRESET' }, { ok: 'b' }],
      expected: { value: 'b', sleeps: [75, 150, 300], calls: 4 },
    },
    {
      name: 'gives up after the attempts with the last failure',
      steps: [{ retry: 'HTTP 500' }, { retry: 'HTTP 502' }, { retry: 'HTTP 503' }, { retry: 'HTTP 504' }],
      expected: { error: 'gave up after 4: HTTP 504', sleeps: [75, 150, 300], calls: 4 },
    },
    {
      name: 'Retry-After replaces backoff',
      steps: [{ retry: 'HTTP 429', retryAfterMs: 2000 - 1500 }, { ok: 'c' }],
      expected: { value: 'c', sleeps: [500] },
    },
    {
      name: 'Retry-After of zero is honoured, not replaced by backoff',
      steps: [{ retry: 'HTTP 503', retryAfterMs: 0 }, { ok: 'c' }],
      expected: { value: 'c', sleeps: [0] },
    },
    {
      name: 'Retry-After is cut to maxDelayMs',
      steps: [{ retry: 'HTTP 429', retryAfterMs: 3_600_000 }, { ok: 'd' }],
      expected: { value: 'd', sleeps: [1000] },
    },
    {
      name: 'a caller-decided wait is not cut (a rate limit waited out in full)',
      steps: [{ retry: 'rate limited', waitMs: 5000 }, { ok: 'e' }],
      expected: { value: 'e', sleeps: [5000] },
    },
    {
      name: 'backoff is capped at maxDelayMs',
      steps: [{ retry: 'x' }, { retry: 'x' }, { retry: 'x' }, { ok: 'f' }],
      policy: { baseDelayMs: 800 },
      expected: { value: 'f', sleeps: [600, 750, 750] },
    },
    {
      name: 'no wait starts that would end past the time budget',
      steps: [{ retry: 'HTTP 503', retryAfterMs: 600 }, { retry: 'HTTP 503', retryAfterMs: 600 }, { ok: 'g' }],
      policy: { maxElapsedMs: 1000 },
      expected: { error: 'gave up after 2: HTTP 503', sleeps: [600], calls: 2 },
    },
    {
      name: 'one attempt means no retry',
      steps: [{ retry: 'HTTP 503' }],
      policy: { attempts: 1 },
      expected: { error: 'gave up after 1: HTTP 503', sleeps: [], calls: 1 },
    },
  ])('$name', async ({ steps, policy: override, expected }) => {
    expect(await run(steps, override)).toMatchObject(expected);
  });

  it('tells onRetry each wait and its reason', async () => {
    const { logged } = await run([{ retry: 'HTTP 503' }, { retry: 'ECONNRESET', retryAfterMs: 10 }, { ok: 'x' }]);
    expect(logged).toEqual(['1:HTTP 503:75', '2:ECONNRESET:10']);
  });

  it('does not retry what an attempt throws', async () => {
    let calls = 0;
    await expect(
      withRetry(async () => {
        calls++;
        throw new Error('HTTP 400');
      }),
    ).rejects.toThrow('HTTP 400');
    expect(calls).toBe(1);
  });
});

describe('backoffMs', () => {
  it.each([
    [1, 0, 50],
    [1, 1, 100],
    [2, 0, 100],
    [3, 1, 400],
    [5, 1, 1000],
    [30, 0, 500],
  ])('attempt %i with random %d waits %i ms', (attempt, random, expected) => {
    expect(backoffMs(attempt, policy, () => random)).toBe(expected);
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2026-11-22T00:00:00Z');
  it.each<[string | null, number | undefined]>([
    ['7', 7000],
    [' 7 ', 7000],
    ['0', 0],
    ['Sun, 22 Nov 2026 00:00:05 GMT', 5000],
    ['Sat, 21 Nov 2026 00:00:05 GMT', 0],
    ['soon', undefined],
    ['-3', undefined],
    ['', undefined],
    [null, undefined],
  ])('%j → %j', (header, expected) => {
    expect(retryAfterMs(header, now)).toBe(expected);
  });
});

describe('isRetryableStatus', () => {
  it.each([
    [408, true],
    [429, true],
    [500, true],
    [502, true],
    [503, true],
    [504, true],
    [400, false],
    [401, false],
    [404, false],
    [501, false],
  ])('%i → %s', (status, expected) => {
    expect(isRetryableStatus(status)).toBe(expected);
  });
});
