/**
 * What one operation may ask for, checked before anything executes; every refusal has
 * `extensions.code = 'QUERY_TOO_COMPLEX'` and says what to reduce.
 * - Parsing (checkDocumentSize): at most MAX_DOCUMENT_TOKENS tokens, `{ }`/`[ ]` nested at most
 *   maxDocumentNesting levels. graphql's parser and validation recurse once per level: 10,000 nested inline
 *   fragments overflowed the stack and answered INTERNAL_SERVER_ERROR. A lexer pass counts both without recursion.
 * - Validation (cached with the document): selection depth, and at most MAX_INTROSPECTION_FIELDS introspection fields.
 * - Just before execution, with the request's variables: the work it may do (estimateWork): a cost that counts the
 *   rows each field may return (`first`, `limit`, list sizes) and the statements it runs (each root field, aliases
 *   included, runs at least one). 100 aliases of `flowBreakdown(limit: 10000)` once ran 85 s and returned 260 MB;
 *   now they are refused before any SQL runs.
 *
 * Introspection (`__schema`, `__type`) is exempt from depth and cost: its answer is bounded by the schema, not by the
 * client (graphql's own MaxIntrospectionDepthRule, one of the specified rules, refuses lists nested past three
 * levels), and GraphiQL's schema request alone is 15 levels deep. Only those meta-fields are exempt: the real fields
 * of an operation that mixes both are measured as usual, and aliases cannot multiply the exemption past
 * MAX_INTROSPECTION_FIELDS. With `--no-introspection` graphql's NoSchemaIntrospectionCustomRule refuses them anyway.
 */
import {
  GraphQLError,
  Kind,
  Lexer,
  Source,
  TokenKind,
  getArgumentValues,
  getNamedType,
  getNullableType,
  getVariableValues,
  isCompositeType,
  isInterfaceType,
  isLeafType,
  isListType,
  isObjectType,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { AGGREGATE_LIMITS, TIME_INTERVALS, type TimeInterval } from '../domain/aggregate-enums.ts';
import { DEFAULT_WINDOW_MS, parseIsoDateTime } from '../domain/flow-filter.ts';
import { parseIsoDuration } from '../domain/iso-duration.ts';

/** Tokens one document may hold (an ordinary operation has a few hundred; GraphiQL's schema request about 300). */
export const MAX_DOCUMENT_TOKENS = 10_000;

/** Levels of `{ }` and `[ ]` one document may nest: selections (maxDepth) plus input objects and lists around them. */
export function maxDocumentNesting(maxDepth: number): number {
  return Math.max(64, 2 * maxDepth);
}

/** Throws QUERY_TOO_COMPLEX when `body` holds too many tokens or nests too deep (see the module comment). */
export function checkDocumentSize(body: string, limits: { readonly maxDepth: number }): void {
  const maxNesting = maxDocumentNesting(limits.maxDepth);
  const lexer = new Lexer(new Source(body));
  let tokens = 0;
  let nesting = 0;
  for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) {
    if (++tokens > MAX_DOCUMENT_TOKENS) {
      throw new GraphQLError(
        `The document holds more than ${MAX_DOCUMENT_TOKENS} tokens: split it into smaller operations.`,
        { extensions: { code: 'QUERY_TOO_COMPLEX', limit: MAX_DOCUMENT_TOKENS } },
      );
    }
    if (token.kind === TokenKind.BRACE_L || token.kind === TokenKind.BRACKET_L) {
      if (++nesting > maxNesting) {
        throw new GraphQLError(
          `The document nests { } or [ ] more than ${maxNesting} levels deep (line ${token.line}): nest selections, fragments and values less.`,
          { extensions: { code: 'QUERY_TOO_COMPLEX', limit: maxNesting } },
        );
      }
    } else if (token.kind === TokenKind.BRACE_R || token.kind === TokenKind.BRACKET_R) {
      nesting--;
    }
  }
}

/** The root meta-fields of introspection, answered from the schema alone. */
const INTROSPECTION_FIELDS = new Set(['__schema', '__type']);

