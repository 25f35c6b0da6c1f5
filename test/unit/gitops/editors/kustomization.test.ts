import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ManifestEditError } from '../../../../shared/gitops/editors/edit-error.js';
import { kustomizationEditor as editor } from '../../../../shared/gitops/editors/kustomization.js';
import type { EditTarget } from '../../../../shared/gitops/types.js';
import { digest, eol, fixture, replaced, VARIANTS } from './support.js';

const OLD = digest('1');
const NEW = digest('a');
const target = (image: string): EditTarget => ({ file: 'envs/prod/kustomization.yaml', kind: 'kustomization', image });
const API = target('ghcr.io/acme/api');

describe.each(VARIANTS)('kustomization editor ($name)', (variant) => {
  const original = variant.make(fixture('kustomization.yaml'));

  it('reads the pin of the matching entry', () => {
    expect(editor.read(original, API)).toEqual([{ name: 'ghcr.io/acme/api', tag: '1.10', digest: OLD }]);
    expect(editor.read(original, target('ghcr.io/acme/worker'))).toEqual([]);
    expect(editor.read(original, target('ghcr.io/acme/unknown'))).toEqual([]);
  });

  it('updates the matching entry in place, changing only the tag and digest bytes', () => {
    const result = editor.apply(original, API, { name: 'ghcr.io/acme/api', digest: NEW, tag: '1.11' });
    expect(result.text).toBe(
      replaced(original, [
        ['newTag: "1.10"', 'newTag: "1.11"'],
        [`digest: ${OLD}`, `digest: ${NEW}`],
      ]),
    );
    expect(result.changed).toBe(true);
    expect(result.before).toEqual([{ name: 'ghcr.io/acme/api', tag: '1.10', digest: OLD }]);
    expect(result.after).toEqual([{ name: 'ghcr.io/acme/api', tag: '1.11', digest: NEW }]);

    const again = editor.apply(result.text, API, { name: 'ghcr.io/acme/api', digest: NEW, tag: '1.11' });
    expect(again).toEqual({ text: result.text, changed: false, before: result.after, after: result.after });
  });

  it('removes newTag (its line, with the comment on it) when the pin has no tag, so no old tag renders', () => {
    const result = editor.apply(original, API, { name: 'ghcr.io/acme/api', digest: NEW });
    expect(result.text).toBe(
      replaced(original, [
        [eol(original, '    newTag: "1.10"   # numeric-looking: quoted\n'), ''],
        [`digest: ${OLD}`, `digest: ${NEW}`],
      ]),
    );
    expect(result.before).toEqual([{ name: 'ghcr.io/acme/api', tag: '1.10', digest: OLD }]);
    expect(result.after).toEqual([{ name: 'ghcr.io/acme/api', digest: NEW }]);
    const again = editor.apply(result.text, API, { name: 'ghcr.io/acme/api', digest: NEW });
    expect(again).toEqual({ text: result.text, changed: false, before: result.after, after: result.after });
  });

  it('keeps the single quotes of an existing tag', () => {
    const nginx = editor.apply(original, target('nginx'), { name: 'nginx', digest: NEW, tag: '1.25.4' });
    expect(nginx.text).toBe(
      replaced(original, [
        [eol(original, "    newTag: '1.25.3'\n"), eol(original, `    newTag: '1.25.4'\n    digest: ${NEW}\n`)],
      ]),
    );
  });

  it('matches names as docker normalises them (nginx = docker.io/library/nginx)', () => {
    const result = editor.apply(original, target('docker.io/library/nginx'), { name: 'nginx', digest: NEW });
    expect(result.after).toEqual([{ name: 'docker.io/library/nginx', digest: NEW }]);
  });

  it('adds a missing digest to the entry, after its last line', () => {
    const pin = { name: 'ghcr.io/acme/worker', digest: NEW, tag: 'v2.0.0' };
    const result = editor.apply(original, target('ghcr.io/acme/worker'), pin);
    expect(result.text).toBe(
      replaced(original, [
        [eol(original, '    newTag: v2.0.0\n'), eol(original, `    newTag: v2.0.0\n    digest: ${NEW}\n`)],
      ]),
    );
  });

  it('puts a missing digest where the removed newTag was, when that was the last line of the entry', () => {
    const result = editor.apply(original, target('ghcr.io/acme/worker'), { name: 'ghcr.io/acme/worker', digest: NEW });
    expect(result.text).toBe(
      replaced(original, [[eol(original, '    newTag: v2.0.0\n'), eol(original, `    digest: ${NEW}\n`)]]),
    );
    expect(result.after).toEqual([{ name: 'ghcr.io/acme/worker', digest: NEW }]);
    expect(editor.apply(result.text, target('ghcr.io/acme/worker'), { name: 'x', digest: NEW }).changed).toBe(false);
  });

  it('edits an entry written in flow style', () => {
    const result = editor.apply(original, target('ghcr.io/acme/metrics'), {
      name: 'ghcr.io/acme/metrics',
      digest: NEW,
      tag: '0.4',
    });
    expect(result.text).toBe(
      replaced(original, [[`newTag: v0.3.1, digest: ${digest('2')}`, `newTag: "0.4", digest: ${NEW}`]]),
    );
    const tagless = editor.apply(original, target('ghcr.io/acme/metrics'), { name: 'x', digest: NEW });
    expect(tagless.text).toBe(replaced(original, [[`newTag: v0.3.1, digest: ${digest('2')}`, `digest: ${NEW}`]]));
  });

  it('adds an entry only when none exists, after the last one', () => {
    const pin = { name: 'ghcr.io/acme/new', digest: NEW, tag: '7' };
    const result = editor.apply(original, target('ghcr.io/acme/new'), pin);
    const anchor = eol(original, '    newTag: v2.0.0\n');
    expect(result.text).toBe(
      replaced(original, [
        [anchor, `${anchor}${eol(original, `  - name: ghcr.io/acme/new\n    newTag: "7"\n    digest: ${NEW}\n`)}`],
      ]),
    );
    const again = editor.apply(result.text, target('ghcr.io/acme/new'), pin);
    expect(again.changed).toBe(false);
    expect(again.text.split('ghcr.io/acme/new').length).toBe(2);
  });

  it('creates images: at the end when the file has none, indented like its other lists', () => {
    const text = variant.make(fixture('kustomization-no-images.yaml'));
    const result = editor.apply(text, API, { name: 'ghcr.io/acme/api', digest: NEW, tag: 'v1' });
    const added = `images:\n- name: ghcr.io/acme/api\n  newTag: v1\n  digest: ${NEW}`;
    const last = '      name: api';
    const expected = replaced(text, [[eol(text, `${last}\n`), eol(text, `${last}\n${added}\n`)]]);
    expect(result.text).toBe(expected);
    expect(parse(result.text).images).toEqual([{ name: 'ghcr.io/acme/api', newTag: 'v1', digest: NEW }]);
  });
});

