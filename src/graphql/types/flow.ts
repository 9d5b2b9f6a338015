/**
 * The `Flow` type: one stored record. Its fields are generated from the field table (src/domain/fields.ts), so a
 * field AWS adds appears here by adding one row there. Kinds map to GraphQL types: string -> String, int32 -> Int,
 * int64 -> BigInt (exact, as a string), epoch -> DateTime. Every AWS field is nullable (`-` in a record is null).
 */
import { FIELDS, type FieldSpec } from '../../domain/fields.ts';
import { protocolName } from '../../domain/protocols.ts';
import { tcpFlagNames } from '../../domain/tcp-flags.ts';
import type { Row } from '../../store/query-runner.ts';
import { inventoryNames } from '../../questions/inventory-lookup.ts';
import { resourceNames } from '../../questions/resource-name-lookup.ts';
import { addressNames } from '../../questions/reference-lookup.ts';
import { builder } from '../builder.ts';
import { AwsIpRangeRef, NetworkRef } from './reference-names.ts';

/** A record row as readers return it: storage column -> JS value. */
export type FlowRow = Row;

/** Fields resolved from partition columns instead of the field table (never null there). */
const PARTITION_FIELDS = new Set(['account_id', 'region']);

/** One key/value of a field from a newer format version than flowql knows. */
export const FlowExtraFieldRef = builder.objectRef<{ key: string; value: string | null }>('FlowExtraField').implement({
  description: 'A field of a newer flow log version than this server knows, as text.',
  fields: (t) => ({
    name: t.exposeString('key', { description: "AWS's field name (hyphenated)." }),
    value: t.exposeString('value', { nullable: true }),
  }),
});

/** The Flow object type. */
export const FlowRef = builder.objectRef<FlowRow>('Flow');

/** The packet-level address of one end (docs/semantics.md §1): pkt-*addr, else the logged address. */
const packetAddress = (r: FlowRow, end: 'src' | 'dst'): string | null =>
  ((r[`pkt_${end}addr`] ?? r[`${end}addr`]) as string | null | undefined) ?? null;

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

