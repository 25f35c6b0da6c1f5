import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: the build script is plain JavaScript, run by node directly.
import { build } from '../../../scripts/build.mjs';
import {
  parseFileCommands,
  parseWorkflowCommands,
  repositoryRoot,
  runActionYml,
} from '../../support/runner-harness.js';

// The probe action is built with the same esbuild options as dist/ and run as the runner runs it.
let actionYml: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-probe-'));
  await build({
    outdir: join(dir, 'dist'),
    entries: { probe: join(repositoryRoot, 'test/fixtures/actions/probe/main.ts') },
  });
  actionYml = join(dir, 'action.yml');
  copyFileSync(join(repositoryRoot, 'test/fixtures/actions/probe/action.yml'), actionYml);
}, 60_000);

describe('a built action run the way the runner runs it', () => {
  it('reads typed inputs with action.yml defaults and writes outputs, state and summary', async () => {
    const { main, post } = await runActionYml(actionYml, {
      inputs: { greeting: 'hello | world', tags: 'a, "b,c"\n# note\nd' },
    });
    expect(main.exitCode).toBe(0);
    expect(main.errors).toEqual([]);
    expect(main.outputs.message).toBe('hello | world\nsecond line');
    expect(JSON.parse(main.outputs.record!)).toEqual({
      greeting: 'hello | world',
      'max-count': 3,
      verbose: false,
      mode: 'fast',
      timeout: 30_000,
      tags: ['a', 'b,c', 'd'],
      token: null,
      fail: 'no',
    });
    expect(main.outputs.tags).toBe('a\nb,c\nd');
    expect(main.state).toEqual({ isPost: 'true', started: 'yes' });
    // The pipe in a table cell is escaped, so the table keeps two columns.
    expect(main.summary).toContain('| greeting | hello \\| world |');
    expect(post?.exitCode).toBe(0);
    expect(post?.summary).toBe('post saw started=yes\n');
  });

  it('masks a secret input before anything can print it', async () => {
    const token = 'ghp_s3cr3t-value-1234';
    const { main } = await runActionYml(actionYml, { inputs: { greeting: 'hi', token } });
    expect(main.exitCode).toBe(0);
    expect(main.masks).toContain(token);
    const firstMask = main.stdout.indexOf(`::add-mask::${token}`);
    expect(firstMask).toBeGreaterThanOrEqual(0);
    // The log line that mentions the token is redacted by Slipway itself, not only by the runner.
    expect(main.stdout.slice(firstMask + token.length + 14)).not.toContain(token);
    expect(main.stdout).toContain('greeting with token ***');
  });

  it('refuses an output that would contain a secret, naming the output and the input, never masking it', async () => {
    const token = 'acme-s3cr3t';
    const { main } = await runActionYml(actionYml, { inputs: { greeting: `ghcr.io/${token}/api`, token } });
    expect(main.exitCode).toBe(1);
    expect(main.errors).toEqual([
      "Output 'message' would contain the value of the secret input 'token'; refusing to write it, since a masked " +
        'value would be a wrong one: use a secret that is not part of what it holds (an image name, a tag, a path).',
    ]);
    expect(main.outputs).toEqual({});
    expect(main.stdout).not.toMatch(/a bug in Slipway/);
  });

  it('warns about a secret too short to mask, and leaves outputs that contain it by chance alone', async () => {
    const { main } = await runActionYml(actionYml, { inputs: { greeting: 'abc def', token: 'abc' } });
    expect(main.exitCode).toBe(0);
    expect(main.masks).toEqual([]);
    expect(main.outputs.message).toBe('abc def\nsecond line');
    const warnings = main.commands.filter((c) => c.command === 'warning').map((c) => c.message);
    expect(warnings).toEqual([
      "Input 'token' is a secret shorter than 4 characters: too short to mask without hiding ordinary text, so " +
        'Slipway does not mask it. Use a longer secret.',
    ]);
  });

  it('names a file-command variable whose file cannot be written, and does nothing before checking it', async () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'slipway-probe-')), 'gone');
    const { main } = await runActionYml(actionYml, {
      inputs: { greeting: 'hi' },
      env: { GITHUB_OUTPUT: join(missing, 'output'), GITHUB_STEP_SUMMARY: join(missing, 'summary') },
    });
    expect(main.exitCode).toBe(1);
    expect(main.errors).toEqual([
      `GITHUB_OUTPUT names ${JSON.stringify(join(missing, 'output'))}, which cannot be written: its directory does ` +
        'not exist (ENOENT). The runner sets GITHUB_OUTPUT to a file it created for this step; outside the runner, ' +
        'point it at a writable file, or use the slipway CLI.',
    ]);
    // main() never ran: nothing was logged by it.
    expect(main.stdout).not.toContain('greeting with token');
    expect(main.stdout).not.toMatch(/a bug in Slipway/);
  });

  it('fails with one clear error naming the input, the value and the expected form', async () => {
    const cases: [Record<string, string>, string][] = [
      [{}, "Input 'greeting' is empty: it is required; expected text."],
      [
        { greeting: 'x', verbose: 'yes' },
        'Input \'verbose\' is "yes": only true, True, TRUE, false, False and FALSE are booleans; expected true or false.',
      ],
      [{ greeting: 'x', 'max-count': '11' }, 'Input \'max-count\' is "11": expected a whole number from 1 to 10.'],
      [{ greeting: 'x', mode: 'Fast' }, 'Input \'mode\' is "Fast": expected one of fast, thorough.'],
      [
        { greeting: 'x', timeout: '5 minutes' },
        'Input \'timeout\' is "5 minutes": expected a duration such as 90s, 5m, 1h30m or 250ms.',
      ],
    ];
    for (const [inputs, message] of cases) {
      const { main } = await runActionYml(actionYml, { inputs });
      expect(main.exitCode).toBe(1);
      expect(main.errors).toEqual([message]);
      expect(main.outputs).toEqual({});
    }
  });

  it('reports an explained failure as its message and a bug with its source-mapped stack', async () => {
    const user = (await runActionYml(actionYml, { inputs: { greeting: 'x', fail: 'user' } })).main;
    expect(user.exitCode).toBe(1);
    expect(user.errors).toEqual(['The registry refused the push: HTTP 403']);
    expect(user.stdout).not.toContain('    at ');

    const bug = (await runActionYml(actionYml, { inputs: { greeting: 'x', fail: 'bug' } })).main;
    expect(bug.exitCode).toBe(1);
    expect(bug.errors).toEqual([
      'Unexpected failure, a bug in Slipway (please report it): cannot read properties of undefined',
    ]);
    // The stack names the TypeScript source, which only works when the stub enabled source maps in time.
    expect(bug.stdout).toMatch(/test\/fixtures\/actions\/probe\/main\.ts:\d+/);
  });
});

describe('file and workflow command parsing', () => {
  it('reads heredoc and plain entries and rejects an unterminated heredoc', () => {
    expect(parseFileCommands('a<<EOF\nx\ny\nEOF\nb=1=2\n')).toEqual({ a: 'x\ny', b: '1=2' });
    expect(() => parseFileCommands('a<<EOF\nx\n')).toThrow(/Unterminated heredoc/);
  });

  it('unescapes properties and messages', () => {
    expect(parseWorkflowCommands('::error file=a%3Ab.ts,line=3::50%25 done%0Anext\nplain')).toEqual([
      { command: 'error', properties: { file: 'a:b.ts', line: '3' }, message: '50% done\nnext' },
    ]);
  });
});
