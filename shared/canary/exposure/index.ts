import { ConfigurationError, InvalidValueError } from '../../core/errors.js';
import type { PromotionResult } from '../../records/promotion.js';
import type { ExposureSegment } from '../evaluate.js';
import { flagdEditor } from './flagd.js';
import { rolloutEditor } from './rollout.js';
import { parseYamlPath, yamlPathEditor } from './yaml-path.js';

// Exposure is how much of the traffic the canary gets, kept apart from which digest is deployed (deployment is not
// release). An editor turns a weight into text of one file (a flagd flag, an Argo Rollout, a number at a YAML path)
// and back; a store holds the weight over time: as commits in the GitOps repository (gitops-store.ts), or in memory
// when there is none (memory-store.ts). The canary's run loop sees only these two interfaces.

export type { ExposureSegment };

export type ExposureKind = 'rollout' | 'flagd' | 'yaml-path';

export interface ExposureEditor {
  kind: ExposureKind;
  /** The weight (percent of traffic) the file gives the canary now; 0 = off / not started. */
  read(text: string, file: string): number;
  /**
   * The file with the canary at `weight`: 0 = off for everyone (flagd: the flag off), 100 = everyone. Only what
   * the weight needs changes: comments and formatting elsewhere are the original's; applying twice changes nothing.
   */
  apply(text: string, file: string, weight: number): string;
}

export interface ExposureState {
  /** The weight now. */
  weight: number;
  /** Periods of constant weight since `since`, oldest first; the last one is open (no end). */
  segments: ExposureSegment[];
  /** The GitOps commit the state was read at. */
  head?: string;
}

export interface ExposureStore {
  describe(): string;
  read(since: Date, now: Date): Promise<ExposureState>;
  /**
   * Sets the weight: one commit (gitops) carrying the trailers `Slipway-Canary: <service>@<environment>` and
   * `Slipway-Canary-Weight: <n>`, or a change in memory. Unchanged when the weight is already that.
   */
  apply(weight: number, reason: string): Promise<{ commit?: string; changed: boolean }>;
  /**
   * Exposure 0 and the flag off FIRST (one commit), THEN promote's rollback pins the previous digest again
   * (a second commit): nobody is served the bad version while the digest is being reverted.
   */
  rollback(reason: string): Promise<{ commits: string[]; promotion?: PromotionResult }>;
}

/** Commit trailers of exposure commits: which canary made the commit, and the weight it set. */
export const CANARY_TRAILERS = {
  canary: 'Slipway-Canary',
  weight: 'Slipway-Canary-Weight',
} as const;

export interface EditorOptions {
  /** The flagd flag key (input `flag`); the service name by default. */
  flag: string;
  /** The input the exposure kind came from, for messages. */
  input?: string;
}

/** The editor the `exposure` input names: `rollout`, `flagd`, or a dotted YAML path to a number. */
export function exposureEditor(exposure: string, options: EditorOptions): ExposureEditor {
  const input = options.input ?? 'exposure';
  const given = exposure.trim();
  if (given === 'rollout') return rolloutEditor();
  if (given === 'flagd') {
    if (options.flag.trim() === '') {
      throw new ConfigurationError('flag', options.flag, 'the key of the flagd flag that gates the canary');
    }
    return flagdEditor({ flag: options.flag.trim() });
  }
  try {
    return yamlPathEditor(parseYamlPath(given));
  } catch (error) {
    if (error instanceof InvalidValueError) throw ConfigurationError.fromInvalidValue(input, error);
    throw error;
  }
}
