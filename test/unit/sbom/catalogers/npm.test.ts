import { execFileSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npmLicenses, npmPackages, npmReader } from '../../../../shared/sbom/catalogers/npm.js';
import { fileHeader, readFileWith, readTreeWith } from './read-helpers.js';

const REPO = join(import.meta.dirname, '../../../..');
const COPIED = ['yaml', 'ajv', '@cyclonedx'];

interface LsNode {
  version?: string;
  dependencies?: Record<string, LsNode>;
}

/** Every name@version in `npm ls --all --json`'s tree (deduped entries repeat; the set keeps one). */
function flatten(deps: Record<string, LsNode> | undefined, into: Set<string>): Set<string> {
  for (const [name, node] of Object.entries(deps ?? {})) {
    if (node.version) into.add(`${name}@${node.version}`);
    flatten(node.dependencies, into);
  }
  return into;
}

describe('npm', () => {
  let image: string;

  beforeAll(async () => {
    // A copy of real installed packages laid out as in an image: /app/node_modules/…, next to the app's
    // own package.json, which is not an installed package.
    image = await mkdtemp(join(tmpdir(), 'slipway-npm-'));
    for (const name of COPIED) {
      await cp(join(REPO, 'node_modules', name), join(image, 'app/node_modules', name), { recursive: true });
    }
    await writeFile(join(image, 'app/package.json'), JSON.stringify({ name: 'my-app', version: '1.0.0' }));
  });

  afterAll(async () => {
    await rm(image, { recursive: true, force: true });
  });

  it('finds the copied packages and reads what their package.json files say', async () => {
    const packages = npmPackages(await readTreeWith(npmReader, image, 'app'));
    expect(packages.some((p) => p.name === 'my-app')).toBe(false);
    expect(packages.length).toBeGreaterThanOrEqual(3);
    for (const p of packages) {
      const manifest = JSON.parse(await readFile(join(image, p.location.path), 'utf8')) as Record<string, unknown>;
      expect(p.location.path.endsWith(`node_modules/${p.name}/package.json`)).toBe(true);
      expect([p.name, p.version]).toEqual([manifest.name, manifest.version]);
      expect(p.licenses).toEqual(npmLicenses(manifest));
    }
    const yaml = packages.find((p) => p.name === 'yaml');
    expect(yaml?.licenses).toEqual(['ISC']);
    const cyclonedx = packages.find((p) => p.name === '@cyclonedx/cyclonedx-library');
    expect(cyclonedx?.purl).toBe(`pkg:npm/%40cyclonedx/cyclonedx-library@${cyclonedx?.version}`);
  });

  it('agrees with npm ls for the copied packages and for the whole node_modules', async () => {
    const ls = JSON.parse(
      execFileSync('npm', ['ls', '--all', '--json'], {
        cwd: REPO,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    ) as LsNode;
    const expectedAll = flatten(ls.dependencies, new Set());

    const copied = npmPackages(await readTreeWith(npmReader, image, 'app'));
    for (const p of copied) expect(expectedAll.has(`${p.name}@${p.version}`), `${p.name}@${p.version}`).toBe(true);
    // The copied top-level packages are exactly npm ls's top-level entries of those names.
    const topLevel = copied.filter((p) => p.location.path === `app/node_modules/${p.name}/package.json`);
    const expectedTop = Object.entries(pick(ls.dependencies, COPIED)).map(([name, node]) => `${name}@${node.version}`);
    expect(topLevel.map((p) => `${p.name}@${p.version}`).sort()).toEqual(expectedTop.sort());

    const all = npmPackages(await readTreeWith(npmReader, REPO, 'node_modules'));
    expect(new Set(all.map((p) => `${p.name}@${p.version}`))).toEqual(expectedAll);
  }, 60_000);

  it('wants package.json only at the root of an installed package', () => {
    const header = fileHeader(100);
    for (const path of [
      'node_modules/yaml/package.json',
      'app/node_modules/@types/node/package.json',
      'usr/lib/node_modules/npm/node_modules/semver/package.json',
      'app/node_modules/.pnpm/a@1.0.0/node_modules/a/package.json',
    ]) {
      expect(npmReader.wants(path, header), path).toBe(true);
    }
    for (const path of [
      'app/package.json',
      'node_modules/yaml/dist/package.json',
      'node_modules/.package-lock.json',
      'node_modules/@scope/package.json',
      'node_modules/.bin/package.json',
    ]) {
      expect(npmReader.wants(path, header), path).toBe(false);
    }
    expect(npmReader.wants('node_modules/yaml/package.json', { ...header, type: 'symlink' })).toBe(false);
  });

  it('reads every licence form and skips manifests without name or version', async () => {
    const read = async (manifest: unknown) =>
      npmPackages(await readFileWith(npmReader, 'node_modules/x/package.json', JSON.stringify(manifest)));
    expect((await read({ name: 'a', version: '1.0.0', license: 'MIT' }))[0]?.licenses).toEqual(['MIT']);
    expect((await read({ name: 'a', version: '1.0.0', license: { type: 'BSD-3-Clause' } }))[0]?.licenses).toEqual([
      'BSD-3-Clause',
    ]);
    expect(
      (await read({ name: 'a', version: '1.0.0', licenses: [{ type: 'MIT' }, 'Apache-2.0', { url: 'x' }] }))[0]
        ?.licenses,
    ).toEqual(['MIT', 'Apache-2.0']);
    expect((await read({ name: 'a', version: '1.0.0' }))[0]?.licenses).toEqual([]);
    expect(await read({ name: 'a' })).toEqual([]);
    expect(await read({ version: '1.0.0' })).toEqual([]);
    expect(await read([1, 2])).toEqual([]);
    expect(await readFileWith(npmReader, 'node_modules/x/package.json', '{ not json')).toEqual([]);
  });
});

function pick(deps: Record<string, LsNode> | undefined, names: string[]): Record<string, LsNode> {
  return Object.fromEntries(
    Object.entries(deps ?? {}).filter(([name]) => names.some((n) => name === n || name.startsWith(`${n}/`))),
  );
}
