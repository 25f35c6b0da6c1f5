#!/usr/bin/env node
// API calls and wall time per promotion, at 1, 10 and 50 services in a bundle, against the fake GitHub (REST and
// GraphQL in GitHub's shapes over a real bare repository, test/support/github-server.ts) and a local git
// repository. The driver (bench/promote-driver.ts) is bundled with esbuild (packages loaded from node_modules) and
// run once per (mode, size) in its own process; each promotion is timed there, from runPromote's call to its return.
//
// Usage: node bench/promote.mjs [--rounds N] [--sizes 1,10,50] [--modes github,local] [--json FILE]
// Figures and how to read them: bench/README.md.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    sizes: { type: 'string', default: '1,10,50' },
    modes: { type: 'string', default: 'github,local' },
    json: { type: 'string' },
  },
});
const rounds = Number(values.rounds);
const sizes = values.sizes.split(',').map(Number);
const modes = values.modes.split(',');
if (!Number.isInteger(rounds) || rounds < 1 || sizes.some((n) => !Number.isInteger(n) || n < 1)) {
  console.error('--rounds and --sizes take whole numbers of at least 1.');
  process.exit(2);
}
if (modes.some((mode) => mode !== 'github' && mode !== 'local')) {
  console.error(`--modes is ${JSON.stringify(values.modes)}: expected github, local or both, separated by commas.`);
  process.exit(2);
}

const root = new URL('..', import.meta.url).pathname;
// Inside node_modules/.cache, so that the fake GitHub finds GitHub's OpenAPI description (@octokit/openapi), which it
// resolves at run time, the way it does under vitest.
mkdirSync(join(root, 'node_modules/.cache'), { recursive: true });
const scratch = mkdtempSync(join(root, 'node_modules/.cache/slipway-bench-promote-'));
const driver = join(scratch, 'promote-driver.mjs');
// Packages stay external and load from node_modules: the fake GitHub reads GitHub's schemas from its packages' own
// files at run time, which a bundle would move away from them.
await esbuild.build({
  entryPoints: [join(root, 'bench/promote-driver.ts')],
  outfile: driver,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  packages: 'external',
  logLevel: 'error',
});

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

const rows = [];
const raw = [];
for (const mode of modes) {
  for (const size of sizes) {
    const run = spawnSync(process.execPath, [driver, mode, String(size), String(rounds)], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    if (run.status !== 0) {
      console.error(`${mode} × ${size} failed (${run.status}):\n${run.stderr}`);
      process.exit(1);
    }
    const result = JSON.parse(run.stdout.trim().split('\n').pop());
    raw.push(result);
    const scenarios = [...new Set(result.results.map((r) => r.scenario))];
    for (const scenario of scenarios) {
      const samples = result.results.filter((r) => r.scenario === scenario);
      const calls = samples.map((r) => r.calls.total);
      rows.push({
        mode,
        services: size,
        scenario,
        calls:
          Math.min(...calls) === Math.max(...calls) ? String(calls[0]) : `${Math.min(...calls)}–${Math.max(...calls)}`,
        write: samples[0].calls.write,
        medianMs: median(samples.map((r) => r.ms)),
      });
    }
  }
}

const header = ['mode', 'services', 'promotion', 'calls', 'of which writes', 'median ms'];
const lines = [
  `| ${header.join(' | ')} |`,
  `| ${header.map((_h, i) => (i >= 3 ? '---:' : '---')).join(' | ')} |`,
  ...rows.map(
    (r) => `| ${r.mode} | ${r.services} | ${r.scenario} | ${r.calls} | ${r.write} | ${r.medianMs.toFixed(1)} |`,
  ),
];
console.log(`Node ${process.version}, ${rounds} rounds per size, ${new Date().toISOString().slice(0, 10)}`);
console.log('');
console.log(lines.join('\n'));
if (values.json) writeFileSync(values.json, `${JSON.stringify(raw, null, 2)}\n`);
rmSync(scratch, { recursive: true, force: true });
