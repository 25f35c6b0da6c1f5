import type { ExposureSegment, ExposureState, ExposureStore } from './index.js';
import { checkWeight } from './splice.js';

// Exposure kept in memory: without a gitops-repo the canary only evaluates and reports, and `--simulate` runs the
// benchmark's simulator on a simulated clock. Nothing is written anywhere; the segments are what the run itself
// set, so the evaluation reads exactly the periods of constant weight it would have read from commit history.

export function memoryExposure(initialWeight: number, since: Date, now: () => Date): ExposureStore {
  checkWeight(initialWeight);
  const segments: ExposureSegment[] = [{ weight: initialWeight, start: since }];
  const current = () => segments[segments.length - 1]!;

  function set(weight: number): boolean {
    checkWeight(weight);
    if (current().weight === weight) return false;
    const at = now();
    const open = current();
    // Two changes at one instant (a simulated clock that did not move): the later one wins that instant.
    if (at.getTime() <= open.start.getTime()) {
      open.weight = weight;
      return true;
    }
    open.end = at;
    segments.push({ weight, start: at });
    return true;
  }

  return {
    describe: () => 'in memory (no gitops-repo: exposure is not written anywhere)',
    async read(from: Date, to: Date): Promise<ExposureState> {
      const overlapping = segments
        .filter((segment) => segment.start.getTime() <= to.getTime())
        .filter((segment) => segment.end === undefined || segment.end.getTime() > from.getTime())
        .map((segment) => ({ ...segment }));
      return { weight: current().weight, segments: overlapping };
    },
    async apply(weight: number) {
      return { changed: set(weight) };
    },
    async rollback() {
      set(0);
      return { commits: [] };
    },
  };
}
