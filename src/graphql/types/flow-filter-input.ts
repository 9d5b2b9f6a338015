/**
 * The `FlowFilter` input every flow question takes, and `resolveFlowFilter`, which validates it (pure domain rules,
 * src/domain/flow-filter.ts) with the request's limits, clock, tenant scope and newest data date. Resolvers of other
 * questions (aggregates, handshakes, edges) take `filter: FlowFilter!` and call `resolveFlowFilter` the same way.
 */
import { TCP_FLAGS } from '../../domain/fields.ts';
import {
  FILTER_FIELD_NAMES,
  FILTER_FIELDS,
  type FilterFieldSpec,
  type FilterInputType,
} from '../../domain/filter-fields.ts';
import {
  FLOW_ACTIONS,
  LOG_STATUSES,
  TIER_RANGE_SETTING,
  validateFlowFilter,
  type FlowFilter,
} from '../../domain/flow-filter.ts';
import { readyInventorySnapshots, tagGiven } from '../../questions/inventory-lookup.ts';
import { readyReferenceTables, referenceKindsOf } from '../../questions/reference-lookup.ts';
import { builder, type GraphQLContext } from '../builder.ts';

/** Record actions. */
export const FlowActionEnum = builder.enumType('FlowAction', {
  description: 'What the security groups and network ACLs decided.',
  values: FLOW_ACTIONS,
});

/** Record log statuses. */
export const LogStatusEnum = builder.enumType('LogStatus', {
  description: 'OK; NODATA: no traffic in the window; SKIPDATA: records were skipped in the window.',
  values: LOG_STATUSES,
});

/** Flow directions relative to the recording interface. */
export const FlowDirectionEnum = builder.enumType('FlowDirection', {
  description: 'Direction relative to the recording interface (flow-direction).',
  values: { INGRESS: { value: 'ingress' }, EGRESS: { value: 'egress' } } as const,
});

/** TCP flag bit names. */
export const TcpFlagEnum = builder.enumType('TcpFlag', {
  description: 'A TCP flag bit of tcp-flags (SYN-ACK is SYN and ACK).',
  values: Object.keys(TCP_FLAGS) as (keyof typeof TCP_FLAGS)[],
});

/** `{ from, to }` time window, or a relative one (`last`, `latestDay`). */
export const TimeRangeInput = builder.inputType('TimeRangeInput', {
  description:
    'A half-open UTC window [from, to) on the record start time. Without from and to: the 24 hours ending at the end of ' +
    'the newest UTC day with data (or now on an empty warehouse); with only from: up to now; with only to: the 24 hours ' +
    'before it. Relative windows keep saved queries meaningful: `last` (an ISO-8601 duration such as PT24H or P7D) ' +
    'ends at `to` or now; `latestDay: true` is the newest UTC day with data. At most the server maximum: by ' +
    'default 400 days for aggregates and edge questions the rollup tiers answer (--max-tier-range-days), 31 days for ' +
    'questions that read flow records or hourly edge rows (--max-range-days): flows pages, handshakes, edge ' +
    'differences, edges at the TAG level or under a tag filter, and aggregates with a sub-hour filter, bucket or ' +
    'per-record extreme.',
  fields: (t) => ({
    from: t.field({ type: 'DateTime' }),
    to: t.field({ type: 'DateTime' }),
    last: t.string({
      description: 'The window is this long, ending at `to` (or now): PT24H, PT15M, P7D, P1W. Not with `from`.',
    }),
    latestDay: t.boolean({
      description: 'The newest UTC day with data (the current day on an empty warehouse). Alone.',
    }),
  }),
});

/** Inclusive port range. */
export const PortRangeInput = builder.inputType('PortRangeInput', {
  description: 'An inclusive port range; a single port when `to` is omitted. Ports are 0-65535.',
  fields: (t) => ({ from: t.int({ required: true }), to: t.int() }),
});

