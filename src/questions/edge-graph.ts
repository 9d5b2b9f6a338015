/**
 * Shapes aggregated edges (edgeAggregateSql rows) for Grafana's node graph panel: nodes with id, title, subTitle,
 * mainStat and arc__* fractions (by endpoint kind), edges with id, source, target, mainStat, secondaryStat. Pure: the
 * edges come from edgeQuery ordered by bytes with `maxEdges`; `truncated` says more existed. It shapes an answer and
 * builds no SQL, so it sits with the edge questions, and GraphQL reads its types from here.
 */

/** A node of the node graph panel. */
export interface GraphNode {
  readonly id: string;
  readonly title: string;
  readonly subTitle: string;
  readonly mainStat: string;
  readonly arc__instance: number;
  readonly arc__interface: number;
  readonly arc__external: number;
  readonly arc__service: number;
}

/** An edge of the node graph panel. */
export interface GraphEdge {
  readonly id: string;
  readonly source: string;
  readonly target: string;
  readonly mainStat: string;
  readonly secondaryStat: string;
}

/** The graph and whether edges were cut at maxEdges. */
export interface EdgeGraph {
  readonly nodes: GraphNode[];
  readonly edges: GraphEdge[];
  readonly truncated: boolean;
}

type EdgeRow = Record<string, unknown>;

const ARC: Record<string, keyof GraphNode> = {
  INSTANCE: 'arc__instance',
  INTERFACE: 'arc__interface',
  EXTERNAL: 'arc__external',
  AWS_SERVICE: 'arc__service',
};

/** Human bytes, e.g. 1.5 MB (decimal units, as AWS bills them). */
export function formatBytes(n: bigint): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = Number(n);
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

/** Nodes and edges from aggregated edge rows (at most `maxEdges` of them are used). */
export function edgeGraphFromRows(rows: readonly EdgeRow[], maxEdges: number): EdgeGraph {
  const used = rows.slice(0, maxEdges);
  const totals = new Map<string, { bytes: bigint; kind: string; subTitle: string }>();
  const edges: GraphEdge[] = used.map((r) => {
    const toServer = BigInt(r.bytes_to_server as bigint);
    const toClient = BigInt(r.bytes_to_client as bigint);
    for (const side of ['client', 'server'] as const) {
      const id = String(r[`${side}_id`]);
      const prev = totals.get(id) ?? {
        bytes: 0n,
        kind: String(r[`${side}_kind`]),
        subTitle: String(r[`${side}_addr`] ?? r[`${side}_kind`]),
      };
      totals.set(id, { ...prev, bytes: prev.bytes + toServer + toClient });
    }
    return {
      id: `${r.client_id}->${r.server_id}/${r.protocol}/${r.server_port}`,
      source: String(r.client_id),
      target: String(r.server_id),
      mainStat: formatBytes(toServer + toClient),
      secondaryStat: `${r.connections} conn, port ${r.server_port}`,
    };
  });
  const nodes = [...totals].map(([id, t]) => {
    const node: Record<string, string | number> = {
      id,
      title: id,
      subTitle: t.subTitle,
      mainStat: formatBytes(t.bytes),
    };
    for (const arc of Object.values(ARC)) node[arc] = 0;
    node[ARC[t.kind] ?? 'arc__external'] = 1;
    return node as unknown as GraphNode;
  });
  return { nodes, edges, truncated: rows.length > maxEdges };
}
