import { Option, type Command } from 'commander';
import { RETIRE_GRACE_HELP, retireGraceSeconds } from './retire-grace-option.ts';
import { returnFreedPagesAtOnce } from '../config.ts';

/** `flowql derive`: writes the derived tables of partitions that lack them (or of all with --all). */
export function registerDeriveCommand(program: Command): void {
  program
    .command('derive')
    .description(
      'Derive the handshakes/, edges/ and flows_hourly/ tables of partitions missing them (a warehouse from an older flowql, or ingested with --no-derive)',
    )
    .option('--data <dir>', 'warehouse: a folder or s3://bucket/prefix', 'data')
    .option('--all', 're-derive every partition, not only those missing a derived file')
    .option('--json', 'print the summary as one JSON object')
    .option('--s3-endpoint <url>', 'S3-compatible endpoint for an s3:// warehouse')
    .option('--s3-force-path-style', 'path-style S3 addressing (host/bucket/key)')
    .option('--retire-grace <seconds>', RETIRE_GRACE_HELP, retireGraceSeconds)
    // Test-only: the crash tests kill the process at each commit stage; users never need it, so it stays out of --help.
    .addOption(new Option('--debug-pause-after-stage <stage>', 'internal, for crash tests: hang after staged|recorded|published|manifest').hideHelp())
    .action(async (opts) => {
      returnFreedPagesAtOnce(); // before DuckDB loads
      const { deriveCli } = await import('../ingest/ingest-rederive-cli.ts');
      process.exitCode = await deriveCli(opts);
    });
}
