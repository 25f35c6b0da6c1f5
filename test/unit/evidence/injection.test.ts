import { readFileSync } from 'node:fs';
import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';
import { markdownCode, markdownText } from '../../../shared/core/markdown.js';
import { COMMENT_LIMIT, renderEvidence } from '../../../shared/evidence/render.js';
import type { EvidenceResult } from '../../../shared/evidence/types.js';

// Every string of an evidence record is input: PR titles, branch names, commit messages, test names, failure
// messages, image names, reasons, logins. Rendered with a real markdown library configured as GitHub is (raw HTML
// allowed, bare URLs linked), a record whose every string is hostile must produce exactly the elements and
// attributes of the same record with harmless strings, no link or image pointing at input, and show each payload as
// text.

const PAYLOADS = [
  '<img src=x onerror=alert(1)>',
  '</details><script>alert(1)</script>',
  '[x](javascript:alert(1))',
  '![t](http://evil/x.png)',
  '`',
  '``code``',
  '| a | b |',
  '<!-- -->',
  '@org/team',
  '@alice',
  'https://evil.example',
  'www.evil.com',
  'mail evil@evil.com',
  '#1',
  'line one\n# heading',
  '\n- item\n1. item\n> quote',
  '**bold** _em_ ~~strike~~',
  '&lt;b&gt; &amp; &#60;i&#62;',
  '\\',
  '\\|',
  ':rocket: $x^2$',
  '<a href="https://evil.example">x</a>',
  '"><svg onload=alert(1)>',
  '\u202Eevil\u202C',
];

const RECORD_URL = 'https://github.com/acme/api/actions/runs/9876543210/artifacts/1234567';
const md = new MarkdownIt({ html: true, linkify: true });
const base = JSON.parse(
  readFileSync(new URL('../../fixtures/evidence/full-release.json', import.meta.url), 'utf8'),
) as EvidenceResult;

// The structure the renderer branches on stays; every other string (enums included: a hostile record may hold
// anything there) becomes the payload.
const STRUCTURAL = new Set(['state', 'status']);

/** The fixture with a failed test and an exception, so that every section appears, and every string replaced. */
function withStrings(replace: (path: string) => string): EvidenceResult {
  const record = structuredClone(base) as unknown as Record<string, unknown>;
  const tests = record.tests as { value: Record<string, unknown> };
  tests.value.failures = [{ suite: 's', name: 'n', classname: 'c', message: 'm', kind: 'failure' }];
  record.exceptions = [{ requirement: 'r', by: 'b', reason: 'why', until: 'u' }];
  record.missing = ['m1', 'm2'];
  (record.requirements as Record<string, unknown>[])[0]!.exception = {
    requirement: 'r',
    by: 'b',
    reason: 'w',
    until: 'u',
  };
  (record.decision as unknown) = {
    state: 'present',
    from: [{ kind: 'input', location: 'decision' }],
    value: { kind: 'forward-fix', reason: 'r', by: 'b', at: 'a' },
  };
  const walk = (value: unknown, path: string): unknown => {
    if (typeof value === 'string') return replace(path);
    if (Array.isArray(value)) return value.map((v, i) => walk(v, `${path}[${i}]`));
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = STRUCTURAL.has(k) ? v : walk(v, `${path}.${k}`);
      // Keys are input too where they are data (severity names in the vulnerability counts).
      if (path.endsWith('.counts')) return { [replace(`${path}.key`)]: 1 };
      return out;
    }
    return value;
  };
  return walk(record, '') as EvidenceResult;
}

function render(result: EvidenceResult): { markdown: string; html: string } {
  const { markdown } = renderEvidence(result, { limit: COMMENT_LIMIT.limit, marker: 'prod', recordUrl: RECORD_URL });
  return { markdown, html: md.render(markdown) };
}