/** TCP flag tests. */
export const TcpFlagsInput = builder.inputType('TcpFlagsInput', {
  description:
    'Tests on tcp-flags: any = at least one bit set; all = every bit set; none = no bit set (records without flags pass).',
  fields: (t) => ({
    any: t.field({ type: [TcpFlagEnum] }),
    all: t.field({ type: [TcpFlagEnum] }),
    none: t.field({ type: [TcpFlagEnum] }),
  }),
});

/** A tag an end must carry. */
export const TagFilterInput = builder.inputType('TagFilterInput', {
  description:
    'An inventory tag: its key and the values that match (ORed), e.g. { key: "team", values: ["payments"] }.',
  fields: (t) => ({
    key: t.string({ required: true, description: 'The tag key (case-sensitive, as AWS stores it).' }),
    values: t.stringList({ required: true, description: 'Values of the key that match (ORed).' }),
  }),
});

type InputFields = Parameters<Parameters<typeof builder.inputType>[1]['fields']>[0];

/** The Pothos field of a filter field's input type (FILTER_FIELDS says which). */
function filterInputField(t: InputFields, input: FilterInputType, description: string | undefined) {
  const options = description === undefined ? {} : { description };
  switch (input) {
    case 'strings':
      return t.stringList(options);
    case 'ints':
      return t.intList(options);
    case 'int':
      return t.int(options);
    case 'bigint':
      return t.field({ type: 'BigInt', ...options });
    case 'portRanges':
      return t.field({ type: [PortRangeInput], ...options });
    case 'tcpFlags':
      return t.field({ type: TcpFlagsInput, ...options });
    case 'tag':
      return t.field({ type: TagFilterInput, ...options });
    case 'FlowAction':
      return t.field({ type: [FlowActionEnum], ...options });
    case 'LogStatus':
      return t.field({ type: [LogStatusEnum], ...options });
    case 'FlowDirection':
      return t.field({ type: [FlowDirectionEnum], ...options });
  }
}

/** The flow filter input: the window, then every field of FILTER_FIELDS (src/domain/filter-fields.ts). */
export const FlowFilterInput = builder.inputType('FlowFilter', {
  description:
    'Which flow records a question covers. Fields are ANDed; values within a list are ORed. `not*` fields keep records ' +
    'whose value is missing (a NODATA record has no address). Account, region and date conditions prune partitions.',
  fields: (t) => ({
    timeRange: t.field({ type: TimeRangeInput }),
    ...Object.fromEntries(
      FILTER_FIELD_NAMES.map((name) => {
        const spec: FilterFieldSpec<unknown> = FILTER_FIELDS[name];
        return [name, filterInputField(t, spec.input, spec.description)];
      }),
    ),
  }),
});

/** Strips GraphQL's nulls for omitted fields, so validation sees only what the client sent. */
function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(compact);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => [k, compact(v)]),
  );
}

/**
 * Validates a `FlowFilter` argument for this request; throws InputError (-> BAD_USER_INPUT) before any SQL. An
 * aggregate (`aggregate: true`) may span the rollup tiers' longer window; its reader holds it to the records' window
 * when it must read records (src/questions/aggregate-reader.ts).
 */
export async function resolveFlowFilter(
  ctx: GraphQLContext,
  raw: unknown,
  argument = 'filter',
  { aggregate = false }: { aggregate?: boolean } = {},
): Promise<FlowFilter> {
  const input = compact(raw);
  const tierRangeMs = ctx.limits.maxTierRangeMs;
  const tiered = aggregate && tierRangeMs !== undefined && tierRangeMs > ctx.limits.maxRangeMs;
  return validateFlowFilter(input, {
    argument,
    now: ctx.now,
    maxRangeMs: tiered ? tierRangeMs : ctx.limits.maxRangeMs,
    ...(tiered ? { maxRangeSetting: TIER_RANGE_SETTING } : {}),
    scopeAccountIds: ctx.scopeAccountIds,
    latestDataEnd: await ctx.query.warehouse.latestDataEnd('flows'),
    referenceTables: await readyReferenceTables(ctx.query.warehouse, referenceKindsOf(input)),
    ...(tagGiven(input) ? { inventorySnapshots: await readyInventorySnapshots(ctx.query.warehouse) } : {}),
  });
}
