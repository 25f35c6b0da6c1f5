import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { manifestEditor as editor } from '../../../../shared/gitops/editors/manifest.js';
import type { EditTarget } from '../../../../shared/gitops/types.js';
import { digest, eol, fixture, replaced, VARIANTS } from './support.js';

const OLD = digest('5');
const NEW = digest('b');
const REPORT: EditTarget = { file: 'envs/prod/report.yaml', kind: 'manifest', image: 'ghcr.io/acme/report' };
const pin = { name: 'ghcr.io/acme/report', digest: NEW, tag: '1.5.0' };

describe.each(VARIANTS)('manifest editor ($name)', (variant) => {
  const original = variant.make(fixture('workloads.yaml'));

  it('reads the pins of every container running the image, in every workload document', () => {
    const pins = editor.read(original, REPORT);
    expect(pins).toHaveLength(4);
    expect(new Set(pins.map((p) => JSON.stringify(p)))).toEqual(
      new Set([JSON.stringify({ name: 'ghcr.io/acme/report', digest: OLD, tag: '1.4.2' })]),
    );
  });

  it('pins initContainers, containers, the CronJob and the Rollout, changing only those values', () => {
    const result = editor.apply(original, REPORT, pin);
    // Every occurrence of the old reference is a container image; the ConfigMap's string is another value.
    const expected = original.split(`ghcr.io/acme/report:1.4.2@${OLD}`).join(`ghcr.io/acme/report:1.5.0@${NEW}`);
    expect(result.text).toBe(expected);
    expect(result.text).toContain('image: ghcr.io/acme/report:0.0.1   # not a container: never touched');
    expect(result.after).toHaveLength(4);
    expect(editor.apply(result.text, REPORT, pin)).toMatchObject({ changed: false, text: result.text });
  });

  it('limits the edit to one container by name', () => {
    const text = replaced(original, [
      [`"ghcr.io/acme/report:1.4.2@${OLD}"`, `"ghcr.io/acme/report:1.4.1@${digest('4')}"`],
    ]);
    expect(() => editor.apply(text, REPORT, pin)).toThrow(
      /report\.yaml:\d+: ghcr\.io\/acme\/report runs with different pins in containers "migrate" \(line \d+\), "report" .*set `container:`/,
    );
    const result = editor.apply(text, { ...REPORT, container: 'report' }, pin);
    // The Rollout's container is named "report" too; the init container and the CronJob's are not.
    const rollout = (ref: string) => eol(text, `        - name: report\n          image: ghcr.io/acme/report:${ref}`);
    expect(result.text).toBe(
      replaced(text, [
        [`"ghcr.io/acme/report:1.4.1@${digest('4')}"`, `"ghcr.io/acme/report:1.5.0@${NEW}"`],
        [rollout(`1.4.2@${OLD}`), rollout(`1.5.0@${NEW}`)],
      ]),
    );
  });

  it('drops the tag without a tag in the pin (name@digest), and pins a Docker Hub image by its familiar name', () => {
    const envoy: EditTarget = { ...REPORT, image: 'envoyproxy/envoy' };
    const result = editor.apply(original, envoy, { name: 'envoyproxy/envoy', digest: NEW });
    expect(result.text).toBe(
      replaced(original, [['image: docker.io/envoyproxy/envoy:v1.30.1', `image: docker.io/envoyproxy/envoy@${NEW}`]]),
    );
    expect(result.after).toEqual([{ name: 'docker.io/envoyproxy/envoy', digest: NEW }]);
  });

  it('replaces tag and digest with the new digest alone in every container, when the pin has no tag', () => {
    const tagless = { name: 'ghcr.io/acme/report', digest: NEW };
    const result = editor.apply(original, REPORT, tagless);
    expect(result.text).toBe(original.split(`ghcr.io/acme/report:1.4.2@${OLD}`).join(`ghcr.io/acme/report@${NEW}`));
    expect(result.after).toEqual(Array(4).fill(tagless));
    expect(editor.apply(result.text, REPORT, tagless)).toMatchObject({ changed: false, text: result.text });
  });
});

describe('manifest editor: refusals', () => {
  it('refuses a file that does not run the image, naming the file', () => {
    expect(() => editor.apply(fixture('workloads.yaml'), { ...REPORT, image: 'ghcr.io/acme/none' }, pin)).toThrow(
      /^envs\/prod\/report\.yaml: no container of a Pod, Deployment, .* runs ghcr\.io\/acme\/none/,
    );
  });

  it('refuses an image behind a shared anchor', () => {
    const text = `kind: Pod\nspec:\n  containers:\n  - name: a\n    image: &img ghcr.io/acme/report:1@${OLD}\n  - name: b\n    image: *img\n`;
    expect(() => editor.apply(text, REPORT, pin)).toThrow(/report\.yaml:7: .*alias|report\.yaml:5: .*anchor &img/);
  });

  it('refuses a Rollout that is not Argo Rollouts, by finding nothing', () => {
    const text = `apiVersion: example.com/v1\nkind: Rollout\nspec:\n  template:\n    spec:\n      containers:\n      - image: ghcr.io/acme/report\n`;
    expect(editor.read(text, REPORT)).toEqual([]);
  });

  it('property: any tag and digest pin every container and nothing else', () => {
    const original = fixture('workloads.yaml');
    fc.assert(
      fc.property(fc.stringMatching(/^\w[\w.-]{0,30}$/), fc.stringMatching(/^[a-f0-9]{64}$/), (tag, hex) => {
        const next = { name: 'ghcr.io/acme/report', tag, digest: `sha256:${hex}` as const };
        const result = editor.apply(original, REPORT, next);
        const images = parseAllDocuments(result.text).flatMap(
          (doc) => JSON.stringify(doc.toJS()).match(/ghcr\.io\/acme\/report[^"]*/g) ?? [],
        );
        expect(
          images
            .filter((image) => image.includes('@'))
            .every((image) => image === `ghcr.io/acme/report:${tag}@sha256:${hex}`),
        ).toBe(true);
        expect(result.text.split('\n').length).toBe(original.split('\n').length);
      }),
      { numRuns: 50 },
    );
  });
});
