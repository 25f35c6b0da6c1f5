import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

// What each action.yml says to people: the action's description and each input's and output's. action.yml is
// the one place these sentences are written (the runner and the Marketplace read them there); the CLI's help
// shows the same text. scripts/build.mjs calls readActionDocs at build time and writes the result into the CLI
// bundle, so dist/ needs no action.yml and no YAML parser at run time. Code run from source reads it here.
//
// Kept free of imports from the rest of the project: scripts/build.mjs compiles this one file on its own with
// esbuild and runs it, before anything is bundled.

export interface ActionDoc {
  description: string;
  inputs: Record<string, string>;
  outputs: Record<string, string>;
}

/** By action name (its folder under actions/). */
export type ActionDocs = Record<string, ActionDoc>;

interface ActionYml {
  description?: unknown;
  inputs?: Record<string, { description?: unknown } | null>;
  outputs?: Record<string, { description?: unknown } | null>;
}

/** Every folder under `actionsDir` with both action.yml and definition.ts (what the CLI can run), by name. */
export function readActionDocs(actionsDir: string): ActionDocs {
  const docs: ActionDocs = {};
  const folders = existsSync(actionsDir) ? readdirSync(actionsDir, { withFileTypes: true }) : [];
  for (const folder of folders
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()) {
    const yml = join(actionsDir, folder, 'action.yml');
    if (!existsSync(yml) || !existsSync(join(actionsDir, folder, 'definition.ts'))) continue;
    const metadata = (parseYaml(readFileSync(yml, 'utf8')) ?? {}) as ActionYml;
    const descriptions = (entries: ActionYml['inputs']) =>
      Object.fromEntries(
        Object.entries(entries ?? {}).map(([name, entry]) => [name, oneLine(entry?.description)]),
      ) as Record<string, string>;
    docs[folder] = {
      description: oneLine(metadata.description),
      inputs: descriptions(metadata.inputs),
      outputs: descriptions(metadata.outputs),
    };
  }
  return docs;
}

/** A description as one paragraph: help text wraps it to the terminal's width itself. */
function oneLine(value: unknown): string {
  return typeof value === 'string' ? value.trim().replace(/\s+/g, ' ') : '';
}
