/**
 * The GraphQL HTTP handler (graphql-yoga), without a listening socket: tests call `yoga.fetch`, src/main.ts mounts it
 * on a node http server. Per request it builds the context (a cost meter, a budget of time and response bytes, the
 * tenant scope), masks unexpected errors, enforces the document, operation and work limits, adds `extensions.cost`
 * to every response, refuses a response past the size cap, and ends the request's statements with the request.
 */
import { GraphQLError, parse } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance, type YogaServerOptions } from 'graphql-yoga';
import { CostMeter, type QueryCost } from '../store/query-cost.ts';
import type { QueryContext, QueryLogger } from '../store/query-runner.ts';
import { RequestBudget, ResponseTooLargeError } from '../store/request-budget.ts';
import { configureStatementQueue } from '../store/statement-queue.ts';
import { scopeKey, type ResultCache } from '../store/result-cache.ts';
import { pinWarehouse, releaseWarehouse, type WarehouseReader } from '../store/warehouse-reader.ts';
import type { ApiLimits, GraphQLContext } from './builder.ts';
import { maskApiError, responseTooLarge } from './errors.ts';
import {
  checkDocumentSize,
  estimateWork,
  operationShapeRule,
  workLimitErrors,
  type WorkLimits,
} from './operation-limits.ts';
import { schema } from './schema.ts';

/** What the API needs from the rest of the process. */
export interface ApiDeps {
  readonly db: QueryContext['db'];
  readonly warehouse: WarehouseReader;
  readonly log: QueryLogger & { error(obj: object, msg: string): void };
  readonly limits: ApiLimits;
  /** Time budget of one request's statements. */
  readonly queryTimeoutMs: number;
  readonly maxDepth: number;
  readonly maxCost: number;
  /** Most statements one request may run (each root field runs at least one); default 16. */
  readonly maxStatements?: number;
  /** Largest response, in bytes of JSON (RESPONSE_TOO_LARGE past it); default 16 MiB. */
  readonly maxResponseBytes?: number;
  /** Statements of this DuckDB instance running at once (src/store/statement-queue.ts); default 4. */
  readonly maxRunningStatements?: number;
  /** GraphiQL options or a factory of them (src/graphql/graphiql-tabs.ts); false to disable. */
  readonly graphiql?: YogaServerOptions<Record<string, unknown>, GraphQLContext>['graphiql'];
  /** Renders GraphiQL's page; @graphql-yoga/render-graphiql inlines its assets so it works offline. */
  readonly renderGraphiQL?: YogaServerOptions<Record<string, unknown>, GraphQLContext>['renderGraphiQL'];
  /** Tenant allow-list for every request (API keys, later); null = all accounts. */
  readonly scopeAccountIds?: readonly string[] | null;
  /** Answers shared between requests of the same tenant and manifest generation; absent = none. */
  readonly resultCache?: ResultCache | null;
  /** More plugins (the HTTP layer's operation metrics and logs, introspection off). */
  readonly plugins?: readonly Plugin[];
}

/**
 * What the HTTP layer (src/http/request-handler.ts) passes as yoga's server context for one request: the API key's
 * account allow-list and the warehouse reader scoped to it (src/auth/scoped-warehouse.ts).
 */
export interface TenantServerContext {
  readonly scopeAccountIds?: readonly string[] | null;
  readonly warehouse?: WarehouseReader;
  /** Who asked, for the statement queue's turns between clients (src/http/request-handler.ts). */
  readonly client?: string;
}

const ZERO_COST: QueryCost = {
  partitionsScanned: 0,
  filesScanned: 0,
  rowsScanned: 0,
  rowsReturned: 0,
  cachedStatements: 0,
  tiers: [],
  ms: 0,
};

/** Defaults of the optional limits of ApiDeps (docs/configuration.md gives the same). */
export const DEFAULT_MAX_STATEMENTS = 16;
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 2 ** 20;

/** Longest error message sent: graphql-js quotes the offending value or name whole (a 2 MB variable, a 2 MB field name). */
export const MAX_ERROR_MESSAGE_CHARS = 1000;

/** `error` with its message cut to MAX_ERROR_MESSAGE_CHARS, saying how long it was; the rest of it as it was. */
function capErrorMessage(error: unknown): unknown {
  if (!(error instanceof GraphQLError) || error.message.length <= MAX_ERROR_MESSAGE_CHARS) return error;
  const message = `${error.message.slice(0, MAX_ERROR_MESSAGE_CHARS)}... (message cut: ${error.message.length} characters)`;
  const { nodes, source, positions, path, originalError, extensions } = error;
  return new GraphQLError(message, { nodes, source, positions, path, originalError, extensions });
}

/**
 * Adds `extensions.cost` to each single result, from the request's meter (zero when nothing ran), and refuses a
 * result whose JSON passes `maxResponseBytes` (the runner stops a request early when its rows alone pass it; this
 * catches what the fields add around them).
 */
