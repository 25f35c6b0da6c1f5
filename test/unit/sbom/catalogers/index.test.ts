import { describe, expect, it } from 'vitest';
import { ALL_READERS, catalog } from '../../../../shared/sbom/catalogers/index.js';
import type { ImageFilesystem, ReadResult } from '../../../../shared/sbom/types.js';
import { readFileWith } from './read-helpers.js';

async function readAs(path: string, content: string, layer: number): Promise<[string, ReadResult<unknown>[]][]> {
  const found: [string, ReadResult<unknown>[]][] = [];
  for (const reader of ALL_READERS) {
    const results = await readFileWith(reader, path, content, { layer, mode: 0o644 });
    if (results.length > 0) found.push([reader.name, results]);
  }
  return found;
}

describe('catalog', () => {
  it('has uniquely named readers', () => {
    const names = ALL_READERS.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('runs every cataloger, uses the distro, fills locations and sorts', async () => {
    const fs: ImageFilesystem = { layers: [], entries: new Map(), results: new Map() };
    const files: [string, string, number][] = [
      ['usr/lib/os-release', 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n', 0],
      [
        'var/lib/dpkg/status',
        'Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nSource: zlib\nVersion: 1:1.2.13.dfsg-1\n\n' +
          'Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b7\n',
        0,
      ],
      ['app/node_modules/yaml/package.json', '{"name":"yaml","version":"2.9.1","license":"ISC"}', 2],
      ['app/node_modules/b/node_modules/yaml/package.json', '{"name":"yaml","version":"2.9.1"}', 2],
      ['app/node_modules/ajv/package.json', '{"name":"ajv","version":"8.20.0","license":"MIT"}', 1],
    ];
    for (const [path, content, layer] of files) {
      for (const [name, results] of await readAs(path, content, layer)) {
        fs.results.set(name, [...(fs.results.get(name) ?? []), ...results]);
      }
    }
    const { distro, packages, warnings } = catalog(fs);
    expect(distro).toEqual({ id: 'debian', versionId: '12', codename: 'bookworm' });
    expect(warnings).toEqual([]);
    expect(packages.map((p) => [p.ecosystem, p.name, p.location.path, p.location.layer])).toEqual([
      ['deb', 'bash', 'var/lib/dpkg/status', 0],
      ['deb', 'zlib1g', 'var/lib/dpkg/status', 0],
      ['npm', 'ajv', 'app/node_modules/ajv/package.json', 1],
      ['npm', 'yaml', 'app/node_modules/b/node_modules/yaml/package.json', 2],
      ['npm', 'yaml', 'app/node_modules/yaml/package.json', 2],
    ]);
    expect(packages[1]?.purl).toBe('pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12&upstream=zlib');
  });

  it('returns nothing for an empty image', () => {
    expect(catalog({ layers: [], entries: new Map(), results: new Map() })).toEqual({ packages: [], warnings: [] });
  });
});
