import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';

// The BUILT CLI, as the contract runs it: `slipway evidence --records 'out/*.json' --publish summary` writes
// the markdown to stdout (so `> evidence.md` or a pipe takes it) and the outputs JSON to stderr, unlike every other
// action, whose outputs JSON is its stdout (test/integration/cli*.test.ts).

const IMAGE = 'registry.example/acme/api';
const DIGEST = `sha256:${'a'.repeat(64)}`;

/** build.json as the build action writes it. */
const BUILD = {
  _type: 'https://slipway.dev/records/build',
  version: 1,
  subject: {
    name: IMAGE,
    digest: DIGEST,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    size: 1234,
    platforms: { 'linux/amd64': `sha256:${'b'.repeat(64)}` },
  },
  tags: ['1.4.0'],
  references: [`${IMAGE}:1.4.0`],
  labels: {},
  builder: { name: 'native', chosen: 'the default' },
  source: { repository: 'acme/api', commit: 'c'.repeat(40), ref: 'refs/tags/v1.4.0', event: 'push' },
  created: '2026-07-15T08:00:00Z',
  createdFrom: 'git',
  timestamps: { started: '2026-07-15T08:00:00Z', finished: '2026-07-15T08:01:00Z' },
};

const JUNIT = `<?xml version="1.0"?>
<testsuite name="api" tests="2" failures="0" errors="0" skipped="0">
  <testcase classname="api" name="creates an order"/>
  <testcase classname="api" name="refuses an empty basket"/>
</testsuite>
`;

function checkout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-cli-evidence-'));
  mkdirSync(join(dir, 'out'));
  writeFileSync(join(dir, 'out/build.json'), JSON.stringify(BUILD));
  writeFileSync(join(dir, 'junit.xml'), JUNIT);
  return dir;
}

/** The outputs JSON at the end of stderr, after the log lines. */
function outputsIn(stderr: string): Record<string, string> {
  const lines = stderr.split('\n');
  const start = lines.lastIndexOf('{');
  expect(start, `an outputs object on stderr:\n${stderr}`).toBeGreaterThanOrEqual(0);
  return JSON.parse(lines.slice(start).join('\n'));
}

describe('slipway evidence', () => {
  it('writes the markdown to stdout and the outputs to stderr', () => {
    const dir = checkout();
    const run = runCli(
      ['evidence', '--records', 'out/*.json', '--test-reports', 'junit.xml', '--publish', 'summary'],
      dir,
    );
    expect(run.stderr).not.toMatch(/a bug in Slipway/);
    expect(run.code).toBe(0);
    // stdout is the markdown alone, as the sticky comment would carry it: marker first, then the status line.
    expect(run.stdout.startsWith('<!-- slipway:evidence:release -->\n')).toBe(true);
    expect(run.stdout).not.toContain('"record"');
    const status = run.stdout.split('\n').find((line) => /incomplete/i.test(line));
    expect(status).toMatch(/signature/);

    const outputs = outputsIn(run.stderr);
    expect(outputs.status).toBe('incomplete');
    expect(outputs['comment-url']).toBe('');
    expect(existsSync(outputs.record!)).toBe(true);
    const record = JSON.parse(readFileSync(outputs.record!, 'utf8'));
    expect(record.subject).toMatchObject({ digest: DIGEST });
    expect(record.build.state).toBe('present');
    expect(record.tests).toMatchObject({ state: 'present', value: { total: 2, passed: 2 } });
  });

  it('prints nothing on stdout without summary in publish; the outputs stay on stderr', () => {
    const dir = checkout();
    const run = runCli(['evidence', '--records', 'out/build.json', '--publish', 'comment'], dir);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    // No token outside a workflow: the comment is not made, and the warning says why.
    expect(run.stderr).toMatch(/warning: Not publishing the comment: no token was given \(input token\)/);
    expect(outputsIn(run.stderr).status).toBe('incomplete');
  });

  it('says in its help where the markdown and the outputs go', () => {
    const help = runCli(['evidence', '--help'], mkdtempSync(join(tmpdir(), 'slipway-cli-evidence-help-')));
    expect(help.code).toBe(0);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain(
      'The summary (markdown) is printed on stdout. Outputs, printed on stderr as one JSON object',
    );
  });
});
