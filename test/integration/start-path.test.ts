import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { distRoot, repositoryRoot, runEntry } from '../support/runner-harness.js';

// What a built action loads before its first input error. The cold-start budget (DESIGN.md: at most 1.5 times a
// bare `node -e 0`) is measured by bench/cold-start.mjs, never by a timed test; this test guards what the
// measurements rest on (bench/README.md), so that a static import added on the start path fails here by name
// rather than only moving a benchmark figure. Each of these built-ins costs a start 3 to 6 ms:
// node:crypto, Node's stream modules (opened by process.stdout, or by `import … from 'node:fs'` in ESM), and the
// network and process modules the registry client and builders use.
const DEFERRED = ['crypto', 'stream', 'internal/fs/promises', 'child_process', 'net', 'http', 'https', 'zlib'] as const;

const actions = readdirSync(join(repositoryRoot, 'actions'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(repositoryRoot, 'actions', entry.name, 'main.ts')))
  .map((entry) => entry.name);

/**
 * The input error each action stops at: a required input left out, by default. An action that needs no input
 * (evidence) is given one mistake instead.
 */
const MISTAKE: Record<string, Record<string, string>> = { evidence: { INPUT_PUBLISH: 'nowhere' } };

describe('an action that stops at its first input error', () => {
  it.each(actions)('%s loads none of the built-ins deferred to its work', async (name) => {
    const out = join(mkdtempSync(join(tmpdir(), 'slipway-start-path-')), 'builtins.txt');
    const result = await runEntry(join(distRoot, name, 'index.mjs'), {
      env: {
        NODE_OPTIONS: `--require ${join(repositoryRoot, 'test/fixtures/runner/record-builtins.cjs')}`,
        SLIPWAY_BUILTINS_OUT: out,
        ...MISTAKE[name],
      },
    });
    expect(result.exitCode).toBe(1);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatch(/^Input '[a-z-]+' /);
    const loaded = readFileSync(out, 'utf8').split('\n');
    expect(DEFERRED.filter((builtin) => loaded.includes(builtin))).toEqual([]);
  });
});
