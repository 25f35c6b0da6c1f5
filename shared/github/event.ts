import { readFileSync } from 'node:fs';
import { SlipwayError } from '../core/errors.js';

// The event that started the workflow run: its name from GITHUB_EVENT_NAME and its webhook payload from
// the file at GITHUB_EVENT_PATH, as the runner provides them.

type Env = Readonly<Record<string, string | undefined>>;

export interface WorkflowEvent {
  name: string;
  payload: Record<string, unknown>;
}

/** The current event, or undefined outside GitHub Actions (no GITHUB_EVENT_NAME). */
export function readWorkflowEvent(env: Env): WorkflowEvent | undefined {
  const name = env.GITHUB_EVENT_NAME;
  if (!name) return undefined;
  const path = env.GITHUB_EVENT_PATH;
  if (!path) return { name, payload: {} };
  try {
    return { name, payload: JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown> };
  } catch (error) {
    throw new SlipwayError(
      `The event payload at GITHUB_EVENT_PATH (${path}) could not be read: ${(error as Error).message}`,
    );
  }
}

/** What the event says about its repository, as docker/metadata-action labels images with it. */
export function repositoryDescription(payload: Record<string, unknown>): {
  title?: string;
  description?: string;
  licenses?: string;
} {
  const repository = payload.repository as
    | { name?: unknown; description?: unknown; license?: { spdx_id?: unknown } | null }
    | undefined;
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  const title = text(repository?.name);
  const description = text(repository?.description);
  // GitHub says NOASSERTION when it found a licence file it could not identify; that is no licence to declare.
  const spdx = text(repository?.license?.spdx_id);
  const licenses = spdx === 'NOASSERTION' ? undefined : spdx;
  return { ...(title ? { title } : {}), ...(description ? { description } : {}), ...(licenses ? { licenses } : {}) };
}
