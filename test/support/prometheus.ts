import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, requireTool, stopProcess } from './services.js';

// A real Prometheus (Debian package `prometheus`, 2.42) per test suite, on 127.0.0.1 at a free port, holding
// exactly the samples a scenario generated: the scenario is written as OpenMetrics and backfilled with
// `promtool tsdb create-blocks-from openmetrics` into the storage dir before Prometheus starts. Nothing scrapes,
// so the head block stays empty and the backfilled blocks never overlap it. Queries are evaluated at the
// scenario's own times, so the answers do not depend on the wall clock.

export const SCRAPE_SECONDS = 15;

/** Latency bucket bounds (seconds) the scenarios' histograms use. */
export const BUCKETS = [0.05, 0.1, 0.25, 0.5, 1] as const;

export interface ArmTraffic {
  service: string;
  version: string;
  /** Requests per scrape step; errors are part of them. */
  requestsPerStep: number;
  /** 5xx per step, split between 500 and 503. */
  errorsPerStep: number;
  /** 404s per step: client errors, which are not failures. */
  notFoundPerStep?: number;
  /** Requests per step slower than 0.5 s (in the 1 s bucket). */
  slowPerStep?: number;
  /** The step from which the 5xx series exist (a canary whose error series appears late); 0 by default. */
  errorsFromStep?: number;
  /** No 5xx series at all, as a service that never failed since it started has none. */
  noErrorSeries?: boolean;
  /** A NaN sample in the 200 series at this step (a broken exporter): every increase() over it reads NaN. */
  nanAtStep?: number;
}

export interface Scenario {
  /** Unix seconds of the first sample; a multiple of SCRAPE_SECONDS. */
  start: number;
  /** Number of scrape steps after the first sample: samples at start, start+15, …, start+steps×15. */
  steps: number;
  arms: ArmTraffic[];
}

/** The scenario's time of step `step`. */
export function stepTime(scenario: Scenario, step: number): Date {
  return new Date((scenario.start + step * SCRAPE_SECONDS) * 1000);
}

/** What the generator put in between step `from` and step `to` for one arm (exact, before any PromQL). */
export function expected(
  arm: ArmTraffic,
  from: number,
  to: number,
): { requests: number; errors: number; slow: number } {
  const steps = to - from;
  const errorSteps = Math.max(0, to - Math.max(from, arm.errorsFromStep ?? 0));
  return {
    requests: steps * arm.requestsPerStep,
    errors: arm.noErrorSeries ? 0 : errorSteps * arm.errorsPerStep,
    slow: steps * (arm.slowPerStep ?? 0),
  };
}

/**
 * OpenMetrics text: each series' samples in time order, one series after another (promtool reads per series in
 * order). Counters start at 0 at step 0, so increase() from step 0 has a first sample to subtract.
 */
export function openMetrics(scenario: Scenario): string {
  const lines: string[] = ['# HELP http_requests Requests served.', '# TYPE http_requests counter'];
  const t = (step: number) => scenario.start + step * SCRAPE_SECONDS;
  for (const arm of scenario.arms) {
    const base = `service="${arm.service}",version="${arm.version}"`;
    const byCode: Array<[string, number, number]> = [
      ['200', arm.requestsPerStep - arm.errorsPerStep - (arm.notFoundPerStep ?? 0), 0],
    ];
    if (arm.notFoundPerStep !== undefined) byCode.push(['404', arm.notFoundPerStep, 0]);
    if (!arm.noErrorSeries) {
      const to500 = Math.ceil(arm.errorsPerStep / 2);
      byCode.push(['500', to500, arm.errorsFromStep ?? 0], ['503', arm.errorsPerStep - to500, arm.errorsFromStep ?? 0]);
    }
    for (const [code, perStep, fromStep] of byCode) {
      // The series for the late errors only exists from its first step, as a freshly created counter does.
      for (let step = fromStep; step <= scenario.steps; step++) {
        const value = code === '200' && step === arm.nanAtStep ? 'NaN' : String((step - fromStep) * perStep);
        lines.push(`http_requests_total{${base},code="${code}"} ${value} ${t(step)}`);
      }
    }
  }
  lines.push('# HELP http_request_duration_seconds Request latency.', '# TYPE http_request_duration_seconds histogram');
  for (const arm of scenario.arms) {
    const base = `service="${arm.service}",version="${arm.version}"`;
    const slow = arm.slowPerStep ?? 0;
    const fast = arm.requestsPerStep - slow;
    for (let step = 0; step <= scenario.steps; step++) {
      // Fast requests land in the 0.1 s bucket, slow ones in the 1 s bucket.
      for (const le of BUCKETS) {
        const within = (le >= 0.1 ? fast : 0) + (le >= 1 ? slow : 0);
        lines.push(`http_request_duration_seconds_bucket{${base},le="${le}"} ${step * within} ${t(step)}`);
      }
      lines.push(`http_request_duration_seconds_bucket{${base},le="+Inf"} ${step * arm.requestsPerStep} ${t(step)}`);
      lines.push(`http_request_duration_seconds_count{${base}} ${step * arm.requestsPerStep} ${t(step)}`);
      lines.push(`http_request_duration_seconds_sum{${base}} ${step * (fast * 0.08 + slow * 0.8)} ${t(step)}`);
    }
  }
  lines.push('# EOF', '');
  return lines.join('\n');
}

