import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidValueError } from '../../../shared/core/errors.js';
import {
  familiarName,
  familiarString,
  formatImageReference,
  type ImageReference,
  isValidTag,
  parseImageReference,
  parseTag,
  registryApiHost,
  requireDigest,
  requireRepositoryOnly,
  withDigest,
  withTag,
} from '../../../shared/oci/reference.js';
import type { Digest } from '../../../shared/oci/types.js';
import { errorOf } from '../../support/errors.js';

const D = `sha256:${'f'.repeat(64)}` as Digest;
const D2 = 'sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c' as Digest;
const D512 = `sha512:${'f'.repeat(128)}` as Digest;
const EXPECTED = '[registry[:port]/]repository[:tag][@sha256:<64 hex>] or oci-layout:<dir>[:tag|@digest]';

function detailOf(text: string): string | undefined {
  return errorOf(() => parseImageReference(text)).detail;
}

describe('parseImageReference: valid registry references (distribution/reference cases)', () => {
  // [input, registry, repository, tag, digest]
  const cases: [string, string, string, string?, Digest?][] = [
    ['ubuntu', 'docker.io', 'library/ubuntu'],
    ['debian', 'docker.io', 'library/debian'],
    ['library/debian', 'docker.io', 'library/debian'],
    ['docker/docker', 'docker.io', 'docker/docker'],
    ['docker.io/docker/docker', 'docker.io', 'docker/docker'],
    ['docker.io/library/debian', 'docker.io', 'library/debian'],
    ['docker.io/debian', 'docker.io', 'library/debian'],
    ['index.docker.io/docker/docker', 'docker.io', 'docker/docker'],
    ['index.docker.io/library/debian', 'docker.io', 'library/debian'],
    ['index.docker.io/debian', 'docker.io', 'library/debian'],
    ['docker.io/library/foo/bar', 'docker.io', 'library/foo/bar'],
    ['127.0.0.1:5000/docker/docker', '127.0.0.1:5000', 'docker/docker'],
    ['127.0.0.1:5000/debian', '127.0.0.1:5000', 'debian'],
    ['192.168.0.1', 'docker.io', 'library/192.168.0.1'],
    ['192.168.0.1:80', 'docker.io', 'library/192.168.0.1', '80'],
    ['192.168.0.1:8/debian', '192.168.0.1:8', 'debian'],
    ['192.168.1.1/repo', '192.168.1.1', 'repo'],
    ['192.168.1.1:5000/repo:5050', '192.168.1.1:5000', 'repo', '5050'],
    [
      'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
      'docker.io',
      'library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
    ],
    ['[fc00::1]:5000/docker', '[fc00::1]:5000', 'docker'],
    ['[fc00:1:2:3:4:5:6:7]:5000/library/debian', '[fc00:1:2:3:4:5:6:7]:5000', 'library/debian'],
    ['[2001:db8::1]/repo', '[2001:db8::1]', 'repo'],
    ['[2001:db8::1]:5000/repo:tag', '[2001:db8::1]:5000', 'repo', 'tag'],
    ['[::1]:5000/a/b', '[::1]:5000', 'a/b'],
    ['[::1]:5000/repo', '[::1]:5000', 'repo'],
    [`[2001:db8::1]:5000/repo:tag@${D}`, '[2001:db8::1]:5000', 'repo', 'tag', D],
    [
      'docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
      'docker.io',
      'library/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
    ],
    ['localhost/foo', 'localhost', 'foo'],
    ['localhost:5000/foo:bar', 'localhost:5000', 'foo', 'bar'],
    ['localhost', 'docker.io', 'library/localhost'],
    ['localhost:5000', 'docker.io', 'library/localhost', '5000'],
    [`foo.com:8080/bar@${D}`, 'foo.com:8080', 'bar', undefined, D],
    ['test_com', 'docker.io', 'library/test_com'],
    ['test_com/foo', 'docker.io', 'test_com/foo'],
    ['test.com:tag', 'docker.io', 'library/test.com', 'tag'],
    ['test.com:5000', 'docker.io', 'library/test.com', '5000'],
    ['test.com/repo:tag', 'test.com', 'repo', 'tag'],
    ['test:5000/repo', 'test:5000', 'repo'],
    [`test:5000/repo:tag@${D}`, 'test:5000', 'repo', 'tag', D],
    ['test-com:8080/foo', 'test-com:8080', 'foo'],
    ['xn--n3h.com:18080/foo', 'xn--n3h.com:18080', 'foo'],
    ['lowercase:Uppercase', 'docker.io', 'library/lowercase', 'Uppercase'],
    ['sub-dom1.foo.com/bar/baz/quux:some-long-tag', 'sub-dom1.foo.com', 'bar/baz/quux', 'some-long-tag'],
    ['b.gcr.io/test.example.com/my-app:test.example.com', 'b.gcr.io', 'test.example.com/my-app', 'test.example.com'],
    [`xn--7o8h.com/myimage:xn--7o8h.com@${D512}`, 'xn--7o8h.com', 'myimage', 'xn--7o8h.com', D512],
    ['foo_bar.com:8080', 'docker.io', 'library/foo_bar.com', '8080'],
    ['foo/foo_bar.com:8080', 'docker.io', 'foo/foo_bar.com', '8080'],
    ['docker-rules/docker', 'docker.io', 'docker-rules/docker'],
    ['docker---rules/docker', 'docker.io', 'docker---rules/docker'],
    ['dock__er/docker', 'docker.io', 'dock__er/docker'],
    ['d/docker', 'docker.io', 'd/docker'],
    [`busybox:latest@${D2}`, 'docker.io', 'library/busybox', 'latest', D2],
    [`redis@${D2}`, 'docker.io', 'library/redis', undefined, D2],
    [`${D2.slice(7)}:tag`, 'docker.io', `library/${D2.slice(7)}`, 'tag'],
    ['dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9', 'docker.io', `library/${D2.slice(7, -1)}`],
    ['ghcr.io/acme/api:v1.2.3', 'ghcr.io', 'acme/api', 'v1.2.3'],
    [`ghcr.io/acme/api:${'a'.repeat(128)}`, 'ghcr.io', 'acme/api', 'a'.repeat(128)],
    ['Example.COM/foo', 'Example.COM', 'foo'],
  ];

  it.each(cases)('%s', (input, registry, repository, tag, digest) => {
    const expected: ImageReference = { kind: 'registry', registry, repository };
    if (tag !== undefined) expected.tag = tag;
    if (digest !== undefined) expected.digest = digest;
    expect(parseImageReference(input)).toStrictEqual(expected);
  });

  it('formats the canonical form', () => {
    expect(formatImageReference(parseImageReference(`nginx:1.25@${D}`))).toBe(`docker.io/library/nginx:1.25@${D}`);
    expect(formatImageReference(parseImageReference('index.docker.io/acme/api'))).toBe('docker.io/acme/api');
    expect(formatImageReference(parseImageReference('[::1]:5000/a/b:t'))).toBe('[::1]:5000/a/b:t');
  });

  it('limits the whole name to 255 characters', () => {
    // docker.io/ + 245 = 255
    const fits = `acme/${'a'.repeat(240)}`;
    expect(parseImageReference(fits)).toMatchObject({ registry: 'docker.io', repository: fits });
    expect(detailOf(`acme/${'a'.repeat(241)}`)).toBe(
      'the full name docker.io/… is 256 characters; at most 255 are allowed',
    );
    expect(detailOf(`${'a/'.repeat(128)}a:tag`)).toBe(
      'the full name docker.io/… is 267 characters; at most 255 are allowed',
    );
  });
});

