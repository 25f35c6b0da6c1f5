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

/**
 * Inputs that make an action with no required input stop at its first input error: without one, evidence would
 * run in full (and the figure would be a run's, not a start's). test/integration/start-path.test.ts does the same.
 */
function inputsFor(name) {
  return name === 'evidence' ? { INPUT_PUBLISH: 'nowhere' } : {};
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

/** Medians of the samples taken for one command, and how its last run ended. */
function summarise(samples) {
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
// The runner's file commands exist, so every action gets as far as reading its inputs: the figure is the
// time to the first clear input error, not to "GITHUB_OUTPUT is not set".
const runnerFiles = Object.fromEntries(
  ['GITHUB_OUTPUT', 'GITHUB_STATE', 'GITHUB_ENV', 'GITHUB_STEP_SUMMARY'].map((name) => {
    const path = join(scratch, name.toLowerCase());
    writeFileSync(path, '');
    return [name, path];
  }),
);
const env = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  GITHUB_ACTIONS: 'true',
  RUNNER_TEMP: scratch,
  ...runnerFiles,
};
const results = { node: process.version, runs, date: new Date().toISOString().slice(0, 10), layouts: {} };
try {
  const names = Object.keys(await entryPoints());
  /** Every command measured, baseline first; measured in interleaved rounds so drift on a shared machine hits all alike. */
  const commands = [{ key: 'baseline', command: process.execPath, args: ['-e', '0'] }];
  for (const format of ['esm', 'cjs']) {
    const outdir = join(scratch, format);
    await build({ outdir, format });
    const ext = format === 'esm' ? '.mjs' : '.cjs';
    results.layouts[format] = {
      entries: {},
      codeBytes: sizeOf(outdir, (p) => !p.endsWith('.map')),
      mapBytes: sizeOf(outdir, (p) => p.endsWith('.map')),
    };
    for (const name of names) {
      commands.push({
        key: `${format}/${name}`,
        command: process.execPath,
        args: [join(outdir, name, `index${ext}`), ...argsFor(name)],
        inputs: inputsFor(name),
      });
    }
  }
  const samples = new Map(commands.map(({ key }) => [key, []]));
  // One warm-up round so the file cache is hot for every layout alike; the runner's is too after checkout.
  for (const { command, args, inputs } of commands) measureOnce(command, args, { ...env, ...inputs });
  for (let round = 0; round < runs; round++) {
    for (const { key, command, args, inputs } of commands) {
      samples.get(key).push(measureOnce(command, args, { ...env, ...inputs }));
    }
  }
  results.baseline = summarise(samples.get('baseline'));
  for (const { key } of commands.slice(1)) {
    const [format, name] = key.split('/');
    results.layouts[format].entries[name] = summarise(samples.get(key));
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
const row = (cells) => `| ${cells.join(' | ')} |`;
console.log(`Node ${results.node}, medians of ${runs} interleaved rounds, ${results.date}\n`);
// DESIGN.md's budget is relative, since absolute times are noise on a shared machine: at most 1.5 times
// bare node's time and 1.3 times its peak memory, measured in the same run.
console.log(row(['entry', 'layout', 'median ms', '× node', 'median peak RSS', '× node', 'first error']));
console.log(row(['---', '---', '---:', '---:', '---:', '---:', '---']));
const b = results.baseline;
console.log(row(['`node -e 0`', '', b.medianMs.toFixed(1), '1.00', `${b.medianMiB.toFixed(1)} MiB`, '1.00', '']));
for (const [format, layout] of Object.entries(results.layouts)) {
  for (const [name, m] of Object.entries(layout.entries)) {
    console.log(
      row([
        name,
        format,
        m.medianMs.toFixed(1),
        (m.medianMs / b.medianMs).toFixed(2),
        `${m.medianMiB.toFixed(1)} MiB`,
        (m.medianMiB / b.medianMiB).toFixed(2),
        m.firstError.slice(0, 70),
      ]),
    );
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
