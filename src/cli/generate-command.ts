import type { Command } from 'commander';

/** Parses a whole number option, naming the option when the value is not one. */
function wholeNumber(option: string): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value)) throw new Error(`${option}: expected a whole number, got '${value}'`);
    return Number(value);
  };
}

/** `flowql generate`: writes a realistic, seeded flow-log dataset in AWS's S3 layout plus ground-truth.json. */
export function registerGenerateCommand(program: Command): void {
  program
    .command('generate')
    .description(
      'Write a realistic VPC Flow Logs dataset (3 accounts, 3 regions, v2/v3/v5 text formats and one Parquet flow log) ' +
        'in AWS S3 key layouts, 5-minute gzip objects, plus <out>/ground-truth.json with the exact expected answers',
    )
    .requiredOption('--out <dir>', 'output folder (AWSLogs/... is written under it)')
    .option('--records <n>', 'exact number of records to write', wholeNumber('--records'), 100_000)
    .option('--seed <s>', 'seed of the random choices: the same seed gives the same bytes', wholeNumber('--seed'), 1)
    .option('--days <d>', 'number of UTC days covered', wholeNumber('--days'), 2)
    .option('--start <YYYY-MM-DD>', 'first UTC day', '2024-09-05')
    .option(
      '--gzip-level <1-9>',
      'gzip level of the text objects (1 is fastest; 6 makes them ~20% smaller for ~2x the gzip time)',
      wholeNumber('--gzip-level'),
      1,
    )
    .addHelpText(
      'after',
      '\nExample:\n  flowql generate --out data/demo --records 1000000 --seed 7 --days 2\n\n' +
        'Prints one summary line on stderr (files, records, seconds, records/s) and a progress bar on a terminal.',
    )
    .action(
      async (opts: { out: string; records: number; seed: number; days: number; start: string; gzipLevel: number }) => {
        const { generateDataset } = await import('../generator/generate-dataset.ts');
        const { SingleBar, Presets } = await import('cli-progress');
        const bar = process.stderr.isTTY
          ? new SingleBar(
              { stream: process.stderr, format: 'generate [{bar}] {percentage}% {value}/{total} records' },
              Presets.shades_classic,
            )
          : null;
        bar?.start(opts.records, 0);
        try {
          const summary = await generateDataset({
            outDir: opts.out,
            records: opts.records,
            seed: opts.seed,
            days: opts.days,
            start: opts.start,
            gzipLevel: opts.gzipLevel,
            onProgress: (done) => bar?.update(done),
          });
          bar?.stop();
          process.stderr.write(
            `flowql generate: ${summary.files} files (${summary.textFiles} text, ${summary.parquetFiles} parquet), ` +
              `${summary.records} records in ${summary.seconds.toFixed(2)} s (${summary.recordsPerSecond} records/s) -> ${summary.groundTruthPath}\n`,
          );
        } catch (err) {
          bar?.stop();
          throw err;
        }
      },
    );
}
