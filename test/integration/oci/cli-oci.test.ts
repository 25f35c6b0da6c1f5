import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciLayoutStore } from '../../../shared/oci/layout.js';
import { runCli } from '../../support/cli.js';
import { makeImage, pushImage } from '../../support/images.js';
import { skopeo, startRegistry, type TestRegistry } from '../../support/services.js';

// The OCI commands of the built CLI (dist/cli/index.mjs) where they used to answer wrongly with exit 0:
// tags of a repository that does not exist, a layout tag with "..", a layout copy without a tag.

let registry: TestRegistry;
const dirs: string[] = [];

beforeAll(async () => {
  registry = await startRegistry();
});
afterAll(async () => {
  await registry?.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function workdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-cli-oci-'));
  dirs.push(dir);
  return dir;
}

describe('slipway OCI commands', () => {
  it('tags: a repository that does not exist is an error naming it, not []', () => {
    const result = runCli(['tags', `${registry.host}/acme/no-such-repo`], workdir());
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(
      `list tags at ${registry.host}/acme/no-such-repo failed: repository acme/no-such-repo does not exist on ${registry.host} (HTTP 404 NAME_UNKNOWN)`,
    );
    expect(result.stderr).not.toContain('a bug in Slipway');
  });

  it('copy: a layout tag with ".." is refused before anything is written', async () => {
    const dir = workdir();
    const source = await OciLayoutStore.open(join(dir, 'src'), { create: true });
    await pushImage(source, makeImage(), ['v1']);
    const result = runCli(['copy', 'oci-layout:src:v1', `oci-layout:${dir}/lx:../../etc`], dir);
    // 2: the CLI's exit code for a bad argument.
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`Input 'destination' is "oci-layout:${dir}/lx:../../etc"`);
    expect(result.stderr).toContain('"../../etc" after ":" is not a tag');
    expect(existsSync(join(dir, '..', 'etc'))).toBe(false);
    expect(existsSync(join(dir, 'lx:..'))).toBe(false);
  });

  it('copy: a layout copied to without a tag lists the image, and skopeo finds it', async () => {
    const dir = workdir();
    const source = await OciLayoutStore.open(join(dir, 'src'), { create: true });
    const image = makeImage();
    await pushImage(source, image, ['v1']);
    // By digest, so neither side names a tag.
    const result = runCli(['copy', `oci-layout:src@${image.top.descriptor.digest}`, 'oci-layout:out'], dir);
    expect(result.stderr).not.toContain('a bug in Slipway');
    expect(result.code).toBe(0);
    const index = JSON.parse(readFileSync(join(dir, 'out', 'index.json'), 'utf8')) as {
      manifests: { digest: string; annotations?: object }[];
    };
    expect(index.manifests).toEqual([expect.objectContaining({ digest: image.top.descriptor.digest })]);
    expect(index.manifests[0]!.annotations).toBeUndefined();
    expect(skopeo(['inspect', '--raw', `oci:${join(dir, 'out')}`])).toBe(Buffer.from(image.top.bytes).toString());
  });
});
