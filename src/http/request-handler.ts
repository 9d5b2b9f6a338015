/**
 * The API's one HTTP entry point: routes, access control, logs and metrics around GraphQL (yoga) and the extra
 * routes. Every request except `/health` and `/ready` is authenticated when keys are configured; the tenant's account
 * allow-list and a warehouse reader scoped to it go to yoga as server context and to the dataset route, so every
 * reader under either sees only the tenant's files. One JSON log line per request with route, status, tenant and time.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { YogaServerInstance } from 'graphql-yoga';
import { authenticateRequest } from '../auth/authenticate-request.ts';
import { createScopedWarehouses } from '../auth/scoped-warehouse.ts';
import { OPEN_TENANT, type ApiKeyScope, type ApiKeySet, type Tenant } from '../domain/api-keys.ts';
import type { GraphQLContext } from '../graphql/builder.ts';
import type { TenantServerContext } from '../graphql/yoga.ts';
import { pinWarehouse, type WarehouseReader } from '../store/warehouse-reader.ts';
import { handleDatasetRequest, type DatasetRouteDeps } from './dataset-route.ts';
import { sendError, sendJson } from './http-responses.ts';
import { resolvePersisted, type GraphQLBody, type PersistedOperations } from './persisted-operations.ts';
import { readinessChecksFor, type Readiness } from './readiness.ts';
import type { ServerMetrics } from './server-metrics.ts';

/** A logger with the levels the handler uses (pino fits). */
export interface HttpLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

/** Everything the handler routes to. */
export interface RequestHandlerDeps extends Omit<DatasetRouteDeps, 'log' | 'metrics'> {
  readonly yoga: YogaServerInstance<Record<string, unknown>, GraphQLContext>;
  /** The unscoped warehouse; tenants get scoped views of it. */
  readonly warehouse: WarehouseReader;
  readonly log: HttpLogger;
  readonly metrics: ServerMetrics;
  /** Validated API keys; null = no keys configured (everything open). */
  readonly apiKeys: ApiKeySet | null;
  /** Allow-listed operations; null = none configured. */
  readonly persisted: PersistedOperations | null;
  readonly readiness: () => Promise<Readiness>;
}

type Route = '/graphql' | '/datasets' | '/health' | '/ready' | '/metrics' | 'other';
const MAX_BODY_BYTES = 1 << 20;

function routeOf(path: string): Route {
  if (path === '/graphql') return '/graphql';
  if (path.startsWith('/datasets/')) return '/datasets';
  if (path === '/health' || path === '/ready' || path === '/metrics') return path;
  return 'other';
}

const SCOPE_OF: Partial<Record<Route, ApiKeyScope>> = {
  '/graphql': 'graphql',
  '/datasets': 'datasets',
  '/metrics': 'metrics',
};

async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function graphqlRefusal(res: ServerResponse, status: number, code: string, message: string): number {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] });
  return status;
}

/** Runs a GraphQL request whose body had to be read first (persisted operations), then writes yoga's response. */
async function runPersisted(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  tenant: Tenant,
  server: TenantServerContext,
  deps: RequestHandlerDeps,
): Promise<number> {
  const list = deps.persisted ?? new Map<string, string>();
  let body: GraphQLBody;
  if (req.method === 'POST') {
    const text = await readBody(req);
    if (text === null) return graphqlRefusal(res, 413, 'BAD_REQUEST', `Request body over ${MAX_BODY_BYTES} bytes`);
    try {
      body = JSON.parse(text) as GraphQLBody;
    } catch {
      return graphqlRefusal(res, 400, 'BAD_REQUEST', 'Request body is not JSON');
    }
  } else {
    const p = url.searchParams;
    const json = (name: string): unknown => {
      const v = p.get(name);
      try {
        return v ? JSON.parse(v) : undefined;
      } catch {
        return undefined;
      }
    };
    body = {
      query: p.get('query') ?? undefined,
      documentId: p.get('documentId') ?? undefined,
      operationName: p.get('operationName') ?? undefined,
      variables: json('variables'),
      extensions: json('extensions') as GraphQLBody['extensions'],
    };
  }
  const resolved = resolvePersisted(body, list, tenant.persistedOnly);
  if (!resolved.ok) return graphqlRefusal(res, 403, 'PERSISTED_QUERY_ONLY', resolved.message);
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers))
    if (typeof v === 'string' && k !== 'content-length') headers.set(k, v);
  headers.set('content-type', 'application/json');
  const request = new Request(new URL('/graphql', url), {
    method: 'POST',
    headers,
    body: JSON.stringify(resolved.body),
  });
  return sendFetchResponse(res, await deps.yoga.fetch(request, server as Record<string, unknown>));
}

/** Writes a fetch Response (yoga's answer) to the node response; resolves with its status once sent. */
async function sendFetchResponse(res: ServerResponse, response: Response): Promise<number> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    headers[name] = name === 'set-cookie' ? response.headers.getSetCookie() : value;
  });
  res.writeHead(response.status, headers);
  if (!response.body) {
    res.end();
    return response.status;
  }
  // yoga's bodies are whatwg-node ponyfill streams (Readable.fromWeb refuses them): copy chunk by chunk with backpressure.
  const reader = response.body.getReader();
  try {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      if (res.destroyed) {
        await reader.cancel();
        break;
      }
      if (!res.write(chunk.value))
        await new Promise<void>((drained) => res.once('drain', drained).once('close', drained));
    }
  } finally {
    reader.releaseLock();
    res.end();
  }
  return response.status;
}

