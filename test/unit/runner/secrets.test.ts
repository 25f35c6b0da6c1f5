import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  MIN_SECRET_LENGTH,
  refuseSecrets,
  SecretRegistry,
  secretInputRegistrar,
} from '../../../shared/core/secrets.js';
import { writeRecordFile } from '../../../shared/records/record.js';
import { readInputs, text } from '../../../shared/runner/inputs.js';
import { memoryOutputs, runnerOutputs } from '../../../shared/runner/outputs.js';
import { parseFileCommands } from '../../support/runner-harness.js';

// Masking is for what people read; outputs and records are read by programs, so a value that would carry a
// secret is refused with an error naming it, never written masked (`ghcr.io/***/sec`).

const image = 'ghcr.io/acme/sec@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';

function registryWith(value: string, input = 'password'): SecretRegistry {
  const secrets = new SecretRegistry();
  secretInputRegistrar(secrets, () => {})(value, input);
  return secrets;
}

const refusal = (output: string, input = 'password') =>
  `${output} would contain the value of the secret input '${input}'; refusing to write it, since a masked value ` +
  'would be a wrong one: use a secret that is not part of what it holds (an image name, a tag, a path).';

describe('outputs that would contain a secret', () => {
  it('are refused on the runner, naming the output and the input, and nothing is written', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'slipway-secrets-')), 'output');
    writeFileSync(file, '');
    const outputs = runnerOutputs<'image' | 'digest'>({ GITHUB_OUTPUT: file }, registryWith('acme'));
    expect(() => outputs.set('image', image)).toThrow(refusal("Output 'image'"));
    outputs.set('digest', image.split('@')[1]!);
    expect(parseFileCommands(readFileSync(file, 'utf8'))).toEqual({ digest: image.split('@')[1] });
  });

  it('are refused in the CLI, and an output without a secret is kept exactly', () => {
    const outputs = memoryOutputs<'image' | 'tags'>(registryWith('acme'));
    expect(() => outputs.set('tags', 'ghcr.io/acme/sec:v1\nghcr.io/acme/sec:latest')).toThrow(refusal("Output 'tags'"));
    outputs.set('image', 'ghcr.io/other/sec');
    expect(outputs.values).toEqual({ image: 'ghcr.io/other/sec' });
  });

  it('are found in JSON outputs even where JSON escaping would hide them', () => {
    // JSON text writes this secret as a"c\\"m\\\\e, which a search of the text would miss.
    const secret = 'a"c\\me';
    const outputs = memoryOutputs<'subject'>(registryWith(secret));
    expect(() => outputs.json('subject', { name: `ghcr.io/${secret}/x`, digest: 'sha256:1' })).toThrow(
      refusal("Output 'subject'"),
    );
    expect(() => outputs.json('subject', { [secret]: 1 })).toThrow(refusal("Output 'subject'"));
    expect(outputs.values).toEqual({});
  });

  it('refuse a record file, which is then not written', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'slipway-secrets-')), 'records');
    const record = { subject: { name: 'ghcr.io/acme/sec', platforms: { 'linux/amd64': 'sha256:1' } }, tags: [] };
    expect(() => writeRecordFile(dir, 'build.json', record, registryWith('acme'))).toThrow(
      refusal('The record build.json'),
    );
    expect(existsSync(join(dir, 'build.json'))).toBe(false);
    const path = writeRecordFile(dir, 'build.json', record, registryWith('other-secret'));
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(record);
  });

  it('name a secret that came from elsewhere than an input without naming an input', () => {
    const secrets = new SecretRegistry();
    secrets.add('token-from-docker-config');
    expect(() => refuseSecrets(secrets, "Output 'x'", 'a token-from-docker-config b')).toThrow(
      /^Output 'x' would contain the value of a secret \(a credential or token\); refusing to write it/,
    );
  });

  it('do not count array positions as text', () => {
    const secrets = registryWith('1234');
    expect(() =>
      refuseSecrets(
        secrets,
        'The record x.json',
        Array.from({ length: 1300 }, () => 'ok'),
      ),
    ).not.toThrow();
  });
});

describe('short secrets', () => {
  it(`are not registered below ${MIN_SECRET_LENGTH} characters, with a warning naming the input but not the value`, () => {
    const announced: string[] = [];
    const warnings: string[] = [];
    const secrets = new SecretRegistry((value) => announced.push(value));
    const register = secretInputRegistrar(secrets, (message) => warnings.push(message));
    register('pw1', 'password');
    expect(announced).toEqual([]);
    expect(warnings).toEqual([
      "Input 'password' is a secret shorter than 4 characters: too short to mask without hiding ordinary text, " +
        'so Slipway does not mask it. Use a longer secret.',
    ]);
    // An output that contains the short value by chance is written as it is.
    const outputs = memoryOutputs<'image'>(secrets);
    outputs.set('image', 'ghcr.io/pw1/app');
    expect(outputs.values.image).toBe('ghcr.io/pw1/app');

    register('pw12', 'password');
    expect(announced).toEqual(['pw12']);
    expect(warnings).toHaveLength(1);
  });

  it('still register the long lines of a multi-line secret whose other lines are short', () => {
    const secrets = new SecretRegistry();
    expect(secrets.add('-----BEGIN-----\nab\n-----END-----', "the secret input 'key'")).toBe(true);
    expect(secrets.redact('x -----BEGIN----- ab')).toBe('x *** ab');
  });
});

describe('logs and summaries', () => {
  it('are still masked: the longest secret first', () => {
    const secrets = new SecretRegistry();
    secrets.add('abcd');
    secrets.add('abcdefgh');
    expect(secrets.redact('1 abcdefgh 2 abcd')).toBe('1 *** 2 ***');
  });
});

describe('reading secret inputs', () => {
  it('tells the registrar which input each secret came from', () => {
    const seen: [string, string][] = [];
    readInputs(
      { password: text({ secret: true }), username: text() },
      (name) => ({ password: 'hunter22', username: 'me' })[name],
      (value, input) => seen.push([value, input]),
    );
    expect(seen).toEqual([['hunter22', 'password']]);
  });
});