function useCostExtension(meters: WeakMap<Request, CostMeter>, maxResponseBytes: number): Plugin {
  return {
    onResultProcess({ request, result, setResult }) {
      if (Array.isArray(result) || typeof result !== 'object' || result === null || Symbol.asyncIterator in result)
        return;
      const cost = meters.get(request)?.snapshot() ?? ZERO_COST;
      const single = result as { extensions?: Record<string, unknown>; errors?: readonly unknown[] };
      const errors = single.errors?.map(capErrorMessage);
      const withCost = { ...single, ...(errors ? { errors } : {}), extensions: { ...single.extensions, cost } };
      const bytes = Buffer.byteLength(JSON.stringify(withCost));
      if (bytes <= maxResponseBytes) {
        setResult(withCost as typeof result);
        return;
      }
      const error = responseTooLarge(new ResponseTooLargeError(maxResponseBytes, bytes, 'the finished response'));
      setResult({ data: null, errors: [error], extensions: { cost } } as unknown as typeof result);
    },
  };
}

/**
 * The limits as plugins: the document's size when it is parsed (tokens and nesting, before graphql's recursive parser
 * could overflow the stack), its shape when it is validated (depth, introspection), and its work just before it
 * executes (cost and statements, with the request's variables). A refused operation runs no resolver, hence no SQL.
 * When execution ends, the request's budget stops whatever it still has queued or running.
 */
function useOperationLimits(deps: ApiDeps): Plugin<GraphQLContext> {
  const shape = operationShapeRule({ maxDepth: deps.maxDepth });
  const work: WorkLimits = {
    maxCost: deps.maxCost,
    maxStatements: deps.maxStatements ?? DEFAULT_MAX_STATEMENTS,
    defaultPageSize: deps.limits.defaultPageSize,
    maxPageSize: deps.limits.maxPageSize,
    // A time series' worst case: the longest window any question may have.
    maxRangeMs: Math.max(deps.limits.maxRangeMs, deps.limits.maxTierRangeMs ?? 0),
  };
  const documentLimits = { maxDepth: deps.maxDepth };
  return {
    onParse({ setParseFn }) {
      setParseFn((source, options) => {
        checkDocumentSize(typeof source === 'string' ? source : source.body, documentLimits);
        return parse(source, options);
      });
    },
    onValidate({ addValidationRule }) {
      addValidationRule(shape);
    },
    onExecute({ args, setResultAndStopExecution }) {
      const estimate = estimateWork(args.schema, args.document, args.operationName, args.variableValues, work);
      const errors = estimate ? workLimitErrors(estimate, work) : [];
      if (errors.length > 0) {
        args.contextValue.query.budget?.finish();
        setResultAndStopExecution({ data: null, errors });
        return;
      }
      return {
        onExecuteDone() {
          args.contextValue.query.budget?.finish();
          // Its statements are stopped or done: the files the request held may go (the HTTP layer releases again,
          // harmlessly, after the response is sent).
          releaseWarehouse(args.contextValue.query.warehouse);
        },
      };
    },
  };
}

/** The flowql GraphQL handler at `/graphql`. */
export function createApiYoga(deps: ApiDeps): YogaServerInstance<Record<string, unknown>, GraphQLContext> {
  const meters = new WeakMap<Request, CostMeter>();
  const maxResponseBytes = deps.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  if (deps.maxRunningStatements) configureStatementQueue(deps.db, deps.maxRunningStatements);
  return createYoga<Record<string, unknown>, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: deps.graphiql ?? false,
    ...(deps.renderGraphiQL ? { renderGraphiQL: deps.renderGraphiQL } : {}),
    logging: false,
    maskedErrors: {
      maskError: (error) => maskApiError(error, (err) => deps.log.error({ err }, 'unexpected error in a resolver')),
    },
    plugins: [useOperationLimits(deps), useCostExtension(meters, maxResponseBytes), ...(deps.plugins ?? [])],
    context: (initial) => {
      const { request } = initial;
      const tenant = initial as TenantServerContext;
      const cost = new CostMeter();
      meters.set(request, cost);
      const deadline = Date.now() + deps.queryTimeoutMs;
      // One manifest generation for every field of the request (src/store/warehouse-reader.ts).
      const warehouse = pinWarehouse(tenant.warehouse ?? deps.warehouse);
      const scopeAccountIds = tenant.scopeAccountIds ?? deps.scopeAccountIds ?? null;
      const results = deps.resultCache
        ? { results: { cache: deps.resultCache, scope: scopeKey(scopeAccountIds) } }
        : {};
      const budget = new RequestBudget(deadline, maxResponseBytes, deps.queryTimeoutMs);
      // A client that hangs up reads no answer: its statements stop now, not at the deadline.
      request.signal?.addEventListener('abort', () => budget.finish(), { once: true });
      return {
        query: {
          db: deps.db,
          warehouse,
          cost,
          deadline,
          budget,
          ...(tenant.client ? { client: tenant.client } : {}),
          maxRecordRangeMs: deps.limits.maxRangeMs,
          log: deps.log,
          ...results,
        },
        limits: deps.limits,
        scopeAccountIds,
        now: new Date(),
      };
    },
  });
}
