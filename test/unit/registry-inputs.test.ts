import { describe, expect, it } from 'vitest';
import { build } from '../../actions/build/definition.js';
import { registryTimeoutInputs, registryTimeouts } from '../../actions/registry-inputs.js';
import { sbom } from '../../actions/sbom/definition.js';
import { sign } from '../../actions/sign/definition.js';
import { verify } from '../../actions/verify/definition.js';
import { ConfigurationError } from '../../shared/core/errors.js';
import { DEFAULT_TIMEOUTS } from '../../shared/oci/timeouts.js';
import { readInputs } from '../../shared/runner/inputs.js';

// The registry-timeout and registry-connect-timeout inputs, from what a workflow writes to the registry client's
// timeouts; the built action against a registry that never answers is in test/integration/oci/registry-timeouts.test.ts.

const timeoutsOf = (values: Record<string, string>) =>
  registryTimeouts(readInputs(registryTimeoutInputs, (name) => values[name]));

describe('the registry timeout inputs', () => {
  it('default to the registry client’s own defaults', () => {
    expect(timeoutsOf({})).toEqual(DEFAULT_TIMEOUTS);
    expect(registryTimeoutInputs['registry-timeout'].default).toBe('60s');
    expect(registryTimeoutInputs['registry-connect-timeout'].default).toBe('30s');
  });

  it.each([
    ['90s', 90_000],
    ['5m', 300_000],
    ['1m30s', 90_000],
    ['45', 45_000],
    ['1.5', 1_500],
    ['250ms', 250],
    ['24h', 86_400_000],
  ])('read %s as %i ms', (given, ms) => {
    expect(timeoutsOf({ 'registry-timeout': given, 'registry-connect-timeout': given })).toEqual({
      idleTimeoutMs: ms,
      connectTimeoutMs: ms,
    });
  });

  it('keep the two apart: registry-timeout is the idle timeout', () => {
    expect(timeoutsOf({ 'registry-timeout': '2m', 'registry-connect-timeout': '5s' })).toEqual({
      idleTimeoutMs: 120_000,
      connectTimeoutMs: 5_000,
    });
  });

  it.each([
    ['registry-timeout', '0', /Input 'registry-timeout' is "0": a timeout of zero would fail every registry request/],
    ['registry-connect-timeout', '0s', /Input 'registry-connect-timeout' is "0s": a timeout of zero/],
    ['registry-timeout', '0.0001', /Input 'registry-timeout' is "0.0001": a timeout of zero/],
    ['registry-timeout', '-5s', /Input 'registry-timeout' is "-5s": expected a duration such as 90s/],
    ['registry-connect-timeout', '-1', /Input 'registry-connect-timeout' is "-1": expected a duration/],
    ['registry-timeout', 'soon', /Input 'registry-timeout' is "soon": expected a duration/],
    ['registry-timeout', '25h', /Input 'registry-timeout' is "25h": it is longer than a day; expected .* at most 24h/],
  ])('refuse %s: %s, naming the input', (input, given, message) => {
    let caught: unknown;
    try {
      timeoutsOf({ [input]: given });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigurationError);
    expect((caught as ConfigurationError).input).toBe(input);
    expect((caught as Error).message).toMatch(message);
  });

  it.each([
    ['build', build],
    ['sbom', sbom],
    ['sign', sign],
    ['verify', verify],
  ])('are inputs of %s, the same specs', (_name, definition) => {
    const inputs = definition.inputs as Record<string, unknown>;
    expect(inputs['registry-timeout']).toBe(registryTimeoutInputs['registry-timeout']);
    expect(inputs['registry-connect-timeout']).toBe(registryTimeoutInputs['registry-connect-timeout']);
  });
});
