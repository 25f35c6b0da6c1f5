import { existsSync, readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { fileURLToPath } from 'node:url';

// Maps a bundled stack trace back to TypeScript source lines, on demand. The runner passes no
// --enable-source-maps, and turning maps on at start (module.setSourceMapsSupport) costs ~7 MiB of peak
// memory because every loaded chunk's map is parsed (bench/README.md); a stack needs mapping only when
// something unexpected fails, so the map next to each frame's file is read then, and only then.

const FRAME = /(\(|at )((?:file:\/\/)?\/[^():]+\.[cm]?js):(\d+):(\d+)(\)?)$/;

export function mapStackTrace(stack: string): string {
  const maps = new Map<string, SourceMap | undefined>();
  return stack
    .split('\n')
    .map((line) => {
      const match = FRAME.exec(line);
      if (!match) return line;
      const [whole, open, file, lineText, columnText, close] = match as unknown as [
        string,
        string,
        string,
        string,
        string,
        string,
      ];
      const path = file.startsWith('file://') ? fileURLToPath(file) : file;
      if (!maps.has(path)) maps.set(path, loadMap(path));
      const entry = maps.get(path)?.findEntry(Number(lineText) - 1, Number(columnText) - 1);
      if (!entry || !('originalSource' in entry)) return line;
      const source = entry.originalSource.startsWith('file://')
        ? fileURLToPath(entry.originalSource)
        : entry.originalSource;
      const mapped = `${open}${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}${close}`;
      return line.slice(0, line.length - whole.length) + mapped;
    })
    .join('\n');
}

function loadMap(path: string): SourceMap | undefined {
  const mapPath = `${path}.map`;
  if (!existsSync(mapPath)) return undefined;
  try {
    const payload = JSON.parse(readFileSync(mapPath, 'utf8')) as SourceMapPayload;
    // Sources are relative to the map; resolve them so a frame names a path a person can open.
    const base = new URL(`file://${mapPath}`);
    payload.sources = payload.sources.map((source) => new URL(source, base).toString());
    return new SourceMap(payload);
  } catch {
    return undefined;
  }
}