describe('parseImageReference: invalid registry references', () => {
  const cases: [string, string][] = [
    ['', 'it is empty'],
    [' nginx', 'it has leading or trailing whitespace'],
    ['nginx\n', 'it has leading or trailing whitespace'],
    ['ngi nx', 'it contains whitespace'],
    ['ngi\u0000nx', 'it contains control characters'],
    ['Uppercase/x', 'repository names must be lowercase, "Uppercase/x" is not'],
    ['Uppercase:tag', 'repository names must be lowercase, "Uppercase" is not'],
    ['docker/Docker', 'repository names must be lowercase, "docker/Docker" is not'],
    ['test:5000/Uppercase/lowercase:tag', 'repository names must be lowercase, "Uppercase/lowercase" is not'],
    ['a//b', 'repository "a//b" has an empty path component (a leading, trailing or double "/")'],
    ['docker///docker', 'repository "docker///docker" has an empty path component (a leading, trailing or double "/")'],
    ['docker/', 'repository "docker/" has an empty path component (a leading, trailing or double "/")'],
    ['localhost/', 'the repository name after the registry is missing'],
    [
      '-a',
      'path component "-a" is not valid: use lowercase letters and digits, separated by one ".", one or two "_", or "-"',
    ],
    [
      '-docker/docker',
      'path component "-docker" is not valid: use lowercase letters and digits, separated by one ".", one or two "_", or "-"',
    ],
    [
      'docker-/docker',
      'path component "docker-" is not valid: use lowercase letters and digits, separated by one ".", one or two "_", or "-"',
    ],
    [
      '____/____',
      'path component "____" is not valid: use lowercase letters and digits, separated by one ".", one or two "_", or "-"',
    ],
    [
      'docker/dock..er',
      'path component "dock..er" is not valid: use lowercase letters and digits, separated by one ".", one or two "_", or "-"',
    ],
    // Docker reads a first component with "." as a registry host, so the problem reported is the host's.
    [
      'dock..er/docker',
      'registry host "dock..er" is not a valid host name (letters, digits and inner "-", in components separated by ".")',
    ],
    [
      'aa/asdf$$^/aa',
      'path component "asdf$$^" is not valid: use lowercase letters and digits, separated by one ".", one or two "_", or "-"',
    ],
    [
      '-docker.io/docker/docker',
      'registry host "-docker.io" is not a valid host name (letters, digits and inner "-", in components separated by ".")',
    ],
    ['a:', 'the tag after ":" is empty'],
    [':tag', 'the repository name is missing'],
    [':justtag', 'the repository name is missing'],
    [`@${D}`, 'the repository name is missing'],
    ['a@', 'the digest after "@" is empty'],
    ['a@sha256:short', 'bad digest "sha256:short": the part after "sha256:" is not hex'],
    ['a@sha256:abc', 'bad digest "sha256:abc": sha256 digests have 64 hex characters, this has 3'],
    [
      `a@sha256:${'F'.repeat(64)}`,
      `bad digest "sha256:${'F'.repeat(64)}": the hex contains uppercase letters; digests are lowercase hex`,
    ],
    [
      `validname@invaliddigest:${'f'.repeat(64)}`,
      `bad digest "invaliddigest:${'f'.repeat(64)}": unsupported algorithm "invaliddigest" (supported: sha256, sha512)`,
    ],
    ['a:-tag', 'the tag starts with "-"; tags start with a letter, digit or "_"'],
    ['a:.tag', 'the tag starts with "."; tags start with a letter, digit or "_"'],
    ['a:t!g', 'the tag contains "!"; tags contain only letters, digits, "_", "." and "-"'],
    [`a:${'t'.repeat(129)}`, 'the tag is 129 characters; at most 128 are allowed'],
    ['localhost:abc/foo', 'the port "abc" of registry "localhost:abc" must be numeric'],
    ['example.com:/foo', 'the port "" of registry "example.com:" must be numeric'],
    ['fc00::1:5000/debian', 'registry "fc00::1:5000": an IPv6 address must be in brackets, like [::1]:5000'],
    ['[fc00::1]', '"[fc00::1]" looks like an IPv6 registry, but no "/repository" follows it'],
    ['[fc00::1]:5000', '"[fc00::1]:5000" looks like an IPv6 registry, but no "/repository" follows it'],
    [
      '[fe80::1%eth0]:5000/debian',
      'registry "[fe80::1%eth0]:5000" is not a valid IPv6 address in brackets (zones and embedded IPv4 are not allowed)',
    ],
    [
      '[2001:db8:3:4::192.0.2.33]:5000/debian',
      'registry "[2001:db8:3:4::192.0.2.33]:5000" is not a valid IPv6 address in brackets (zones and embedded IPv4 are not allowed)',
    ],
    ['[::1/foo', 'registry "[::1" has "[" without a closing "]"'],
    ['[::1]x/foo', 'registry "[::1]x" has "x" after its IPv6 address'],
    [
      '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
      'a bare 64-character hex name cannot be told apart from an image ID; add a registry, tag or digest',
    ],
    ['https://github.com/docker/docker', 'references have no URL scheme; remove "https://"'],
    ['docker://nginx', 'references have no URL scheme; remove "docker://"'],
    [
      'oci:./out',
      'the port "." of registry "oci:." must be numeric; for an OCI layout directory write oci-layout:<dir>',
    ],
    [
      `this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_${'x'.repeat(200)}/docker`,
      'the full name docker.io/… is 285 characters; at most 255 are allowed',
    ],
  ];

  it.each(cases)('%j', (input, detail) => {
    const error = errorOf(() => parseImageReference(input));
    expect(error.what).toBe('image reference');
    expect(error.value).toBe(input);
    expect(error.expected).toBe(EXPECTED);
    expect(error.detail).toBe(detail);
  });

  it('rejects an unsupported digest algorithm', () => {
    expect(detailOf(`validname@md5:${'f'.repeat(32)}`)).toBe(
      `bad digest "md5:${'f'.repeat(32)}": unsupported algorithm "md5" (supported: sha256, sha512)`,
    );
  });

  it('writes one clear message naming the value and the expected form', () => {
    expect(errorOf(() => parseImageReference('Uppercase/x')).message).toBe(
      `Invalid image reference "Uppercase/x": repository names must be lowercase, "Uppercase/x" is not; expected ${EXPECTED}.`,
    );
    expect(errorOf(() => parseImageReference('ghcr.io/acme/api:')).message).toBe(
      `Invalid image reference "ghcr.io/acme/api:": the tag after ":" is empty; expected ${EXPECTED}.`,
    );
    expect(errorOf(() => parseImageReference(' nginx')).message).toBe(
      `Invalid image reference " nginx": it has leading or trailing whitespace; expected ${EXPECTED}.`,
    );
  });
});

