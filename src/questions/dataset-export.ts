/**
 * BI datasets: one validated request -> the statement answering it (dataset-statement.ts: the builders GraphQL uses,
 * over the request's tenant-scoped manifest) -> `COPY ... TO` fresh files in the export directory -> one read stream over them.
 * Files are unlinked as soon as they are opened, so they disappear when the stream closes even if the client goes
 * away or the process dies mid-download. Large flows exports are written in sorted runs (writeFlows), so memory stays
 * flat however many rows are asked for.
 */
import { randomUUID } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { DuckDBInstance } from '@duckdb/node-api';
import type { FlowFilter } from '../domain/flow-filter.ts';
import type { DatasetFormat } from '../domain/dataset-formats.ts';
import type { AggregateScope } from '../store/queries/aggregate-expressions.ts';
import { datasetCopyQuery, type CopyPiece, type DatasetColumn } from '../store/queries/dataset-copy-query.ts';
import {
  datasetFlowRunsQuery,
  datasetFlowsQuery,
  datasetFlowsRunQuery,
  datasetRunsQuery,
  type FlowRun,
} from '../store/queries/dataset-flows-query.ts';
import { concatenatedFiles, jsonArrayBytes, jsonArrayOfLines } from '../store/export-file-stream.ts';
import { flowFilterSql, prunePartitions } from '../store/queries/flow-filter-query.ts';
import { parquetSourceSql } from '../store/queries/parquet-source-query.ts';
import { openApiDatabase } from '../store/duckdb.ts';
import { bind, runBound, withStatementBudget, type Connection, type QueryContext } from '../store/query-runner.ts';
import type { SqlQuery } from '../store/sql.ts';
import { scanFiles } from '../store/scan-files.ts';
import { datasetStatement, type DatasetRequest } from './dataset-statement.ts';
import { nameSources } from './name-sources.ts';

/** A written dataset, ready to stream. */
export interface DatasetFile {
  readonly stream: Readable;
  readonly bytes: number;
  readonly rows: number;
  /** The file holds the request's row limit: more rows may have matched (narrow the filter or raise `limit`). */
  readonly limitReached: boolean;
}

/** The flows rows of a flows download (record grain: a download lists records, see aggregateScope for totals). */
async function flowScope(ctx: QueryContext, filter: FlowFilter): Promise<{ scope: AggregateScope; files: string[] }> {
  const files = prunePartitions((await ctx.warehouse.manifest()).files, filter);
  await scanFiles(ctx, files);
  const paths = files.map((f) => ctx.warehouse.absolutePath(f));
  return { scope: { source: parquetSourceSql(paths), where: flowFilterSql(filter) }, files: paths };
}

/**
 * Rows per sorted run of a large flows export, by format. A run is the unit of sorting (of whole ~80-column rows) and
 * of DuckDB's writer buffers, so this bounds the export's memory whatever its row count. Measured server growth for
 * 250k / 1M rows: CSV +123 / +147 MiB with runs of 50,000 (+42 / +76 MiB with 10,000, but 40% slower); JSON, whose
 * writer holds far more per row, +351 / +445 MiB with 50,000 and +113 / +167 MiB with 10,000.
 */
export const FLOW_EXPORT_RUN_ROWS: Readonly<Record<DatasetFormat, number>> = {
  csv: 50_000,
  json: 10_000,
  parquet: 50_000,
};

/**
 * Most runs in one export: each run's file stays open until it is sent (it is unlinked once open), so a huge `limit`
 * gets larger runs rather than more open files than a process may hold (often 1,024).
 */
const MAX_RUNS = 200;

// Result columns by statement shape (text and parameter types): a shape's columns never change, and every download
// of the same question with other values (another window, another account) has the same shape. Bounded: the shapes
// are the builders' (datasets x options), a few hundred at most.
const describedShapes = new Map<string, DatasetColumn[]>();
const MAX_DESCRIBED_SHAPES = 512;

/**
 * The result columns (names and types) of `inner`, which decide each column's format in the file. A prepared
 * statement with untyped parameters does not know them yet, so the bound statement runs with LIMIT 0, once per
 * statement shape (under load every statement waits its turn in DuckDB's queue: one less is one wait less).
 */
