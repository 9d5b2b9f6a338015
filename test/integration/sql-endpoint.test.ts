/**
 * The read-only SQL endpoint (`--pg-port`) with real clients over a real port: node-postgres (simple and extended
 * query, named prepared statements, a pipeline of 100 statements, BIGINT columns), psql (`\dt`, `\d flows`, a query,
 * a cancel with Ctrl-C) and the PostgreSQL JDBC driver (getTables, getColumns, a prepared query). Fixture: the tenant
 * warehouse of test/helpers/tenant-fixture.ts, A = 111111111111 (4 records, 6500 bytes), B = 222222222222 (2 records,
 * 9007199254741000 bytes: exact only as a string).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/main.ts';
import { ACCOUNT_A, ACCOUNT_B, KEY_A, KEY_B, KEY_OPS, serveTenantFixture } from '../helpers/tenant-fixture.ts';

let server: RunningServer;
serveTenantFixture(
  (f) => ({ server } = f),
  () => ({ pgPort: 0 }),
);

const port = () => server.pg!.port;

async function connect(key: string, options: Partial<pg.ClientConfig> = {}): Promise<pg.Client> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port: port(),
    user: 'bi',
    password: key,
    database: 'flowql',
    ...options,
  });
  await client.connect();
  return client;
}

/** The SQLSTATE and message a statement fails with, or null when it runs. */
async function refusal(client: pg.Client, text: string): Promise<{ code: string; message: string } | null> {
  try {
    await client.query(text);
    return null;
  } catch (err) {
    const e = err as { code?: string; message: string };
    return { code: e.code ?? '', message: e.message };
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response shapes vary per query; assertions check them
type Data = Record<string, any>;

async function gql(key: string, query: string): Promise<Data> {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query }),
  });
  const body = (await res.json()) as { data?: Data; errors?: unknown };
  if (!body.data) throw new Error(`${query}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

describe('node-postgres', () => {
  let a: pg.Client;
  let b: pg.Client;
  beforeAll(async () => {
    a = await connect(KEY_A);
    b = await connect(KEY_B);
  });
  afterAll(async () => {
    await a?.end();
    await b?.end();
  });

  it('refuses a wrong key at connect, with the SQLSTATE of a bad password', async () => {
    await expect(connect('not-a-key-00000000000000')).rejects.toMatchObject({ code: '28P01' });
  });

  it('answers as GraphQL does: totals per tenant and the top talkers by bytes, BIGINT exact as a string', async () => {
    const day = '{ timeRange: { from: "2024-05-01", to: "2024-05-02" } }';
    for (const [client, key] of [
      [a, KEY_A],
      [b, KEY_B],
    ] as const) {
      const sql = await client.query(
        "SELECT count(*) AS records, sum(bytes)::BIGINT AS bytes FROM flows WHERE date = DATE '2024-05-01'",
      );
      const graph = await gql(key, `{ flowSummary(filter: ${day}) { records bytes } }`);
      expect(sql.rows[0]).toEqual(graph.flowSummary);
      const top = await client.query(
        'SELECT srcaddr AS label, sum(bytes)::BIGINT AS value FROM flowql.flows GROUP BY srcaddr ORDER BY value DESC, label LIMIT 3',
      );
      const graphTop = await gql(
        key,
        `{ flowTopN(filter: ${day}, by: SRC_ADDR, metric: BYTES, limit: 3) { rows { label value } } }`,
      );
      expect(top.rows).toEqual(graphTop.flowTopN.rows);
    }
    const big = await b.query('SELECT bytes FROM flows ORDER BY bytes DESC LIMIT 1');
    expect(big.fields[0]!.dataTypeID).toBe(20); // int8: node-postgres keeps it a string, no rounding
    expect(big.rows[0]).toEqual({ bytes: '9007199254740993' }); // 2^53 + 1: a double would say ...992
  });

  it('runs named prepared statements with bound parameters, and a pipeline of 100 of them', async () => {
    const q = { name: 'bigger', text: 'SELECT count(*) AS n FROM flows WHERE bytes > $1 AND srcaddr <> $2' };
    expect((await a.query({ ...q, values: [1000, 'x'] })).rows).toEqual([{ n: '2' }]);
    expect((await a.query({ ...q, values: [0, '10.0.0.3'] })).rows).toEqual([{ n: '3' }]);
    const piped = await connect(KEY_A, { pipeline: true } as Partial<pg.ClientConfig>);
    try {
      const answers = await Promise.all(
        Array.from({ length: 100 }, (_, i) => piped.query({ ...q, values: [i * 50, 'x'] }).then((r) => r.rows[0].n)),
      );
      // bytes of A: 500, 1000, 2000, 3000
      const expected = Array.from({ length: 100 }, (_, i) =>
        String([500, 1000, 2000, 3000].filter((v) => v > i * 50).length),
      );
      expect(answers).toEqual(expected);
    } finally {
      await piped.end();
    }
  });

  it('never shows another account: view, CTE, subquery, UNION, join and catalog', async () => {
    const attempts = [
      `SELECT count(*) AS n FROM flows WHERE account_id = '${ACCOUNT_B}'`,
      `WITH x AS (SELECT * FROM flowql.flows) SELECT count(*) AS n FROM x WHERE account_id = '${ACCOUNT_B}'`,
      `SELECT count(*) AS n FROM (SELECT account_id FROM flows) s WHERE s.account_id = '${ACCOUNT_B}'`,
      `SELECT count(*) AS n FROM (SELECT account_id FROM flows UNION ALL SELECT account_id FROM flowql.flows) u WHERE account_id = '${ACCOUNT_B}'`,
      `SELECT count(*) AS n FROM flows f JOIN flows g USING (flow_id) WHERE g.account_id <> '${ACCOUNT_A}'`,
      `SELECT count(*) AS n FROM flows WHERE region = 'eu-west-1'`,
    ];
    for (const text of attempts) expect((await a.query(text)).rows, text).toEqual([{ n: '0' }]);
    expect((await a.query('SELECT DISTINCT account_id FROM flows')).rows).toEqual([{ account_id: ACCOUNT_A }]);
    expect((await b.query('SELECT DISTINCT account_id FROM flows')).rows).toEqual([{ account_id: ACCOUNT_B }]);
    const ops = await connect(KEY_OPS);
    expect((await ops.query('SELECT count(*) AS n FROM flows')).rows).toEqual([{ n: '6' }]);
    await ops.end();
    // The catalog lists the views and their columns, never rows.
    const tables = await a.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'flowql' ORDER BY 1",
    );
    expect(tables.rows).toEqual([{ table_name: 'flows' }]);
  });

  it("answers what Grafana's table picker and drivers' connect-time checks ask", async () => {
    const grafana = await a.query(
      `SELECT quote_ident(table_name) AS "table" FROM information_schema.tables
        WHERE quote_ident(table_schema) NOT IN ('information_schema', 'pg_catalog', '_timescaledb_cache') ORDER BY 1`,
    );
    expect(grafana.rows).toEqual([{ table: 'flows' }]);
    const settings = await a.query(
      "SELECT current_setting('server_version_num') AS v, pg_catalog.current_setting('TimeZone') AS tz, quote_ident('Mixed') AS q, current_database() AS db",
    );
    expect(settings.rows).toEqual([{ v: '140000', tz: 'UTC', q: '"Mixed"', db: 'flowql' }]);
    expect((await a.query('SHOW standard_conforming_strings')).rows).toEqual([{ standard_conforming_strings: 'on' }]);
  });

  it("answers DBeaver's navigator queries: databases, settings, and relations with their partition keys", async () => {
    const databases = await a.query(
      "SELECT db.datname FROM pg_catalog.pg_database db WHERE datallowconn AND NOT datistemplate OR db.datname = 'flowql' ORDER BY db.datname",
    );
    expect(databases.rows).toEqual([{ datname: 'flowql' }]);
    const settings = await a.query(
      "select name, setting from pg_catalog.pg_settings where name='standard_conforming_strings'",
    );
    expect(settings.rows).toEqual([{ name: 'standard_conforming_strings', setting: 'on' }]);
    const relations = await a.query(
      `SELECT c.relname, d.description, pg_catalog.pg_get_expr(c.relpartbound, c.oid) AS partition_expr,
              pg_catalog.pg_get_partkeydef(c.oid) AS partition_key
         FROM pg_catalog.pg_class c LEFT OUTER JOIN pg_catalog.pg_description d
           ON d.objoid = c.oid AND d.objsubid = 0 AND d.classoid = 'pg_class'::regclass
        WHERE c.relnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'flowql')
          AND c.relkind NOT IN ('i', 'I', 'c')`,
    );
    expect(relations.rows).toEqual([
      { relname: 'flows', description: null, partition_expr: null, partition_key: null },
    ]);
  });

  it("answers Metabase's table-privileges query: SELECT on flowql's views, nothing else, and no catalog relation", async () => {
    const quoted = `'"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"'`;
    const privileges = await a.query(`with table_privileges as (
      select NULL as role, t.schemaname as schema, t.objectname as table,
             pg_catalog.has_any_column_privilege(current_user, ${quoted}, 'update') as update,
             pg_catalog.has_table_privilege(current_user, ${quoted}, 'select') as select,
             pg_catalog.has_table_privilege(current_user, ${quoted}, 'insert') as insert,
             pg_catalog.has_table_privilege(current_user, ${quoted}, 'delete') as delete
        from (select schemaname, tablename as objectname from pg_catalog.pg_tables
              union select schemaname, viewname as objectname from pg_catalog.pg_views
              union select schemaname, matviewname as objectname from pg_catalog.pg_matviews) t
       where t.schemaname !~ '^pg_' and t.schemaname <> 'information_schema'
         and pg_catalog.has_schema_privilege(current_user, t.schemaname, 'usage'))
      select t.* from table_privileges t`);
    expect(privileges.rows).toEqual([
      { role: null, schema: 'flowql', table: 'flows', update: false, select: true, insert: false, delete: false },
    ]);
  });

  it("reads the key's rows wherever the statement names a view (only those views' files are bound)", async () => {
    const ways = [
      'SELECT count(*) AS n FROM flows',
      'SELECT count(*) AS n FROM FlowQL.Flows',
      'WITH flows AS (SELECT * FROM flowql.flows) SELECT count(*) AS n FROM flows',
      'WITH x AS (SELECT 1) SELECT (SELECT count(*) FROM flows) AS n FROM x',
      'SELECT n FROM (VALUES (1)) v(k), LATERAL (SELECT count(*) AS n FROM flows WHERE v.k = 1)',
      'SELECT count(*) AS n FROM (SELECT 1 AS k) v WHERE EXISTS (SELECT 1 FROM flows) AND v.k IN (SELECT 1 FROM flows)',
    ];
    for (const text of ways) {
      const n = (await a.query(text)).rows[0].n;
      expect(String(n), text).toBe(text.includes('EXISTS') ? '1' : '4');
    }
  });

  it('refuses every statement that is not one SELECT over flowql views, with a SQLSTATE', async () => {
    const cases: [string, string, RegExp][] = [
      ["SELECT * FROM read_parquet('/etc/passwd')", '42501', /table function read_parquet is not allowed/],
      ["SELECT * FROM read_csv('/etc/passwd')", '42501', /table function read_csv/],
      ["SELECT * FROM query('SELECT 1')", '42501', /table function query/],
      ["SELECT * FROM '/etc/passwd'", '42501', /reading files/],
      ['SELECT * FROM duckdb_settings()', '42501', /table function duckdb_settings/],
      ["SELECT getvariable('flowql_files_flows')", '42501', /getvariable is not allowed/],
      ["ATTACH '/tmp/x.duckdb' AS x", '42501', /ATTACH is not allowed/],
      ["COPY (SELECT 1) TO '/tmp/x.csv'", '42501', /COPY is not allowed/],
      ['PRAGMA version', '42501', /PRAGMA is not allowed/],
      ['SET threads = 1', '42501', /SET is not allowed/],
      ["SET VARIABLE flowql_files_flows = ['/x']", '42501', /SET is not allowed/],
      ['CREATE TABLE t AS SELECT 1', '42501', /CREATE is not allowed/],
      ['INSERT INTO flows SELECT * FROM flows', '42501', /INSERT is not allowed/],
      ['DROP VIEW flowql.flows', '42501', /DROP is not allowed/],
      ['SELECT * FROM main.secret', '42P01', /relation "main.secret" does not exist/],
      ['SELECT * FROM duckdb_tables', '42P01', /relation "duckdb_tables"/],
      [
        'WITH duckdb_settings AS (SELECT * FROM duckdb_settings) SELECT * FROM duckdb_settings',
        '42P01',
        /duckdb_settings/,
      ],
      ['SELECT * FROM other.flowql.flows', '42P01', /other\.flowql\.flows/],
      ['DESCRIBE flows', '0A000', /DESCRIBE, SHOW and SUMMARIZE/],
      ['SELECT 1; SELECT 2', '0A000', /expected one statement, found 2/],
      ['SELEC 1', '42601', /syntax error/],
    ];
    for (const [text, code, message] of cases) {
      const got = await refusal(a, text);
      expect(got?.code, text).toBe(code);
      expect(got?.message, text).toMatch(message);
    }
    // The session survives refusals.
    expect((await a.query('SELECT count(*) AS n FROM flows')).rows).toEqual([{ n: '4' }]);
  });
});

/** Runs a client program to its end (asynchronously: the server answering it runs in this process). */
function run(
  command: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((ok, fail) => {
    const child = spawn(command, args, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => ok({ code, stdout, stderr }));
  });
}

const psqlMissing = !existsSync('/usr/bin/psql');

describe.skipIf(psqlMissing)('psql', () => {
  const psql = (args: string[], key = KEY_A) =>
    run('psql', ['-X', '-h', '127.0.0.1', '-p', String(port()), '-U', 'bi', '-d', 'flowql', ...args], {
      PGPASSWORD: key,
    });

  it('lists the views with \\dt, describes one with \\d and runs a query', async () => {
    const dt = await psql(['-c', '\\dt']);
    expect(dt.stderr).toBe('');
    expect(dt.stdout).toMatch(/ flowql \| flows \| table \| flowql/);
    const d = await psql(['-c', '\\d flows']);
    expect(d.stderr).toBe('');
    expect(d.stdout).toMatch(/Table "flowql\.flows"/);
    expect(d.stdout).toMatch(/ bytes +\| bigint /);
    expect(d.stdout).toMatch(/ start_time +\| timestamp without time zone /);
    expect(d.stdout).toMatch(/ account_id +\| character varying /);
    const q = await psql(['-A', '-t', '-c', 'SELECT account_id, sum(bytes) FROM flows GROUP BY 1']);
    expect(q.stdout.trim()).toBe(`${ACCOUNT_A}|6500`);
  });

  it('cancels a running statement on Ctrl-C (a CancelRequest), and the server stays usable', async () => {
    const slow =
      'WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 100000000) SELECT count(*) FROM t';
    const child = spawn(
      'psql',
      ['-X', '-h', '127.0.0.1', '-p', String(port()), '-U', 'bi', '-d', 'flowql', '-c', slow],
      {
        env: { ...process.env, PGPASSWORD: KEY_A },
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const started = Date.now();
    await new Promise((ok) => setTimeout(ok, 1500));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((ok) => child.on('close', ok));
    expect(stderr).toMatch(/canceling statement due to user request/);
    expect(code).not.toBe(0);
    expect(Date.now() - started).toBeLessThan(8000);
    expect((await psql(['-A', '-t', '-c', 'SELECT count(*) FROM flows'])).stdout.trim()).toBe('4');
  });
});

const jdbcJar = '/usr/share/java/postgresql.jar';

describe.skipIf(!existsSync(jdbcJar) || !existsSync('/usr/bin/java'))('JDBC', () => {
  it('lists tables and columns with DatabaseMetaData and runs a prepared query', async () => {
    const dir = join(import.meta.dirname, '../fixtures/sql-clients');
    const java = await run('java', [
      '-cp',
      jdbcJar,
      join(dir, 'JdbcCheck.java'),
      `jdbc:postgresql://127.0.0.1:${port()}/flowql`,
      KEY_A,
    ]);
    expect(java.stderr).toBe('');
    expect(java.stdout.split('\n').filter(Boolean)).toEqual([
      'tables flows:TABLE',
      'columns bytes:int8:-5 start_time:timestamp:93 account_id:varchar:12',
      `row ${ACCOUNT_A} 4 6500`,
    ]);
  }, 90_000);
});

