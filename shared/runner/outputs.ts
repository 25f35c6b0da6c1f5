import { refuseSecrets, type SecretRegistry } from '../core/secrets.js';
import { appendKeyValueCommand, type Env } from './protocol.js';

// Outputs an action declares. A secret must never become an output: the runner would drop a job output holding
// one with only a warning, and a masked value (`ghcr.io/***/api`) would be a wrong one that a later step uses.
// So an output or record that would contain a secret is an error naming it, and values are never altered.

export interface OutputSink<N extends string = string> {
  set(name: N, value: string | number | boolean): void;
  /** A JSON record: compact JSON, the shape later actions read. */
  json(name: N, value: unknown): void;
}

/** Writes to GITHUB_OUTPUT as the runner reads it. */
export function runnerOutputs<N extends string>(env: Env, secrets: SecretRegistry): OutputSink<N> {
  const set = (name: N, value: string | number | boolean) => {
    refuseSecrets(secrets, `Output '${name}'`, String(value));
    appendKeyValueCommand(env, 'GITHUB_OUTPUT', name, String(value));
  };
  return { set, json: (name, value) => set(name, jsonOutput(name, value, secrets)) };
}

/** Collects outputs in memory; the CLI prints them as one JSON object. */
export function memoryOutputs<N extends string>(
  secrets: SecretRegistry,
): OutputSink<N> & { values: Record<string, string> } {
  const values: Record<string, string> = {};
  const set = (name: N, value: string | number | boolean) => {
    refuseSecrets(secrets, `Output '${name}'`, String(value));
    values[name] = String(value);
  };
  return { values, set, json: (name, value) => set(name, jsonOutput(name, value, secrets)) };
}

/** A JSON output's text, once every string in it is known to hold no secret. */
function jsonOutput(name: string, value: unknown, secrets: SecretRegistry): string {
  refuseSecrets(secrets, `Output '${name}'`, value);
  return JSON.stringify(value);
}
