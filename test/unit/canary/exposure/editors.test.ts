import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { exposureEditor } from '../../../../shared/canary/exposure/index.js';
import { ConfigurationError, InvalidValueError } from '../../../../shared/core/errors.js';
import { ManifestEditError } from '../../../../shared/gitops/editors/edit-error.js';

// The exposure editors on real file shapes: flagd's flags.json (the reference note's example), flagd YAML, an
// OpenFeature Operator FeatureFlag CR, an Argo Rollout, and a YAML path. Every flag file written is validated
// against flagd's own JSON schema (test/fixtures/flagd, copied from open-feature/flagd).

const fixtures = join(import.meta.dirname, '../../../fixtures/flagd');
const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addSchema(JSON.parse(readFileSync(join(fixtures, 'targeting.json'), 'utf8')));
const validateFlags = ajv.compile(JSON.parse(readFileSync(join(fixtures, 'flags.json'), 'utf8')));
const expectValidFlagd = (value: unknown) => {
  expect(validateFlags(value), JSON.stringify(validateFlags.errors?.slice(0, 3))).toBe(true);
};

const flagsJson = `{
  "$schema": "https://flagd.dev/schema/v0/flags.json",
  "metadata": { "flagSetId": "checkout", "version": "slipway-3" },
  "flags": {
    "new-checkout": {
      "state": "ENABLED",
      "variants": { "on": true, "off": false },
      "defaultVariant": "off",
      "metadata": { "stage": "dark" }
    },
    "other": {
      "state": "ENABLED",
      "variants": { "a": "x", "b": "y" },
      "defaultVariant": "a"
    }
  },
  "$evaluators": {
    "internalUsers": { "ends_with": [ { "var": "email" }, "@acme.com" ] }
  }
}
`;

const flagd = exposureEditor('flagd', { flag: 'new-checkout' });