async function describeColumns(connection: Connection, inner: SqlQuery): Promise<DatasetColumn[]> {
  const shape = `${inner.text}\u0000${inner.params.map((p) => bind(p)[1].toString()).join(',')}`;
  const known = describedShapes.get(shape);
  if (known) return known;
  const described = await runBound(connection, {
    ...inner,
    text: `SELECT * FROM (${inner.text}) AS described LIMIT 0`,
  });
  const columns = described.columnNames().map((n, i) => ({ name: n, typeId: described.columnTypeId(i) }));
  if (describedShapes.size >= MAX_DESCRIBED_SHAPES) describedShapes.delete(describedShapes.keys().next().value!);
  describedShapes.set(shape, columns);
  return columns;
}

/** COPYs `inner` (cut at `limit` rows unless null) into `target` as `format`; returns the row count DuckDB reports. */
async function copyToFile(
  connection: Connection,
  inner: SqlQuery,
  format: DatasetFormat,
  target: string,
  limit: number | null,
  piece: CopyPiece = {},
): Promise<number> {
  const result = await runBound(
    connection,
    datasetCopyQuery(inner, await describeColumns(connection, inner), format, target, limit, piece),
  );
  return Number(result.getRows()[0]?.[0] ?? 0);
}

/** The files of an export, in order, and how they join into the download. */
interface WrittenExport {
  readonly files: readonly string[];
  readonly rows: number;
  readonly joined: 'concatenated' | 'json-array';
}

/** The statement's answer (cut at `limit` rows unless null) as one file. */
async function writeWhole(
  connection: Connection,
  query: SqlQuery,
  limit: number | null,
  format: DatasetFormat,
  target: string,
  scratch: string[],
): Promise<WrittenExport> {
  scratch.push(target);
  return { files: [target], rows: await copyToFile(connection, query, format, target, limit), joined: 'concatenated' };
}

/**
 * The flows dataset. A selection larger than one run is cut into runs of about `runRows` rows by start_time
 * (datasetFlowRunsQuery; larger runs when `limit` would need more than MAX_RUNS), each sorted on its own, so no step
 * holds more than one run however many rows are asked for. (One ordered COPY of the whole selection is no answer: with more than one thread DuckDB buffers what the
 * faster thread wrote ahead, measured at +300 MB for a 1M-row CSV and +1.3 GB for JSON, growing with the file.)
 * - CSV: one file per run, the header in the first only; the files are sent one after another.
 * - JSON: one newline-delimited file per run, joined into one array while sent (export-file-stream.ts).
 * - Parquet (files do not concatenate): runs as Parquet, then one COPY reading them back in file order, on a
 *   single-threaded instance so that it never reads ahead of what it writes (singleThreadInstance).
 * Only the run where the row limit falls gets a LIMIT (a top-N of that run); the COPY around the runs has none (see
 * datasetCopyQuery on what a LIMIT there would cost).
 */
async function writeFlows(
  ctx: QueryContext,
  connection: Connection,
  req: DatasetRequest & { dataset: 'flows' },
  format: DatasetFormat,
  target: string,
  runRows: number,
  scratch: string[],
): Promise<WrittenExport> {
  const { scope, files } = await flowScope(ctx, req.filter);
  const names = await nameSources(ctx, req.filter);
  if (req.limit <= runRows)
    return writeWhole(
      connection,
      datasetFlowsQuery({ files, where: scope.where, limit: req.limit, names }),
      req.limit,
      format,
      target,
      scratch,
    );
  const runSize = Math.max(runRows, Math.ceil(req.limit / MAX_RUNS));
  const runRowsResult = await runBound(
    connection,
    datasetFlowRunsQuery({ files, where: scope.where, runRows: runSize }),
  );
  const runs: FlowRun[] = runRowsResult
    .getRowObjectsJS()
    .map((r) => ({ startUs: r.start_us as bigint, firstRow: Number(r.first_row), rows: Number(r.rows) }))
    .filter((run) => run.firstRow < req.limit);
  if (runs.length <= 1)
    return writeWhole(
      connection,
      datasetFlowsQuery({ files, where: scope.where, limit: req.limit, names }),
      req.limit,
      format,
      target,
      scratch,
    );
  const runFiles: string[] = [];
  let rows = 0;
  for (const [i, run] of runs.entries()) {
    const file = `${target}.run-${i}`;
    scratch.push(file);
    runFiles.push(file);
    const cut = run.firstRow + run.rows > req.limit ? req.limit - run.firstRow : null;
    const query = datasetFlowsRunQuery({
      files,
      where: scope.where,
      startUs: run.startUs,
      endUs: runs[i + 1]?.startUs ?? null,
      limit: cut,
      names,
    });
    rows += await copyToFile(connection, query, format, file, null, { csvHeader: i === 0, jsonArray: false });
  }
  if (format !== 'parquet') return { files: runFiles, rows, joined: format === 'json' ? 'json-array' : 'concatenated' };
  scratch.push(target);
  const memoryLimit = async () =>
    String((await connection.runAndReadAll("SELECT current_setting('memory_limit')")).getRows()[0]?.[0]);
  const single = await singleThreadInstance(ctx.db, dirname(target), memoryLimit);
  await withStatementBudget(
    ctx,
    'datasets.flows.parquet.join',
    async (c) => ({
      value: await copyToFile(c, datasetRunsQuery(runFiles), 'parquet', target, null),
      logged: { runs: runFiles.length },
    }),
    single,
  );
  return { files: [target], rows, joined: 'concatenated' };
}

