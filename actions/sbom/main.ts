// The runner's entry for actions/sbom; the action itself is in definition.ts.
import { runAction } from '../../shared/runner/action.js';
import { sbom } from './definition.js';

void runAction(sbom);
