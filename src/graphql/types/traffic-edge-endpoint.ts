/**
 * The `Endpoint` type: one end of a connection (a handshake's or an edge's client or server), resolved as
 * docs/semantics.md §5 says, most specific first: an instance, a requester-managed interface (NAT gateway, endpoint,
 * load balancer), an AWS service, or an external address. Shared by handshakes and traffic edges, over the typed
 * value the questions build (src/questions/endpoint.ts).
 */
import { ENDPOINT_KINDS } from '../../domain/connection-enums.ts';
import type { Endpoint } from '../../questions/endpoint.ts';
import { inventoryNames } from '../../questions/inventory-lookup.ts';
import { addressNames } from '../../questions/reference-lookup.ts';
import { resourceNames } from '../../questions/resource-name-lookup.ts';
import { builder } from '../builder.ts';
import { AwsIpRangeRef, NetworkRef, SecurityGroupRef, TagRef } from './reference-names.ts';

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

/** The Endpoint object type. */
export const EndpointRef = builder.objectRef<Endpoint>('Endpoint').implement({
  description:
    'One end of a connection. On an aggregated edge (SUBNET, VPC level) an attribute shared by every member is shown ' +
    'and one that differs is null.',
  fields: (t) => ({
    id: t.string({
      description:
        'The id at the aggregation level: instance, interface, subnet, VPC or account id, `key=value` of a tag at level ' +
        'TAG, else the IP address.',
      resolve: (e) => e.id ?? 'unknown',
    }),
    kind: t.field({ type: EndpointKindEnum, resolve: (e) => e.kind }),
    ip: t.exposeString('ip', { nullable: true, description: 'The packet-level address (pkt-srcaddr/pkt-dstaddr).' }),
    instanceId: t.exposeString('instanceId', { nullable: true }),
    interfaceId: t.exposeString('interfaceId', { nullable: true }),
    subnetId: t.exposeString('subnetId', { nullable: true }),
    vpcId: t.exposeString('vpcId', { nullable: true }),
    azId: t.exposeString('azId', { nullable: true }),
    region: t.exposeString('region', { nullable: true }),
    accountId: t.exposeString('accountId', {
      nullable: true,
      description:
        "The account whose flow log holds this end's interface; null for an end no monitored interface logged (and on " +
        'rows derived before flowql kept it, until `flowql derive --all` writes them again).',
    }),
    awsService: t.string({
      nullable: true,
      description:
        'The AWS service of this end: the pkt-*-aws-service of its records (v5 logs) when they name one (it wins), ' +
        "else the service AWS's published ip-ranges name for `ip` (see awsRange). The kind stays EXTERNAL for an " +
        'address only the ranges name.',
      resolve: async (e, _args, ctx) => e.awsService ?? (await addressNames(ctx.query)(e.ip)).awsRange?.service ?? null,
    }),
    awsRange: t.field({
      type: AwsIpRangeRef,
      nullable: true,
      description: "The entry of AWS's ip-ranges (the loaded snapshot) holding `ip`, looked up when asked.",
      resolve: async (e, _args, ctx) => (await addressNames(ctx.query)(e.ip)).awsRange,
    }),
    network: t.field({
      type: NetworkRef,
      nullable: true,
      description: 'Your own network (`flowql networks import`) holding `ip`, looked up when asked.',
      resolve: async (e, _args, ctx) => (await addressNames(ctx.query)(e.ip)).network,
    }),
    name: t.string({
      nullable: true,
      description:
        'The Name tag of the instance, else of the interface, from the inventory (`flowql inventory import`) at the ' +
        "time of the handshake or of the edge's first record: the latest snapshot at or before it, else the earliest. " +
        'An end known only by its interface is named by the instance that interface was attached to then; one known ' +
        'only by its address, by the interface holding that address then (none when two do). Not before the launch or ' +
        'attach time the earliest snapshot lists. Null when no snapshot (of the accounts your key may read) knows the end.',
      resolve: async (e, _args, ctx) => (await inventoryNames(ctx.query)(e)).name,
    }),
    subnetName: t.string({
      nullable: true,
      description:
        "The Name tag of the end's subnet (`aws ec2 describe-subnets` in the inventory), as `name` finds names; null " +
        'when no snapshot (of your accounts) knows it.',
      resolve: (e, _args, ctx) => resourceNames(ctx.query)({ id: e.subnetId, at: e.at }),
    }),
    vpcName: t.string({
      nullable: true,
      description: "The Name tag of the end's VPC (`aws ec2 describe-vpcs` in the inventory), as subnetName.",
      resolve: (e, _args, ctx) => resourceNames(ctx.query)({ id: e.vpcId, at: e.at }),
    }),
    tags: t.field({
      type: [TagRef],
      description: 'The tags of the instance (else of the interface), as `name` finds them; empty when unknown.',
      resolve: async (e, _args, ctx) => [...(await inventoryNames(ctx.query)(e)).tags],
    }),
    instanceType: t.string({
      nullable: true,
      description:
        "The instance's type (`InstanceType` in describe-instances, e.g. t3.medium), as `name` finds it; null for an " +
        'end without a known instance.',
      resolve: async (e, _args, ctx) => (await inventoryNames(ctx.query)(e)).instanceType,
    }),
    securityGroups: t.field({
      type: [SecurityGroupRef],
      description:
        "The instance's security groups, else the interface's (NAT gateways and endpoints have their own), as `name` " +
        'finds them; empty when unknown.',
      resolve: async (e, _args, ctx) => [...(await inventoryNames(ctx.query)(e)).securityGroups],
    }),
  }),
});
