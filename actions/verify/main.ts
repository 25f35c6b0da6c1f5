// The runner's entry for actions/verify; the action itself is in definition.ts.
import { runAction } from '../../shared/runner/action.js';
import { verify } from './definition.js';

void runAction(verify);
