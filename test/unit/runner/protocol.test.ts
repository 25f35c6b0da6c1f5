import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SlipwayError } from '../../../shared/core/errors.js';
import { SecretRegistry } from '../../../shared/core/secrets.js';
import { appendKeyValueCommand, appendToCommandFile, type FileCommand } from '../../../shared/runner/protocol.js';
import { runnerState } from '../../../shared/runner/state.js';
import { StepSummary } from '../../../shared/runner/summary.js';

// The runner's file commands: a file that cannot be written is named, with its variable and the reason, as
// a SlipwayError (an explained failure), never a bare ENOENT reported as a bug in Slipway.

const scratch = () => mkdtempSync(join(tmpdir(), 'slipway-protocol-'));

const message = (variable: string, path: string, problem: string) =>
  `${variable} names ${JSON.stringify(path)}, which cannot be written: ${problem}. The runner sets ${variable} ` +
  'to a file it created for this step; outside the runner, point it at a writable file, or use the slipway CLI.';

describe('file commands that cannot be written', () => {
  it.each(['GITHUB_OUTPUT', 'GITHUB_STATE', 'GITHUB_ENV', 'GITHUB_STEP_SUMMARY'] as FileCommand[])(
    '%s in a missing directory names the variable and the path',
    (variable) => {
      const path = join(scratch(), 'missing', 'file');
      const act = () => appendToCommandFile({ [variable]: path }, variable, 'x');
      expect(act).toThrow(SlipwayError);
      expect(act).toThrow(message(variable, path, 'its directory does not exist (ENOENT)'));
    },
  );

  it('says when the path is a directory, or runs through a file', () => {
    const dir = scratch();
    expect(() => appendKeyValueCommand({ GITHUB_OUTPUT: dir }, 'GITHUB_OUTPUT', 'a', 'b')).toThrow(
      message('GITHUB_OUTPUT', dir, 'it is a directory (EISDIR)'),
    );
    const file = join(dir, 'plain');
    writeFileSync(file, '');
    const through = join(file, 'output');
    expect(() => appendKeyValueCommand({ GITHUB_OUTPUT: through }, 'GITHUB_OUTPUT', 'a', 'b')).toThrow(
      message('GITHUB_OUTPUT', through, 'a part of the path is a file, not a directory (ENOTDIR)'),
    );
  });

  it('reaches state and the step summary too', () => {
    const path = join(scratch(), 'missing', 'file');
    expect(() => runnerState({ GITHUB_STATE: path }, new SecretRegistry()).save('k', 'v')).toThrow(
      message('GITHUB_STATE', path, 'its directory does not exist (ENOENT)'),
    );
    expect(() =>
      new StepSummary().add('# hi').writeToRunner({ GITHUB_STEP_SUMMARY: path }, new SecretRegistry()),
    ).toThrow(message('GITHUB_STEP_SUMMARY', path, 'its directory does not exist (ENOENT)'));
  });

  it('still says so when the variable is not set at all', () => {
    expect(() => appendToCommandFile({}, 'GITHUB_OUTPUT', 'x')).toThrow(/^GITHUB_OUTPUT is not set/);
  });

  it('write as before when the file is there', () => {
    const dir = scratch();
    mkdirSync(join(dir, 'files'));
    const path = join(dir, 'files', 'output');
    appendKeyValueCommand({ GITHUB_OUTPUT: path }, 'GITHUB_OUTPUT', 'name', 'value');
    expect(readFileSync(path, 'utf8')).toMatch(/^name<<ghadelimiter_[0-9a-f-]+\nvalue\nghadelimiter_[0-9a-f-]+\n$/);
  });
});
