/**
 * The series `flowql serve` exposes at /metrics: HTTP requests and latency per route, GraphQL operations and latency
 * per operation name, DuckDB statement time per statement name (taken from the query runner's log lines, so the
 * store needs no metrics dependency), dataset exports, auth failures, and the warehouse's ingest counters as the
 * manifest reports them (ingest runs in its own process; the committed manifest is the shared truth).
 */
import type { QueryLogger } from '../store/query-runner.ts';
import type { ResultCache } from '../store/result-cache.ts';
import type { FileSourceStats, WarehouseReader } from '../store/warehouse-reader.ts';
import { MetricsRegistry, type Counter, type Histogram } from './metrics-registry.ts';

/** The server's metrics, ready to increment. */
export interface ServerMetrics {
  readonly registry: MetricsRegistry;
  readonly httpRequests: Counter;
  readonly httpDuration: Histogram;
  readonly graphqlOperations: Counter;
  readonly graphqlDuration: Histogram;
  readonly duckdbQueries: Counter;
  readonly duckdbDuration: Histogram;
  readonly cachedAnswers: Counter;
  readonly datasetExports: Counter;
  readonly datasetBytes: Counter;
  readonly authFailures: Counter;
  /** Requests being handled now (graceful shutdown waits for this to reach 0). */
  inFlight: number;
  /** Refreshes the manifest gauges (call before rendering). */
  refresh(): Promise<void>;
}

/** Creates the registry and its series; `warehouse` feeds the ingest/manifest gauges, `cache` the cache's size. */
export function createServerMetrics(warehouse: WarehouseReader, cache?: ResultCache): ServerMetrics {
  const registry = new MetricsRegistry();
  const snapshot = { generation: 0, files: 0, objects: 0, records: 0, rejects: 0, lastIngest: 0 };
  const metrics: ServerMetrics = {
    registry,
    httpRequests: registry.counter('flowql_http_requests_total', 'HTTP requests by route, method and status.'),
    httpDuration: registry.histogram('flowql_http_request_duration_seconds', 'HTTP request latency by route.'),
    graphqlOperations: registry.counter(
      'flowql_graphql_operations_total',
      'GraphQL operations by operation name and outcome (ok, error).',
    ),
    graphqlDuration: registry.histogram(
      'flowql_graphql_operation_duration_seconds',
      'GraphQL operation latency by operation name.',
    ),
    duckdbQueries: registry.counter(
      'flowql_duckdb_queries_total',
      'DuckDB statements by statement name and outcome (ok, failed, interrupted).',
    ),
    duckdbDuration: registry.histogram(
      'flowql_duckdb_query_duration_seconds',
      'DuckDB statement time by statement name.',
    ),
    cachedAnswers: registry.counter(
      'flowql_cached_answers_total',
      'Statements and downloads answered without running DuckDB, by statement name and how (hit: kept answer; shared: joined an identical run in flight).',
    ),
    datasetExports: registry.counter('flowql_dataset_exports_total', 'Dataset downloads by dataset and format.'),
    datasetBytes: registry.counter(
      'flowql_dataset_export_bytes_total',
      'Bytes of dataset downloads by dataset and format.',
    ),
    authFailures: registry.counter(
      'flowql_auth_failures_total',
      'Requests refused by API key checks, by status (401, 403).',
    ),
    inFlight: 0,
    async refresh() {
      const m = await warehouse.manifest();
      snapshot.generation = m.generation;
      snapshot.files = m.files.length;
      snapshot.objects = m.ingest.objects;
      snapshot.records = m.ingest.records;
      snapshot.rejects = m.ingest.rejects;
      snapshot.lastIngest = m.ingest.lastIngestAt ? Date.parse(m.ingest.lastIngestAt) / 1000 : 0;
    },
  };
  registry.gauge('flowql_http_requests_in_flight', 'Requests being handled now.', () => [{ value: metrics.inFlight }]);
  if (cache)
    registry.gauge('flowql_result_cache_bytes', 'Estimated memory held by kept answers.', () => [
      { value: cache.size },
    ]);
  const files = warehouse.files;
  if (files?.stats) {
    const stat = (pick: (s: FileSourceStats) => number) => () => [{ value: pick(files.stats!()) }];
    registry.gauge(
      'flowql_s3_cache_bytes',
      'Bytes of Parquet files in the S3 replica cache (above the bound only while requests hold them).',
      stat((s) => s.bytes),
    );
    registry.gauge(
      'flowql_s3_cache_max_bytes',
      'Bound of the S3 replica cache (--cache-max-gb).',
      stat((s) => s.maxBytes),
    );
    registry.gauge(
      'flowql_s3_cache_files',
      'Parquet files in the S3 replica cache.',
      stat((s) => s.files),
    );
    registry.gauge(
      'flowql_s3_cache_held_files',
      'Cached files held by running requests.',
      stat((s) => s.pinnedFiles),
    );
    registry.gauge(
      'flowql_s3_cache_downloads',
      'Files downloaded from S3 since start.',
      stat((s) => s.downloads),
    );
    registry.gauge(
      'flowql_s3_cache_download_bytes',
      'Bytes downloaded from S3 since start.',
      stat((s) => s.downloadedBytes),
    );
    registry.gauge(
      'flowql_s3_cache_evictions',
      'Files evicted to keep the bound since start.',
      stat((s) => s.evictions),
    );
  }
  registry.gauge('flowql_manifest_generation', 'Generation of the committed manifest being served.', () => [
    { value: snapshot.generation },
  ]);
  registry.gauge('flowql_warehouse_files', 'Parquet files listed by the manifest.', () => [{ value: snapshot.files }]);
  registry.gauge('flowql_ingest_objects', 'Source objects ingested into the warehouse (from the manifest).', () => [
    { value: snapshot.objects },
  ]);
  registry.gauge('flowql_ingest_records', 'Flow records ingested into the warehouse (from the manifest).', () => [
    { value: snapshot.records },
  ]);
  registry.gauge('flowql_ingest_rejects', 'Lines rejected by ingest (from the manifest).', () => [
    { value: snapshot.rejects },
  ]);
  registry.gauge(
    'flowql_ingest_last_success_timestamp_seconds',
    'When the last ingest committed (Unix time, 0 = never).',
    () => [{ value: snapshot.lastIngest }],
  );
  return metrics;
}

/**
 * A query logger that also counts statements: the query runner logs `query` (done), `query failed` and
 * `query interrupted` with the statement name and its time in ms, and `query cached` for an answer taken from the
 * result cache.
 */
export function meteredQueryLogger<L extends QueryLogger>(log: L, metrics: ServerMetrics): L {
  const observe = (obj: object, msg: string): void => {
    const { statement, ms, cache } = obj as { statement?: unknown; ms?: unknown; cache?: unknown };
    if (msg === 'query cached' && typeof statement === 'string' && typeof cache === 'string')
      metrics.cachedAnswers.inc({ statement, how: cache });
    if (typeof statement !== 'string' || typeof ms !== 'number') return;
    const outcome =
      msg === 'query' ? 'ok' : msg === 'query interrupted' ? 'interrupted' : msg === 'query failed' ? 'failed' : null;
    if (!outcome) return;
    metrics.duckdbQueries.inc({ statement, outcome });
    metrics.duckdbDuration.observe({ statement }, ms / 1000);
  };
  return Object.assign(Object.create(log) as L, {
    info: (obj: object, msg: string) => {
      observe(obj, msg);
      log.info(obj, msg);
    },
    warn: (obj: object, msg: string) => {
      observe(obj, msg);
      log.warn(obj, msg);
    },
  });
}
