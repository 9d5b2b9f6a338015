import type { Command } from 'commander';

/** Options of `flowql parse`, as commander hands them over. */
interface ParseOptions {
  format?: string;
  limit?: number;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--limit: expected a non-negative integer, found '${value}'`);
  return n;
}

/** `flowql parse FILE...`: prints records as JSON lines (stdout) and rejects as `file:line: reason` (stderr). */
export function registerParseCommand(program: Command): void {
  program
    .command('parse')
    .description('Parse flow-log files (gzip or plain text, Parquet, CloudWatch Logs payloads) and print JSON lines')
    .argument('<file...>', 'local files; the kind is sniffed from the content, not the name')
    .option(
      '--format <format>',
      "record format for header-less input, e.g. '${version} ${account-id} ...' (wins over a header line)",
    )
    .option('--limit <n>', 'stop after n records in total', positiveInt)
    .addHelpText(
      'after',
      `
Output: one JSON object per record on stdout, keys are storage columns (account_id, start_time, ...), start_time and
end_time as ISO-8601 UTC. Rejected lines go to stderr as "<file>:<line>: <field>: <reason>", then a count line.
Exit code 0 when every file was read (even with rejected lines), 1 when a file is not a flow log.

Examples:
  flowql parse 123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe123456.log.gz
  flowql parse --format '\${version} \${account-id} \${interface-id} \${srcaddr} \${dstaddr} \${srcport} \${dstport} \${protocol} \${packets} \${bytes} \${start} \${end} \${action} \${log-status}' payload.json.gz
`,
    )
    .action(async (files: string[], opts: ParseOptions) => {
      const { runParse } = await import('./parse-run.ts');
      process.exitCode = await runParse(files, opts, process.stdout, process.stderr);
    });
}
