import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { helmValuesEditor as editor, parseKeyPath } from '../../../../shared/gitops/editors/helm-values.js';
import type { EditTarget } from '../../../../shared/gitops/types.js';
import { digest, eol, fixture, replaced, VARIANTS } from './support.js';

const OLD = digest('3');
const NEW = digest('c');
const WEB: EditTarget = {
  file: 'charts/values-prod.yaml',
  kind: 'helm-values',
  image: 'ghcr.io/acme/web',
  helm: { digest: 'image.digest', tag: 'image.tag', repository: 'image.repository' },
};

describe.each(VARIANTS)('helm values editor ($name)', (variant) => {
  const original = variant.make(fixture('helm-values.yaml'));

  it('reads digest, tag and repository (with a Bitnami registry key) at the configured paths', () => {
    expect(editor.read(original, WEB)).toEqual([{ name: 'ghcr.io/acme/web', tag: '2.4.0', digest: OLD }]);
    expect(editor.read(original, { ...WEB, helm: { digest: 'image.digest' } })).toEqual([
      { name: 'ghcr.io/acme/web', digest: OLD },
    ]);
  });

  it('writes the digest and the tag (quoted), and nothing else; the merge key and block string stay', () => {
    const result = editor.apply(original, WEB, { name: 'ghcr.io/acme/web', digest: NEW, tag: '2.5' });
    expect(result.text).toBe(
      replaced(original, [
        ['tag: "2.4.0"', 'tag: "2.5"'],
        [`digest: ${OLD}`, `digest: ${NEW}`],
      ]),
    );
    expect(editor.apply(result.text, WEB, { name: 'ghcr.io/acme/web', digest: NEW, tag: '2.5' }).changed).toBe(false);
  });

  it('writes one image key holding repo:tag@digest, keeping its single quotes; repo@digest without a tag', () => {
    const target = { ...WEB, image: 'ghcr.io/acme/proxy', helm: { image: 'sidecar.image' } };
    const tagged = editor.apply(original, target, { name: 'ghcr.io/acme/proxy', digest: NEW, tag: '1.0.1' });
    expect(tagged.text).toBe(
      replaced(original, [[`'ghcr.io/acme/proxy:1.0.0@${digest('4')}'`, `'ghcr.io/acme/proxy:1.0.1@${NEW}'`]]),
    );
    const result = editor.apply(original, target, { name: 'ghcr.io/acme/proxy', digest: NEW });
    expect(result.text).toBe(
      replaced(original, [[`'ghcr.io/acme/proxy:1.0.0@${digest('4')}'`, `'ghcr.io/acme/proxy@${NEW}'`]]),
    );
    expect(result.after).toEqual([{ name: 'ghcr.io/acme/proxy', digest: NEW }]);
  });

  it('empties the tag key beside a digest key when the pin has no tag (quoted, comment kept)', () => {
    const pin = { name: 'ghcr.io/acme/web', digest: NEW };
    const result = editor.apply(original, WEB, pin);
    expect(result.text).toBe(
      replaced(original, [
        ['tag: "2.4.0"           #', 'tag: ""           #'],
        [`digest: ${OLD}`, `digest: ${NEW}`],
      ]),
    );
    expect(parse(result.text).image.tag).toBe('');
    expect(result.after).toEqual([pin]);
    expect(editor.apply(result.text, WEB, pin).changed).toBe(false);
  });

  it('puts tag@digest in the tag where there is no digest key, quoting the tag (a list index in the path)', () => {
    const target = { ...WEB, helm: { tag: 'jobs[0].image.tag' } };
    const result = editor.apply(original, target, { name: 'ghcr.io/acme/web', digest: NEW, tag: 'v2' });
    expect(result.text).toBe(replaced(original, [['tag: v1   #', `tag: "v2@${NEW}"   #`]]));
    expect(editor.read(result.text, target)).toEqual([{ name: 'ghcr.io/acme/web', tag: 'v2', digest: NEW }]);
  });

  it('adds a configured key that is absent, under its parent map', () => {
    const target = { ...WEB, helm: { digest: 'jobs[0].image.digest' } };
    const result = editor.apply(original, target, { name: 'ghcr.io/acme/web', digest: NEW });
    const line = '      tag: v1   # migrations image tag\n';
    expect(result.text).toBe(
      replaced(original, [[eol(original, line), eol(original, `${line}      digest: ${NEW}\n`)]]),
    );
  });
});

describe('helm values editor: refusals', () => {
  const text = fixture('helm-values.yaml');
  const pin = { name: 'ghcr.io/acme/web', digest: NEW };

  it('refuses keys that hold another image', () => {
    expect(() => editor.apply(text, { ...WEB, image: 'ghcr.io/acme/api' }, pin)).toThrow(
      /values-prod\.yaml:12: image\.repository names ghcr\.io\/acme\/web, not this service's image/,
    );
  });

  it('refuses a pin without a tag for a tag key that must hold tag@digest, rather than keep the old tag', () => {
    expect(() => editor.apply(text, { ...WEB, helm: { tag: 'jobs[0].image.tag' } }, pin)).toThrow(
      /^charts\/values-prod\.yaml:22: jobs\[0\]\.image\.tag must hold tag@digest \(no digest key is configured\), and the promotion gives no tag; configure a digest key/,
    );
  });

  it('leaves an absent tag key absent when the pin has no tag', () => {
    const values = `image:\n  repository: ghcr.io/acme/web\n  digest: ${OLD}\n`;
    expect(editor.apply(values, WEB, pin).text).toBe(values.replace(OLD, NEW));
  });

  it('refuses a missing parent and a target without helm paths', () => {
    expect(() => editor.apply(text, { ...WEB, helm: { digest: 'nothing.here.digest' } }, pin)).toThrow(
      /has no nothing\.here\.digest/,
    );
    expect(() => editor.apply(text, { ...WEB, helm: {} }, pin)).toThrow(/at least one of digest, tag, image/);
  });

  it('never edits inside a block string', () => {
    const result = editor.apply(text, { ...WEB, helm: { digest: 'image.digest' } }, pin);
    expect(parse(result.text).config).toBe(parse(text).config);
  });

  it('parses key paths', () => {
    expect(parseKeyPath('images[0].tag')).toEqual(['images', 0, 'tag']);
    expect(() => parseKeyPath('image..tag')).toThrow(/helm key path/);
  });
});