describe('flagd editor, flags.json', () => {
  it('reads 0 from a flag that is off by default, and walks 1, 5, 25, 100 and back to 0', () => {
    expect(flagd.read(flagsJson, 'flags.json')).toBe(0);
    let text = flagsJson;
    for (const weight of [1, 5, 25, 100, 0]) {
      text = flagd.apply(text, 'flags.json', weight);
      expect(flagd.read(text, 'flags.json')).toBe(weight);
      const value = JSON.parse(text);
      expectValidFlagd(value);
      // The other flag, the metadata and the evaluators are untouched.
      expect(value.flags.other).toEqual(JSON.parse(flagsJson).flags.other);
      expect(value.$evaluators).toEqual(JSON.parse(flagsJson).$evaluators);
      expect(value.flags['new-checkout'].metadata).toEqual({ stage: 'dark' });
      // Applying twice changes nothing.
      expect(flagd.apply(text, 'flags.json', weight)).toBe(text);
    }
  });

  it('at 5: the internal rule (the evaluator the file has) first, then 5 of 100 on', () => {
    const text = flagd.apply(flagsJson, 'flags.json', 5);
    const flag = JSON.parse(text).flags['new-checkout'];
    expect(flag).toMatchObject({ state: 'ENABLED', defaultVariant: 'off' });
    expect(flag.targeting).toEqual({
      if: [
        { $ref: 'internalUsers' },
        'on',
        {
          fractional: [
            ['on', 5],
            ['off', 95],
          ],
        },
      ],
    });
    // One added line, in the file's indentation; everything else byte for byte.
    expect(text).toContain(
      '      "metadata": { "stage": "dark" },\n      "targeting": {"if": [{"$ref": "internalUsers"}, "on", {"fractional": [["on", 5], ["off", 95]]}]}\n    },',
    );
    expect(text.replace(/,\n {6}"targeting": .*\n/, '\n')).toBe(flagsJson);
    // From 5 to 25 only the numbers change.
    const next = flagd.apply(text, 'flags.json', 25);
    expect(next).toBe(text.replace('["on", 5], ["off", 95]', '["on", 25], ["off", 75]'));
  });

  it('at 100: defaultVariant on, no targeting; at 0 the flag is off for everyone', () => {
    const at5 = flagd.apply(flagsJson, 'flags.json', 5);
    const full = JSON.parse(flagd.apply(at5, 'flags.json', 100)).flags['new-checkout'];
    expect(full).toEqual({ ...JSON.parse(flagsJson).flags['new-checkout'], defaultVariant: 'on' });
    expect(flagd.apply(at5, 'flags.json', 0)).toBe(flagsJson);
  });

  it('keeps an inline internal rule and a bucketing expression the file already has', () => {
    const custom = flagsJson.replace(
      '"defaultVariant": "off",\n      "metadata"',
      '"defaultVariant": "off",\n      "targeting": { "if": [ { "in": ["@acme.com", { "var": "email" }] }, "on", { "fractional": [ { "var": "userId" }, ["on", 1], ["off", 99] ] } ] },\n      "metadata"',
    );
    expect(flagd.read(custom, 'flags.json')).toBe(1);
    const flag = JSON.parse(flagd.apply(custom, 'flags.json', 25)).flags['new-checkout'];
    expect(flag.targeting).toEqual({
      if: [{ in: ['@acme.com', { var: 'email' }] }, 'on', { fractional: [{ var: 'userId' }, ['on', 25], ['off', 75]] }],
    });
  });

  it('without an internal rule in the file, uses the `internal` context attribute', () => {
    const bare = flagsJson.replace('"internalUsers"', '"staff"');
    const flag = JSON.parse(flagd.apply(bare, 'flags.json', 1)).flags['new-checkout'];
    expect(flag.targeting.if[0]).toEqual({ '==': [{ var: 'internal' }, true] });
  });

  it('reads a disabled flag as 0 and turns it on with state ENABLED', () => {
    const disabled = flagsJson.replace(
      '"state": "ENABLED",\n      "variants": { "on"',
      '"state": "DISABLED",\n      "variants": { "on"',
    );
    expect(flagd.read(disabled, 'flags.json')).toBe(0);
    expect(JSON.parse(flagd.apply(disabled, 'flags.json', 5)).flags['new-checkout'].state).toBe('ENABLED');
  });

  it('refuses targeting it does not manage for a partial weight, but always applies 0 (rollback)', () => {
    const foreign = flagsJson.replace(
      '"defaultVariant": "off",\n      "metadata"',
      '"defaultVariant": "off",\n      "targeting": { "if": [ { "var": "beta" }, "off", "on" ] },\n      "metadata"',
    );
    expect(() => flagd.apply(foreign, 'flags.json', 5)).toThrow(
      /flags\.json:\d+: flag "new-checkout" has targeting Slipway does not manage/,
    );
    expect(JSON.parse(flagd.apply(foreign, 'flags.json', 0)).flags['new-checkout'].targeting).toBeUndefined();
  });

  it('names the file and the flag looked for, and the flags the file has', () => {
    const editor = exposureEditor('flagd', { flag: 'checkout-v2' });
    expect(() => editor.read(flagsJson, 'flags.json')).toThrow(ManifestEditError);
    expect(() => editor.read(flagsJson, 'flags.json')).toThrow(
      'flags.json: no flagd flag "checkout-v2" (looked under flags and spec.flagSpec.flags; the file has "new-checkout", "other")',
    );
    const other = exposureEditor('flagd', { flag: 'other' });
    expect(() => other.read(flagsJson, 'flags.json')).toThrow(/needs an "on" variant/);
    expect(() => flagd.apply(flagsJson, 'flags.json', 2.5)).toThrow(InvalidValueError);
    expect(() => flagd.apply(flagsJson, 'flags.json', 120)).toThrow(/a percent from 0 to 100/);
  });

  it('edits the daemon array form', () => {
    const array = `{"flags": [{"key": "new-checkout", "state": "ENABLED", "variants": {"true": true, "false": false}, "defaultVariant": "false"}]}\n`;
    const text = flagd.apply(array, 'flags.json', 5);
    expect(JSON.parse(text).flags[0]).toMatchObject({
      key: 'new-checkout',
      targeting: {
        if: [
          { '==': [{ var: 'internal' }, true] },
          'true',
          {
            fractional: [
              ['true', 5],
              ['false', 95],
            ],
          },
        ],
      },
    });
    expect(flagd.read(text, 'flags.json')).toBe(5);
  });
});

const flagsYaml = `# Flags of the checkout service.
flags:
  new-checkout:
    state: ENABLED
    variants:
      "on": true
      "off": false
    defaultVariant: "off" # dark launch
    targeting:
      if:
        - ends_with: [{ var: email }, "@acme.com"]
        - "on"
        - null
  other:
    state: ENABLED # untouched
    variants: { a: 1 }
    defaultVariant: a
`;

