/**
 * Persisted (allow-listed) operations: a JSON file `{ "<sha256 of the query text>": "<query text>", ... }` (the
 * format GraphQL Codegen's client preset and Apollo's persisted-query manifests reduce to). A key with
 * `"persistedOnly": true` may run only these: it sends `documentId` (or Apollo's
 * `extensions.persistedQuery.sha256Hash`) instead of the text, or text whose hash is listed. Any client may send a
 * listed id instead of the text.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/** The allow-list, by hash. */
export type PersistedOperations = ReadonlyMap<string, string>;

/** A GraphQL request body as clients send it. */
export interface GraphQLBody {
  readonly query?: unknown;
  readonly documentId?: unknown;
  readonly operationName?: unknown;
  readonly variables?: unknown;
  readonly extensions?: { readonly persistedQuery?: { readonly sha256Hash?: unknown } } & Record<string, unknown>;
}

/** The outcome: the body to execute, or why it is refused. */
export type PersistedResolution =
  { readonly ok: true; readonly body: GraphQLBody } | { readonly ok: false; readonly message: string };

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** Parses an allow-list file's text; every problem listed at once, named after `source`. */
export function parsePersistedOperations(text: string, source: string): PersistedOperations {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`${source}: not JSON (${(err as Error).message})`, { cause: err });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new Error(`${source}: expected an object { "<sha256 hex of the query>": "<query text>" }`);
  }
  const problems: string[] = [];
  const out = new Map<string, string>();
  for (const [hash, query] of Object.entries(doc)) {
    if (!/^[0-9a-f]{64}$/.test(hash)) problems.push(`"${hash}": expected a lowercase sha256 hex digest as the key`);
    else if (typeof query !== 'string' || query.trim() === '')
      problems.push(`"${hash}": expected the query text as the value`);
    else if (sha256(query) !== hash) problems.push(`"${hash}": the query text hashes to ${sha256(query)}`);
    else out.set(hash, query);
  }
  if (problems.length)
    throw new Error(
      `${source}: ${problems.length} problem(s) in the persisted operations:\n  - ${problems.join('\n  - ')}`,
    );
  return out;
}

/** Reads and parses an allow-list file. */
export async function loadPersistedOperations(path: string): Promise<PersistedOperations> {
  return parsePersistedOperations(await readFile(path, 'utf8'), path);
}

/** Resolves a body against the allow-list; `required` for persisted-only keys. */
export function resolvePersisted(body: GraphQLBody, list: PersistedOperations, required: boolean): PersistedResolution {
  const id = body.documentId ?? body.extensions?.persistedQuery?.sha256Hash;
  if (typeof id === 'string' && id !== '') {
    const text = list.get(id.replace(/^sha256:/, ''));
    if (!text)
      return { ok: false, message: `Unknown persisted operation ${JSON.stringify(id)}: it is not in the allow-list` };
    return { ok: true, body: { ...body, query: text, documentId: undefined } };
  }
  if (!required) return { ok: true, body };
  if (typeof body.query === 'string' && list.has(sha256(body.query))) return { ok: true, body };
  return {
    ok: false,
    message:
      'This API key may only run persisted operations: send "documentId" (sha256 of an allow-listed query) or an allow-listed query text',
  };
}
