/**
 * The names the reference tables give an address (src/questions/reference-lookup.ts): the AWS range of a public AWS
 * address (from AWS's ip-ranges.json) and your own network (from `flowql networks import`). Shared by `Flow` (its
 * source and destination) and `Endpoint`.
 */
import type { SecurityGroup, Tag } from '../../questions/inventory-lookup.ts';
import type { AwsRange, OwnNetwork } from '../../questions/reference-lookup.ts';
import { builder } from '../builder.ts';

/** An entry of AWS's ip-ranges.json. */
export const AwsIpRangeRef = builder.objectRef<AwsRange>('AwsIpRange').implement({
  description:
    "The entry of AWS's published ip-ranges.json (the loaded snapshot: see `datasets`) that names an address: the " +
    'longest prefix holding it; of a prefix AWS lists under AMAZON and under a service, the service.',
  fields: (t) => ({
    service: t.exposeString('service', {
      description: 'S3, DYNAMODB, EC2, CLOUDFRONT, ... (AMAZON: no more specific service).',
    }),
    region: t.exposeString('region', { description: 'Region of the range (GLOBAL for edge services).' }),
    networkBorderGroup: t.exposeString('networkBorderGroup'),
    prefix: t.exposeString('prefix', { description: 'The CIDR block that matched.' }),
  }),
});

const NetworkAttributeRef = builder
  .objectRef<{ readonly key: string; readonly value: string }>('NetworkAttribute')
  .implement({
    description: 'A key/value attribute of one of your networks.',
    fields: (t) => ({ key: t.exposeString('key'), value: t.exposeString('value') }),
  });

/** One of your own networks. */
export const NetworkRef = builder.objectRef<OwnNetwork>('Network').implement({
  description:
    'One of your own networks (`flowql networks import`: on-premises ranges, partner VPCs, office egress) that holds ' +
    'an address: the longest prefix.',
  fields: (t) => ({
    name: t.exposeString('name'),
    prefix: t.exposeString('prefix', { description: 'The CIDR block that matched.' }),
    attributes: t.field({ type: [NetworkAttributeRef], resolve: (n) => [...n.attributes] }),
  }),
});

/** An AWS tag of an instance or interface. */
export const TagRef = builder.objectRef<Tag>('Tag').implement({
  description: 'An AWS tag (key and value) of an instance or network interface, from the inventory snapshots.',
  fields: (t) => ({ key: t.exposeString('key'), value: t.exposeString('value') }),
});

/** A security group of an instance or interface. */
export const SecurityGroupRef = builder.objectRef<SecurityGroup>('SecurityGroup').implement({
  description: 'A security group (id and name) of an instance or network interface, from the inventory snapshots.',
  fields: (t) => ({ id: t.exposeString('id'), name: t.exposeString('name') }),
});
