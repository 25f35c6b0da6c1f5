import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { editorFor } from '../../../shared/gitops/editors/index.js';
import type { EditTarget, ImagePin } from '../../../shared/gitops/types.js';
import { requireTool } from '../../support/services.js';
import { FIXTURES, VARIANTS } from '../../unit/gitops/editors/support.js';

// The editors' output rendered by the real kustomize (kubectl's built-in), so "pinned by digest" means what the
// cluster would get, not what our own parser thinks.

const run = promisify(execFile);
const NEW = `sha256:${'ab'.repeat(32)}` as const;
const API = 'ghcr.io/acme/api';
let kubectl: string;
let dirs: string[] = [];

beforeAll(() => {
  // No Debian package ships kubectl; it comes with the machine image.
  kubectl = requireTool('kubectl', 'kubectl (on the machine image)');
});

afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

function gitopsCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-kustomize-'));
  dirs.push(dir);
  cpSync(join(FIXTURES, 'kustomize'), dir, { recursive: true });
  return dir;
}

function edit(file: string, pin: ImagePin, make: (text: string) => string = (text) => text): string {
  const target: EditTarget = { file, kind: 'kustomization', image: API };
  const original = make(readFileSync(file, 'utf8'));
  const result = editorFor('kustomization').apply(original, target, pin);
  expect(result.changed).toBe(true);
  writeFileSync(file, result.text);
  return result.text;
}

async function renderedImages(overlay: string): Promise<Record<string, string>> {
  const { stdout } = await run(kubectl, ['kustomize', overlay], { maxBuffer: 16 * 1024 * 1024 });
  const deployment = parseAllDocuments(stdout)
    .map((doc) => doc.toJS())
    .find((object) => object?.kind === 'Deployment' && object.metadata?.name === 'api');
  expect(deployment, `kubectl kustomize ${overlay} rendered no Deployment api`).toBeDefined();
  const spec = deployment.spec.template.spec;
  return Object.fromEntries(
    [...spec.initContainers, ...spec.containers].map((container: { name: string; image: string }) => [
      container.name,
      container.image,
    ]),
  );
}

describe('kubectl kustomize renders edited overlays pinned by digest', () => {
  it.each(VARIANTS)('updates the existing images: entry ($name): tag kept with the digest', async (variant) => {
    const dir = gitopsCopy();
    const overlay = join(dir, 'overlays/prod');
    edit(join(overlay, 'kustomization.yaml'), { name: API, digest: NEW, tag: '1.11' }, variant.make);
    expect(await renderedImages(overlay)).toEqual({
      migrate: `${API}:1.11@${NEW}`,
      api: `${API}:1.11@${NEW}`,
      proxy: 'envoyproxy/envoy:v1.30.2',
    });
  });

  it.each(VARIANTS)(
    'pins by digest alone when the promotion carries no tag: newTag removed, no old tag rendered ($name)',
    async (variant) => {
      const dir = gitopsCopy();
      const overlay = join(dir, 'overlays/prod');
      const text = edit(join(overlay, 'kustomization.yaml'), { name: API, digest: NEW }, variant.make);
      // A kept `newTag: "1.10"` would render ghcr.io/acme/api:1.10@<new digest>, a tag naming another build.
      expect(text).not.toContain('newTag: "1.10"');
      expect(text).toContain('# the API server, pinned by digest');
      expect(await renderedImages(overlay)).toEqual({
        migrate: `${API}@${NEW}`,
        api: `${API}@${NEW}`,
        proxy: 'envoyproxy/envoy:v1.30.2',
      });
    },
  );

  it('adds images: to an overlay that had none; re-applying changes nothing', async () => {
    const dir = gitopsCopy();
    const overlay = join(dir, 'overlays/staging');
    const file = join(overlay, 'kustomization.yaml');
    const text = edit(file, { name: API, digest: NEW });
    expect(await renderedImages(overlay)).toMatchObject({ migrate: `${API}@${NEW}`, api: `${API}@${NEW}` });
    const again = editorFor('kustomization').apply(
      text,
      { file, kind: 'kustomization', image: API },
      { name: API, digest: NEW },
    );
    expect(again.changed).toBe(false);
  });
});