const python = '/usr/bin/python3';
const hasPsycopg = existsSync(python) && existsSync('/usr/lib/python3/dist-packages/psycopg2');

describe.skipIf(!hasPsycopg)('psycopg2 and pandas', () => {
  it('reads a query into a DataFrame with read_sql, with int64 and datetime columns, and binds a parameter', async () => {
    const script = [
      'import sys, warnings, psycopg2, pandas as pd',
      'warnings.simplefilter("ignore")',
      'c = psycopg2.connect(host="127.0.0.1", port=int(sys.argv[1]), user="bi", password=sys.argv[2], dbname="flowql")',
      'df = pd.read_sql("SELECT srcaddr, sum(bytes)::BIGINT AS bytes, min(start_time) AS first FROM flows GROUP BY 1 ORDER BY 2 DESC", c)',
      'print(df.to_csv(index=False), end="")',
      'print(",".join(str(t) for t in df.dtypes))',
      'cur = c.cursor(); cur.execute("SELECT count(*) FROM flows WHERE bytes > %s", (1000,)); print(cur.fetchall())',
    ].join('\n');
    const py = await run(python, ['-c', script, String(port()), KEY_A]);
    expect(py.stderr).toBe('');
    expect(py.stdout.split('\n').filter(Boolean)).toEqual([
      'srcaddr,bytes,first',
      '10.0.0.1,4000,2024-05-01 10:00:00',
      '10.0.0.2,2000,2024-05-01 10:00:01',
      '10.0.0.3,500,2024-05-01 11:00:00',
      'object,int64,datetime64[ns]',
      '[(2,)]',
    ]);
  });
});

