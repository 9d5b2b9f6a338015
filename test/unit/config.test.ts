import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.ts';

describe('parseConfig', () => {
  it('has documented defaults', () => {
    expect(parseConfig({})).toEqual({
      dataDir: './data',
      port: 4000,
      host: '127.0.0.1',
      maxPageSize: 1000,
      defaultPageSize: 100,
      maxRangeDays: 31,
      maxTierRangeDays: 400,
      queryTimeoutMs: 10_000,
      maxDepth: 12,
      maxCost: 200_000,
      maxStatements: 16,
      maxResponseBytes: 16_777_216,
      maxRunningStatements: 4,
      logLevel: 'info',
      graphiql: true,
      demo: false,
      introspection: true,
      maxDatasetRows: 1_000_000,
      datasetTimeoutMs: 120_000,
      s3SyncSeconds: 30,
      cacheMaxGb: 10,
      resultCacheMb: 64,
    });
  });

  it('reads FLOWQL_* variables, and flags win over them', () => {
    const c = parseConfig(
      { FLOWQL_PORT: '5000', FLOWQL_DATA: '/env', FLOWQL_GRAPHIQL: 'false', FLOWQL_MAX_RANGE_DAYS: '7' },
      { dataDir: '/flag' },
    );
    expect([c.port, c.dataDir, c.graphiql, c.maxRangeDays]).toEqual([5000, '/flag', false, 7]);
  });

  it('lists every problem at once, naming flag and variable', () => {
    let err: unknown;
    try {
      parseConfig({ FLOWQL_PORT: '70000', FLOWQL_LOG_LEVEL: 'loud' }, { maxPageSize: 'ten' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^--port \/ FLOWQL_PORT = "70000": /);
    expect(problems[1]).toMatch(/^--max-page-size \/ FLOWQL_MAX_PAGE_SIZE = "ten": /);
    expect(problems[2]).toMatch(/^--log-level \/ FLOWQL_LOG_LEVEL = "loud": /);
    expect(() => parseConfig({ FLOWQL_DEFAULT_PAGE_SIZE: '500', FLOWQL_MAX_PAGE_SIZE: '100' })).toThrow(
      /must not exceed the maximum page size 100/,
    );
  });
});
