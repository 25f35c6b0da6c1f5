// Dates in tags: `{{date 'YYYYMMDD-HHmmss' tz='Asia/Tokyo'}}` formats with moment.js's format tokens, as
// metadata-action does, so a rule moved over gives the same tag. Time zones come from the IANA database
// Node carries (Intl), so no date library is bundled.

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

// Letters moment reads as tokens. Any other letter is printed as it is (the `T` in `YYYY-MM-DDTHH`);
// a token this module does not implement is refused rather than printed wrongly.
const TOKEN_LETTERS = /[HhMDdwWQNYygGeEaAkmsSxXzZ]/;
const SUPPORTED = 'YYYY YY Q M MM MMM MMMM D DD DDD DDDD d dd ddd dddd H HH h hh k kk m mm s ss S… A a Z ZZ X x';

// moment's default format, used when a format is not given (or, as Handlebars reads `{{date YYYY}}`,
// names a variable that does not exist); at UTC offset zero it prints `Z`.
const DEFAULT_FORMAT = 'YYYY-MM-DDTHH:mm:ssZ';

type Piece = { literal: string } | { token: string };

/** Checks a format; returns an error message, or undefined when every token is supported. */
export function checkDateFormat(format: string): string | undefined {
  try {
    tokenize(format);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Checks an IANA time zone name; returns an error message or undefined. */
export function checkTimeZone(tz: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return undefined;
  } catch {
    return `time zone ${JSON.stringify(tz)} is not an IANA time zone name such as UTC or Asia/Tokyo`;
  }
}

function tokenize(format: string): Piece[] {
  const pieces: Piece[] = [];
  let i = 0;
  while (i < format.length) {
    const c = format[i] as string;
    if (c === '[') {
      const end = format.indexOf(']', i);
      if (end < 0) throw new Error(`"[" at position ${i + 1} has no closing "]"`);
      pieces.push({ literal: format.slice(i + 1, end) });
      i = end + 1;
    } else if (TOKEN_LETTERS.test(c)) {
      let j = i;
      while (format[j] === c) j++;
      const token = format.slice(i, j);
      if (!isSupported(token)) {
        throw new Error(`date token "${token}" is not supported; use ${SUPPORTED}, and [text] for literal text`);
      }
      pieces.push({ token });
      i = j;
    } else {
      pieces.push({ literal: c });
      i++;
    }
  }
  return pieces;
}

function isSupported(token: string): boolean {
  if (/^S+$/.test(token)) return token.length <= 9;
  return [
    'YYYY',
    'YY',
    'Q',
    'M',
    'MM',
    'MMM',
    'MMMM',
    'D',
    'DD',
    'DDD',
    'DDDD',
    'd',
    'dd',
    'ddd',
    'dddd',
    'H',
    'HH',
    'h',
    'hh',
    'k',
    'kk',
    'm',
    'mm',
    's',
    'ss',
    'A',
    'a',
    'Z',
    'ZZ',
    'X',
    'x',
  ].includes(token);
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** Minutes east of UTC. */
  offset: number;
}

function wallClock(date: Date, tz: string): WallClock {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(date);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const clock = {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour'),
    minute: get('minute'),
    second: get('second'),
  };
  const asUtc = Date.UTC(clock.year, clock.month - 1, clock.day, clock.hour, clock.minute, clock.second);
  const offset = Math.round((asUtc - Math.floor(date.getTime() / 1000) * 1000) / 60000);
  return { ...clock, offset };
}

/** Formats `date` in time zone `tz` (default UTC) with moment's tokens; format undefined means moment's default. */
export function formatDate(date: Date, format: string | undefined, tz = 'UTC'): string {
  const clock = wallClock(date, tz);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const offset = (separator: string) => {
    const sign = clock.offset < 0 ? '-' : '+';
    const minutes = Math.abs(clock.offset);
    return `${sign}${pad(Math.floor(minutes / 60))}${separator}${pad(minutes % 60)}`;
  };
  const local = new Date(Date.UTC(clock.year, clock.month - 1, clock.day));
  const weekday = local.getUTCDay();
  const dayOfYear = Math.round((local.getTime() - Date.UTC(clock.year, 0, 1)) / 86_400_000) + 1;
  const hour12 = clock.hour % 12 === 0 ? 12 : clock.hour % 12;
  const millis = date.getTime() - Math.floor(date.getTime() / 1000) * 1000;
  const value = (token: string): string => {
    if (token.startsWith('S')) return pad(millis, 3).padEnd(token.length, '0').slice(0, token.length);
    switch (token) {
      case 'YYYY':
        return pad(clock.year, 4);
      case 'YY':
        return pad(clock.year % 100);
      case 'Q':
        return String(Math.floor((clock.month - 1) / 3) + 1);
      case 'M':
        return String(clock.month);
      case 'MM':
        return pad(clock.month);
      case 'MMM':
        return (MONTHS[clock.month - 1] as string).slice(0, 3);
      case 'MMMM':
        return MONTHS[clock.month - 1] as string;
      case 'D':
        return String(clock.day);
      case 'DD':
        return pad(clock.day);
      case 'DDD':
        return String(dayOfYear);
      case 'DDDD':
        return pad(dayOfYear, 3);
      case 'd':
        return String(weekday);
      case 'dd':
        return (WEEKDAYS[weekday] as string).slice(0, 2);
      case 'ddd':
        return (WEEKDAYS[weekday] as string).slice(0, 3);
      case 'dddd':
        return WEEKDAYS[weekday] as string;
      case 'H':
        return String(clock.hour);
      case 'HH':
        return pad(clock.hour);
      case 'h':
        return String(hour12);
      case 'hh':
        return pad(hour12);
      case 'k':
        return String(clock.hour === 0 ? 24 : clock.hour);
      case 'kk':
        return pad(clock.hour === 0 ? 24 : clock.hour);
      case 'm':
        return String(clock.minute);
      case 'mm':
        return pad(clock.minute);
      case 's':
        return String(clock.second);
      case 'ss':
        return pad(clock.second);
      case 'A':
        return clock.hour < 12 ? 'AM' : 'PM';
      case 'a':
        return clock.hour < 12 ? 'am' : 'pm';
      case 'Z':
        return offset(':');
      case 'ZZ':
        return offset('');
      case 'X':
        return String(Math.floor(date.getTime() / 1000));
      case 'x':
        return String(date.getTime());
      default:
        // tokenize admits only the tokens above.
        throw new Error(`date token ${token} was not validated`);
    }
  };
  const effective = format ?? (clock.offset === 0 ? 'YYYY-MM-DDTHH:mm:ss[Z]' : DEFAULT_FORMAT);
  return tokenize(effective)
    .map((piece) => ('literal' in piece ? piece.literal : value(piece.token)))
    .join('');
}