FlowRef.implement({
  description: 'One VPC flow log record: one flow on one network interface in one aggregation window.',
  fields: (t) => {
    const fieldFor = (f: FieldSpec) => {
      const options = { nullable: true, description: `\`${f.name}\` (v${f.version}). ${f.description}` } as const;
      const value = (row: FlowRow) => row[f.column];
      switch (f.kind) {
        case 'string':
          return t.field({ ...options, type: 'String', resolve: (r) => (value(r) as string | null) ?? null });
        case 'int32':
          return t.field({ ...options, type: 'Int', resolve: (r) => num(value(r)) });
        case 'int64':
          return t.field({ ...options, type: 'BigInt', resolve: (r) => (value(r) as bigint | null) ?? null });
        case 'epoch':
          return t.field({ ...options, type: 'DateTime', resolve: (r) => (value(r) as Date | null) ?? null });
      }
    };
    const generated = Object.fromEntries(
      FIELDS.filter((f) => !PARTITION_FIELDS.has(f.column)).map((f) => [f.graphql, fieldFor(f)]),
    );
    return {
      ...generated,
      accountId: t.string({
        description:
          'Account of the record (partition account_id: the record account-id, else the delivering account).',
        resolve: (r) => String(r.account_id),
      }),
      region: t.string({
        description: 'Region of the record (partition region: the record region, else the delivery key region).',
        resolve: (r) => String(r.region),
      }),
      date: t.string({
        description: 'UTC date (YYYY-MM-DD) of the partition holding the record.',
        resolve: (r) => (r.date instanceof Date ? r.date.toISOString().slice(0, 10) : String(r.date)),
      }),
      flowId: t.field({
        type: 'BigInt',
        description: 'Unique record id (source_id * 2^32 + source_line); the tie-breaker of keyset paging.',
        resolve: (r) => r.flow_id as bigint,
      }),
      sourceId: t.int({
        nullable: true,
        description: 'Ingest ledger id of the source object.',
        resolve: (r) => num(r.source_id),
      }),
      sourceLine: t.int({
        nullable: true,
        description: 'Line of the record in its source object.',
        resolve: (r) => num(r.source_line),
      }),
      sourceAccountId: t.string({
        nullable: true,
        description: 'Account in the S3 key that delivered the record, when known.',
        resolve: (r) => (r.source_account_id as string | null) ?? null,
      }),
      extraFields: t.field({
        type: [FlowExtraFieldRef],
        description: 'Fields of newer flow log versions than this server knows.',
        resolve: (r) => (Array.isArray(r.extra) ? (r.extra as { key: string; value: string | null }[]) : []),
      }),
      tcpFlagNames: t.stringList({
        description: 'tcp-flags decoded, lowest bit first (19 -> FIN, SYN, ACK); empty when absent.',
        resolve: (r) => (r.tcp_flags === null || r.tcp_flags === undefined ? [] : tcpFlagNames(Number(r.tcp_flags))),
      }),
      ...Object.fromEntries(
        (['src', 'dst'] as const).flatMap((end) => {
          const logged = end === 'src' ? 'pkt_src_aws_service' : 'pkt_dst_aws_service';
          const addr = (r: FlowRow) => packetAddress(r, end);
          const what = end === 'src' ? 'source' : 'destination';
          return [
            [
              `${end}AwsService`,
              t.string({
                nullable: true,
                description:
                  `AWS service of the packet ${what}: \`${logged.replaceAll('_', '-')}\` when the record has it (v5; it wins), ` +
                  "else the service AWS's published ip-ranges name for its address (longest prefix; a service beats AMAZON).",
                resolve: async (r, _args, ctx) =>
                  (r[logged] as string | null | undefined) ??
                  (await addressNames(ctx.query)(addr(r))).awsRange?.service ??
                  null,
              }),
            ],
            [
              `${end}AwsRange`,
              t.field({
                type: AwsIpRangeRef,
                nullable: true,
                description: `The ip-ranges entry holding the packet ${what} address (pkt-${end}addr, else ${end}addr).`,
                resolve: async (r, _args, ctx) => (await addressNames(ctx.query)(addr(r))).awsRange,
              }),
            ],
            [
              `${end}Network`,
              t.field({
                type: NetworkRef,
                nullable: true,
                description: `Your own network holding the packet ${what} address (pkt-${end}addr, else ${end}addr).`,
                resolve: async (r, _args, ctx) => (await addressNames(ctx.query)(addr(r))).network,
              }),
            ],
          ];
        }),
      ),
      instanceName: t.string({
        nullable: true,
        description:
          'The Name tag of the instance that logged the record (instance-id, else the instance its interface-id was ' +
          "attached to at the record's start), else of the interface, from the inventory (`flowql inventory import`); " +
          'null when no snapshot (of the accounts your key may read) knows it.',
        resolve: async (r, _args, ctx) => {
          const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
          const at = r.start_time instanceof Date ? r.start_time : null;
          const key = { instanceId: text(r.instance_id), interfaceId: text(r.interface_id), at };
          return (await inventoryNames(ctx.query)(key)).name;
        },
      }),
      ...Object.fromEntries(
        (['subnet', 'vpc'] as const).map((kind) => [
          `${kind}Name`,
          t.string({
            nullable: true,
            description:
              `The Name tag of the record's ${kind === 'subnet' ? 'subnet (subnet-id' : 'VPC (vpc-id'}, \`aws ec2 ` +
              `describe-${kind}s\` in the inventory) at the record's start, as Endpoint.${kind}Name finds it; null ` +
              'when the record has no such field or no snapshot (of your accounts) knows it.',
            resolve: (r, _args, ctx) => {
              const id = r[`${kind}_id`];
              const at = r.start_time instanceof Date ? r.start_time : null;
              return resourceNames(ctx.query)({ id: typeof id === 'string' && id !== '' ? id : null, at });
            },
          }),
        ]),
      ),
      protocolName: t.string({
        nullable: true,
        description: 'IANA name of protocol (6 -> TCP), the number as text when it has no common name.',
        resolve: (r) => (r.protocol === null || r.protocol === undefined ? null : protocolName(Number(r.protocol))),
      }),
    };
  },
});
