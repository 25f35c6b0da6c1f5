import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidValueError } from '../../../shared/core/errors.js';
import { parseExceptions } from '../../../shared/vuln/exceptions.js';
import type { Finding } from '../../../shared/vuln/finding.js';
import { type EvaluateInput, evaluate, gate } from '../../../shared/vuln/gate.js';
import { parseVex } from '../../../shared/vuln/openvex.js';
import { OsvClient } from '../../../shared/vuln/osv.js';
import { scan } from '../../../shared/vuln/scan.js';
import { errorOf } from '../../support/errors.js';
import { type OsvServer, startOsvServer } from '../../support/osv-server.js';
import { ALL_RECORDS, bookworm, fixturePath, libssl, lodash, opensslBin, pkg, requests } from './fixtures.js';

const NOW = new Date('2025-03-01T12:00:00Z');

function finding(fields: Partial<Finding> & Pick<Finding, 'id' | 'severity'>): Finding {
  return {
    aliases: [],
    package: { purl: 'pkg:npm/lodash@4.17.20', name: 'lodash', version: '4.17.20', ecosystem: 'npm' },
    fixedIn: ['4.17.21'],
    summary: '',
    ...fields,
  };
}

const high = finding({ id: 'GHSA-35jh-r3h4-6jhm', aliases: ['CVE-2021-23337'], severity: 'high', score: 7.2 });
const moderate = finding({ id: 'GHSA-29mw-wpgm-hmr9', aliases: ['CVE-2020-28500'], severity: 'medium' });
const unfixed = finding({ id: 'CVE-2024-0001', severity: 'critical', fixedIn: [] });
const unscored = finding({ id: 'DSA-5532-1', aliases: ['CVE-2023-5363'], severity: 'unknown' });

function run(findings: Finding[], extra: Partial<EvaluateInput> = {}) {
  return evaluate({ findings, failOn: 'high', onlyFixed: false, exceptions: [], vex: [], now: NOW, ...extra });
}

describe('thresholds', () => {
  it('blocks at or above fail-on and passes below it', () => {
    expect(run([high, moderate]).blocking).toEqual([high]);
    expect(run([high, moderate], { failOn: 'critical' }).decision).toBe('pass');
    expect(run([high, moderate], { failOn: 'medium' }).blocking).toEqual([high, moderate]);
  });

  it('fail-on none never fails, even on unknown severity', () => {
    const result = run([high, unscored, unfixed], { failOn: 'none' });
    expect(result.decision).toBe('pass');
    expect(result.reasons.join('\n')).toContain('never fail');
  });

  it('treats unknown severity as blocking at every threshold and says so', () => {
    const result = run([unscored], { failOn: 'critical' });
    expect(result.decision).toBe('fail');
    expect(result.blocking).toEqual([unscored]);
    expect(result.reasons.join('\n')).toMatch(/unknown severity counts as blocking at fail-on critical/);
  });

  it('only-fixed lets findings without a fix through', () => {
    expect(run([unfixed]).decision).toBe('fail');
    const result = run([unfixed, high], { onlyFixed: true });
    expect(result.blocking).toEqual([high]);
    expect(result.reasons.join('\n')).toContain('only-fixed');
  });
});

