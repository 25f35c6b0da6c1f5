// Markdown that summaries, PR comments and records share.

/** Escapes text for a markdown table cell or inline use: pipes and newlines would break the table. */
export function markdownCell(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map(markdownCell).join(' | ')} |`;
  return [line(header), `| ${header.map(() => '---').join(' | ')} |`, ...rows.map(line)].join('\n');
}

// Text from input (PR titles, branch names, commit messages, test names, failure messages, reasons, logins) rendered
// where GitHub reads markdown with raw HTML allowed. Everything below makes such text render as text: no element, no
// link, no mention, no emphasis and no broken table row can come from it, whatever it holds.

/**
 * U+2060 WORD JOINER, written as an entity so the raw markdown shows it. Placed after `@` it stops a mention from
 * pinging (`@org/team`), after `#` an issue reference from linking, after `:` an emoji shortcode or a URL scheme
 * and after `www.` a bare host from being recognised; unlike backticks it changes nothing a reader sees, and unlike a backslash it survives
 * GitHub's filters, which run on the rendered HTML, where backslash escapes are already gone. Renovate does the same
 * with a zero-width space (`@&#8203;user`); a word joiner also keeps the word from being broken across lines.
 */
export const WORD_JOINER = '&#8288;';

// Line breaks of every kind become spaces: a newline would start a heading, a list, an HTML block or a new table row.
const LINE_BREAKS = /\r\n|[\n\r\u0085\u2028\u2029]/g;
// Other control characters and the bidirectional overrides that make text read differently than it is stored.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point: they are removed.
const CONTROLS = /[\u0000-\u001f\u007f\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]/g;

/** HTML's specials as entities; `|` as an entity too, so no table splits on it whatever backslashes precede it. */
const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '|': '&#124;',
};

/**
 * Markdown's inline specials, backslash-escaped. `.` and `:` are among them because a linkifier (GitHub's autolinks,
 * markdown-it's linkify) matches `https://…`, `www.…` and `host.tld` inside one run of text: an escape splits the run.
 * `$` starts GitHub's inline math.
 */
const BACKSLASHED = new Set(['\\', '`', '*', '_', '[', ']', '(', ')', '#', '!', '~', '.', ':', '$', '{', '}']);

/**
 * Input text for markdown inline content, table cells included: HTML and markdown escaped, line breaks as spaces,
 * mentions, issue references, emoji and autolinks defused. Meant for markdown, not for the inside of raw HTML blocks
 * (`<summary>…</summary>` shows backslashes literally): keep input out of those.
 */
export function markdownText(value: string): string {
  const flat = value.replace(LINE_BREAKS, ' ').replace(CONTROLS, ' ');
  let out = '';
  for (let i = 0; i < flat.length; i++) {
    const c = flat[i]!;
    const next = flat[i + 1] ?? '';
    const entity = ENTITIES[c];
    if (entity) out += entity;
    else if (BACKSLASHED.has(c)) out += `\\${c}`;
    // A leading `-` or `+` would start a list item where the text begins a line.
    else if ((c === '-' || c === '+') && out.trim() === '') out += `\\${c}`;
    else out += c;
    if ((c === '@' || c === ':' || c === '#') && /[\w+/-]/.test(next)) out += WORD_JOINER;
    // GitHub links `www.host` without a scheme; its filters see the text after the escape is gone.
    else if (c === '.' && /www$/i.test(flat.slice(Math.max(0, i - 3), i))) out += WORD_JOINER;
  }
  return out;
}

// What may stand in a backtick code span as it is: no backtick, pipe, backslash, angle bracket or line break, and no
// space at either end (a code span strips one).
const CODE_SAFE = /^[\w.:/@+=,%#~^-]+(?: [\w.:/@+=,%#~^-]+)*$/;

/**
 * An identifier from input (image, digest, tag, ref, path, test name) in monospace. A code span when the value is
 * plainly safe in one; otherwise `<code>` around escaped text, so the rendered elements are the same either way.
 */
export function markdownCode(value: string): string {
  return CODE_SAFE.test(value) ? `\`${value}\`` : `<code>${markdownText(value)}</code>`;
}

// Kept as they are in a link destination; everything else is percent-encoded, so `(`, `)`, `|`, `<`, `>`, quotes,
// backslashes, spaces and backticks cannot end the link, the row or the attribute.
const URL_SAFE = /[A-Za-z0-9\-._~:/?#@!$&+,;=%]/;

/**
 * A link to `url` only when it is http(s) and its origin is one of `origins` (the GitHub server, the record's host):
 * a URL from input pointing anywhere else, or not a URL at all, renders as text. `label` is markdown already escaped.
 */
export function markdownLink(label: string, url: string | undefined, origins: readonly string[]): string {
  const href = safeHref(url, origins);
  return href ? `[${label}](${href})` : label;
}

/** `url` ready for a link destination, or undefined when it is not an http(s) URL on one of `origins`. */
export function safeHref(url: string | undefined, origins: readonly string[]): string | undefined {
  if (!url) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
  if (parsed.username || parsed.password || !origins.includes(parsed.origin)) return undefined;
  let href = '';
  for (const c of parsed.href) href += URL_SAFE.test(c) ? c : encodeURIComponent(c).replace(/[()'*!]/g, percent);
  return href;
}

function percent(c: string): string {
  return `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
}

/** A table whose cells are markdown already escaped (markdownText, markdownCode, markdownLink or literal text). */
export function markdownTableOf(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map((cell) => cell || ' ').join(' | ')} |`;
  return [line(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n');
}
