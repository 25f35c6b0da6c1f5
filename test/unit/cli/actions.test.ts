import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { actionDocs, actionHelp, loadAction, parseActionFlags, takesBareFlag, wrap } from '../../../cli/actions.js';
import { runCli } from '../../../cli/cli.js';
import { ConfigurationError } from '../../../shared/core/errors.js';
import { boolean, choice, list, text } from '../../../shared/runner/inputs.js';
import { actionFolders } from '../../support/action-contract.js';
import { readActionMetadata, repositoryRoot } from '../../support/runner-harness.js';

// The action commands: one per folder under actions/, each with help generated from its action.yml and its
// input spec, and flags read through the same spec the runner uses.

const folders = actionFolders(repositoryRoot);
const collapse = (text: string) => text.replace(/\s+/g, ' ').trim();

function cli(args: string[]) {
  let stdout = '';
  const stderr: string[] = [];
  return runCli(args, {
    env: { PATH: process.env.PATH },
    stdout: (text) => {
      stdout += text;
    },
    stderr: (line) => stderr.push(line),
  }).then((code) => ({ code, stdout, stderr: stderr.join('\n') }));
}

describe('the action commands', () => {
  it('are exactly the folders under actions/, each described as its action.yml describes it', async () => {
    const docs = await actionDocs();
    expect(Object.keys(docs)).toEqual(folders);
    expect(folders).toEqual(expect.arrayContaining(['build', 'sbom', 'sign', 'verify']));
    for (const name of folders) {
      const yml = readActionMetadata(join(repositoryRoot, 'actions', name, 'action.yml')) as unknown as {
        description: string;
        inputs: Record<string, { description: string }>;
      };
      expect(docs[name]!.description).toBe(collapse(yml.description));
      for (const [input, spec] of Object.entries(yml.inputs)) {
        expect(docs[name]!.inputs[input], `${name} ${input}`).toBe(collapse(spec.description));
      }
    }
  });

  it.each(folders.map((name) => [name]))('%s loads its own definition', async (name) => {
    const definition = await loadAction(name);
    expect(definition.name).toBe(name);
    expect(typeof definition.main).toBe('function');
  });
});

