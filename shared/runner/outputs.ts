import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appendKeyValueCommand, type Env } from './protocol.js';
import type { SecretRegistry } from './secrets.js';

// Outputs an action declares. Values pass through the secret registry: a secret must never become an
// output, where the runner would drop it with only a warning and a later step would miss it silently.

export interface OutputSink<N extends string = string> {
  set(name: N, value: string | number | boolean): void;
  /** A JSON record: compact JSON, the shape later actions read. */
  json(name: N, value: unknown): void;
}

/** Writes to GITHUB_OUTPUT as the runner reads it. */
export function runnerOutputs<N extends string>(env: Env, secrets: SecretRegistry): OutputSink<N> {
  const set = (name: N, value: string | number | boolean) =>
    appendKeyValueCommand(env, 'GITHUB_OUTPUT', name, secrets.redact(String(value)));
  return { set, json: (name, value) => set(name, JSON.stringify(value)) };
}

/** Collects outputs in memory; the CLI prints them as one JSON object. */
export function memoryOutputs<N extends string>(
  secrets: SecretRegistry,
): OutputSink<N> & { values: Record<string, string> } {
  const values: Record<string, string> = {};
  const set = (name: N, value: string | number | boolean) => {
    values[name] = secrets.redact(String(value));
  };
  return { values, set, json: (name, value) => set(name, JSON.stringify(value)) };
}

/**
 * Writes a record file (build.json, sbom.json, …) that later steps read by path. Large values travel as
 * files because inputs are environment variables (E2BIG past ~128 KiB) and job outputs stop at 1 MB.
 */
export function writeRecordFile(directory: string, fileName: string, record: unknown, secrets: SecretRegistry): string {
  mkdirSync(directory, { recursive: true });
  const path = join(directory, fileName);
  writeFileSync(path, `${secrets.redact(JSON.stringify(record, null, 2))}\n`, 'utf8');
  return path;
}
