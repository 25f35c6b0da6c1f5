import { ConfigurationError, InvalidValueError } from '../core/errors.js';

// Typed inputs. An action declares its inputs once, as a spec of named Input definitions; the same spec
// is read from INPUT_* variables on the runner, from flags in the CLI, and compared with action.yml by the
// metadata contract test. Code reads inputs only through the spec, so what action.yml declares and what the
// code reads cannot drift apart unnoticed.

export interface Input<T> {
  readonly required: boolean;
  /** The default as action.yml writes it (a string); applied when the input is empty. */
  readonly default?: string;
  /** Secret inputs are masked as soon as they are read and never quoted in errors. */
  readonly secret: boolean;
  /** The expected form, for error messages and generated docs. */
  readonly expected: string;
  /** Parses the trimmed raw value; `''` means not given (and no default). */
  read(raw: string, name: string): T;
  /**
   * A free-text input whose `true` means "with its defaults" (canary's `simulate`): the CLI reads a bare `--name`
   * as true for it, as it does for booleans, instead of taking it for a forgotten value.
   */
  readonly bareFlag?: boolean;
}

export type InputSpec = Readonly<Record<string, Input<unknown>>>;
export type InputValues<S extends InputSpec> = { -readonly [K in keyof S]: S[K] extends Input<infer T> ? T : never };

/** The name the runner gives an input's environment variable: spaces to underscores, upper case, hyphens kept. */
export function inputVariableName(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

/** A whole value that is a GitHub Actions expression, left as its own text. */
const UNEVALUATED_EXPRESSION = /^\$\{\{[\s\S]*\}\}$/;

/**
 * Reads every input of a spec. `lookup` returns the raw value of an input by its action.yml name
 * (from INPUT_* on the runner, from flags in the CLI); `onSecret` is told each secret value, with its input's
 * name, before anything else can see it.
 */
export function readInputs<S extends InputSpec>(
  spec: S,
  lookup: (name: string) => string | undefined,
  onSecret: (value: string, input: string) => void = () => {},
): InputValues<S> {
  const values: Record<string, unknown> = {};
  for (const [name, input] of Object.entries(spec)) {
    let raw = (lookup(name) ?? '').trim();
    if (raw === '' && input.default !== undefined) raw = input.default;
    // Only the runner evaluates `${{ … }}`: one that arrives as text (the CLI or a harness reading action.yml's
    // default, e.g. github-token's `${{ github.token }}`) was never evaluated, and is no value: never masked, never used.
    if (UNEVALUATED_EXPRESSION.test(raw)) raw = '';
    if (input.secret && raw !== '') onSecret(raw, name);
    if (raw === '' && input.required) {
      throw new ConfigurationError(name, '', input.expected, 'it is required');
    }
    values[name] = input.read(raw, name);
  }
  return values as InputValues<S>;
}

interface CommonOptions {
  /** Overrides the generic description of the expected form in error messages. */
  expected?: string;
}

interface TextOptions extends CommonOptions {
  secret?: boolean;
  /** Values must match this pattern (whole value). */
  pattern?: RegExp;
}

function define<T>(
  options: { required?: boolean; default?: string; secret?: boolean },
  expected: string,
  read: (raw: string, name: string, self: Input<T>) => T,
): Input<T> {
  const input: Input<T> = {
    required: options.required ?? false,
    secret: options.secret ?? false,
    expected,
    read: (raw, name) => read(raw, name, input),
    ...(options.default !== undefined ? { default: options.default } : {}),
  };
  return input;
}

function fail(name: string, raw: string, input: Input<unknown>, detail?: string): never {
  throw new ConfigurationError(name, input.secret ? undefined : raw, input.expected, detail);
}

/** Free text; optional text is undefined when not given. */
export function text(options: TextOptions & { required: true }): Input<string>;
export function text(options: TextOptions & { default: string }): Input<string>;
export function text(options?: TextOptions): Input<string | undefined>;
export function text(options: TextOptions & { required?: boolean; default?: string } = {}): Input<string | undefined> {
  return define(options, options.expected ?? 'text', (raw, name, self) => {
    if (raw === '') return undefined;
    if (options.pattern && !new RegExp(`^(?:${options.pattern.source})$`, options.pattern.flags).test(raw)) {
      fail(name, raw, self);
    }
    return raw;
  });
}

// Exactly the YAML 1.2 core-schema spellings the runner and @actions/core accept, no others:
// "yes", "1" or "on" are errors rather than a guess.
const TRUE_WORDS = new Set(['true', 'True', 'TRUE']);
const FALSE_WORDS = new Set(['false', 'False', 'FALSE']);

export function boolean(options: { default: 'true' | 'false' }): Input<boolean> {
  return define(options, 'true or false', (raw, name, self) => {
    if (TRUE_WORDS.has(raw)) return true;
    if (FALSE_WORDS.has(raw)) return false;
    return fail(name, raw, self, 'only true, True, TRUE, false, False and FALSE are booleans');
  });
}

/** One of a fixed set of words, compared exactly. */
export function choice<const V extends string>(
  values: readonly V[],
  options: { default: V } | { required: true },
): Input<V> {
  const expected = `one of ${values.join(', ')}`;
  return define(options, expected, (raw, name, self) => {
    if ((values as readonly string[]).includes(raw)) return raw as V;
    return fail(name, raw, self);
  });
}

interface ListOptions extends CommonOptions {
  required?: boolean;
  /** As action.yml writes it, e.g. `cyclonedx,spdx`. */
  default?: string;
  /** Also split each line at commas outside double quotes (docker's actions do); off for values that contain commas. */
  commas?: boolean;
  /** Check every item; throw InvalidValueError to reject one. */
  item?: (value: string) => void;
}

/**
 * A list: one item per line, or also comma-separated when `commas` is set. A double quote at the start of
 * an item protects commas and newlines up to the closing quote (`""` inside is a quote), so a build
 * argument can hold a multi-line value; lines starting with `#` are comments; items are trimmed and empty
 * ones dropped. This is how docker/build-push-action reads its list inputs (csv-parse with relaxed quotes).
 */
export function list(options: ListOptions = {}): Input<string[]> {
  const expected = options.expected ?? (options.commas ? 'items separated by newlines or commas' : 'one item per line');
  return define(options, expected, (raw, name) => {
    const items = splitList(raw, options.commas ?? false);
    if (options.item) {
      for (const item of items) {
        try {
          options.item(item);
        } catch (error) {
          if (error instanceof InvalidValueError) throw ConfigurationError.fromInvalidValue(name, error);
          throw error;
        }
      }
    }
    return items;
  });
}

export function splitList(raw: string, commas: boolean): string[] {
  const items: string[] = [];
  let field = '';
  let quoted = false;
  let wasQuoted = false;
  let atLineStart = true;
  const finish = () => {
    const item = wasQuoted ? field : field.trim();
    if (item !== '') items.push(item);
    field = '';
    wasQuoted = false;
  };
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (quoted) {
      if (ch === '"' && raw[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') {
        quoted = false;
      } else {
        field += ch;
      }
      continue;
    }
    if (atLineStart && ch === '#' && field.trim() === '') {
      // A comment runs to the end of its line.
      while (i < raw.length && raw[i] !== '\n') i++;
      field = '';
      continue;
    }
    if (ch === '\n' || (commas && ch === ',')) {
      finish();
      atLineStart = ch === '\n';
      continue;
    }
    if (ch === '\r' && raw[i + 1] === '\n') continue;
    if (ch === '"' && field.trim() === '' && !wasQuoted) {
      // A quote opens a quoted field only at its start, as in CSV; elsewhere it is a literal character.
      field = '';
      quoted = true;
      wasQuoted = true;
      continue;
    }
    if (ch !== ' ' && ch !== '\t') atLineStart = false;
    field += ch;
  }
  finish();
  return items;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration in milliseconds, written as Go and Prometheus do (`90s`, `5m`, `1h30m`, `250ms`); a bare number is seconds. */
export function duration(options: { default: string } | { required: true }): Input<number> {
  return define(options, 'a duration such as 90s, 5m, 1h30m or 250ms', (raw, name, self) => {
    const ms = parseDuration(raw);
    return ms === undefined ? fail(name, raw, self) : ms;
  });
}

export function parseDuration(raw: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(raw)) return Math.round(Number(raw) * 1000);
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(raw)) return undefined;
  let total = 0;
  for (const [, amount, unit] of raw.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    total += Number(amount) * DURATION_UNITS[unit as string]!;
  }
  return Math.round(total);
}

