// The runner's entry for actions/build; the action itself is in definition.ts.
import { runAction } from '../../shared/runner/action.js';
import { build } from './definition.js';

void runAction(build);
