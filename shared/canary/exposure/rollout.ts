import { isMap, isScalar, isSeq, type Pair, type YAMLMap } from 'yaml';
import { ManifestEditError } from '../../gitops/editors/edit-error.js';
import { type Found, YamlFile } from '../../gitops/editors/yaml-file.js';
import type { ExposureEditor } from './index.js';
import {
  checkWeight,
  commitSplices,
  documentValues,
  formatWeight,
  numberSplice,
  refuseShared,
  type Splice,
  withValue,
} from './splice.js';

// The canary weight of an Argo Rollouts `Rollout` (spec.strategy.canary.steps), written so that Argo reacts to each
// edit predictably. The controller hashes the step list; any change to it resets the rollout status and replays
// the list from its first step (rollout/sync.go resetRolloutStatus). Editing one setWeight inside a user's
// multi-step list would therefore replay every earlier step, pause and analysis on each Slipway step, and a
// `pause: {}` can only be left through the status subresource (kubectl argo rollouts promote), never from Git
// (argo-rollouts #2906). So Slipway owns the list and keeps it to the one shape whose replay IS the weight:
//
//   0 < weight < 100:  steps: [{setWeight: w}, {pause: {}}]   the canary goes straight to w and holds there
//   weight 0:          steps: [{setWeight: 0}, {pause: {}}]   no traffic to the canary (rollback re-pins after)
//   weight 100:        steps: [{setWeight: 100}]              the list completes: the canary becomes stable
//
// In steady state (no canary running) a steps-only edit starts nothing, so writing a weight is harmless there.
// A list holding anything but setWeight and pause steps (analysis, experiment, setCanaryScale, routes) is refused
// rather than silently dropped. read() is the weight the rollout holds at: the last setWeight before the first
// indefinite pause, or 100 where the list runs to its end.

const SHAPE = 'steps: [{setWeight: <percent>}, {pause: {}}] (Slipway writes this shape)';

interface Located {
  yaml: YamlFile;
  canary: Found;
  steps: Found | undefined;
  name: string;
}

export function rolloutEditor(): ExposureEditor {
  return {
    kind: 'rollout',
    read(text, file) {
      const { yaml, steps } = locate(YamlFile.parse(file, text));
      return heldWeight(yaml, steps ? stepsOf(yaml, steps) : []);
    },
    apply(text, file, weight) {
      checkWeight(weight);
      const located = locate(YamlFile.parse(file, text));
      const { yaml, canary, steps, name } = located;
      const desired: unknown[] = weight < 100 ? [{ setWeight: weight }, { pause: {} }] : [{ setWeight: weight }];
      const current = steps ? stepsOf(yaml, steps) : undefined;
      if (current && JSON.stringify(current) === JSON.stringify(desired)) return text;
      const foreign = (current ?? []).flatMap((step) =>
        step && typeof step === 'object'
          ? Object.keys(step).filter((key) => key !== 'setWeight' && key !== 'pause')
          : [],
      );
      if (foreign.length > 0) {
        throw new ManifestEditError(
          file,
          yaml.lineAt(steps?.node),
          `the canary steps of Rollout ${name} hold ${[...new Set(foreign)].join(', ')}, which Slipway would drop: ` +
            `it drives the weight itself and writes ${SHAPE}; move analysis to the canary action's metrics`,
        );
      }
      const expected = documentValues(yaml);
      expected[canary.doc] = withValue(expected[canary.doc], [...canary.path, 'steps'], desired);
      return commitSplices(yaml, [stepsSplice(yaml, canary, steps, current, weight, desired)], expected);
    },
  };
}

function locate(yaml: YamlFile): Located {
  const rollouts = yaml.documents
    .map((_, doc) => yaml.root(doc))
    .filter(
      (root) =>
        yaml.value(yaml.child(root, 'kind')) === 'Rollout' &&
        (yaml.value(yaml.child(root, 'apiVersion')) ?? '').startsWith('argoproj.io/'),
    );
  if (rollouts.length !== 1) {
    throw new ManifestEditError(
      yaml.file,
      rollouts.length > 1 ? yaml.lineAt(rollouts[1]!.node) : undefined,
      rollouts.length === 0
        ? 'no Argo Rollouts Rollout (apiVersion argoproj.io/v1alpha1, kind Rollout) to set the canary weight in'
        : `${rollouts.length} Rollouts; the exposure file must hold exactly one`,
    );
  }
  const root = rollouts[0]!;
  const name = yaml.value(yaml.at(root, ['metadata', 'name'])) ?? '(unnamed)';
  const canary = yaml.at(root, ['spec', 'strategy', 'canary']);
  if (!canary || !isMap(canary.node)) {
    throw new ManifestEditError(
      yaml.file,
      yaml.lineAt(root.node),
      `Rollout ${name} has no spec.strategy.canary mapping (a blueGreen strategy has no canary weight)`,
    );
  }
  const steps = yaml.child(canary, 'steps');
  return { yaml, canary, steps: steps?.node ? steps : undefined, name };
}

