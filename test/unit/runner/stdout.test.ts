import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: the build script is plain JavaScript, run by node directly.
import { build } from '../../../scripts/build.mjs';
import { repositoryRoot } from '../../support/runner-harness.js';

// Workflow commands go to fd 1 with fs.writeSync rather than through process.stdout (shared/runner/protocol.ts).
// The reader here stops reading for a while, so the pipe fills: every line must still arrive whole and in order,
// whether fd 1 is the blocking pipe the runner gives, or a non-blocking one (opened as process.stdout first),
// where a write meets EAGAIN and the rest goes through the stream.

let writer: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-stdout-'));
  await build({ outdir: dir, entries: { writer: join(repositoryRoot, 'test/fixtures/runner/stdout-writer.ts') } });
  writer = join(dir, 'writer', 'index.mjs');
}, 60_000);

function runSlowReader(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writer, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.pause();
    setTimeout(() => {
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
      child.stdout.resume();
    }, 300);
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
  });
}

const expected = Array.from({ length: 2000 }, (_, i) => `line ${i} ${'x'.repeat(200)}\n`).join('');

describe('stdout written with writeSync', () => {
  it('delivers every line in order through a full blocking pipe', async () => {
    const { code, stdout, stderr } = await runSlowReader([]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toBe(expected);
  });

  it('falls back to process.stdout, still in order, when a non-blocking pipe is full', async () => {
    const { code, stdout, stderr } = await runSlowReader(['--open-stream']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toBe(expected);
  });
});
