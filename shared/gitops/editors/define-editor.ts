import type { EditorKind, EditResult, EditTarget, ImagePin, ManifestEditor } from '../types.js';
import { checkPin, targetName } from './image-text.js';
import { type EditPlan, YamlFile } from './yaml-file.js';

// What every editor shares: parse once, validate the pin and the target's image, plan the edits, commit them
// (verified in yaml-file.ts), and report the pins before and after from the same reader the planner uses.

export interface EditorParts {
  kind: EditorKind;
  /** The pins the file holds for the (normalised) image. */
  read(yaml: YamlFile, target: EditTarget, image: string): ImagePin[];
  /** Plans the edits that pin `pin`; throws ManifestEditError where the file does not name the image or is ambiguous. */
  plan(yaml: YamlFile, plan: EditPlan, target: EditTarget, image: string, pin: ImagePin): void;
}

export function defineEditor(parts: EditorParts): ManifestEditor {
  const read = (text: string, target: EditTarget): ImagePin[] =>
    parts.read(YamlFile.parse(target.file, text), target, targetName(target.image));
  return {
    kind: parts.kind,
    read,
    apply(text: string, target: EditTarget, pin: ImagePin): EditResult {
      checkPin(pin);
      const image = targetName(target.image);
      const yaml = YamlFile.parse(target.file, text);
      const before = parts.read(yaml, target, image);
      const plan = yaml.edit();
      parts.plan(yaml, plan, target, image, pin);
      const result = plan.commit();
      const after = result.changed ? read(result.text, target) : before;
      return { text: result.text, changed: result.changed, before, after };
    },
  };
}
