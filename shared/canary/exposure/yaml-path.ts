import { InvalidValueError } from '../../core/errors.js';
import { ManifestEditError } from '../../gitops/editors/edit-error.js';
import { type Found, type PathKey, showPath, YamlFile } from '../../gitops/editors/yaml-file.js';
import type { ExposureEditor } from './index.js';
import { checkWeight, commitSplices, documentValues, numberSplice, readNumber, withValue } from './splice.js';

// The canary weight as a number at a path the user names (`exposure: canary.weight`, `spec.traffic[0].percent`):
// for Helm values, a service mesh's route weights, or any CR Slipway has no editor for. The path is found in every
// document of the file; exactly one must hold it, so a multi-document file cannot be edited in the wrong place.

const EXPECTED = 'rollout, flagd, or a dotted YAML path to a number, like canary.weight or spec.traffic[0].percent';

/** `a.b[0].c` as keys and indices; an error naming the path otherwise. */
export function parseYamlPath(path: string): PathKey[] {
  const keys: PathKey[] = [];
  for (const part of path.split('.')) {
    const match = /^([^[\]\s]+)?((?:\[\d+\])*)$/.exec(part);
    if (!match || (!match[1] && !match[2]) || (keys.length === 0 && !match[1])) {
      throw new InvalidValueError('exposure', path, EXPECTED, `"${part}" is not a key with optional [index]es`);
    }
    if (match[1]) keys.push(match[1]);
    for (const index of match[2]?.match(/\d+/g) ?? []) keys.push(Number(index));
  }
  return keys;
}

export function yamlPathEditor(path: PathKey[]): ExposureEditor {
  const locate = (yaml: YamlFile): Found => {
    const found = yaml.documents
      .map((_, doc) => yaml.at(yaml.root(doc), path))
      .filter((at): at is Found => at !== undefined && at.node !== null);
    if (found.length === 0) {
      throw new ManifestEditError(yaml.file, undefined, `no number at ${showPath(path)} (the exposure path)`);
    }
    if (found.length > 1) {
      throw new ManifestEditError(
        yaml.file,
        yaml.lineAt(found[1]!.node),
        `${found.length} documents hold ${showPath(path)}; the canary weight must be in exactly one`,
      );
    }
    return found[0]!;
  };
  return {
    kind: 'yaml-path',
    read(text, file) {
      const yaml = YamlFile.parse(file, text);
      return readNumber(yaml, locate(yaml));
    },
    apply(text, file, weight) {
      checkWeight(weight);
      const yaml = YamlFile.parse(file, text);
      const found = locate(yaml);
      if (readNumber(yaml, found) === weight) return text;
      const expected = documentValues(yaml);
      expected[found.doc] = withValue(expected[found.doc], found.path, weight);
      return commitSplices(yaml, [numberSplice(yaml, found, weight)], expected);
    },
  };
}
