/**
 * Answers of read-only statements, kept in memory and shared by identical requests. The warehouse only changes by
 * committing a new manifest, so an answer stays exact for as long as the manifest generation it was computed under
 * is current: callers put the generation in the key (and the tenant, so one tenant's answer is never another's).
 * Dashboards refresh the same panels for every viewer; here they cost one DuckDB statement per generation.
 * - Least recently used entries go first once the estimated size passes `maxBytes`.
 * - Identical requests that arrive while the first is still running wait for it instead of running it again.
 * - Failures are not kept: the next request tries again.
 */

/** How an answer was obtained. */
export type CacheOutcome = 'hit' | 'shared' | 'miss';

export class ResultCache {
  private readonly entries = new Map<string, { value: unknown; bytes: number }>();
  private readonly running = new Map<string, Promise<unknown>>();
  private bytes = 0;

  /** `maxBytes` 0 keeps nothing (identical concurrent requests are still shared). */
  constructor(readonly maxBytes: number) {}

  /** Estimated bytes held. */
  get size(): number {
    return this.bytes;
  }

  /**
   * The answer under `key`: kept, being computed by another caller, or computed now by `compute` and kept when
   * `sizeOf` gives it a size (null: too large or not worth keeping).
   */
  async get<V>(
    key: string,
    compute: () => Promise<V>,
    sizeOf: (value: V) => number | null,
  ): Promise<{ value: V; outcome: CacheOutcome }> {
    const kept = this.entries.get(key);
    if (kept) {
      this.entries.delete(key); // re-inserted last: Map order is the recency order
      this.entries.set(key, kept);
      return { value: kept.value as V, outcome: 'hit' };
    }
    const pending = this.running.get(key);
    if (pending) return { value: (await pending) as V, outcome: 'shared' };
    const computing = compute();
    this.running.set(key, computing);
    try {
      const value = await computing;
      const bytes = sizeOf(value);
      if (bytes !== null && bytes <= this.maxBytes / 4) this.keep(key, value, bytes);
      return { value, outcome: 'miss' };
    } finally {
      this.running.delete(key);
    }
  }

  private keep(key: string, value: unknown, bytes: number): void {
    this.entries.set(key, { value, bytes });
    this.bytes += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= entry.bytes;
    }
  }
}

/** A rough size of rows of JS values: enough to bound the cache, not an exact heap figure. */
export function estimateRowsBytes(rows: readonly Record<string, unknown>[]): number {
  let bytes = 64;
  for (const row of rows) {
    bytes += 64;
    for (const value of Object.values(row)) bytes += typeof value === 'string' ? 40 + value.length * 2 : 24;
  }
  return bytes;
}

/**
 * A key part for statement parameters or a validated request: JSON with bigints spelled out (Dates become ISO text),
 * so equal values give equal keys. A Set or Map would turn into `{}` and make different requests share a key: refused.
 */
export function paramsKey(params: readonly unknown[]): string {
  return JSON.stringify(params, (_key, value: unknown) => {
    if (typeof value === 'bigint') return `${value}n`;
    if (value instanceof Set || value instanceof Map) throw new Error('a cache key cannot hold a Set or a Map');
    return value;
  });
}

/** A key part for a tenant's account allow-list (null: every account). */
export function scopeKey(accounts: readonly string[] | null): string {
  return accounts === null ? '*' : [...accounts].sort().join(',');
}

/** The key of an answer: whose (scopeKey), which data (manifest generation), what was asked (statement or download). */
export function answerKey(scope: string, generation: number, what: string, params: readonly unknown[]): string {
  return `${scope}\n${generation}\n${what}\n${paramsKey(params)}`;
}
