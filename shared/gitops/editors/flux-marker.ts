import { isAlias, isScalar } from 'yaml';
import type { EditTarget, ImagePin } from '../types.js';
import { defineEditor } from './define-editor.js';
import { formatImage, type ImageText, normaliseName, pinOf, splitImage } from './image-text.js';
import type { EditPlan, Found, YamlFile } from './yaml-file.js';

// Flux image-automation setter markers used as locators, so Flux users adopt Slipway without relabelling:
//   image: ghcr.io/o/app:1.2.3 # {"$imagepolicy": "ns:policy"}          the whole reference
//   repository: ghcr.io/o/app # {"$imagepolicy": "ns:policy:name"}       split fields (HelmRelease values)
//   tag: 1.2.3 # {"$imagepolicy": "ns:policy:tag"}
//   digest: sha256:… # {"$imagepolicy": "ns:policy:digest"}
// The marker names a policy, not an image: a policy's fields are ours when its whole-reference or `:name` value is
// the target's image. Only the value token changes; the comment after it is another token, kept byte for byte.
// Without a `:digest` field, the `:tag` field carries `tag@digest` (image-automation-controller #960).
//
// A pin without a tag never leaves the old tag beside the new digest (it would name another build): a whole
// reference becomes `name@digest`; a `:tag` field next to a `:digest` field becomes "" (the line and its marker
// stay, for Flux; a chart's values and a kustomization's `newTag` both render `name@digest` from an empty tag);
// a `:tag` field alone, which must hold `tag@digest`, is refused, since `name:@digest` is no reference.

const MARKER = /\{\s*"\$imagepolicy"\s*:\s*"([^"]+)"\s*\}/;

type Field = 'image' | 'name' | 'tag' | 'digest';

interface Marked {
  policy: string;
  found: Found;
  value: string;
  field: Field;
}

interface Policy {
  id: string;
  fields: Marked[];
  name: string | undefined;
}

function markedValues(yaml: YamlFile): Marked[] {
  const out: Marked[] = [];
  const walk = (found: Found | undefined): void => {
    if (!found?.node || isAlias(found.node)) return;
    if (isScalar(found.node)) {
      const token = found.node.srcToken;
      const comments = token && 'end' in token ? (token.end ?? []) : [];
      for (const comment of comments) {
        const match = comment.type === 'comment' ? MARKER.exec(comment.source) : null;
        const value = yaml.value(found);
        if (!match || value === undefined) continue;
        const parts = match[1]!.split(':');
        const field = (parts.length > 2 ? parts[2] : 'image') as Field;
        if (['image', 'name', 'tag', 'digest'].includes(field)) {
          out.push({ policy: parts.slice(0, 2).join(':'), found, value, field });
        }
      }
      return;
    }
    for (const key of yaml.keys(found)) walk(yaml.child(found, key));
    for (const item of yaml.items(found)) walk(item);
  };
  for (let doc = 0; doc < yaml.documents.length; doc++) walk(yaml.root(doc));
  return out;
}

function policies(yaml: YamlFile): Policy[] {
  const byId = new Map<string, Policy>();
  for (const marked of markedValues(yaml)) {
    const policy = byId.get(marked.policy) ?? { id: marked.policy, fields: [], name: undefined };
    policy.fields.push(marked);
    if (marked.field === 'image') policy.name ??= splitImage(marked.value).name;
    if (marked.field === 'name') policy.name ??= marked.value;
    byId.set(marked.policy, policy);
  }
  return [...byId.values()];
}

function current(policy: Policy): ImageText {
  const whole = policy.fields.find((field) => field.field === 'image');
  if (whole) return splitImage(whole.value);
  const tagText = policy.fields.find((field) => field.field === 'tag')?.value;
  const at = tagText?.indexOf('@') ?? -1;
  const tag = at >= 0 ? tagText!.slice(0, at) : tagText;
  const digest =
    policy.fields.find((field) => field.field === 'digest')?.value ?? (at >= 0 ? tagText!.slice(at + 1) : undefined);
  return { name: policy.name ?? '', ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

function ours(yaml: YamlFile, image: string): Policy[] {
  return policies(yaml).filter((policy) => policy.name !== undefined && normaliseName(policy.name) === image);
}

function read(yaml: YamlFile, _target: EditTarget, image: string): ImagePin[] {
  return ours(yaml, image).flatMap((policy) => {
    const now = current(policy);
    const pin = pinOf(now.name, now.tag, now.digest);
    return pin ? [pin] : [];
  });
}

function plan(yaml: YamlFile, edit: EditPlan, target: EditTarget, image: string, pin: ImagePin): void {
  const found = ours(yaml, image);
  if (found.length === 0) {
    const unnamed = policies(yaml).filter((policy) => policy.name === undefined);
    yaml.fail(
      undefined,
      unnamed.length > 0
        ? `no $imagepolicy marker here names ${target.image}; policies ${unnamed.map((p) => p.id).join(', ')} mark only tag or digest fields, so add a ":name" marker to the repository field`
        : `no $imagepolicy marker here names ${target.image}`,
    );
  }
  const distinct = new Set(found.map((policy) => formatImage(current(policy))));
  if (distinct.size > 1) {
    yaml.fail(
      found[1]!.fields[0]!.found.node,
      `policies ${found.map((p) => p.id).join(', ')} mark ${target.image} with different pins; cannot tell which to change`,
    );
  }
  for (const policy of found) {
    const hasDigest = policy.fields.some((field) => field.field === 'digest');
    for (const marked of policy.fields) {
      if (marked.field === 'image') {
        const whole = splitImage(marked.value);
        edit.set(marked.found, formatImage({ name: whole.name, tag: pin.tag, digest: pin.digest }));
      } else if (marked.field === 'digest') {
        edit.set(marked.found, pin.digest);
      } else if (marked.field === 'tag') {
        if (hasDigest) {
          edit.set(marked.found, pin.tag ?? '', pin.tag === undefined ? 'string' : 'keep');
        } else {
          if (pin.tag === undefined) {
            yaml.fail(
              marked.found.node,
              `policy ${policy.id} has no :digest field, so its :tag field must hold tag@digest, and the promotion gives no tag; mark a digest field or promote with a tag`,
            );
          }
          edit.set(marked.found, `${pin.tag}@${pin.digest}`);
        }
      }
    }
  }
}

/** Whether text carries any marker: a cheap screen before parsing, as Flux's own reader does. */
export function hasImagePolicyMarkers(text: string): boolean {
  return text.includes('"$imagepolicy"');
}

export const fluxMarkerEditor = defineEditor({ kind: 'flux-marker', read, plan });
