import { Option, type Command } from 'commander';
import { DEFAULT_MEMORY_LIMIT, parseMemoryLimit } from '../ingest/ingest-memory.ts';
import { returnFreedPagesAtOnce } from '../config.ts';
import { RETIRE_GRACE_HELP, retireGraceSeconds } from './retire-grace-option.ts';

/** `flowql compact`: merges each partition's small files into one sorted file, invisibly to readers. */
export function registerCompactCommand(program: Command): void {
  program
    .command('compact')
    .description("Merge each partition's files into one sorted file (readers never see a duplicate or a gap)")
    .option('--data <dir>', 'warehouse: a folder or s3://bucket/prefix', 'data')
    .option('--json', 'print the summary as one JSON object')
    .option('--s3-endpoint <url>', 'S3-compatible endpoint for an s3:// warehouse')
    .option('--s3-force-path-style', 'path-style S3 addressing (host/bucket/key)')
    .option('--memory-limit <size>', `DuckDB's memory budget (default ${DEFAULT_MEMORY_LIMIT}); more spills less`, parseMemoryLimit)
    .option('--retire-grace <seconds>', RETIRE_GRACE_HELP, retireGraceSeconds)
    // Test-only: the crash tests kill the process at each commit stage; users never need it, so it stays out of --help.
    .addOption(new Option('--debug-pause-after-stage <stage>', 'internal, for crash tests: hang after staged|recorded|published|manifest').hideHelp())
    .action(async (opts) => {
      returnFreedPagesAtOnce(); // before DuckDB loads
      const { compactCli } = await import('../ingest/ingest-compact-cli.ts');
      process.exitCode = await compactCli(opts);
    });
}
