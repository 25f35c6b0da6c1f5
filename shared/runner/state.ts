import type { SecretRegistry } from '../core/secrets.js';
import { appendKeyValueCommand, type Env } from './protocol.js';

// State handed from an action's main step to its post step: written to GITHUB_STATE, read back by the
// runner into STATE_<name> (name kept as written) for the post phase of the same action instance only.

export interface StateStore {
  save(name: string, value: string): void;
  get(name: string): string | undefined;
}

export const POST_PHASE_MARKER = 'isPost';

export function runnerState(env: Env, secrets: SecretRegistry): StateStore {
  return {
    // State is not masked by the runner in later phases' environment dumps, so secrets never go there.
    save: (name, value) => appendKeyValueCommand(env, 'GITHUB_STATE', name, secrets.redact(value)),
    get: (name) => env[`STATE_${name}`] || undefined,
  };
}

export function memoryState(): StateStore & { values: Map<string, string> } {
  const values = new Map<string, string>();
  return { values, save: (name, value) => values.set(name, value), get: (name) => values.get(name) };
}