describe('parseImageReference: OCI layout references', () => {
  const cases: [string, string, string?, Digest?][] = [
    ['oci-layout:./out', './out'],
    ['oci-layout:./out:v1', './out', 'v1'],
    ['oci-layout:/abs/dir', '/abs/dir'],
    ['oci-layout:/abs/dir:latest', '/abs/dir', 'latest'],
    [`oci-layout:/abs/dir@${D}`, '/abs/dir', undefined, D],
    [`oci-layout:./out:v1@${D}`, './out', 'v1', D],
    ['oci-layout:out', 'out'],
    ['oci-layout:a:b/c', 'a:b/c'],
    ['oci-layout:./node_modules/@scope/pkg', './node_modules/@scope/pkg'],
    ['oci-layout:./out@v2', './out@v2'],
    ['oci-layout:C:\\build\\out', 'C:\\build\\out'],
    ['oci-layout:C:/build/out:v1', 'C:/build/out', 'v1'],
    ['oci-layout:./my images/out:v1', './my images/out', 'v1'],
    // ".." with no ":" before it is an ordinary relative directory.
    ['oci-layout:../out:v1', '../out', 'v1'],
    ['oci-layout:C:\\build\\..\\out', 'C:\\build\\..\\out'],
  ];

  it.each(cases)('%s', (input, path, tag, digest) => {
    const expected: ImageReference = { kind: 'layout', path };
    if (tag !== undefined) expected.tag = tag;
    if (digest !== undefined) expected.digest = digest;
    expect(parseImageReference(input)).toStrictEqual(expected);
    expect(formatImageReference(parseImageReference(input))).toBe(input);
  });

  it.each([
    ['oci-layout:', 'the directory after "oci-layout:" is empty'],
    ['oci-layout::v1', 'the directory after "oci-layout:" is empty'],
    [`oci-layout:@${D}`, 'the directory after "oci-layout:" is empty'],
    ['oci-layout:./out:', 'the tag after ":" is empty'],
    ['oci-layout:./out@', 'the digest after "@" is empty'],
    ['oci-layout:./out:v!1', 'the tag contains "!"; tags contain only letters, digits, "_", "." and "-"'],
    ['oci-layout:./out@sha256:abc', 'bad digest "sha256:abc": sha256 digests have 64 hex characters, this has 3'],
    ['oci-layout: ./out', 'the directory has leading or trailing whitespace'],
    ['oci-layout:./out :v1', 'the directory has leading or trailing whitespace'],
    ['oci-layout:./out\n:v1', 'it contains control characters'],
    [
      'oci-layout:/tmp/lx:../../etc',
      '"../../etc" after ":" is not a tag (up to 128 letters, digits, "_", "." and "-", not starting with "." or "-"), and as part of the directory its ".." would climb out of it',
    ],
    ['oci-layout:/tmp/lx:..', 'the tag starts with "."; tags start with a letter, digit or "_"'],
    [
      'oci-layout:./a:b/../c:v1',
      '"b/../c" after ":" is not a tag (up to 128 letters, digits, "_", "." and "-", not starting with "." or "-"), and as part of the directory its ".." would climb out of it',
    ],
  ])('rejects %j', (input, detail) => {
    expect(detailOf(input)).toBe(detail);
  });
});

