import { ConfigurationError } from '../shared/core/errors.js';
import { DEFAULT_TIMEOUTS, type Timeouts } from '../shared/oci/timeouts.js';
import { duration, type Input } from '../shared/runner/inputs.js';

// The registry timeouts, declared once for every action that talks to a registry (build, sbom, sign, verify):
// each definition spreads these inputs into its own and hands registryTimeouts(inputs) to its request. The file
// sits beside the action folders, not in one: the build, the CLI and the contract test take only folders as actions.

/**
 * Node's timers fire at once past 2^31-1 ms (24.8 days), and the first wait of a request is both timeouts added
 * (shared/oci/timeouts.ts), so a huge value would end every request immediately; a day each stays well clear.
 */
const MAX_MS = 24 * 3_600_000;

/** A duration input that is above zero and at most a day, with its default taken from DEFAULT_TIMEOUTS. */
function timeout(defaultMs: number): Input<number> {
  const base = duration({ default: `${defaultMs / 1000}s` });
  const expected = `${base.expected}, above zero and at most 24h`;
  return {
    ...base,
    expected,
    read(raw, name) {
      const ms = base.read(raw, name);
      if (ms <= 0) {
        throw new ConfigurationError(name, raw, expected, 'a timeout of zero would fail every registry request');
      }
      if (ms > MAX_MS) throw new ConfigurationError(name, raw, expected, 'it is longer than a day');
      return ms;
    },
  };
}

export const registryTimeoutInputs = {
  'registry-timeout': timeout(DEFAULT_TIMEOUTS.idleTimeoutMs),
  'registry-connect-timeout': timeout(DEFAULT_TIMEOUTS.connectTimeoutMs),
} as const;

/** The two inputs' values (milliseconds) as the registry client's timeouts. */
export function registryTimeouts(values: {
  'registry-timeout': number;
  'registry-connect-timeout': number;
}): Partial<Timeouts> {
  return { idleTimeoutMs: values['registry-timeout'], connectTimeoutMs: values['registry-connect-timeout'] };
}