const featureFlag = `apiVersion: core.openfeature.dev/v1beta1
kind: FeatureFlag
metadata:
  name: checkout
  # owned by the checkout team
spec:
  flagSpec:
    flags:
      new-checkout:
        state: ENABLED
        variants:
          "on": true
          "off": false
        defaultVariant: "off"
---
apiVersion: v1
kind: ConfigMap
metadata: { name: unrelated }
`;

describe('flagd editor, YAML and the FeatureFlag CR', () => {
  it('edits a flow-style flag, a file without a final newline, and a CRLF JSON file', () => {
    const flow =
      'flags:\n  new-checkout: { state: ENABLED, variants: { "on": true, "off": false }, defaultVariant: "off" }\n';
    let text = flow;
    for (const weight of [5, 100, 0]) {
      text = flagd.apply(text, 'flags.yaml', weight);
      expect(flagd.read(text, 'flags.yaml')).toBe(weight);
      expectValidFlagd(parseYaml(text, { version: '1.1' }));
    }
    expect(text).toBe(flow);
    const unterminated = flagsYaml.replace(/\n {2}other:[\s\S]*$/, '');
    const at25 = flagd.apply(unterminated, 'flags.yaml', 25);
    expect(flagd.read(at25, 'flags.yaml')).toBe(25);
    const off = flagd.apply(at25, 'flags.yaml', 0);
    expect(off.endsWith('\n')).toBe(false);
    expect(parseYaml(off).flags['new-checkout'].targeting).toBeUndefined();
    const crlf = flagsJson.replace(/\n/g, '\r\n');
    const at5 = flagd.apply(crlf, 'flags.json', 5);
    expect(at5.replace(/\r\n/g, '')).not.toContain('\n');
    expect(flagd.apply(at5, 'flags.json', 0)).toBe(crlf);
  });

  it('flagd YAML: keeps the inline internal rule and every comment, and writes "on"/"off" quoted', () => {
    expect(flagd.read(flagsYaml, 'flags.yaml')).toBe(0);
    const text = flagd.apply(flagsYaml, 'flags.yaml', 5);
    const value = parseYaml(text, { version: '1.1' });
    expectValidFlagd(value);
    expect(value.flags['new-checkout'].targeting).toEqual({
      if: [
        { ends_with: [{ var: 'email' }, '@acme.com'] },
        'on',
        {
          fractional: [
            ['on', 5],
            ['off', 95],
          ],
        },
      ],
    });
    for (const comment of ['# Flags of the checkout service.', '# dark launch', '# untouched']) {
      expect(text).toContain(comment);
    }
    expect(flagd.read(text, 'flags.yaml')).toBe(5);
    const full = flagd.apply(text, 'flags.yaml', 100);
    expect(full).toContain('defaultVariant: "on" # dark launch');
    expect(full).not.toContain('targeting');
    expect(parseYaml(full, { version: '1.1' }).flags['new-checkout'].defaultVariant).toBe('on');
    expect(flagd.read(flagd.apply(full, 'flags.yaml', 0), 'flags.yaml')).toBe(0);
  });

  it('FeatureFlag CR: edits spec.flagSpec.flags, leaves the other document alone', () => {
    let text = featureFlag;
    for (const weight of [1, 5, 25, 100, 0]) {
      text = flagd.apply(text, 'featureflag.yaml', weight);
      expect(flagd.read(text, 'featureflag.yaml')).toBe(weight);
      const [cr, other] = parseAllDocuments(text, { version: '1.1' }).map((doc) => doc.toJS());
      expectValidFlagd(cr.spec.flagSpec);
      expect(other).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'unrelated' } });
    }
    expect(text).toBe(featureFlag);
    expect(flagd.apply(featureFlag, 'featureflag.yaml', 25)).toContain(
      '        defaultVariant: "off"\n        targeting: {"if": [{"==": [{"var": "internal"}, true]}, "on", {"fractional": [["on", 25], ["off", 75]]}]}\n---',
    );
  });
});

const rolloutYaml = `apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: api
spec:
  replicas: 10
  strategy:
    canary:
      canaryService: api-canary # routed by the mesh
      steps: # managed by Slipway
        - setWeight: 0
        - pause: {}
      trafficRouting:
        istio: { virtualService: { name: api } }
`;

