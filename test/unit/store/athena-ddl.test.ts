/** The Athena DDL over an S3 warehouse: columns from the stored schema, Hive partitions, partition projection. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { STORED_COLUMNS } from '../../../src/domain/flow-schema.ts';
import { athenaType, buildAthenaDdl, validateAthenaDdlOptions } from '../../../src/store/athena-ddl.ts';

const run = promisify(execFile);

/** The TBLPROPERTIES of a DDL as a map. */
function props(ddl: string): Map<string, string> {
  const body = ddl.slice(ddl.indexOf('TBLPROPERTIES ('));
  return new Map([...body.matchAll(/^ {2}'([^']+)' = '([^']*)'/gm)].map((m) => [m[1]!, m[2]!]));
}

/** The column list between the first `(` and `)` as [name, type] pairs. */
function columns(ddl: string): [string, string][] {
  const body = ddl.slice(ddl.indexOf('(\n') + 2, ddl.indexOf('\n)\nPARTITIONED BY'));
  return body.split(',\n').map((l) => {
    const m = /^ {2}`([a-z0-9_]+)` (.+)$/.exec(l);
    if (!m) throw new Error(`unexpected column line: ${l}`);
    return [m[1]!, m[2]!];
  });
}

describe('buildAthenaDdl', () => {
  const ddl = buildAthenaDdl({
    location: 's3://flows-bucket/warehouse/',
    table: 'netlogs.flows',
    accounts: ['123456789012', '000000000001', '123456789012'],
    regions: ['us-east-1', 'eu-west-1'],
    from: '2024-01-01',
  });

  it('declares every stored column, in file order, with its Athena type', () => {
    const cols = columns(ddl);
    expect(cols.length).toBe(STORED_COLUMNS.length);
    expect(cols.map(([n]) => n)).toEqual(STORED_COLUMNS.map((c) => c.column));
    const byName = new Map(cols);
    // Types someone could get wrong: AWS's own text DDL says protocol bigint (wrong for INT32 files), start bigint.
    expect(
      [
        'version',
        'protocol',
        'packets',
        'bytes',
        'start_time',
        'end_time',
        'tcp_flags',
        'flow_id',
        'source_line',
        'extra',
      ].map((c) => byName.get(c)),
    ).toEqual([
      'int',
      'int',
      'bigint',
      'bigint',
      'timestamp',
      'timestamp',
      'int',
      'bigint',
      'int',
      'map<string,string>',
    ]);
    // Partition columns live in the path, not in the files.
    expect(byName.has('account_id') || byName.has('region') || byName.has('date')).toBe(false);
  });

  it('partitions by account, region and date as strings, over <root>/flows', () => {
    expect(ddl.startsWith('CREATE EXTERNAL TABLE IF NOT EXISTS `netlogs`.`flows` (\n  `version` int,\n')).toBe(true);
    expect(ddl).toContain(
      "PARTITIONED BY (\n  `account_id` string,\n  `region` string,\n  `date` string\n)\nSTORED AS PARQUET\nLOCATION 's3://flows-bucket/warehouse/flows/'\n",
    );
  });

  it('projects accounts and regions as sorted, de-duplicated enums and dates from --from to NOW', () => {
    expect([...props(ddl)]).toEqual([
      ['projection.enabled', 'true'],
      ['projection.account_id.type', 'enum'],
      ['projection.account_id.values', '000000000001,123456789012'],
      ['projection.region.type', 'enum'],
      ['projection.region.values', 'eu-west-1,us-east-1'],
      ['projection.date.type', 'date'],
      ['projection.date.format', 'yyyy-MM-dd'],
      ['projection.date.range', '2024-01-01,NOW'],
      ['projection.date.interval', '1'],
      ['projection.date.interval.unit', 'DAYS'],
      [
        'storage.location.template',
        's3://flows-bucket/warehouse/flows/account_id=${account_id}/region=${region}/date=${date}/',
      ],
      ['classification', 'parquet'],
    ]);
    expect(ddl.endsWith("  'classification' = 'parquet'\n);\n")).toBe(true);
  });

  it('injects accounts and regions when no list is given, with the default table and start date', () => {
    const d = buildAthenaDdl({ location: 's3://lake/p' });
    expect(d.startsWith('CREATE EXTERNAL TABLE IF NOT EXISTS `flowql_flows` (')).toBe(true);
    const p = props(d);
    expect([p.get('projection.account_id.type'), p.get('projection.account_id.values')]).toEqual([
      'injected',
      undefined,
    ]);
    expect([p.get('projection.region.type'), p.get('projection.region.values')]).toEqual(['injected', undefined]);
    expect(p.get('projection.date.range')).toBe('2015-01-01,NOW');
    expect(p.get('storage.location.template')).toBe(
      's3://lake/p/flows/account_id=${account_id}/region=${region}/date=${date}/',
    );
  });

  it('accepts a bucket root', () => {
    expect(buildAthenaDdl({ location: 's3://bucket' })).toContain("LOCATION 's3://bucket/flows/'");
  });

  it('lists every invalid option at once, naming it and what was expected', () => {
    expect(
      validateAthenaDdlOptions({
        location: '/local/dir',
        table: 'Bad-Name',
        accounts: ['12345', 'unknown'],
        regions: ['us-east-1', 'US_EAST'],
        from: '2024-02-30',
      }),
    ).toEqual([
      '--data: expected an S3 warehouse location s3://bucket/prefix, got "/local/dir"',
      '--table: expected [database.]table in lower case letters, digits and _, got "Bad-Name"',
      '--accounts: expected 12-digit account ids (or unknown), got "12345"',
      '--regions: expected region codes like us-east-1 (or unknown), got "US_EAST"',
      '--from: expected a date YYYY-MM-DD, got "2024-02-30"',
    ]);
    expect(() => buildAthenaDdl({ location: "s3://lake/p'; DROP TABLE x" })).toThrow(
      'cannot generate the Athena DDL:\n  --data: expected an S3 warehouse location s3://bucket/prefix, got "s3://lake/p\'; DROP TABLE x"',
    );
    expect(validateAthenaDdlOptions({ location: 's3://lake/p', accounts: [], regions: [] })).toEqual([
      '--accounts: expected at least one account id',
      '--regions: expected at least one region',
    ]);
  });

  it('refuses a storage type it has no Athena name for', () => {
    expect(athenaType('BIGINT')).toBe('bigint');
    expect(() => athenaType('HUGEINT')).toThrow('no Athena type for DuckDB type HUGEINT');
  });
});