describe('slipway <action> --help', () => {
  it.each(folders.map((name) => [name]))(
    '%s shows every input with its description, whether it is required, and its default',
    async (name) => {
      const definition = await loadAction(name);
      const doc = (await actionDocs())[name]!;
      const help = actionHelp(name, definition, doc);
      const flat = collapse(help);
      for (const [input, spec] of Object.entries(definition.inputs)) {
        const line = help.split('\n').find((l) => l.startsWith(`  --${input} `));
        expect(line, `--${input}`).toBeDefined();
        expect(line).toContain(spec.required ? '(required' : '(optional');
        expect(flat).toContain(collapse(doc.inputs[input]!));
        if (spec.default !== undefined) expect(flat).toContain(spec.default);
      }
      for (const output of definition.outputs) expect(help).toMatch(new RegExp(`^  ${output}$`, 'm'));
      for (const line of help.split('\n')) expect(line.length, line).toBeLessThanOrEqual(100);
    },
  );

  it('reads as a person expects for sbom', async () => {
    const { code, stdout } = await cli(['sbom', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: slipway sbom (--\S+ VALUE )*\[--<input> VALUE …\]\n/);
    expect(stdout).toContain(
      [
        '  --fail-on VALUE  (optional)',
        '      Fail at or above this severity, none, low, medium, high or critical. A finding of unknown',
        '      severity counts as failing unless none.',
        '      Expected: one of none, low, medium, high, critical.',
        '      Default: high',
      ].join('\n'),
    );
    expect(stdout).toContain('  --attach [VALUE]  (optional)');
    expect(stdout).toContain('  --password VALUE  (optional; secret: masked in every log)');
  });

  it('says the token default is the runner’s, not the CLI’s', async () => {
    const { stdout } = await cli(['verify', '-h']);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the runner expression, quoted in the help.
    expect(collapse(stdout)).toContain("Default on the runner: ${{ github.token }}, the job's token");
  });

  it('lists every action in the top-level help', async () => {
    const { code, stdout } = await cli(['--help']);
    expect(code).toBe(0);
    for (const name of folders) expect(stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    expect(stdout).toContain('slipway <action> --help');
  });

  it('shows a plain command’s usage and options', async () => {
    const { code, stdout } = await cli(['copy', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: slipway copy <source> <destination> [--referrers]');
    expect(stdout).toContain('--referrers  also copy signatures');
  });
});

describe('action flags', () => {
  const spec = {
    image: text({ required: true }),
    push: boolean({ default: 'true' }),
    latest: choice(['auto', 'true', 'false'], { default: 'auto' }),
    formats: choice(['cyclonedx', 'spdx'], { default: 'spdx' }),
    tags: list(),
  };

  it.each([
    [['--image', 'a'], { image: 'a' }],
    [['--image=a=b'], { image: 'a=b' }],
    [['--tags', 'x', '--tags=y'], { tags: 'x\ny' }],
    [['--push', '--image', 'a'], { push: 'true', image: 'a' }],
    [['--image', 'a', '--push'], { image: 'a', push: 'true' }],
    [['--push', 'false'], { push: 'false' }],
    [['--latest'], { latest: 'true' }],
    [['--image='], { image: '' }],
    // A value that starts with dashes, as a PEM key does, is still the value of an input that needs one.
    [['--image', '-----BEGIN KEY-----', '--push'], { image: '-----BEGIN KEY-----', push: 'true' }],
    [['--tags', '--push'], { tags: '--push' }],
  ])('%j reads as %j', (args, expected) => {
    expect(Object.fromEntries(parseActionFlags(args, spec))).toEqual(expected);
  });

  it.each([
    [['image'], /an action takes flags only/],
    [['--colour', 'blue'], /there is no input "colour"; expected one of --image, --push/],
    [['--image'], /^Input 'image' is empty: --image needs a value \(--image VALUE\)/],
    [['--push', '--tags'], /^Input 'tags' is empty: --tags needs a value/],
    [['--formats'], /^Input 'formats' is empty: --formats needs a value/],
  ])('%j is a ConfigurationError', (args, message) => {
    const act = () => parseActionFlags(args, spec);
    expect(act).toThrow(ConfigurationError);
    expect(act).toThrow(message);
  });

  it.each([
    ['a boolean', boolean({ default: 'false' }), true],
    ['a choice that includes true', choice(['auto', 'true', 'false'], { default: 'auto' }), true],
    ['a choice without true', choice(['a', 'b'], { default: 'a' }), false],
    ['free text', text(), false],
    ['a list', list(), false],
  ])('a bare flag for %s is %s', (_what, input, bare) => {
    expect(takesBareFlag(input, 'x')).toBe(bare);
  });
});

describe('running an action command', () => {
  it('exits 2 naming a missing required input, and prints no outputs', async () => {
    const { code, stdout, stderr } = await cli(['build', '--latest', 'false']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^error: Input 'image' is empty: it is required; expected a repository without tag/);
    expect(stderr.split('\n')).toHaveLength(1);
  });

  it('exits 2 for a platform that is not lower case, naming the input and the lower-case form', async () => {
    const { code, stdout, stderr } = await cli(['build', '--image', 'oci-layout:out', '--platforms', 'linux/AMD64']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'error: Input \'platforms\' is "linux/AMD64": the architecture "AMD64" is not lower case, as platforms are: ' +
        'write "linux/amd64"; expected os/arch[/variant], e.g. linux/amd64.',
    );
  });

  it('exits 2 for an sbom output-dir that is a file, naming the input and the path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-cli-unit-'));
    const file = join(dir, 'sboms');
    writeFileSync(file, 'not a directory\n');
    const image = `oci-layout:${dir}/layout@sha256:${'0'.repeat(64)}`;
    const onFile = await cli(['sbom', '--image', image, '--attach', 'false', '--output-dir', file]);
    expect(onFile.code).toBe(2);
    expect(onFile.stderr).toBe(
      `error: Input 'output-dir' is ${JSON.stringify(file)}: ${file} is a file, not a directory; expected a ` +
        'directory, created if missing.',
    );
    const through = await cli(['sbom', '--image', image, '--attach', 'false', '--output-dir', join(file, 'x')]);
    expect(through.code).toBe(2);
    expect(through.stderr).toContain(`: a part of ${join(file, 'x')} is a file, not a directory;`);
  });

  it('exits 2 for an unknown command, listing every action', async () => {
    const { code, stderr } = await cli(['sbomm']);
    expect(code).toBe(2);
    expect(stderr).toMatch(
      /Unknown command "sbomm"; expected one of build, canary, evidence, promote, sbom, sign, verify, /,
    );
  });

  it('does not mistake an inherited property name for a command', async () => {
    expect((await cli(['constructor'])).code).toBe(2);
    expect((await cli(['__proto__'])).code).toBe(2);
  });
});

describe('help wrapping', () => {
  it('wraps at 100 columns with a hanging indent', () => {
    const lines = wrap('word '.repeat(60), '    ', '  name  ');
    expect(lines[0]!.startsWith('  name  word')).toBe(true);
    expect(lines.slice(1).every((l) => l.startsWith('    word'))).toBe(true);
    expect(lines.every((l) => l.length <= 100)).toBe(true);
    expect(
      lines
        .join(' ')
        .split(/\s+/)
        .filter((w) => w === 'word'),
    ).toHaveLength(60);
  });
});
