import { describe, expect, it } from 'vitest';
import { osvQueryFor, planQueries } from '../../../shared/vuln/ecosystems.js';
import { bookworm, libssl, lodash, opensslBin, pkg } from './fixtures.js';

describe('osvQueryFor', () => {
  it('keys Debian packages by source name, source version when known, and the major release', () => {
    expect(osvQueryFor(libssl, bookworm)).toEqual({
      query: { package: { ecosystem: 'Debian:12', name: 'openssl' }, version: '3.0.11-1~deb12u1' },
    });
    const binNmu = pkg({ ...libssl, version: '1.2-3+b1', source: { name: 'foo', version: '1.2-3' } });
    expect(osvQueryFor(binNmu, { id: 'debian', versionId: '12.5' })).toEqual({
      query: { package: { ecosystem: 'Debian:12', name: 'foo' }, version: '1.2-3' },
    });
  });

  it('uses Ubuntu VERSION_ID and Alpine v<major>.<minor> with the origin', () => {
    const deb = pkg({
      ecosystem: 'deb',
      name: 'libc6',
      version: '2.35-0ubuntu3.8',
      purl: 'pkg:deb/ubuntu/libc6',
      source: { name: 'glibc' },
    });
    expect(osvQueryFor(deb, { id: 'ubuntu', versionId: '22.04' })).toEqual({
      query: { package: { ecosystem: 'Ubuntu:22.04', name: 'glibc' }, version: '2.35-0ubuntu3.8' },
    });
    const apk = pkg({
      ecosystem: 'apk',
      name: 'libcrypto3',
      version: '3.3.2-r0',
      purl: 'pkg:apk/alpine/libcrypto3',
      source: { name: 'openssl' },
    });
    expect(osvQueryFor(apk, { id: 'alpine', versionId: '3.20.3' })).toEqual({
      query: { package: { ecosystem: 'Alpine:v3.20', name: 'openssl' }, version: '3.3.2-r0' },
    });
  });

  it('maps language ecosystems: npm, PyPI, Go (stdlib and modules without prefixes), Maven group:artifact', () => {
    expect(osvQueryFor(lodash, undefined)).toEqual({
      query: { package: { ecosystem: 'npm', name: 'lodash' }, version: '4.17.20' },
    });
    const py = pkg({ ecosystem: 'pypi', name: 'Django', version: '4.2.1', purl: 'pkg:pypi/django@4.2.1' });
    expect(osvQueryFor(py, undefined)).toEqual({
      query: { package: { ecosystem: 'PyPI', name: 'Django' }, version: '4.2.1' },
    });
    const std = pkg({ ecosystem: 'golang', name: 'stdlib', version: 'go1.22.1', purl: 'pkg:golang/stdlib@go1.22.1' });
    expect(osvQueryFor(std, undefined)).toEqual({
      query: { package: { ecosystem: 'Go', name: 'stdlib' }, version: '1.22.1' },
    });
    const mod = pkg({
      ecosystem: 'golang',
      name: 'golang.org/x/net',
      version: 'v0.17.0',
      purl: 'pkg:golang/golang.org/x/net@v0.17.0',
    });
    expect(osvQueryFor(mod, undefined)).toEqual({
      query: { package: { ecosystem: 'Go', name: 'golang.org/x/net' }, version: '0.17.0' },
    });
    const jar = pkg({
      ecosystem: 'maven',
      name: 'log4j-core',
      version: '2.14.1',
      purl: 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1',
    });
    expect(osvQueryFor(jar, undefined)).toEqual({
      query: { package: { ecosystem: 'Maven', name: 'org.apache.logging.log4j:log4j-core' }, version: '2.14.1' },
    });
  });

  it('says why a package is not queried instead of dropping it', () => {
    const rpm = pkg({ ecosystem: 'rpm', name: 'bash', version: '5.1', purl: 'pkg:rpm/redhat/bash@5.1' });
    expect(osvQueryFor(rpm, { id: 'rhel', versionId: '9.4' })).toEqual({ notQueried: expect.stringContaining('rpm') });
    expect(osvQueryFor(libssl, { id: 'debian' })).toEqual({ notQueried: expect.stringContaining('testing or sid') });
    expect(osvQueryFor(libssl, { id: 'linuxmint', versionId: '21' })).toEqual({
      notQueried: expect.stringContaining('linuxmint'),
    });
    const devel = pkg({
      ecosystem: 'golang',
      name: 'example.com/app',
      version: '(devel)',
      purl: 'pkg:golang/example.com/app',
    });
    expect(osvQueryFor(devel, undefined)).toEqual({ notQueried: expect.stringContaining('devel') });
  });
});

describe('planQueries', () => {
  it('shares one query among binary packages of one source and lists the unmapped', () => {
    const rpm = pkg({ ecosystem: 'rpm', name: 'bash', version: '5.1', purl: 'pkg:rpm/redhat/bash@5.1' });
    const plan = planQueries([libssl, opensslBin, lodash, rpm], bookworm);
    expect(plan.queries.map((q) => [q.query.package.name, q.packages.map((p) => p.name)])).toEqual([
      ['openssl', ['libssl3', 'openssl']],
      ['lodash', ['lodash']],
    ]);
    expect(plan.notQueried.map((n) => n.package.name)).toEqual(['bash']);
  });
});
