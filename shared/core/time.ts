import { InvalidValueError } from './errors.js';

// Times as Slipway records them: RFC 3339 in UTC to the second (`2026-07-14T08:22:31Z`), as buildx writes
// `created` from SOURCE_DATE_EPOCH and SPDX requires. Reproducible builds take their times from
// SOURCE_DATE_EPOCH or the commit, never the wall clock, so the parsing of that variable lives here once.

// Year 9999 ends here; RFC 3339 has four-digit years, so later instants have no valid form.
const MAX_EPOCH_SECONDS = 253_402_300_799;

/** `2026-07-14T08:22:31Z`: UTC, whole seconds. */
export function rfc3339Seconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function epochToRfc3339(seconds: number): string {
  return rfc3339Seconds(new Date(seconds * 1000));
}

/**
 * SOURCE_DATE_EPOCH as RFC 3339, or undefined when it is not set. An empty value is how a workflow passes an
 * unset variable (`${{ env.X }}`), not a malformed one; anything but whole seconds up to year 9999 is an error.
 */
export function sourceDateEpoch(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch === undefined || epoch === '') return undefined;
  const expected = 'a whole number of seconds since 1970-01-01T00:00:00Z';
  if (!/^\d+$/.test(epoch)) {
    throw new InvalidValueError('SOURCE_DATE_EPOCH', epoch, expected, 'it is not a non-negative whole number');
  }
  if (Number(epoch) > MAX_EPOCH_SECONDS) {
    throw new InvalidValueError('SOURCE_DATE_EPOCH', epoch, expected, 'it is after the year 9999');
  }
  return epochToRfc3339(Number(epoch));
}
