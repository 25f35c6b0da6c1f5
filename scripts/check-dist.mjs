#!/usr/bin/env node
// Fails when dist/ is not exactly what the source builds to. The runner executes dist/, not the source,
// so a stale dist ships old code under a new tag. It builds into .check-dist/, a sibling of dist/ at the
// same depth (source maps record paths relative to their output directory, and chunk names hash them),
// then compares file by file, so it works without git and never touches the dist/ being checked.

import { readdir, readFile, rm } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from './build.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

async function listFiles(dir) {
  const out = new Map();
  async function walk(current) {
    let entries;
    try {
      entries = await readdir(current, { withFileTypes: true });
    } catch (error) {
      if (error.code === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) await walk(path);
      else out.set(relative(dir, path), path);
    }
  }
  await walk(dir);
  return out;
}

const fresh = join(root, '.check-dist');
try {
  await build({ outdir: fresh });
  const expected = await listFiles(fresh);
  const actual = await listFiles(join(root, 'dist'));
  const problems = [];
  for (const [name, path] of expected) {
    if (!actual.has(name)) problems.push(`missing   dist/${name}`);
    else if (!(await readFile(path)).equals(await readFile(actual.get(name)))) problems.push(`differs   dist/${name}`);
  }
  for (const name of actual.keys()) if (!expected.has(name)) problems.push(`extra     dist/${name}`);
  if (problems.length) {
    console.error(
      `dist/ does not match the source (${problems.length} files). Run \`npm run build\` and commit dist/.`,
    );
    for (const line of problems.sort()) console.error(`  ${line}`);
    process.exitCode = 1;
  } else {
    console.log(`dist/ matches the source (${expected.size} files).`);
  }
} finally {
  await rm(fresh, { recursive: true, force: true });
}