describe('formatting and display', () => {
  it.each([
    ['ubuntu', 'ubuntu'],
    ['docker.io/library/ubuntu', 'ubuntu'],
    ['library/ubuntu-12.04-base', 'ubuntu-12.04-base'],
    ['docker.io/foo', 'foo'],
    ['fooo/bar', 'fooo/bar'],
    ['index.docker.io/fooo/bar', 'fooo/bar'],
    ['other/library', 'other/library'],
    ['docker.io/library/foo/bar', 'library/foo/bar'],
    ['store/foo/bar', 'store/foo/bar'],
    ['127.0.0.1:8000/private/moonbase', '127.0.0.1:8000/private/moonbase'],
    ['example.com/privatebase', 'example.com/privatebase'],
    ['oci-layout:./out:v1', 'oci-layout:./out'],
  ])('familiarName(%s) = %s', (input, familiar) => {
    expect(familiarName(parseImageReference(input))).toBe(familiar);
  });

  it('familiarString keeps tag and digest', () => {
    expect(familiarString(parseImageReference(`docker.io/library/busybox:latest@${D2}`))).toBe(`busybox:latest@${D2}`);
  });

  it('maps Docker Hub to its API host and leaves others alone', () => {
    expect(registryApiHost('docker.io')).toBe('registry-1.docker.io');
    expect(registryApiHost('ghcr.io')).toBe('ghcr.io');
    expect(registryApiHost('localhost:5000')).toBe('localhost:5000');
  });
});

