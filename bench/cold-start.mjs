#!/usr/bin/env node
// Cold start of every built entry: from process start to its first clear input error, the way the runner
// starts an action (node <entry>, no flags), median of RUNS runs, with peak resident memory from
// /usr/bin/time. Builds the two candidate layouts (ESM with shared chunks, CommonJS bundle per entry)
// into temporary directories so they are compared on the same source, and reports dist sizes.
//
// Usage: node bench/cold-start.mjs [--runs N] [--json FILE]
// Needs /usr/bin/time (Debian package `time`). Figures and how to read them: bench/README.md.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build, entryPoints } from '../scripts/build.mjs';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '21' }, json: { type: 'string' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 3) {
  console.error(`--runs is ${JSON.stringify(values.runs)}: expected a whole number of at least 3.`);
  process.exit(2);
}
if (!existsSync('/usr/bin/time')) {
  console.error('/usr/bin/time is missing: apt-get install time');
  process.exit(2);
}

/** Arguments that make an entry stop at its first input error: the CLI gets a command without its argument. */
function argsFor(name) {
  return name === 'cli' ? ['inspect'] : [];
}

/** One run: wall time in ms (spawn to exit) and peak RSS in MiB, as /usr/bin/time measures it. */
function measureOnce(command, args, env) {
  const report = join(scratch, 'time.txt');
  const started = process.hrtime.bigint();
  const result = spawnSync('/usr/bin/time', ['-f', '%M', '-o', report, command, ...args], { env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const kib = Number(readFileSync(report, 'utf8').trim().split('\n').pop());
  return { ms, mib: kib / 1024, status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

function measure(command, args, env) {
  const samples = [];
  // One warm-up so the file cache is hot for every layout alike; the runner's is too after checkout.
  measureOnce(command, args, env);
  for (let i = 0; i < runs; i++) samples.push(measureOnce(command, args, env));
  const last = samples.at(-1);
  return {
    medianMs: median(samples.map((s) => s.ms)),
    medianMiB: median(samples.map((s) => s.mib)),
    maxMiB: Math.max(...samples.map((s) => s.mib)),
    exitStatus: last.status,
    firstError: `${last.stdout}${last.stderr}`.split('\n').find((l) => /error/i.test(l)) ?? '',
  };
}

function sizeOf(dir, filter) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if (filter(path)) total += statSync(path).size;
  }
  return total;
}

const scratch = mkdtempSync(join(tmpdir(), 'slipway-bench-'));
const env = { PATH: process.env.PATH, HOME: process.env.HOME, GITHUB_ACTIONS: 'true' };
const results = { node: process.version, runs, date: new Date().toISOString().slice(0, 10), layouts: {} };
try {
  results.baseline = measure(process.execPath, ['-e', '0'], env);
  const names = Object.keys(await entryPoints());
  for (const format of ['esm', 'cjs']) {
    const outdir = join(scratch, format);
    await build({ outdir, format });
    const ext = format === 'esm' ? '.mjs' : '.cjs';
    const entries = {};
    for (const name of names) {
      entries[name] = measure(process.execPath, [join(outdir, name, `index${ext}`), ...argsFor(name)], env);
    }
    results.layouts[format] = {
      entries,
      codeBytes: sizeOf(outdir, (p) => !p.endsWith('.map')),
      mapBytes: sizeOf(outdir, (p) => p.endsWith('.map')),
    };
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
const row = (cells) => `| ${cells.join(' | ')} |`;
console.log(`Node ${results.node}, median of ${runs} runs, ${results.date}\n`);
console.log(row(['entry', 'layout', 'median ms', 'median peak RSS', 'first error']));
console.log(row(['---', '---', '---:', '---:', '---']));
const b = results.baseline;
console.log(row(['`node -e 0`', '', b.medianMs.toFixed(1), `${b.medianMiB.toFixed(1)} MiB`, '']));
for (const [format, layout] of Object.entries(results.layouts)) {
  for (const [name, m] of Object.entries(layout.entries)) {
    console.log(row([name, format, m.medianMs.toFixed(1), `${m.medianMiB.toFixed(1)} MiB`, m.firstError.slice(0, 70)]));
  }
}
console.log('');
for (const [format, layout] of Object.entries(results.layouts)) {
  console.log(`${format}: code ${mb(layout.codeBytes)}, source maps ${mb(layout.mapBytes)}`);
}
if (values.json) writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
// Keep the commit a measurement was taken on next to it.
try {
  console.log(`\ncommit ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()}`);
} catch {
  // Not a git checkout: the figures stand without it.
}
