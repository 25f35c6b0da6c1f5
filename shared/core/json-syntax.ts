// Where a JSON text goes wrong, for messages about files users wrote. V8's JSON.parse gives a position for
// some errors only, and for the rest ("Unexpected token 'x', "…" is not valid JSON") quotes the text itself,
// which must not reach a log: the file may be a private key given to the wrong input. This scanner runs only
// after JSON.parse has failed, and reports the first offending offset with a description that quotes at most
// the one character found.

export interface JsonSyntaxError {
  /** 0-based offset into the text. */
  offset: number;
  /** What is wrong, e.g. "expected ',' or '}' after a value". */
  problem: string;
}

/** Line and column (both 1-based) of an offset, counting \n, \r\n and \r as line ends. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    const ch = text[i];
    if (ch === '\n' || (ch === '\r' && text[i + 1] !== '\n')) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start + 1 };
}

class Stop extends Error {
  constructor(readonly at: JsonSyntaxError) {
    super(at.problem);
  }
}

/** The first syntax error in `text`, or undefined when it is valid JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  let i = 0;
  const fail = (problem: string, offset = i): never => {
    throw new Stop({ offset, problem });
  };
  const found = () => (i >= text.length ? 'the end of the text' : describeChar(text[i]!));
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail(`expected a value, found ${found()}`);
  };
  const string = () => {
    const start = i;
    i++;
    while (i < text.length) {
      const ch = text[i]!;
      if (ch === '"') {
        i++;
        return;
      }
      if (ch === '\\') {
        const next = text[i + 1];
        if (next === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('a \\u escape needs four hex digits');
          i += 6;
        } else if (next !== undefined && '"\\/bfnrt'.includes(next)) {
          i += 2;
        } else {
          fail('an unknown escape in a string');
        }
        continue;
      }
      if (ch.charCodeAt(0) < 0x20) fail('a control character (such as a line break) inside a string');
      i++;
    }
    fail('a string that is never closed', start);
  };
  const number = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!match || match[0] === '-') fail(`expected a value, found ${found()}`);
    i += match![0].length;
  };
  const value = (depth: number): void => {
    if (depth > 512) fail('nesting deeper than 512 levels');
    space();
    const ch = text[i];
    if (ch === '{') {
      i++;
      space();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        space();
        if (text[i] !== '"')
          fail(
            text[i] === '}'
              ? 'a trailing comma before }'
              : `expected a property name in double quotes, found ${found()}`,
          );
        string();
        space();
        if (text[i] !== ':') fail(`expected ':' after a property name, found ${found()}`);
        i++;
        value(depth + 1);
        space();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail(`expected ',' or '}' after a property value, found ${found()}`);
      }
    }
    if (ch === '[') {
      i++;
      space();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        space();
        if (text[i] === ']') fail('a trailing comma before ]');
        value(depth + 1);
        space();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail(`expected ',' or ']' after an array element, found ${found()}`);
      }
    }
    if (ch === '"') string();
    else if (ch === 't') literal('true');
    else if (ch === 'f') literal('false');
    else if (ch === 'n') literal('null');
    else if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) number();
    else fail(`expected a value, found ${found()}`);
  };
  try {
    if (text.charCodeAt(0) === 0xfeff) i = 1;
    value(0);
    space();
    if (i < text.length) fail(`unexpected ${found()} after the JSON value`);
    return undefined;
  } catch (error) {
    if (error instanceof Stop) return error.at;
    throw error;
  }
}

function describeChar(ch: string): string {
  const code = ch.codePointAt(0)!;
  if (code < 0x20 || code === 0x7f) return `control character U+${code.toString(16).padStart(4, '0').toUpperCase()}`;
  return `'${ch}'`;
}