const hasSqlAlchemy = hasPsycopg && existsSync('/usr/lib/python3/dist-packages/sqlalchemy');

describe.skipIf(!hasSqlAlchemy)("SQLAlchemy's inspector (Superset's schema browser)", () => {
  it('connects, lists the views with their columns and types, and runs a query', async () => {
    // Connecting asks `SHOW transaction isolation level` and `SHOW standard_conforming_strings`; get_columns reads
    // pg_attribute with json_build_object and pg_get_serial_sequence; get_indexes joins ON a.attnum = ANY(ix.indkey).
    const script = [
      'import sys, warnings, sqlalchemy as sa',
      'warnings.simplefilter("ignore")',
      'e = sa.create_engine(f"postgresql+psycopg2://bi:{sys.argv[2]}@127.0.0.1:{sys.argv[1]}/flowql")',
      'i = sa.inspect(e)',
      'print("flowql" in i.get_schema_names(), i.get_table_names(schema="flowql"))',
      'cols = {c["name"]: str(c["type"]) for c in i.get_columns("flows", schema="flowql")}',
      'print(cols["bytes"], cols["srcport"], cols["start_time"], cols["account_id"])',
      'print(i.get_pk_constraint("flows", schema="flowql")["constrained_columns"], i.get_indexes("flows", schema="flowql"), i.get_foreign_keys("flows", schema="flowql"))',
      'with e.connect() as c: print(c.execute(sa.text("SELECT count(*) FROM flowql.flows WHERE bytes > :b"), {"b": 1000}).scalar())',
    ].join('\n');
    const py = await run(python, ['-c', script, String(port()), KEY_A]);
    expect(py.stderr).toBe('');
    expect(py.stdout.split('\n').filter(Boolean)).toEqual([
      "True ['flows']",
      'BIGINT INTEGER TIMESTAMP VARCHAR',
      '[] [] []',
      '2',
    ]);
  });
});

