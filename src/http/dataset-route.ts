/**
 * `GET /datasets/<name>.<csv|json|parquet>`: a BI dataset over plain HTTP. The request is validated like its GraphQL
 * counterpart (same filter, limits and tenant scope), DuckDB writes the file (src/questions/dataset-export.ts), and the
 * bytes stream to the client with a download name, so a million-row CSV never sits in memory.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Tenant } from '../domain/api-keys.ts';
import { buffer } from 'node:stream/consumers';
import type { Readable } from 'node:stream';
import { CostMeter, type QueryCost } from '../store/query-cost.ts';
import { answerKey, scopeKey, type CacheOutcome, type ResultCache } from '../store/result-cache.ts';
import type { QueryContext, QueryLogger } from '../store/query-runner.ts';
import { exportDataset } from '../questions/dataset-export.ts';
import { DATASET_NAMES, type DatasetName, type DatasetRequest } from '../questions/dataset-statement.ts';
import { DATASET_FORMATS, type DatasetFormat } from '../domain/dataset-formats.ts';
import type { WarehouseReader } from '../store/warehouse-reader.ts';
import { readyReferenceTables, referenceKindsOf } from '../questions/reference-lookup.ts';
import { readyInventorySnapshots } from '../questions/inventory-lookup.ts';
import { parseDatasetRequest } from './dataset-params.ts';
import { sendError, sendFailure } from './http-responses.ts';
import type { ServerMetrics } from './server-metrics.ts';

/** What the dataset route needs from the server. */
export interface DatasetRouteDeps {
  readonly db: QueryContext['db'];
  readonly log: QueryLogger & { error(obj: object, msg: string): void };
  /** Directory the exports are written into (allowed to the API's DuckDB instance). */
  readonly exportDir: string;
  readonly maxRows: number;
  readonly maxRangeMs: number;
  /** Longest window of an aggregate dataset the rollup tiers answer (--max-tier-range-days). */
  readonly maxTierRangeMs?: number;
  /** Time budget of one export. */
  readonly timeoutMs: number;
  readonly metrics: ServerMetrics;
  /** Small downloads are kept here per tenant and manifest generation; identical downloads in flight share a run. */
  readonly resultCache?: ResultCache | null;
}

/** Downloads up to this size are kept in the result cache (a summary, a top-N, a page of flows), larger ones stream. */
const MAX_CACHED_DOWNLOAD_BYTES = 1 << 20;

/** A written download: its bytes kept in memory when small (shareable), else a stream over the export (read once). */
interface Download {
  readonly rows: number;
  readonly limitReached: boolean;
  readonly bytes: number;
  /** What running the export cost (also reported on an answer taken from the cache). */
  readonly cost: QueryCost;
  readonly body: Buffer | null;
  readonly stream: Readable | null;
}

async function exportDownload(
  ctx: QueryContext,
  request: DatasetRequest,
  format: DatasetFormat,
  dir: string,
): Promise<Download> {
  const file = await exportDataset(ctx, request, format, dir);
  const small = file.bytes <= MAX_CACHED_DOWNLOAD_BYTES;
  const body = small ? await buffer(file.stream) : null;
  return {
    rows: file.rows,
    limitReached: file.limitReached,
    bytes: file.bytes,
    cost: ctx.cost.snapshot(),
    body,
    stream: small ? null : file.stream,
  };
}

/**
 * The download of `request`: from the result cache when an identical one is kept, shared with an identical one in
 * flight when it is small enough to share, otherwise exported now.
 */
async function download(
  ctx: QueryContext,
  request: DatasetRequest,
  format: DatasetFormat,
  tenant: Tenant,
  deps: DatasetRouteDeps,
): Promise<{ download: Download; cache: CacheOutcome }> {
  const run = () => exportDownload(ctx, request, format, deps.exportDir);
  if (!deps.resultCache) return { download: await run(), cache: 'miss' };
  const { generation } = await ctx.warehouse.manifest();
  const key = answerKey(scopeKey(tenant.accounts), generation, `datasets.${request.dataset}.${format}`, [request]);
  const { value, outcome } = await deps.resultCache.get(key, run, (d) => (d.body ? d.body.length + 256 : null));
  // A stream is read once: a request that joined a large export in flight runs its own.
  if (outcome === 'shared' && value.stream) return { download: await run(), cache: 'miss' };
  if (outcome !== 'miss')
    deps.log.info(
      { statement: `datasets.${request.dataset}.${format}`, rows: value.rows, cache: outcome },
      'query cached',
    );
  return { download: value, cache: outcome };
}