// Comments above, on and below the newTag line, newTag as the first key of its list item, and newTag as the file's
// last line (without a final newline in two of the variants): only the newTag line goes.
const D1 = digest('1');
const D2 = digest('2');
const D3 = digest('3');
const AROUND = `# overlay
images:
  # the API server
  - name: ghcr.io/acme/api
    # the tag names the build for people
    newTag: "0.0.0"   # set by CI
    # the digest is what runs
    digest: ${D1}
  - newTag: v2 # worker tag

    # worker name
    name: ghcr.io/acme/worker
    digest: ${D2}
  - name: ghcr.io/acme/web
    digest: ${D3}
    newTag: '3'  # last line
`;

describe.each(VARIANTS)('kustomization editor: a pin without a tag removes newTag ($name)', (variant) => {
  const text = variant.make(AROUND);
  const n = (snippet: string) => eol(text, snippet);
  const cases: [image: string, old: string, edits: [string, string][]][] = [
    [
      'ghcr.io/acme/api',
      D1,
      [
        [n('    newTag: "0.0.0"   # set by CI\n'), ''],
        [`digest: ${D1}`, `digest: ${NEW}`],
      ],
    ],
    [
      'ghcr.io/acme/worker',
      D2,
      [
        [n('  - newTag: v2 # worker tag\n\n    # worker name\n    name'), n('  - # worker name\n    name')],
        [`digest: ${D2}`, `digest: ${NEW}`],
      ],
    ],
    ['ghcr.io/acme/web', D3, [[n(`digest: ${D3}\n    newTag: '3'  # last line`), `digest: ${NEW}`]]],
  ];

  it.each(cases)('%s: the newTag line goes, every other byte stays', (image, old, edits) => {
    const pin = { name: image, digest: NEW };
    const result = editor.apply(text, target(image), pin);
    expect(result.text).toBe(replaced(text, edits));
    expect(result.before).toEqual([expect.objectContaining({ digest: old, tag: expect.any(String) })]);
    expect(result.after).toEqual([{ name: image, digest: NEW }]);
    // Structurally: exactly the entry's newTag removed and its digest changed.
    const before = parse(text).images as Record<string, string>[];
    const expected = before.map((entry) => {
      if (entry.name !== image) return entry;
      const { newTag: _, ...rest } = entry;
      return { ...rest, digest: NEW };
    });
    expect(parse(result.text).images).toEqual(expected);
    expect(editor.apply(result.text, target(image), pin)).toMatchObject({ changed: false, text: result.text });
  });

  it('updates a Flux Kustomization spec.images entry the same way', () => {
    const flux = variant.make(
      `apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nspec:\n  images:\n    - name: ghcr.io/acme/api\n      newTag: "0.0.0"\n      digest: ${D1}\n`,
    );
    const result = editor.apply(flux, API, { name: 'ghcr.io/acme/api', digest: NEW });
    expect(result.text).toBe(
      replaced(flux, [
        [eol(flux, '      newTag: "0.0.0"\n'), ''],
        [D1, NEW],
      ]),
    );
  });
});

