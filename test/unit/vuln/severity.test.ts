import { describe, expect, it } from 'vitest';
import type { OsvQuery } from '../../../shared/vuln/ecosystems.js';
import type { OsvRecord } from '../../../shared/vuln/osv.js';
import { cvssBaseScore, fixedVersions, levelOfScore, severityOf } from '../../../shared/vuln/severity.js';
import { record } from './fixtures.js';

const lodashQuery: OsvQuery = { package: { ecosystem: 'npm', name: 'lodash' }, version: '4.17.20' };

describe('severityOf', () => {
  it('scores a CVSS v3 vector even when GHSA gives its own word', () => {
    expect(severityOf(record('GHSA-35jh-r3h4-6jhm'))).toEqual({
      level: 'high',
      score: 7.2,
      source: 'CVSS_V3',
      vector: 'CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H',
    });
  });

  it('scores a record that has only a CVSS v4 vector', () => {
    const severity = severityOf(record('GHSA-9hjg-9r4m-mvj7'));
    expect(severity.source).toBe('CVSS_V4');
    expect(severity.score).toBe(6);
    expect(severity.level).toBe('medium');
  });

  it('prefers v4 over v3 when both are present', () => {
    const both: OsvRecord = {
      id: 'GHSA-xxxx-yyyy-zzzz',
      modified: '2025-01-01T00:00:00Z',
      severity: [
        { type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' },
        { type: 'CVSS_V4', score: 'CVSS:4.0/AV:L/AC:H/AT:P/PR:H/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N' },
      ],
    };
    const severity = severityOf(both);
    expect(severity.source).toBe('CVSS_V4');
    expect(severity.level).toBe('low');
  });

  it('falls back to GHSA database_specific.severity, then Ubuntu priorities, then unknown', () => {
    expect(severityOf(record('GHSA-29mw-wpgm-hmr9'))).toEqual({ level: 'medium', source: 'GHSA' });
    const ubuntu: OsvRecord = {
      id: 'UBUNTU-CVE-2024-2511',
      modified: '2024-06-01T00:00:00Z',
      severity: [{ type: 'Ubuntu', score: 'low' }],
    };
    expect(severityOf(ubuntu)).toEqual({ level: 'low', source: 'Ubuntu' });
    expect(severityOf(record('DSA-5532-1'))).toEqual({ level: 'unknown', source: 'none' });
  });

  it('ignores incomplete or malformed vectors rather than inventing a score', () => {
    expect(cvssBaseScore('CVSS:3.1/AV:N')).toBeUndefined();
    expect(cvssBaseScore('CVSS:3.1/AV:N/garbage')).toBeUndefined();
    expect(cvssBaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')).toBe(9.8);
    expect(cvssBaseScore('AV:N/AC:L/Au:N/C:P/I:P/A:P')).toBe(7.5);
  });

  it('maps scores on the CVSS qualitative scale', () => {
    expect([0, 0.1, 3.9, 4, 6.9, 7, 8.9, 9, 10].map(levelOfScore)).toEqual([
      'none',
      'low',
      'low',
      'medium',
      'medium',
      'high',
      'high',
      'critical',
      'critical',
    ]);
  });
});

describe('fixedVersions', () => {
  it('takes fixed events of the matching package only', () => {
    expect(fixedVersions(record('GHSA-35jh-r3h4-6jhm'), lodashQuery)).toEqual(['4.17.21']);
    expect(
      fixedVersions(record('GHSA-35jh-r3h4-6jhm'), { ...lodashQuery, package: { ecosystem: 'PyPI', name: 'lodash' } }),
    ).toEqual([]);
    expect(
      fixedVersions(record('DSA-5532-1'), {
        package: { ecosystem: 'Debian:12', name: 'openssl' },
        version: '3.0.11-1~deb12u1',
      }),
    ).toEqual(['3.0.11-1~deb12u2']);
  });
});
