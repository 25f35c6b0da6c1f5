import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlipwayError } from '../../../shared/core/errors.js';
import { parseSlipwayConfig } from '../../../shared/gitops/config.js';
import { ancestorsOf, downstreamOf, findCycle, topologicalOrder, upstreamOf } from '../../../shared/gitops/graph.js';
import type { EnvironmentConfig } from '../../../shared/gitops/types.js';
import { repositoryRoot } from '../../support/runner-harness.js';

// The environments as a graph through `after`: direct and transitive neighbours, a deterministic order, cycles.

function environment(name: string, after: string[] = [], mode: 'all-of' | 'any-of' = 'all-of'): EnvironmentConfig {
  return {
    name,
    pullRequest: true,
    after: after.length === 0 ? undefined : { environments: after, mode },
    soakMs: 0,
    reviewers: [],
    labels: [],
    autoMerge: false,
    freeze: [],
  };
}

const graph = (...environments: EnvironmentConfig[]) => ({ environments });

// dev -> qa, perf; staging after any of qa, perf; prod after staging and qa; hotfix stands alone.
const diamond = graph(
  environment('prod', ['staging', 'qa']),
  environment('dev'),
  environment('staging', ['qa', 'perf'], 'any-of'),
  environment('qa', ['dev']),
  environment('hotfix'),
  environment('perf', ['dev']),
);

describe('upstreamOf and downstreamOf', () => {
  it.each([
    ['dev', [], ['qa', 'perf']],
    ['qa', ['dev'], ['prod', 'staging']],
    ['staging', ['qa', 'perf'], ['prod']],
    ['prod', ['staging', 'qa'], []],
    ['hotfix', [], []],
  ])('%s comes after %j and before %j', (name, upstream, downstream) => {
    expect(upstreamOf(diamond, name)).toEqual(upstream);
    expect(downstreamOf(diamond, name)).toEqual(downstream);
  });

  it('name the environments there are when asked about one that is not', () => {
    expect(() => upstreamOf(diamond, 'canary')).toThrow(
      new SlipwayError('There is no environment "canary"; the environments are prod, dev, staging, qa, hotfix, perf.'),
    );
    expect(() => downstreamOf(diamond, 'canary')).toThrow(SlipwayError);
  });

  it('return copies a caller may change', () => {
    upstreamOf(diamond, 'prod').push('dev');
    expect(upstreamOf(diamond, 'prod')).toEqual(['staging', 'qa']);
  });
});

describe('ancestorsOf', () => {
  it.each([
    ['dev', []],
    ['qa', ['dev']],
    ['staging', ['qa', 'perf', 'dev']],
    ['prod', ['staging', 'qa', 'perf', 'dev']],
  ])('%s: %j, nearest first, each once', (name, ancestors) => {
    expect(ancestorsOf(diamond, name)).toEqual(ancestors);
  });
});

describe('topologicalOrder', () => {
  it('puts every environment after its upstream ones, the file order deciding ties', () => {
    expect(topologicalOrder(diamond)).toEqual(['dev', 'qa', 'hotfix', 'perf', 'staging', 'prod']);
  });

  it('orders the issue example dev, staging, prod', () => {
    const text = readFileSync(join(repositoryRoot, 'test/fixtures/gitops/slipway.yaml'), 'utf8');
    expect(topologicalOrder(parseSlipwayConfig(text, '.slipway.yaml'))).toEqual(['dev', 'staging', 'prod']);
  });

  it('refuses a graph with a cycle, naming it', () => {
    const cyclic = graph(
      environment('dev', ['prod']),
      environment('staging', ['dev']),
      environment('prod', ['staging']),
    );
    expect(() => topologicalOrder(cyclic)).toThrow(
      new SlipwayError('The environments form a cycle: dev -> staging -> prod -> dev.'),
    );
  });

  it('holds for any graph without a cycle', () => {
    // Each environment may only come after earlier-generated ones, so the graph is acyclic by construction; then
    // the list is shuffled, so the order must come from the graph and not from the file.
    const acyclic = fc
      .array(fc.array(fc.nat(), { maxLength: 3 }), { minLength: 1, maxLength: 12 })
      .map((parents) =>
        parents.map((picks, i) =>
          environment(`e${i}`, i === 0 ? [] : [...new Set(picks.map((pick) => `e${pick % i}`))]),
        ),
      )
      .chain((environments) => fc.shuffledSubarray(environments, { minLength: environments.length }));
    fc.assert(
      fc.property(acyclic, (environments) => {
        expect(findCycle(environments)).toBeUndefined();
        const order = topologicalOrder({ environments });
        expect([...order].sort()).toEqual(environments.map((e) => e.name).sort());
        for (const environment of environments) {
          for (const upstream of environment.after?.environments ?? []) {
            expect(order.indexOf(upstream)).toBeLessThan(order.indexOf(environment.name));
          }
        }
      }),
    );
  });
});

describe('findCycle', () => {
  it.each([
    ['none', [environment('dev'), environment('prod', ['dev'])], undefined],
    ['an environment after itself', [environment('dev', ['dev'])], ['dev', 'dev']],
    ['two', [environment('dev', ['prod']), environment('prod', ['dev'])], ['dev', 'prod', 'dev']],
    [
      'three, in the direction promotions flow',
      [environment('a', ['c']), environment('b', ['a']), environment('c', ['b'])],
      ['a', 'b', 'c', 'a'],
    ],
    [
      'one behind an acyclic part, from where the search enters it',
      [environment('dev'), environment('x', ['dev', 'z']), environment('y', ['x']), environment('z', ['y'])],
      ['x', 'y', 'z', 'x'],
    ],
    ['none, when after names an environment that is not there', [environment('prod', ['nowhere'])], undefined],
    [
      'one reachable only through any-of',
      [environment('a', ['b', 'c'], 'any-of'), environment('b'), environment('c', ['a'])],
      ['a', 'c', 'a'],
    ],
  ])('%s', (_name, environments, cycle) => {
    expect(findCycle(environments)).toEqual(cycle);
  });
});