function stepsOf(yaml: YamlFile, steps: Found): unknown[] {
  const value = steps.node?.toJS(yaml.documents[steps.doc]!) as unknown;
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) {
    return yaml.fail(steps.node, 'spec.strategy.canary.steps is not a list');
  }
  return value;
}

function heldWeight(yaml: YamlFile, steps: unknown[]): number {
  let weight = 0;
  for (const step of steps) {
    if (!step || typeof step !== 'object') continue;
    const { setWeight, pause } = step as { setWeight?: unknown; pause?: unknown };
    if (setWeight !== undefined) {
      if (typeof setWeight !== 'number' || setWeight < 0 || setWeight > 100) {
        throw new ManifestEditError(yaml.file, undefined, `setWeight ${JSON.stringify(setWeight)} is not a percent`);
      }
      weight = setWeight;
    }
    // `pause: {}` (or without a duration) waits for a promote that only the status subresource gives.
    if (pause !== undefined && (pause === null || typeof pause !== 'object' || !('duration' in pause))) return weight;
  }
  return 100;
}

function stepsSplice(
  yaml: YamlFile,
  canary: Found,
  steps: Found | undefined,
  current: unknown[] | undefined,
  weight: number,
  desired: unknown[],
): Splice {
  const text = yaml.text;
  // The list is already [setWeight, pause: {}] and stays so: only the number changes.
  if (steps && current?.length === 2 && desired.length === 2 && isSeq(steps.node)) {
    const first = yaml.child(steps, 0);
    const second = current[1] as { pause?: unknown };
    const setWeight = yaml.child(first, 'setWeight');
    if (setWeight?.node && isScalar(setWeight.node) && JSON.stringify(second) === '{"pause":{}}') {
      return numberSplice(yaml, setWeight, weight);
    }
  }
  refuseShared(yaml, canary);
  const map = canary.node as YAMLMap;
  const pair = map.items.find((item) => isScalar(item.key) && item.key.value === 'steps') as Pair | undefined;
  const flow = desired
    .map((step) => (Object.hasOwn(step as object, 'pause') ? '{pause: {}}' : `{setWeight: ${formatWeight(weight)}}`))
    .join(', ');
  if (!pair) {
    if (map.flow) yaml.fail(map, 'spec.strategy.canary is a flow mapping; write it as a block mapping');
    // A new key, indented like the canary map's first key, on the line after its last entry.
    const first = map.items[0]!.key as { range: [number, number, number] };
    const indent = ' '.repeat(first.range[0] - (text.lastIndexOf('\n', first.range[0] - 1) + 1));
    const last = map.items[map.items.length - 1]!;
    const end = ((last.value ?? last.key) as { range: [number, number, number] }).range[1];
    const at = text[end - 1] === '\n' ? end : text.indexOf('\n', end) < 0 ? text.length : text.indexOf('\n', end) + 1;
    const line = `${indent}steps: [${flow}]`;
    return { start: at, end: at, text: at === text.length && !text.endsWith('\n') ? `\n${line}` : `${line}\n` };
  }
  const keyEnd = (pair.key as { range: [number, number, number] }).range[1];
  const colon = text.indexOf(':', keyEnd) + 1;
  const value = pair.value as { range?: [number, number, number]; flow?: boolean } | null;
  let end = value?.range?.[1] ?? colon;
  while (end > colon && /\s/.test(text[end - 1]!)) end--;
  if (steps && isSeq(steps.node) && !steps.node.flow && steps.node.items.length > 0 && steps.node.range) {
    // A block list stays a block list, its items at their column; what stood between `steps:` and the first
    // item (a comment, the line break, the indentation) is kept as it was.
    const start = steps.node.range[0];
    const indent = ' '.repeat(start - (text.lastIndexOf('\n', start - 1) + 1));
    const eol = text.includes('\r\n') ? '\r\n' : '\n';
    const lines = desired.map((step) =>
      Object.hasOwn(step as object, 'pause') ? `${indent}- pause: {}` : `${indent}- setWeight: ${formatWeight(weight)}`,
    );
    return { start: colon, end, text: `${text.slice(colon, start)}${lines.join(eol).trimStart()}` };
  }
  return { start: colon, end, text: ` [${flow}]` };
}
