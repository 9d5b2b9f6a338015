// The flows download's statement: a download cut at `limit` rows is cut over the records before the names are joined,
// so DuckDB's top-N reads only the row groups it keeps (the rows themselves are checked over HTTP in
// test/integration/datasets-http.test.ts and, with names, inventory-tags.test.ts).
import { describe, expect, it } from 'vitest';
import { datasetFlowsQuery, datasetFlowsRunQuery } from '../../../../src/store/queries/dataset-flows-query.ts';
import { raw } from '../../../../src/store/sql.ts';

const names = {
  inventory: { snapshots: ['/w/reference/inventory/a.parquet'], accounts: null },
  ipRanges: null,
  networks: null,
};
const files = ['/w/flows/account_id=1/region=r/date=2024-09-06/a.parquet'];
const where = raw("instance_id = 'i-1'");

describe('datasets.flows', () => {
  it('cuts at the limit over the records, then joins the names and orders the kept rows', () => {
    const { text, params } = datasetFlowsQuery({ files, where, limit: 1000, names });
    const cut = text.indexOf('ORDER BY start_time, flow_id\nLIMIT');
    const join = text.indexOf('LEFT JOIN');
    expect(cut).toBeGreaterThan(0);
    expect(join).toBeGreaterThan(cut);
    expect(text.trimEnd().endsWith('ORDER BY f.start_time, f.flow_id')).toBe(true);
    expect(params).toContain(1000);
  });

  it('a whole run (no cut) joins the names over its records in one sorted pass', () => {
    const { text } = datasetFlowsRunQuery({ files, where, startUs: 1n, endUs: 2n, limit: null, names });
    expect(text).not.toContain('LIMIT');
    expect(text.trimEnd().endsWith('ORDER BY f.start_time, f.flow_id')).toBe(true);
  });
});
