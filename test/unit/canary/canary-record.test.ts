import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryExposure } from '../../../shared/canary/exposure/memory-store.js';
import { runCanary } from '../../../shared/canary/run-canary.js';
import { simulatedClock } from '../../../shared/canary/simulate.js';
import { silentLogger } from '../../../shared/core/logger.js';
import { SecretRegistry } from '../../../shared/core/secrets.js';
import { CANARY_RECORD, type CanaryResult, finite, readCanaryRecord } from '../../../shared/records/canary.js';
import { RecordError, writeRecord } from '../../../shared/records/record.js';
import { findProblem } from '../../../shared/records/validate.js';
import { followingSource, plan, recorded, since, type WeightLog } from './exact-source.js';

// canary.json: written from a real run (exact counts, memory exposure), valid against its schema, read back
// through the one reader, and refused with the field named when it is not a canary record.

const workspace = mkdtempSync(join(tmpdir(), 'slipway-canary-record-'));

async function run(ratio: number, slo?: number): Promise<CanaryResult> {
  const clock = simulatedClock(since);
  const log: WeightLog = [{ at: since, weight: 0 }];
  const store = recorded(memoryExposure(0, since, clock.now), log, clock.now);
  return runCanary(
    {
      plan: plan({ warmupSeconds: 0, ...(slo ? { sloLatencySeconds: slo } : {}) }),
      mode: 'loop',
      intervalSeconds: 60,
      service: 'api',
      environment: 'prod',
      described: { metrics: 'http', canary: 'version="canary"', baseline: 'version="stable"' },
    },
    {
      ...clock,
      store,
      logger: silentLogger,
      source: followingSource(log, { rps: 500, errors: 0.005, ratio, slow: 0.01, slowRatio: ratio }),
    },
  );
}

describe('canary.json', () => {
  it('is valid against its schema for a promote and a rollback, and reads back', async () => {
    for (const [ratio, decision] of [
      [1, 'promote'],
      [3, 'rollback'],
    ] as const) {
      const body = await run(ratio, 0.5);
      expect(body.decision).toBe(decision);
      const path = writeRecord(workspace, CANARY_RECORD, body, new SecretRegistry());
      const raw = JSON.parse(readFileSync(path, 'utf8'));
      expect(raw._type).toBe('https://slipway.dev/records/canary');
      expect(findProblem(CANARY_RECORD.schema, raw)).toBeUndefined();
      const read = await readCanaryRecord(path);
      expect(read.decision).toBe(decision);
      expect(read.metrics.map((m) => m.name)).toEqual(['errors', 'latency']);
      expect(read.metrics[0]!.segments[0]!.queries.canary[0]).toMatch(
        /^sum\(increase\(http_requests_total\{version="canary"\}\[\d+s\]\)\)$/,
      );
      expect(read.service).toBe('api');
      expect(read.environment).toBe('prod');
    }
  });

  it('writes NaN and infinite numbers as null', () => {
    expect(finite(Number.NaN)).toBeNull();
    expect(finite(Number.POSITIVE_INFINITY)).toBeNull();
    expect(finite(undefined)).toBeNull();
    expect(finite(1.5)).toBe(1.5);
  });

  it('refuses a record without a decision, or with an unknown one, naming the field', async () => {
    const body = await run(1);
    const { decision: _d, ...rest } = body;
    expect(findProblem(CANARY_RECORD.schema, { _type: CANARY_RECORD.type, version: 1, ...rest })).toMatchObject({
      field: 'decision',
      found: 'missing',
    });
    const path = join(workspace, 'bad.json');
    writeFileSync(path, JSON.stringify({ _type: CANARY_RECORD.type, version: 1, ...body, decision: 'maybe' }));
    const error = await readCanaryRecord(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecordError);
    expect((error as Error).message).toContain('decision');
  });
});
