// The inventory parser over the AWS CLI's shapes: rows from both outputs, the merge of an interface both list, and
// the exact error for entries that would make a snapshot a guess.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeInventory, parseEc2Document } from '../../../src/domain/inventory.ts';

const instances = {
  Reservations: [
    {
      OwnerId: '111111111111',
      Instances: [
        {
          InstanceId: 'i-0aaaaaaaaaaaaaaa1',
          InstanceType: 't3.medium',
          LaunchTime: '2024-02-20T08:00:00+00:00',
          Tags: [{ Key: 'Name', Value: 'api' }],
          SecurityGroups: [
            { GroupName: 'web', GroupId: 'sg-0bbbbbbbbbbbbbbb2' },
            { GroupName: 'api', GroupId: 'sg-0aaaaaaaaaaaaaaa1' },
          ],
          NetworkInterfaces: [{ NetworkInterfaceId: 'eni-0aaaaaaaaaaaaaaa1', PrivateIpAddress: '10.0.0.5' }],
        },
      ],
    },
  ],
};
const eni = (instanceId: string, owner = '111111111111') => ({
  NetworkInterfaces: [
    {
      NetworkInterfaceId: 'eni-0aaaaaaaaaaaaaaa1',
      OwnerId: owner,
      Attachment: { InstanceId: instanceId, AttachTime: '2024-02-20T08:00:05+00:00' },
      TagSet: [{ Key: 'role', Value: 'primary' }],
      PrivateIpAddress: '10.0.0.5',
      PrivateIpAddresses: [{ PrivateIpAddress: '10.0.0.5' }, { PrivateIpAddress: '10.0.0.6' }],
      Ipv6Addresses: [{ Ipv6Address: '2600:1F18:0:0::5' }],
    },
  ],
});

