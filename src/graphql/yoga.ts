/**
 * The GraphQL HTTP handler (graphql-yoga), without a listening socket: tests call `yoga.fetch`, src/main.ts mounts it
 * on a node http server. Per request it builds the context (a cost meter, a deadline, the tenant scope), masks
 * unexpected errors, enforces operation limits and adds `extensions.cost` to every response.
 */
import { createYoga, type Plugin, type YogaServerInstance, type YogaServerOptions } from 'graphql-yoga';
import { CostMeter, type QueryCost } from '../store/query-cost.ts';
import type { QueryContext, QueryLogger } from '../store/query-runner.ts';
import { scopeKey, type ResultCache } from '../store/result-cache.ts';
import { pinWarehouse, type WarehouseReader } from '../store/warehouse-reader.ts';
import type { ApiLimits, GraphQLContext } from './builder.ts';
import { maskApiError } from './errors.ts';
import { operationLimitsRule } from './operation-limits.ts';
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
}

const ZERO_COST: QueryCost = { partitionsScanned: 0, filesScanned: 0, rowsScanned: 0, rowsReturned: 0, cachedStatements: 0, ms: 0 };

/** Adds `extensions.cost` to each single result, from the request's meter (zero when nothing ran). */
function useCostExtension(meters: WeakMap<Request, CostMeter>): Plugin {
  return {
    onResultProcess({ request, result, setResult }) {
      if (Array.isArray(result) || typeof result !== 'object' || result === null || Symbol.asyncIterator in result) return;
      const cost = meters.get(request)?.snapshot() ?? ZERO_COST;
      const single = result as { extensions?: Record<string, unknown> };
      setResult({ ...single, extensions: { ...single.extensions, cost } } as typeof result);
    },
  };
}

/** The operation limits as a validation plugin. */
function useOperationLimits(deps: ApiDeps): Plugin {
  const rule = operationLimitsRule({ maxDepth: deps.maxDepth, maxCost: deps.maxCost, listSize: deps.limits.maxPageSize });
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(rule);
    },
  };
}

/** The flowql GraphQL handler at `/graphql`. */
export function createApiYoga(deps: ApiDeps): YogaServerInstance<Record<string, unknown>, GraphQLContext> {
  const meters = new WeakMap<Request, CostMeter>();
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
    plugins: [useOperationLimits(deps), useCostExtension(meters), ...(deps.plugins ?? [])],
    context: (initial) => {
      const { request } = initial;
      const tenant = initial as TenantServerContext;
      const cost = new CostMeter();
      meters.set(request, cost);
      // One manifest generation for every field of the request (src/store/warehouse-reader.ts).
      const warehouse = pinWarehouse(tenant.warehouse ?? deps.warehouse);
      const scopeAccountIds = tenant.scopeAccountIds ?? deps.scopeAccountIds ?? null;
      const results = deps.resultCache ? { results: { cache: deps.resultCache, scope: scopeKey(scopeAccountIds) } } : {};
      return {
        query: { db: deps.db, warehouse, cost, deadline: Date.now() + deps.queryTimeoutMs, log: deps.log, ...results },
        limits: deps.limits,
        scopeAccountIds,
        now: new Date(),
      };
    },
  });
}
