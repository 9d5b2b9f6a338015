/**
 * What one request cost: partitions and files scanned, rows returned, wall time. Readers record scans, the query
 * runner records rows, and the GraphQL layer reports the total as `extensions.cost` on every response.
 */
import type { ManifestFile } from './layout.ts';

/** The figures reported to clients. */
export interface QueryCost {
  readonly partitionsScanned: number;
  readonly filesScanned: number;
  /** Rows of the files scanned, from the manifest: what the request read (flows_hourly rows stand for many records). */
  readonly rowsScanned: number;
  readonly rowsReturned: number;
  /** Statements answered from the result cache instead of DuckDB (their files are still counted as scanned). */
  readonly cachedStatements: number;
  readonly ms: number;
}

/** Accumulates the cost of one request (several queries may run for it, even concurrently). */
export class CostMeter {
  private readonly startedAt = performance.now();
  private readonly partitions = new Set<string>();
  private readonly files = new Map<string, number>();
  private rows = 0;
  private statements = 0;
  private cached = 0;

  /** Files a query is about to read (counted once per request, however many queries read them). */
  recordScan(files: readonly ManifestFile[]): void {
    for (const f of files) {
      this.files.set(f.path, f.rows);
      this.partitions.add(`${f.table}/${f.accountId}/${f.region}/${f.date}`);
    }
  }

  /** Rows a query returned to the API. */
  recordRows(n: number): void {
    this.rows += n;
    this.statements++;
  }

  /** Rows of an answer taken from the result cache: returned, but no statement ran. */
  recordCached(n: number): void {
    this.rows += n;
    this.cached++;
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
      ms: Math.round(performance.now() - this.startedAt),
    };
  }
}