describe('parseEc2Document / mergeInventory', () => {
  it('reads describe-subnets and describe-vpcs as AWS documents them: names and tags of subnets and VPCs', async () => {
    const fixture = async (name: string) =>
      JSON.parse(await readFile(join(import.meta.dirname, '../../fixtures/aws/inventory', name), 'utf8'));
    const rows = mergeInventory(
      await Promise.all(
        ['describe-subnets.json', 'describe-vpcs.json'].map(async (source) => ({
          source,
          rows: parseEc2Document(await fixture(source), source),
        })),
      ),
    );
    expect(rows.map((r) => `${r.resourceType} ${r.resourceId} ${r.accountId} ${r.name} ${r.tags.length}`)).toEqual([
      'subnet subnet-0a1b2c3d4e5f60001 111111111111 payments-private-a 2',
      'subnet subnet-0a1b2c3d4e5f60002 111111111111 null 0',
      'vpc vpc-0a1b2c3d4e5f60001 111111111111 payments-prod 1',
    ]);
  });

  it('merges an interface listed by both outputs: tags from the interfaces output, the attachment from either', () => {
    const rows = mergeInventory([
      { source: 'i.json', rows: parseEc2Document(instances, 'i.json') },
      { source: 'n.json', rows: parseEc2Document(eni('i-0aaaaaaaaaaaaaaa1'), 'n.json') },
    ]);
    expect(rows).toEqual([
      {
        accountId: '111111111111',
        resourceId: 'eni-0aaaaaaaaaaaaaaa1',
        resourceType: 'interface',
        instanceId: 'i-0aaaaaaaaaaaaaaa1',
        name: null,
        tags: [{ key: 'role', value: 'primary' }],
        instanceType: null,
        securityGroups: [],
        // The secondary address and the IPv6 one from the interfaces output, in canonical text.
        privateAddresses: ['10.0.0.5', '10.0.0.6', '2600:1f18::5'],
        launchTime: null,
        attachTime: '2024-02-20T08:00:05.000Z',
      },
      {
        accountId: '111111111111',
        resourceId: 'i-0aaaaaaaaaaaaaaa1',
        resourceType: 'instance',
        instanceId: null,
        name: 'api',
        tags: [{ key: 'Name', value: 'api' }],
        // Sorted by id, whatever order AWS listed them in.
        instanceType: 't3.medium',
        securityGroups: [
          { id: 'sg-0aaaaaaaaaaaaaaa1', name: 'api' },
          { id: 'sg-0bbbbbbbbbbbbbbb2', name: 'web' },
        ],
        privateAddresses: [],
        launchTime: '2024-02-20T08:00:00.000Z',
        attachTime: null,
      },
    ]);
  });

  it('names the entry of a bad address or time', () => {
    const bad = (patch: object) => ({
      NetworkInterfaces: [{ ...eni('i-0aaaaaaaaaaaaaaa1').NetworkInterfaces[0], ...patch }],
    });
    expect(() =>
      parseEc2Document(bad({ PrivateIpAddresses: [{ PrivateIpAddress: '10.0.0.0/24' }] }), 'n.json'),
    ).toThrow(
      'n.json: NetworkInterfaces[0].PrivateIpAddresses[0].PrivateIpAddress: expected an IP address, found "10.0.0.0/24"',
    );
    expect(() => parseEc2Document(bad({ Attachment: { AttachTime: 'yesterday' } }), 'n.json')).toThrow(
      'n.json: NetworkInterfaces[0].Attachment.AttachTime: expected a time like 2024-09-05T08:00:00+00:00, found "yesterday"',
    );
  });

  it('refuses files that disagree on an attachment or an owner, naming both files', () => {
    const parts = (doc: unknown) => [
      { source: 'i.json', rows: parseEc2Document(instances, 'i.json') },
      { source: 'n.json', rows: parseEc2Document(doc, 'n.json') },
    ];
    expect(() => mergeInventory(parts(eni('i-0bbbbbbbbbbbbbbb2')))).toThrow(
      'n.json: eni-0aaaaaaaaaaaaaaa1 is also in i.json with another owner, attachment, tags or security groups',
    );
    // The instances output lists the interface's groups too: the interfaces output must agree.
    const grouped = structuredClone(instances) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    grouped.Reservations[0].Instances[0].NetworkInterfaces[0].Groups = [
      { GroupName: 'api', GroupId: 'sg-0aaaaaaaaaaaaaaa1' },
    ];
    const other = {
      NetworkInterfaces: [
        {
          ...eni('i-0aaaaaaaaaaaaaaa1').NetworkInterfaces[0],
          Groups: [{ GroupName: 'x', GroupId: 'sg-0ccccccccccccccc3' }],
        },
      ],
    };
    expect(() =>
      mergeInventory([
        { source: 'i.json', rows: parseEc2Document(grouped, 'i.json') },
        { source: 'n.json', rows: parseEc2Document(other, 'n.json') },
      ]),
    ).toThrow(
      'n.json: eni-0aaaaaaaaaaaaaaa1 is also in i.json with another owner, attachment, tags or security groups',
    );
    expect(() => mergeInventory(parts(eni('i-0aaaaaaaaaaaaaaa1', '222222222222')))).toThrow(/is also in i\.json/);
  });

  it('names the entry of a bad id, owner or shape', () => {
    const badType = structuredClone(instances);
    badType.Reservations[0]!.Instances[0]!.InstanceType = 'a large one';
    expect(() => parseEc2Document(badType, 'i.json')).toThrow(
      'i.json: Reservations[0].Instances[0].InstanceType: expected an instance type like t3.medium, found "a large one"',
    );
    const badGroup = structuredClone(instances);
    badGroup.Reservations[0]!.Instances[0]!.SecurityGroups[0]!.GroupId = 'web';
    expect(() => parseEc2Document(badGroup, 'i.json')).toThrow(
      'i.json: Reservations[0].Instances[0].SecurityGroups[0].GroupId: expected an id like ^sg-[0-9a-f]{8,17}$, found "web"',
    );
    const bad = structuredClone(instances);
    bad.Reservations[0]!.Instances[0]!.InstanceId = 'web-1';
    expect(() => parseEc2Document(bad, 'i.json')).toThrow(
      'i.json: Reservations[0].Instances[0].InstanceId: expected an id like ^i-[0-9a-f]{8,17}$, found "web-1"',
    );
    expect(() => parseEc2Document({ ...eni('i-0aaaaaaaaaaaaaaa1', 'me') }, 'n.json')).toThrow(
      'n.json: NetworkInterfaces[0].OwnerId: expected an id like ^\\d{12}$, found "me"',
    );
    expect(() => parseEc2Document({ Volumes: [] }, 'v.json')).toThrow(
      /expected the output of aws ec2 describe-instances .* describe-subnets \(\{ Subnets \}\) or describe-vpcs/,
    );
    expect(() => parseEc2Document({ Subnets: [{ SubnetId: 'sn-1', OwnerId: '111111111111' }] }, 's.json')).toThrow(
      's.json: Subnets[0].SubnetId: expected an id like ^subnet-[0-9a-f]{8,17}$, found "sn-1"',
    );
    const twice = {
      Reservations: [
        {
          OwnerId: '111111111111',
          Instances: [
            {
              InstanceId: 'i-0aaaaaaaaaaaaaaa1',
              Tags: [
                { Key: 'a', Value: '1' },
                { Key: 'a', Value: '2' },
              ],
            },
          ],
        },
      ],
    };
    expect(() => parseEc2Document(twice, 't.json')).toThrow(
      't.json: Reservations[0].Instances[0].Tags: tag "a" is listed twice',
    );
  });
});