describe('rollout editor', () => {
  const rollout = exposureEditor('rollout', { flag: 'api' });

  it('moves the one setWeight and keeps the pause: the number is the only change', () => {
    expect(rollout.read(rolloutYaml, 'rollout.yaml')).toBe(0);
    const at5 = rollout.apply(rolloutYaml, 'rollout.yaml', 5);
    expect(at5).toBe(rolloutYaml.replace('setWeight: 0', 'setWeight: 5'));
    expect(rollout.read(at5, 'rollout.yaml')).toBe(5);
  });

  it('at 100 the list is one setWeight, so Argo completes it; back below 100 the pause returns', () => {
    const full = rollout.apply(rolloutYaml, 'rollout.yaml', 100);
    expect(parseYaml(full).spec.strategy.canary.steps).toEqual([{ setWeight: 100 }]);
    expect(full).toContain('      steps: # managed by Slipway\n        - setWeight: 100\n      trafficRouting:');
    expect(rollout.read(full, 'rollout.yaml')).toBe(100);
    const back = rollout.apply(full, 'rollout.yaml', 0);
    expect(back).toBe(rolloutYaml);
  });

  it("replaces a user's setWeight/pause list, and refuses one with analysis steps", () => {
    const user = rolloutYaml.replace(
      '        - setWeight: 0\n        - pause: {}\n',
      '        - setWeight: 20\n        - pause: { duration: 10m }\n        - setWeight: 50\n        - pause: {}\n',
    );
    expect(rollout.read(user, 'rollout.yaml')).toBe(50);
    expect(parseYaml(rollout.apply(user, 'rollout.yaml', 1)).spec.strategy.canary.steps).toEqual([
      { setWeight: 1 },
      { pause: {} },
    ]);
    const analysis = user.replace('- pause: {}', '- analysis: { templates: [{ templateName: rate }] }');
    expect(() => rollout.apply(analysis, 'rollout.yaml', 5)).toThrow(
      /rollout\.yaml:\d+: the canary steps of Rollout api hold analysis, which Slipway would drop/,
    );
  });

  it('adds steps to a canary without them, and names a file without a canary Rollout', () => {
    const noSteps = rolloutYaml.replace(
      '      steps: # managed by Slipway\n        - setWeight: 0\n        - pause: {}\n',
      '',
    );
    expect(rollout.read(noSteps, 'rollout.yaml')).toBe(100);
    const text = rollout.apply(noSteps, 'rollout.yaml', 5);
    expect(parseYaml(text).spec.strategy.canary.steps).toEqual([{ setWeight: 5 }, { pause: {} }]);
    expect(() => rollout.read('apiVersion: apps/v1\nkind: Deployment\n', 'deploy.yaml')).toThrow(
      'deploy.yaml: no Argo Rollouts Rollout (apiVersion argoproj.io/v1alpha1, kind Rollout) to set the canary weight in',
    );
    const blueGreen = rolloutYaml.replace(/ {4}canary:[\s\S]*$/, '    blueGreen: { activeService: api }\n');
    expect(() => rollout.read(blueGreen, 'rollout.yaml')).toThrow(/Rollout api has no spec.strategy.canary/);
  });
});

describe('yaml-path editor', () => {
  const values = `# Helm values
canary:
  weight: 0 # percent of traffic
  enabled: true
routes:
  - name: stable
    percent: 100
  - name: canary
    percent: 0
`;

  it('sets the number at a dotted path, and only that', () => {
    const editor = exposureEditor('canary.weight', { flag: 'api' });
    expect(editor.kind).toBe('yaml-path');
    const text = editor.apply(values, 'values.yaml', 25);
    expect(text).toBe(values.replace('weight: 0 #', 'weight: 25 #'));
    expect(editor.read(text, 'values.yaml')).toBe(25);
    expect(editor.apply(text, 'values.yaml', 25)).toBe(text);
    const indexed = exposureEditor('routes[1].percent', { flag: 'api' });
    expect(indexed.read(values, 'values.yaml')).toBe(0);
    expect(indexed.apply(values, 'values.yaml', 0.5)).toBe(values.replace('percent: 0\n', 'percent: 0.5\n'));
  });

  it('names the file and the path, and refuses what is not a number', () => {
    expect(() => exposureEditor('canary.percent', { flag: 'api' }).read(values, 'values.yaml')).toThrow(
      'values.yaml: no number at canary.percent (the exposure path)',
    );
    expect(() => exposureEditor('canary.enabled', { flag: 'api' }).apply(values, 'values.yaml', 5)).toThrow(
      /values\.yaml:4: canary\.enabled holds true, not a number/,
    );
    expect(() => exposureEditor('canary..weight', { flag: 'api' })).toThrow(ConfigurationError);
    expect(() => exposureEditor('[0].x', { flag: 'api' })).toThrow(/Input 'exposure' is "\[0\]\.x"/);
  });
});
