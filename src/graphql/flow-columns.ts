/**
 * Which stored columns a `flows` request reads: the `Flow` fields selected under `edges.node` and `nodes` (through
 * fragments too), mapped to their columns. Reading only those makes a page's row fetch about twice as cheap (most
 * columns are text that DuckDB must decompress). A field this map does not know (added to `Flow` elsewhere, e.g. the
 * direction fields, whose resolvers look at whole rows) makes the answer "every column", so nothing reads a column
 * that was not fetched.
 */
import type { FieldNode, FragmentDefinitionNode, GraphQLResolveInfo, SelectionSetNode } from 'graphql';
import { FIELDS } from '../domain/fields.ts';

/** GraphQL field of `Flow` -> the columns its resolver reads (src/graphql/types/flow.ts). */
const FLOW_FIELD_COLUMNS: ReadonlyMap<string, readonly string[]> = new Map<string, readonly string[]>([
  ...FIELDS.map((f) => [f.graphql, [f.column]] as const),
  ['accountId', ['account_id']],
  ['region', ['region']],
  ['date', ['date']],
  ['flowId', ['flow_id']],
  ['sourceId', ['source_id']],
  ['sourceLine', ['source_line']],
  ['sourceAccountId', ['source_account_id']],
  ['extraFields', ['extra']],
  ['tcpFlagNames', ['tcp_flags']],
  ['protocolName', ['protocol']],
  ['srcAwsService', ['pkt_src_aws_service', 'pkt_srcaddr', 'srcaddr']],
  ['dstAwsService', ['pkt_dst_aws_service', 'pkt_dstaddr', 'dstaddr']],
  ['srcAwsRange', ['pkt_srcaddr', 'srcaddr']],
  ['dstAwsRange', ['pkt_dstaddr', 'dstaddr']],
  ['srcNetwork', ['pkt_srcaddr', 'srcaddr']],
  ['dstNetwork', ['pkt_dstaddr', 'dstaddr']],
  ['instanceName', ['instance_id', 'interface_id', 'start_time']],
  ['subnetName', ['subnet_id', 'start_time']],
  ['vpcName', ['vpc_id', 'start_time']],
  ['__typename', []],
]);

type Fragments = Readonly<Record<string, FragmentDefinitionNode>>;

/** Field nodes named `name` directly in a selection set (inline fragments and spreads flattened). */
function fieldsNamed(set: SelectionSetNode | undefined, fragments: Fragments, name: string | null): FieldNode[] {
  const out: FieldNode[] = [];
  for (const s of set?.selections ?? []) {
    if (s.kind === 'Field') {
      if (name === null || s.name.value === name) out.push(s);
    } else if (s.kind === 'InlineFragment') out.push(...fieldsNamed(s.selectionSet, fragments, name));
    else out.push(...fieldsNamed(fragments[s.name.value]?.selectionSet, fragments, name));
  }
  return out;
}

/**
 * The columns the selected `Flow` fields read, or null when some selected field is not in the map (read them all).
 * `connection` is the `flows` field node(s) of the request.
 */
export function flowColumnsOf(connection: readonly FieldNode[], fragments: Fragments): readonly string[] | null {
  const nodes: FieldNode[] = [];
  for (const flows of connection) {
    nodes.push(...fieldsNamed(flows.selectionSet, fragments, 'nodes'));
    for (const edges of fieldsNamed(flows.selectionSet, fragments, 'edges')) {
      nodes.push(...fieldsNamed(edges.selectionSet, fragments, 'node'));
    }
  }
  const columns = new Set<string>();
  for (const node of nodes) {
    for (const field of fieldsNamed(node.selectionSet, fragments, null)) {
      const read = FLOW_FIELD_COLUMNS.get(field.name.value);
      if (!read) return null;
      for (const c of read) columns.add(c);
    }
  }
  return [...columns];
}

/** flowColumnsOf for a resolver's `info`. */
export function selectedFlowColumns(info: GraphQLResolveInfo): readonly string[] | null {
  return flowColumnsOf(info.fieldNodes, info.fragments);
}
