import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { ActionDefinition } from '../../shared/runner/action.js';
import type { InputSpec } from '../../shared/runner/inputs.js';
import { type ActionMetadata, readActionMetadata } from './runner-harness.js';

// The metadata contract between an action.yml and the code behind it. The runner trusts action.yml
// (it sets INPUT_* for declared defaults and exposes declared outputs) while the code trusts its input
// spec; any difference is a bug users meet as a silently ignored input or an output that never appears.

/** Every problem found, as sentences; empty when the contract holds. */
export function checkActionContract(
  actionYmlPath: string,
  definition: ActionDefinition<InputSpec, string>,
  options: { distRoot: string; sourceFiles: string[]; expectedName: string },
): string[] {
  const problems: string[] = [];
  const metadata: ActionMetadata = readActionMetadata(actionYmlPath);
  const actionDir = resolve(actionYmlPath, '..');

  if (definition.name !== options.expectedName) {
    problems.push(
      `definition name is ${JSON.stringify(definition.name)}, its folder ${JSON.stringify(options.expectedName)}`,
    );
  }
  if (metadata.runs?.using !== 'node24')
    problems.push(`runs.using is ${JSON.stringify(metadata.runs?.using)}, not node24`);
  for (const phase of ['main', 'post'] as const) {
    const target = metadata.runs?.[phase];
    if (target === undefined) continue;
    const path = resolve(actionDir, target);
    if (relative(options.distRoot, path).startsWith('..')) problems.push(`runs.${phase} ${target} is outside dist/`);
    else if (!existsSync(path)) problems.push(`runs.${phase} ${target} does not exist`);
  }
  if (Boolean(metadata.runs?.post) !== Boolean(definition.post)) {
    problems.push(
      definition.post
        ? 'the code has a post phase that action.yml does not run'
        : 'action.yml runs a post phase the code does not have',
    );
  }

  const declared = metadata.inputs ?? {};
  for (const [name, input] of Object.entries(definition.inputs)) {
    const yml = declared[name];
    if (!yml) {
      problems.push(`input ${name} is read by the code but not declared`);
      continue;
    }
    if (!yml.description) problems.push(`input ${name} has no description`);
    if (Boolean(yml.required) !== input.required)
      problems.push(`input ${name}: required is ${Boolean(yml.required)} in action.yml, ${input.required} in the code`);
    const ymlDefault = yml.default === undefined ? undefined : String(yml.default);
    if (ymlDefault !== input.default) {
      problems.push(
        `input ${name}: default is ${JSON.stringify(ymlDefault)} in action.yml, ${JSON.stringify(input.default)} in the code`,
      );
    }
  }
  for (const name of Object.keys(declared)) {
    if (!(name in definition.inputs)) problems.push(`input ${name} is declared but the code never reads it`);
  }

  const outputs = metadata.outputs ?? {};
  for (const name of definition.outputs) {
    if (!outputs[name]) problems.push(`output ${name} is written by the code but not declared`);
    else if (!outputs[name].description) problems.push(`output ${name} has no description`);
  }
  for (const name of Object.keys(outputs)) {
    if (!definition.outputs.includes(name)) problems.push(`output ${name} is declared but the code never writes it`);
  }

  // Inputs reach the code only through the spec; a direct read would bypass the contract above.
  for (const file of options.sourceFiles) {
    const text = readFileSync(file, 'utf8');
    if (/process\.env|INPUT_|getInput\(/.test(text))
      problems.push(`${relative(actionDir, file)} reads the environment directly`);
  }
  return problems;
}

/** The action folders of the repository: each has action.yml, definition.ts and main.ts. */
export function actionFolders(repositoryRoot: string): string[] {
  const dir = join(repositoryRoot, 'actions');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}
