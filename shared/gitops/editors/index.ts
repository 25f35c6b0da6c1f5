import { basename } from 'node:path';
import type { EditorKind, HelmPaths, ManifestEditor } from '../types.js';
import { EDITOR_KINDS } from '../types.js';
import { argocdApplicationEditor, argocdSourceEditor } from './argocd.js';
import { ManifestEditError } from './edit-error.js';
import { fluxMarkerEditor, hasImagePolicyMarkers } from './flux-marker.js';
import { helmValuesEditor } from './helm-values.js';
import { kustomizationEditor } from './kustomization.js';
import { manifestEditor, podSpecPath } from './manifest.js';
import { YamlFile } from './yaml-file.js';

// One editor per file format, chosen by the target's `kind:` or detected from the file. Detection, in order:
//  1. the file name: kustomization.yaml/.yml/Kustomization; .argocd-source-<app>.yaml;
//  2. an Argo CD Application document (argoproj.io);
//  3. helm key paths configured on the target: a values file (or a HelmRelease) edited at those keys;
//  4. a Flux `$imagepolicy` marker: the marker is the user's own statement of which field holds the image, and it
//     reaches fields no other editor knows (split repository/tag/digest), so it wins over the workload kinds;
//  5. a document of a workload kind (Deployment ... Rollout, Pod) or a Flux Kustomization;
//  otherwise an error asking for `kind:`. A values file cannot be told from any other YAML map by its content.

export { ManifestEditError } from './edit-error.js';

const EDITORS: Record<EditorKind, ManifestEditor> = {
  kustomization: kustomizationEditor,
  'helm-values': helmValuesEditor,
  manifest: manifestEditor,
  'argocd-application': argocdApplicationEditor,
  'argocd-source': argocdSourceEditor,
  'flux-marker': fluxMarkerEditor,
};

export function editorFor(kind: EditorKind): ManifestEditor {
  const editor = EDITORS[kind];
  if (!editor) throw new Error(`no manifest editor for kind ${String(kind)}`);
  return editor;
}

const KUSTOMIZATION_FILES = new Set(['kustomization.yaml', 'kustomization.yml', 'Kustomization']);
const ARGOCD_SOURCE = /^\.argocd-source(-.+)?\.ya?ml$/;

/** Picks the editor for a target whose `kind:` is not set; `target.helm` counts as saying "helm values". */
export function detectKind(path: string, text: string, target?: { helm?: HelmPaths }): EditorKind {
  const name = basename(path);
  if (KUSTOMIZATION_FILES.has(name)) return 'kustomization';
  if (ARGOCD_SOURCE.test(name)) return 'argocd-source';
  const yaml = YamlFile.parse(path, text);
  const kinds = yaml.documents.map((_, doc) => {
    const root = yaml.root(doc);
    return { kind: yaml.value(yaml.child(root, 'kind')), apiVersion: yaml.value(yaml.child(root, 'apiVersion')) ?? '' };
  });
  if (kinds.some(({ kind, apiVersion }) => kind === 'Application' && apiVersion.startsWith('argoproj.io/'))) {
    return 'argocd-application';
  }
  if (target?.helm) return 'helm-values';
  if (hasImagePolicyMarkers(text)) return 'flux-marker';
  if (
    kinds.some(
      ({ kind, apiVersion }) => kind === 'Kustomization' && apiVersion.startsWith('kustomize.toolkit.fluxcd.io/'),
    )
  ) {
    return 'kustomization';
  }
  if (kinds.some(({ kind, apiVersion }) => podSpecPath(kind, apiVersion) !== undefined)) return 'manifest';
  const found = kinds.flatMap(({ kind }) => (kind === undefined ? [] : [kind]));
  throw new ManifestEditError(
    path,
    undefined,
    `cannot tell how to pin an image in this file (${found.length > 0 ? `kinds: ${[...new Set(found)].join(', ')}` : 'no kind: field'}); ` +
      `set the target's kind (${EDITOR_KINDS.join(', ')}), or helm: { digest: <key path> } for a values file`,
  );
}
