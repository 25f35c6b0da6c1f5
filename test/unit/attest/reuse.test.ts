import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predicateDigest, ReusePolicy, statementKey } from '../../../shared/attest/reuse.js';
import { signStatement } from '../../../shared/attest/sign.js';
import type { StoredAttestation } from '../../../shared/attest/stores.js';
import type { Statement } from '../../../shared/attest/types.js';
import { canonicalJson } from '../../../shared/core/canonical-json.js';
import type { Logger } from '../../../shared/core/logger.js';
import { keylessSigning } from '../../support/attestations.js';
import { GITHUB_ISSUER, type Sigstore, startSigstore } from '../../support/sigstore.js';

const DIGEST = `sha256:${'a'.repeat(64)}` as const;
const OTHER = `sha256:${'b'.repeat(64)}` as const;
const WORKFLOW = 'acme/app/.github/workflows/release.yml@refs/heads/main';

const statementOf = (predicate: unknown, digest: string = DIGEST, predicateType = 'https://slipway.test/p/v1') =>
  ({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'registry.test/acme/app', digest: { sha256: digest.slice('sha256:'.length) } }],
    predicateType,
    predicate,
  }) as Statement;

describe('statementKey', () => {
  it('is equal for equal statements whatever the key order, and differs on subject, type or predicate', () => {
    const base = statementKey(statementOf({ a: 1, b: [1, { c: 2, d: 3 }] }));
    expect(statementKey(statementOf({ b: [1, { d: 3, c: 2 }], a: 1 }))).toBe(base);
    expect(statementKey(statementOf({ a: 1, b: [{ c: 2, d: 3 }, 1] }))).not.toBe(base);
    expect(statementKey(statementOf({ a: 2, b: [1, { c: 2, d: 3 }] }))).not.toBe(base);
    expect(statementKey(statementOf({ a: 1, b: [1, { c: 2, d: 3 }] }, OTHER))).not.toBe(base);
    expect(statementKey(statementOf({ a: 1, b: [1, { c: 2, d: 3 }] }, DIGEST, 'https://slipway.test/p/v2'))).not.toBe(
      base,
    );
  });

  it('digests canonical JSON: sorted keys, no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: 'x', c: null } })).toBe('{"a":{"c":null,"d":"x"},"b":1}');
    expect(predicateDigest({ b: 1, a: 2 })).toBe(predicateDigest({ a: 2, b: 1 }));
    expect(predicateDigest({ a: 2, b: 1 })).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe('ReusePolicy', () => {
  let sigstore: Sigstore;
  let rogue: Sigstore;
  beforeAll(async () => {
    [sigstore, rogue] = await Promise.all([startSigstore(), startSigstore()]);
  });
  afterAll(async () => {
    await Promise.all([sigstore.close(), rogue.close()]);
  });

  const signWith = (instance: Sigstore, s: Statement, workflowRef = WORKFLOW) =>
    signStatement(s, keylessSigning(instance, { job_workflow_ref: workflowRef }));

  function policy(fetched: { count: number }, root: object | null = sigstore.trustedRoot) {
    const lines: string[] = [];
    const logger: Logger = {
      debug: () => {},
      info: (m) => lines.push(`info: ${m}`),
      warning: (m) => lines.push(`warning: ${m}`),
      error: (m) => lines.push(`error: ${m}`),
      group: (_t, body) => body(),
    };
    const reuse = new ReusePolicy({
      identity: {
        kind: 'keyless',
        san: `https://github.com/${WORKFLOW}`,
        serverUrl: 'https://github.com',
        workflowRef: WORKFLOW,
        issuer: GITHUB_ISSUER,
      },
      trustedRoot: async () => {
        fetched.count += 1;
        return root ? { root } : { reason: 'no root in this test' };
      },
      tlogThreshold: 1,
      timestampThreshold: 1,
      logger,
    });
    return { reuse, lines };
  }

  const at = (n: number): StoredAttestation['location'] => ({
    kind: 'referrer',
    manifest: `sha256:${String(n).repeat(64)}` as `sha256:${string}`,
    via: 'tag-fallback',
  });

  it('reuses only the verified bundle of this signer with the identical statement', async () => {
    const wanted = statementOf({ verdict: 'pass' });
    const good = await signWith(sigstore, wanted);
    const planted = await signWith(rogue, wanted);
    const otherWorkflow = await signWith(sigstore, wanted, 'acme/app/.github/workflows/other.yml@refs/heads/main');
    const otherPredicate = await signWith(sigstore, statementOf({ verdict: 'fail' }));
    const found: StoredAttestation[] = [
      { location: at(1), bundle: planted },
      { location: at(2), bundle: otherWorkflow },
      { location: at(3), bundle: otherPredicate },
      { location: at(4) },
      { location: at(5), bundle: good },
    ];
    const fetched = { count: 0 };
    const { reuse, lines } = policy(fetched);
    const reusable = await reuse.reusable(found, wanted, DIGEST);
    expect(reusable.map((r) => r.location)).toEqual([at(5)]);
    // The two that carry the statement but not this signer's verified signature are named in warnings.
    expect(lines.filter((l) => l.startsWith('warning:'))).toHaveLength(2);
    expect(lines.join('\n')).toMatch(/wrong signer identity/);
    expect(fetched.count).toBe(1);
  }, 60_000);

  it('fetches no trusted root when nothing stored carries the statement, and reuses nothing without one', async () => {
    const wanted = statementOf({ n: 1 });
    const good = await signWith(sigstore, wanted);
    const fetched = { count: 0 };
    const { reuse } = policy(fetched);
    expect(await reuse.reusable([{ location: at(1), bundle: good }], statementOf({ n: 2 }), DIGEST)).toEqual([]);
    expect(fetched.count).toBe(0);

    const without = policy(fetched, null);
    expect(await without.reuse.reusable([{ location: at(1), bundle: good }], wanted, DIGEST)).toEqual([]);
    expect(await without.reuse.reusable([{ location: at(1), bundle: good }], wanted, DIGEST)).toEqual([]);
    // Said once per run, not once per statement.
    expect(without.lines).toEqual([
      'info: Attestations already stored are not reused, so every statement is signed anew: no root in this test',
    ]);
  }, 60_000);
});
