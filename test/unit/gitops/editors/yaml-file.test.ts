import { describe, expect, it } from 'vitest';
import { type PathKey, renderScalar, retypes, YamlFile } from '../../../../shared/gitops/editors/yaml-file.js';

describe('YamlFile edits', () => {
  it('keeps quote styles and double-quotes a plain value that would re-type', () => {
    const text = 'a: v1\nb: \'v1\'\nc: "v1"\nd: v1 # note\n';
    const yaml = YamlFile.parse('f.yaml', text);
    const plan = yaml.edit();
    const root = yaml.root(0);
    plan.set(yaml.child(root, 'a')!, 'v2');
    plan.set(yaml.child(root, 'b')!, '1.10');
    plan.set(yaml.child(root, 'c')!, 'v2');
    plan.set(yaml.child(root, 'd')!, '1e3');
    expect(plan.commit().text).toBe('a: v2\nb: \'1.10\'\nc: "v2"\nd: "1e3" # note\n');
  });

  it('refuses to write when re-reading shows a change it did not intend', () => {
    const yaml = YamlFile.parse('f.yaml', 'a:\n  b: 1\n');
    const plan = yaml.edit();
    // Claims to add c: "x" but writes c: y: a verification failure, not a silent write.
    plan.insertLines(yaml.child(yaml.root(0), 'a')!, 'map', ['c: y'], ['a', 'c'], 'x');
    expect(() => plan.commit()).toThrow(
      /^f\.yaml: refusing to write: re-reading the edited file shows changes beyond the intended ones, at a\.c$/,
    );
  });

  it('removes a key as its whole line, keeping the BOM, comments around it and the missing final newline', () => {
    const remove = (text: string, path: PathKey[], key: string) => {
      const yaml = YamlFile.parse('f.yaml', text);
      const plan = yaml.edit();
      plan.removePair(yaml.at(yaml.root(0), path)!, key);
      return plan.commit();
    };
    expect(remove('\uFEFFa: 1 # gone\r\n# stays\r\nb: 2', [], 'a').text).toBe('\uFEFF# stays\r\nb: 2');
    expect(remove('a: 1\r\n# stays\r\nb: 2 # gone', [], 'b').text).toBe('a: 1\r\n# stays');
    expect(remove('l:\n  - a: 1 # gone\n    b: 2\n', ['l', 0], 'a').text).toBe('l:\n  - b: 2\n');
    expect(remove('m: {a: 1, b: 2, c: 3}\n', ['m'], 'c').text).toBe('m: {a: 1, b: 2}\n');
    expect(remove('m: {a: 1, b: 2}\n', ['m'], 'x')).toEqual({ text: 'm: {a: 1, b: 2}\n', changed: false });
  });

  it('refuses a removal that would lose more than the key: a comment, a whole map, an anchor in use', () => {
    const remove = (text: string, key: string) => {
      const yaml = YamlFile.parse('f.yaml', text);
      const plan = yaml.edit();
      plan.removePair(yaml.child(yaml.root(0), 'm')!, key);
      return plan.commit();
    };
    expect(() => remove('m: {a: 1, # note\n  b: 2}\n', 'a')).toThrow(/^f\.yaml:1: m\.a has a comment beside it/);
    expect(() => remove('m:\n  a: |\n    x\n  b: 2\n', 'a')).toThrow(/^f\.yaml:2: m\.a is not a plain or quoted value/);
    expect(() => remove('m:\n  ? a\n  : 1\n  b: 2\n', 'a')).toThrow(/^f\.yaml:2: m\.a shares its line/);
    expect(() => remove('m:\n  a: 1\n', 'a')).toThrow(/^f\.yaml:2: m\.a is the only key of its mapping/);
    expect(() => remove('m:\n  a: &x 1\n  b: 2\nn: *x\n', 'a')).toThrow(/^f\.yaml:2: m\.a defines anchor &x/);
  });

  it('names lines in CRLF files with a BOM', () => {
    const yaml = YamlFile.parse('f.yaml', '\uFEFFa: 1\r\nb: 2\r\n');
    expect(yaml.lineAt(yaml.child(yaml.root(0), 'b')?.node)).toBe(2);
    expect(() => YamlFile.parse('g.yaml', '\uFEFFa: 1\r\nb: &x 1\r\nc: *y\r\n')).toThrow(
      /^g\.yaml:3: not valid YAML: alias \*y has no anchor &y before it$/,
    );
  });

  it('knows which plain strings YAML 1.2 or 1.1 would read as something else', () => {
    for (const value of [
      '1.10',
      '1e3',
      '0777',
      '0o17',
      'yes',
      'No',
      'on',
      'null',
      '~',
      'true',
      '0x1f',
      '1_000',
      '12345678',
      '.inf',
    ])
      expect(retypes(value), value).toBe(true);
    for (const value of ['v1.2.3', 'latest', 'sha256:abc', '1.2.3', 'main-4f2a9c1', 'ghcr.io/acme/api:1@sha256:ab'])
      expect(retypes(value), value).toBe(false);
    expect(renderScalar('1.10')).toBe('"1.10"');
    expect(renderScalar('v1', 'string')).toBe('"v1"');
    expect(renderScalar('v1')).toBe('v1');
  });
});
