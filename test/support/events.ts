import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repositoryRoot } from './runner-harness.js';

// Recorded GitHub events (test/fixtures/events/<name>.json and .env): the webhook payload and the GITHUB_*
// environment the runner sets for it, as docker/metadata-action's tests keep them.

export interface EventFixture {
  name: string;
  payload: unknown;
  env: Record<string, string>;
}

export function eventFixture(name: string): EventFixture {
  const dir = join(repositoryRoot, 'test/fixtures/events');
  const env: Record<string, string> = {};
  for (const line of readFileSync(join(dir, `${name}.env`), 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  const payload = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as unknown;
  return { name: env.GITHUB_EVENT_NAME ?? name, payload, env };
}

/** Paths the harness owns (the workspace and the runner's temp) are left out so each run gets its own. */
const HARNESS_OWNED = new Set(['GITHUB_WORKSPACE', 'RUNNER_TEMP', 'GITHUB_EVENT_PATH']);

/** An event as runActionYml takes it. */
export function harnessEvent(name: string): { event: { name: string; payload: unknown }; env: Record<string, string> } {
  const fixture = eventFixture(name);
  const env = Object.fromEntries(Object.entries(fixture.env).filter(([key]) => !HARNESS_OWNED.has(key)));
  return { event: { name: fixture.name, payload: fixture.payload }, env };
}
