import type { Command } from 'commander';

const list = (value: string): string[] =>
  value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');

/** `flowql athena-ddl`: print the Athena CREATE EXTERNAL TABLE (with partition projection) for an S3 warehouse. */
export function registerAthenaDdlCommand(program: Command): void {
  program
    .command('athena-ddl')
    .description('print CREATE EXTERNAL TABLE with partition projection for Athena/Trino over an S3 warehouse')
    .requiredOption('--data <s3-uri>', 'the warehouse on S3, as given to `flowql ingest --data` (s3://bucket/prefix)')
    .option('--hourly', 'the table of hourly sums (flows_hourly/) instead of the flow records')
    .option('--daily', 'the table of daily sums (flows_daily/, days written by `flowql compact`)')
    .option(
      '--table <name>',
      '[database.]table name (default flowql_flows, flowql_flows_hourly with --hourly, flowql_flows_daily with --daily)',
    )
    .option('--accounts <ids>', 'comma-separated account ids to project as an enum (default: injected)', list)
    .option('--regions <codes>', 'comma-separated regions to project as an enum (default: injected)', list)
    .option('--from <YYYY-MM-DD>', 'first date of the projected date range (it ends at NOW)')
    .action(
      async (opts: {
        data: string;
        hourly?: boolean;
        daily?: boolean;
        table?: string;
        accounts?: string[];
        regions?: string[];
        from?: string;
      }) => {
        const { buildAthenaDdl } = await import('../store/athena-ddl.ts');
        process.stdout.write(
          buildAthenaDdl({
            location: opts.data,
            ...(opts.hourly ? { source: 'flows_hourly' as const } : {}),
            ...(opts.daily ? { source: 'flows_daily' as const } : {}),
            ...(opts.table ? { table: opts.table } : {}),
            ...(opts.accounts ? { accounts: opts.accounts } : {}),
            ...(opts.regions ? { regions: opts.regions } : {}),
            ...(opts.from ? { from: opts.from } : {}),
          }),
        );
      },
    );
}
