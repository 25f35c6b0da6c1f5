// The runner's entry for actions/promote; the action itself is in definition.ts.
import { runAction } from '../../shared/runner/action.js';
import { promote } from './definition.js';

void runAction(promote);
