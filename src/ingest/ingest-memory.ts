/**
 * The memory budget of the ingester's DuckDB (ingest, compact, derive), apart from the engine so the CLI can name and
 * check it without loading DuckDB (returnFreedPagesAtOnce in src/library-env.ts must run first). Why this size:
 * below, and ingest-engine.ts.
 */

/**
 * DuckDB memory_limit of an ingest, compact or derive run unless `--memory-limit` says otherwise. 448MB, not 512MB:
 * the derivation of a large hour (an org hour of the 100M-record set, ~800,000 records with its context) fills the
 * budget, and with 512MB the ingest's peak crept up with every commit's derivation to 0.87-0.89 GiB over 20M records
 * (the 100M run: 1.005 GiB); with 448MB the same 20M ingest peaked at 0.85 GiB, at the same CPU time within noise
 * (711 CPU s against 678-734 at 512MB). Smaller budgets spill sooner: 384MB cost 12% more CPU on a late hour of that
 * set.
 */
export const DEFAULT_MEMORY_LIMIT = '448MB';

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
