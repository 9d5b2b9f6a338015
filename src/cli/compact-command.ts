import type { Command } from 'commander';

/** `flowql compact`: merges each partition's small files into one sorted file, invisibly to readers. */
export function registerCompactCommand(program: Command): void {
  program
    .command('compact')
    .description("Merge each partition's files into one sorted file (readers never see a duplicate or a gap)")
    .option('--data <dir>', 'warehouse: a folder or s3://bucket/prefix', 'data')
    .option('--json', 'print the summary as one JSON object')
    .option('--s3-endpoint <url>', 'S3-compatible endpoint for an s3:// warehouse')
    .option('--s3-force-path-style', 'path-style S3 addressing (host/bucket/key)')
    .option('--debug-pause-after-stage <stage>', 'internal, for crash tests: hang after staged|recorded|published|manifest')
    .action(async (opts) => {
      const { compactCli } = await import('../ingest/ingest-compact-cli.ts');
      process.exitCode = await compactCli(opts);
    });
}
