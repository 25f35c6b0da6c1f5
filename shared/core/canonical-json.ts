/**
 * JSON with object keys sorted at every level (RFC 8785's ordering; numbers as JavaScript writes them), so two
 * values that differ only in key order compare equal: a statement's predicate digest (attest/reuse.ts), two
 * copies of one record from different jobs (evidence/collect/records.ts).
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
