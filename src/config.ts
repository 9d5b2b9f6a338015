/**
 * The server's configuration, validated once at start: environment variables (FLOWQL_*) overridden by command-line
 * flags. Pure: `parseConfig(env, flags)` never reads process.env itself (src/main.ts passes it in), so tests can
 * give any environment. A bad value stops the process with every problem listed at once.
 */
import { z } from 'zod';

// Each value says in plain words what it expects, whichever check fails (zod's own wording, "expected number,
// received NaN", means nothing to someone who typed `--port abc`). Messages start with "expected" (see problemText).
const int = (min: number, max: number) => {
  const error = `expected a whole number from ${min} to ${max}`;
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};
/** A number above 0 (fractions allowed), at most `max`. */
const positive = (max: number) => {
  const error = `expected a number above 0, at most ${max}`;
  return z.coerce.number({ error }).positive({ error }).max(max, { error });
};
const boolError = 'expected true, false, 1 or 0';
const bool = z.union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')], {
  error: boolError,
});
const path = z.string({ error: 'expected a path' }).min(1, { error: 'expected a path' });
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const schema = z.object({
  /** Warehouse folder, or `s3://bucket/prefix` (served from a local cache synced by the manifest). */
  dataDir: z.string().min(1, { error: 'expected a folder or s3://bucket/prefix' }),
  /** S3-compatible endpoint of an `s3://` warehouse (MinIO...); unset = AWS. */
  s3Endpoint: z.string().url({ error: 'expected a URL such as http://127.0.0.1:9000' }).optional(),
  /** Seconds between syncs of an `s3://` warehouse's local cache. */
  s3SyncSeconds: positive(86_400),
  /** Local cache folder of an `s3://` warehouse; default a fresh temp folder. */
  cacheDir: path.optional(),
  /** GiB of Parquet files an `s3://` warehouse's cache keeps (fractions allowed), least recently used out. */
  cacheMaxGb: positive(1_048_576),
  port: int(0, 65535),
  /** Port of the read-only PostgreSQL wire protocol endpoint for BI tools (src/pgwire/); unset = off. */
  pgPort: int(0, 65535).optional(),
  /** PEM certificate (chain) and private key of the SQL endpoint's TLS; both or neither (then clients are told no). */
  pgTlsCert: path.optional(),
  pgTlsKey: path.optional(),
  host: z.string().min(1, { error: 'expected a host name or address such as 127.0.0.1 or 0.0.0.0' }),
  /** Largest `first` of a connection. */
  maxPageSize: int(1, 100_000),
  defaultPageSize: int(1, 100_000),
  /** Longest time window of a filter, in days (every question that reads flow records). */
  maxRangeDays: positive(3660),
  /** Longest window of an aggregate the rollup tiers answer, in days (used as maxRangeDays when smaller). */
  maxTierRangeDays: positive(3660),
  /** Time budget of one request's statements. */
  queryTimeoutMs: int(1, 3_600_000),
  maxDepth: int(1, 100),
  maxCost: int(1, 100_000_000),
  /** Most DuckDB statements one GraphQL request may run (each root field, aliases included, runs at least one). */
  maxStatements: int(1, 10_000),
  /** Largest GraphQL response, in bytes of JSON (RESPONSE_TOO_LARGE past it). */
  maxResponseBytes: int(1024, 2 ** 31),
  /** DuckDB statements running at once; the others wait, served round robin between clients, oldest request first. */
  maxRunningStatements: int(1, 1024),
  duckdbThreads: int(1, 1024).optional(),
  duckdbMemoryLimit: z
    .string()
    .regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, {
      error: 'expected a size such as 4GB or 512MiB (KB, MB, GB, TB, KiB, MiB, GiB, TiB)',
    })
    .optional(),
  logLevel: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }),
  graphiql: bool,
  /** Fill an empty warehouse with generated demo data before serving. */
  demo: bool,
  /** API key file (src/domain/api-keys.ts); unset = no keys, everything open. */
  apiKeysFile: path.optional(),
  /** Allow-listed operations `{ "<sha256>": "<query>" }` (src/http/persisted-operations.ts). */
  persistedOperationsFile: path.optional(),
  /** Answer introspection queries (turn off in production; the schema is published as schema/schema.graphql). */
  introspection: bool,
  /** Scratch directory for dataset exports; default a fresh folder under the OS temp directory. */
  exportDir: path.optional(),
  /** Most rows of a row-level dataset download (flows, handshakes, edges). */
  maxDatasetRows: int(1, 100_000_000),
  /** Time budget of one dataset export. */
  datasetTimeoutMs: int(1, 3_600_000),
  /** Memory for answers shared between identical requests (per tenant and manifest generation), in MiB; 0 = off. */
  resultCacheMb: int(0, 1_048_576),
});