/** Introspection meta-fields one operation may hold (GraphiQL sends one `__schema`); aliases beyond are refused. */
export const MAX_INTROSPECTION_FIELDS = 4;

interface Shape {
  depth: number;
  introspection: number;
}

/** Depth and introspection fields of an operation (each fragment measured once). */
function shapeOf(context: ValidationContext, node: OperationDefinitionNode): Shape {
  const fragments = new Map<string, Shape>();
  const walking = new Set<string>(); // fragment cycles are NoFragmentCyclesRule's to report: measured as empty
  const measure = (set: SelectionSetNode, root: boolean): Shape => {
    const total: Shape = { depth: 0, introspection: 0 };
    const add = (inner: Shape, depthOffset: number) => {
      total.depth = Math.max(total.depth, inner.depth + depthOffset);
      total.introspection += inner.introspection;
    };
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        if (root && INTROSPECTION_FIELDS.has(sel.name.value)) total.introspection += 1;
        else add(sel.selectionSet ? measure(sel.selectionSet, false) : { depth: 0, introspection: 0 }, 1);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        add(measure(sel.selectionSet, root), 0);
      } else {
        const name = sel.name.value;
        const fragment = context.getFragment(name);
        if (!fragment || walking.has(name)) continue;
        let unit = fragments.get(`${name}:${root}`);
        if (!unit) {
          walking.add(name);
          unit = measure(fragment.selectionSet, root);
          walking.delete(name);
          fragments.set(`${name}:${root}`, unit);
        }
        add(unit, 0);
      }
    }
    return total;
  };
  return measure(node.selectionSet, true);
}

