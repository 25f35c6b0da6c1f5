#!/usr/bin/env node
// The `slipway` command. Kept to one call so the entry loads nothing before it is needed; no top-level
// await, so the same source bundles to ESM or CommonJS.
import { runCli } from './cli.js';

void runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
