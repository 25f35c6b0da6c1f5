import { SlipwayError } from '../core/errors.js';
import type { EnvironmentConfig, SlipwayConfig } from './types.js';

// The environments as a graph: each names the environments a digest must have passed through first (`after`),
// which makes a directed graph that must have no cycle. Orders are deterministic (ties keep the order the file
// lists environments in), so plans, summaries and the status matrix read the same on every run.

type Environments = Pick<SlipwayConfig, 'environments'>;

function named(config: Environments, environment: string): EnvironmentConfig {
  const found = config.environments.find((candidate) => candidate.name === environment);
  if (found === undefined) {
    const known = config.environments.map((candidate) => candidate.name).join(', ');
    throw new SlipwayError(`There is no environment "${environment}"; the environments are ${known}.`);
  }
  return found;
}

/** The environments `environment` comes directly after, as listed in its `after` (empty for a first one). */
export function upstreamOf(config: Environments, environment: string): string[] {
  return [...(named(config, environment).after?.environments ?? [])];
}

/** The environments that come directly after `environment`, in the order the file lists them. */
export function downstreamOf(config: Environments, environment: string): string[] {
  named(config, environment);
  return config.environments
    .filter((candidate) => candidate.after?.environments.includes(environment) === true)
    .map((candidate) => candidate.name);
}

/** Every environment `environment` comes after, directly or not, nearest first. */
export function ancestorsOf(config: Environments, environment: string): string[] {
  const found: string[] = [];
  let frontier = upstreamOf(config, environment);
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const name of frontier) {
      if (found.includes(name) || name === environment) continue;
      found.push(name);
      next.push(...upstreamOf(config, name));
    }
    frontier = next;
  }
  return found;
}

/**
 * A cycle through `after`, as the path that closes it (`[staging, prod, staging]`), or undefined. Names that are
 * not environments are ignored here: the config reader reports those on their own.
 */
export function findCycle(environments: readonly EnvironmentConfig[]): string[] | undefined {
  const byName = new Map(environments.map((environment) => [environment.name, environment]));
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (name: string): string[] | undefined => {
    const open = path.indexOf(name);
    if (open >= 0) return [...path.slice(open), name];
    if (done.has(name)) return undefined;
    const environment = byName.get(name);
    if (environment === undefined) return undefined;
    path.push(name);
    for (const upstream of environment.after?.environments ?? []) {
      const cycle = visit(upstream);
      if (cycle !== undefined) return cycle;
    }
    path.pop();
    done.add(name);
    return undefined;
  };
  for (const environment of environments) {
    const cycle = visit(environment.name);
    // Reported in the direction promotions flow (dev -> staging), the order people read the file in.
    if (cycle !== undefined) return cycle.reverse();
  }
  return undefined;
}

/** Every environment after all of its upstream ones; among those free to come next, the file's order decides. */
export function topologicalOrder(config: Environments): string[] {
  const cycle = findCycle(config.environments);
  if (cycle !== undefined) throw new SlipwayError(`The environments form a cycle: ${cycle.join(' -> ')}.`);
  const placed = new Set<string>();
  const order: string[] = [];
  const names = new Set(config.environments.map((environment) => environment.name));
  while (order.length < config.environments.length) {
    const next = config.environments.find(
      (environment) =>
        !placed.has(environment.name) &&
        (environment.after?.environments ?? []).every((upstream) => placed.has(upstream) || !names.has(upstream)),
    )!;
    placed.add(next.name);
    order.push(next.name);
  }
  return order;
}
