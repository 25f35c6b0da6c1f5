import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../shared/core/errors.js';
import {
  describeJsonFailure,
  parseInputJson,
  readUserJson,
  readUserYaml,
  userFile,
} from '../../../shared/core/files.js';
import { findJsonSyntaxError, lineAndColumn } from '../../../shared/core/json-syntax.js';
import { errorOf } from '../../support/errors.js';

// The one way user files are read: every failure names the input, what was given, the file, and for JSON and
// YAML the line and column; the content itself is never quoted.

const workspace = mkdtempSync(join(tmpdir(), 'slipway-files-'));
const write = (name: string, text: string) => {
  writeFileSync(join(workspace, name), text);
  return name;
};
const failure = (fn: () => unknown) => errorOf(fn, ConfigurationError);

describe('userFile', () => {
  it('resolves against the workspace and names the input when the file is missing or a directory', () => {
    expect(userFile('predicate', write('p.json', '{}'), workspace).path).toBe(join(workspace, 'p.json'));
    const missing = failure(() => userFile('signing-config', 'nope.json', workspace, 'a Sigstore signing config'));
    expect(missing.message).toBe(
      `Input 'signing-config' is "nope.json": ${join(workspace, 'nope.json')} does not exist; expected a Sigstore signing config.`,
    );
    mkdirSync(join(workspace, 'dir'), { recursive: true });
    expect(failure(() => userFile('subject', 'dir', workspace)).message).toContain(
      `${join(workspace, 'dir')} is a directory`,
    );
  });
});

describe('readUserJson', () => {
  it.each([
    ['{"a": 1,\n  "b": x}', "line 2, column 8: expected a value, found 'x'"],
    ['{"a": 1,}', 'line 1, column 9: a trailing comma before }'],
    ['[1, 2,]', 'line 1, column 7: a trailing comma before ]'],
    ['{"a": 1}}', "line 1, column 9: unexpected '}' after the JSON value"],
    ['{"a": "x\ny"}', 'line 1, column 9: a control character (such as a line break) inside a string'],
    ['{"a": 1', "line 1, column 8: expected ',' or '}' after a property value, found the end of the text"],
    ['{\r\n"a" 1}', "line 2, column 5: expected ':' after a property name, found '1'"],
  ])('locates the error in %j', (text, detail) => {
    const name = write('bad.json', text);
    const error = failure(() => readUserJson(userFile('predicate', name, workspace), 'a JSON object'));
    expect(error.message).toBe(
      `Input 'predicate' is "bad.json": ${join(workspace, 'bad.json')} ${detail} (not valid JSON); expected a JSON object.`,
    );
  });

  it('says what a file is instead of quoting it', () => {
    const key = write('key.pem', '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n-----END PRIVATE KEY-----\n');
    const error = failure(() => readUserJson(userFile('trusted-root', key, workspace), 'a Sigstore trusted root'));
    expect(error.message).toContain('is a PEM private key, not JSON');
    expect(error.message).not.toContain('MIGH');
    expect(failure(() => readUserJson(userFile('x', write('e.json', ' \n'), workspace), 'JSON')).message).toContain(
      'is empty, not JSON',
    );
    expect(
      failure(() => readUserJson(userFile('x', write('b.bin', '\u0000\u0001\u0002'), workspace), 'JSON')).message,
    ).toContain('is binary data, not JSON');
  });

  it('reads valid JSON, with a byte-order mark', () => {
    expect(readUserJson(userFile('x', write('ok.json', '\ufeff{"a":[1]}'), workspace), 'JSON')).toEqual({ a: [1] });
  });
});

describe('readUserYaml', () => {
  it('parses YAML', async () => {
    expect(await readUserYaml(userFile('x', write('ok.yml', 'a: [1, 2]\n'), workspace), 'YAML')).toEqual({ a: [1, 2] });
  });

  it('names the line and column of a syntax error and not the file content', async () => {
    const name = write('exceptions.yml', 'exceptions:\n  - id: CVE-1\n    reason: "unterminated\n');
    const error = await readUserYaml(userFile('exceptions', name, workspace), 'an exceptions file').then(
      () => expect.unreachable(),
      (e: unknown) => e as ConfigurationError,
    );
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toMatch(
      /exceptions\.yml line \d+, column \d+: .*\(not valid YAML\); expected an exceptions file\.$/,
    );
    expect(error.message).not.toContain('\n');
  });
});

describe('parseInputJson', () => {
  it('names the input and the place inside the value, without repeating the value', () => {
    const error = failure(() => parseInputJson('sbom-files', '[{"path": "a"},]', 'the sbom action’s files output'));
    expect(error.message).toBe(
      "Input 'sbom-files' is the given value: the JSON value line 1, column 16: a trailing comma before ] (not valid JSON); expected the sbom action’s files output.",
    );
  });
});

describe('findJsonSyntaxError', () => {
  it('agrees with JSON.parse on what is valid', () => {
    for (const text of ['{}', '[]', '"a\\u00e9"', '-1.5e3', 'null', ' {"a":{"b":[true,false,null]}} ']) {
      expect(findJsonSyntaxError(text)).toBeUndefined();
      expect(() => JSON.parse(text)).not.toThrow();
    }
    for (const text of ['', '01', '"\\x"', "{'a':1}", 'tru', '[1 2]', '{"a":1 "b":2}']) {
      expect(findJsonSyntaxError(text)).toBeDefined();
      expect(() => JSON.parse(text)).toThrow();
    }
    expect(describeJsonFailure('{"a":1 "b":2}')).toBe(
      "line 1, column 8: expected ',' or '}' after a property value, found '\"' (not valid JSON)",
    );
  });

  it('counts lines across \\n, \\r\\n and \\r', () => {
    expect(lineAndColumn('a\nb\r\nc\rd', 8)).toEqual({ line: 4, column: 2 });
  });
});