/** Each element name and each element[attribute] in the HTML: every `<` of a real tag (text has `&lt;`). */
function structure(html: string): Set<string> {
  const found = new Set<string>();
  for (const tag of html.matchAll(/<([A-Za-z][\w-]*)([^>]*)>/g)) {
    const name = tag[1]!.toLowerCase();
    found.add(name);
    for (const attr of tag[2]!.matchAll(/([^\s=/]+)(?:="[^"]*")?/g)) found.add(`${name}[${attr[1]!.toLowerCase()}]`);
  }
  return found;
}

function urls(html: string): string[] {
  return [...html.matchAll(/\s(?:href|src)="([^"]*)"/g)].map((m) => m[1]!);
}

/** The text a reader sees (word joiners removed), or the text GitHub's filters see: outside code and links. */
function visibleText(html: string, { outsideCode = false } = {}): string {
  const source = outsideCode ? html.replace(/<(code|a)\b[^>]*>[\s\S]*?<\/\1>/g, ' ') : html;
  return source
    .replace(/<[^>]*>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\u2060/g, outsideCode ? '\u2060' : '');
}

const benign = render(withStrings(() => 'benign'));

describe('the evidence markdown against injection', () => {
  it('renders the benign record with the elements a reader expects', () => {
    const s = structure(benign.html);
    for (const e of ['h3', 'h4', 'table', 'td', 'code', 'details', 'summary', 'a[href]']) {
      expect(s).toContain(e);
    }
    expect(urls(benign.html)).toEqual([RECORD_URL]);
  });

  it.each(PAYLOADS.map((p) => [JSON.stringify(p), p]))('renders %s in every field as text', (_, payload) => {
    const hostile = render(withStrings(() => payload!));
    expect(structure(hostile.html)).toEqual(structure(benign.html));
    expect(urls(hostile.html)).toEqual([RECORD_URL]);
    // The payload is there for a reader, as written (line breaks as spaces, bidi controls removed).
    const shown = payload!
      .replace(/\n/g, ' ')
      .replace(/[\u202A-\u202E]/g, ' ')
      .trim();
    expect(visibleText(hostile.html)).toContain(shown);
    // What GitHub would act on outside code and links: a mention, an issue reference, an emoji shortcode, a URL.
    const raw = visibleText(hostile.html, { outsideCode: true }).replace(/\u2060/g, '\u0000');
    expect(raw).not.toMatch(/@[A-Za-z0-9]/);
    expect(raw).not.toMatch(/#\d/);
    expect(raw).not.toMatch(/:[a-z0-9_+-]+:/);
    expect(raw).not.toMatch(/https?:\/\/evil|www\.evil/);
  });

  it('renders every payload at once, joined by line breaks, as text', () => {
    const all = PAYLOADS.join('\n');
    const hostile = render(withStrings(() => all));
    expect(structure(hostile.html)).toEqual(structure(benign.html));
    expect(urls(hostile.html)).toEqual([RECORD_URL]);
    expect(hostile.markdown.split('\n')[0]).toBe('<!-- slipway:evidence:prod -->');
  });

  it('keeps each field apart: a payload per field path still renders as text', () => {
    let i = 0;
    const hostile = render(withStrings(() => PAYLOADS[i++ % PAYLOADS.length]!));
    expect(structure(hostile.html)).toEqual(structure(benign.html));
    expect(urls(hostile.html)).toEqual([RECORD_URL]);
  });
});

describe('markdownText and markdownCode', () => {
  it.each([
    ['a|b', 'a&#124;b'],
    ['<b>', '&lt;b&gt;'],
    ['@team', '@&#8288;team'],
    ['#12', '\\#&#8288;12'],
    ['- x', '\\- x'],
    ['1. x', '1\\. x'],
    ['a\nb\r\nc', 'a b c'],
    ['[x](y)', '\\[x\\]\\(y\\)'],
    ['https://e.x', 'https\\:&#8288;//e\\.x'],
  ])('markdownText(%j) is %j', (input, expected) => {
    expect(markdownText(input)).toBe(expected);
  });

  it('uses a code span for plain identifiers and <code> around escaped text for the rest', () => {
    expect(markdownCode('ghcr.io/acme/api@sha256:abc')).toBe('`ghcr.io/acme/api@sha256:abc`');
    expect(markdownCode('a`b')).toBe('<code>a\\`b</code>');
    expect(markdownCode('a|b')).toBe('<code>a&#124;b</code>');
  });
});
