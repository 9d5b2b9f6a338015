/**
 * A validation rule bounding what one operation may ask for, before anything executes: selection depth and an
 * estimated cost (each field costs 1, times the page sizes of the connections it sits in; a `first` given by a
 * variable counts as the maximum page size). Errors carry `extensions.code = 'QUERY_TOO_COMPLEX'`.
 */
import {
  GraphQLError, Kind, type FieldNode, type SelectionSetNode, type ValidationContext, type ValidationRule,
} from 'graphql';

/** Limits of one operation. */
export interface OperationLimits {
  readonly maxDepth: number;
  readonly maxCost: number;
  /** Multiplier of a list field without a literal `first` (its worst case). */
  readonly listSize: number;
}

function firstArg(field: FieldNode, listSize: number): number {
  const arg = field.arguments?.find((a) => a.name.value === 'first');
  if (!arg) return 1;
  return arg.value.kind === Kind.INT ? Math.max(1, Number(arg.value.value)) : listSize;
}

/** The rule for `limits`. */
export function operationLimitsRule(limits: OperationLimits): ValidationRule {
  return (context: ValidationContext) => {
    const measure = (set: SelectionSetNode, depth: number, multiplier: number, seen: Set<string>): { depth: number; cost: number } => {
      let maxDepth = depth;
      let cost = 0;
      for (const sel of set.selections) {
        let inner: { depth: number; cost: number } | null = null;
        if (sel.kind === Kind.FIELD) {
          const m = multiplier * firstArg(sel, limits.listSize);
          cost += multiplier;
          if (sel.selectionSet) inner = measure(sel.selectionSet, depth + 1, m, seen);
        } else if (sel.kind === Kind.INLINE_FRAGMENT) {
          inner = measure(sel.selectionSet, depth, multiplier, seen);
        } else {
          const fragment = context.getFragment(sel.name.value);
          if (fragment && !seen.has(sel.name.value)) {
            inner = measure(fragment.selectionSet, depth, multiplier, new Set([...seen, sel.name.value]));
          }
        }
        if (inner) {
          maxDepth = Math.max(maxDepth, inner.depth);
          cost += inner.cost;
        }
      }
      return { depth: maxDepth, cost };
    };
    return {
      OperationDefinition(node) {
        const { depth, cost } = measure(node.selectionSet, 1, 1, new Set());
        if (depth > limits.maxDepth) {
          context.reportError(
            new GraphQLError(`Query depth ${depth} exceeds the limit of ${limits.maxDepth}.`, {
              nodes: [node],
              extensions: { code: 'QUERY_TOO_COMPLEX', limit: limits.maxDepth, depth },
            }),
          );
        }
        if (cost > limits.maxCost) {
          context.reportError(
            new GraphQLError(
              `Query cost ${cost} exceeds the limit of ${limits.maxCost} (each field costs 1, times the page sizes above it; ask for fewer fields or smaller pages).`,
              { nodes: [node], extensions: { code: 'QUERY_TOO_COMPLEX', limit: limits.maxCost, cost } },
            ),
          );
        }
      },
    };
  };
}
