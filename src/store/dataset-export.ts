/**
 * BI datasets: one validated request -> the statement answering it (the same builders GraphQL uses, over the request's
 * tenant-scoped manifest) -> `COPY ... TO` a fresh file in the export directory -> an open read stream over it.
 * The file is unlinked as soon as it is opened, so it disappears when the stream closes even if the client goes away
 * or the process dies mid-download; memory stays flat however large the file.
 */
import { randomUUID } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { FlowFilter } from '../domain/flow-filter.ts';
import { connectionRelationSql } from '../analytics/connection-filter-query.ts';
import { connectionSource } from '../analytics/connection-source.ts';
import type { EdgeLevel, HandshakeState } from '../analytics/connection-rules.ts';
import { edgeQuery, type EdgeOrder } from '../analytics/edge-query.ts';
import { handshakePageQuery } from '../analytics/handshake-query.ts';
import {
  FLOW_BOUNDS, FLOW_METRICS, type FlowDimension, type FlowMetric, type FlowValue, type TimeInterval, type TopNKey,
} from '../domain/aggregate-enums.ts';
import type { AggregateScope } from './queries/aggregate-expressions.ts';
import { datasetCopyQuery, type DatasetColumn, type DatasetFormat } from './queries/dataset-copy-query.ts';
import { datasetFlowPageStartsQuery, datasetFlowsPageQuery, datasetFlowsQuery } from './queries/dataset-flows-query.ts';
import { buildFlowBreakdownQuery } from './queries/flow-breakdown-query.ts';
import { flowFilterSql, prunePartitions } from './queries/flow-filter-query.ts';
import { parquetSourceSql } from './queries/parquet-source-query.ts';
import { buildFlowSummaryQuery } from './queries/flow-summary-query.ts';
import { buildFlowTimeSeriesQuery } from './queries/flow-time-series-query.ts';
import { buildFlowTopNQuery } from './queries/flow-top-n-query.ts';
import { bind, QueryTimeoutError, type QueryContext } from './query-runner.ts';
import type { SqlQuery } from './sql.ts';

