import type { EditTarget, ImagePin } from '../types.js';
import { defineEditor } from './define-editor.js';
import { normaliseName, pinOf } from './image-text.js';
import { type EditPlan, type Found, renderScalar, type YamlFile } from './yaml-file.js';

// kustomization.yaml `images:` entries ({name, newName?, newTag?, digest?}), and the same list at `spec.images` of a
// Flux Kustomization. The entry for the image is updated where it is (matched on `name` or `newName`, normalised);
// a new entry is added only when none exists, since a second entry for one name is what AIU #208 wrote and
// kustomize then applies only one of them. `digest` is written without "@"; a tag that YAML would read as a number
// (`"1.10"`, an all-digit SHA) is quoted.
//
// Without a tag in the pin, an existing `newTag` is removed (its line, with any comment on that line; every other
// byte stays): kustomize since PR #4406 renders `newName:newTag@digest`, so a kept `newTag: "0.0.0"` would render
// `ghcr.io/acme/api:0.0.0@sha256:<new>`, naming another build. With no `newTag`, kustomize drops the resource's own
// tag as well and renders exactly `name@sha256:…` (test/integration/gitops/kustomize-render.test.ts proves it).

interface Entry {
  item: Found;
  name: string | undefined;
  newName: string | undefined;
  newTag: string | undefined;
  digest: string | undefined;
}

interface ImagesList {
  doc: number;
  /** The map that holds (or would hold) `images:`. */
  owner: Found;
  images: Found | undefined;
}

const FLUX_KUSTOMIZE = 'kustomize.toolkit.fluxcd.io/';

function imagesLists(yaml: YamlFile): ImagesList[] {
  return yaml.documents.flatMap((_, doc) => {
    const root = yaml.root(doc);
    const kind = yaml.value(yaml.child(root, 'kind'));
    const apiVersion = yaml.value(yaml.child(root, 'apiVersion')) ?? '';
    if (kind === 'Kustomization' && apiVersion.startsWith(FLUX_KUSTOMIZE)) {
      const spec = yaml.child(root, 'spec');
      return spec ? [{ doc, owner: spec, images: yaml.child(spec, 'images') }] : [];
    }
    if (kind !== undefined && kind !== 'Kustomization' && kind !== 'Component') return [];
    if (yaml.keys(root).length === 0) return [];
    return [{ doc, owner: root, images: yaml.child(root, 'images') }];
  });
}

function entries(yaml: YamlFile, images: Found | undefined): Entry[] {
  return yaml.items(images).map((item) => ({
    item,
    name: yaml.value(yaml.child(item, 'name')),
    newName: yaml.value(yaml.child(item, 'newName')),
    newTag: yaml.value(yaml.child(item, 'newTag')),
    digest: yaml.value(yaml.child(item, 'digest')),
  }));
}

function matches(entry: Entry, image: string): boolean {
  return [entry.name, entry.newName].some((name) => name !== undefined && normaliseName(name) === image);
}

function matching(yaml: YamlFile, image: string): Entry[] {
  return imagesLists(yaml).flatMap((list) => entries(yaml, list.images).filter((entry) => matches(entry, image)));
}

function read(yaml: YamlFile, _target: EditTarget, image: string): ImagePin[] {
  return matching(yaml, image).flatMap((entry) => {
    const pin = pinOf(entry.newName ?? entry.name ?? '', entry.newTag, entry.digest);
    return pin ? [pin] : [];
  });
}

function plan(yaml: YamlFile, edit: EditPlan, target: EditTarget, image: string, pin: ImagePin): void {
  const found = matching(yaml, image);
  const distinct = new Set(found.map((entry) => JSON.stringify([entry.newName, entry.newTag, entry.digest])));
  if (distinct.size > 1) {
    const lines = found.map((entry) => yaml.lineAt(entry.item.node)).join(', ');
    yaml.fail(
      found[1]!.item.node,
      `images: has ${found.length} entries for ${target.image} that disagree (lines ${lines}); keep one entry per image`,
    );
  }
  for (const entry of found) updateEntry(yaml, edit, entry, pin);
  if (found.length === 0) addEntry(yaml, edit, target, pin);
}

function updateEntry(yaml: YamlFile, edit: EditPlan, entry: Entry, pin: ImagePin): void {
  const newTag = yaml.child(entry.item, 'newTag');
  if (pin.tag === undefined) edit.removePair(entry.item, 'newTag');
  else if (newTag) edit.set(newTag, pin.tag);
  else edit.insertPair(entry.item, 'newTag', pin.tag);
  const digest = yaml.child(entry.item, 'digest');
  if (digest) edit.set(digest, pin.digest);
  else edit.insertPair(entry.item, 'digest', pin.digest);
}

function addEntry(yaml: YamlFile, edit: EditPlan, target: EditTarget, pin: ImagePin): void {
  const lists = imagesLists(yaml);
  const list = lists[0];
  if (!list || lists.length > 1) {
    yaml.fail(
      undefined,
      list
        ? `has ${lists.length} kustomizations; cannot tell which should pin ${target.image}`
        : `is not a kustomization (no document with images:, resources: or kind: Kustomization)`,
    );
  }
  const value = { name: target.image, ...(pin.tag === undefined ? {} : { newTag: pin.tag }), digest: pin.digest };
  const fields = [
    `name: ${renderScalar(target.image)}`,
    ...(pin.tag === undefined ? [] : [`newTag: ${renderScalar(pin.tag)}`]),
    `digest: ${renderScalar(pin.digest)}`,
  ];
  if (list.images) {
    const count = yaml.items(list.images).length;
    const lines = fields.map((field, index) => (index === 0 ? `- ${field}` : `  ${field}`));
    edit.insertLines(list.images, 'seq', lines, [...list.images.path, count], value);
    return;
  }
  const indent = ' '.repeat(listIndent(yaml, list.owner));
  const lines = fields.map((field, index) => `${indent}${index === 0 ? '- ' : '  '}${field}`);
  edit.insertLines(list.owner, 'map', ['images:', ...lines], [...list.owner.path, 'images'], [value]);
}

/** How far the file indents a list under its key (`resources:\n- a` is 0, `\n  - a` is 2), so a new one matches. */
function listIndent(yaml: YamlFile, owner: Found): number {
  for (const key of yaml.keys(owner)) {
    const node = yaml.child(owner, key)?.node;
    const token = node?.srcToken;
    if (token?.type !== 'block-seq') continue;
    const keyColumn = column(yaml.text, owner.node?.srcToken?.offset ?? 0);
    return Math.max(0, column(yaml.text, token.offset) - keyColumn);
  }
  return 0;
}

function column(text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1);
}

export const kustomizationEditor = defineEditor({ kind: 'kustomization', read, plan });