describe('kustomization editor: refusals and quoting', () => {
  const API_PIN = { name: 'ghcr.io/acme/api', digest: NEW };

  it('refuses two entries for the image that disagree, naming the lines', () => {
    const text = `images:\n- name: ghcr.io/acme/api\n  digest: ${OLD}\n- name: ghcr.io/acme/api\n  digest: ${digest('2')}\n`;
    expect(() => editor.apply(text, API, API_PIN)).toThrow(ManifestEditError);
    expect(() => editor.apply(text, API, API_PIN)).toThrow(/kustomization\.yaml:4: .*2 entries .*lines 2, 4/);
  });

  it('updates duplicate entries that agree, together', () => {
    const text = `images:\n- name: ghcr.io/acme/api\n  digest: ${OLD}\n- name: ghcr.io/acme/api\n  digest: ${OLD}\n`;
    expect(editor.apply(text, API, API_PIN).text).toBe(text.replaceAll(OLD, NEW));
  });

  it('refuses a value shared through an anchor', () => {
    const text = `images:\n- name: ghcr.io/acme/api\n  newTag: &t v1\n  digest: ${OLD}\n- name: ghcr.io/acme/web\n  newTag: *t\n`;
    expect(() => editor.apply(text, API, { ...API_PIN, tag: 'v2' })).toThrow(/:3: images\[0\]\.newTag .* anchor &t/);
    const aliased = `images:\n- name: ghcr.io/acme/web\n  newTag: &t v1\n- name: ghcr.io/acme/api\n  newTag: *t\n  digest: ${OLD}\n`;
    expect(() => editor.apply(aliased, API, { ...API_PIN, tag: 'v2' })).toThrow(/:5: .*alias/);
  });

  it('without a tag: refuses to remove a newTag whose anchor is used elsewhere, removes one that is an alias', () => {
    const text = `images:\n- name: ghcr.io/acme/api\n  newTag: &t v1\n  digest: ${OLD}\n- name: ghcr.io/acme/web\n  newTag: *t\n`;
    expect(() => editor.apply(text, API, API_PIN)).toThrow(
      /kustomization\.yaml:3: images\[0\]\.newTag defines anchor &t/,
    );
    const aliased = `images:\n- name: ghcr.io/acme/web\n  newTag: &t v1\n- name: ghcr.io/acme/api\n  newTag: *t\n  digest: ${OLD}\n`;
    expect(editor.apply(aliased, API, API_PIN).text).toBe(
      `images:\n- name: ghcr.io/acme/web\n  newTag: &t v1\n- name: ghcr.io/acme/api\n  digest: ${NEW}\n`,
    );
  });

  it('refuses invalid YAML with its line, and a bad digest or tag', () => {
    expect(() => editor.apply('images:\n  - name: [x\n', API, API_PIN)).toThrow(
      /kustomization\.yaml:\d+: not valid YAML/,
    );
    expect(() => editor.apply('images: []\n', API, { name: 'x', digest: 'sha256:abc' as never })).toThrow(/digest/);
    expect(() => editor.apply('images: []\n', API, { ...API_PIN, tag: 'no spaces' })).toThrow(/tag/);
  });

  it('refuses to add to a flow-style or empty images list', () => {
    expect(() => editor.apply('images: []\n', API, API_PIN)).toThrow(/images is written in flow style or empty/);
  });

  it('property: without a tag in the pin, any newTag is removed, one line, and nothing else changes', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[\w][\w.-]{0,20}$/), fc.stringMatching(/^[a-f0-9]{64}$/), (tag, hex) => {
        const text = `images:\n- name: ghcr.io/acme/api\n  newTag: ${JSON.stringify(tag)}\n  digest: ${OLD}\n`;
        const pin = { name: 'ghcr.io/acme/api', digest: `sha256:${hex}` as const };
        const result = editor.apply(text, API, pin);
        expect(result.text).toBe(`images:\n- name: ghcr.io/acme/api\n  digest: ${pin.digest}\n`);
        expect(result.after).toEqual([pin]);
        expect(editor.apply(result.text, API, pin).changed).toBe(false);
      }),
      { numRuns: 50 },
    );
  });

  it('quotes every tag YAML (1.1 or 1.2) would read as something else, and reads it back as a string', () => {
    const text = `images:\n- name: ghcr.io/acme/api\n  newTag: v1\n  digest: ${OLD}\n`;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.constantFrom('1.10', '1e3', '0777', '1_000', 'yes', 'on', 'true', 'null', '0x1F', '1234567', '0b101'),
          fc.stringMatching(/^[\w][\w.-]{0,20}$/),
        ),
        fc.stringMatching(/^[a-f0-9]{64}$/),
        (tag, hex) => {
          const pin = { name: 'ghcr.io/acme/api', tag, digest: `sha256:${hex}` as const };
          const result = editor.apply(text, API, pin);
          expect(parse(result.text).images[0]).toEqual({ name: 'ghcr.io/acme/api', newTag: tag, digest: pin.digest });
          expect(parse(result.text, { version: '1.1' }).images[0].newTag).toBe(tag);
          expect(result.after).toEqual([pin]);
          // Only the two value lines differ.
          const before = text.split('\n');
          const after = result.text.split('\n');
          expect(after.filter((line, i) => line !== before[i]).length).toBeLessThanOrEqual(2);
          expect(editor.apply(result.text, API, pin).changed).toBe(false);
        },
      ),
    );
  });
});
