/**
 * Which aggregate values a query selected, read from the resolver's `info`: a root aggregate runs one statement for
 * exactly the metrics the client asked for, so asking for a total never pays for distinct counts.
 */
import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionNode } from 'graphql';
import { type FlowValue, FLOW_VALUES } from '../../domain/aggregate-enums.ts';

/** GraphQL field name of each value on the summary, group and time-point types. */
export const VALUE_FIELD: Readonly<Record<FlowValue, string>> = {
  RECORDS: 'records',
  BYTES: 'bytes',
  PACKETS: 'packets',
  ACCEPTED_RECORDS: 'acceptedRecords',
  REJECTED_RECORDS: 'rejectedRecords',
  NODATA_RECORDS: 'nodataRecords',
  SKIPDATA_RECORDS: 'skipdataRecords',
  DISTINCT_SRC_ADDRS: 'distinctSrcAddrs',
  DISTINCT_DST_ADDRS: 'distinctDstAddrs',
  DISTINCT_INTERFACES: 'distinctInterfaces',
  DISTINCT_DST_PORTS: 'distinctDstPorts',
  AVG_BYTES: 'avgBytes',
  MIN_BYTES: 'minBytes',
  MAX_BYTES: 'maxBytes',
  AVG_PACKETS: 'avgPackets',
  MIN_PACKETS: 'minPackets',
  MAX_PACKETS: 'maxPackets',
  PEAK_BITS_PER_SECOND: 'peakBitsPerSecond',
  P95_BITS_PER_SECOND: 'p95BitsPerSecond',
  PEAK_PACKETS_PER_SECOND: 'peakPacketsPerSecond',
  P95_PACKETS_PER_SECOND: 'p95PacketsPerSecond',
  FIRST_SEEN: 'firstSeen',
  LAST_SEEN: 'lastSeen',
};

function fieldsOf(selections: readonly SelectionNode[], info: GraphQLResolveInfo, out: FieldNode[]): FieldNode[] {
  for (const s of selections) {
    if (s.kind === Kind.FIELD) out.push(s);
    else if (s.kind === Kind.INLINE_FRAGMENT) fieldsOf(s.selectionSet.selections, info, out);
    else {
      const fragment = info.fragments[s.name.value];
      if (fragment) fieldsOf(fragment.selectionSet.selections, info, out);
    }
  }
  return out;
}

/**
 * Names of the fields selected below the current field, following `path` (e.g. ['series', 'points']) through
 * fragments. @skip/@include are ignored: a skipped field is computed anyway, never missed.
 */
export function selectedFieldNames(info: GraphQLResolveInfo, path: readonly string[] = []): Set<string> {
  let nodes: readonly FieldNode[] = info.fieldNodes;
  for (const name of path) {
    nodes = nodes
      .flatMap((n) => (n.selectionSet ? fieldsOf(n.selectionSet.selections, info, []) : []))
      .filter((f) => f.name.value === name);
  }
  const names = new Set<string>();
  for (const n of nodes)
    if (n.selectionSet) for (const f of fieldsOf(n.selectionSet.selections, info, [])) names.add(f.name.value);
  return names;
}

/** The aggregate values selected below `path`. */
export function selectedValues(info: GraphQLResolveInfo, path: readonly string[] = []): FlowValue[] {
  const names = selectedFieldNames(info, path);
  return FLOW_VALUES.filter((v) => names.has(VALUE_FIELD[v]));
}
