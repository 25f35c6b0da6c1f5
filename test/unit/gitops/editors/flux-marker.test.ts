import { describe, expect, it } from 'vitest';
import { fluxMarkerEditor as editor } from '../../../../shared/gitops/editors/flux-marker.js';
import type { EditTarget } from '../../../../shared/gitops/types.js';
import { digest, fixture, replaced, VARIANTS } from './support.js';

const OLD = digest('6');
const NEW = digest('d');
const WEB: EditTarget = { file: 'apps/web.yaml', kind: 'flux-marker', image: 'ghcr.io/acme/web' };
const MARK = (field: string) => `# {"$imagepolicy": "flux-system:web:${field}"}`;

describe.each(VARIANTS)('flux marker editor ($name)', (variant) => {
  const original = variant.make(fixture('flux-helmrelease.yaml'));

  it('reads the split fields of the policy whose :name is the image, and whole references', () => {
    expect(editor.read(original, WEB)).toEqual([
      { name: 'ghcr.io/acme/web', tag: '2.4.0', digest: OLD },
      { name: 'ghcr.io/acme/web', tag: '2.4.0', digest: OLD },
    ]);
    expect(editor.read(original, { ...WEB, image: 'ghcr.io/acme/proxy' })).toEqual([]);
  });

  it('changes the marked values only, keeping every marker byte for byte', () => {
    const pin = { name: 'ghcr.io/acme/web', digest: NEW, tag: '2.5.0' };
    const result = editor.apply(original, WEB, pin);
    expect(result.text).toBe(
      replaced(original, [
        [`tag: "2.4.0" ${MARK('tag')}`, `tag: "2.5.0" ${MARK('tag')}`],
        [`digest: ${OLD} ${MARK('digest')}`, `digest: ${NEW} ${MARK('digest')}`],
        [
          `web:2.4.0@${OLD} # {"$imagepolicy": "flux-system:web-worker"}`,
          `web:2.5.0@${NEW} # {"$imagepolicy": "flux-system:web-worker"}`,
        ],
      ]),
    );
    expect(editor.apply(result.text, WEB, pin).changed).toBe(false);
  });

  it('adds a digest to a whole-reference marker that had none; without a tag in the pin, name@digest', () => {
    const proxy = { ...WEB, image: 'ghcr.io/acme/proxy' };
    const result = editor.apply(original, proxy, { name: 'ghcr.io/acme/proxy', digest: NEW });
    expect(result.text).toBe(
      replaced(original, [['image: ghcr.io/acme/proxy:1.0.0 #', `image: ghcr.io/acme/proxy@${NEW} #`]]),
    );
    const tagged = editor.apply(original, proxy, { name: 'ghcr.io/acme/proxy', digest: NEW, tag: '1.0.0' });
    expect(tagged.text).toBe(
      replaced(original, [['image: ghcr.io/acme/proxy:1.0.0 #', `image: ghcr.io/acme/proxy:1.0.0@${NEW} #`]]),
    );
  });

  it('without a tag in the pin: empties the :tag field beside a :digest field, drops the tag of a whole reference', () => {
    const pin = { name: 'ghcr.io/acme/web', digest: NEW };
    const result = editor.apply(original, WEB, pin);
    expect(result.text).toBe(
      replaced(original, [
        [`tag: "2.4.0" ${MARK('tag')}`, `tag: "" ${MARK('tag')}`],
        [`digest: ${OLD} ${MARK('digest')}`, `digest: ${NEW} ${MARK('digest')}`],
        [
          `web:2.4.0@${OLD} # {"$imagepolicy": "flux-system:web-worker"}`,
          `web@${NEW} # {"$imagepolicy": "flux-system:web-worker"}`,
        ],
      ]),
    );
    expect(result.after).toEqual([pin, pin]);
    expect(editor.apply(result.text, WEB, pin).changed).toBe(false);
  });
});

describe('flux marker editor: refusals and tag@digest', () => {
  it('writes tag@digest into a :tag field when the policy has no :digest field', () => {
    const text = `image:\n  repository: ghcr.io/acme/web # {"$imagepolicy": "ns:web:name"}\n  tag: "2.4.0" # {"$imagepolicy": "ns:web:tag"}\n`;
    const result = editor.apply(text, WEB, { name: 'ghcr.io/acme/web', digest: NEW, tag: '2.5.0' });
    expect(result.text).toBe(text.replace('"2.4.0"', `"2.5.0@${NEW}"`));
    expect(result.after).toEqual([{ name: 'ghcr.io/acme/web', tag: '2.5.0', digest: NEW }]);
  });

  it('refuses a pin without a tag for a :tag field that must hold tag@digest, rather than keep the old tag', () => {
    const text = `image:\n  repository: ghcr.io/acme/web # {"$imagepolicy": "ns:web:name"}\n  tag: "2.4.0" # {"$imagepolicy": "ns:web:tag"}\n`;
    expect(() => editor.apply(text, WEB, { name: 'ghcr.io/acme/web', digest: NEW })).toThrow(
      /^apps\/web\.yaml:3: policy ns:web has no :digest field, so its :tag field must hold tag@digest, and the promotion gives no tag/,
    );
  });

  it('asks for a :name marker when only tag fields are marked', () => {
    const text = `tag: "2.4.0" # {"$imagepolicy": "ns:web:tag"}\n`;
    expect(() => editor.apply(text, WEB, { name: 'ghcr.io/acme/web', digest: NEW })).toThrow(
      /apps\/web\.yaml: no \$imagepolicy marker here names ghcr\.io\/acme\/web; policies ns:web mark only tag or digest fields/,
    );
  });

  it('refuses two policies that pin the image differently', () => {
    const text = `a: ghcr.io/acme/web:1 # {"$imagepolicy": "ns:a"}\nb: ghcr.io/acme/web:2 # {"$imagepolicy": "ns:b"}\n`;
    expect(() => editor.apply(text, WEB, { name: 'ghcr.io/acme/web', digest: NEW })).toThrow(/:2: policies ns:a, ns:b/);
  });
});
