import { describe, expect, it } from 'vitest';
import { ApiKeyFileError, apiKeyDigest, parseApiKeyFile } from '../../../src/domain/api-keys.ts';

const KEY_A = 'key-a-0123456789abcdef';
const KEY_B = 'key-b-0123456789abcdef';

function problemsOf(text: string): readonly string[] {
  try {
    parseApiKeyFile(text, 'keys.json');
  } catch (err) {
    expect(err).toBeInstanceOf(ApiKeyFileError);
    return (err as ApiKeyFileError).problems;
  }
  throw new Error('expected the key file to be refused');
}

describe('parseApiKeyFile', () => {
  it('reads keys with their accounts, defaults and options, keyed by digest only', () => {
    const set = parseApiKeyFile(
      JSON.stringify({
        keys: [
          { key: KEY_A, accounts: ['222233334444', '111122223333', '111122223333'], name: 'team-a' },
          { key: KEY_B, accounts: ['*'], scopes: ['metrics'], persistedOnly: true, expiresAt: '2027-01-01T00:00:00Z' },
        ],
      }),
      'keys.json',
    );
    expect(set.byDigest.size).toBe(2);
    const a = set.byDigest.get(apiKeyDigest(KEY_A))!;
    expect(a.name).toBe('team-a');
    expect(a.accounts).toEqual(['111122223333', '222233334444']);
    expect([...a.scopes]).toEqual(['graphql', 'datasets']);
    expect(a.persistedOnly).toBe(false);
    expect(a.expiresAt).toBeNull();
    const b = set.byDigest.get(apiKeyDigest(KEY_B))!;
    expect(b.name).toBe('keys[1]');
    expect(b.accounts).toBeNull();
    expect([...b.scopes]).toEqual(['metrics']);
    expect(b.persistedOnly).toBe(true);
    expect(b.expiresAt?.toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(JSON.stringify([...set.byDigest.entries()])).not.toContain(KEY_A);
  });

  it('lists every problem at once, each with its path and what was expected', () => {
    const problems = problemsOf(
      JSON.stringify({
        keys: [
          { key: 'short', accounts: ['12345'], scopes: ['admin'], extra: 1 },
          { key: KEY_A, accounts: [], expiresAt: 'tomorrow', persistedOnly: 'yes' },
          { key: KEY_B, accounts: ['111122223333'], name: 'x' },
          { key: KEY_B, accounts: ['111122223333'], name: 'x' },
          'nope',
        ],
        version: 2,
      }),
    );
    expect(problems).toEqual([
      'version: unknown field (expected only "keys")',
      'keys[0].extra: unknown field (expected one of key, accounts, name, expiresAt, scopes, persistedOnly)',
      'keys[0].key: expected a string of at least 16 characters without surrounding spaces, found a string of 5 characters',
      'keys[0].accounts[0]: expected a 12-digit AWS account id (or "unknown"; "*" only alone), found "12345"',
      'keys[0].scopes[0]: expected one of graphql, datasets, metrics, found "admin"',
      'keys[1].accounts: expected a non-empty list of 12-digit account ids (or ["*"] for every account), found []',
      'keys[1].expiresAt: expected an ISO-8601 date-time such as 2027-01-01T00:00:00Z, found "tomorrow"',
      'keys[1].persistedOnly: expected true or false, found "yes"',
      'keys[3].key: the same key appears twice (each key needs one entry)',
      'keys[3].name: "x" is already the name of keys[2]',
      'keys[4]: expected an object { key, accounts, name?, expiresAt?, scopes?, persistedOnly? }, found "nope"',
    ]);
  });

  it('refuses text that is not a key file, naming the source', () => {
    expect(() => parseApiKeyFile('{', '/etc/flowql/keys.json')).toThrow(
      /^\/etc\/flowql\/keys.json: 1 problem\(s\) in the API key file:\n {2}- not JSON: /,
    );
    expect(problemsOf('[1]')).toEqual([
      'expected an object { "keys": [ { "key": "...", "accounts": ["111122223333"] } ] }',
    ]);
    expect(problemsOf('{"keys": []}')).toEqual([
      'keys: expected at least one key (without keys, start the server without --api-keys)',
    ]);
  });
});
