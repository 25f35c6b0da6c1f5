import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import type { ExposureEditor } from '../../shared/canary/exposure/index.js';

// Live traffic for the canary's end-to-end tests: an HTTP exporter on loopback serving the `http` preset's metrics
// (http_requests_total{service,version,code} and http_request_duration_seconds_bucket) whose counters grow with the
// wall clock at a given rate, split between the arms by the weight the exposure file holds at the GitOps
// repository's HEAD right now. A real Prometheus scrapes it (startScrapingPrometheus), so the canary action reads
// exactly what it would read in production: its own exposure commits change the traffic it then measures.
//
// The counts are deterministic (fractions of the elapsed requests, no sampling), so a healthy canary and a bad one
// are told apart by their error ratios alone and the tests' outcomes do not depend on chance.

const execFileAsync = promisify(execFile);

/** Latency bucket bounds in seconds; fast requests land in 0.1, slow ones in 1. */
export const LIVE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1] as const;

export interface LiveArm {
  /** The `version` label value. */
  version: string;
  /** Fraction of this arm's requests answered 5xx. */
  errorRatio: number;
  /** Fraction slower than 0.5 s. */
  slowRatio?: number;
}

export interface LiveTrafficOptions {
  /** The `service` label value. */
  service: string;
  /** Requests per second over both arms. */
  rps: number;
  canary: LiveArm;
  baseline: LiveArm;
  /** The canary's share in percent now (see gitWeight). */
  weight: () => Promise<number>;
  /** How often the counters advance; 100 ms by default. */
  tickMs?: number;
}

export interface LiveTraffic {
  /** `127.0.0.1:<port>`, a scrape target. */
  target: string;
  /** Requests served so far by arm version (exact, before flooring). */
  served(): Record<string, number>;
  /** The weights seen so far, in order, each once when it changed. */
  weights(): number[];
  stop(): Promise<void>;
}

interface ArmCounters {
  ok: number;
  errors: number;
  fast: number;
  slow: number;
}

/**
 * The weight the exposure file holds on `branch` of the GitOps repository, read with `git show` (never the work
 * tree, which a direct commit may update a moment later) and cached for `ttlMs`, so a 100 ms tick spawns no git.
 */
export function gitWeight(
  repository: string,
  file: string,
  editor: ExposureEditor,
  options: { branch?: string; ttlMs?: number } = {},
): () => Promise<number> {
  const ttl = options.ttlMs ?? 250;
  let cached: { weight: number; at: number } | undefined;
  let pending: Promise<number> | undefined;
  return async () => {
    if (cached && Date.now() - cached.at < ttl) return cached.weight;
    pending ??= execFileAsync('git', ['-C', repository, 'show', `${options.branch ?? 'main'}:${file}`], {
      encoding: 'utf8',
    })
      .then(({ stdout }) => {
        cached = { weight: editor.read(stdout, file), at: Date.now() };
        return cached.weight;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}

export async function startLiveTraffic(options: LiveTrafficOptions): Promise<LiveTraffic> {
  const arms = [options.canary, options.baseline];
  const counters = new Map<string, ArmCounters>(
    arms.map((arm) => [arm.version, { ok: 0, errors: 0, fast: 0, slow: 0 }]),
  );
  const seen: number[] = [];
  let weight = await options.weight();
  seen.push(weight);
  let last = Date.now();
  let failure: unknown;

  const advance = () => {
    const now = Date.now();
    const requests = (options.rps * (now - last)) / 1000;
    last = now;
    for (const arm of arms) {
      const share = arm === options.canary ? weight / 100 : 1 - weight / 100;
      const served = requests * share;
      const count = counters.get(arm.version)!;
      count.errors += served * arm.errorRatio;
      count.ok += served * (1 - arm.errorRatio);
      count.slow += served * (arm.slowRatio ?? 0);
      count.fast += served * (1 - (arm.slowRatio ?? 0));
    }
  };
  const tick = setInterval(() => {
    advance();
    options.weight().then(
      (next) => {
        if (next !== weight) seen.push(next);
        weight = next;
      },
      (error: unknown) => {
        failure = error;
      },
    );
  }, options.tickMs ?? 100);

  const server = createServer((request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    if (failure) {
      response.writeHead(500).end(String(failure));
      return;
    }
    advance();
    response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(exposition(options.service, counters));
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  return {
    target: `127.0.0.1:${port}`,
    served: () =>
      Object.fromEntries([...counters].map(([version, count]) => [version, count.ok + count.errors] as const)),
    weights: () => [...seen],
    async stop() {
      clearInterval(tick);
      server.closeAllConnections();
      await new Promise<void>((closed) => server.close(() => closed()));
    },
  };
}

/** The Prometheus text format; counters are floored so they stay whole and never decrease. */
function exposition(service: string, counters: Map<string, ArmCounters>): string {
  const lines = ['# TYPE http_requests_total counter'];
  for (const [version, count] of counters) {
    const labels = `service="${service}",version="${version}"`;
    lines.push(`http_requests_total{${labels},code="200"} ${Math.floor(count.ok)}`);
    lines.push(`http_requests_total{${labels},code="500"} ${Math.floor(count.errors)}`);
  }
  lines.push('# TYPE http_request_duration_seconds histogram');
  for (const [version, count] of counters) {
    const labels = `service="${service}",version="${version}"`;
    const fast = Math.floor(count.fast);
    const slow = Math.floor(count.slow);
    for (const le of LIVE_BUCKETS) {
      lines.push(
        `http_request_duration_seconds_bucket{${labels},le="${le}"} ${(le >= 0.1 ? fast : 0) + (le >= 1 ? slow : 0)}`,
      );
    }
    lines.push(`http_request_duration_seconds_bucket{${labels},le="+Inf"} ${fast + slow}`);
    lines.push(`http_request_duration_seconds_count{${labels}} ${fast + slow}`);
    lines.push(`http_request_duration_seconds_sum{${labels}} ${(fast * 0.08 + slow * 0.8).toFixed(3)}`);
  }
  return `${lines.join('\n')}\n`;
}
