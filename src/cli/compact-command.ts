import { Option, type Command } from 'commander';
import { DEFAULT_MEMORY_LIMIT, parseMemoryLimit } from '../ingest/ingest-memory.ts';
import { returnFreedPagesAtOnce } from '../library-env.ts';
import { warehouseOptions } from './warehouse-options.ts';

/** `flowql compact`: merges each partition's small files into one sorted file, invisibly to readers. */
export function registerCompactCommand(program: Command): void {
  warehouseOptions(program.command('compact'))
    .description("Merge each partition's files into one sorted file (readers never see a duplicate or a gap)")
    .option('--json', 'print the summary as one JSON object')
    .option(
      '--memory-limit <size>',
      `DuckDB's memory budget (default ${DEFAULT_MEMORY_LIMIT}); more spills less`,
      parseMemoryLimit,
    )
    // Test-only: the crash tests kill the process at each commit stage; users never need it, so it stays out of --help.
    .addOption(
      new Option(
        '--debug-pause-after-stage <stage>',
        'internal, for crash tests: hang after staged|recorded|published|manifest',
      ).hideHelp(),
    )
    .action(async (opts) => {
      returnFreedPagesAtOnce(); // before DuckDB loads
      const { compactCli } = await import('../ingest/ingest-compact-cli.ts');
      process.exitCode = await compactCli(opts);
    });
}