export interface TestPrometheus {
  url: string;
  /** Basic-auth credentials when started with auth. */
  credentials?: { username: string; password: string };
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;
const PROMTOOL_TIMEOUT_MS = 60_000;

/** Backfills `scenario` into a fresh storage dir and starts Prometheus on it; resolves once /-/ready answers 200. */
export async function startPrometheus(scenario: Scenario, options: { auth?: boolean } = {}): Promise<TestPrometheus> {
  const prometheus = requireTool('prometheus', 'prometheus');
  const promtool = requireTool('promtool', 'prometheus');
  const dir = mkdtempSync(join(tmpdir(), 'slipway-prometheus-'));
  try {
    const data = join(dir, 'data');
    mkdirSync(data);
    const input = join(dir, 'scenario.om');
    writeFileSync(input, openMetrics(scenario));
    execFileSync(promtool, ['tsdb', 'create-blocks-from', 'openmetrics', input, data], {
      timeout: PROMTOOL_TIMEOUT_MS,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // No scrape configs: nothing lands in the head block, which would otherwise collide with the backfill.
    const config = join(dir, 'prometheus.yml');
    writeFileSync(config, `global:\n  scrape_interval: ${SCRAPE_SECONDS}s\n`);
    const port = await freePort();
    const credentials = options.auth ? { username: 'slipway', password: `pw-${process.pid}-${port}` } : undefined;
    const args = [
      `--config.file=${config}`,
      `--storage.tsdb.path=${data}`,
      // Retention counts from the newest block, so a scenario from the past is kept whatever the wall clock says.
      '--storage.tsdb.retention.time=3650d',
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ];
    if (credentials) {
      requireTool('htpasswd', 'apache2-utils');
      const line = execFileSync('htpasswd', ['-nbB', credentials.username, credentials.password], { encoding: 'utf8' });
      const hash = line.trim().split(':').slice(1).join(':');
      const web = join(dir, 'web.yml');
      writeFileSync(web, `basic_auth_users:\n  ${credentials.username}: '${hash}'\n`);
      args.push(`--web.config.file=${web}`);
    }
    const authorization = credentials
      ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`
      : undefined;
    const { url, stop } = await launch(prometheus, args, port, dir, authorization);
    return { url, ...(credentials ? { credentials } : {}), stop };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Starts `prometheus` with `args` (listening on `port`) and resolves once /-/ready answers 200 (with
 * `authorization` where it asks for basic auth); stop() ends it and removes `dir`.
 */
async function launch(
  prometheus: string,
  args: string[],
  port: number,
  dir: string,
  authorization?: string,
): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  const child = spawn(prometheus, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8192);
  });
  const url = `http://127.0.0.1:${port}`;
  await waitReady(`${url}/-/ready`, child, () => stderr, authorization);
  return {
    url,
    child,
    async stop() {
      await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitReady(url: string, child: ChildProcess, log: () => string, authorization?: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`prometheus exited (${child.exitCode}) before ${url} was ready: ${log()}`);
    try {
      const response = await fetch(url, {
        signal: AbortSignal.timeout(2000),
        ...(authorization ? { headers: { authorization } } : {}),
      });
      await response.body?.cancel();
      if (response.status === 200) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${url} was not ready within ${READY_TIMEOUT_MS} ms (${last}): ${log()}`);
}

/**
 * Canary scenarios whose decision is known, one `service` label value each, so one Prometheus serves them all.
 * Every canary gets 25 % of its service's requests, as a step of 25 % intends, so the sample-ratio check stays
 * quiet; baselines fail 1 % of requests and serve 2 % slower than 0.5 s. Over 120 steps (30 minutes) the healthy
 * canary shows non-inferiority at margin 1.2 many times over (log e ≈ 11 against a threshold of ln 20 ≈ 3), and
 * the 2x-error canary shows harm within its first 20 steps.
 */
export function canaryScenarios(
  start: number,
  steps = 120,
): { scenario: Scenario; arms: Record<string, ArmTraffic[]> } {
  const stable = (service: string): ArmTraffic => ({
    service,
    version: 'stable',
    requestsPerStep: 1500,
    errorsPerStep: 15,
    notFoundPerStep: 20,
    slowPerStep: 30,
  });
  const canary = (service: string, traffic: Partial<ArmTraffic> = {}): ArmTraffic => ({
    service,
    version: 'canary',
    requestsPerStep: 500,
    errorsPerStep: 5,
    notFoundPerStep: 7,
    slowPerStep: 10,
    ...traffic,
  });
  const arms: Record<string, ArmTraffic[]> = {
    /** Same error and slow fractions as the baseline: promoted. */
    healthy: [stable('healthy'), canary('healthy')],
    /** Twice the baseline's 5xx fraction: rolled back on errors. */
    errors2x: [stable('errors2x'), canary('errors2x', { errorsPerStep: 10 })],
    /** Same errors, 2.5 times as many requests slower than 0.5 s (the tail only): rolled back on latency. */
    tail: [stable('tail'), canary('tail', { slowPerStep: 25 })],
    /** The canary's series exist but never increase: no traffic reached it. */
    idle: [
      stable('idle'),
      canary('idle', { requestsPerStep: 0, errorsPerStep: 0, notFoundPerStep: 0, slowPerStep: 0 }),
    ],
    /** The canary never failed, so it has no 5xx series at all: zero errors, not missing data. */
    clean: [stable('clean'), canary('clean', { errorsPerStep: 0, noErrorSeries: true })],
    /** Neither arm served anything: no evidence either way. */
    silent: [
      { ...stable('silent'), requestsPerStep: 0, errorsPerStep: 0, notFoundPerStep: 0, slowPerStep: 0 },
      canary('silent', { requestsPerStep: 0, errorsPerStep: 0, notFoundPerStep: 0, slowPerStep: 0 }),
    ],
    /** Healthy, but the canary's 5xx series appear only at step 40: the new-series lint's case. */
    late: [stable('late'), canary('late', { errorsFromStep: 40 })],
    /**
     * The canary's request counter's last sample is NaN. (A NaN between samples vanishes: increase() takes
     * last minus first and its reset check `v < previous` is false for NaN.)
     */
    nan: [stable('nan'), canary('nan', { nanAtStep: steps })],
  };
  return { scenario: { start, steps, arms: Object.values(arms).flat() }, arms };
}

/**
 * A real Prometheus scraping live `targets` (host:port serving /metrics) every `scrapeSeconds` (1 s by default),
 * for end-to-end canary runs against traffic that grows with the wall clock (live-traffic.ts). Unlike
 * startPrometheus, nothing is backfilled: every sample comes from a scrape, into the head block.
 */
export async function startScrapingPrometheus(
  targets: string[],
  options: { scrapeSeconds?: number } = {},
): Promise<TestPrometheus> {
  const prometheus = requireTool('prometheus', 'prometheus');
  const dir = mkdtempSync(join(tmpdir(), 'slipway-prometheus-live-'));
  try {
    const interval = `${options.scrapeSeconds ?? 1}s`;
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      [
        'global:',
        `  scrape_interval: ${interval}`,
        `  evaluation_interval: ${interval}`,
        'scrape_configs:',
        '  - job_name: live',
        `    scrape_timeout: ${interval}`,
        '    static_configs:',
        `      - targets: [${targets.map((target) => JSON.stringify(target)).join(', ')}]`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    const { url, child, stop } = await launch(
      prometheus,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      port,
      dir,
    );
    await waitScraped(url, targets.length, child);
    return { url, stop };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Waits until every target has been scraped once: Prometheus hands discovered targets to the scrape manager at
 * most every 5 s, so "ready" comes several seconds before the first sample.
 */
async function waitScraped(url: string, count: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}) before scraping its targets`);
    const response = await fetch(`${url}/api/v1/targets?state=active`, { signal: AbortSignal.timeout(2000) });
    last = await response.text();
    const active = (JSON.parse(last) as { data?: { activeTargets?: { health: string }[] } }).data?.activeTargets ?? [];
    if (active.length === count && active.every((target) => target.health === 'up')) return;
    await new Promise((done) => setTimeout(done, 200));
  }
  throw new Error(`${url} did not scrape its ${count} target(s) within ${READY_TIMEOUT_MS} ms: ${last.slice(0, 500)}`);
}
