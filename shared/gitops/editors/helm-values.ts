import { InvalidValueError } from '../../core/errors.js';
import type { EditTarget, HelmPaths, ImagePin } from '../types.js';
import { defineEditor } from './define-editor.js';
import { type HelmRole, type HelmSlots, planHelm, readHelm } from './helm-slots.js';
import type { EditPlan, PathKey, YamlFile } from './yaml-file.js';

// A Helm values file, at the key paths the target configures (`image.digest`, `images[0].tag`). A configured key
// that is absent is added under its parent map; a missing parent is the user's to create, since where a chart
// expects it is not ours to guess. Strings inside block scalars (`values: |`) are never looked into. What a pin
// without a tag writes (`repo@digest`, an empty tag, or a refusal for a tag key alone) is explained in helm-slots.ts.

const ROLES: HelmRole[] = ['image', 'repository', 'tag', 'digest'];
const SEGMENT = /^([^.[\]]+)((?:\[\d+\])*)$/;

/** `image.tag` -> ['image', 'tag']; `images[0].tag` -> ['images', 0, 'tag']. */
export function parseKeyPath(path: string): PathKey[] {
  const keys: PathKey[] = [];
  for (const segment of path.split('.')) {
    const match = SEGMENT.exec(segment);
    if (!match) {
      throw new InvalidValueError(
        'helm key path',
        path,
        'dotted keys with optional [index], e.g. image.tag or images[0].tag',
      );
    }
    keys.push(match[1]!);
    for (const index of match[2]!.matchAll(/\[(\d+)\]/g)) keys.push(Number(index[1]));
  }
  return keys;
}

function requireHelm(target: EditTarget): HelmPaths {
  if (!target.helm || !ROLES.some((role) => target.helm?.[role] !== undefined)) {
    throw new InvalidValueError(
      `helm paths of target ${target.file}`,
      JSON.stringify(target.helm ?? {}),
      'at least one of digest, tag, image: e.g. helm: { digest: image.digest, tag: image.tag }',
    );
  }
  return target.helm;
}

function slotsOf(yaml: YamlFile, helm: HelmPaths): HelmSlots {
  if (yaml.documents.length !== 1)
    yaml.fail(undefined, `a values file has one document, this has ${yaml.documents.length}`);
  const root = yaml.root(0);
  const slots: HelmSlots = {};
  for (const role of ROLES) {
    const path = helm[role];
    if (path !== undefined) slots[role] = { path, found: yaml.at(root, parseKeyPath(path)) };
  }
  if (helm.repository !== undefined) {
    const keys = parseKeyPath(helm.repository);
    slots.registry = yaml.at(root, [...keys.slice(0, -1), 'registry']);
  }
  return slots;
}

function read(yaml: YamlFile, target: EditTarget, image: string): ImagePin[] {
  const { pin } = readHelm(yaml, slotsOf(yaml, requireHelm(target)), image);
  return pin ? [{ ...pin, name: pin.name || target.image }] : [];
}

function plan(yaml: YamlFile, edit: EditPlan, target: EditTarget, image: string, pin: ImagePin): void {
  const slots = slotsOf(yaml, requireHelm(target));
  planHelm(yaml, edit, slots, image, pin, (role, slot, value) => {
    const keys = parseKeyPath(slot.path);
    const parent = yaml.at(yaml.root(0), keys.slice(0, -1));
    const key = keys[keys.length - 1]!;
    if (!parent?.node || typeof key === 'number') {
      yaml.fail(undefined, `has no ${slot.path} (and no map to add it to); add the key where the chart expects it`);
    }
    edit.insertPair(parent, key, value, role === 'tag' ? 'string' : 'keep');
  });
}

export const helmValuesEditor = defineEditor({ kind: 'helm-values', read, plan });
