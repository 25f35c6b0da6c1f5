import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ActionDefinition } from '../../shared/runner/action.js';
import type { InputSpec } from '../../shared/runner/inputs.js';
import { probe } from '../fixtures/actions/probe/definition.js';
import { actionFolders, checkActionContract } from '../support/action-contract.js';
import { repositoryRoot } from '../support/runner-harness.js';

// Every action in actions/ against its action.yml, and the checker itself against a correct fixture
// and broken copies of it, so it is known to catch each kind of drift.

const probeDir = join(repositoryRoot, 'test/fixtures/actions/probe');

/** The probe's action.yml next to a dist/ holding its entry file, with an edit applied to the YAML text. */
function probeWith(edit: (yml: string) => string): { yml: string; distRoot: string } {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-contract-'));
  mkdirSync(join(dir, 'dist/probe'), { recursive: true });
  writeFileSync(join(dir, 'dist/probe/index.mjs'), '');
  const yml = join(dir, 'action.yml');
  writeFileSync(yml, edit(readFileSync(join(probeDir, 'action.yml'), 'utf8')));
  return { yml, distRoot: join(dir, 'dist') };
}

const check = (
  yml: string,
  distRoot: string,
  definition: ActionDefinition<InputSpec, string> = probe,
  sourceFiles: string[] = [],
) => checkActionContract(yml, definition, { distRoot, sourceFiles, expectedName: 'probe' });

describe('the contract checker', () => {
  it('accepts the probe fixture as it is', () => {
    const { yml, distRoot } = probeWith((text) => text);
    expect(check(yml, distRoot, probe, [join(probeDir, 'definition.ts'), join(probeDir, 'main.ts')])).toEqual([]);
  });

  it.each([
    [
      'a runtime other than node24',
      (t: string) => t.replace('using: node24', 'using: node20'),
      'runs.using is "node20", not node24',
    ],
    [
      'a missing entry file',
      (t: string) => t.replace('main: dist/probe/index.mjs', 'main: dist/probe/gone.mjs'),
      'runs.main dist/probe/gone.mjs does not exist',
    ],
    [
      'an entry outside dist/',
      (t: string) => t.replace('main: dist/probe/index.mjs', 'main: src/main.ts'),
      'runs.main src/main.ts is outside dist/',
    ],
    [
      'an input the code never reads',
      (t: string) => t.replace('inputs:\n', 'inputs:\n  extra:\n    description: unused\n'),
      'input extra is declared but the code never reads it',
    ],
    [
      'an input the code reads but action.yml lacks',
      (t: string) => t.replace(/ {2}fail:\n[^\n]*\n[^\n]*\n/, ''),
      'input fail is read by the code but not declared',
    ],
    [
      'a default that differs',
      (t: string) => t.replace('default: "3"', 'default: "4"'),
      'input max-count: default is "4" in action.yml, "3" in the code',
    ],
    [
      'a required flag that differs',
      (t: string) => t.replace('    required: true\n', ''),
      'input greeting: required is false in action.yml, true in the code',
    ],
    [
      'an undeclared output',
      (t: string) => t.replace(/ {2}tags:\n {4}description: One per line.\n/, ''),
      'output tags is written by the code but not declared',
    ],
    ['a post phase the code lacks', (t: string) => t, 'action.yml runs a post phase the code does not have'],
  ])('reports %s', (_what, edit, problem) => {
    const { yml, distRoot } = probeWith(edit);
    const definition = problem.includes('post phase') ? { ...probe, post: undefined } : probe;
    expect(check(yml, distRoot, definition)).toContain(problem);
  });

  it('reports code that reads the environment around the spec', () => {
    const { yml, distRoot } = probeWith((text) => text);
    const sneaky = join(mkdtempSync(join(tmpdir(), 'slipway-contract-')), 'definition.ts');
    writeFileSync(sneaky, "const token = process.env['INPUT_TOKEN'];\n");
    expect(check(yml, distRoot, probe, [sneaky]).join('\n')).toMatch(/definition\.ts reads the environment directly/);
  });
});

describe('the actions in actions/', () => {
  const folders = actionFolders(repositoryRoot);

  it('each has action.yml, definition.ts and main.ts, and dist/ has an entry for each', () => {
    const entries = existsSync(join(repositoryRoot, 'dist'))
      ? readdirSync(join(repositoryRoot, 'dist')).filter((name) => !['chunks', 'cli', 'licenses.txt'].includes(name))
      : [];
    expect(entries.sort()).toEqual(folders);
    for (const name of folders) {
      for (const file of ['action.yml', 'definition.ts', 'main.ts']) {
        expect(existsSync(join(repositoryRoot, 'actions', name, file)), `actions/${name}/${file}`).toBe(true);
      }
    }
  });

  it.each(folders.map((name) => [name]))('%s keeps its contract with action.yml', async (name) => {
    const dir = join(repositoryRoot, 'actions', name);
    const module = (await import(join(dir, 'definition.ts'))) as Record<string, ActionDefinition<InputSpec, string>>;
    const definition = Object.values(module).find((value) => value && typeof value === 'object' && 'inputs' in value);
    expect(definition, `actions/${name}/definition.ts exports a definition`).toBeDefined();
    const sourceFiles = readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join(dir, f));
    expect(
      checkActionContract(join(dir, 'action.yml'), definition!, {
        distRoot: join(repositoryRoot, 'dist'),
        sourceFiles,
        expectedName: name,
      }),
    ).toEqual([]);
  });
});