describe('exceptions', () => {
  const file = fixturePath('exceptions.yaml');
  const exceptions = parseExceptions(readFileSync(file, 'utf8'), 'exceptions.yaml');

  it('parses id, reason, expiry and packages', () => {
    expect(exceptions[0]).toEqual({
      id: 'CVE-2020-28500',
      reason: 'toNumber/trim are only called on config values we control.',
      expires: '2099-12-31',
      packages: ['pkg:npm/lodash'],
      source: { file: 'exceptions.yaml', index: 0 },
    });
  });

  it('a valid exception suppresses by alias and package, with its reason recorded', () => {
    const result = run([moderate], { failOn: 'medium', exceptions });
    expect(result.decision).toBe('pass');
    expect(result.suppressed).toEqual([
      {
        finding: moderate,
        by: expect.objectContaining({ kind: 'exception', id: 'CVE-2020-28500', reason: expect.any(String) }),
      },
    ]);
    const elsewhere = {
      ...moderate,
      package: { ...moderate.package, purl: 'pkg:npm/lodash-es@4.17.20', name: 'lodash-es' },
    };
    expect(run([elsewhere], { failOn: 'medium', exceptions }).decision).toBe('fail');
  });

  it('an expired exception does not suppress, and the gate says which one expired when', () => {
    const result = run([unscored], { exceptions });
    expect(result.decision).toBe('fail');
    expect(result.suppressed).toEqual([]);
    expect(result.reasons.join('\n')).toContain(
      'Exception for DSA-5532-1 (exceptions.yaml, entry 1) expired on 2024-01-31',
    );
    // In force through its expiry day (UTC).
    expect(run([unscored], { exceptions, now: new Date('2024-01-31T23:59:00Z') }).decision).toBe('pass');
  });

  it('rejects entries without reason or expiry, or with a bad date, naming file, entry and field', () => {
    const noReason = errorOf(() =>
      parseExceptions('exceptions:\n  - id: CVE-2024-1\n    expires: 2030-01-01\n', 'ex.yaml'),
    );
    expect(noReason.message).toContain("field 'reason' of exceptions[0] in ex.yaml");
    const empty = errorOf(() =>
      parseExceptions(
        'exceptions:\n  - id: CVE-2024-1\n    reason: ok\n    expires: 2030-01-01\n  - id: CVE-2024-2\n    reason: "  "\n    expires: 2030-01-01\n',
        'ex.yaml',
      ),
    );
    expect(empty.message).toContain("field 'reason' of exceptions[1] in ex.yaml");
    const noExpiry = errorOf(() => parseExceptions('exceptions:\n  - id: CVE-2024-1\n    reason: ok\n', 'ex.yaml'));
    expect(noExpiry.message).toContain("field 'expires' of exceptions[0]");
    const badDate = errorOf(() =>
      parseExceptions('exceptions:\n  - id: CVE-2024-1\n    reason: ok\n    expires: 2025-02-30\n', 'ex.yaml'),
    );
    expect(badDate).toBeInstanceOf(InvalidValueError);
    expect(badDate.message).toContain('"2025-02-30"');
  });
});

describe('OpenVEX', () => {
  const vex = parseVex(readFileSync(fixturePath('openvex.json'), 'utf8'), 'openvex.json');
  const requestsFinding = finding({
    id: 'GHSA-9hjg-9r4m-mvj7',
    aliases: ['CVE-2024-47081'],
    severity: 'high',
    package: { purl: 'pkg:pypi/requests@2.32.3', name: 'requests', version: '2.32.3', ecosystem: 'PyPI' },
  });

  it('not_affected suppresses (subcomponent purl, alias), with the justification recorded', () => {
    const result = run([high], { vex });
    expect(result.decision).toBe('pass');
    expect(result.suppressed[0]?.by).toEqual({
      kind: 'vex',
      status: 'not_affected',
      justification: 'vulnerable_code_not_in_execute_path',
      file: 'openvex.json',
      index: 0,
    });
  });

  it('affected does not suppress; a product purl without version matches', () => {
    expect(run([requestsFinding], { vex }).blocking).toEqual([requestsFinding]);
  });

  it('a later statement overrides an earlier one, and a qualifier-free purl matches', () => {
    const doc = {
      '@context': 'https://openvex.dev/ns/v0.2.0',
      timestamp: '2025-01-01T00:00:00Z',
      statements: [
        {
          vulnerability: { name: 'CVE-2024-47081' },
          products: [{ '@id': 'pkg:pypi/requests' }],
          status: 'under_investigation',
          timestamp: '2025-01-01T00:00:00Z',
        },
        {
          vulnerability: { name: 'CVE-2024-47081' },
          products: [{ '@id': 'pkg:pypi/requests@2.32.3' }],
          status: 'fixed',
          timestamp: '2025-02-01T00:00:00Z',
        },
      ],
    };
    const statements = parseVex(JSON.stringify(doc), 'x.json');
    const withQualifiers = {
      ...requestsFinding,
      package: { ...requestsFinding.package, purl: 'pkg:pypi/requests@2.32.3?file_name=x.whl' },
    };
    expect(run([withQualifiers], { vex: statements }).suppressed[0]?.by).toMatchObject({
      kind: 'vex',
      status: 'fixed',
    });
  });

  it('rejects not_affected without justification', () => {
    const doc = {
      '@context': 'https://openvex.dev/ns/v0.2.0',
      statements: [{ vulnerability: { name: 'CVE-1' }, products: [{ '@id': 'pkg:npm/a' }], status: 'not_affected' }],
    };
    expect(errorOf(() => parseVex(JSON.stringify(doc), 'v.json')).message).toContain(
      "'justification' of statements[0] in v.json",
    );
  });
});

