/**
 * API keys and what each may see: the key file of `flowql serve --api-keys FILE` (FLOWQL_API_KEYS_FILE), parsed and
 * validated in one pass so an operator sees every problem at once, each with its JSON path.
 *
 *   { "keys": [ { "key": "...", "accounts": ["111122223333"], "name": "team-a", "expiresAt": "2027-01-01T00:00:00Z",
 *                 "scopes": ["graphql", "datasets"], "persistedOnly": false } ] }
 *
 * `accounts: ["*"]` is an operator key that sees every account. Keys are kept only as SHA-256 digests in memory, so a
 * heap dump or a log line never shows one; lookups compare digests.
 */
import { createHash } from 'node:crypto';
import { parseIsoDateTime } from './flow-filter.ts';

/** What a key may call: GraphQL, the BI datasets, the Prometheus metrics. */
export const API_KEY_SCOPES = ['graphql', 'datasets', 'metrics'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** Scopes a key has when its entry names none (metrics are operator data: ask for them explicitly). */
export const DEFAULT_API_KEY_SCOPES: readonly ApiKeyScope[] = ['graphql', 'datasets'];

/** Shortest key accepted: 16 characters (a guessable key is no access control). */
export const MIN_API_KEY_LENGTH = 16;

/** Who is asking and what they may read: the result of authenticating a request. */
export interface Tenant {
  /** The key's name (or `key #n`), for logs and metrics; never the key itself. */
  readonly name: string;
  /** Accounts the tenant may read; null = every account (no keys configured, or a `*` key). */
  readonly accounts: readonly string[] | null;
  readonly scopes: ReadonlySet<ApiKeyScope>;
  /** Only operations from the persisted-operation allow-list may run. */
  readonly persistedOnly: boolean;
  readonly expiresAt: Date | null;
}

/** The tenant of a server without keys: everything open. */
export const OPEN_TENANT: Tenant = {
  name: 'open',
  accounts: null,
  scopes: new Set(API_KEY_SCOPES),
  persistedOnly: false,
  expiresAt: null,
};

/** Validated keys, by SHA-256 digest of the key text. */
export interface ApiKeySet {
  readonly byDigest: ReadonlyMap<string, Tenant>;
}

/** The key file has problems; `problems` lists each one with its path (`keys[1].accounts[0]: expected ...`). */
export class ApiKeyFileError extends Error {
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[]) {
    super(`${source}: ${problems.length} problem(s) in the API key file:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ApiKeyFileError';
    this.problems = problems;
  }
}

/** SHA-256 hex digest of a key (how keys are compared and stored). */
export function apiKeyDigest(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

const ACCOUNT = /^(\d{12}|unknown)$/;
const ENTRY_FIELDS = new Set(['key', 'accounts', 'name', 'expiresAt', 'scopes', 'persistedOnly']);
const show = (v: unknown): string => JSON.stringify(v) ?? String(v);

function parseEntry(raw: unknown, at: string, problems: string[]): (Tenant & { key: string }) | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push(
      `${at}: expected an object { key, accounts, name?, expiresAt?, scopes?, persistedOnly? }, found ${show(raw)}`,
    );
    return null;
  }
  const e = raw as Record<string, unknown>;
  const before = problems.length;
  for (const field of Object.keys(e)) {
    if (!ENTRY_FIELDS.has(field))
      problems.push(`${at}.${field}: unknown field (expected one of ${[...ENTRY_FIELDS].join(', ')})`);
  }
  if (typeof e.key !== 'string' || e.key.trim().length < MIN_API_KEY_LENGTH || e.key !== e.key.trim()) {
    const found = typeof e.key === 'string' ? `a string of ${e.key.length} characters` : show(e.key);
    problems.push(
      `${at}.key: expected a string of at least ${MIN_API_KEY_LENGTH} characters without surrounding spaces, found ${found}`,
    );
  }
  let accounts: string[] | null = [];
  if (!Array.isArray(e.accounts) || e.accounts.length === 0) {
    problems.push(
      `${at}.accounts: expected a non-empty list of 12-digit account ids (or ["*"] for every account), found ${show(e.accounts)}`,
    );
  } else if (e.accounts.length === 1 && e.accounts[0] === '*') {
    accounts = null;
  } else {
    e.accounts.forEach((a, i) => {
      if (typeof a !== 'string' || !ACCOUNT.test(a)) {
        problems.push(
          `${at}.accounts[${i}]: expected a 12-digit AWS account id (or "unknown"; "*" only alone), found ${show(a)}`,
        );
      } else accounts?.push(a);
    });
  }
  if (e.name !== undefined && (typeof e.name !== 'string' || e.name.length === 0 || e.name.length > 100)) {
    problems.push(`${at}.name: expected a string of 1 to 100 characters, found ${show(e.name)}`);
  }
  let expiresAt: Date | null = null;
  if (e.expiresAt !== undefined && e.expiresAt !== null) {
    expiresAt = typeof e.expiresAt === 'string' ? parseIsoDateTime(e.expiresAt) : null;
    if (!expiresAt)
      problems.push(
        `${at}.expiresAt: expected an ISO-8601 date-time such as 2027-01-01T00:00:00Z, found ${show(e.expiresAt)}`,
      );
  }
  let scopes: ApiKeyScope[] = [...DEFAULT_API_KEY_SCOPES];
  if (e.scopes !== undefined) {
    if (!Array.isArray(e.scopes) || e.scopes.length === 0) {
      problems.push(`${at}.scopes: expected a non-empty list of ${API_KEY_SCOPES.join(', ')}, found ${show(e.scopes)}`);
    } else {
      scopes = [];
      e.scopes.forEach((s, i) => {
        if (!(API_KEY_SCOPES as readonly unknown[]).includes(s)) {
          problems.push(`${at}.scopes[${i}]: expected one of ${API_KEY_SCOPES.join(', ')}, found ${show(s)}`);
        } else scopes.push(s as ApiKeyScope);
      });
    }
  }
  if (e.persistedOnly !== undefined && typeof e.persistedOnly !== 'boolean') {
    problems.push(`${at}.persistedOnly: expected true or false, found ${show(e.persistedOnly)}`);
  }
  if (problems.length > before) return null;
  return {
    key: e.key as string,
    name: (e.name as string | undefined) ?? at,
    accounts: accounts ? [...new Set(accounts)].sort() : null,
    scopes: new Set(scopes),
    persistedOnly: e.persistedOnly === true,
    expiresAt,
  };
}

/** Parses the text of a key file; throws ApiKeyFileError listing every problem (named after `source`). */
export function parseApiKeyFile(text: string, source: string): ApiKeySet {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ApiKeyFileError(source, [`not JSON: ${(err as Error).message}`]);
  }
  const keys = (doc as { keys?: unknown } | null)?.keys;
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || !Array.isArray(keys)) {
    throw new ApiKeyFileError(source, [
      'expected an object { "keys": [ { "key": "...", "accounts": ["111122223333"] } ] }',
    ]);
  }
  const problems: string[] = [];
  for (const field of Object.keys(doc))
    if (field !== 'keys') problems.push(`${field}: unknown field (expected only "keys")`);
  if (keys.length === 0)
    problems.push('keys: expected at least one key (without keys, start the server without --api-keys)');
  const byDigest = new Map<string, Tenant>();
  const names = new Map<string, number>();
  keys.forEach((raw, i) => {
    const entry = parseEntry(raw, `keys[${i}]`, problems);
    if (!entry) return;
    const { key, ...tenant } = entry;
    const digest = apiKeyDigest(key);
    if (byDigest.has(digest)) problems.push(`keys[${i}].key: the same key appears twice (each key needs one entry)`);
    const other = names.get(tenant.name);
    if (other !== undefined) problems.push(`keys[${i}].name: "${tenant.name}" is already the name of keys[${other}]`);
    names.set(tenant.name, i);
    byDigest.set(digest, tenant);
  });
  if (problems.length) throw new ApiKeyFileError(source, problems);
  return { byDigest };
}
