import { describe, expect, it } from 'vitest';
import { InvalidValueError } from '../../../shared/core/errors.js';
import { githubContext } from '../../../shared/github/context.js';

describe('githubContext', () => {
  it.each([
    {
      host: 'github.com',
      env: { GITHUB_SERVER_URL: 'https://github.com', GITHUB_API_URL: 'https://api.github.com' },
      expected: {
        serverUrl: 'https://github.com',
        apiUrl: 'https://api.github.com',
        graphqlUrl: 'https://api.github.com/graphql',
        kind: 'github.com',
        isGhes: false,
        isGheCom: false,
        actionsIssuer: 'https://token.actions.githubusercontent.com',
      },
    },
    {
      host: 'a GHES host',
      env: { GITHUB_SERVER_URL: 'https://ghes.example.com' },
      expected: {
        serverUrl: 'https://ghes.example.com',
        apiUrl: 'https://ghes.example.com/api/v3',
        graphqlUrl: 'https://ghes.example.com/api/graphql',
        kind: 'ghes',
        isGhes: true,
        isGheCom: false,
        actionsIssuer: 'https://ghes.example.com/_services/token',
      },
    },
    {
      host: 'a GHE.com tenant',
      env: { GITHUB_SERVER_URL: 'https://acme.ghe.com' },
      expected: {
        serverUrl: 'https://acme.ghe.com',
        apiUrl: 'https://api.acme.ghe.com',
        graphqlUrl: 'https://api.acme.ghe.com/graphql',
        kind: 'ghe.com',
        isGhes: false,
        isGheCom: true,
        tenant: 'acme',
        actionsIssuer: 'https://token.actions.acme.ghe.com',
      },
    },
  ])('derives every URL for $host from the server URL', ({ env, expected }) => {
    expect(githubContext(env)).toEqual(expected);
  });

  it('is github.com when the runner set nothing', () => {
    expect(githubContext({})).toMatchObject({
      serverUrl: 'https://github.com',
      apiUrl: 'https://api.github.com',
      kind: 'github.com',
    });
  });

  it('takes what the runner set over what it would derive, trailing slashes dropped', () => {
    const context = githubContext({
      GITHUB_SERVER_URL: 'https://ghes.example.com/',
      GITHUB_API_URL: 'https://ghes-api.example.com/api/v3/',
      GITHUB_GRAPHQL_URL: 'https://ghes-api.example.com/api/graphql',
    });
    expect(context).toMatchObject({
      serverUrl: 'https://ghes.example.com',
      apiUrl: 'https://ghes-api.example.com/api/v3',
      graphqlUrl: 'https://ghes-api.example.com/api/graphql',
    });
  });

  it.each([
    ['https://api.github.com', 'https://github.com', 'github.com'],
    ['https://api.acme.ghe.com', 'https://acme.ghe.com', 'ghe.com'],
    ['https://ghes.example.com/api/v3', 'https://ghes.example.com', 'ghes'],
  ])('derives the server from an API URL alone (%s)', (api, server, kind) => {
    const context = githubContext({ GITHUB_API_URL: api });
    expect(context.serverUrl).toBe(server);
    expect(context.kind).toBe(kind);
    expect(context.apiUrl).toBe(api);
  });

  it('derives GHES GraphQL from an API URL given without the server', () => {
    expect(githubContext({ GITHUB_API_URL: 'https://ghes.example.com/api/v3' }).graphqlUrl).toBe(
      'https://ghes.example.com/api/graphql',
    );
  });

  it('compares hosts without regard to case', () => {
    expect(githubContext({ GITHUB_SERVER_URL: 'https://GitHub.COM' }).kind).toBe('github.com');
    const tenant = githubContext({ GITHUB_SERVER_URL: 'https://Acme.GHE.com' });
    expect(tenant).toMatchObject({ kind: 'ghe.com', tenant: 'acme', serverUrl: 'https://acme.ghe.com' });
  });

  it('does not take a look-alike host for github.com or GHE.com', () => {
    expect(githubContext({ GITHUB_SERVER_URL: 'https://github.com.evil.example' }).kind).toBe('ghes');
    expect(githubContext({ GITHUB_SERVER_URL: 'https://a.b.ghe.com' }).kind).toBe('ghes');
    expect(githubContext({ GITHUB_SERVER_URL: 'https://ghe.com' }).kind).toBe('ghes');
  });

  it.each([
    ['GITHUB_SERVER_URL', 'github.com', 'it is not a URL'],
    ['GITHUB_SERVER_URL', 'ftp://github.com', 'expected an http(s) URL'],
    ['GITHUB_API_URL', 'https://user:secret@api.github.com', 'must not carry credentials'],
    ['GITHUB_GRAPHQL_URL', 'https://api.github.com/graphql?x=1', 'a query'],
  ])('refuses %s=%s, naming the variable and the expected form', (name, value, detail) => {
    const read = () => githubContext({ [name]: value });
    expect(read).toThrow(InvalidValueError);
    expect(read).toThrow(name);
    expect(read).toThrow(detail);
  });

  it('never shows credentials found in a URL', () => {
    expect(() => githubContext({ GITHUB_API_URL: 'https://user:s3cret@api.github.com' })).toThrow(
      /^(?!.*s3cret).*https:\/\/\*\*\*@api\.github\.com/,
    );
  });
});