describe('baseline', () => {
  it('only new findings block; baseline findings that are gone are reported', () => {
    const gone = finding({ id: 'GHSA-p6mc-m468-83gw', aliases: ['CVE-2020-8203'], severity: 'high' });
    // The baseline knew the vulnerability under its CVE id; aliases make it the same finding.
    const known = { ...high, id: 'CVE-2021-23337', aliases: [] };
    const result = run([high, unfixed], { baseline: [known, gone] });
    expect(result.newSinceBaseline).toEqual([unfixed]);
    expect(result.fixedSinceBaseline).toEqual([gone]);
    expect(result.blocking).toEqual([unfixed]);
    expect(run([high], { baseline: [known, gone] }).decision).toBe('pass');
  });
});

describe('scan and gate against a loopback OSV', () => {
  let server: OsvServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const client = (url: string) =>
    new OsvClient({ baseUrl: url, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 }, sleep: async () => {} });
  const rpm = pkg({ ecosystem: 'rpm', name: 'bash', version: '5.1', purl: 'pkg:rpm/redhat/bash@5.1' });

  it('finds by source package, skips withdrawn records and lists what was not queried', async () => {
    server = await startOsvServer({ records: ALL_RECORDS });
    const { findings, notQueried } = await scan(
      [libssl, opensslBin, lodash, requests, rpm],
      bookworm,
      client(server.url),
    );
    expect(findings.map((f) => `${f.package.name} ${f.id} ${f.severity}`)).toEqual([
      'libssl3 DSA-5532-1 unknown',
      'openssl DSA-5532-1 unknown',
      'lodash GHSA-29mw-wpgm-hmr9 medium',
      'lodash GHSA-35jh-r3h4-6jhm high',
      'requests GHSA-9hjg-9r4m-mvj7 medium',
    ]);
    expect(findings[0]).toMatchObject({
      aliases: ['CVE-2023-5363'],
      fixedIn: ['3.0.11-1~deb12u2'],
      package: { ecosystem: 'Debian:12' },
    });
    expect(notQueried.map((n) => n.package.name)).toEqual(['bash']);
    // Each record fetched once although two packages share the DSA.
    expect(server.requests.filter((r) => r.path === '/v1/vulns/DSA-5532-1')).toHaveLength(1);
  });

  it('gates end to end', async () => {
    server = await startOsvServer({ records: ALL_RECORDS });
    const exceptions = parseExceptions(readFileSync(fixturePath('exceptions.yaml'), 'utf8'), 'exceptions.yaml');
    const result = await gate({
      packages: [lodash, requests, rpm],
      distro: bookworm,
      client: client(server.url),
      failOn: 'medium',
      onlyFixed: true,
      exceptions,
      vex: parseVex(readFileSync(fixturePath('openvex.json'), 'utf8'), 'openvex.json'),
      now: NOW,
    });
    expect(result.decision).toBe('fail');
    expect(result.blocking.map((f) => f.id)).toEqual(['GHSA-9hjg-9r4m-mvj7']);
    expect(result.suppressed.map((s) => `${s.finding.id} ${s.by.kind}`)).toEqual([
      'GHSA-29mw-wpgm-hmr9 exception',
      'GHSA-35jh-r3h4-6jhm vex',
    ]);
    expect(result.reasons.join('\n')).toContain('1 package(s) could not be queried');
  });

  it('OSV down makes the gate undecided, never pass, even with fail-on none', async () => {
    server = await startOsvServer({ records: ALL_RECORDS });
    server.down();
    for (const failOn of ['critical', 'none'] as const) {
      const result = await gate({
        packages: [lodash],
        distro: undefined,
        client: client(server.url),
        failOn,
        onlyFixed: false,
        exceptions: [],
        vex: [],
        now: NOW,
      });
      expect(result.decision).toBe('undecided');
      expect(result.reasons[0]).toContain(`${server.url}/v1/querybatch`);
    }
  });

  it('a record that fails to load after the batch also makes the gate undecided', async () => {
    server = await startOsvServer({ records: ALL_RECORDS });
    // The batch succeeds; every record fetch gets 503s until retries run out.
    server.failNext(100, 503, '0', '/v1/vulns/');
    const result = await gate({
      packages: [requests],
      distro: undefined,
      client: client(server.url),
      failOn: 'low',
      onlyFixed: false,
      exceptions: [],
      vex: [],
      now: NOW,
    });
    expect(result.decision).toBe('undecided');
    expect(result.reasons[0]).toContain('/v1/vulns/GHSA-9hjg-9r4m-mvj7');
    expect(server.requests.map((r) => r.path)).toEqual([
      '/v1/querybatch',
      '/v1/vulns/GHSA-9hjg-9r4m-mvj7',
      '/v1/vulns/GHSA-9hjg-9r4m-mvj7',
    ]);
  });
});
