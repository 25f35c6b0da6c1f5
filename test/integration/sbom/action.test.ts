import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNativeImage } from '../../../shared/build/native.js';
import { listReferrers } from '../../../shared/oci/referrers.js';
import { RegistryClient } from '../../../shared/oci/registry.js';
import type { Digest } from '../../../shared/oci/types.js';
import { validateCycloneDx, validateSpdx } from '../../../shared/sbom/schema.js';
import { type OsvServer, startOsvServer } from '../../support/osv-server.js';
import { repositoryRoot, runActionYml } from '../../support/runner-harness.js';
import { requireTool, startRegistry, type TestRegistry } from '../../support/services.js';

// The sbom action as the runner runs it, on an image built from real contents of this machine: its dpkg
// database, a node_modules tree npm installed, Python's installed distributions, and a Go binary built
// here. Each SBOM must list exactly what the owning tool lists.

const actionYml = join(repositoryRoot, 'actions/sbom/action.yml');
const spdxSchema = JSON.parse(
  readFileSync(join(repositoryRoot, 'test/fixtures/schemas/spdx-2.3.schema.json'), 'utf8'),
) as object;

let registry: TestRegistry;
let osv: OsvServer;
let image: string;
let digest: Digest;
let platformDigests: Digest[];
let expected: { deb: Set<string>; npm: Set<string>; pypi: Set<string>; golang: Set<string> };
let sourceOfBash: { name: string; version: string };

const run = (command: string, args: string[], cwd?: string) =>
  execFileSync(command, args, { encoding: 'utf8', cwd, maxBuffer: 64 * 1024 * 1024 });

/**
 * `npm pack`s the named packages and everything they depend on, as installed in this repository's
 * node_modules, into `destination`; returns the tarball paths. Every dependency is packed too, so that
 * `npm install --offline` of the tarballs finds each dependency edge satisfied without a registry or a cache.
 */