const CONTENT_TYPES: Record<DatasetFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
  parquet: 'application/vnd.apache.parquet',
};

const PATH = /^\/datasets\/([a-z]+)\.([a-z]+)$/;

/** The dataset and format of a `/datasets/...` path, or null when the path names none. */
export function datasetOfPath(path: string): { name: DatasetName; format: DatasetFormat } | null {
  const m = PATH.exec(path);
  if (
    !m ||
    !(DATASET_NAMES as readonly string[]).includes(m[1]!) ||
    !(DATASET_FORMATS as readonly string[]).includes(m[2]!)
  )
    return null;
  return { name: m[1] as DatasetName, format: m[2] as DatasetFormat };
}

/** Answers one dataset request for `tenant` over `warehouse` (already scoped to the tenant); returns the status. */
export async function handleDatasetRequest(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  tenant: Tenant,
  warehouse: WarehouseReader,
  deps: DatasetRouteDeps,
  client?: string,
): Promise<number> {
  const target = datasetOfPath(url.pathname);
  if (!target) {
    sendError(
      res,
      404,
      'NOT_FOUND',
      `No dataset at ${url.pathname}: expected /datasets/<${DATASET_NAMES.join('|')}>.<${DATASET_FORMATS.join('|')}>`,
    );
    return 404;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendError(res, 405, 'METHOD_NOT_ALLOWED', 'Datasets are read with GET', {}, { allow: 'GET, HEAD' });
    return 405;
  }
  const ctx: QueryContext = {
    db: deps.db,
    warehouse,
    cost: new CostMeter(),
    deadline: Date.now() + deps.timeoutMs,
    maxRecordRangeMs: deps.maxRangeMs,
    log: deps.log,
    ...(client ? { client } : {}),
  };
  try {
    const request = parseDatasetRequest(target.name, url.searchParams, {
      now: new Date(),
      latestDataEnd: await warehouse.latestDataEnd(),
      referenceTables: await readyReferenceTables(
        warehouse,
        referenceKindsOf({
          awsServices: url.searchParams.get('awsService'),
          networks: url.searchParams.get('network'),
        }),
      ),
      ...(url.searchParams.has('tagKey') || url.searchParams.has('tagValue')
        ? { inventorySnapshots: await readyInventorySnapshots(warehouse) }
        : {}),
      maxRangeMs: deps.maxRangeMs,
      ...(deps.maxTierRangeMs !== undefined ? { maxTierRangeMs: deps.maxTierRangeMs } : {}),
      scopeAccountIds: tenant.accounts,
      maxRows: deps.maxRows,
    });
    const { download: answer, cache } = await download(ctx, request, target.format, tenant, deps);
    const { from, to } = request.filter.timeRange;
    const stamp = (d: Date) =>
      d
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d{3}Z$/, 'Z');
    const filename = `flowql-${target.name}-${stamp(from)}-${stamp(to)}.${target.format}`;
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[target.format],
      'content-length': answer.bytes,
      'content-disposition': `attachment; filename="${filename}"`,
      'cache-control': 'no-store',
      'x-flowql-rows': String(answer.rows),
      'x-flowql-limit-reached': String(answer.limitReached),
      'x-flowql-cost': JSON.stringify(answer.cost),
      'x-flowql-cache': cache,
    });
    const labels = { dataset: target.name, format: target.format };
    deps.metrics.datasetExports.inc(labels);
    if (req.method === 'HEAD') {
      answer.stream?.destroy();
      res.end();
      return 200;
    }
    deps.metrics.datasetBytes.inc(labels, answer.bytes);
    if (answer.body) {
      res.end(answer.body);
      return 200;
    }
    const stream = answer.stream!;
    await new Promise<void>((done) => {
      stream.once('error', (err) => {
        deps.log.error({ err, dataset: target.name }, 'dataset stream failed');
        res.destroy(err);
        done();
      });
      res.once('close', () => {
        stream.destroy();
        done();
      });
      stream.pipe(res);
    });
    return 200;
  } catch (err) {
    return sendFailure(res, err, (e) => deps.log.error({ err: e, dataset: target.name }, 'dataset export failed'));
  }
}
