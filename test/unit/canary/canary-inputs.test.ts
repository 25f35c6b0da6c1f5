import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkCanaryChoice,
  gitopsServiceName,
  matchersInput,
  parseHeaders,
  parseNumber,
  parseSteps,
  prometheusAuth,
  readSince,
} from '../../../shared/canary/canary-inputs.js';
import { ConfigurationError } from '../../../shared/core/errors.js';
import { PROMOTION_RECORD } from '../../../shared/records/promotion.js';
import { stampRecord } from '../../../shared/records/record.js';

// The canary action's input rules, as tables: each bad value names its input.

const inputOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (error) {
    if (error instanceof ConfigurationError) return error.input;
    throw error;
  }
  return undefined;
};

describe('canary inputs', () => {
  it.each([
    ['1,5,25,100', [1, 5, 25, 100]],
    [' 1%, 5% ,50 ', [1, 5, 50]],
    ['0.5,100', [0.5, 100]],
  ])('steps %j', (raw, steps) => expect(parseSteps(raw)).toEqual(steps));

  it.each(['', '5,1', '1,1', '0,5', '1,101', 'one', '1;5'])('refuses steps %j', (raw) => {
    expect(() => parseSteps(raw)).toThrow(/Input 'steps'/);
  });

  it('reads alpha and tolerance in range only', () => {
    expect(parseNumber('alpha', '0.05', { above: 0, below: 1 }, 'x')).toBe(0.05);
    expect(inputOf(() => parseNumber('alpha', '1', { above: 0, below: 1 }, 'x'))).toBe('alpha');
    expect(inputOf(() => parseNumber('alpha', '5%', { above: 0, below: 1 }, 'x'))).toBe('alpha');
    expect(parseNumber('tolerance', '1.0', { atLeast: 1 }, 'x')).toBe(1);
    expect(inputOf(() => parseNumber('tolerance', '0.9', { atLeast: 1 }, 'x'))).toBe('tolerance');
  });

  it('reads since as an RFC 3339 time with an offset, or from a promotion record', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'slipway-canary-inputs-'));
    expect((await readSince('2026-03-01T10:00:00Z', workspace)).at.toISOString()).toBe('2026-03-01T10:00:00.000Z');
    expect((await readSince('2026-03-01T12:00:00+02:00', workspace)).at.toISOString()).toBe('2026-03-01T10:00:00.000Z');
    await expect(readSince('2026-03-01T10:00:00', workspace)).rejects.toThrow(/Input 'since'/);
    await expect(readSince('2026-13-01T10:00:00Z', workspace)).rejects.toThrow(/Input 'since'/);
    await expect(readSince('missing.json', workspace)).rejects.toThrow(/Input 'since'/);
    const record = stampRecord(PROMOTION_RECORD, {
      outcome: 'promoted',
      environment: 'prod',
      gitops: { repository: './gitops', kind: 'local', config: '.slipway.yaml' },
      services: [],
      direct: true,
      commit: 'c0ffee'.padEnd(40, '0'),
      changed: true,
      dryRun: false,
      rollback: false,
      calls: { total: 0, read: 0, write: 0, attempts: 1 },
      timestamps: { started: '2026-03-01T09:59:00Z', finished: '2026-03-01T10:00:05Z' },
    });
    writeFileSync(join(workspace, 'promotion.json'), JSON.stringify(record));
    expect(await readSince('promotion.json', workspace)).toEqual({ at: new Date('2026-03-01T10:00:05Z') });
    // With the promoted service in it, the canary is that digest: canary.json names it for evidence.
    const digest = `sha256:${'d'.repeat(64)}`;
    const service = (name: string, d: string) => ({
      service: name,
      image: `ghcr.io/acme/${name}`,
      next: { digest: d, tag: '1.4.0' },
      targets: [{ file: `envs/prod/${name}.yaml`, kind: 'kustomization' }],
      lineage: { mode: 'image' },
      verification: { verdict: 'verified', predicateTypes: [], codes: [], reasons: [] },
    });
    writeFileSync(
      join(workspace, 'bundle.json'),
      JSON.stringify({ ...record, services: [service('web', `sha256:${'e'.repeat(64)}`), service('api', digest)] }),
    );
    expect((await readSince('bundle.json', workspace, 'api')).subject).toEqual({ name: 'ghcr.io/acme/api', digest });
    expect((await readSince('bundle.json', workspace)).subject).toBeUndefined();
  });

  it('names the input of bad matchers, and derives the GitOps service from one = matcher', () => {
    expect(inputOf(() => matchersInput('canary', 'version=canary'))).toBe('canary');
    expect(gitopsServiceName(matchersInput('service', 'app="api"'), undefined)).toBe('api');
    expect(gitopsServiceName(matchersInput('service', 'app="api",ns="prod"'), undefined)).toBeUndefined();
    expect(gitopsServiceName(matchersInput('service', 'app=~"api|web"'), undefined)).toBeUndefined();
    expect(gitopsServiceName([], 'billing')).toBe('billing');
  });

  it('reads headers without showing them in errors', () => {
    expect(parseHeaders('X-Scope-OrgID: tenant-1\n\nAuthorization-Extra:  a b ')).toEqual({
      'X-Scope-OrgID': 'tenant-1',
      'Authorization-Extra': 'a b',
    });
    let message = '';
    try {
      parseHeaders('not a header s3cr3t-value');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("Input 'prometheus-headers'");
    expect(message).not.toContain('s3cr3t');
  });

  it('takes bearer or basic auth, never both, never half', () => {
    expect(prometheusAuth({ token: 'tok1' })).toEqual({ kind: 'bearer', token: 'tok1' });
    expect(prometheusAuth({ username: 'u', password: 'p' })).toEqual({ kind: 'basic', username: 'u', password: 'p' });
    expect(prometheusAuth({})).toEqual({ kind: 'none' });
    expect(inputOf(() => prometheusAuth({ username: 'u' }))).toBe('prometheus-password');
    expect(inputOf(() => prometheusAuth({ password: 'p' }))).toBe('prometheus-username');
    expect(inputOf(() => prometheusAuth({ token: 't', username: 'u', password: 'p' }))).toBe('prometheus-token');
  });

  it.each([
    [{}, 'prometheus-url'],
    [{ simulate: 'true', gitopsRepo: './gitops' }, 'gitops-repo'],
    [{ prometheusUrl: 'http://p:9090', gitopsRepo: './gitops' }, 'environment'],
    [{ prometheusUrl: 'http://p:9090', gitopsRepo: './g', environment: 'prod' }, 'exposure'],
    [{ prometheusUrl: 'http://p:9090', gitopsRepo: './g', environment: 'prod', exposure: 'flagd' }, 'exposure-file'],
    [
      {
        prometheusUrl: 'http://p:9090',
        gitopsRepo: './g',
        environment: 'prod',
        exposure: 'flagd',
        exposureFile: 'f.json',
      },
      'gitops-service',
    ],
    [{ prometheusUrl: 'http://p:9090' }, undefined],
    [{ simulate: '' }, undefined],
  ])('cross-input rule %j → %s', (choice, input) => {
    expect(inputOf(() => checkCanaryChoice(choice))).toBe(input);
  });
});
