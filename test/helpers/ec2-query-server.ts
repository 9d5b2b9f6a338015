/**
 * An EC2 Query API server on a loopback port for `flowql inventory fetch`: the real SDK client talks HTTP to it. It
 * answers DescribeInstances, DescribeNetworkInterfaces, DescribeSubnets and DescribeVpcs with AWS's documented XML
 * (element names from the EC2 API reference: reservationSet, instancesSet, tagSet, ...), built from documents in the
 * AWS CLI's JSON shape (test/fixtures/aws/inventory), `pageSize` items per page with a nextToken, and serves only the
 * fields the inventory reads. A request without a SigV4 Authorization header, or sent under `/refuse`, is refused
 * as AWS refuses a key it does not know.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- the served documents are the CLI's JSON, read field by field */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** AWS's message for a request signed with a key it does not know. */
export const AUTH_FAILURE = 'AWS was not able to validate the provided access credentials';

/** The CLI-shaped documents to serve, keyed by what they hold. */
export interface Ec2Documents {
  readonly Reservations: readonly Record<string, any>[];
  readonly NetworkInterfaces: readonly Record<string, any>[];
  readonly Subnets: readonly Record<string, any>[];
  readonly Vpcs: readonly Record<string, any>[];
}

const esc = (v: unknown) =>
  String(v).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
const el = (name: string, v: unknown) => (v === undefined || v === null ? '' : `<${name}>${esc(v)}</${name}>`);
const set = (name: string, items: readonly unknown[] | undefined, item: (x: any) => string) =>
  `<${name}>${(items ?? []).map((x) => `<item>${item(x)}</item>`).join('')}</${name}>`;
const tagSet = (tags: readonly { Key: string; Value: string }[] | undefined) =>
  set('tagSet', tags, (t) => el('key', t.Key) + el('value', t.Value));

/** An interface's addresses and attachment, as both describe calls serve them. */
const addresses = (n: any) =>
  el('privateIpAddress', n.PrivateIpAddress) +
  set('privateIpAddressesSet', n.PrivateIpAddresses, (a) => el('privateIpAddress', a.PrivateIpAddress)) +
  set('ipv6AddressesSet', n.Ipv6Addresses, (a) => el('ipv6Address', a.Ipv6Address));
const attachment = (a: any) =>
  a ? `<attachment>${el('instanceId', a.InstanceId)}${el('attachTime', a.AttachTime)}</attachment>` : '';

const groupSet = (groups: readonly { GroupId: string; GroupName: string }[] | undefined) =>
  set('groupSet', groups, (g) => el('groupId', g.GroupId) + el('groupName', g.GroupName));

/** Per action: the list it pages over, the set element and one item's XML. */
const ACTIONS: Record<string, { list: keyof Ec2Documents; setName: string; item: (x: any) => string }> = {
  DescribeInstances: {
    list: 'Reservations',
    setName: 'reservationSet',
    item: (r) =>
      el('reservationId', r.ReservationId ?? 'r-0000000000000000') +
      el('ownerId', r.OwnerId) +
      set(
        'instancesSet',
        r.Instances,
        (i) =>
          el('instanceId', i.InstanceId) +
          el('instanceType', i.InstanceType) +
          el('launchTime', i.LaunchTime) +
          groupSet(i.SecurityGroups) +
          tagSet(i.Tags) +
          set(
            'networkInterfaceSet',
            i.NetworkInterfaces,
            (n) =>
              el('networkInterfaceId', n.NetworkInterfaceId) +
              attachment(n.Attachment) +
              addresses(n) +
              groupSet(n.Groups),
          ),
      ),
  },
  DescribeNetworkInterfaces: {
    list: 'NetworkInterfaces',
    setName: 'networkInterfaceSet',
    item: (n) =>
      el('networkInterfaceId', n.NetworkInterfaceId) +
      el('ownerId', n.OwnerId) +
      attachment(n.Attachment) +
      addresses(n) +
      groupSet(n.Groups) +
      tagSet(n.TagSet),
  },
  DescribeSubnets: {
    list: 'Subnets',
    setName: 'subnetSet',
    item: (s) => el('subnetId', s.SubnetId) + el('ownerId', s.OwnerId) + tagSet(s.Tags),
  },
  DescribeVpcs: {
    list: 'Vpcs',
    setName: 'vpcSet',
    item: (v) => el('vpcId', v.VpcId) + el('ownerId', v.OwnerId) + tagSet(v.Tags),
  },
};

async function body(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** A running server: its URL, every action it was asked (in order), and close(). */
export interface Ec2QueryServer {
  readonly url: string;
  readonly calls: string[];
  close(): Promise<void>;
}

export async function startEc2QueryServer(docs: Ec2Documents, pageSize = 2): Promise<Ec2QueryServer> {
  const calls: string[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const form = await body(req);
      const action = form.get('Action') ?? '';
      calls.push(action);
      const spec = ACTIONS[action];
      const xml = (status: number, text: string) => {
        res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${text}`);
      };
      // Unsigned, or asked under /refuse (a key AWS does not know): AWS's AuthFailure.
      if (!/^AWS4-HMAC-SHA256 Credential=/.test(req.headers.authorization ?? '') || req.url?.startsWith('/refuse')) {
        xml(
          401,
          `<Response><Errors><Error><Code>AuthFailure</Code><Message>${AUTH_FAILURE}</Message></Error></Errors><RequestID>x</RequestID></Response>`,
        );
        return;
      }
      if (!spec) {
        xml(
          400,
          `<Response><Errors><Error><Code>InvalidAction</Code><Message>${esc(action)}</Message></Error></Errors><RequestID>x</RequestID></Response>`,
        );
        return;
      }
      const start = Number(form.get('NextToken') ?? '0');
      const all = docs[spec.list];
      const page = all.slice(start, start + pageSize);
      const next = start + pageSize < all.length ? el('nextToken', String(start + pageSize)) : '';
      xml(
        200,
        `<${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>${calls.length}</requestId>` +
          `${set(spec.setName, page, spec.item)}${next}</${action}Response>`,
      );
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
