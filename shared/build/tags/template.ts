import { SlipwayError } from '../../core/errors.js';
import { checkDateFormat, checkTimeZone, formatDate } from './date-format.js';

// Templates in tag rules: `{{name}}` and the helpers `{{date 'FORMAT' tz='Zone'}}` and
// `{{commit_date 'FORMAT' tz='Zone'}}`, the part of Handlebars that metadata-action's rules use. Unlike
// Handlebars, a name the place does not know is an error, not an empty string: a typo in a rule must not
// silently change a tag.

export interface TemplateScope {
  /** The names this place may use. */
  vars: readonly string[];
  /** Whether the date helpers are available here. */
  helpers: boolean;
}

type Node =
  | { text: string }
  | { name: string }
  | { helper: 'date' | 'commit_date'; format: string | undefined; tz: string | undefined };

export type Template = readonly Node[];

export interface TemplateValues {
  vars: Readonly<Record<string, string>>;
  now: Date;
  /** RFC 3339; needed only by `{{commit_date}}`. */
  commitTime?: string;
}

const PLACEHOLDER = /\{\{(.*?)\}\}/gs;
// One argument of a helper: an optional `key=`, then a quoted string or a bare word.
const ARGUMENT = /\s*(?:([A-Za-z_][\w-]*)=)?(?:'([^']*)'|"([^"]*)"|([^\s'"]+))/y;
const HELPERS = ['date', 'commit_date'] as const;

/** Parses a template; throws an Error whose message says what is wrong, for the caller to wrap. */
export function parseTemplate(template: string, scope: TemplateScope): Template {
  const nodes: Node[] = [];
  let last = 0;
  for (const m of template.matchAll(PLACEHOLDER)) {
    nodes.push({ text: template.slice(last, m.index) });
    last = m.index + m[0].length;
    nodes.push(parsePlaceholder(m[1] ?? '', scope));
  }
  const rest = template.slice(last);
  if (rest.includes('{{') || rest.includes('}}')) throw new Error('it has an unmatched "{{" or "}}"');
  nodes.push({ text: rest });
  return nodes.filter((node) => !('text' in node) || node.text !== '');
}

function parsePlaceholder(inner: string, scope: TemplateScope): Node {
  const known = () =>
    [...scope.vars, ...(scope.helpers ? ["date 'FORMAT' tz='ZONE'", "commit_date 'FORMAT' tz='ZONE'"] : [])]
      .map((name) => `{{${name}}}`)
      .join(', ');
  const text = inner.trim();
  if (/^[{#/!~>^&]/.test(text) || text.endsWith('~')) {
    throw new Error(`{{${inner}}} is Handlebars syntax that tag rules do not support; known: ${known()}`);
  }
  const args: { key?: string; value: string; quoted: boolean }[] = [];
  ARGUMENT.lastIndex = 0;
  while (ARGUMENT.lastIndex < text.length) {
    const m = ARGUMENT.exec(text);
    if (!m) throw new Error(`cannot read {{${inner}}}; known: ${known()}`);
    const quoted = m[2] ?? m[3];
    args.push({ ...(m[1] ? { key: m[1] } : {}), value: quoted ?? m[4] ?? '', quoted: quoted !== undefined });
  }
  const [head, ...params] = args;
  if (!head || head.key !== undefined || head.quoted) throw new Error(`cannot read {{${inner}}}; known: ${known()}`);
  const name = head.value;

  if (scope.helpers && (HELPERS as readonly string[]).includes(name)) {
    let format: string | undefined;
    let tz: string | undefined;
    let positional = 0;
    for (const param of params) {
      if (param.key === undefined) {
        if (positional++ > 0) throw new Error(`{{${inner}}} has more than one format`);
        // Handlebars reads an unquoted word as a variable; none exists, so moment gets no format and
        // prints its default (ISO 8601). Kept so a rule written that way gives the tag it gave before.
        format = param.quoted ? param.value : undefined;
        if (format !== undefined) {
          const problem = checkDateFormat(format);
          if (problem) throw new Error(`{{${inner}}}: ${problem}`);
        }
      } else if (param.key === 'tz') {
        if (!param.quoted) throw new Error(`{{${inner}}}: quote the time zone, as in tz='Asia/Tokyo'`);
        const problem = checkTimeZone(param.value);
        if (problem) throw new Error(`{{${inner}}}: ${problem}`);
        tz = param.value;
      } else {
        throw new Error(`{{${inner}}} has the unknown attribute "${param.key}"; only tz= is known`);
      }
    }
    return { helper: name as 'date' | 'commit_date', format, tz };
  }
  if (!scope.vars.includes(name)) throw new Error(`unknown placeholder {{${inner}}}; known: ${known()}`);
  if (params.length > 0) throw new Error(`{{${name}}} takes no arguments`);
  return { name };
}

/** Whether the template is exactly `{{raw}}` (spaces allowed), which prerelease versions keep as written. */
export function isRawStatement(template: Template): boolean {
  const [only, ...rest] = template;
  return rest.length === 0 && only !== undefined && 'name' in only && only.name === 'raw';
}

// Handlebars escapes what `{{…}}` prints for HTML; metadata-action's tags are computed with that, so an
// `&` in a branch name becomes `&amp;` and then `-amp-` in the tag. Kept for identical tags.
const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#x27;',
  '`': '&#x60;',
  '=': '&#x3D;',
};

export function renderTemplate(template: Template, values: TemplateValues): string {
  return template
    .map((node) => {
      if ('text' in node) return node.text;
      const printed = 'name' in node ? (values.vars[node.name] ?? '') : renderHelper(node, values);
      return printed.replace(/[&<>"'`=]/g, (c) => HTML_ESCAPES[c] ?? c);
    })
    .join('');
}

function renderHelper(
  node: { helper: 'date' | 'commit_date'; format: string | undefined; tz: string | undefined },
  values: TemplateValues,
): string {
  if (node.helper === 'date') return formatDate(values.now, node.format, node.tz);
  if (values.commitTime === undefined) {
    throw new SlipwayError(
      'A tag rule uses {{commit_date}}, but the commit time is unknown: the event carries none and it could not be read from the checkout.',
    );
  }
  return formatDate(new Date(values.commitTime), node.format, node.tz);
}
