#!/usr/bin/env node
// The canary benchmark: our anytime-valid decision (evaluate() of shared/canary/evaluate.ts, the code the action
// runs) against Argo-style per-interval thresholds, Flagger-style cumulative failed checks, Kayenta's Mann-Whitney
// and a naively repeated z-test, on the simulator of shared/canary/simulate.ts. The driver (bench/canary/driver.ts)
// is bundled with esbuild and run as one process per core, each on its share of the cells.
//
// Usage: node bench/canary/run.mjs [--reps N] [--look SECONDS] [--cells 0,1,...] [--jobs N] [--raw FILE]
//        node bench/canary/run.mjs --from FILE [--from FILE ...]     (tables from saved raw runs)
// Figures and how to read them: bench/README.md, section "Canary".

import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '500' },
    look: { type: 'string', default: '60' },
    cells: { type: 'string' },
    jobs: { type: 'string', default: String(availableParallelism()) },
    raw: { type: 'string' },
    from: { type: 'string', multiple: true },
  },
});

const root = new URL('../..', import.meta.url).pathname;

async function simulate() {
  const reps = Number(values.reps);
  const look = Number(values.look);
  const jobs = Number(values.jobs);
  if (![reps, look, jobs].every((n) => Number.isInteger(n) && n >= 1)) {
    console.error('--reps, --look and --jobs take whole numbers of at least 1.');
    process.exit(2);
  }
  mkdirSync(join(root, 'node_modules/.cache'), { recursive: true });
  const scratch = mkdtempSync(join(root, 'node_modules/.cache/slipway-bench-canary-'));
  const driver = join(scratch, 'driver.mjs');
  await esbuild.build({
    entryPoints: [join(root, 'bench/canary/driver.ts')],
    outfile: driver,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    packages: 'external',
    logLevel: 'error',
  });
  const { cellList } = await import(driver);
  const all = cellList().map((_, i) => i);
  const cells = values.cells ? values.cells.split(',').map(Number) : all;
  const shares = Array.from({ length: jobs }, (_, j) => cells.filter((_, i) => i % jobs === j)).filter((s) => s.length);
  const lines = [];
  await Promise.all(
    shares.map(
      (share) =>
        new Promise((resolve, reject) => {
          const child = spawn(process.execPath, [driver, String(look), String(reps), share.join(',')], {
            stdio: ['ignore', 'pipe', 'inherit'],
          });
          let buffer = '';
          child.stdout.on('data', (chunk) => {
            buffer += chunk;
            let nl = buffer.indexOf('\n');
            while (nl >= 0) {
              const line = buffer.slice(0, nl);
              buffer = buffer.slice(nl + 1);
              lines.push(line);
              if (values.raw) appendFileSync(values.raw, `${line}\n`);
              const cell = JSON.parse(line);
              console.error(
                `cell ${cell.index}: ${cell.scenario} at ${cell.exposure}% (${(cell.ms / 1000).toFixed(0)} s)`,
              );
              nl = buffer.indexOf('\n');
            }
          });
          child.on('error', reject);
          child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`driver exited with ${code}`))));
        }),
    ),
  );
  rmSync(scratch, { recursive: true, force: true });
  return lines.map((l) => JSON.parse(l));
}

const cells = values.from
  ? values.from.flatMap((file) =>
      readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    )
  : await simulate();

/** Wilson's 95 % interval for k successes out of n. */
function wilson(k, n) {
  const z = 1.959964;
  const p = k / n;
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z / (1 + (z * z) / n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}
const median = (xs) => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (x) => `${(100 * x).toFixed(1)}`;

function figures(cell, method) {
  const n = cell.runs.length;
  const times = cell.runs.map((r) => r.rollback[method]).filter((t) => t !== null && t !== undefined);
  const [lo, hi] = wilson(times.length, n);
  const med = median(times);
  const excess = cell.runs.reduce((s, r) => s + r.excess[method], 0) / n;
  return {
    rate: `${pct(times.length / n)} [${pct(lo)}, ${pct(hi)}]`,
    time: med === undefined ? '–' : (med / 60).toFixed(1),
    excess: excess.toFixed(1),
  };
}

const byLook = new Map();
for (const cell of cells) {
  if (!byLook.has(cell.look)) byLook.set(cell.look, []);
  byLook.get(cell.look).push(cell);
}
for (const [look, list] of [...byLook].sort((a, b) => b[0] - a[0])) {
  list.sort((a, b) => a.index - b.index);
  const methods = Object.keys(list[0].runs[0].rollback).filter((m) => look >= 60 || m !== 'Kayenta MW');
  const n = [...new Set(list.map((c) => c.runs.length))].join('/');
  console.log(`\n### Looking every ${look} s (${n} runs per cell, 30 minutes each)\n`);
  console.log('Rollback rate in % [95 % interval] and median minutes to rollback (x1 rows: false rollbacks)\n');
  console.log(`| scenario | exposure | ${methods.join(' | ')} |`);
  console.log(`| --- | --: | ${methods.map(() => '--:').join(' | ')} |`);
  for (const cell of list) {
    const row = methods.map((m) => {
      const f = figures(cell, m);
      return `${f.rate} · ${f.time}`;
    });
    console.log(`| ${cell.scenario} | ${cell.exposure}% | ${row.join(' | ')} |`);
  }
  if (look >= 60) {
    console.log('\nExcess bad requests served by the canary until rollback (or the 30 minutes), mean per run\n');
    console.log(`| scenario | exposure | ${methods.join(' | ')} |`);
    console.log(`| --- | --: | ${methods.map(() => '--:').join(' | ')} |`);
    for (const cell of list.filter((c) => !c.scenario.startsWith('x1'))) {
      console.log(
        `| ${cell.scenario} | ${cell.exposure}% | ${methods.map((m) => figures(cell, m).excess).join(' | ')} |`,
      );
    }
    console.log(
      '\nOurs: promote (non-inferiority within 1.2× shown) in % of runs · median minutes; x1.25 and x1.5 rows: wrong promotes\n',
    );
    console.log('| scenario | exposure | ours (errors) | ours (errors + latency) |');
    console.log('| --- | --: | --: | --: |');
    for (const cell of list.filter((c) => c.scenario.startsWith('x1'))) {
      const row = ['ours (errors)', 'ours (errors + latency)'].map((m) => {
        const t = cell.runs.map((r) => r.promote[m]).filter((x) => x !== null);
        const med = median(t);
        return `${pct(t.length / cell.runs.length)} · ${med === undefined ? '–' : (med / 60).toFixed(1)}`;
      });
      console.log(`| ${cell.scenario} | ${cell.exposure}% | ${row.join(' | ')} |`);
    }
  }
}
const seconds = cells.reduce((s, c) => s + c.ms, 0) / 1000;
console.log(`\nDriver time: ${(seconds / 60).toFixed(1)} CPU-minutes over ${cells.length} cells.`);
