import { SlipwayError } from '../../core/errors.js';

// A manifest the editors will not touch, or cannot find the image in. The message names the file and, where one
// place is to blame, its line, because the user fixes it there: a YAML error, a value shared through an anchor,
// two containers with the same image but different pins.

export class ManifestEditError extends SlipwayError {
  override name = 'ManifestEditError';
  constructor(
    readonly file: string,
    /** 1-based; undefined when the problem is the file as a whole. */
    readonly line: number | undefined,
    readonly detail: string,
  ) {
    super(`${file}${line === undefined ? '' : `:${line}`}: ${detail}`);
  }
}
