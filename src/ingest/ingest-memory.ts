/**
 * The memory budget of the ingester's DuckDB (ingest, compact, derive), apart from the engine so the CLI can name and
 * check it without loading DuckDB (returnFreedPagesAtOnce in src/library-env.ts must run first). Why 512MB: ingest-engine.ts.
 */

/** DuckDB memory_limit of an ingest, compact or derive run unless `--memory-limit` says otherwise. */
export const DEFAULT_MEMORY_LIMIT = '512MB';

const SIZE = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i;

/** Checks a `--memory-limit` value (DuckDB's size syntax, at least 64 MB); returns it trimmed. */
export function parseMemoryLimit(value: string): string {
  const m = SIZE.exec(value.trim());
  const unit = m?.[2]?.toUpperCase();
  const scale: Record<string, number> = {
    B: 1,
    KB: 1e3,
    MB: 1e6,
    GB: 1e9,
    TB: 1e12,
    KIB: 2 ** 10,
    MIB: 2 ** 20,
    GIB: 2 ** 30,
    TIB: 2 ** 40,
  };
  if (!m || unit === undefined || Number(m[1]) * scale[unit]! < 64e6) {
    throw new Error(`--memory-limit: expected a size of at least 64MB such as 512MB, 2GB or 1.5GiB, found '${value}'`);
  }
  return value.trim();
}
