/**
 * Endpoints (docs/semantics.md §5): the address-to-interface map learned from the records, and the resolution of a
 * client or server address to an instance, an interface, an AWS service or an external address.
 *
 * Rules, as implemented:
 * - An interface owns the address it logs as srcaddr on egress and dstaddr on ingress (its primary address), from
 *   ADDRESS_VALIDITY_SLACK before its first such record to the same slack after its last. Outside that span the
 *   address maps to nothing (addresses are reused by later instances).
 * - Resolution, most specific first: the interface that logged the side's own record (the sender's egress or the
 *   receiver's ingress observation), else the map entry valid at the time (an ASOF join picks the latest owner whose
 *   span started before; it counts only if the span has not ended), else the AWS service named by
 *   pkt-*-aws-service, else EXTERNAL.
 * - kind: INSTANCE when an instance is known, INTERFACE for interfaces without one (NAT gateways, endpoints, load
 *   balancers), AWS_SERVICE, UNRESOLVED for an address a monitored interface logged when the records cannot say which
 *   of the interfaces that logged it owns it (own-address-query.ts), EXTERNAL.
 */
import type { EdgeLevel } from '../domain/connection-enums.ts';
import { raw, sql, type SqlFragment } from '../store/sql.ts';
import { ADDRESS_VALIDITY_SLACK_SECONDS } from './connection-rules.ts';
import { secondsSql } from './sql-interval.ts';

/**
 * CTE `addr_map` (unit, addr, interface_id, instance_id, subnet_id, vpc_id, az_id, region, account_id, valid_from,
 * valid_to); needs `obs`. The account is the one whose flow log holds the interface's records.
 */
export function addressMapCte(): SqlFragment {
  const slack = secondsSql(ADDRESS_VALIDITY_SLACK_SECONDS);
  return sql`addr_map AS MATERIALIZED (
  SELECT unit, addr, interface_id, max(instance_id) AS instance_id, max(subnet_id) AS subnet_id, max(vpc_id) AS vpc_id,
         max(az_id) AS az_id, max(region) AS region, max(account_id) AS account_id,
         min(start_time) - ${slack} AS valid_from, max(coalesce(end_time, start_time)) + ${slack} AS valid_to
  FROM (SELECT *, logged_addr AS addr FROM obs)
  WHERE addr IS NOT NULL AND interface_id IS NOT NULL
  GROUP BY unit, addr, interface_id
  -- The ASOF joins below pick the entry with the latest valid_from; of two interfaces whose spans for an address
  -- start together they would pick either, as the scan happened to order them. Keep one: the longer-lasting span,
  -- then the smaller interface id.
  QUALIFY row_number() OVER (PARTITION BY unit, addr, valid_from ORDER BY valid_to DESC, interface_id) = 1
)`;
}

const SIDES = ['client', 'server'] as const;
type Side = (typeof SIDES)[number];
const ATTRS = ['interface_id', 'instance_id', 'subnet_id', 'vpc_id', 'az_id', 'region', 'account_id'] as const;

function resolvedColumns(side: Side): string {
  const m = `m_${side}`;
  const fromMap = `x.first_seen <= ${m}.valid_to`;
  const attrs = ATTRS.map(
    (a) =>
      `CASE WHEN x.${side}_obs_interface_id IS NOT NULL THEN x.${side}_obs_${a} WHEN ${fromMap} THEN ${m}.${a} END AS ${side}_${a}`,
  );
  return attrs.join(',\n         ');
}

/** The address a side is looked up by in the address map: NULL when the side's own records observed it. */
function lookedUp(side: Side): string {
  return `CASE WHEN x.${side}_obs_interface_id IS NULL THEN x.${side}_addr END`;
}

function kindColumn(side: Side): string {
  return `CASE WHEN ${side}_instance_id IS NOT NULL THEN 'INSTANCE' WHEN ${side}_interface_id IS NOT NULL THEN 'INTERFACE'
              WHEN ${side}_service IS NOT NULL THEN 'AWS_SERVICE' WHEN ${side}_unresolved THEN 'UNRESOLVED'
              ELSE 'EXTERNAL' END AS ${side}_kind`;
}

/**
 * Resolve both ends of `input`, which has unit, client_addr, server_addr, client_service, server_service, first_seen,
 * client_unresolved, server_unresolved (a record of unknown direction saw the side) and client_obs_<attr>/server_obs_<attr> for each attr above. The result replaces the obs columns by client_<attr>,
 * server_<attr> and adds client_kind, server_kind. Needs the `addr_map` CTE.
 */
export function resolveEndpointsSql(input: SqlFragment): SqlFragment {
  const obsCols = SIDES.flatMap((s) => ATTRS.map((a) => `${s}_obs_${a}`)).join(', ');
  const mapCols = ATTRS.map((a) => `m.${a}`).join(', ');
  const joinBack = (side: Side) => {
    const m = `m_${side}`;
    return `LEFT JOIN found AS ${m} ON ${m}.unit = x.unit AND ${m}.addr = ${lookedUp(side)} AND ${m}.at = x.first_seen`;
  };
  return sql`SELECT *, ${raw(kindColumn('client'))}, ${raw(kindColumn('server'))}
FROM (
  WITH x AS MATERIALIZED (SELECT * FROM ${input}),
  -- The map is looked up once per address and time, in a narrow ASOF join (the latest entry that started before),
  -- and joined back by equality: an ASOF join sorts its whole input, every column of every row, which cost the edge
  -- statement more than any other step.
  looked AS (
    SELECT unit, ${raw(lookedUp('client'))} AS addr, first_seen AS at FROM x
    UNION
    SELECT unit, ${raw(lookedUp('server'))} AS addr, first_seen AS at FROM x
  ),
  found AS (
    SELECT k.unit, k.addr, k.at, m.valid_to, ${raw(mapCols)}
    FROM (SELECT * FROM looked WHERE addr IS NOT NULL) AS k
    ASOF LEFT JOIN addr_map AS m ON m.unit = k.unit AND m.addr = k.addr AND k.at >= m.valid_from
  )
  SELECT x.* EXCLUDE (${raw(obsCols)}),
         ${raw(resolvedColumns('client'))},
         ${raw(resolvedColumns('server'))}
  FROM x
  -- A side its own records observed takes its attributes from them (resolvedColumns), never from the map: only the
  -- other sides are looked up (a NULL key matches nothing).
  ${raw(joinBack('client'))}
  ${raw(joinBack('server'))}
)`;
}

/**
 * The column holding an endpoint's id at a level: the instance, else the interface, else the address. TAG reads
 * `<side>_tag`, which only rows passed through withEndTagsSql (edge-tag-query.ts) have.
 */
export function endpointIdSql(side: Side, level: EdgeLevel): SqlFragment {
  const s = side;
  const byLevel: Record<EdgeLevel, string> = {
    INSTANCE: `coalesce(${s}_instance_id, ${s}_interface_id, ${s}_addr)`,
    INTERFACE: `coalesce(${s}_interface_id, ${s}_addr)`,
    SUBNET: `coalesce(${s}_subnet_id, ${s}_addr)`,
    VPC: `coalesce(${s}_vpc_id, ${s}_addr)`,
    ACCOUNT: `coalesce(${s}_account_id, ${s}_addr)`,
    ADDRESS: `${s}_addr`,
    // `<key>=<value>` of the end's tag (edge-tag-query.ts adds the column); an end without it stays itself.
    TAG: `coalesce(${s}_tag, ${s}_instance_id, ${s}_interface_id, ${s}_addr)`,
  };
  return raw(byLevel[level]);
}
