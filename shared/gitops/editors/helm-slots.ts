import type { HelmPaths, ImagePin } from '../types.js';
import { formatImage, normaliseName, pinOf, splitImage } from './image-text.js';
import type { EditPlan, Found, YamlFile } from './yaml-file.js';

// Where a chart keeps its image is the user's to say (there is no standard key: promotion.md §4), as dotted paths
// for the digest, the tag, the repository, or one `image` key holding `repo:tag@digest`. The same four roles appear
// as keys in a values file and as `helm.parameters` names in an Argo CD Application; this module reads and writes
// them wherever they live. Tags are always written as quoted strings: a chart renders `{{ .Values.image.tag }}`,
// and `1.10` unquoted would reach it as the number 1.1.
//
// A pin without a tag never leaves the file's old tag beside the new digest (it would name another build):
//  - one `image` key: `repo@digest`, rendered as written;
//  - a digest key and a tag key: the tag becomes "" (kept, not removed: a removed key falls back to the chart's
//    default tag, often a real version, while "" is what charts test for: Bitnami's and most `_helpers.tpl` render
//    `repo@digest` when the digest is set or the tag is empty). A configured tag key that is absent stays absent;
//  - a tag key alone (no digest key) holds `tag@digest` for a template rendering `repo:tag`, which cannot render
//    without a tag (`repo:@sha256:…` is no reference): refused, asking for a digest key or a tagged promotion.

export type HelmRole = keyof HelmPaths;

export interface HelmSlot {
  /** The configured path, for messages. */
  path: string;
  found: Found | undefined;
}

export type HelmSlots = Partial<Record<HelmRole, HelmSlot>> & {
  /** Bitnami charts split the registry into a sibling `registry` key. */
  registry?: Found | undefined;
};

export interface HelmPinSource {
  pin: ImagePin | undefined;
  /** The configured repository (or image) names another image: these keys are not this service's. */
  otherImage?: string;
}

export function readHelm(yaml: YamlFile, slots: HelmSlots, image: string): HelmPinSource {
  if (slots.image) {
    const text = yaml.value(slots.image.found);
    if (text === undefined) return { pin: undefined };
    const current = splitImage(text);
    if (normaliseName(current.name) !== image) return { pin: undefined, otherImage: current.name };
    return { pin: pinOf(current.name, current.tag, current.digest) };
  }
  let name: string | undefined;
  const repository = yaml.value(slots.repository?.found);
  if (repository !== undefined) {
    const registry = yaml.value(slots.registry);
    const candidates = registry === undefined ? [repository] : [`${registry}/${repository}`, repository];
    name = candidates.find((candidate) => normaliseName(candidate) === image);
    if (name === undefined) return { pin: undefined, otherImage: candidates[0] };
  }
  let tag = yaml.value(slots.tag?.found);
  let digest = yaml.value(slots.digest?.found);
  if (!slots.digest && tag !== undefined) ({ tag, digest } = splitTagDigest(tag));
  return { pin: pinOf(name ?? '', tag, digest) };
}

function splitTagDigest(text: string): { tag: string | undefined; digest: string | undefined } {
  const at = text.indexOf('@');
  return at < 0
    ? { tag: text, digest: undefined }
    : { tag: text.slice(0, at) || undefined, digest: text.slice(at + 1) };
}

/**
 * Plans the writes; `add` is called for a role whose key is configured but absent, and may refuse. Returns false
 * when the keys hold another image, so the caller can say so.
 */
export function planHelm(
  yaml: YamlFile,
  edit: EditPlan,
  slots: HelmSlots,
  image: string,
  pin: ImagePin,
  add: (role: HelmRole, slot: HelmSlot, value: string) => void,
): void {
  const current = readHelm(yaml, slots, image);
  if (current.otherImage !== undefined) {
    const slot = slots.image ?? slots.repository!;
    yaml.fail(
      slot.found?.node,
      `${slot.path} names ${current.otherImage}, not this service's image; check the target's helm paths`,
    );
  }
  const write = (role: HelmRole, value: string, quote: 'keep' | 'string') => {
    const slot = slots[role]!;
    if (slot.found) edit.set(slot.found, value, quote);
    else add(role, slot, value);
  };
  if (slots.image) {
    const text = yaml.value(slots.image.found);
    if (text === undefined) yaml.fail(slots.image.found?.node, `${slots.image.path} is missing or not a string`);
    const was = splitImage(text);
    write('image', formatImage({ name: was.name, tag: pin.tag, digest: pin.digest }), 'keep');
    return;
  }
  if (slots.digest) {
    write('digest', pin.digest, 'keep');
    if (slots.tag && pin.tag !== undefined) write('tag', pin.tag, 'string');
    else if (slots.tag?.found && yaml.value(slots.tag.found)) write('tag', '', 'string');
    return;
  }
  if (slots.tag) {
    // No digest key: the tag carries `tag@digest`, which charts rendering `repo:tag` turn into a pinned reference.
    if (pin.tag === undefined) {
      yaml.fail(
        slots.tag.found?.node,
        `${slots.tag.path} must hold tag@digest (no digest key is configured), and the promotion gives no tag; configure a digest key (helm: { digest: ... }) or promote with a tag`,
      );
    }
    write('tag', `${pin.tag}@${pin.digest}`, 'string');
    return;
  }
  yaml.fail(undefined, 'the target names no helm key for the digest, tag or image (helm: { digest: image.digest })');
}