/** The validated configuration. */
export type Config = z.infer<typeof schema>;

/** Where each setting comes from: its environment variable and its CLI flag (docs/configuration.md lists them all). */
export const CONFIG_SOURCES: Readonly<Record<keyof Config, { env: string; flag: string; default?: unknown }>> = {
  dataDir: { env: 'FLOWQL_DATA', flag: '--data', default: './data' },
  s3Endpoint: { env: 'FLOWQL_S3_ENDPOINT', flag: '--s3-endpoint' },
  s3SyncSeconds: { env: 'FLOWQL_S3_SYNC_SECONDS', flag: '--s3-sync-seconds', default: 30 },
  cacheDir: { env: 'FLOWQL_CACHE_DIR', flag: '--cache-dir' },
  cacheMaxGb: { env: 'FLOWQL_CACHE_MAX_GB', flag: '--cache-max-gb', default: 10 },
  port: { env: 'FLOWQL_PORT', flag: '--port', default: 4000 },
  pgPort: { env: 'FLOWQL_PG_PORT', flag: '--pg-port' },
  pgTlsCert: { env: 'FLOWQL_PG_TLS_CERT', flag: '--pg-tls-cert' },
  pgTlsKey: { env: 'FLOWQL_PG_TLS_KEY', flag: '--pg-tls-key' },
  host: { env: 'FLOWQL_HOST', flag: '--host', default: '127.0.0.1' },
  maxPageSize: { env: 'FLOWQL_MAX_PAGE_SIZE', flag: '--max-page-size', default: 1000 },
  defaultPageSize: { env: 'FLOWQL_DEFAULT_PAGE_SIZE', flag: '--default-page-size', default: 100 },
  maxRangeDays: { env: 'FLOWQL_MAX_RANGE_DAYS', flag: '--max-range-days', default: 31 },
  maxTierRangeDays: { env: 'FLOWQL_MAX_TIER_RANGE_DAYS', flag: '--max-tier-range-days', default: 400 },
  queryTimeoutMs: { env: 'FLOWQL_QUERY_TIMEOUT_MS', flag: '--query-timeout-ms', default: 10_000 },
  maxDepth: { env: 'FLOWQL_MAX_DEPTH', flag: '--max-depth', default: 12 },
  maxCost: { env: 'FLOWQL_MAX_COST', flag: '--max-cost', default: 200_000 },
  maxStatements: { env: 'FLOWQL_MAX_STATEMENTS', flag: '--max-statements', default: 16 },
  maxResponseBytes: { env: 'FLOWQL_MAX_RESPONSE_BYTES', flag: '--max-response-bytes', default: 16_777_216 },
  maxRunningStatements: { env: 'FLOWQL_MAX_RUNNING_STATEMENTS', flag: '--max-running-statements', default: 4 },
  duckdbThreads: { env: 'FLOWQL_DUCKDB_THREADS', flag: '--duckdb-threads' },
  duckdbMemoryLimit: { env: 'FLOWQL_DUCKDB_MEMORY_LIMIT', flag: '--duckdb-memory-limit' },
  logLevel: { env: 'FLOWQL_LOG_LEVEL', flag: '--log-level', default: 'info' },
  graphiql: { env: 'FLOWQL_GRAPHIQL', flag: '--graphiql', default: true },
  demo: { env: 'FLOWQL_DEMO', flag: '--demo', default: false },
  apiKeysFile: { env: 'FLOWQL_API_KEYS_FILE', flag: '--api-keys' },
  persistedOperationsFile: { env: 'FLOWQL_PERSISTED_OPERATIONS_FILE', flag: '--persisted-operations' },
  introspection: { env: 'FLOWQL_INTROSPECTION', flag: '--no-introspection', default: true },
  exportDir: { env: 'FLOWQL_EXPORT_DIR', flag: '--export-dir' },
  maxDatasetRows: { env: 'FLOWQL_MAX_DATASET_ROWS', flag: '--max-dataset-rows', default: 1_000_000 },
  datasetTimeoutMs: { env: 'FLOWQL_DATASET_TIMEOUT_MS', flag: '--dataset-timeout-ms', default: 120_000 },
  resultCacheMb: { env: 'FLOWQL_RESULT_CACHE_MB', flag: '--result-cache-mb', default: 64 },
};
const SOURCES = CONFIG_SOURCES;

