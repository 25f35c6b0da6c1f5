import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normalizePythonName, pythonPackages, pythonReader } from '../../../../shared/sbom/catalogers/python.js';
import { fileHeader, readFileWith, readTreeWith } from './read-helpers.js';

// The interpreter on PATH and Debian's own, when they differ: Debian's dist-packages is where a
// distribution can sit twice (python3-cryptography ships a .dist-info and an .egg-info).
const interpreters = [...new Set(['python3', ...(existsSync('/usr/bin/python3') ? ['/usr/bin/python3'] : [])])];

function python(args: string[], interpreter = 'python3'): string {
  return execFileSync(interpreter, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

describe('python', () => {
  it.each(interpreters)(
    'finds exactly what pip list reports for the site-packages of %s',
    async (interpreter) => {
      const sitePackages = JSON.parse(
        python(['-c', 'import json, site; print(json.dumps(site.getsitepackages()))'], interpreter),
      ) as string[];
      const results = [];
      for (const dir of sitePackages) {
        // The image root is /, so paths are the absolute path without its leading slash.
        results.push(...(await readTreeWith(pythonReader, '/', dir.slice(1)).catch(() => [])));
      }
      const packages = pythonPackages(results);
      const listed = JSON.parse(python(['-m', 'pip', 'list', '--format', 'json'], interpreter)) as {
        name: string;
        version: string;
      }[];
      const expected = listed.map((p) => `${normalizePythonName(p.name)}@${p.version}`).sort();
      const actual = packages.map((p) => `${normalizePythonName(p.name)}@${p.version}`).sort();
      expect(expected.length).toBeGreaterThan(5);
      expect(actual).toEqual(expected);
      const pip = packages.find((p) => p.name === 'pip');
      expect(pip?.purl).toBe(`pkg:pypi/pip@${pip?.version}`);
    },
    60_000,
  );

  it('wants METADATA and PKG-INFO in site-packages or dist-packages only', () => {
    const header = fileHeader(100);
    for (const path of [
      'usr/lib/python3/dist-packages/requests-2.28.1.egg-info/PKG-INFO',
      'usr/lib/python3/dist-packages/six-1.16.0.egg-info',
      'usr/local/lib/python3.12/site-packages/pip-24.0.dist-info/METADATA',
      'opt/venv/lib/python3.12/site-packages/Flask-3.0.0.dist-info/METADATA',
    ]) {
      expect(pythonReader.wants(path, header), path).toBe(true);
    }
    for (const path of [
      'usr/local/lib/python3.12/site-packages/pip-24.0.dist-info/RECORD',
      'src/foo.dist-info/METADATA',
      'usr/local/lib/python3.12/site-packages/pip/_vendor/x.dist-info/METADATA',
    ]) {
      expect(pythonReader.wants(path, header), path).toBe(false);
    }
  });

  it('reads licences: License-Expression, then a short License, then classifiers', async () => {
    const read = async (headers: string) =>
      pythonPackages(
        await readFileWith(pythonReader, 'usr/lib/python3/site-packages/x-1.dist-info/METADATA', headers, {
          chunkSize: 5,
        }),
      )[0];
    const metadata = [
      'Metadata-Version: 2.4',
      'Name: Zope.Interface',
      'Version: 6.1',
      'License-Expression: ZPL-2.1',
      'License: Zope Public License',
      '',
      'Name: not-a-header',
    ].join('\n');
    expect(await read(metadata)).toMatchObject({
      name: 'Zope.Interface',
      version: '6.1',
      licenses: ['ZPL-2.1'],
      purl: 'pkg:pypi/zope-interface@6.1',
    });
    expect((await read('Name: a\nVersion: 1\nLicense: BSD\n'))?.licenses).toEqual(['BSD']);
    const pasted =
      'Name: a\nVersion: 1\nLicense: Copyright (c) 2024\n        Permission is hereby granted\n' +
      'Classifier: Programming Language :: Python\nClassifier: License :: OSI Approved :: MIT License\n';
    expect((await read(pasted))?.licenses).toEqual(['MIT License']);
    expect((await read('Name: a\nVersion: 1\nLicense: UNKNOWN\n'))?.licenses).toEqual([]);
    expect(await read('Name: a\n')).toBeUndefined();
  });

  it('normalises names as PEP 503 does', () => {
    expect(normalizePythonName('Foo__Bar.baz-Qux')).toBe('foo-bar-baz-qux');
  });

  it('lists a distribution once when its directory holds both a .dist-info and an .egg-info', () => {
    const value = { name: 'cryptography', version: '38.0.4', licenses: [] };
    const packages = pythonPackages([
      { path: 'usr/lib/python3/dist-packages/cryptography.egg-info/PKG-INFO', value, layer: 0 },
      { path: 'usr/lib/python3/dist-packages/cryptography-38.0.4.dist-info/METADATA', value, layer: 0 },
      { path: 'usr/local/lib/python3.11/site-packages/cryptography-38.0.4.dist-info/METADATA', value, layer: 1 },
    ]);
    expect(packages.map((p) => p.location)).toEqual([
      expect.objectContaining({ path: 'usr/lib/python3/dist-packages/cryptography-38.0.4.dist-info/METADATA' }),
      expect.objectContaining({
        path: 'usr/local/lib/python3.11/site-packages/cryptography-38.0.4.dist-info/METADATA',
      }),
    ]);
  });
});