function packFromNodeModules(names: string[], destination: string): string[] {
  const packed = new Map<string, string>();
  const pack = (name: string, from: string) => {
    // Node's resolution: the nearest node_modules/<name> from the dependent's directory upwards.
    let dir = from;
    let found: string | undefined;
    for (;;) {
      const candidate = join(dir, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) {
        found = candidate;
        break;
      }
      if (dir === repositoryRoot || dirname(dir) === dir) break;
      dir = dirname(dir);
    }
    if (!found) throw new Error(`${name} (needed by ${from}) is not installed under ${repositoryRoot}/node_modules`);
    if (packed.has(found)) return;
    const [result] = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', destination, found], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    ) as { filename: string }[];
    packed.set(found, join(destination, result!.filename));
    const manifest = JSON.parse(readFileSync(join(found, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const dependency of Object.keys(manifest.dependencies ?? {})) pack(dependency, found);
  };
  for (const name of names) pack(name, repositoryRoot);
  return [...packed.values()];
}

/** A root filesystem made of real package databases, and what their own tools say is installed. */
function realContents() {
  const root = mkdtempSync(join(tmpdir(), 'slipway-sbom-root-'));
  // Debian: this machine's dpkg database and os-release.
  mkdirSync(join(root, 'var/lib/dpkg'), { recursive: true });
  cpSync('/var/lib/dpkg/status', join(root, 'var/lib/dpkg/status'));
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/os-release'), readFileSync('/etc/os-release'));
  const deb = new Set(
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own ${field} format, not a template.
    run('dpkg-query', ['-W', '-f', '${db:Status-Abbrev}\t${Package}\t${Version}\n'])
      .split('\n')
      .filter((line) => line.startsWith('ii'))
      .map((line) => line.split('\t').slice(1).join('@')),
  );
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own ${field} format, not a template.
  const bash = run('dpkg-query', ['-W', '-f', '${source:Package}\t${source:Version}', 'bash']).split('\t');
  sourceOfBash = { name: bash[0]!, version: bash[1]! };

  // npm: a tree npm itself installs, offline, from tarballs packed here out of this repository's own
  // node_modules, so the fixture depends on nothing an npm cache may or may not hold (ENOTCACHED on a machine
  // that never fetched these packuments).
  const app = join(root, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  const tarballs = packFromNodeModules(['yaml', 'ajv', 'packageurl-js'], mkdtempSync(join(tmpdir(), 'slipway-packs-')));
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', ...tarballs], app);
  const npm = new Set<string>();
  const walk = (deps: Record<string, { version?: string; dependencies?: Record<string, unknown> }> | undefined) => {
    for (const [name, dep] of Object.entries(deps ?? {})) {
      if (dep.version) npm.add(`${name}@${dep.version}`);
      walk(dep.dependencies as typeof deps);
    }
  };
  walk(
    (JSON.parse(run('npm', ['ls', '--all', '--json'], app)) as { dependencies?: Record<string, { version?: string }> })
      .dependencies,
  );

  // Python: the installed distributions' metadata, as pip reads it.
  const sitePackages = run('python3', ['-c', 'import site; print(site.getsitepackages()[0])']).trim();
  const target = join(root, 'usr/local/lib/python3.11/site-packages');
  mkdirSync(target, { recursive: true });
  for (const entry of readdirSync(sitePackages)) {
    if (/\.(dist-info|egg-info)$/.test(entry))
      cpSync(join(sitePackages, entry), join(target, entry), { recursive: true });
  }
  const normalise = (name: string) => name.toLowerCase().replace(/[-_.]+/g, '-');
  const pypi = new Set(
    (
      JSON.parse(run('python3', ['-m', 'pip', 'list', '--format', 'json', '--path', sitePackages])) as {
        name: string;
        version: string;
      }[]
    ).map((p) => `${normalise(p.name)}@${p.version}`),
  );

  // Go: a binary built here; `go version -m` is the owning tool.
  requireTool('go', 'golang-go');
  const module = mkdtempSync(join(tmpdir(), 'slipway-go-'));
  writeFileSync(join(module, 'go.mod'), 'module example.com/hello\n\ngo 1.19\n');
  writeFileSync(join(module, 'main.go'), 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello") }\n');
  mkdirSync(join(root, 'usr/local/bin'), { recursive: true });
  run('go', ['build', '-o', join(root, 'usr/local/bin/hello'), '.'], module);
  const info = run('go', ['version', '-m', join(root, 'usr/local/bin/hello')]);
  const goVersion = /:\s+go(\S+)/.exec(info)![1]!;
  const golang = new Set([`stdlib@${goVersion}`, `example.com/hello@${/\bmod\s+\S+\s+(\S+)/.exec(info)![1]}`]);
  return { root, expected: { deb, npm, pypi, golang } };
}

beforeAll(async () => {
  registry = await startRegistry();
  const contents = realContents();
  expected = contents.expected;
  const store = new RegistryClient().repository(registry.host, 'acme/real');
  const built = await buildNativeImage({
    target: store,
    platforms: ['linux/amd64', 'linux/arm64'],
    layers: [{ sources: [{ dir: contents.root, target: '/' }] }],
    created: '2026-05-01T00:00:00Z',
  });
  digest = built.descriptor.digest;
  platformDigests = built.platforms.map((p) => p.descriptor.digest);
  image = `${registry.host}/acme/real@${digest}`;
  osv = await startOsvServer({
    records: [
      {
        id: 'DSA-9999-1',
        modified: '2026-06-01T00:00:00Z',
        summary: `${sourceOfBash.name} security update`,
        severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
        affected: [
          {
            package: {
              ecosystem: `Debian:${run('sh', ['-c', '. /etc/os-release; echo $VERSION_ID']).trim()}`,
              name: sourceOfBash.name,
            },
            versions: [sourceOfBash.version],
            ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: `${sourceOfBash.version}+fix1` }] }],
          },
        ],
      },
    ],
  });
}, 240_000);

afterAll(async () => {
  await Promise.all([registry?.stop(), osv?.close()]);
});

function packagesIn(
  cdx: { components?: { purl?: string; name: string; version?: string }[] },
  type: string,
): Set<string> {
  return new Set(
    (cdx.components ?? [])
      .filter((c) => c.purl?.startsWith(`pkg:${type}/`))
      .map((c) => {
        const name =
          type === 'npm' && c.purl!.includes('%40')
            ? `@${decodeURIComponent(c.purl!.split('/')[1]!)}/${c.name}`
            : c.name;
        return `${type === 'pypi' ? name.toLowerCase().replace(/[-_.]+/g, '-') : name}@${c.version}`;
      }),
  );
}

