/**
 * `flowql inventory fetch`: the four documents `flowql inventory import` reads from files (describe-instances,
 * describe-network-interfaces, describe-subnets, describe-vpcs), asked of the EC2 API of one region instead, every
 * page of each. The SDK returns the same shapes the AWS CLI prints (the CLI prints the API's output), so one checker
 * (src/domain/inventory.ts) reads both, and a fetch and an import of the same resources at the same time give the same
 * snapshot version.
 *
 * Credentials come from the SDK's default chain (environment, shared config and credentials files, SSO, the
 * instance's or task's role), or from `--profile`: what a cron job on an EC2 instance or a laptop already has. The
 * calls need ec2:DescribeInstances, ec2:DescribeNetworkInterfaces, ec2:DescribeSubnets and ec2:DescribeVpcs (read only).
 */
import {
  EC2Client,
  paginateDescribeInstances,
  paginateDescribeNetworkInterfaces,
  paginateDescribeSubnets,
  paginateDescribeVpcs,
} from '@aws-sdk/client-ec2';

/** Where to ask. */
export interface InventoryFetchOptions {
  readonly region: string;
  /** A profile of the shared AWS config files (default: the default chain). */
  readonly profile?: string;
  /** Another EC2 endpoint (a VPC interface endpoint, or a test server). */
  readonly endpoint?: string;
}

/** One fetched document, named like the CLI command that prints it. */
export interface FetchedDocument {
  readonly source: string;
  readonly doc: unknown;
}

/** The largest page each describe call allows: fewer round trips on large accounts. */
const PAGE_SIZE = 1000;

/** Every page of the four describe calls of `opts.region`, as the documents the AWS CLI prints. */
export async function fetchInventoryDocuments(opts: InventoryFetchOptions): Promise<FetchedDocument[]> {
  const client = new EC2Client({
    region: opts.region,
    ...(opts.profile === undefined ? {} : { profile: opts.profile }),
    ...(opts.endpoint === undefined ? {} : { endpoint: opts.endpoint }),
  });
  const paging = { client, pageSize: PAGE_SIZE };
  const source = (command: string) => `ec2 ${command} (${opts.region})`;
  const collect = async <P, T>(command: string, pages: AsyncIterable<P>, items: (page: P) => T[] | undefined) => {
    const out: T[] = [];
    try {
      for await (const page of pages) out.push(...(items(page) ?? []));
    } catch (err) {
      throw new InventoryFetchError(`${source(command)}: ${(err as Error).message}`);
    }
    return out;
  };
  try {
    const reservations = await collect(
      'describe-instances',
      paginateDescribeInstances(paging, {}),
      (p) => p.Reservations,
    );
    const interfaces = await collect(
      'describe-network-interfaces',
      paginateDescribeNetworkInterfaces(paging, {}),
      (p) => p.NetworkInterfaces,
    );
    const subnets = await collect('describe-subnets', paginateDescribeSubnets(paging, {}), (p) => p.Subnets);
    const vpcs = await collect('describe-vpcs', paginateDescribeVpcs(paging, {}), (p) => p.Vpcs);
    return [
      { source: source('describe-instances'), doc: { Reservations: reservations } },
      { source: source('describe-network-interfaces'), doc: { NetworkInterfaces: interfaces } },
      { source: source('describe-subnets'), doc: { Subnets: subnets } },
      { source: source('describe-vpcs'), doc: { Vpcs: vpcs } },
    ];
  } finally {
    client.destroy();
  }
}

/** A describe call failed (credentials, permissions, network): the message names the call and the region. */
export class InventoryFetchError extends Error {
  override readonly name = 'InventoryFetchError';
}
