/**
 * A window with no data answers empty, never an error: every question through GraphQL and every dataset in every
 * format, over the real server (tenant fixture, operator key), for a window where nothing was logged. Derived-table
 * questions used to fail binding columns of an empty file list (INTERNAL_SERVER_ERROR / HTTP 500).
 */
import { describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/main.ts';
import { KEY_OPS, serveTenantFixture } from '../helpers/tenant-fixture.ts';

let server: RunningServer;
serveTenantFixture((f) => ({ server } = f));

const EMPTY = '{ from: "2030-01-01T00:00:00Z", to: "2030-01-02T00:00:00Z" }';
const F = `filter: { timeRange: ${EMPTY} }`;
const auth = { authorization: `Bearer ${KEY_OPS}` };

/** Each question with the fields that would show an answer, and that answer on an empty window. */
const QUESTIONS: [string, unknown][] = [
  [`flows(${F}) { nodes { flowId } pageInfo { hasNextPage } }`, { nodes: [], pageInfo: { hasNextPage: false } }],
  [
    `flowSummary(${F}) { records bytes packets rejectedRecords distinctSrcAddrs }`,
    { records: '0', bytes: '0', packets: '0', rejectedRecords: '0', distinctSrcAddrs: 0 },
  ],
  [`flowTopN(${F}, by: DST_PORT) { rows { label } truncated }`, { rows: [], truncated: false }],
  [`flowBreakdown(${F}, dimensions: [SRC_ADDR, ACTION]) { rows { bytes } truncated }`, { rows: [], truncated: false }],
  [`flowTimeSeries(${F}, interval: HOUR, groupBy: ACTION) { series { label } }`, { series: [] }],
  [`interfaceStatus(${F}) { rows { interfaceId } truncated }`, { rows: [], truncated: false }],
  [
    `handshakes(${F}) { nodes { clientAddr } pageInfo { hasNextPage } }`,
    { nodes: [], pageInfo: { hasNextPage: false } },
  ],
  [`scans(${F}) { nodes { failed } truncated }`, { nodes: [], truncated: false }],
  [
    `trafficEdges(${F}) { nodes { bytesToServer } pageInfo { hasNextPage } }`,
    { nodes: [], pageInfo: { hasNextPage: false } },
  ],
  [`edgeGraph(${F}) { nodes { id } edges { id } truncated }`, { nodes: [], edges: [], truncated: false }],
  [
    `edgeDiff(before: ${EMPTY}, after: { from: "2030-01-02T00:00:00Z", to: "2030-01-03T00:00:00Z" }) { rows { afterBytes } truncated }`,
    { rows: [], truncated: false },
  ],
  [
    `trafficCost(${F}) { bytes crossAzBytes natBytes internetBytes connections }`,
    { bytes: '0', crossAzBytes: '0', natBytes: '0', internetBytes: '0', connections: '0' },
  ],
  [
    `trafficCost(${F}, groupBy: SENDER) { bytes groups { rows { bytes } truncated } }`,
    { bytes: '0', groups: { rows: [], truncated: false } },
  ],
];

describe('an empty window', () => {
  it.each(QUESTIONS)('%s answers empty', async (selection, expected) => {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ query: `{ q: ${selection} }` }),
    });
    const body = (await res.json()) as { data?: { q: unknown }; errors?: unknown };
    expect(res.status, JSON.stringify(body).slice(0, 500)).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data?.q).toEqual(expected);
  });

  const DATASETS = [
    'flows',
    'summary',
    'timeseries',
    'topn',
    'breakdown&by=SRC_ADDR',
    'handshakes',
    'edges',
    'cost',
    'cost&groupBy=pair',
  ];
  it.each(DATASETS.flatMap((d) => ['csv', 'json', 'parquet'].map((format) => [d, format])))(
    'dataset %s.%s answers 200',
    async (dataset, format) => {
      const [name, more = ''] = dataset.split('&');
      const url = `${server.url}/datasets/${name}.${format}?from=2030-01-01&to=2030-01-02${more ? `&${more}` : ''}`;
      const res = await fetch(url, { headers: auth });
      const body = await res.text();
      expect(res.status, body.slice(0, 300)).toBe(200);
      // Summary is one row of zeros; every other dataset has no row.
      expect(res.headers.get('x-flowql-rows')).toBe(name === 'summary' ? '1' : '0');
    },
  );
});
