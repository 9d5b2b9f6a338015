import { Option, type Command } from 'commander';
import { DEFAULT_MEMORY_LIMIT, parseMemoryLimit } from '../ingest/ingest-memory.ts';
import { returnFreedPagesAtOnce } from '../library-env.ts';
import { RETIRE_GRACE_HELP, retireGraceSeconds } from './warehouse-options.ts';

function ratio(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) throw new Error(`--max-reject-ratio: expected a number from 0 to 1, found '${value}'`);
  return n;
}

function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n <= 86_400))
    throw new Error(`--interval: expected a number of seconds above 0, at most 86400, found '${value}'`);
  return n;
}

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}: expected a positive integer, found '${value}'`);
    return n;
  };
}

/** `flowql ingest SOURCE...`: loads flow-log objects into the Parquet warehouse, exactly once. */
export function registerIngestCommand(program: Command): void {
  program
    .command('ingest')
    .description(
      'Load flow-log files, folders or s3:// prefixes into the Parquet warehouse (incremental, exactly once)',
    )
    .argument('<source...>', 'a file, a folder (walked recursively) or s3://bucket/prefix')
    .option('--data <dir>', 'warehouse: a folder or s3://bucket/prefix', 'data')
    .option('--json', 'print the summary as one JSON object')
    .option('--max-reject-ratio <r>', 'exit 2 when rejected lines / all lines exceed this', ratio, 0.01)
    .option('--batch-records <n>', 'records per commit (memory and crash granularity)', positiveInt('--batch-records'))
    .option('--threads <n>', 'DuckDB threads and objects loaded at once (default 2)', positiveInt('--threads'))
    .option(
      '--memory-limit <size>',
      `DuckDB's memory budget (default ${DEFAULT_MEMORY_LIMIT}: the process stays under 1 GiB); more spills less and may be faster`,
      parseMemoryLimit,
    )
    .option('--s3-endpoint <url>', 'S3-compatible endpoint for s3:// sources and warehouses')
    .option('--s3-force-path-style', 'path-style S3 addressing (host/bucket/key)')
    .option(
      '--no-derive',
      'skip deriving the handshakes/, edges/ and flows_hourly/ tables of changed partitions (their stale files are retired; the API then reads raw records, slowly, until `flowql derive`)',
    )
    .option(
      '--watch',
      'continuous ingest: run again every --interval seconds until SIGINT/SIGTERM (which finish the current run)',
    )
    .option('--interval <seconds>', 'pause between --watch runs, from start to start', positiveSeconds, 300)
    .option(
      '--full-listing-every <minutes>',
      "with --watch, list every source whole this often; the runs between list only the AWS day folders that can hold new objects (today's, yesterday's, the newest found and the next; a source with other keys is always listed whole)",
      positiveInt('--full-listing-every'),
      60,
    )
    .option('--retire-grace <seconds>', RETIRE_GRACE_HELP, retireGraceSeconds)
    // Test-only: the crash tests kill the process at each commit stage; users never need it, so it stays out of --help.
    .addOption(
      new Option(
        '--debug-pause-after-stage <stage>',
        'internal, for crash tests: hang after staged|recorded|published|manifest',
      ).hideHelp(),
    )
    .addHelpText(
      'after',
      `
Objects already loaded (same ETag, or same size+mtime locally) are skipped; a changed object replaces its old rows.
Objects that are not flow logs (digests, manifests, _SUCCESS, READMEs) are skipped once, with the reason, until they
change. Unreadable objects are reported and retried on the next run. Rejected lines are kept in the ledger's rejects table.
Exit codes: 0 ok; 1 could not run (ledger busy: another ingest, compact or derive holds it; warehouse or listing error);
2 reject ratio above --max-reject-ratio; 3 some objects could not be read; 4 a source does not exist (nothing written).

Examples:
  flowql ingest ./AWSLogs --data ./data
  flowql ingest s3://my-bucket/AWSLogs/123456789012/vpcflowlogs/ --data ./data --json
  flowql ingest s3://my-bucket/AWSLogs/ --data ./data --watch --interval 60
`,
    )
    .action(async (sources: string[], opts) => {
      returnFreedPagesAtOnce(); // before DuckDB loads
      const { checkSources, ingestCli } = await import('../ingest/ingest-cli.ts');
      if (!opts.watch) {
        process.exitCode = await ingestCli(sources, opts);
        return;
      }
      const refused = await checkSources(sources, opts);
      if (refused !== 0) {
        process.exitCode = refused;
        return;
      }
      const { watchIngest } = await import('./ingest-watch.ts');
      const { RecentListing } = await import('../ingest/sources/recent-listing.ts');
      const intervalMs = (opts.interval as number) * 1000;
      const listing = new RecentListing((opts.fullListingEvery as number) * 60_000);
      process.exitCode = await watchIngest({
        runOnce: () => ingestCli(sources, { ...opts, listing }),
        intervalMs,
        stderr: process.stderr,
        signals: process,
      });
    });
}
