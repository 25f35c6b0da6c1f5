// One line of comma-separated options, quoted as metadata-action reads them (CSV: a field in double quotes
// may hold commas, and `""` inside it is one quote), so `type=raw,"value=a,b"` carries over unchanged.

/** Splits a line into its fields; throws an Error whose message says what is wrong with the quoting. */
export function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let text = '';
      i++;
      for (;;) {
        if (i >= line.length) throw new Error('a quoted option has no closing double quote');
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            text += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        text += line[i];
        i++;
      }
      if (i < line.length && line[i] !== ',') {
        throw new Error(`a closing double quote is followed by ${JSON.stringify(line[i])} instead of a comma`);
      }
      fields.push(text);
    } else {
      const end = line.indexOf(',', i);
      const text = line.slice(i, end < 0 ? line.length : end);
      if (text.includes('"')) {
        throw new Error(`the option ${JSON.stringify(text)} has a double quote inside; quote the whole option instead`);
      }
      fields.push(text);
      i = end < 0 ? line.length : end;
    }
    if (i >= line.length) return fields;
    i++; // the comma
  }
}
