import type { EditTarget, ImagePin } from '../types.js';
import { defineEditor } from './define-editor.js';
import { formatImage, type ImageText, normaliseName, pinOf, splitImage } from './image-text.js';
import type { EditPlan, Found, PathKey, YamlFile } from './yaml-file.js';

// Raw Kubernetes manifests: `image:` of containers, initContainers and ephemeralContainers in the pod spec of each
// workload kind, in files of any number of documents. The value becomes `name[:tag]@sha256:…` with the name as
// written; the runtime pulls by digest and the tag is there for people, so it is the pin's tag or none: without a
// tag in the pin the value is `name@sha256:…`, since a tag kept from the file would name another build beside the
// new digest. Where one image runs in several containers
// with different pins, which one to change is the user's call (`container:` in .slipway.yaml), never a guess.

const TEMPLATE = ['spec', 'template', 'spec'];
const POD_SPEC: Record<string, PathKey[]> = {
  Pod: ['spec'],
  Deployment: TEMPLATE,
  StatefulSet: TEMPLATE,
  DaemonSet: TEMPLATE,
  ReplicaSet: TEMPLATE,
  Job: TEMPLATE,
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
  Rollout: TEMPLATE,
};
const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'];

interface Use {
  found: Found;
  current: ImageText;
  container: string | undefined;
}

/** Whether a document is a workload this editor knows (a Rollout only from Argo Rollouts). */
export function podSpecPath(kind: string | undefined, apiVersion: string | undefined): PathKey[] | undefined {
  if (kind === undefined || !Object.hasOwn(POD_SPEC, kind)) return undefined;
  if (kind === 'Rollout' && !(apiVersion ?? '').startsWith('argoproj.io/')) return undefined;
  return POD_SPEC[kind];
}

function uses(yaml: YamlFile, target: EditTarget, image: string): Use[] {
  return yaml.documents.flatMap((_, doc) => {
    const root = yaml.root(doc);
    const path = podSpecPath(yaml.value(yaml.child(root, 'kind')), yaml.value(yaml.child(root, 'apiVersion')));
    if (!path) return [];
    const podSpec = yaml.at(root, path);
    return CONTAINER_LISTS.flatMap((list) =>
      yaml.items(yaml.child(podSpec, list)).flatMap((container): Use[] => {
        const found = yaml.child(container, 'image');
        const text = yaml.value(found);
        if (!found || text === undefined) return [];
        const current = splitImage(text);
        if (normaliseName(current.name) !== image) return [];
        const name = yaml.value(yaml.child(container, 'name'));
        if (target.container !== undefined && name !== target.container) return [];
        return [{ found, current, container: name }];
      }),
    );
  });
}

function read(yaml: YamlFile, target: EditTarget, image: string): ImagePin[] {
  return uses(yaml, target, image).flatMap(({ current }) => {
    const pin = pinOf(current.name, current.tag, current.digest);
    return pin ? [pin] : [];
  });
}

function plan(yaml: YamlFile, edit: EditPlan, target: EditTarget, image: string, pin: ImagePin): void {
  const found = uses(yaml, target, image);
  if (found.length === 0) {
    const where = target.container === undefined ? 'container' : `container named "${target.container}"`;
    yaml.fail(
      undefined,
      `no ${where} of a ${Object.keys(POD_SPEC).join(', ')} here runs ${target.image}; check the target's file and image`,
    );
  }
  const distinct = new Set(found.map((use) => formatImage(use.current)));
  if (distinct.size > 1 && target.container === undefined) {
    const list = found.map((use) => `"${use.container ?? '?'}" (line ${yaml.lineAt(use.found.node)})`).join(', ');
    yaml.fail(
      found[0]!.found.node,
      `${target.image} runs with different pins in containers ${list}; set \`container:\` on the target to choose one`,
    );
  }
  for (const use of found) {
    edit.set(use.found, formatImage({ name: use.current.name, tag: pin.tag, digest: pin.digest }));
  }
}

export const manifestEditor = defineEditor({ kind: 'manifest', read, plan });
