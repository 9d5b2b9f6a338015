/**
 * The `Endpoint` type: one end of a connection (a handshake's or an edge's client or server), resolved as
 * docs/semantics.md §5 says, most specific first: an instance, a requester-managed interface (NAT gateway, endpoint,
 * load balancer), an AWS service, or an external address. Shared by handshakes, traffic edges and scans; rows keep
 * the stored `client_*` / `server_*` column names and this module picks one side.
 */
import { ENDPOINT_KINDS } from '../../analytics/connection-rules.ts';
import type { Row } from '../../store/query-runner.ts';
import { builder } from '../builder.ts';

/** What an endpoint resolved to. */
export const EndpointKindEnum = builder.enumType('EndpointKind', {
  description:
    'What an endpoint resolved to: INSTANCE (an EC2 instance, via the interface that logged it or an address it held ' +
    'at the time), INTERFACE (a requester-managed interface: NAT gateway, VPC endpoint, load balancer), AWS_SERVICE ' +
    '(pkt-*-aws-service), UNRESOLVED (a monitored interface logged the address, but the records cannot say which of ' +
    'the interfaces that logged it owns it: v2/v3 records of a single-peer exchange between two interfaces; the ' +
    "edge's observedAt lists both), EXTERNAL (anything else).",
  values: ENDPOINT_KINDS,
});

/** One side of a row: the row and the column prefix. */
export interface EndpointParent {
  readonly row: Row;
  readonly side: 'client' | 'server';
  /** The endpoint id at the row's aggregation level (edges), else the most specific id known. */
  readonly id: string | null;
}

const col = (p: EndpointParent, name: string): string | null => {
  const v = p.row[`${p.side}_${name}`];
  return v === null || v === undefined ? null : String(v);
};

/** The side of a row as an Endpoint parent; `id` defaults to instance, else interface, else address. */
export function endpointOf(row: Row, side: 'client' | 'server', id?: string | null): EndpointParent {
  const p = { row, side, id: null };
  return { row, side, id: id ?? col(p, 'instance_id') ?? col(p, 'interface_id') ?? col(p, 'addr') };
}

/** The Endpoint object type. */
export const EndpointRef = builder.objectRef<EndpointParent>('Endpoint').implement({
  description:
    'One end of a connection. On an aggregated edge (SUBNET, VPC level) an attribute shared by every member is shown ' +
    'and one that differs is null.',
  fields: (t) => ({
    id: t.string({
      description: 'The id at the aggregation level: instance, interface, subnet or VPC id, else the IP address.',
      resolve: (p) => p.id ?? 'unknown',
    }),
    kind: t.field({ type: EndpointKindEnum, resolve: (p) => (col(p, 'kind') ?? 'EXTERNAL') as (typeof ENDPOINT_KINDS)[number] }),
    ip: t.string({ nullable: true, description: 'The packet-level address (pkt-srcaddr/pkt-dstaddr).', resolve: (p) => col(p, 'addr') }),
    instanceId: t.string({ nullable: true, resolve: (p) => col(p, 'instance_id') }),
    interfaceId: t.string({ nullable: true, resolve: (p) => col(p, 'interface_id') }),
    subnetId: t.string({ nullable: true, resolve: (p) => col(p, 'subnet_id') }),
    vpcId: t.string({ nullable: true, resolve: (p) => col(p, 'vpc_id') }),
    azId: t.string({ nullable: true, resolve: (p) => col(p, 'az_id') }),
    region: t.string({ nullable: true, resolve: (p) => col(p, 'region') }),
    awsService: t.string({ nullable: true, description: 'AWS service named by pkt-*-aws-service.', resolve: (p) => col(p, 'service') }),
  }),
});