describe('sbom action on real contents', () => {
  it('lists exactly what dpkg, npm, pip and go list, per platform, attached and reproducible', async () => {
    const inputs = { image, 'osv-url': osv.url, 'fail-on': 'none', 'output-dir': 'sboms' };
    const { main } = await runActionYml(actionYml, { inputs, env: { SOURCE_DATE_EPOCH: '1767225600' } });
    expect(main.errors).toEqual([]);
    const files = JSON.parse(main.outputs.files!) as {
      path: string;
      format: string;
      digest: Digest;
      manifestDigest: Digest;
      platform: string;
      attached: { referrer: Digest };
    }[];
    expect(files.map((f) => `${f.platform} ${f.format}`).sort()).toEqual([
      'linux/amd64 cyclonedx',
      'linux/amd64 spdx',
      'linux/arm64 cyclonedx',
      'linux/arm64 spdx',
    ]);
    for (const file of files) {
      const text = readFileSync(file.path, 'utf8');
      if (file.format === 'cyclonedx') {
        expect(await validateCycloneDx(text)).toEqual([]);
        const cdx = JSON.parse(text);
        expect(cdx.metadata.timestamp).toBe('2026-01-01T00:00:00.000Z');
        expect(packagesIn(cdx, 'deb')).toEqual(expected.deb);
        expect(packagesIn(cdx, 'npm')).toEqual(expected.npm);
        // The npm tree is the one packed from node_modules, dependencies included, not an empty one.
        expect([...expected.npm].map((p) => p.slice(0, p.lastIndexOf('@')))).toEqual(
          expect.arrayContaining(['yaml', 'ajv', 'packageurl-js', 'fast-deep-equal']),
        );
        expect(packagesIn(cdx, 'pypi')).toEqual(expected.pypi);
        expect(packagesIn(cdx, 'golang')).toEqual(expected.golang);
      } else {
        expect(validateSpdx(text, spdxSchema)).toEqual([]);
      }
    }
    // Each platform's SBOMs hang off that platform's own manifest, found again by a fresh client.
    const fresh = new RegistryClient().repository(registry.host, 'acme/real');
    for (const platform of platformDigests) {
      const referrers = await listReferrers(fresh, platform);
      expect(referrers.map((r) => r.artifactType).sort()).toEqual([
        'application/spdx+json',
        'application/vnd.cyclonedx+json',
      ]);
      expect(referrers.map((r) => r.digest).sort()).toEqual(
        files
          .filter((f) => f.manifestDigest === platform)
          .map((f) => f.attached.referrer)
          .sort(),
      );
    }
    expect(await listReferrers(fresh, digest)).toEqual([]);

    // A second run writes byte-identical documents and attaches nothing new.
    const again = await runActionYml(actionYml, {
      inputs: { ...inputs, 'output-dir': 'sboms-again' },
      env: { SOURCE_DATE_EPOCH: '1767225600' },
    });
    const second = JSON.parse(again.main.outputs.files!) as typeof files;
    expect(second.map((f) => f.digest)).toEqual(files.map((f) => f.digest));
    expect(second.map((f) => f.attached.referrer)).toEqual(files.map((f) => f.attached.referrer));
    expect(main.summary).toMatch(/### SBOM of /);
  }, 240_000);
});

describe('sbom action gate', () => {
  it('fails on a high finding, naming it, and still hands over the SBOMs', async () => {
    const { main } = await runActionYml(actionYml, { inputs: { image, 'osv-url': osv.url, attach: 'false' } });
    expect(main.exitCode).toBe(1);
    expect(main.outputs.decision).toBe('fail');
    expect(JSON.parse(main.outputs.files!)).toHaveLength(4);
    expect(main.errors).toEqual([
      expect.stringMatching(new RegExp(`^The vulnerability gate failed: DSA-9999-1 in ${sourceOfBash.name} `)),
    ]);
  }, 120_000);

  it('passes with an exception that has a reason and an expiry, and fails again once it expired', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'slipway-sbom-ws-'));
    writeFileSync(
      join(workspace, 'valid.yaml'),
      'exceptions:\n  - id: DSA-9999-1\n    reason: not reachable from the app\n    expires: 2999-01-01\n',
    );
    writeFileSync(
      join(workspace, 'expired.yaml'),
      'exceptions:\n  - id: DSA-9999-1\n    reason: accepted last year\n    expires: 2020-01-01\n',
    );
    const valid = await runActionYml(actionYml, {
      workspace,
      inputs: { image, 'osv-url': osv.url, attach: 'false', exceptions: 'valid.yaml' },
    });
    expect(valid.main.errors).toEqual([]);
    expect(valid.main.outputs.decision).toBe('pass');
    expect(valid.main.summary).toContain('accepted until 2999-01-01: not reachable from the app');
    const expired = await runActionYml(actionYml, {
      workspace,
      inputs: { image, 'osv-url': osv.url, attach: 'false', exceptions: 'expired.yaml' },
    });
    expect(expired.main.outputs.decision).toBe('fail');
    expect(expired.main.summary).toMatch(/expired/);
  }, 120_000);

  it('is undecided, never a pass, when OSV cannot be reached, with its own exit code', async () => {
    osv.down();
    try {
      const { main } = await runActionYml(actionYml, { inputs: { image, 'osv-url': osv.url, attach: 'false' } });
      expect(main.exitCode).toBe(3);
      expect(main.outputs.decision).toBe('undecided');
      expect(main.errors).toEqual([
        expect.stringMatching(/^The vulnerability gate could not decide, which is never a pass: /),
      ]);
    } finally {
      osv.up();
    }
  }, 180_000);

  it('gates only on what is new relative to the baseline', async () => {
    const { main } = await runActionYml(actionYml, {
      inputs: { image, 'osv-url': osv.url, attach: 'false', baseline: image, 'fail-on': 'low' },
    });
    expect(main.errors).toEqual([]);
    expect(main.outputs.decision).toBe('pass');
  }, 120_000);
});
