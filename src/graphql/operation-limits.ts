/**
 * A validation rule bounding what one operation may ask for, before anything executes: selection depth and an
 * estimated cost (each field costs 1, times the page sizes of the connections it sits in; a `first` given by a
 * variable counts as the maximum page size). Errors carry `extensions.code = 'QUERY_TOO_COMPLEX'`.
 *
 * Introspection (`__schema`, `__type`) is exempt from depth and cost: its answer is bounded by the schema, not by the
 * client (graphql's own MaxIntrospectionDepthRule, one of the specified rules, refuses lists nested past three
 * levels), and GraphiQL's schema request alone is 15 levels deep. Only those meta-fields are exempt: the real fields
 * of an operation that mixes both are measured as usual, and aliases cannot multiply the exemption past
 * MAX_INTROSPECTION_FIELDS. With `--no-introspection` graphql's NoSchemaIntrospectionCustomRule refuses them anyway.
 */
import {
  GraphQLError, Kind, type FieldNode, type OperationDefinitionNode, type SelectionSetNode, type ValidationContext,
  type ValidationRule,
} from 'graphql';

/** Limits of one operation. */
export interface OperationLimits {
  readonly maxDepth: number;
  readonly maxCost: number;
  /** Multiplier of a list field without a literal `first` (its worst case). */
  readonly listSize: number;
}

/** The root meta-fields of introspection, answered from the schema alone. */
const INTROSPECTION_FIELDS = new Set(['__schema', '__type']);

/** Introspection meta-fields one operation may hold (GraphiQL sends one `__schema`); aliases beyond are refused. */
export const MAX_INTROSPECTION_FIELDS = 4;

function firstArg(field: FieldNode, listSize: number): number {
  const arg = field.arguments?.find((a) => a.name.value === 'first');
  if (!arg) return 1;
  return arg.value.kind === Kind.INT ? Math.max(1, Number(arg.value.value)) : listSize;
}

interface Measure {
  depth: number;
  cost: number;
  introspection: number;
}

/** Depth, cost and introspection fields of an operation (fragments measured once each, then scaled). */
function measureOperation(context: ValidationContext, node: OperationDefinitionNode, listSize: number): Measure {
  // Per fragment: depth below its spread, cost at multiplier 1 (cost scales linearly with the multiplier) and
  // introspection fields. Memoised, so fragments spreading each other many times cost one walk each.
  const fragments = new Map<string, Measure>();
  const walking = new Set<string>(); // fragment cycles are NoFragmentCyclesRule's to report: measure them as empty
  const measure = (set: SelectionSetNode, root: boolean, multiplier: number): Measure => {
    const total: Measure = { depth: 0, cost: 0, introspection: 0 };
    const add = (inner: Measure, depthOffset: number, scale: number) => {
      total.depth = Math.max(total.depth, inner.depth + depthOffset);
      total.cost += inner.cost * scale;
      total.introspection += inner.introspection * scale;
    };
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        if (root && INTROSPECTION_FIELDS.has(sel.name.value)) {
          total.introspection += 1;
          continue;
        }
        total.cost += multiplier;
        total.depth = Math.max(total.depth, 1);
        if (sel.selectionSet) add(measure(sel.selectionSet, false, multiplier * firstArg(sel, listSize)), 1, 1);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        add(measure(sel.selectionSet, root, multiplier), 0, 1);
      } else {
        const name = sel.name.value;
        const fragment = context.getFragment(name);
        if (!fragment || walking.has(name)) continue;
        let unit = fragments.get(`${name}:${root}`);
        if (!unit) {
          walking.add(name);
          unit = measure(fragment.selectionSet, root, 1);
          walking.delete(name);
          fragments.set(`${name}:${root}`, unit);
        }
        add(unit, 0, multiplier);
      }
    }
    return total;
  };
  return measure(node.selectionSet, true, 1);
}

/** The rule for `limits`. */
export function operationLimitsRule(limits: OperationLimits): ValidationRule {
  return (context: ValidationContext) => ({
    OperationDefinition(node) {
      const { depth, cost, introspection } = measureOperation(context, node, limits.listSize);
      if (introspection > MAX_INTROSPECTION_FIELDS) {
        context.reportError(
          new GraphQLError(
            `The operation holds ${introspection} introspection fields (__schema, __type); at most ${MAX_INTROSPECTION_FIELDS} are answered per operation.`,
            { nodes: [node], extensions: { code: 'QUERY_TOO_COMPLEX', limit: MAX_INTROSPECTION_FIELDS, introspectionFields: introspection } },
          ),
        );
      }
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
  });
}
