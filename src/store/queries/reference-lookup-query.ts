/**
 * Longest-prefix lookups of addresses in the reference tables (src/domain/reference-tables.ts): the AWS service and
 * region of a public address (ip_ranges), the name and attributes of your own network (networks). Both tables store
 * each CIDR block as fixed-width hex bounds (8 digits for IPv4, 32 for IPv6), so an address converted to the same form
 * is inside a block when it sorts BETWEEN its bounds; of the blocks holding it the longest prefix wins, and for
 * ip_ranges, of equal prefixes a service wins over AMAZON (AWS lists many prefixes under both), then the first name.
 *
 * Two shapes: `referenceLookupQuery` answers a list of addresses (the ends a GraphQL page shows), and
 * `awsServiceOfSql` / `networkNameOfSql` are scalar subqueries over an address expression for filter conditions;
 * DuckDB decorrelates them into one join over the distinct addresses of the scan, so the conversion to hex runs once
 * per address, not per record.
 */
import { build, raw, sql, type SqlFragment, type SqlQuery } from '../sql.ts';
import { ipv6HexSql } from './address-hex-sql.ts';

/** The address family of a textual address expression (6 when it holds a colon). */
const familySql = (e: string): string => `CASE WHEN contains(${e}, ':') THEN 6 ELSE 4 END`;

/** Eight hex digits of a dotted IPv4 address (NULL when it is not one). */
function ipv4HexSql(e: string): string {
  const octet = (i: number) => `TRY_CAST(split_part(${e}, '.', ${i}) AS BIGINT)`;
  return `printf('%08x', ((${octet(1)} * 256 + ${octet(2)}) * 256 + ${octet(3)}) * 256 + ${octet(4)})`;
}

/** The hex form of a textual address expression that the reference tables' bounds compare with. */
function addressHexSql(e: string): SqlFragment {
  return sql`CASE WHEN contains(${raw(e)}, ':') THEN ${ipv6HexSql(e)} ELSE ${raw(ipv4HexSql(e))} END`;
}

// Of the blocks holding an address: the longest prefix, then (ip_ranges) a service before AMAZON, then by name.
const AWS_ORDER = raw(`r.prefix_len DESC, r.service = 'AMAZON', r.service`);
const NETWORK_ORDER = raw('r.prefix_len DESC, r.name');

const source = (path: string): SqlFragment => sql`read_parquet(${path})`;

/** What a lookup needs: the addresses, and the live snapshots' absolute paths (null: no snapshot of that kind). */
export interface ReferenceLookupInput {
  readonly addresses: readonly string[];
  readonly ipRanges: string | null;
  readonly networks: string | null;
}

/**
 * `reference.lookup`: one row per address that some table names: `addr`, `aws` (struct of service, region,
 * network_border_group, prefix; NULL when no AWS range holds it) and `network` (struct of name, prefix, attributes).
 */
export function referenceLookupQuery(input: ReferenceLookupInput): SqlQuery {
  const aws = input.ipRanges
    ? sql`(SELECT first(struct_pack(service := r.service, region := r.region,
                 network_border_group := r.network_border_group, prefix := r.prefix) ORDER BY ${AWS_ORDER})
             FROM ${source(input.ipRanges)} r WHERE r.family = k.family AND k.hex BETWEEN r.first_hex AND r.last_hex)`
    : raw('NULL');
  const network = input.networks
    ? sql`(SELECT first(struct_pack(name := r.name, prefix := r.prefix, attributes := r.attributes) ORDER BY ${NETWORK_ORDER})
             FROM ${source(input.networks)} r WHERE r.family = k.family AND k.hex BETWEEN r.first_hex AND r.last_hex)`
    : raw('NULL');
  return build(
    'reference.lookup',
    sql`WITH k AS (
  SELECT addr, ${raw(familySql('addr'))} AS family, ${addressHexSql('addr')} AS hex
    FROM (SELECT DISTINCT unnest(${input.addresses}::VARCHAR[]) AS addr) WHERE addr IS NOT NULL
)
SELECT addr, aws, network FROM (SELECT k.addr, ${aws} AS aws, ${network} AS network FROM k)
 WHERE aws IS NOT NULL OR network IS NOT NULL ORDER BY addr`,
  );
}

/**
 * The packet-level address of each end of a flow record (docs/semantics.md §1: `pkt-srcaddr`, else `srcaddr`), which
 * pkt-*-aws-service describes: the address the `awsServices` and `networks` filters test and the named dimensions
 * (SRC_NETWORK, DST_AWS_SERVICE...) look up, so a filter on a name and a grouping by it agree.
 */
export const PACKET_ADDRESS_SQL = {
  src: 'coalesce(pkt_srcaddr, srcaddr)',
  dst: 'coalesce(pkt_dstaddr, dstaddr)',
} as const;

/**
 * The AWS service ip_ranges names for the address expression `e` (a column or an expression of columns, never
 * input), or NULL: a scalar subquery for filter conditions.
 */
export function awsServiceOfSql(e: string, ipRanges: string): SqlFragment {
  return sql`(SELECT first(r.service ORDER BY ${AWS_ORDER}) FROM ${source(ipRanges)} r
   WHERE r.family = ${raw(familySql(e))} AND ${addressHexSql(e)} BETWEEN r.first_hex AND r.last_hex)`;
}

/** The name of your own network holding the address expression `e`, or NULL (see awsServiceOfSql). */
export function networkNameOfSql(e: string, networks: string): SqlFragment {
  return sql`(SELECT first(r.name ORDER BY ${NETWORK_ORDER}) FROM ${source(networks)} r
   WHERE r.family = ${raw(familySql(e))} AND ${addressHexSql(e)} BETWEEN r.first_hex AND r.last_hex)`;
}
