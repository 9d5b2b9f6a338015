import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readFlowFile, type FlowItem } from '../../../src/ingest/flow-file-reader.ts';
import { parseCloudWatchPayload } from '../../../src/ingest/cloudwatch-payload.ts';

// A subscription payload in the shape of OTel's valid_vpc_flow_cw fixtures, with AWS's documented example records.
const payload = {
  messageType: 'DATA_MESSAGE',
  owner: '123456789010',
  logGroup: 'vpc-flow-logs',
  logStream: 'eni-1235b8ca123456789',
  subscriptionFilters: ['to-flowql'],
  logEvents: [
    {
      id: '1',
      timestamp: 1418530010000,
      message:
        '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK',
    },
    {
      id: '2',
      timestamp: 1418530010000,
      message:
        '2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT',
    },
    {
      id: '3',
      timestamp: 1431280876000,
      message: '2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA',
    },
  ],
};

const input = (name: string, bytes: Buffer) => ({ name, open: async () => Readable.from([bytes]) });
async function readAll(bytes: Buffer, format?: string): Promise<FlowItem[]> {
  const items: FlowItem[] = [];
  for await (const i of readFlowFile(input('payload.json.gz', bytes), format ? { format } : {})) items.push(i);
  return items;
}

describe('CloudWatch Logs subscription payloads', () => {
  it('parses each event with the default format, numbering events from 1, gzipped or not', async () => {
    for (const bytes of [gzipSync(JSON.stringify(payload)), Buffer.from(JSON.stringify(payload))]) {
      const items = await readAll(bytes);
      expect(items.map((i) => [i.kind, i.line])).toEqual([
        ['record', 1],
        ['reject', 2],
        ['record', 3],
      ]);
      expect(items[1]).toMatchObject({ reason: 'expected 14 fields, found 13' });
      expect(items[0]).toMatchObject({
        record: { srcport: 20641, dstport: 22, action: 'ACCEPT', start_time: 1418530010 },
      });
      expect(items[2]).toMatchObject({ record: { log_status: 'NODATA', bytes: null } });
    }
  });

  it('uses the given format for custom-format flow logs', async () => {
    const custom = {
      ...payload,
      logEvents: [{ id: '9', timestamp: 0, message: 'i-0abc eni-1 10.0.1.5 10.0.0.220 10.0.1.5 203.0.113.5' }],
    };
    const items = await readAll(
      gzipSync(JSON.stringify(custom)),
      '${instance-id} ${interface-id} ${srcaddr} ${dstaddr} ${pkt-srcaddr} ${pkt-dstaddr}',
    );
    expect(items).toEqual([
      {
        kind: 'record',
        line: 1,
        record: {
          instance_id: 'i-0abc',
          interface_id: 'eni-1',
          srcaddr: '10.0.1.5',
          dstaddr: '10.0.0.220',
          pkt_srcaddr: '10.0.1.5',
          pkt_dstaddr: '203.0.113.5',
        },
      },
    ]);
  });

  it('yields nothing for a CONTROL_MESSAGE', async () => {
    const control = {
      messageType: 'CONTROL_MESSAGE',
      owner: 'CloudwatchLogs',
      logGroup: '',
      logStream: '',
      subscriptionFilters: [],
      logEvents: [{ id: '', timestamp: 1, message: 'CWL CONTROL MESSAGE: Checking health of destination Firehose.' }],
    };
    expect(await readAll(gzipSync(JSON.stringify(control)))).toEqual([]);
  });

  it('names the file and the problem for a malformed envelope', () => {
    expect(() => parseCloudWatchPayload('{"messageType":"DATA_MESSAGE"}', 'p.json')).toThrow(
      'p.json: CloudWatch Logs payload without a logEvents array',
    );
    expect(() => parseCloudWatchPayload('{"messageType":"DATA_MESSAGE","logEvents":[{"id":"1"}]}', 'p.json')).toThrow(
      'p.json: logEvents[0] has no string message',
    );
    expect(() => parseCloudWatchPayload('{"messageType":', 'p.json')).toThrow(/^p\.json: not a flow log: invalid JSON/);
    expect(() => parseCloudWatchPayload('[1,2]', 'p.json')).toThrow(
      'p.json: not a flow log: JSON that is not a CloudWatch Logs payload object',
    );
  });

  it('reports a truncated gzipped payload as FlowFormatError', async () => {
    const gz = gzipSync(JSON.stringify(payload));
    await expect(readAll(gz.subarray(0, gz.length - 30))).rejects.toThrow(
      /^payload\.json\.gz: truncated gzip stream \(unexpected end of file\) before the end of the JSON payload$/,
    );
  });
});