export function integer(
  options: ({ default: string } | { required: true }) & { min?: number; max?: number },
): Input<number> {
  const { min, max } = options;
  const range =
    min !== undefined && max !== undefined
      ? ` from ${min} to ${max}`
      : min !== undefined
        ? ` of at least ${min}`
        : max !== undefined
          ? ` of at most ${max}`
          : '';
  return define(options, `a whole number${range}`, (raw, name, self) => {
    const value = /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(value) || (min !== undefined && value < min) || (max !== undefined && value > max)) {
      fail(name, raw, self);
    }
    return value;
  });
}

/**
 * A value read by a domain parser (a digest, an image reference, a platform). The parser throws
 * InvalidValueError; the error is re-attributed to the input so the message names it.
 */
export function parsed<T>(
  parse: (raw: string) => T,
  options: CommonOptions & { required: true; expected: string },
): Input<T>;
export function parsed<T>(
  parse: (raw: string) => T,
  options: CommonOptions & { required?: false; expected: string },
): Input<T | undefined>;
export function parsed<T>(
  parse: (raw: string) => T,
  options: CommonOptions & { required?: boolean; expected: string },
): Input<T | undefined> {
  return define(options, options.expected, (raw, name, self) => {
    if (raw === '') return undefined;
    try {
      return parse(raw);
    } catch (error) {
      if (error instanceof InvalidValueError) throw ConfigurationError.fromInvalidValue(name, error, self.secret);
      throw error;
    }
  });
}

/** The default action.yml gives a token input; the runner evaluates it to the job's token. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, which the runner evaluates.
export const GITHUB_TOKEN_EXPRESSION = '${{ github.token }}';

/**
 * A GitHub token input defaulting to the job's token. Outside the runner (the CLI) the default arrives
 * unevaluated, as the expression's own text, which is no token: it reads as undefined.
 */
export function githubToken(): Input<string | undefined> {
  const input = text({ secret: true, default: GITHUB_TOKEN_EXPRESSION });
  return { ...input, read: (raw, name) => (raw === GITHUB_TOKEN_EXPRESSION ? undefined : input.read(raw, name)) };
}

/**
 * Several words from a fixed set, separated by commas or newlines (`referrer,github`); each is checked,
 * repeats are dropped, and the order given is kept.
 */
export function choiceList<const V extends string>(
  values: readonly V[],
  options: { default?: string; required?: boolean } = {},
): Input<V[]> {
  const expected = `any of ${values.join(', ')}, separated by commas`;
  const items = list({
    commas: true,
    expected,
    ...options,
    item: (value) => {
      if (!(values as readonly string[]).includes(value))
        throw new InvalidValueError('item', value, `one of ${values.join(', ')}`);
    },
  });
  return { ...items, read: (raw, name) => [...new Set(items.read(raw, name))] as V[] };
}