/** The validation rule: depth at most `maxDepth`, at most MAX_INTROSPECTION_FIELDS introspection fields. */
export function operationShapeRule(limits: { readonly maxDepth: number }): ValidationRule {
  return (context: ValidationContext) => ({
    OperationDefinition(node) {
      const { depth, introspection } = shapeOf(context, node);
      if (introspection > MAX_INTROSPECTION_FIELDS) {
        context.reportError(
          new GraphQLError(
            `The operation holds ${introspection} introspection fields (__schema, __type); at most ${MAX_INTROSPECTION_FIELDS} are answered per operation.`,
            {
              nodes: [node],
              extensions: {
                code: 'QUERY_TOO_COMPLEX',
                limit: MAX_INTROSPECTION_FIELDS,
                introspectionFields: introspection,
              },
            },
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
    },
  });
}

/** What the execution-time estimate needs to know of the server. */
export interface WorkLimits {
  readonly maxCost: number;
  /** Most statements one request may run. */
  readonly maxStatements: number;
  /** `first` when a connection's client gives none. */
  readonly defaultPageSize: number;
  /** Largest `first` (a larger one is refused by the resolver as BAD_USER_INPUT, so it is measured as this). */
  readonly maxPageSize: number;
  /** Longest filter window (a time series' worst-case bucket count). */
  readonly maxRangeMs: number;
}

/** The work an operation may do: cost (fields times the rows they may return) and statements it runs. */
export interface WorkEstimate {
  readonly cost: number;
  readonly statements: number;
}

/** Rows assumed for an object list whose size no argument bounds (datasets, a record's extra fields). */
export const DEFAULT_LIST_ROWS = 10;

/** The largest value of a root field's size argument (the resolver refuses more with BAD_USER_INPUT). */
const SIZE_CAPS: Readonly<Record<string, number>> = {
  'flowTopN.limit': AGGREGATE_LIMITS.maxTopN,
  'flowBreakdown.limit': AGGREGATE_LIMITS.maxBreakdownRows,
  'flowTimeSeries.maxSeries': AGGREGATE_LIMITS.maxSeries,
};

/** The size arguments of a root field, largest first in meaning: a page (`first`), a top-N (`limit`), a graph. */
const SIZE_ARGS = ['first', 'limit', 'maxEdges'] as const;

interface RootScope {
  readonly field: string;
  readonly args: Record<string, unknown>;
  /** Rows of the object lists directly under the root field (its page), null when no argument sizes them. */
  readonly page: number | null;
  readonly id: number;
}

function windowMs(args: Record<string, unknown>, limits: WorkLimits): number {
  const filter = args.filter as
    { timeRange?: { from?: unknown; to?: unknown; last?: unknown; latestDay?: unknown } } | undefined;
  const r = filter?.timeRange ?? {};
  const time = (v: unknown) => (typeof v === 'string' ? (parseIsoDateTime(v)?.getTime() ?? null) : null);
  const [from, to] = [time(r.from), time(r.to)];
  let ms = limits.maxRangeMs; // unknown: the widest window the filter may have
  if (r.latestDay === true) ms = 86_400_000;
  else if (typeof r.last === 'string') ms = parseIsoDuration(r.last) ?? ms;
  else if (from !== null && to !== null) ms = to - from;
  else if (r.from === undefined && r.to === undefined) ms = DEFAULT_WINDOW_MS;
  return Math.min(Math.max(ms, 0), limits.maxRangeMs);
}

/** Rows of the object list `type.field` at `level` below the root field of `scope`. */
function listRows(type: string, field: string, level: number, scope: RootScope, limits: WorkLimits): number {
  const { args } = scope;
  if (type === 'FlowTimeSeries' && field === 'series') return args.groupBy ? Number(args.maxSeries ?? 1) : 1;
  if (type === 'FlowSeries' && field === 'points') {
    const seconds = TIME_INTERVALS[args.interval as TimeInterval] ?? TIME_INTERVALS.MINUTE;
    return Math.min(AGGREGATE_LIMITS.maxBuckets, Math.max(1, Math.ceil(windowMs(args, limits) / (seconds * 1000))));
  }
  if (type === 'EdgeGraph' && field === 'nodes') return 2 * Number(args.maxEdges ?? 1);
  if (level === 1 && scope.page !== null) return scope.page;
  return DEFAULT_LIST_ROWS;
}

function pageOf(
  field: GraphQLField<unknown, unknown>,
  args: Record<string, unknown>,
  limits: WorkLimits,
): number | null {
  for (const name of SIZE_ARGS) {
    if (!field.args.some((a) => a.name === name)) continue;
    const given = args[name];
    let n = typeof given === 'number' && Number.isFinite(given) ? given : name === 'first' ? limits.defaultPageSize : 1;
    if (name === 'first') n = Math.min(n, limits.maxPageSize);
    const cap = SIZE_CAPS[`${field.name}.${name}`];
    if (cap !== undefined) n = Math.min(n, cap);
    return Math.max(1, Math.floor(n));
  }
  return null;
}

/**
 * The cost and statements of the operation `operationName` of `document` with `variables`, or null when its
 * variables do not coerce (execution refuses those itself, before any resolver runs). Each field costs 1 per time it
 * is resolved; an object list returns the rows its root field's `first`/`limit`/`maxEdges` allows (a time series:
 * series x buckets of the window at the interval; other lists DEFAULT_LIST_ROWS), each costing 1 and multiplying the
 * fields under it; a list of scalars costs 1. Each root field runs at least one statement, and one more when its
 * records are asked who opened the connection. Introspection costs
 * nothing (see the module comment).
 */
export function estimateWork(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
  limits: WorkLimits,
): WorkEstimate | null {
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  const operation = operationName
    ? operations.find((o) => o.name?.value === operationName)
    : operations.length === 1
      ? operations[0]
      : undefined;
  const rootType = operation ? schema.getRootType(operation.operation) : undefined;
  if (!operation || !rootType) return null;
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {}, { maxErrors: 1 });
  if (coerced.errors) return null;
  const values = coerced.coerced;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  // Per fragment, root field and level: its work at multiplier 1 (work scales linearly with the multiplier).
  const memo = new Map<string, WorkEstimate>();
  const walking = new Set<string>();
  let roots = 0;
  // Root fields whose records ask who opened each connection: that is one more statement for the page, however many
  // records and direction fields it has (src/graphql/types/flow-direction.ts batches them).
  const directionScopes = new Set<number>();

  const walk = (
    set: SelectionSetNode,
    parent: GraphQLCompositeType,
    level: number,
    scope: RootScope | null,
  ): WorkEstimate => {
    let cost = 0;
    let statements = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        const name = sel.name.value;
        if (level === 0 && INTROSPECTION_FIELDS.has(name)) continue;
        const def = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
        if (!def) {
          cost += 1; // __typename, or a field validation refuses anyway
          continue;
        }
        if (scope && parent.name === 'Flow' && FLOW_DIRECTION_FIELDS.has(name)) directionScopes.add(scope.id);
        let inner = scope;
        if (level === 0) {
          let args: Record<string, unknown> = {};
          try {
            args = getArgumentValues(def, sel, values);
          } catch {
            // A bad argument value: the resolver refuses it before any SQL; measure its defaults.
          }
          inner = { field: name, args, page: pageOf(def, args, limits), id: ++roots };
          statements += 1;
        }
        const nullable = getNullableType(def.type);
        const named = getNamedType(def.type);
        if (isListType(nullable) && isLeafType(named)) {
          cost += 1;
          continue;
        }
        const rows = isListType(nullable) && inner ? listRows(parent.name, name, level, inner, limits) : 1;
        cost += rows;
        if (sel.selectionSet && isCompositeType(named)) {
          const below = walk(sel.selectionSet, named, level + 1, inner);
          cost += rows * below.cost;
          statements += rows * below.statements;
        }
      } else {
        const fragment = sel.kind === Kind.FRAGMENT_SPREAD ? fragments.get(sel.name.value) : sel;
        if (!fragment) continue;
        const condition = fragment.typeCondition ? schema.getType(fragment.typeCondition.name.value) : parent;
        const type = condition && isCompositeType(condition) ? condition : parent;
        if (sel.kind === Kind.INLINE_FRAGMENT) {
          const below = walk(sel.selectionSet, type, level, scope);
          cost += below.cost;
          statements += below.statements;
          continue;
        }
        const key = `${sel.name.value}|${scope?.id ?? 0}|${level}`;
        if (walking.has(sel.name.value)) continue; // a cycle: NoFragmentCyclesRule refuses it
        let unit = memo.get(key);
        if (!unit) {
          walking.add(sel.name.value);
          unit = walk(fragment.selectionSet, type, level, scope);
          walking.delete(sel.name.value);
          memo.set(key, unit);
        }
        cost += unit.cost;
        statements += unit.statements;
      }
    }
    return { cost, statements };
  };
  const work = walk(operation.selectionSet, rootType, 0, null);
  return { cost: work.cost, statements: work.statements + directionScopes.size };
}

