// WWW-Authenticate parsing (RFC 7235 §4.1). Registries put several challenges in one header, and fetch joins
// repeated headers with ", ", so commas separate both challenges and parameters; a parameter is told from the
// next challenge's scheme by the "=" that follows its name.

export interface Challenge {
  /** Lower-cased, since schemes are case-insensitive: "bearer", "basic". */
  scheme: string;
  /** Parameter names lower-cased; values as sent, unquoted. */
  params: Record<string, string>;
}

const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*/;

/**
 * Every challenge in a WWW-Authenticate header value. A header that does not parse yields no challenge at
 * all: guessing at part of a broken header could send credentials somewhere the registry did not ask for.
 */
export function parseWwwAuthenticate(header: string): Challenge[] {
  return new ChallengeParser(header).parse() ?? [];
}

class ChallengeParser {
  #pos = 0;

  constructor(readonly text: string) {}

  parse(): Challenge[] | undefined {
    const challenges: Challenge[] = [];
    let current: Challenge | undefined;
    for (;;) {
      this.#skip(' \t,');
      if (this.#atEnd()) return challenges;
      const name = this.#token();
      if (name === '') return undefined;
      const afterName = this.#pos;
      this.#skip(' \t');
      if (current && this.#peek() === '=') {
        this.#pos++;
        const value = this.#value();
        if (value === undefined || !this.#atElementEnd()) return undefined;
        const key = name.toLowerCase();
        // RFC 7235 forbids repeats; the first is kept so a later one cannot override what was checked.
        if (!(key in current.params)) current.params[key] = value;
        continue;
      }
      this.#pos = afterName;
      current = { scheme: name.toLowerCase(), params: Object.create(null) as Record<string, string> };
      challenges.push(current);
      if (this.#atEnd() || this.#peek() === ',') continue;
      // A scheme ends at whitespace before its parameters; anything else glued to it is not a token.
      if (this.#peek() !== ' ' && this.#peek() !== '\t') return undefined;
      if (this.#atElementEnd()) continue;
      // A token68 (e.g. "Basic abc==") carries no parameter any scheme here needs, so it is skipped.
      const token68 = TOKEN68.exec(this.text.slice(this.#pos));
      if (token68) {
        const saved = this.#pos;
        this.#pos += token68[0].length;
        this.#skip(' \t');
        if (this.#atElementEnd()) continue;
        this.#pos = saved;
      }
    }
  }

  #value(): string | undefined {
    this.#skip(' \t');
    if (this.#peek() === '"') return this.#quoted();
    // Lenient: registries send unquoted scopes such as repository:a/b:pull, which are not RFC tokens.
    const start = this.#pos;
    while (!this.#atEnd() && !' \t,"'.includes(this.#peek())) this.#pos++;
    return this.#pos > start ? this.text.slice(start, this.#pos) : undefined;
  }

  #quoted(): string | undefined {
    this.#pos++;
    let value = '';
    while (!this.#atEnd()) {
      const char = this.#peek();
      this.#pos++;
      if (char === '"') return value;
      if (char === '\\') {
        if (this.#atEnd()) return undefined;
        value += this.#peek();
        this.#pos++;
      } else {
        value += char;
      }
    }
    return undefined;
  }

  #token(): string {
    const start = this.#pos;
    while (!this.#atEnd() && TCHAR.test(this.#peek())) this.#pos++;
    return this.text.slice(start, this.#pos);
  }

  /** True at the end of a list element: only whitespace before a comma or the end. */
  #atElementEnd(): boolean {
    this.#skip(' \t');
    return this.#atEnd() || this.#peek() === ',';
  }

  #skip(chars: string): void {
    while (!this.#atEnd() && chars.includes(this.#peek())) this.#pos++;
  }

  #peek(): string {
    return this.text[this.#pos] ?? '';
  }

  #atEnd(): boolean {
    return this.#pos >= this.text.length;
  }
}
