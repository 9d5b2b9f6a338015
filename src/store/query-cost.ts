/**
 * What one request cost: partitions and files scanned, rows returned, wall time. Readers record scans, the query
 * runner records rows, and the GraphQL layer reports the total as `extensions.cost` on every response.
 */
import type { ManifestFile, TableName } from './layout.ts';

/** The figures reported to clients. */
export interface QueryCost {
  readonly partitionsScanned: number;
  readonly filesScanned: number;
  /** Rows of the files scanned, from the manifest: what the request read (flows_hourly rows stand for many records). */
  readonly rowsScanned: number;
  readonly rowsReturned: number;
  /** Statements answered from the result cache instead of DuckDB (their files are still counted as scanned). */
  readonly cachedStatements: number;
  /**
   * The tiers read, coarsest first in each family: `flows_daily`, `flows_hourly` (rollups the planner picked,
   * src/questions/tier-plan.ts), `flows` (the records); `edges_daily`, `edges` and `org_edges_daily`, `org_edges`
   * (edge rows summed per day or per hour, src/analytics/connection-source.ts); `handshakes`, `org_handshakes`.
   * Empty when the request read no table.
   */
  readonly tiers: readonly Tier[];
  readonly ms: number;
}

/** The tables questions read, coarsest first in each family (flows, account edges, org edges, handshakes). */
export const TIERS = [
  'flows_daily',
  'flows_hourly',
  'flows',
  'edges_daily',
  'edges',
  'org_edges_daily',
  'org_edges',
  'handshakes',
  'org_handshakes',
] as const satisfies readonly TableName[];
export type Tier = (typeof TIERS)[number];

/** Accumulates the cost of one request (several queries may run for it, even concurrently). */
export class CostMeter {
  private readonly startedAt = performance.now();
  private readonly partitions = new Set<string>();
  private readonly files = new Map<string, number>();
  private readonly tables = new Set<string>();
  private rows = 0;
  private bytes = 0;
  private statements = 0;
  private cached = 0;

  /** Files a query is about to read (counted once per request, however many queries read them). */
  recordScan(files: readonly ManifestFile[]): void {
    for (const f of files) {
      this.files.set(f.path, f.rows);
      this.tables.add(f.table);
      this.partitions.add(`${f.table}/${f.accountId}/${f.region}/${f.date}`);
    }
  }

  /** Rows a query returned to the API, and their size as JSON values (jsonValueBytes). */
  recordRows(n: number, bytes = 0): void {
    this.rows += n;
    this.bytes += bytes;
    this.statements++;
  }

  /** Rows of an answer taken from the result cache: returned, but no statement ran. */
  recordCached(n: number, bytes = 0): void {
    this.rows += n;
    this.bytes += bytes;
    this.cached++;
  }

  /** JSON bytes of the values returned so far (what the response cap is checked against while the request runs). */
  get bytesReturned(): number {
    return this.bytes;
  }

  /** Number of statements run so far (tests use it to prove that nothing ran). */
  get statementsRun(): number {
    return this.statements;
  }

  /** The figures so far; `ms` is the wall time since the request started. */
  snapshot(): QueryCost {
    return {
      partitionsScanned: this.partitions.size,
      filesScanned: this.files.size,
      rowsScanned: [...this.files.values()].reduce((n, rows) => n + rows, 0),
      rowsReturned: this.rows,
      cachedStatements: this.cached,
      tiers: TIERS.filter((t) => this.tables.has(t)),
      ms: Math.round(performance.now() - this.startedAt),
    };
  }
}

/**
 * About the bytes `rows`' values take as JSON (keys left out): a statement's share of the response, counted while a
 * request runs so that one answer past the response cap stops it early, before the rest of its rows are read.
 */
export function jsonValueBytes(rows: readonly Record<string, unknown>[]): number {
  let bytes = 0;
  for (const row of rows) {
    for (const value of Object.values(row)) bytes += valueBytes(value);
  }
  return bytes;
}

function valueBytes(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return value.length + 3;
    case 'number':
    case 'bigint':
      return String(value).length + 3; // 64-bit values leave as strings (quoted)
    case 'boolean':
      return 5;
    case 'object':
      if (value === null) return 5;
      if (value instanceof Date) return 27;
      if (Array.isArray(value)) return value.reduce((n: number, v) => n + valueBytes(v), 2);
      return Object.values(value).reduce((n: number, v) => n + valueBytes(v) + 4, 2);
    default:
      return 5;
  }
}
