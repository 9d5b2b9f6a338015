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
 *
 * Compressing costs CPU though: a fifth of loading AWS-shaped v5 lines (0.30 of 1.39 CPU s for 400k lines in groups of
 * 26 objects, one DuckDB thread). So the first PLAIN_BATCH_ROWS rows of a batch that say how many they are (grouped
 * loads) go to tables of a second in-memory database without COMPRESS, a bounded 0.12 GiB at most; the rest are
 * compressed. A small batch (a `--watch` delivery, a cron run's few objects) is then never compressed, and a large one
 * pays for its first rows no more than its memory allows.
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
  /**
   * The table for rows filling `columns` (stored column names; others are ignored), created on first use. `rows`: how
   * many rows the caller is about to insert, when it knows: while the batch's plain budget holds them, an uncompressed
   * table (see the top of this file).
   */
  tableFor(c: DuckDBConnection, columns: Iterable<string>, rows?: number): Promise<BatchTable>;
  /**
   * Moves the rows of each uncompressed table into the compressed table of the same columns, where the batch has
   * both (it outgrew the plain budget), before a flush. Sorting a batch read from both at once ran out of memory: a
   * 2.08M-record batch of 35,000-record objects (a 10M-record day's 5-minute files) failed the 512 MB budget with as
   * few as 70,000 rows uncompressed, and wrote with them moved (bench:freshness's day).
   */
  consolidate(c: DuckDBConnection): Promise<void>;
  /** Every table created since the last `clear`. */
  tables(): Promise<readonly BatchTable[]>;
  /** Drops every table (after a flush). */
  clear(c: DuckDBConnection): Promise<void>;
}

/** The attached in-memory databases holding the batch tables, compressed and not (see the top of this file). */
const DATABASE = 'ingest_batch';
const PLAIN_DATABASE = 'ingest_batch_plain';

/** Rows of a batch kept uncompressed: ~465 bytes each for AWS's v5 fields, so at most ~0.12 GiB. */
export const PLAIN_BATCH_ROWS = 262_144;

const TYPE = new Map(STORED_COLUMNS.map((c) => [c.column, c.type]));

/** An empty batch. */
export function createBatchTables(): BatchTables {
  const byKey = new Map<string, Promise<BatchTable>>();
  // One ATTACH per database: two connections running `ATTACH IF NOT EXISTS` side by side can both find it missing, and
  // the second then fails ("already exists").
  const attached = new Map<string, Promise<unknown>>();
  const attach = (c: DuckDBConnection, database: string, options: string) => {
    let done = attached.get(database);
    if (done === undefined) {
      done = c.run(`ATTACH IF NOT EXISTS ':memory:' AS ${database}${options}`).catch((err: unknown) => {
        attached.delete(database);
        throw err;
      });
      attached.set(database, done);
    }
    return done;
  };
  let serial = 0;
  let plainRows = 0;
  return {
    tableFor(c, columns, rows) {
      const wanted = new Set(columns);
      // Identifiers only from the stored-column allow-list, in file order.
      const cols = STORED_COLUMNS.map((s) => s.column).filter((col) => col !== 'flow_id' && wanted.has(col));
      // Reserved here, before any await, so that loaders side by side never take more than the budget together.
      const plain = rows !== undefined && plainRows + rows <= PLAIN_BATCH_ROWS;
      if (plain) plainRows += rows;
      const key = `${plain ? 'plain' : 'compressed'}:${cols.join(',')}`;
      let table = byKey.get(key);
      if (table === undefined) {
        const name = `${plain ? PLAIN_DATABASE : DATABASE}.main.batch_${++serial}`;
        const ddl = [
          ...cols.map((col) => `${col} ${TYPE.get(col)!}`),
          ...PARTITION_COLUMNS.map((p) => `${p.column} ${p.type}`),
        ];
        // Registered before it exists, so a concurrent loader with the same layout waits for this CREATE; a failure is
        // its caller's alone (the batch does not keep a table that does not exist).
        const created: Promise<BatchTable> = (
          plain ? attach(c, PLAIN_DATABASE, '') : attach(c, DATABASE, ' (COMPRESS)')
        )
          .then(() => c.run(`CREATE TABLE ${name} (${ddl.join(', ')})`))
          .then(() => ({ name, columns: cols }));
        created.catch(() => {
          if (byKey.get(key) === created) byKey.delete(key);
        });
        table = created;
        byKey.set(key, table);
      }
      return table;
    },
    async consolidate(c) {
      for (const [key, plainTable] of [...byKey]) {
        if (!key.startsWith('plain:')) continue;
        const twin = byKey.get(`compressed:${key.slice('plain:'.length)}`);
        if (twin === undefined) continue;
        const [from, to] = [await plainTable, await twin];
        await c.run(`INSERT INTO ${to.name} BY NAME SELECT * FROM ${from.name}`);
        await c.run(`DROP TABLE ${from.name}`);
        byKey.delete(key);
      }
    },
    tables() {
      return Promise.all(byKey.values());
    },
    async clear(c) {
      const all = await Promise.all(byKey.values());
      byKey.clear();
      plainRows = 0;
      for (const t of all) await c.run(`DROP TABLE IF EXISTS ${t.name}`);
    },
  };
}
