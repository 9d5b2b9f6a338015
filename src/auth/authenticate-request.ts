/**
 * Who is calling: the API key of a request (`Authorization: Bearer <key>` or `X-Api-Key: <key>`) looked up in the
 * validated key set. Without keys configured every request is the open tenant. Failures carry the HTTP status and a
 * message that says what to send, never which keys exist.
 */
import { apiKeyDigest, OPEN_TENANT, type ApiKeyScope, type ApiKeySet, type Tenant } from '../domain/api-keys.ts';

/** The outcome of authenticating one request. */
export type AuthResult =
  | { readonly ok: true; readonly tenant: Tenant }
  | {
      readonly ok: false;
      readonly status: 401 | 403;
      readonly code: 'UNAUTHENTICATED' | 'FORBIDDEN';
      readonly message: string;
    };

/** Header access shared by node's IncomingHttpHeaders and fetch Headers. */
export type HeaderGetter = (name: string) => string | null | undefined;

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The key a request presents, or null. */
export function presentedKey(header: HeaderGetter): string | null {
  const auth = header('authorization');
  if (auth) {
    const m = BEARER.exec(auth);
    if (m) return m[1]!;
  }
  const apiKey = header('x-api-key');
  return apiKey ? apiKey.trim() : null;
}

/** Authenticates a request for `scope`; `keys` null means keys are not configured (everything open). */
export function authenticateRequest(
  header: HeaderGetter,
  keys: ApiKeySet | null,
  scope: ApiKeyScope,
  now: Date = new Date(),
): AuthResult {
  if (!keys) return { ok: true, tenant: OPEN_TENANT };
  const key = presentedKey(header);
  if (!key) {
    return {
      ok: false,
      status: 401,
      code: 'UNAUTHENTICATED',
      message: 'An API key is required: send "Authorization: Bearer <key>" or "X-Api-Key: <key>"',
    };
  }
  const tenant = keys.byDigest.get(apiKeyDigest(key));
  if (!tenant) return { ok: false, status: 401, code: 'UNAUTHENTICATED', message: 'The API key is not valid' };
  if (tenant.expiresAt && tenant.expiresAt.getTime() <= now.getTime()) {
    return {
      ok: false,
      status: 401,
      code: 'UNAUTHENTICATED',
      message: `The API key expired at ${tenant.expiresAt.toISOString()}`,
    };
  }
  if (!tenant.scopes.has(scope)) {
    return {
      ok: false,
      status: 403,
      code: 'FORBIDDEN',
      message: `This API key may not use ${scope} (its scopes: ${[...tenant.scopes].join(', ')})`,
    };
  }
  return { ok: true, tenant };
}
