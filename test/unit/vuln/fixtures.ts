import { readFileSync } from 'node:fs';
import type { Package } from '../../../shared/sbom/types.js';
import type { OsvRecord } from '../../../shared/vuln/osv.js';

// Shared fixtures for the vulnerability tests: OSV records as osv.dev serves them, and inventory packages
// shaped as the SBOM catalogers produce them.

export const fixturePath = (name: string): string => new URL(`../../fixtures/osv/${name}`, import.meta.url).pathname;

export function record(id: string): OsvRecord {
  return JSON.parse(readFileSync(fixturePath(`${id}.json`), 'utf8')) as OsvRecord;
}

export const ALL_RECORDS = [
  'DSA-5532-1',
  'GHSA-35jh-r3h4-6jhm',
  'GHSA-29mw-wpgm-hmr9',
  'GHSA-9hjg-9r4m-mvj7',
  'GHSA-f8fw-j4p4-m7c5',
].map(record);

export function pkg(fields: Partial<Package> & Pick<Package, 'ecosystem' | 'name' | 'version' | 'purl'>): Package {
  return { licenses: [], location: { path: 'x', layer: 0 }, ...fields };
}

export const libssl = pkg({
  ecosystem: 'deb',
  name: 'libssl3',
  version: '3.0.11-1~deb12u1',
  purl: 'pkg:deb/debian/libssl3@3.0.11-1~deb12u1?arch=amd64&distro=debian-12',
  source: { name: 'openssl' },
});
export const opensslBin = pkg({
  ecosystem: 'deb',
  name: 'openssl',
  version: '3.0.11-1~deb12u1',
  purl: 'pkg:deb/debian/openssl@3.0.11-1~deb12u1?arch=amd64&distro=debian-12',
  source: { name: 'openssl' },
});
export const lodash = pkg({ ecosystem: 'npm', name: 'lodash', version: '4.17.20', purl: 'pkg:npm/lodash@4.17.20' });
export const requests = pkg({
  ecosystem: 'pypi',
  name: 'requests',
  version: '2.32.3',
  purl: 'pkg:pypi/requests@2.32.3',
});
export const bookworm = { id: 'debian', versionId: '12', codename: 'bookworm' };
