import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_WRITE_LIMITS,
  GITHUB_WRITE_LIMITS,
  isGraphqlMutation,
  WriteBudget,
} from '../../../shared/github/write-budget.js';

// The content-creation budget against a fake clock: times are numbers the test chooses.

const MINUTE = 60_000;
const HOUR = 3_600_000;

describe('WriteBudget', () => {
  it('lets 80 writes through at once, then holds the 81st until the first leaves the minute', () => {
    const budget = new WriteBudget(GITHUB_WRITE_LIMITS);
    const t0 = 1_000_000;
    for (let i = 0; i < 80; i++) expect(budget.reserve(t0 + i)).toBe(t0 + i);
    expect(budget.reserve(t0 + 100)).toBe(t0 + MINUTE);
    // The 82nd waits for the second write to leave, and never overtakes the 81st.
    expect(budget.reserve(t0 + 200)).toBe(t0 + 1 + MINUTE);
    expect(budget.used(t0 + 200, MINUTE)).toBe(82);
  });

  it('holds the 501st write of an hour until the hour has passed, however the minutes are spread', () => {
    const budget = new WriteBudget(GITHUB_WRITE_LIMITS);
    let now = 0;
    const times: number[] = [];
    for (let i = 0; i < 500; i++) {
      const at = budget.reserve(now);
      times.push(at);
      now = at;
    }
    // 80 a minute: the 500th went in the seventh minute.
    expect(times[499]).toBe(6 * MINUTE);
    expect(budget.reserve(now)).toBe((times[0] as number) + HOUR);
  });

  it('gives the time the caller passed when there is room, and forgets writes older than the longest window', () => {
    const budget = new WriteBudget([{ count: 2, windowMs: 1000 }]);
    expect(budget.reserve(0)).toBe(0);
    expect(budget.reserve(0)).toBe(0);
    expect(budget.reserve(10)).toBe(1000);
    expect(budget.reserve(5000)).toBe(5000);
    expect(budget.used(5000, 1000)).toBe(1);
  });

  it('never has more than the limit in any window (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 60 }), (gaps) => {
        const limits = [
          { count: 3, windowMs: 1000 },
          { count: 7, windowMs: 10_000 },
        ];
        const budget = new WriteBudget(limits);
        let now = 0;
        const sent: number[] = [];
        for (const gap of gaps) {
          now += gap;
          const at = budget.reserve(now);
          expect(at).toBeGreaterThanOrEqual(now);
          if (sent.length) expect(at).toBeGreaterThanOrEqual(sent.at(-1) as number);
          sent.push(at);
        }
        for (const { count, windowMs } of limits) {
          for (const end of sent) {
            expect(sent.filter((t) => t > end - windowMs && t <= end).length).toBeLessThanOrEqual(count);
          }
        }
      }),
    );
  });

  it("keeps GitHub's published limits", () => {
    expect(GITHUB_WRITE_LIMITS).toEqual([
      { count: 80, windowMs: MINUTE },
      { count: 500, windowMs: HOUR },
    ]);
    // By default writes are also a second apart, as GitHub advises.
    expect(DEFAULT_WRITE_LIMITS).toEqual([{ count: 1, windowMs: 1000 }, ...GITHUB_WRITE_LIMITS]);
    const spaced = new WriteBudget();
    expect([spaced.reserve(0), spaced.reserve(10), spaced.reserve(20)]).toEqual([0, 1000, 2000]);
    expect(() => new WriteBudget([])).toThrow(RangeError);
    expect(() => new WriteBudget([{ count: 0, windowMs: 1 }])).toThrow(RangeError);
  });
});

describe('isGraphqlMutation', () => {
  it('tells mutations from queries, past comments and whitespace', () => {
    expect(isGraphqlMutation('mutation { createRef(input: {}) { ref { id } } }')).toBe(true);
    expect(isGraphqlMutation('\n  # moves the branch\n  mutation Move($input: X!) { a }')).toBe(true);
    expect(isGraphqlMutation('query { viewer { login } }')).toBe(false);
    expect(isGraphqlMutation('{ viewer { login } }')).toBe(false);
    expect(isGraphqlMutation('query mutationLike { a }')).toBe(false);
    expect(isGraphqlMutation(undefined)).toBe(false);
  });
});