const hasOdbc = existsSync('/usr/bin/isql') && existsSync('/etc/odbcinst.ini');

describe.skipIf(!hasOdbc)('psqlODBC through unixODBC', () => {
  /** isql's delimited output of `input`, run through the PostgreSQL Unicode driver with `key`. */
  async function isql(key: string, input: string): Promise<string[]> {
    const dsn = `Driver=PostgreSQL Unicode;Server=127.0.0.1;Port=${port()};Database=flowql;Uid=bi;Pwd=${key}`;
    const child = spawn('isql', ['-k', dsn, '-b', '-d|']);
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stdin.end(input);
    await new Promise((ok) => child.on('close', ok));
    return stdout.split('\n').filter(Boolean);
  }

  it('runs a query with isql', async () => {
    expect(
      await isql(KEY_B, 'SELECT account_id, count(*) AS records, sum(bytes)::BIGINT AS bytes FROM flows GROUP BY 1\n'),
    ).toEqual([`${ACCOUNT_B}|2|9007199254741000`]);
  });

  it('lists tables (SQLTables) and columns with their ODBC types (SQLColumns)', async () => {
    expect(await isql(KEY_A, 'help\n')).toEqual(['flowql|flowql|flows|TABLE|']);
    const columns = (await isql(KEY_A, 'help flows\n')).map((line) => line.split('|').slice(3, 6).join('|'));
    // SQL_BIGINT -5, SQL_TYPE_TIMESTAMP 11 (ODBC 2 name), SQL_VARCHAR 12
    expect(columns).toContain('bytes|-5|int8');
    expect(columns).toContain('start_time|11|timestamp');
    expect(columns).toContain('account_id|12|varchar');
  });
});
