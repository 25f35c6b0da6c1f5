import type { EditTarget, HelmPaths, ImagePin } from '../types.js';
import { defineEditor } from './define-editor.js';
import { type HelmRole, type HelmSlots, planHelm, readHelm } from './helm-slots.js';
import { formatImage, normaliseName, pinOf, splitImage } from './image-text.js';
import type { EditPlan, Found, YamlFile } from './yaml-file.js';

// Argo CD overrides: an Application's `spec.source` (or each of `spec.sources`) and the `.argocd-source-<app>.yaml`
// file Argo CD merges into a source. Both hold `kustomize.images`, a list of strings `[alias=]image[:tag][@digest]`,
// and `helm.parameters`, a list of {name, value, forceString}. Images are matched on the alias or on the image;
// helm parameters on the names the target's helm paths give. The string keeps its alias and name and gets
// `:tag@digest` (kustomize parses tag and digest together since 5.2, kubernetes-sigs/kustomize #4713, which
// Argo CD bundles since 2.9), or `@digest` alone when the pin has no tag: Argo CD hands the string to
// `kustomize edit set image`, which replaces the whole images: entry with what the string says, so `name@digest`
// renders `name@sha256:…` with no tag, where a kept tag would name another build. Helm parameters follow
// helm-slots.ts. Entries are only updated here, never added: which source an override belongs in is the
// application owner's choice.

interface Source {
  found: Found;
  /** For messages: the application and source. */
  label: string;
}

interface KustomizeImage {
  found: Found;
  alias: string | undefined;
  value: string;
}

const ROLES: HelmRole[] = ['image', 'repository', 'tag', 'digest'];

function applicationSources(yaml: YamlFile, target: EditTarget): Source[] {
  return yaml.documents.flatMap((_, doc) => {
    const root = yaml.root(doc);
    if (yaml.value(yaml.child(root, 'kind')) !== 'Application') return [];
    if (!(yaml.value(yaml.child(root, 'apiVersion')) ?? '').startsWith('argoproj.io/')) return [];
    const name = yaml.value(yaml.at(root, ['metadata', 'name'])) ?? '?';
    if (target.application !== undefined && name !== target.application) return [];
    const spec = yaml.child(root, 'spec');
    const single = yaml.child(spec, 'source');
    return [
      ...(single?.node ? [{ found: single, label: `${name} spec.source` }] : []),
      ...yaml.items(yaml.child(spec, 'sources')).map((found, i) => ({ found, label: `${name} spec.sources[${i}]` })),
    ];
  });
}

function sourceFile(yaml: YamlFile): Source[] {
  return yaml.documents.map((_, doc) => ({ found: yaml.root(doc), label: 'the source override' }));
}

function kustomizeImages(yaml: YamlFile, sources: Source[], image: string): KustomizeImage[] {
  return sources.flatMap((source) =>
    yaml.items(yaml.at(source.found, ['kustomize', 'images'])).flatMap((found): KustomizeImage[] => {
      const text = yaml.value(found);
      if (text === undefined) return [];
      const equals = text.indexOf('=');
      const alias = equals >= 0 ? text.slice(0, equals) : undefined;
      const value = equals >= 0 ? text.slice(equals + 1) : text;
      const names = [alias, splitImage(value).name].filter((name) => name !== undefined);
      return names.some((name) => normaliseName(name) === image) ? [{ found, alias, value }] : [];
    }),
  );
}

function helmSlots(yaml: YamlFile, source: Source, helm: HelmPaths | undefined): HelmSlots | undefined {
  if (!helm) return undefined;
  const parameters = yaml.items(yaml.at(source.found, ['helm', 'parameters']));
  const slots: HelmSlots = {};
  let any = false;
  for (const role of ROLES) {
    const path = helm[role];
    if (path === undefined) continue;
    const parameter = parameters.find((item) => yaml.value(yaml.child(item, 'name')) === path);
    slots[role] = { path: `helm parameter ${path}`, found: parameter && yaml.child(parameter, 'value') };
    any ||= parameter !== undefined;
  }
  return any ? slots : undefined;
}

function readSources(yaml: YamlFile, sources: Source[], target: EditTarget, image: string): ImagePin[] {
  const images = kustomizeImages(yaml, sources, image).flatMap(({ value }) => {
    const now = splitImage(value);
    const pin = pinOf(now.name, now.tag, now.digest);
    return pin ? [pin] : [];
  });
  const helm = sources.flatMap((source) => {
    const slots = helmSlots(yaml, source, target.helm);
    const pin = slots && readHelm(yaml, slots, image).pin;
    return pin ? [{ ...pin, name: pin.name || target.image }] : [];
  });
  return [...images, ...helm];
}

function planSources(
  yaml: YamlFile,
  edit: EditPlan,
  sources: Source[],
  target: EditTarget,
  image: string,
  pin: ImagePin,
): void {
  const images = kustomizeImages(yaml, sources, image);
  const helm = sources.flatMap((source) => {
    const slots = helmSlots(yaml, source, target.helm);
    return slots ? [{ source, slots }] : [];
  });
  if (images.length === 0 && helm.length === 0) {
    const what = target.helm
      ? `kustomize.images entry or helm parameter (${Object.values(target.helm).join(', ')})`
      : 'kustomize.images entry';
    yaml.fail(
      undefined,
      `no ${what} for ${target.image} in ${sources.map((s) => s.label).join(', ') || 'any Argo CD source'}`,
    );
  }
  const distinct = new Set(images.map((entry) => formatImage(splitImage(entry.value))));
  if (distinct.size > 1) {
    yaml.fail(
      images[1]!.found.node,
      `kustomize.images pins ${target.image} differently in several places (lines ${images.map((i) => yaml.lineAt(i.found.node)).join(', ')}); set \`application:\` on the target to choose one`,
    );
  }
  for (const entry of images) {
    const now = splitImage(entry.value);
    const next = formatImage({ name: now.name, tag: pin.tag, digest: pin.digest });
    edit.set(entry.found, entry.alias === undefined ? next : `${entry.alias}=${next}`);
  }
  for (const { source, slots } of helm) {
    planHelm(yaml, edit, slots, image, pin, (_, slot) =>
      yaml.fail(undefined, `${source.label} has no ${slot.path}; add the parameter (with forceString: true) first`),
    );
  }
}

export const argocdApplicationEditor = defineEditor({
  kind: 'argocd-application',
  read: (yaml, target, image) => readSources(yaml, applicationSources(yaml, target), target, image),
  plan: (yaml, edit, target, image, pin) =>
    planSources(yaml, edit, applicationSources(yaml, target), target, image, pin),
});

export const argocdSourceEditor = defineEditor({
  kind: 'argocd-source',
  read: (yaml, target, image) => readSources(yaml, sourceFile(yaml), target, image),
  plan: (yaml, edit, target, image, pin) => planSources(yaml, edit, sourceFile(yaml), target, image, pin),
});
