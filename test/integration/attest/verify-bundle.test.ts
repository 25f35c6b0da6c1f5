import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
// @ts-expect-error: the build script is plain JavaScript, run by node directly.
import { build } from '../../../scripts/build.mjs';
import { repositoryRoot } from '../../support/runner-harness.js';

// verify crashed from dist/ only ("t is not a function"): esbuild's split ESM output gave the dynamically imported
// @sigstore/tuf (CommonJS) a default export and no names, where Node gives names from source. The build now keeps
// them (scripts/build.mjs, dynamicImportNamedExports); a fixture built with dist/'s exact options proves it for
// each CommonJS package Slipway's code loads with import().

it('keeps the named exports of CommonJS packages loaded with import()', async () => {
  const outdir = join(mkdtempSync(join(tmpdir(), 'slipway-dynamic-import-')), 'dist');
  await build({ outdir, entries: { probe: join(repositoryRoot, 'test/fixtures/build/dynamic-import/main.ts') } });
  const stdout = execFileSync(process.execPath, [join(outdir, 'probe/index.mjs')], { encoding: 'utf8' });
  expect(JSON.parse(stdout)).toEqual({
    '@sigstore/tuf getTrustedRoot': 'function',
    'yaml parse': 'function',
    'yaml YAMLParseError': 'function',
  });
}, 60_000);
