/**
 * Yoga plugins the HTTP layer adds: one log line and two metrics per GraphQL operation (named by its operation name,
 * `anonymous` otherwise), and the production toggle that refuses introspection.
 */
import { NoSchemaIntrospectionCustomRule, OperationTypeNode, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { ServerMetrics } from './server-metrics.ts';

/** The operation's name as clients chose it (`TopTalkers`), for logs and metric labels. */
export function operationNameOf(document: DocumentNode, requested: string | null | undefined): string {
  for (const d of document.definitions) {
    if (d.kind !== 'OperationDefinition') continue;
    if (!requested || d.name?.value === requested)
      return d.name?.value ?? `anonymous ${d.operation ?? OperationTypeNode.QUERY}`;
  }
  return requested ?? 'anonymous';
}

/** Counts and times every executed operation; logs `{ operation, ms, outcome }`. */
export function useOperationMetrics(metrics: ServerMetrics, log: { info(obj: object, msg: string): void }): Plugin {
  return {
    onExecute({ args }) {
      const started = performance.now();
      const operation = operationNameOf(args.document, args.operationName).slice(0, 100);
      return {
        onExecuteDone({ result }) {
          const seconds = (performance.now() - started) / 1000;
          const errors = 'errors' in result && Array.isArray(result.errors) ? result.errors.length : 0;
          const outcome = errors ? 'error' : 'ok';
          metrics.graphqlOperations.inc({ operation, outcome });
          metrics.graphqlDuration.observe({ operation }, seconds);
          log.info({ operation, ms: Math.round(seconds * 1000), outcome, errors }, 'graphql operation');
        },
      };
    },
  };
}

/** Refuses `__schema`/`__type` queries (production toggle: the schema is published as schema/schema.graphql). */
export function useNoIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}