/** Invalid configuration: every problem, each naming its variable and flag. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

/** Command-line values (commander's camelCase option names); undefined = not given. */
export type ConfigFlags = { readonly [K in keyof Config]?: unknown };

/**
 * The plain words of a problem: the setting's own "expected ..." message, or, for a setting added without one, a
 * rewording of zod's issue (its default text reads "Invalid input: expected number, received NaN").
 */
function problemText(issue: z.core.$ZodIssue): string {
  if (issue.message.startsWith('expected ')) return issue.message;
  switch (issue.code) {
    case 'too_small':
      return `expected at least ${String(issue.minimum)}${issue.origin === 'string' ? ' characters' : ''}`;
    case 'too_big':
      return `expected at most ${String(issue.maximum)}${issue.origin === 'string' ? ' characters' : ''}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map(String).join(', ')}`;
    case 'invalid_format':
      return `expected ${issue.format === 'url' ? 'a URL' : `a value in ${issue.format} format`}`;
    case 'invalid_type':
      return issue.expected === 'int' ? 'expected a whole number' : `expected a ${issue.expected}`;
    default:
      return 'not a valid value';
  }
}

/** Validates env (FLOWQL_*) and flags (which win) into a Config; throws ConfigError listing every problem. */
export function parseConfig(env: Readonly<Record<string, string | undefined>>, flags: ConfigFlags = {}): Config {
  const input: Record<string, unknown> = {};
  for (const [key, source] of Object.entries(SOURCES) as [keyof Config, (typeof SOURCES)[keyof Config]][]) {
    const fromEnv = env[source.env];
    input[key] = flags[key] ?? (fromEnv === undefined || fromEnv === '' ? source.default : fromEnv);
  }
  const parsed = schema.safeParse(input);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => {
        const key = String(issue.path[0]) as keyof Config;
        const source = SOURCES[key];
        return `${source.flag} / ${source.env} = ${JSON.stringify(input[key])}: ${problemText(issue)}`;
      });
  if (parsed.success && parsed.data.defaultPageSize > parsed.data.maxPageSize) {
    problems.push(
      `--default-page-size / FLOWQL_DEFAULT_PAGE_SIZE = ${parsed.data.defaultPageSize}: must not exceed the maximum page size ${parsed.data.maxPageSize}`,
    );
  }
  if (parsed.success && (parsed.data.pgTlsCert === undefined) !== (parsed.data.pgTlsKey === undefined)) {
    // The SQL endpoint's TLS needs the certificate and its key: name the one given and the one missing.
    const [given, missing] =
      parsed.data.pgTlsCert === undefined ? (['pgTlsKey', 'pgTlsCert'] as const) : (['pgTlsCert', 'pgTlsKey'] as const);
    problems.push(
      `${SOURCES[given].flag} / ${SOURCES[given].env} = ${JSON.stringify(input[given])}: expected ${SOURCES[missing].flag} / ${SOURCES[missing].env} too (TLS needs the certificate and its private key)`,
    );
  }
  if (!parsed.success || problems.length) throw new ConfigError(problems);
  return parsed.data;
}