describe('requireDigest, requireRepositoryOnly, withDigest, withTag, parseTag', () => {
  it('requireDigest passes a pinned reference and explains an unpinned one', () => {
    const pinned = parseImageReference(`ghcr.io/acme/api@${D}`);
    expect(requireDigest(pinned, 'x').digest).toBe(D);
    const error = errorOf(() => requireDigest(parseImageReference('ghcr.io/acme/api:v1'), 'ghcr.io/acme/api:v1'));
    expect(error.message).toBe(
      'Invalid image reference "ghcr.io/acme/api:v1": it has no digest, and a tag alone can change; expected name@sha256:<64 hex>.',
    );
  });

  it('requireRepositoryOnly rejects tags and digests', () => {
    const repo = parseImageReference('ghcr.io/acme/api');
    expect(requireRepositoryOnly(repo, 'ghcr.io/acme/api')).toBe(repo);
    expect(requireRepositoryOnly(parseImageReference('oci-layout:./out'), 'oci-layout:./out').kind).toBe('layout');
    expect(errorOf(() => requireRepositoryOnly(parseImageReference('a:t'), 'a:t')).message).toBe(
      'Invalid image reference "a:t": it has a tag; expected a repository without tag or digest.',
    );
    expect(errorOf(() => requireRepositoryOnly(parseImageReference(`a@${D}`), 'x')).detail).toBe('it has a digest');
    expect(errorOf(() => requireRepositoryOnly(parseImageReference(`a:t@${D}`), 'x')).detail).toBe(
      'it has a tag and a digest',
    );
  });

  it('withDigest and withTag keep the other part and validate theirs', () => {
    const ref = parseImageReference('ghcr.io/acme/api:v1');
    expect(formatImageReference(withDigest(ref, D))).toBe(`ghcr.io/acme/api:v1@${D}`);
    expect(formatImageReference(withTag(withDigest(ref, D), 'v2'))).toBe(`ghcr.io/acme/api:v2@${D}`);
    expect(ref.tag).toBe('v1');
    expect(formatImageReference(withTag(parseImageReference('oci-layout:/o'), 'x'))).toBe('oci-layout:/o:x');
    expect(() => withTag(ref, '-x')).toThrow(InvalidValueError);
    expect(() => withDigest(ref, 'sha256:abc' as Digest)).toThrow(InvalidValueError);
  });

  it('parseTag validates a tag alone', () => {
    expect(parseTag('v1.2.3_rc-1')).toBe('v1.2.3_rc-1');
    expect(errorOf(() => parseTag('v1/x')).message).toBe(
      'Invalid tag "v1/x": the tag contains "/"; tags contain only letters, digits, "_", "." and "-"; expected up to 128 letters, digits, "_", "." and "-", not starting with "." or "-".',
    );
    expect(errorOf(() => parseTag('')).detail).toBe('the tag after ":" is empty');
    expect(isValidTag('_x')).toBe(true);
    expect(isValidTag('a'.repeat(128))).toBe(true);
    expect(isValidTag('a'.repeat(129))).toBe(false);
    expect(isValidTag('.x')).toBe(false);
    expect(isValidTag('é')).toBe(false);
  });
});