/** Fields of `Flow` answered by the batched direction statement. */
const FLOW_DIRECTION_FIELDS = new Set(['clientAddr', 'clientPort', 'serverAddr', 'serverPort', 'directionMethod']);

/** QUERY_TOO_COMPLEX errors for an estimate over `limits` (none when within). */
export function workLimitErrors(estimate: WorkEstimate, limits: WorkLimits): GraphQLError[] {
  const errors: GraphQLError[] = [];
  if (estimate.statements > limits.maxStatements) {
    errors.push(
      new GraphQLError(
        `The operation would run ${estimate.statements} statements (each root field runs at least one, aliases included); the limit is ${limits.maxStatements} (--max-statements): ask for fewer root fields or split the operation.`,
        { extensions: { code: 'QUERY_TOO_COMPLEX', limit: limits.maxStatements, statements: estimate.statements } },
      ),
    );
  }
  if (estimate.cost > limits.maxCost) {
    errors.push(
      new GraphQLError(
        `Query cost ${estimate.cost} exceeds the limit of ${limits.maxCost} (each field costs 1 per row it may return: \`first\`, \`limit\` and list sizes multiply the fields under them; ask for fewer fields, smaller pages or a smaller limit).`,
        { extensions: { code: 'QUERY_TOO_COMPLEX', limit: limits.maxCost, cost: estimate.cost } },
      ),
    );
  }
  return errors;
}