/** The node `request` listener of the API server. */
/**
 * Who a request is from, for the statement queue's fairness (src/store/statement-queue.ts): the API key's name, or
 * without keys the caller's address (every open caller behind one proxy shares a turn; keys tell them apart).
 */
function clientOf(req: IncomingMessage, tenant: Tenant): string {
  return tenant === OPEN_TENANT ? `address ${req.socket.remoteAddress ?? 'unknown'}` : `key ${tenant.name}`;
}

export function createRequestHandler(deps: RequestHandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const scoped = createScopedWarehouses(deps.warehouse);
  const datasetDeps: DatasetRouteDeps = { ...deps, log: deps.log, metrics: deps.metrics };

  async function route(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    r: Route,
    done: (t: Tenant | null) => void,
  ): Promise<number> {
    if (r === '/health') {
      sendJson(res, 200, { status: 'ok' });
      return 200;
    }
    if (r === '/ready') {
      const readiness = await deps.readiness();
      // Paths and file names only for an operator (a key with the metrics scope) when keys are configured.
      const operator = authenticateRequest(
        (name) => req.headers[name] as string | undefined,
        deps.apiKeys,
        'metrics',
      ).ok;
      const checks = readinessChecksFor(readiness, deps.warehouse.root, operator);
      sendJson(res, readiness.ready ? 200 : 503, { status: readiness.ready ? 'ready' : 'not ready', checks });
      return readiness.ready ? 200 : 503;
    }
    if (r === 'other') {
      sendError(
        res,
        404,
        'NOT_FOUND',
        `Nothing at ${url.pathname}: see /graphql, /datasets/<name>.<csv|json|parquet>, /health, /ready, /metrics`,
      );
      return 404;
    }
    const auth = authenticateRequest((name) => req.headers[name] as string | undefined, deps.apiKeys, SCOPE_OF[r]!);
    if (!auth.ok) {
      deps.metrics.authFailures.inc({ status: String(auth.status) });
      const challenge: Record<string, string> =
        auth.status === 401 ? { 'www-authenticate': 'Bearer realm="flowql"' } : {};
      if (r === '/graphql') {
        sendJson(res, auth.status, { errors: [{ message: auth.message, extensions: { code: auth.code } }] }, challenge);
      } else sendError(res, auth.status, auth.code, auth.message, {}, challenge);
      return auth.status;
    }
    const tenant = auth.tenant;
    done(tenant);
    if (r === '/metrics') {
      await deps.metrics.refresh();
      const text = deps.metrics.registry.render();
      res.writeHead(200, {
        'content-type': 'text/plain; version=0.0.4; charset=utf-8',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
      return 200;
    }
    const warehouse = pinWarehouse(scoped(tenant.accounts)); // the request reads one manifest generation
    try {
      return await answer(req, res, url, r, tenant, warehouse);
    } finally {
      // The response is sent (a download's last byte included): the files the request read may be evicted again.
      warehouse.release();
    }
  }

  async function answer(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    r: Route,
    tenant: Tenant,
    warehouse: WarehouseReader,
  ): Promise<number> {
    const client = clientOf(req, tenant);
    if (r === '/datasets') return handleDatasetRequest(req, res, url, tenant, warehouse, datasetDeps, client);
    const server: TenantServerContext = { scopeAccountIds: tenant.accounts, warehouse, client };
    const hasBody = req.method === 'POST';
    const wantsPersisted = tenant.persistedOnly
      ? hasBody || url.searchParams.has('query') || url.searchParams.has('documentId')
      : url.searchParams.has('documentId');
    if (wantsPersisted || (deps.persisted && hasBody)) return runPersisted(req, res, url, tenant, server, deps);
    const response = await deps.yoga.handleNodeRequestAndResponse(req, res, server as Record<string, unknown>);
    return sendFetchResponse(res, response);
  }

  return (req, res) => {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://flowql.local');
    const r = routeOf(url.pathname);
    let tenant: Tenant | null = null;
    deps.metrics.inFlight += 1;
    route(req, res, url, r, (t) => (tenant = t))
      .catch((err: unknown) => {
        deps.log.error({ err, path: url.pathname }, 'request failed');
        if (!res.headersSent) sendError(res, 500, 'INTERNAL_SERVER_ERROR', 'Unexpected error.');
        else res.destroy();
        return 500;
      })
      .then((status) => {
        deps.metrics.inFlight -= 1;
        const seconds = (performance.now() - started) / 1000;
        deps.metrics.httpRequests.inc({ route: r, method: req.method ?? 'GET', status: String(status) });
        deps.metrics.httpDuration.observe({ route: r }, seconds);
        const line = {
          method: req.method,
          route: r,
          path: url.pathname,
          status,
          ms: Math.round(seconds * 1000),
          tenant: (tenant as Tenant | null)?.name ?? null,
        };
        if (r === '/health' || r === '/ready' || r === '/metrics') deps.log.debug(line, 'request');
        else deps.log.info(line, 'request');
      });
  };
}
