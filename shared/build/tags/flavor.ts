import { InvalidValueError, showValue } from '../../core/errors.js';
import { splitCsvLine } from './csv.js';
import { GLOBAL_SCOPE } from './rules.js';
import { parseTemplate, type Template } from './template.js';

// The `flavor` input, as in metadata-action: `latest=auto|true|false`, and a `prefix=`/`suffix=` put on
// every tag whose rule sets none (`onlatest=true` puts it on `latest` too).

export type LatestMode = 'auto' | 'true' | 'false';

export interface Flavor {
  /** undefined when the flavor does not say, so the `latest` input decides. */
  latest?: LatestMode;
  prefix: Template;
  suffix: Template;
  prefixLatest: boolean;
  suffixLatest: boolean;
}

export const EXPECTED_FLAVOR = 'latest=auto|true|false, prefix=<text>[,onlatest=true], suffix=<text>[,onlatest=true]';

export const NO_FLAVOR: Flavor = { prefix: [], suffix: [], prefixLatest: false, suffixLatest: false };

/** Parses the `flavor` input, one or more comma-separated options per line. */
export function parseFlavor(lines: readonly string[]): Flavor {
  const flavor: Flavor = { ...NO_FLAVOR };
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '') continue;
    const fail = (detail: string): never => {
      throw new InvalidValueError('flavor', line, EXPECTED_FLAVOR, detail);
    };
    let fields: string[] = [];
    try {
      fields = splitCsvLine(line);
    } catch (error) {
      fail((error as Error).message);
    }
    // onlatest= refers to the prefix or suffix given before it on the same line.
    let last: 'prefix' | 'suffix' | undefined;
    for (const field of fields) {
      const eq = field.indexOf('=');
      if (eq < 0) fail(`option ${showValue(field.trim())} has no "="`);
      const key = field.slice(0, eq).trim().toLowerCase();
      const value = field.slice(eq + 1).trim();
      switch (key) {
        case 'latest':
          if (value !== 'auto' && value !== 'true' && value !== 'false')
            fail(`latest "${value}" is not auto, true or false`);
          flavor.latest = value as LatestMode;
          break;
        case 'prefix':
        case 'suffix':
          try {
            flavor[key] = parseTemplate(value, GLOBAL_SCOPE);
          } catch (error) {
            fail(`${key}: ${(error as Error).message}`);
          }
          last = key;
          break;
        case 'onlatest': {
          if (!/^(?:true|false)$/i.test(value)) fail(`onlatest "${value}" is not true or false`);
          if (last === undefined) fail('onlatest= must follow a prefix= or suffix= on the same line');
          flavor[last === 'prefix' ? 'prefixLatest' : 'suffixLatest'] = value.toLowerCase() === 'true';
          break;
        }
        default:
          fail(`unknown option "${key}"; known: latest, prefix, suffix, onlatest`);
      }
    }
  }
  return flavor;
}
