import { describe, expect, it } from 'vitest';
import { detectKind, editorFor, ManifestEditError } from '../../../../shared/gitops/editors/index.js';
import type { EditorKind } from '../../../../shared/gitops/types.js';
import { EDITOR_KINDS } from '../../../../shared/gitops/types.js';
import { fixture } from './support.js';

describe('editorFor', () => {
  it('has one editor per kind, reporting its kind', () => {
    for (const kind of EDITOR_KINDS) expect(editorFor(kind).kind).toBe(kind);
  });
});

describe('detectKind', () => {
  const cases: [path: string, text: string, helm: boolean, kind: EditorKind][] = [
    ['envs/prod/kustomization.yaml', fixture('kustomization.yaml'), false, 'kustomization'],
    ['envs/prod/kustomization.yml', 'resources: []\n', false, 'kustomization'],
    ['envs/prod/Kustomization', 'resources: []\n', false, 'kustomization'],
    ['envs/prod/.argocd-source-api-prod.yaml', fixture('.argocd-source-api-prod.yaml'), false, 'argocd-source'],
    ['apps/prod.yaml', fixture('argocd-application.yaml'), false, 'argocd-application'],
    ['apps/prod.yaml', fixture('argocd-application.yaml'), true, 'argocd-application'],
    ['apps/web.yaml', fixture('flux-helmrelease.yaml'), false, 'flux-marker'],
    ['apps/web.yaml', fixture('flux-helmrelease.yaml'), true, 'helm-values'],
    ['charts/values-prod.yaml', fixture('helm-values.yaml'), true, 'helm-values'],
    ['envs/prod/report.yaml', fixture('workloads.yaml'), false, 'manifest'],
    [
      'clusters/prod/apps.yaml',
      'apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nspec:\n  images: []\n',
      false,
      'kustomization',
    ],
  ];
  it.each(cases)('%s (helm paths: %s) is %s', (path, text, helm, kind) => {
    expect(detectKind(path, text, helm ? { helm: { digest: 'image.digest' } } : undefined)).toBe(kind);
  });

  it('asks for kind: where nothing fits, naming the file and the kinds it saw', () => {
    const error = (() => {
      try {
        detectKind('charts/values-prod.yaml', 'kind: Service\nspec: {}\n');
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(error).toBeInstanceOf(ManifestEditError);
    expect((error as Error).message).toBe(
      "charts/values-prod.yaml: cannot tell how to pin an image in this file (kinds: Service); set the target's kind (kustomization, helm-values, manifest, argocd-application, argocd-source, flux-marker), or helm: { digest: <key path> } for a values file",
    );
    expect(() => detectKind('values.yaml', fixture('helm-values.yaml'))).toThrow(/no kind: field/);
  });
});