// Generators following the grammar, so properties cover shapes no table thought of.
const alnum = fc.stringMatching(/^[a-z0-9]{1,6}$/);
const separator = fc.constantFrom('.', '_', '__', '-', '--', '---');
const pathComponent = fc
  .tuple(alnum, fc.array(fc.tuple(separator, alnum), { maxLength: 3 }))
  .map(([head, rest]) => head + rest.map(([sep, part]) => sep + part).join(''));
const repository = fc.array(pathComponent, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'));
const domainComponent = fc.stringMatching(/^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?$/);
const port = fc.integer({ min: 0, max: 65535 }).map(String);
const host = fc.oneof(
  fc
    .tuple(domainComponent, fc.array(domainComponent, { minLength: 1, maxLength: 3 }))
    .map(([a, b]) => [a, ...b].join('.')),
  fc.constant('localhost'),
  fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((parts) => parts.join('.')),
  fc.stringMatching(/^\[[a-f0-9]{0,4}(?::[a-f0-9]{0,4}){2,7}\]$/),
);
const registry = fc.option(
  fc.tuple(host, fc.option(port)).map(([h, p]) => (p === null ? h : `${h}:${p}`)),
  { nil: undefined },
);
const tag = fc.stringMatching(/^\w[\w.-]{0,20}$/);
const digest = fc.oneof(
  fc.stringMatching(/^[a-f0-9]{64}$/).map((hex) => `sha256:${hex}`),
  fc.stringMatching(/^[a-f0-9]{128}$/).map((hex) => `sha512:${hex}`),
);
const validReference = fc
  .record({
    registry,
    repository,
    tag: fc.option(tag, { nil: undefined }),
    digest: fc.option(digest, { nil: undefined }),
  })
  // Without a registry, a first component with "." would itself be read as the registry.
  .filter(({ registry: r, repository: p }) => r !== undefined || !/^[^/]*\.[^/]*\//.test(p))
  .map(
    ({ registry: r, repository: p, tag: t, digest: d }) =>
      (r === undefined ? '' : `${r}/`) + p + (t === undefined ? '' : `:${t}`) + (d === undefined ? '' : `@${d}`),
  )
  .filter((text) => !/^[a-f0-9]{64}$/.test(text));

const layoutReference = fc
  .record({
    path: fc
      .stringMatching(/^\.?\/?[a-zA-Z0-9_.-]{1,8}(?:\/[a-zA-Z0-9_.@:-]{1,8}){0,3}\/[a-zA-Z0-9_.-]{1,8}$/)
      // A ".." segment after a ":" is refused as a mistyped tag (see the rejections above).
      .filter((p) => !/:(?:\.\.|[^/]*\/(?:.*\/)?\.\.)(?:\/|$)/.test(p)),
    tag: fc.option(tag, { nil: undefined }),
    digest: fc.option(digest, { nil: undefined }),
  })
  .map(
    ({ path, tag: t, digest: d }) =>
      `oci-layout:${path}${t === undefined ? '' : `:${t}`}${d === undefined ? '' : `@${d}`}`,
  );

describe('properties', () => {
  it('parse(format(parse(x))) equals parse(x) for generated valid references', () => {
    fc.assert(
      fc.property(fc.oneof(validReference, layoutReference), (text) => {
        const parsed = parseImageReference(text);
        const formatted = formatImageReference(parsed);
        expect(parseImageReference(formatted)).toStrictEqual(parsed);
        expect(formatImageReference(parseImageReference(formatted))).toBe(formatted);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps the registry when one is given, and Docker Hub otherwise', () => {
    fc.assert(
      fc.property(
        fc.tuple(
          host.filter((h) => !h.endsWith('docker.io')),
          repository,
        ),
        ([h, p]) => {
          const parsed = parseImageReference(`${h}/${p}`);
          expect(parsed).toMatchObject({ kind: 'registry', registry: h, repository: p });
        },
      ),
    );
  });

  it('throws InvalidValueError for generated invalid references', () => {
    const mutation = fc.oneof(
      // A character that appears nowhere in a valid registry reference, anywhere.
      fc
        .tuple(validReference, fc.nat(), fc.constantFrom(' ', '\t', '\n', '!', '#', '%', '?', '\\', '"', 'é', '\u0000'))
        .map(([text, at, bad]) => {
          const i = at % (text.length + 1);
          return text.slice(0, i) + bad + text.slice(i);
        }),
      // Uppercase in the repository.
      fc.tuple(registry, repository).map(([r, p]) => `${r === undefined ? '' : `${r}/`}${p}X`),
      // An empty path component.
      fc.tuple(registry, repository).map(([r, p]) => `${r === undefined ? '' : `${r}/`}${p}//x`),
      // A broken digest.
      fc.tuple(repository, fc.stringMatching(/^[a-f0-9]{1,63}$/)).map(([p, hex]) => `${p}@sha256:${hex}`),
      // A tag that is too long.
      fc.tuple(repository, fc.stringMatching(/^\w{129,140}$/)).map(([p, t]) => `${p}:${t}`),
      // A name that is too long.
      fc.tuple(alnum, fc.integer({ min: 245, max: 300 })).map(([p, n]) => `${p}/${'a'.repeat(n)}`),
    );
    fc.assert(
      fc.property(mutation, (text) => {
        expect(() => parseImageReference(text)).toThrow(InvalidValueError);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws anything but InvalidValueError on arbitrary input', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: fc.constantFrom(...'aZ09:/@.-_[]%oci-layout'.split('')) })),
        (text) => {
          try {
            const parsed = parseImageReference(text);
            expect(parseImageReference(formatImageReference(parsed))).toStrictEqual(parsed);
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidValueError);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
