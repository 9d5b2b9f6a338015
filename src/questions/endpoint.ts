/**
 * One end of a connection as the questions return it: the stored `client_*` / `server_*` columns of a handshake or
 * edge row read once, here, into a typed value (docs/semantics.md §5 says how each end was resolved).
 */
import type { EndpointKind } from '../domain/connection-enums.ts';
import type { Row } from '../store/query-runner.ts';

/** A resolved connection end. */
export interface Endpoint {
  /** The id at the row's aggregation level (edges), else the most specific id known: instance, interface, address. */
  readonly id: string | null;
  readonly kind: EndpointKind;
  /** The packet-level address (null on aggregated edges whose members differ). */
  readonly ip: string | null;
  readonly instanceId: string | null;
  readonly interfaceId: string | null;
  readonly subnetId: string | null;
  readonly vpcId: string | null;
  readonly azId: string | null;
  readonly region: string | null;
  /** The account whose flow log holds the end's interface (null for an end no monitored interface logged). */
  readonly accountId: string | null;
  /** The AWS service named by pkt-*-aws-service. */
  readonly awsService: string | null;
  /** When the end was seen (a handshake's start, an edge's first record): the time inventory names it at. */
  readonly at: Date | null;
}

/**
 * The `side` end of a stored handshake or edge row (or the `sender` of a cost group); `id` defaults to the instance,
 * else interface, else address.
 */
export function endpointFromRow(
  row: Row,
  side: 'client' | 'server' | 'sender',
  id?: string | null,
  at: Date | null = null,
): Endpoint {
  const col = (name: string): string | null => {
    const v = row[`${side}_${name}`];
    return v === null || v === undefined ? null : String(v);
  };
  return {
    id: id ?? col('instance_id') ?? col('interface_id') ?? col('addr'),
    kind: (col('kind') ?? 'EXTERNAL') as EndpointKind,
    ip: col('addr'),
    instanceId: col('instance_id'),
    interfaceId: col('interface_id'),
    subnetId: col('subnet_id'),
    vpcId: col('vpc_id'),
    azId: col('az_id'),
    region: col('region'),
    accountId: col('account_id'),
    awsService: col('service'),
    at,
  };
}
