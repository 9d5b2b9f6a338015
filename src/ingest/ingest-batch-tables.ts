/**
 * The batch: in-memory tables holding loaded rows until the next commit, one table per set of filled columns. A v2
 * object fills 16 of the 75 stored columns; materialising the other 59 as NULLs cost more than reading the text, so
 * each table holds only the columns its objects can fill (plus the partition columns), and the writer pads the rest
 * (parquet-writer.ts). Objects with the same layout share a table; tables are created on first use.
 *
 * The tables live in an in-memory database attached with COMPRESS: DuckDB then compresses row groups as they fill,
 * and a batch of 1M AWS-shaped v5 records took 68 MiB instead of 415 MiB. It does so for inserts smaller than a row
 * group (122,880 rows) only: larger ones are moved in as they are, uncompressed, so grouped loads stay below that
 * (ingest-run.ts GROUP_MAX_LINES).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { PARTITION_COLUMNS, STORED_COLUMNS } from '../domain/flow-schema.ts';

/** One batch table. */
export interface BatchTable {
  /** Qualified name, e.g. `ingest_batch.main.batch_1`. */
  readonly name: string;
  /** Stored columns it holds, in file order (partition columns come on top). */
  readonly columns: readonly string[];
}

/** The batch's tables. */
export interface BatchTables {
  /** The table for rows filling `columns` (stored column names; others are ignored), created on first use. */
  tableFor(c: DuckDBConnection, columns: Iterable<string>): Promise<BatchTable>;
  /** Every table created since the last `clear`. */
  tables(): Promise<readonly BatchTable[]>;
  /** Drops every table (after a flush). */
  clear(c: DuckDBConnection): Promise<void>;
}

/** The attached in-memory database holding the batch tables (see the top of this file). */
const DATABASE = 'ingest_batch';

const TYPE = new Map(STORED_COLUMNS.map((c) => [c.column, c.type]));

/** An empty batch. */
export function createBatchTables(): BatchTables {
  const byKey = new Map<string, Promise<BatchTable>>();
  let serial = 0;
  return {
    tableFor(c, columns) {
      const wanted = new Set(columns);
      // Identifiers only from the stored-column allow-list, in file order.
      const cols = STORED_COLUMNS.map((s) => s.column).filter((col) => col !== 'flow_id' && wanted.has(col));
      const key = cols.join(',');
      let table = byKey.get(key);
      if (table === undefined) {
        const name = `${DATABASE}.main.batch_${++serial}`;
        const ddl = [
          ...cols.map((col) => `${col} ${TYPE.get(col)!}`),
          ...PARTITION_COLUMNS.map((p) => `${p.column} ${p.type}`),
        ];
        // Registered before it exists, so a concurrent loader with the same layout waits for this CREATE.
        table = c
          .run(`ATTACH IF NOT EXISTS ':memory:' AS ${DATABASE} (COMPRESS)`)
          .then(() => c.run(`CREATE TABLE ${name} (${ddl.join(', ')})`))
          .then(() => ({ name, columns: cols }));
        byKey.set(key, table);
      }
      return table;
    },
    tables() {
      return Promise.all(byKey.values());
    },
    async clear(c) {
      const all = await Promise.all(byKey.values());
      byKey.clear();
      for (const t of all) await c.run(`DROP TABLE IF EXISTS ${t.name}`);
    },
  };
}
