/**
 * The internet hosts instances reach through their VPC's NAT gateway (traffic-planner.ts), and which are AWS's. Two
 * are AWS services' public addresses (in the shipped ip-ranges excerpt: S3 52.216.0.0/15, DynamoDB 52.94.0.0/22): NAT
 * gateway traffic to S3 and DynamoDB, which a free gateway endpoint would carry (the GraphiQL tab ServicesByApp shows
 * it). They replaced two documentation addresses: the list kept its length, so the PRNG draws, and every other
 * record, stayed the same.
 */
export const HTTPS_HOSTS = [
  '203.0.113.5',
  '203.0.113.17',
  '203.0.113.80',
  '198.51.100.7',
  '198.51.100.23',
  '198.51.100.99',
  '192.0.2.44',
  '192.0.2.140',
  '203.0.113.201',
  '198.51.100.150',
  '52.216.12.34',
  '52.94.3.25',
];

/** The AWS services of the hosts above that are AWS's (the ground truth's NatTruth.awsService). */
export const NAT_HOST_SERVICES: Readonly<Record<string, string>> = { '52.216.12.34': 'S3', '52.94.3.25': 'DYNAMODB' };

/** The NTP servers instances reach through their NAT gateway. */
export const NTP_HOSTS = ['192.0.2.123', '198.51.100.123'];
