import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { distroFrom, osReleaseReader, unquoteShell } from '../../../../shared/sbom/catalogers/os-release.js';
import { readFileWith } from './read-helpers.js';

describe('os-release', () => {
  it('reads this machine’s usr/lib/os-release', async () => {
    const text = await readFile('/usr/lib/os-release', 'utf8');
    const results = await readFileWith(osReleaseReader, 'usr/lib/os-release', text);
    const distro = distroFrom(results);
    const id = /^ID=(.*)$/m.exec(text)?.[1]?.replace(/"/g, '');
    expect(distro?.id).toBe(id);
    const versionId = /^VERSION_ID=(.*)$/m.exec(text)?.[1]?.replace(/"/g, '');
    expect(distro?.versionId).toBe(versionId);
    expect(distro?.prettyName).toBe(/^PRETTY_NAME="(.*)"$/m.exec(text)?.[1]);
  });

  it('reads the fields of a Debian os-release', async () => {
    const text = [
      'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"',
      'NAME="Debian GNU/Linux"',
      'VERSION_ID="12"',
      'VERSION="12 (bookworm)"',
      'VERSION_CODENAME=bookworm',
      'ID=debian',
      'HOME_URL="https://www.debian.org/"',
      '',
    ].join('\n');
    const distro = distroFrom(await readFileWith(osReleaseReader, 'usr/lib/os-release', text));
    expect(distro).toEqual({
      id: 'debian',
      versionId: '12',
      codename: 'bookworm',
      prettyName: 'Debian GNU/Linux 12 (bookworm)',
    });
  });

  it('prefers etc/os-release over usr/lib/os-release', async () => {
    const etc = await readFileWith(osReleaseReader, 'etc/os-release', 'ID=alpine\nVERSION_ID=3.20.3\n', { layer: 1 });
    const usr = await readFileWith(osReleaseReader, 'usr/lib/os-release', 'ID=debian\nVERSION_ID=12\n');
    expect(distroFrom([...usr, ...etc])).toEqual({ id: 'alpine', versionId: '3.20.3' });
    expect(distroFrom(usr)).toEqual({ id: 'debian', versionId: '12' });
  });

  it('wants only the two regular files', () => {
    const file = { type: 'file' as const, mode: 0o644, size: 10 };
    expect(osReleaseReader.wants('etc/os-release', file)).toBe(true);
    expect(osReleaseReader.wants('usr/lib/os-release', file)).toBe(true);
    expect(osReleaseReader.wants('etc/os-release', { ...file, type: 'symlink' })).toBe(false);
    expect(osReleaseReader.wants('opt/etc/os-release', file)).toBe(false);
  });

  it('undoes shell quoting', () => {
    expect(unquoteShell('"a \\"b\\" \\$c \\\\ d"')).toBe('a "b" $c \\ d');
    expect(unquoteShell("'it''s'")).toBe('its');
    expect(unquoteShell("'a \\n b'")).toBe('a \\n b');
    expect(unquoteShell('plain\\ value')).toBe('plain value');
    expect(unquoteShell('bookworm # comment')).toBe('bookworm');
    expect(unquoteShell('"a"\'b\'c')).toBe('abc');
  });

  it('has no distro without an ID', async () => {
    expect(distroFrom(await readFileWith(osReleaseReader, 'etc/os-release', 'NAME=x\n'))).toBeUndefined();
    expect(distroFrom([])).toBeUndefined();
  });
});
