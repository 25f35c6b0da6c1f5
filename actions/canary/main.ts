// The runner's entry for actions/canary; the action itself is in definition.ts.
import { runAction } from '../../shared/runner/action.js';
import { canary } from './definition.js';

void runAction(canary);
