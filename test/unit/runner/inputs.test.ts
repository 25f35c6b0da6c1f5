import { describe, expect, it } from 'vitest';
import { ConfigurationError, InvalidValueError } from '../../../shared/core/errors.js';
import { SecretRegistry } from '../../../shared/core/secrets.js';
import {
  boolean,
  choice,
  choiceList,
  inputVariableName,
  integer,
  list,
  parseDuration,
  parsed,
  readInputs,
  splitList,
  text,
} from '../../../shared/runner/inputs.js';
import { escapeCommandProperty, formatWorkflowCommand } from '../../../shared/runner/protocol.js';
import { StepSummary, SUMMARY_LIMIT_BYTES } from '../../../shared/runner/summary.js';

const read = <S extends Parameters<typeof readInputs>[0]>(spec: S, values: Record<string, string>) =>
  readInputs(spec, (name) => values[name]);

describe('input names', () => {
  it('follows the runner: spaces to underscores, upper case, hyphens kept', () => {
    expect(inputVariableName('build-args')).toBe('INPUT_BUILD-ARGS');
    expect(inputVariableName('my input')).toBe('INPUT_MY_INPUT');
  });
});

describe('lists', () => {
  it.each([
    ['a,b\nc', true, ['a', 'b', 'c']],
    ['"a,b",c', true, ['a,b', 'c']],
    ['"say ""hi""",x', true, ['say "hi"', 'x']],
    ['# comment\n  a  \n\n', true, ['a']],
    ['FOO=a,b\nBAR=c', false, ['FOO=a,b', 'BAR=c']],
    ['key=va"lue,x', true, ['key=va"lue', 'x']],
    ['a\r\nb', false, ['a', 'b']],
    ['"CERT=line one\nline two"\nNEXT=x', false, ['CERT=line one\nline two', 'NEXT=x']],
    ['a\n  # indented comment, with a comma\nb', true, ['a', 'b']],
    ['x=1 # not a comment\ny', false, ['x=1 # not a comment', 'y']],
  ])('%j (commas %s) → %j', (raw, commas, expected) => {
    expect(splitList(raw, commas)).toEqual(expected);
  });

  it('re-attributes an item error to the input', () => {
    const spec = {
      platforms: list({
        commas: true,
        item: (v) => {
          if (!v.includes('/')) throw new InvalidValueError('platform', v, 'os/arch');
        },
      }),
    };
    expect(() => read(spec, { platforms: 'linux/amd64,arm64' })).toThrow(
      'Input \'platforms\' is "arm64": expected os/arch.',
    );
  });
});

describe('durations', () => {
  it.each([
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['1.5s', 1500],
    ['10', 10_000],
  ])('%s is %d ms', (raw, ms) => expect(parseDuration(raw)).toBe(ms));
  it.each(['', '5 m', '-1s', '1d', 'm5', '1h 30m'])('%j is rejected', (raw) =>
    expect(parseDuration(raw)).toBeUndefined(),
  );
});

describe('readInputs', () => {
  it('applies defaults to empty values and requires required ones', () => {
    const spec = {
      a: text({ default: 'x' }),
      b: text(),
      c: boolean({ default: 'true' }),
      d: integer({ default: '2' }),
    };
    expect(read(spec, { a: '  ' })).toEqual({ a: 'x', b: undefined, c: true, d: 2 });
    expect(() => read({ r: text({ required: true }) }, { r: ' ' })).toThrow(
      "Input 'r' is empty: it is required; expected text.",
    );
  });

  it('accepts exactly the boolean spellings of the runner', () => {
    const spec = { flag: boolean({ default: 'false' }) };
    for (const word of ['true', 'True', 'TRUE']) expect(read(spec, { flag: word }).flag).toBe(true);
    for (const word of ['false', 'False', 'FALSE']) expect(read(spec, { flag: word }).flag).toBe(false);
    for (const word of ['yes', '1', 'on', 'tRue']) expect(() => read(spec, { flag: word })).toThrow(ConfigurationError);
  });

  it('tells a secret to the registry first and never quotes it in an error', () => {
    const seen: string[] = [];
    const spec = { password: text({ secret: true, pattern: /[a-z]+/ }) };
    expect(() =>
      readInputs(
        spec,
        () => 'Not-Valid-Secret',
        (v) => seen.push(v),
      ),
    ).toThrow("Input 'password' is the given value: expected text.");
    expect(seen).toEqual(['Not-Valid-Secret']);
  });

  it('turns a domain parser error into a ConfigurationError naming the input', () => {
    const spec = {
      port: parsed(
        (raw) => {
          if (!/^\d+$/.test(raw)) throw new InvalidValueError('port', raw, 'a number', 'letters are not digits');
          return Number(raw);
        },
        { expected: 'a number' },
      ),
      mode: choice(['a', 'b'], { default: 'a' }),
    };
    expect(read(spec, { port: '80' })).toEqual({ port: 80, mode: 'a' });
    expect(() => read(spec, { port: 'eighty' })).toThrow(
      'Input \'port\' is "eighty": letters are not digits; expected a number.',
    );
  });
});

describe('protocol', () => {
  it('escapes command data and properties the way the runner unescapes them', () => {
    expect(formatWorkflowCommand('error', '100%\ndone', { file: 'a:b,c', line: 3 })).toBe(
      '::error file=a%3Ab%2Cc,line=3::100%25%0Adone',
    );
    expect(escapeCommandProperty('\r')).toBe('%0D');
  });
});

describe('secrets', () => {
  it('redacts every registered value, each line of a multi-line one too, longest first', () => {
    const announced: string[] = [];
    const secrets = new SecretRegistry((v) => announced.push(v));
    secrets.add('line-one\nline-two');
    secrets.add('abc');
    expect(secrets.redact('x line-one y line-two z line-one\nline-two')).toBe('x *** y *** z ***');
    expect(announced).toEqual(['line-one\nline-two', 'line-one', 'line-two']);
    // Too short to mask without hiding ordinary text.
    expect(secrets.redact('abc')).toBe('abc');
  });
});

describe('step summary', () => {
  it('cuts an oversized summary at the 1 MiB limit with a note', () => {
    const summary = new StepSummary().add('é'.repeat(SUMMARY_LIMIT_BYTES));
    const text = summary.render(new SecretRegistry());
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(SUMMARY_LIMIT_BYTES);
    expect(text).toMatch(/cut at the runner’s 1 MiB limit/);
    expect(text).not.toContain('\uFFFD');
  });
});

describe('choiceList', () => {
  const spec = { storage: choiceList(['referrer', 'github', 'cosign-legacy'], { default: 'referrer,github' }) };

  it('reads words from the set, keeps the order given and drops repeats', () => {
    expect(read(spec, {})).toEqual({ storage: ['referrer', 'github'] });
    expect(read(spec, { storage: 'github, referrer\ngithub' })).toEqual({ storage: ['github', 'referrer'] });
  });

  it('names the input and the word that is not in the set', () => {
    expect(() => read(spec, { storage: 'referrer,s3' })).toThrow(
      'Input \'storage\' is "s3": expected one of referrer, github, cosign-legacy.',
    );
  });
});
