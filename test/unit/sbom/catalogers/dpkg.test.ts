import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { PackageURL } from 'packageurl-js';
import { describe, expect, it } from 'vitest';
import { dpkgPackages, dpkgReader } from '../../../../shared/sbom/catalogers/dpkg.js';
import { fileHeader, readFileWith } from './read-helpers.js';

const bookworm = { id: 'debian', versionId: '12', codename: 'bookworm' };

describe('dpkg', () => {
  it('finds exactly the packages dpkg-query says are installed on this machine', async () => {
    const status = await readFile('/var/lib/dpkg/status');
    const results = await readFileWith(dpkgReader, 'var/lib/dpkg/status', status, { chunkSize: 4096 });
    const packages = dpkgPackages(results, bookworm);

    const query = execFileSync(
      'dpkg-query',
      [
        '-W',
        '-f',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own ${field} format, not JS.
        '${Package}\\t${Version}\\t${Architecture}\\t${source:Package}\\t${source:Version}\\t${db:Status-Abbrev}\\n',
      ],
      { encoding: 'utf8' },
    );
    const expected = query
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => line.split('\t'))
      // The abbreviation's second letter is the state: i = installed (whatever the wanted action).
      .filter((fields) => fields[5]?.[1] === 'i')
      .map(([name, version, arch, source, sourceVersion]) => [name, version, arch, source, sourceVersion].join('\t'))
      .sort();
    const actual = packages
      .map((p) => [p.name, p.version, p.properties?.architecture, p.source?.name, p.source?.version].join('\t'))
      .sort();
    expect(expected.length).toBeGreaterThan(50);
    expect(actual).toEqual(expected);
    for (const p of packages) {
      expect(p.location).toEqual({ path: 'var/lib/dpkg/status', layer: 0 });
      expect(p.licenses).toEqual([]);
      const purl = PackageURL.fromString(p.purl);
      expect([purl.type, purl.namespace, purl.name, purl.version]).toEqual(['deb', 'debian', p.name, p.version]);
      expect(purl.qualifiers?.distro).toBe('debian-12');
    }
  });

  it('skips stanzas that are not installed and reads Source with and without a version', async () => {
    const status = [
      'Package: libc6',
      'Status: install ok installed',
      'Priority: optional',
      'Architecture: amd64',
      'Multi-Arch: same',
      'Source: glibc',
      'Version: 2.36-9+deb12u7',
      'Description: GNU C Library: Shared libraries',
      ' Contains the standard libraries.',
      '',
      'Package: libssl3',
      'Status: hold ok installed',
      'Architecture: amd64',
      'Source: openssl (3.0.13-1~deb12u1)',
      'Version: 3.0.13-1~deb12u1+b1',
      '',
      'Package: oldpkg',
      'Status: deinstall ok config-files',
      'Architecture: amd64',
      'Version: 1.0',
      '',
      'Package: tzdata',
      'Status: install ok installed',
      'Architecture: all',
      'Version: 2024a-0+deb12u1',
      'Conffiles:',
      ' /etc/timezone abc',
    ].join('\n');
    const packages = dpkgPackages(
      await readFileWith(dpkgReader, 'var/lib/dpkg/status', status, { chunkSize: 7 }),
      bookworm,
    );
    expect(packages.map((p) => [p.name, p.version, p.source, p.purl])).toEqual([
      [
        'libc6',
        '2.36-9+deb12u7',
        { name: 'glibc', version: '2.36-9+deb12u7' },
        'pkg:deb/debian/libc6@2.36-9+deb12u7?arch=amd64&distro=debian-12&upstream=glibc',
      ],
      [
        'libssl3',
        '3.0.13-1~deb12u1+b1',
        { name: 'openssl', version: '3.0.13-1~deb12u1' },
        'pkg:deb/debian/libssl3@3.0.13-1~deb12u1+b1?arch=amd64&distro=debian-12&upstream=openssl%403.0.13-1%7Edeb12u1',
      ],
      [
        'tzdata',
        '2024a-0+deb12u1',
        { name: 'tzdata', version: '2024a-0+deb12u1' },
        'pkg:deb/debian/tzdata@2024a-0+deb12u1?arch=all&distro=debian-12',
      ],
    ]);
  });

  it('reads distroless status.d files, which have no Status, and ignores their md5sums', async () => {
    const header = fileHeader(10);
    expect(dpkgReader.wants('var/lib/dpkg/status.d/base-files', header)).toBe(true);
    expect(dpkgReader.wants('var/lib/dpkg/status.d/base-files.md5sums', header)).toBe(false);
    expect(dpkgReader.wants('var/lib/dpkg/status.d/', header)).toBe(false);
    expect(dpkgReader.wants('var/lib/dpkg/status-old', header)).toBe(false);
    expect(dpkgReader.wants('var/lib/dpkg/status', { ...header, type: 'symlink' })).toBe(false);

    const baseFiles = 'Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\nMaintainer: x\n';
    const netbase = 'Package: netbase\nVersion: 6.4\nArchitecture: all\n';
    const results = [
      ...(await readFileWith(dpkgReader, 'var/lib/dpkg/status.d/base-files', baseFiles)),
      ...(await readFileWith(dpkgReader, 'var/lib/dpkg/status.d/netbase', netbase, { layer: 1 })),
    ];
    const packages = dpkgPackages(results, { id: 'debian', versionId: '12' });
    expect(packages.map((p) => [p.name, p.version, p.location.path, p.location.layer])).toEqual([
      ['base-files', '12.4+deb12u5', 'var/lib/dpkg/status.d/base-files', 0],
      ['netbase', '6.4', 'var/lib/dpkg/status.d/netbase', 1],
    ]);
  });

  it('uses the distro id as namespace and leaves distro out without a version', async () => {
    const status = 'Package: bash\nStatus: install ok installed\nArchitecture: arm64\nVersion: 5.2.21-2ubuntu4\n';
    const results = await readFileWith(dpkgReader, 'var/lib/dpkg/status', status);
    expect(dpkgPackages(results, { id: 'ubuntu', versionId: '24.04' })[0]?.purl).toBe(
      'pkg:deb/ubuntu/bash@5.2.21-2ubuntu4?arch=arm64&distro=ubuntu-24.04',
    );
    expect(dpkgPackages(results, { id: 'debian' })[0]?.purl).toBe('pkg:deb/debian/bash@5.2.21-2ubuntu4?arch=arm64');
  });
});
