import { describe, expect, it } from 'vitest';
import { argocdApplicationEditor, argocdSourceEditor } from '../../../../shared/gitops/editors/argocd.js';
import type { EditTarget } from '../../../../shared/gitops/types.js';
import { digest, fixture, replaced, VARIANTS } from './support.js';

const OLD = digest('7');
const NEW = digest('e');
const API: EditTarget = { file: 'apps/prod.yaml', kind: 'argocd-application', image: 'ghcr.io/acme/api' };
const WEB: EditTarget = {
  file: 'apps/prod.yaml',
  kind: 'argocd-application',
  image: 'ghcr.io/acme/web',
  helm: { digest: 'image.digest', tag: 'image.tag' },
};

describe.each(VARIANTS)('Argo CD Application editor ($name)', (variant) => {
  const original = variant.make(fixture('argocd-application.yaml'));

  it('reads kustomize images and helm parameters', () => {
    expect(argocdApplicationEditor.read(original, API)).toEqual([
      { name: 'ghcr.io/acme/api', tag: '1.4.0', digest: OLD },
    ]);
    expect(argocdApplicationEditor.read(original, WEB)).toEqual([
      { name: 'ghcr.io/acme/web', tag: '2.4.0', digest: digest('8') },
    ]);
  });

  it('rewrites the kustomize.images string, keeping its double quotes', () => {
    const result = argocdApplicationEditor.apply(original, API, {
      name: 'ghcr.io/acme/api',
      digest: NEW,
      tag: '1.5.0',
    });
    expect(result.text).toBe(
      replaced(original, [[`"ghcr.io/acme/api:1.4.0@${OLD}"`, `"ghcr.io/acme/api:1.5.0@${NEW}"`]]),
    );
    expect(
      argocdApplicationEditor.apply(result.text, API, { name: 'ghcr.io/acme/api', digest: NEW, tag: '1.5.0' }).changed,
    ).toBe(false);
  });

  it('keeps the alias of an aliased image; without a tag in the pin, the string is name@digest', () => {
    const proxy = { ...API, image: 'ghcr.io/acme/proxy' };
    const result = argocdApplicationEditor.apply(original, proxy, { name: 'ghcr.io/acme/proxy', digest: NEW });
    expect(result.text).toBe(
      replaced(original, [['proxy=ghcr.io/acme/proxy:1.0.0', `proxy=ghcr.io/acme/proxy@${NEW}`]]),
    );
    const tagged = argocdApplicationEditor.apply(original, proxy, { name: 'x', digest: NEW, tag: '1.0.1' });
    expect(tagged.text).toBe(
      replaced(original, [['proxy=ghcr.io/acme/proxy:1.0.0', `proxy=ghcr.io/acme/proxy:1.0.1@${NEW}`]]),
    );
  });

  it('drops the old tag from a tag@digest string when the pin has none, keeping the quotes', () => {
    const pin = { name: 'ghcr.io/acme/api', digest: NEW };
    const result = argocdApplicationEditor.apply(original, API, pin);
    expect(result.text).toBe(replaced(original, [[`"ghcr.io/acme/api:1.4.0@${OLD}"`, `"ghcr.io/acme/api@${NEW}"`]]));
    expect(result.after).toEqual([pin]);
    expect(argocdApplicationEditor.apply(result.text, API, pin).changed).toBe(false);
  });

  it('empties the helm tag parameter when the pin has no tag', () => {
    const pin = { name: 'ghcr.io/acme/web', digest: NEW };
    const result = argocdApplicationEditor.apply(original, WEB, pin);
    expect(result.text).toBe(
      replaced(original, [
        ['value: "2.4.0"', 'value: ""'],
        [`value: ${digest('8')}`, `value: ${NEW}`],
      ]),
    );
    expect(result.after).toEqual([pin]);
    expect(argocdApplicationEditor.apply(result.text, WEB, pin).changed).toBe(false);
  });

  it('sets helm parameter values in spec.sources[i], the tag quoted', () => {
    const result = argocdApplicationEditor.apply(original, WEB, { name: 'ghcr.io/acme/web', digest: NEW, tag: '3' });
    expect(result.text).toBe(
      replaced(original, [
        ['value: "2.4.0"', 'value: "3"'],
        [`value: ${digest('8')}`, `value: ${NEW}`],
      ]),
    );
  });
});

describe('Argo CD editors: selection and refusals', () => {
  const original = fixture('argocd-application.yaml');

  it('limits to one application by name', () => {
    expect(argocdApplicationEditor.read(original, { ...API, application: 'web-prod' })).toEqual([]);
    expect(() =>
      argocdApplicationEditor.apply(original, { ...API, application: 'web-prod' }, { name: 'x', digest: NEW }),
    ).toThrow(
      /apps\/prod\.yaml: no kustomize\.images entry for ghcr\.io\/acme\/api in web-prod spec\.sources\[0\], web-prod spec\.sources\[1\]/,
    );
  });

  it('refuses to add a helm parameter that is not there', () => {
    const target = { ...WEB, helm: { digest: 'image.digest', tag: 'image.version' } };
    expect(() => argocdApplicationEditor.apply(original, target, { name: 'x', digest: NEW, tag: '3' })).toThrow(
      /web-prod spec\.sources\[0\] has no helm parameter image\.version/,
    );
  });

  it('edits .argocd-source-<app>.yaml images and parameters together', () => {
    for (const variant of VARIANTS) {
      const text = variant.make(fixture('.argocd-source-api-prod.yaml'));
      const target: EditTarget = {
        file: 'envs/prod/.argocd-source-api-prod.yaml',
        kind: 'argocd-source',
        image: 'ghcr.io/acme/api',
        helm: { digest: 'image.digest' },
      };
      expect(argocdSourceEditor.read(text, target)).toHaveLength(2);
      const result = argocdSourceEditor.apply(text, target, { name: 'ghcr.io/acme/api', digest: NEW, tag: '1.4.0' });
      expect(result.text).toBe(text.replaceAll(OLD, NEW));
      expect(result.after).toEqual([
        { name: 'ghcr.io/acme/api', tag: '1.4.0', digest: NEW },
        { name: 'ghcr.io/acme/api', digest: NEW },
      ]);
      const tagless = argocdSourceEditor.apply(text, target, { name: 'ghcr.io/acme/api', digest: NEW });
      expect(tagless.text).toBe(text.replace(`api:1.4.0@${OLD}`, `api@${NEW}`).replace(OLD, NEW));
      expect(tagless.after).toEqual([
        { name: 'ghcr.io/acme/api', digest: NEW },
        { name: 'ghcr.io/acme/api', digest: NEW },
      ]);
    }
  });
});