describe('buildAthenaDdl for flows_hourly', () => {
  const ddl = buildAthenaDdl({ location: 's3://lake/wh', source: 'flows_hourly' });

  it('declares the hour, the key columns and the sums, over <root>/flows_hourly, as flowql_flows_hourly', () => {
    const cols = columns(ddl);
    expect(cols.slice(0, 2)).toEqual([
      ['start_time', 'timestamp'],
      ['srcaddr', 'string'],
    ]);
    expect(cols.slice(-5)).toEqual([
      ['records', 'bigint'],
      ['packets', 'bigint'],
      ['bytes', 'bigint'],
      ['first_seen', 'timestamp'],
      ['last_seen', 'timestamp'],
    ]);
    expect(new Map(cols).get('dstport')).toBe('int');
    expect(cols.some(([n]) => n === 'srcport' || n === 'tcp_flags' || n === 'end_time')).toBe(false);
    expect(ddl.startsWith('CREATE EXTERNAL TABLE IF NOT EXISTS `flowql_flows_hourly` (\n')).toBe(true);
    expect(ddl).toContain("LOCATION 's3://lake/wh/flows_hourly/'");
    expect(props(ddl).get('storage.location.template')).toBe(
      's3://lake/wh/flows_hourly/account_id=${account_id}/region=${region}/date=${date}/',
    );
  });
});

describe('buildAthenaDdl for flows_daily', () => {
  it('declares the same columns as flows_hourly, over <root>/flows_daily, as flowql_flows_daily', () => {
    const daily = buildAthenaDdl({ location: 's3://lake/wh', source: 'flows_daily' });
    const hourly = buildAthenaDdl({ location: 's3://lake/wh', source: 'flows_hourly' });
    expect(columns(daily)).toEqual(columns(hourly));
    expect(daily.startsWith('CREATE EXTERNAL TABLE IF NOT EXISTS `flowql_flows_daily` (\n')).toBe(true);
    expect(daily).toContain("LOCATION 's3://lake/wh/flows_daily/'");
    expect(props(daily).get('storage.location.template')).toBe(
      's3://lake/wh/flows_daily/account_id=${account_id}/region=${region}/date=${date}/',
    );
  });
});

describe('flowql athena-ddl', () => {
  it('prints the DDL for the given warehouse and fails with the problems on bad input', async () => {
    const ok = await run(process.execPath, [
      'bin/flowql.js',
      'athena-ddl',
      '--data',
      's3://lake/wh',
      '--accounts',
      '123456789012',
      '--regions',
      'us-east-1,eu-west-1',
    ]);
    expect(ok.stdout).toBe(
      buildAthenaDdl({ location: 's3://lake/wh', accounts: ['123456789012'], regions: ['us-east-1', 'eu-west-1'] }),
    );
    const hourly = await run(process.execPath, [
      'bin/flowql.js',
      'athena-ddl',
      '--data',
      's3://lake/wh',
      '--hourly',
      '--table',
      'net.hourly',
    ]);
    expect(hourly.stdout).toBe(
      buildAthenaDdl({ location: 's3://lake/wh', source: 'flows_hourly', table: 'net.hourly' }),
    );
    const daily = await run(process.execPath, ['bin/flowql.js', 'athena-ddl', '--data', 's3://lake/wh', '--daily']);
    expect(daily.stdout).toBe(buildAthenaDdl({ location: 's3://lake/wh', source: 'flows_daily' }));
    const bad = await run(process.execPath, [
      'bin/flowql.js',
      'athena-ddl',
      '--data',
      's3://lake/wh',
      '--from',
      '2024-1-1',
    ]).catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({
      code: 1,
      stderr: 'flowql: cannot generate the Athena DDL:\n  --from: expected a date YYYY-MM-DD, got "2024-1-1"\n',
    });
  });
});
