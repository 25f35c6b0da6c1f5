import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { apkLicenses, apkPackages, apkReader } from '../../../../shared/sbom/catalogers/apk.js';
import { fileHeader, readFileWith } from './read-helpers.js';

const FIXTURE = join(import.meta.dirname, '../../../fixtures/sbom/apk-installed');
const alpine = { id: 'alpine', versionId: '3.20.3' };

describe('apk', () => {
  it('reads every package of an Alpine installed database', async () => {
    const bytes = await readFile(FIXTURE);
    const packages = apkPackages(
      await readFileWith(apkReader, 'lib/apk/db/installed', bytes, { chunkSize: 100 }),
      alpine,
    );
    expect(packages.map((p) => [p.name, p.version, p.source?.name, p.licenses])).toEqual([
      ['alpine-baselayout-data', '3.6.5-r0', 'alpine-baselayout', ['GPL-2.0-only']],
      ['musl', '1.2.5-r0', 'musl', ['MIT']],
      ['busybox', '1.36.1-r29', 'busybox', ['GPL-2.0-only']],
      ['libcrypto3', '3.3.2-r0', 'openssl', ['Apache-2.0']],
      ['scanelf', '1.3.7-r2', 'pax-utils', ['GPL-2.0-only']],
      ['ssl_client', '1.36.1-r29', 'busybox', ['GPL-2.0-only']],
      ['zlib', '1.3.1-r1', 'zlib', ['Zlib']],
      ['ca-certificates-bundle', '20240705-r0', 'ca-certificates', ['MPL-2.0 AND MIT']],
      ['libgcc', '13.2.1_git20240309-r0', 'gcc', ['GPL-2.0-or-later', 'LGPL-2.1-or-later']],
    ]);
    expect(packages.find((p) => p.name === 'musl')?.purl).toBe(
      'pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.3',
    );
    expect(packages.find((p) => p.name === 'libcrypto3')?.purl).toBe(
      'pkg:apk/alpine/libcrypto3@3.3.2-r0?arch=x86_64&distro=alpine-3.20.3&upstream=openssl',
    );
    for (const p of packages) expect(p.location).toEqual({ path: 'lib/apk/db/installed', layer: 0 });
  });

  it('wants only lib/apk/db/installed', () => {
    expect(apkReader.wants('lib/apk/db/installed', fileHeader(1))).toBe(true);
    expect(apkReader.wants('lib/apk/db/triggers', fileHeader(1))).toBe(false);
    expect(apkReader.wants('usr/lib/apk/db/installed', fileHeader(1))).toBe(false);
  });

  it('keeps an SPDX expression whole and splits a legacy list', () => {
    expect(apkLicenses('MIT AND BSD-2-Clause')).toEqual(['MIT AND BSD-2-Clause']);
    expect(apkLicenses('MIT BSD GPL2+')).toEqual(['MIT', 'BSD', 'GPL2+']);
    expect(apkLicenses(undefined)).toEqual([]);
  });

  it('uses the distro id (wolfi) as namespace', async () => {
    const db = 'P:glibc\nV:2.40-r3\nA:aarch64\nL:LGPL-2.1-or-later\n';
    const [pkg] = apkPackages(await readFileWith(apkReader, 'lib/apk/db/installed', db), { id: 'wolfi' });
    expect(pkg?.purl).toBe('pkg:apk/wolfi/glibc@2.40-r3?arch=aarch64');
    expect(pkg?.source).toEqual({ name: 'glibc', version: '2.40-r3' });
  });
});