/** Dataset names, as in `/datasets/<name>.<format>`. */
export const DATASET_NAMES = ['flows', 'summary', 'timeseries', 'topn', 'breakdown', 'handshakes', 'edges'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

/** A validated dataset request. */
export type DatasetRequest =
  | { readonly dataset: 'flows'; readonly filter: FlowFilter; readonly limit: number }
  | { readonly dataset: 'summary'; readonly filter: FlowFilter; readonly values: readonly FlowValue[] }
  | {
      readonly dataset: 'timeseries';
      readonly filter: FlowFilter;
      readonly interval: TimeInterval;
      readonly values: readonly FlowValue[];
      readonly groupBy: { readonly dimension: FlowDimension; readonly maxSeries: number; readonly rankBy: FlowMetric } | null;
    }
  | { readonly dataset: 'topn'; readonly filter: FlowFilter; readonly by: TopNKey; readonly metric: FlowMetric; readonly values: readonly FlowValue[]; readonly limit: number }
  | {
      readonly dataset: 'breakdown';
      readonly filter: FlowFilter;
      readonly dimensions: readonly FlowDimension[];
      readonly orderBy: FlowMetric;
      readonly values: readonly FlowValue[];
      readonly limit: number;
    }
  | { readonly dataset: 'handshakes'; readonly filter: FlowFilter; readonly states: readonly HandshakeState[] | null; readonly limit: number }
  | { readonly dataset: 'edges'; readonly filter: FlowFilter; readonly level: EdgeLevel; readonly orderBy: EdgeOrder; readonly limit: number };

/** A written dataset, ready to stream. */
export interface DatasetFile {
  readonly stream: Readable;
  readonly bytes: number;
  readonly rows: number;
  /** The file holds the request's row limit: more rows may have matched (narrow the filter or raise `limit`). */
  readonly limitReached: boolean;
}

const ALL_VALUES: readonly FlowValue[] = [...FLOW_METRICS, ...FLOW_BOUNDS];
const ordered = (values: readonly FlowValue[]): FlowValue[] => ALL_VALUES.filter((v) => values.includes(v));

async function flowScope(ctx: QueryContext, filter: FlowFilter): Promise<{ scope: AggregateScope; files: string[] }> {
  const files = prunePartitions((await ctx.warehouse.manifest()).files, filter);
  ctx.cost.recordScan(files);
  const paths = files.map((f) => ctx.warehouse.absolutePath(f));
  return { scope: { source: parquetSourceSql(paths), where: flowFilterSql(filter) }, files: paths };
}

async function connectionRows(ctx: QueryContext, filter: FlowFilter, table: 'handshakes' | 'edges') {
  const manifest = await ctx.warehouse.manifest();
  const source = connectionSource(manifest.files, filter, table, (f) => ctx.warehouse.absolutePath(f));
  ctx.cost.recordScan(source.files);
  return connectionRelationSql(source.rows, filter, table);
}

/** The statement answering `req` and how many of its rows the dataset keeps. */
export async function datasetStatement(ctx: QueryContext, req: DatasetRequest): Promise<{ query: SqlQuery; limit: number }> {
  switch (req.dataset) {
    case 'flows': {
      const { scope, files } = await flowScope(ctx, req.filter);
      return { query: datasetFlowsQuery({ files, where: scope.where, limit: req.limit }), limit: req.limit };
    }
    case 'summary': {
      const { scope } = await flowScope(ctx, req.filter);
      return { query: buildFlowSummaryQuery(scope, ordered(req.values)), limit: Number.MAX_SAFE_INTEGER };
    }
    case 'timeseries': {
      const { scope } = await flowScope(ctx, req.filter);
      const query = buildFlowTimeSeriesQuery(scope, {
        interval: req.interval,
        values: ordered(req.values),
        ...(req.groupBy ? { groupBy: req.groupBy } : {}),
      });
      return { query, limit: Number.MAX_SAFE_INTEGER };
    }
    case 'topn': {
      const { scope } = await flowScope(ctx, req.filter);
      const values = ordered([req.metric, ...req.values]);
      return { query: buildFlowTopNQuery(scope, { by: req.by, metric: req.metric, values, limit: req.limit }), limit: req.limit };
    }
    case 'breakdown': {
      const { scope } = await flowScope(ctx, req.filter);
      const values = ordered([req.orderBy, ...req.values]);
      const query = buildFlowBreakdownQuery(scope, { dimensions: req.dimensions, orderBy: req.orderBy, values, limit: req.limit });
      return { query, limit: req.limit };
    }
    case 'handshakes': {
      const rows = await connectionRows(ctx, req.filter, 'handshakes');
      return { query: handshakePageQuery({ rows, states: req.states, first: req.limit, after: null }), limit: req.limit };
    }
    case 'edges': {
      const rows = await connectionRows(ctx, req.filter, 'edges');
      const query = edgeQuery({ rows, level: req.level, orderBy: req.orderBy, limit: req.limit, offset: 0 });
      return { query, limit: req.limit };
    }
  }
}

/** Rows per CSV page of the flows dataset: bounds the sort's memory (a top-N of this many rows at a time). */
export const FLOW_CSV_PAGE_ROWS = 100_000;

type Connection = Awaited<ReturnType<QueryContext['db']['connect']>>;

async function runBound(connection: Connection, query: SqlQuery) {
  const bound = query.params.map(bind);
  return connection.runAndReadAll(query.text, bound.map((b) => b[0]), bound.map((b) => b[1]));
}

/** COPYs `inner` (at most `limit` rows) into `target`; returns the row count DuckDB reports. */
async function copyToFile(connection: Connection, inner: SqlQuery, format: DatasetFormat, target: string, limit: number, header: boolean): Promise<number> {
  // The result's columns (names and types) decide each column's format; a prepared statement with untyped
  // parameters does not know them yet, so describe the bound statement by running it with LIMIT 0.
  const described = await runBound(connection, { ...inner, text: `SELECT * FROM (${inner.text}) AS described LIMIT 0` });
  const columns: DatasetColumn[] = described.columnNames().map((n, i) => ({ name: n, typeId: described.columnTypeId(i) }));
  const result = await runBound(connection, datasetCopyQuery(inner, columns, format, target, limit, { header }));
  return Number(result.getRows()[0]?.[0] ?? 0);
}

/** The COPY statements of a request, each with its row cap: one, or pages of the flows CSV. */
async function* copyPlan(
  ctx: QueryContext,
  connection: Connection,
  req: DatasetRequest,
  format: DatasetFormat,
): AsyncGenerator<{ query: SqlQuery; limit: number; header: boolean }> {
  if (req.dataset !== 'flows' || format !== 'csv' || req.limit <= FLOW_CSV_PAGE_ROWS) {
    const { query, limit } = await datasetStatement(ctx, req);
    yield { query, limit, header: true };
    return;
  }
  // A large CSV is written page by page (CSV pages concatenate; JSON arrays and Parquet files do not).
  const { scope, files } = await flowScope(ctx, req.filter);
  const starts = await runBound(connection, datasetFlowPageStartsQuery({ files, where: scope.where, limit: req.limit, pageSize: FLOW_CSV_PAGE_ROWS }));
  const keys = starts.getRowObjectsJS().map((r) => ({ startUs: r.start_us as bigint, flowId: r.flow_id as bigint }));
  if (keys.length === 0) {
    yield { query: datasetFlowsQuery({ files, where: scope.where, limit: 0 }), limit: 0, header: true };
    return;
  }
  for (const [i, start] of keys.entries()) {
    const limit = Math.min(FLOW_CSV_PAGE_ROWS, req.limit - i * FLOW_CSV_PAGE_ROWS);
    yield { query: datasetFlowsPageQuery({ files, where: scope.where, start, limit }), limit, header: i === 0 };
  }
}

/** One stream over several files in order (each already unlinked), closing each handle when read or abandoned. */
function concatenate(handles: readonly FileHandle[]): Readable {
  return Readable.from(
    (async function* () {
      try {
        for (const handle of handles) for await (const chunk of handle.createReadStream({ autoClose: false })) yield chunk as Buffer;
      } finally {
        await Promise.all(handles.map((h) => h.close().catch(() => {})));
      }
    })(),
  );
}

/**
 * Writes the dataset of `req` as `format` into `dir` (an allowed directory of the API's DuckDB instance) within the
 * request's time budget, and returns a stream over it.
 */
export async function exportDataset(ctx: QueryContext, req: DatasetRequest, format: DatasetFormat, dir: string): Promise<DatasetFile> {
  const started = performance.now();
  const name = `datasets.${req.dataset}.${format}`;
  const budgetMs = Math.max(0, ctx.deadline - Date.now());
  if (budgetMs === 0) throw new QueryTimeoutError(name, 0);
  const connection = await ctx.db.connect();
  let interrupted = false;
  const timer = setTimeout(() => {
    interrupted = true;
    connection.interrupt();
  }, budgetMs);
  const targets: string[] = [];
  const handles: FileHandle[] = [];
  try {
    let rows = 0;
    let limit = 0;
    for await (const step of copyPlan(ctx, connection, req, format)) {
      const target = join(dir, `${randomUUID()}.${format}`);
      targets.push(target);
      rows += await copyToFile(connection, step.query, format, target, step.limit, step.header);
      limit += step.limit;
    }
    let bytes = 0;
    for (const target of targets) {
      const handle = await open(target, 'r');
      handles.push(handle);
      bytes += (await handle.stat()).size;
      await rm(target, { force: true });
    }
    ctx.cost.recordRows(rows);
    ctx.log.info({ statement: name, ms: Math.round(performance.now() - started), rows, bytes, files: targets.length }, 'query');
    // COPY only reports its row count: a file holding exactly `limit` rows may or may not have been cut.
    const limitReached = limit < Number.MAX_SAFE_INTEGER && rows >= limit;
    return { stream: concatenate(handles), bytes, rows, limitReached };
  } catch (err) {
    await Promise.all([...targets.map((t) => rm(t, { force: true })), ...handles.map((h) => h.close().catch(() => {}))]);
    const ms = Math.round(performance.now() - started);
    if (interrupted) {
      ctx.log.warn({ statement: name, ms, budgetMs }, 'query interrupted');
      throw new QueryTimeoutError(name, budgetMs);
    }
    ctx.log.warn({ statement: name, ms, err: (err as Error).message }, 'query failed');
    throw new Error(`query ${name} failed: ${(err as Error).message}`, { cause: err });
  } finally {
    clearTimeout(timer);
    connection.closeSync();
  }
}
