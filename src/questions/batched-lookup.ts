/**
 * A per-request lookup that batches (the inventory's names, subnet and VPC names): GraphQL resolves the fields of a
 * list's items in one tick, so the keys asked in one tick are collected and answered by one statement, and a key
 * asked twice shares one answer. A key without an id answers `none` at once; a failed statement fails every key of
 * its batch.
 */
import type { QueryContext } from '../store/query-runner.ts';

/** How to look up one kind of key. */
export interface BatchedLookupSpec<K, V> {
  /** The key's identity (equal ids share an answer); null: nothing to look up, the answer is `none`. */
  readonly id: (key: K) => string | null;
  readonly none: V;
  /** The answers to a batch, by the key's position in it (absent: `none`). */
  readonly load: (ctx: QueryContext, keys: readonly K[]) => Promise<ReadonlyMap<number, V>>;
}

/** The lookups made so far, one per request and spec. */
const made = new WeakMap<object, WeakMap<QueryContext, (key: unknown) => Promise<unknown>>>();

/** The request's lookup of `spec` (one per QueryContext: created on first use). */
export function batchedLookup<K, V>(ctx: QueryContext, spec: BatchedLookupSpec<K, V>): (key: K) => Promise<V> {
  let bySpec = made.get(spec);
  if (!bySpec) made.set(spec, (bySpec = new WeakMap()));
  const existing = bySpec.get(ctx);
  if (existing) return existing as (key: K) => Promise<V>;
  const known = new Map<string, Promise<V>>();
  let pending: { key: K; resolve: (v: V) => void; reject: (err: unknown) => void }[] = [];
  const flush = async () => {
    const batch = pending;
    pending = [];
    try {
      const found = await spec.load(
        ctx,
        batch.map((b) => b.key),
      );
      batch.forEach((b, i) => b.resolve(found.get(i) ?? spec.none));
    } catch (err) {
      for (const b of batch) b.reject(err);
    }
  };
  const lookup = (key: K): Promise<V> => {
    const id = spec.id(key);
    if (id === null) return Promise.resolve(spec.none);
    let answer = known.get(id);
    if (!answer) {
      answer = new Promise<V>((resolve, reject) => {
        if (pending.length === 0) setImmediate(() => void flush());
        pending.push({ key, resolve, reject });
      });
      known.set(id, answer);
    }
    return answer;
  };
  bySpec.set(ctx, lookup as (key: unknown) => Promise<unknown>);
  return lookup;
}
