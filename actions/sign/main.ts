// The runner's entry for actions/sign; the action itself is in definition.ts.
import { runAction } from '../../shared/runner/action.js';
import { sign } from './definition.js';

void runAction(sign);
