import { describe, expect, it } from 'vitest';
import { type Challenge, parseWwwAuthenticate } from '../../../../shared/oci/auth/index.js';

const bearer = (params: Record<string, string>): Challenge => ({ scheme: 'bearer', params });

describe('parseWwwAuthenticate', () => {
  it.each<[string, string, Challenge[]]>([
    [
      'docker hub',
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"',
      [
        bearer({
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:samalba/my-app:pull,push',
        }),
      ],
    ],
    ['basic with realm', 'Basic realm="Registry Realm"', [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]],
    ['scheme alone', 'Basic', [{ scheme: 'basic', params: {} }]],
    [
      'case-insensitive scheme and parameter names',
      'BEARER Realm="https://r/token", SERVICE="s"',
      [bearer({ realm: 'https://r/token', service: 's' })],
    ],
    [
      'unquoted tokens and whitespace around "="',
      'Bearer realm = https://r/token , service=reg.example',
      [bearer({ realm: 'https://r/token', service: 'reg.example' })],
    ],
    [
      'unquoted scope with colons',
      'Bearer realm="https://r/token",scope=repository:a/b:pull',
      [bearer({ realm: 'https://r/token', scope: 'repository:a/b:pull' })],
    ],
    [
      'escaped quotes and backslashes in quoted strings',
      String.raw`Bearer realm="https://r/token",error_description="say \"hi\", a\\b"`,
      [bearer({ realm: 'https://r/token', error_description: 'say "hi", a\\b' })],
    ],
    [
      'several challenges in one header',
      'Basic realm="basic, realm", Bearer realm="https://r/token", scope="repository:x:pull"',
      [
        { scheme: 'basic', params: { realm: 'basic, realm' } },
        bearer({ realm: 'https://r/token', scope: 'repository:x:pull' }),
      ],
    ],
    [
      'scheme-only challenge followed by another',
      'Negotiate, Basic realm="r"',
      [
        { scheme: 'negotiate', params: {} },
        { scheme: 'basic', params: { realm: 'r' } },
      ],
    ],
    [
      'token68 followed by another challenge',
      'Newauth dXNlcjpwYXNz==, Basic realm="r"',
      [
        { scheme: 'newauth', params: {} },
        { scheme: 'basic', params: { realm: 'r' } },
      ],
    ],
    ['empty list elements', ' , Basic realm="r" ,, ', [{ scheme: 'basic', params: { realm: 'r' } }]],
    [
      'a repeated parameter keeps its first value',
      'Bearer realm="https://first/",realm="https://second/"',
      [bearer({ realm: 'https://first/' })],
    ],
    ['empty quoted value', 'Bearer realm=""', [bearer({ realm: '' })]],
  ])('%s', (_name, header, expected) => {
    expect(parseWwwAuthenticate(header)).toEqual(expected);
  });

  it.each<[string, string]>([
    ['empty header', ''],
    ['only separators', ' ,, '],
    ['unterminated quoted string', 'Bearer realm="https://r/token'],
    ['backslash at the end of a quoted string', 'Bearer realm="abc\\'],
    ['parameter without a scheme', 'realm="r"'],
    ['parameter without a value', 'Bearer realm="r", service='],
    ['text after a quoted value', 'Bearer realm="r"junk'],
    ['quoted string where a scheme belongs', '"Bearer" realm="r"'],
    ['non-token character in a scheme', 'Bea{rer realm="r"'],
    ['quoted string after a scheme', 'Bearer "r"'],
  ])('yields no challenge for a malformed header: %s', (_name, header) => {
    expect(parseWwwAuthenticate(header)).toEqual([]);
  });

  it('does not let a parameter named __proto__ change the params object', () => {
    const [challenge] = parseWwwAuthenticate('Bearer __proto__="x", realm="r"');
    expect(Object.getPrototypeOf(challenge?.params)).toBeNull();
    expect(Object.entries(challenge?.params ?? {})).toEqual([
      ['__proto__', 'x'],
      ['realm', 'r'],
    ]);
  });
});
