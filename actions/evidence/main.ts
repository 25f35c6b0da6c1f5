// The runner's entry for actions/evidence; the action itself is in definition.ts.
import { runAction } from '../../shared/runner/action.js';
import { evidence } from './definition.js';

void runAction(evidence);