// One single-threaded instance per API instance and export directory, opened on first use (see singleThreadInstance).
const singleThreadInstances = new WeakMap<DuckDBInstance, Map<string, Promise<DuckDBInstance>>>();

/**
 * A DuckDB instance with one thread, locked down to the export directory, for joining Parquet runs into one file. With
 * two threads the order-preserving COPY buffers what the faster thread read ahead: measured on 1M rows (20 runs),
 * +747 MiB with 2 threads and +92 MiB with 1, for 15% more time. DuckDB sets threads per instance, not per
 * connection, hence an instance of its own, with the API instance's memory limit (`memoryLimit`, asked on first use).
 */
function singleThreadInstance(
  db: DuckDBInstance,
  exportDir: string,
  memoryLimit: () => Promise<string>,
): Promise<DuckDBInstance> {
  let byDir = singleThreadInstances.get(db);
  if (!byDir) singleThreadInstances.set(db, (byDir = new Map()));
  let instance = byDir.get(exportDir);
  if (!instance) {
    instance = memoryLimit().then((limit) =>
      openApiDatabase({ warehouseRoot: exportDir, threads: 1, memoryLimit: limit }),
    );
    instance.catch(() => byDir.delete(exportDir)); // a failed open is retried by the next download
    byDir.set(exportDir, instance);
  }
  return instance;
}

/**
 * Writes the dataset of `req` as `format` into `dir` (an allowed directory of the API's DuckDB instance) within the
 * request's time budget, and returns a stream over it.
 */
export async function exportDataset(
  ctx: QueryContext,
  req: DatasetRequest,
  format: DatasetFormat,
  dir: string,
  runRows = FLOW_EXPORT_RUN_ROWS[format],
): Promise<DatasetFile> {
  const name = `datasets.${req.dataset}.${format}`;
  const target = join(dir, `${randomUUID()}.${format}`);
  const scratch: string[] = [];
  try {
    return await withStatementBudget(ctx, name, async (connection) => {
      const handles: FileHandle[] = [];
      try {
        let limit: number;
        let written: WrittenExport;
        if (req.dataset === 'flows') {
          limit = req.limit;
          written = await writeFlows(ctx, connection, req, format, target, runRows, scratch);
        } else {
          const statement = await datasetStatement(ctx, req);
          limit = statement.limit;
          written = await writeWhole(connection, statement.query, limit, format, target, scratch);
        }
        let bytes = 0;
        for (const file of written.files) {
          const handle = await open(file, 'r');
          handles.push(handle);
          bytes += (await handle.stat()).size;
        }
        // Unlinked once open: the bytes live until the stream closes its handles, even if the process dies first.
        await Promise.all(scratch.map((file) => rm(file, { force: true })));
        const { rows } = written;
        if (written.joined === 'json-array') bytes = jsonArrayBytes(bytes, rows);
        ctx.cost.recordRows(rows);
        // COPY only reports its row count: a file holding exactly `limit` rows may or may not have been cut.
        const limitReached = limit < Number.MAX_SAFE_INTEGER && rows >= limit;
        const owned = handles.splice(0); // the stream closes them from now on, not the catch below
        const stream = written.joined === 'json-array' ? jsonArrayOfLines(owned) : concatenatedFiles(owned);
        return { value: { stream, bytes, rows, limitReached }, logged: { rows, bytes, files: written.files.length } };
      } catch (err) {
        await Promise.all(handles.map((h) => h.close().catch(() => {})));
        throw err;
      }
    });
  } finally {
    await Promise.all(scratch.map((file) => rm(file, { force: true })));
  }
}
