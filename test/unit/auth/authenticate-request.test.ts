import { describe, expect, it } from 'vitest';
import { authenticateRequest, presentedKey } from '../../../src/auth/authenticate-request.ts';
import { parseApiKeyFile } from '../../../src/domain/api-keys.ts';

const keys = parseApiKeyFile(
  JSON.stringify({
    keys: [
      { key: 'tenant-a-key-0000000001', accounts: ['111111111111'], name: 'a' },
      { key: 'expired-key-00000000002', accounts: ['111111111111'], name: 'old', expiresAt: '2026-01-01T00:00:00Z' },
      { key: 'metrics-key-00000000003', accounts: ['*'], name: 'ops', scopes: ['metrics'] },
    ],
  }),
  'keys.json',
);
const headers = (h: Record<string, string>) => (name: string) => h[name] ?? null;
const now = new Date('2026-06-01T00:00:00Z');

describe('authenticateRequest', () => {
  it('is open without keys configured', () => {
    const r = authenticateRequest(headers({}), null, 'graphql', now);
    expect(r.ok && r.tenant.name).toBe('open');
    expect(r.ok && r.tenant.accounts).toBeNull();
  });

  it('accepts a bearer key or an X-Api-Key header and returns its tenant', () => {
    const bearer = authenticateRequest(
      headers({ authorization: 'Bearer tenant-a-key-0000000001' }),
      keys,
      'datasets',
      now,
    );
    expect(bearer.ok && [bearer.tenant.name, bearer.tenant.accounts]).toEqual(['a', ['111111111111']]);
    const x = authenticateRequest(headers({ 'x-api-key': ' tenant-a-key-0000000001 ' }), keys, 'graphql', now);
    expect(x.ok && x.tenant.name).toBe('a');
    expect(presentedKey(headers({ authorization: 'Basic abc', 'x-api-key': 'k' }))).toBe('k');
  });

  it('answers 401 without a key, with an unknown key and with an expired key; 403 outside the scopes', () => {
    expect(authenticateRequest(headers({}), keys, 'graphql', now)).toEqual({
      ok: false,
      status: 401,
      code: 'UNAUTHENTICATED',
      message: 'An API key is required: send "Authorization: Bearer <key>" or "X-Api-Key: <key>"',
    });
    const unknown = authenticateRequest(
      headers({ authorization: 'Bearer tenant-a-key-0000000009' }),
      keys,
      'graphql',
      now,
    );
    expect(!unknown.ok && [unknown.status, unknown.message]).toEqual([401, 'The API key is not valid']);
    const expired = authenticateRequest(headers({ 'x-api-key': 'expired-key-00000000002' }), keys, 'graphql', now);
    expect(!expired.ok && [expired.status, expired.message]).toEqual([
      401,
      'The API key expired at 2026-01-01T00:00:00.000Z',
    ]);
    const scoped = authenticateRequest(headers({ 'x-api-key': 'metrics-key-00000000003' }), keys, 'datasets', now);
    expect(!scoped.ok && [scoped.status, scoped.code, scoped.message]).toEqual([
      403,
      'FORBIDDEN',
      'This API key may not use datasets (its scopes: metrics)',
    ]);
    const metrics = authenticateRequest(headers({ 'x-api-key': 'metrics-key-00000000003' }), keys, 'metrics', now);
    expect(metrics.ok).toBe(true);
  });
});
